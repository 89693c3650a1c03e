import XCTest
@testable import VigilQuery

final class ParserTests: XCTestCase {
    private func parse(_ text: String) throws -> QueryNode? { try QueryParser().parse(text).root }

    private func clause(_ token: String, _ op: ClauseOperator, _ value: ClauseValue) -> QueryNode {
        .clause(Clause(token: token, tokenPosition: 0, op: op, value: value))
    }

    private func clause(_ token: String, _ value: ClauseValue) -> QueryNode {
        clause(token, .colon, value)
    }

    func testContainsPhraseExactAndFreeText() throws {
        XCTAssertEqual(try parse("user.name: admin"), clause("user.name", .single(ValueLiteral("admin", kind: .bare, position: 11))))
        XCTAssertEqual(try parse("process.command_line: \"-enc JAB\""),
                       clause("process.command_line", .single(ValueLiteral("-enc JAB", kind: .phrase, position: 22))))
        XCTAssertEqual(try parse("host.name: `dc01.corp.local`"),
                       clause("host.name", .single(ValueLiteral("dc01.corp.local", kind: .exact, position: 11))))
        XCTAssertEqual(try parse("powershell"), .freeText(ValueLiteral("powershell", kind: .bare, position: 0)))
        XCTAssertNil(try parse("   "))
    }

    func testListsRangesComparisonsAndSpecialObjects() throws {
        XCTAssertEqual(try parse("signal.criticality: [HIGH, CRITICAL]"),
                       clause("signal.criticality", .list([ValueLiteral("HIGH", kind: .bare, position: 21),
                                                           ValueLiteral("CRITICAL", kind: .bare, position: 27)])))
        XCTAssertEqual(try parse("destination.port: [1 .. 1024]"),
                       clause("destination.port", .range(low: ValueLiteral("1", kind: .bare, position: 19),
                                                          high: ValueLiteral("1024", kind: .bare, position: 24), inclusive: true)))
        XCTAssertEqual(try parse("risk.score: (50..100)"),
                       clause("risk.score", .range(low: ValueLiteral("50", kind: .bare, position: 13),
                                                   high: ValueLiteral("100", kind: .bare, position: 17), inclusive: false)))
        XCTAssertEqual(try parse("risk.score>=70"), clause("risk.score", .greaterOrEqual, .single(ValueLiteral("70", kind: .bare, position: 12))))
        XCTAssertEqual(try parse("source.ip: @tor_exit_nodes"), clause("source.ip", .special(name: "tor_exit_nodes", position: 11)))
    }

    func testValuesMayContainColonsForTimesAndIPv6() throws {
        XCTAssertEqual(try parse("@timestamp >= 2026-03-01T10:00:00Z"),
                       clause("@timestamp", .greaterOrEqual, .single(ValueLiteral("2026-03-01T10:00:00Z", kind: .bare, position: 14))))
        XCTAssertEqual(try parse("source.ip: fe80::/10"), clause("source.ip", .single(ValueLiteral("fe80::/10", kind: .bare, position: 11))))
        XCTAssertEqual(try parse("source.ip: [::1 .. ::ff]"),
                       clause("source.ip", .range(low: ValueLiteral("::1", kind: .bare, position: 12),
                                                  high: ValueLiteral("::ff", kind: .bare, position: 19), inclusive: true)))
    }

    func testBooleanStructureAndPrecedence() throws {
        let a = clause("a", .single(ValueLiteral("1", kind: .bare, position: 3)))
        // and binds tighter than or; adjacency is and; keywords any case.
        guard case .or(let parts)? = try parse("a: 1 OR b: 2 c: 3") else { return XCTFail("expected or") }
        XCTAssertEqual(parts.count, 2)
        XCTAssertEqual(parts[0], a)
        guard case .and(let inner) = parts[1] else { return XCTFail("expected and") }
        XCTAssertEqual(inner.count, 2)
        guard case .not(.or(let grouped))? = try parse("Not (a: 1 or b: 2)") else { return XCTFail("expected not(or)") }
        XCTAssertEqual(grouped.count, 2)
        guard case .and(let three)? = try parse("a: 1 and b: 2 AND c: 3") else { return XCTFail("expected and") }
        XCTAssertEqual(three.count, 3)
    }

    func testSyntaxErrorsNamePositionAndExpectation() {
        func error(_ text: String) -> QueryError? {
            do { _ = try QueryParser().parse(text); return nil } catch { return error as? QueryError }
        }
        let missing = error("user.name:")
        XCTAssertEqual(missing?.code, .syntax)
        XCTAssertEqual(missing?.position, 10)
        XCTAssertTrue(missing?.message.contains("expected a value") ?? false, missing?.message ?? "")

        let unclosed = error("(a: 1 or b: 2")
        XCTAssertEqual(unclosed?.position, 13)
        XCTAssertTrue(unclosed?.message.contains("expected ')'") ?? false)

        let dangling = error("a: 1 and")
        XCTAssertEqual(dangling?.position, 8)
        XCTAssertTrue(dangling?.message.contains("after 'and'") ?? false)

        let quote = error("a: \"open")
        XCTAssertEqual(quote?.position, 3)
        XCTAssertTrue(quote?.message.contains("unterminated phrase") ?? false)

        let range = error("a: [1 .. ]")
        XCTAssertEqual(range?.position, 9)

        let stray = error("a: 1)")
        XCTAssertEqual(stray?.position, 4)
        XCTAssertTrue(stray?.message.contains("unbalanced") ?? false)

        XCTAssertEqual(error("or a: 1")?.position, 0)
        XCTAssertEqual(error("a > [1, 2]")?.code, .syntax)
    }

    func testRenderedErrorPutsCaretUnderPosition() {
        do {
            _ = try QueryParser().parse("user.name: admin and (")
            XCTFail("expected error")
        } catch let error as QueryError {
            let lines = error.rendered.split(separator: "\n", omittingEmptySubsequences: false)
            XCTAssertEqual(lines[0], "user.name: admin and (")
            XCTAssertEqual(lines[1], String(repeating: " ", count: 22) + "^")
            XCTAssertEqual(String(lines[2]), error.message)
        } catch { XCTFail("\(error)") }
    }
}

import XCTest
import VigilEvents
import VigilQuery
@testable import VigilRules
import VigilWire

/// The engine evaluates every candidate rule of an event on one `EventRecord` sharing a
/// `RecordMemo` (docs/rules.md, "Engine"). These check, with the shipped library's conditions and
/// its test events, that the shared memo never changes an answer, in whatever order the rules
/// fill it.
final class RecordMemoTests: XCTestCase {
    func library() throws -> (rules: [CompiledRule], events: [Event]) {
        let dir = T.repoRoot.appendingPathComponent("Services/detection/Library")
        var rules: [CompiledRule] = []
        var events: [Event] = []
        for f in try FileManager.default.contentsOfDirectory(atPath: dir.path).filter({ $0.hasSuffix(".json") }).sorted() {
            let rule = try RuleDecoder.decode(String(contentsOf: dir.appendingPathComponent(f), encoding: .utf8))
            rules.append(try CompiledRule(rule, forceActive: true))
            for t in rule.tests { events += t.events }
        }
        return (rules, events)
    }

    func testLibraryConditionsAnswerTheSameWithASharedMemo() throws {
        let (rules, events) = try library()
        XCTAssertGreaterThan(events.count, 400)
        let context = QueryContext(nowMillis: T.t0)
        let memo = RecordMemo()
        var rng = SystemRandomNumberGenerator()
        var compared = 0, held = 0
        for e in events {
            let alone = EventRecord(e)
            let shared = EventRecord(e, memo: memo)
            // A different order per event: which rule first fills a slot (a required literal's
            // lowered key, a QQL test's value) must not matter.
            for r in rules.shuffled(using: &rng) {
                for i in r.conditions.indices {
                    let without = r.matches(i, alone, context)
                    let with = r.matches(i, shared, context)
                    if with != without {
                        return XCTFail("rule \(r.rule.name) condition \(i) on event \(e.id): \(with) with the memo, \(without) without")
                    }
                    compared += 1
                    if with { held += 1 }
                }
            }
        }
        XCTAssertGreaterThan(compared, 20_000)
        XCTAssertGreaterThan(held, 100, "too few matching conditions to compare")
    }

    /// Building a record with a memo starts the memo afresh: the values of the event built before
    /// it are not answers for this one.
    func testEachRecordBuiltWithAMemoSeesOnlyItsOwnValues() throws {
        let rule = try CompiledRule(T.rule(#"{"type": "match", "condition": "user.name: alice and event.outcome: failure"}"#), forceActive: true)
        let memo = RecordMemo()
        let context = QueryContext(nowMillis: T.t0)
        let alice = EventRecord(T.failed("a", at: 0, user: "Alice"), memo: memo)
        XCTAssertTrue(rule.matches(0, alice, context))
        let bob = EventRecord(T.failed("b", at: 1, user: "bob"), memo: memo)
        XCTAssertFalse(rule.matches(0, bob, context))
        let aliceSucceeded = EventRecord(T.success("c", at: 2, user: "alice"), memo: memo)
        XCTAssertFalse(rule.matches(0, aliceSucceeded, context))
    }
}

/// Rules are indexed on a number literal too (`destination.port: 443`), keyed by the number: the
/// engine, index and all, must fire exactly the rules whose condition holds on the event, for
/// every spelling of the number on either side.
final class NumericIndexTests: XCTestCase {
    func testRulesIndexedOnANumberFireExactlyWhenTheirConditionHolds() throws {
        let literals = ["443", "443.0", "4.43e2", "+443", "0443", "443.5", "-0", "0", "9223372036854775807", "1e3"]
        let conditions = literals.flatMap { n in
            ["event.category: network and destination.port: \(n)", "destination.port = \(n)",
             "destination.port: [\(n), 8080] and event.outcome: failure"]
        }
        var rules: [Rule] = []
        for (i, c) in conditions.enumerated() {
            rules.append(T.rule(#"{"type": "match", "condition": "\#(c)"}"#, id: String(format: "11111111-1111-4111-8111-%012d", i)))
        }
        let values = ["443", "443.0", "0443", " 443", "443 ", "4.43e2", "443.5", "abc", "", "-0", "0", "0.0", "1000",
                      "1e400", "9223372036854775807", "9.223372036854775807e18", "8080", "8080.00"]
        let engine = DetectionEngine()
        for r in rules { try engine.upsert(r) }
        let evaluators = try conditions.map { try QueryEvaluator($0, catalog: EventCatalog.catalog) }
        let context = QueryContext(nowMillis: T.t0)
        var fired = 0
        for (k, v) in values.enumerated() {
            for outcome in ["failure", "success"] {
                let e = T.event("e\(k)\(outcome)", at: Int64(k), ["event.category": "network", "event.outcome": outcome, "destination.port": v])
                let got = Set(engine.process(e, nowMs: T.t0).map(\.rule.id))
                var want = Set<String>()
                for (i, ev) in evaluators.enumerated() where try ev.matches(EventRecord(e), context: context) { want.insert(rules[i].id) }
                XCTAssertEqual(got, want, "destination.port '\(v)', outcome \(outcome)")
                fired += got.count
            }
        }
        XCTAssertGreaterThan(fired, 50, "too few rules fired to compare")
    }

    func testANumberLiteralIsTheIndexLiteralOverACategory() throws {
        let q = try QueryParser().parse("event.category: network and destination.port: 4.43e2")
        let r = try XCTUnwrap(Requirement.of(q))
        XCTAssertEqual(r.token.name, "destination.port")
        XCTAssertEqual(r.values, ["443"])
        XCTAssertNil(Requirement.of(try QueryParser().parse("destination.port > 443")), "only equality is an index literal")
    }
}

import XCTest
@testable import VigilQuery

/// Hostile input must never crash: every query yields a result or a QueryError,
/// and whatever compiles must be SQL SQLite accepts.
final class FuzzTests: XCTestCase {
    func testRandomAndMutatedQueriesNeverCrash() throws {
        var rng = SeededRandom(seed: 0xF022)
        let db = try SQLiteTestDB()
        try db.exec(EventStore.schema)
        var eventRng = SeededRandom(seed: 7)
        try EventStore.insert((0..<20).map { randomEvent(&eventRng, index: $0) }, into: db)
        let record = randomEvent(&eventRng, index: 99).record
        let catalog = StandardCatalogs.events
        let compiler = SQLCompiler(catalog: catalog)
        let context = QueryContext(nowMillis: testNow, specialObjects: testSpecialObjects)
        var generator = QueryGenerator(rng: SeededRandom(seed: 0xF023))
        let alphabet = Array(":[](),.\"`@*?<>=!-/\\ \t\nandornot ÉéAZaz09_'%;|$") + ["\u{301}", "\0", "🙂"]
        let seeds = ["user.name: admin", "source.ip: 10.0.0.0/8", "@timestamp >= now-24h", "risk.score: [1 .. 5]",
                     "not (a or b) and c", "host.name: `x`", "x: \"unterminated", "'; DROP TABLE events; --"]

        var ok = 0, failed = 0
        for i in 0..<4000 {
            var text: String
            switch i % 3 {
            case 0: text = String((0..<Int.random(in: 0...40, using: &rng)).map { _ in rng.pick(alphabet) })
            case 1: text = generator.query()
            default: text = rng.pick(seeds)
            }
            if i % 3 != 0 {
                var chars = Array(text)
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let at = chars.isEmpty ? 0 : Int.random(in: 0..<chars.count, using: &rng)
                    switch Int.random(in: 0..<3, using: &rng) {
                    case 0: chars.insert(rng.pick(alphabet), at: at)
                    case 1: if !chars.isEmpty { chars.remove(at: at) }
                    default: if !chars.isEmpty { chars[at] = rng.pick(alphabet) }
                    }
                }
                text = String(chars)
            }
            do {
                let evaluator = try QueryEvaluator(text, catalog: catalog)
                _ = try evaluator.matches(record, context: context)
                let filter = try compiler.filter(text, context: context)
                _ = try db.rows(CompiledSQL(sql: "SELECT count(*) FROM events WHERE " + filter.sql, parameters: filter.parameters))
                ok += 1
            } catch let error as QueryError {
                failed += 1
                XCTAssertLessThanOrEqual(error.position, text.count + 1, text)
                XCTAssertFalse(error.message.isEmpty)
                XCTAssertTrue(error.rendered.contains("^"))
            } catch {
                XCTFail("non-QueryError for `\(text)`: \(error)")
            }
        }
        XCTAssertGreaterThan(ok, 500)
        XCTAssertGreaterThan(failed, 500)
    }

    func testDeepNestingAndHugeInputsAreRejectedNotCrashed() {
        let deep = String(repeating: "(", count: 5000) + "a" + String(repeating: ")", count: 5000)
        XCTAssertThrowsError(try QueryParser().parse(deep)) { error in
            XCTAssertEqual((error as? QueryError)?.code, .tooComplex)
        }
        let nots = String(repeating: "not ", count: 500) + "a"
        XCTAssertThrowsError(try QueryParser().parse(nots)) { error in
            XCTAssertEqual((error as? QueryError)?.code, .tooComplex)
        }
        let long = String(repeating: "a ", count: 20_000)
        XCTAssertThrowsError(try QueryParser().parse(long)) { error in
            XCTAssertEqual((error as? QueryError)?.code, .tooComplex)
        }
    }

    func testManyClausesStayWithinSQLiteExpressionDepth() throws {
        let db = try SQLiteTestDB()
        try db.exec(EventStore.schema)
        let text = (0..<500).map { "user.name: u\($0)" }.joined(separator: " or ")
        let filter = try SQLCompiler(catalog: StandardCatalogs.events).filter(text, context: QueryContext(nowMillis: 0))
        XCTAssertNoThrow(try db.rows(CompiledSQL(sql: "SELECT count(*) FROM events WHERE " + filter.sql, parameters: filter.parameters)))
    }
}

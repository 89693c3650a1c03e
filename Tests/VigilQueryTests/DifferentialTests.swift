import XCTest
@testable import VigilQuery

/// The SQL path and the in-memory path must return exactly the same matches.
final class DifferentialTests: XCTestCase {
    func testSQLAndEvaluatorAgreeOnRandomQueriesAndRecords() throws {
        var rng = SeededRandom(seed: 0x5EED_0001)
        let events = (0..<160).map { randomEvent(&rng, index: $0) }
        let db = try SQLiteTestDB()
        try db.exec(EventStore.schema)
        try EventStore.insert(events, into: db)
        let records = events.map(\.record)
        let catalog = StandardCatalogs.events
        let compiler = SQLCompiler(catalog: catalog)
        let context = QueryContext(nowMillis: testNow, specialObjects: testSpecialObjects)

        var generator = QueryGenerator(rng: SeededRandom(seed: 0x5EED_0002))
        var compared = 0, nonTrivial = 0, errors = 0
        for _ in 0..<1500 {
            let text = generator.query()
            let query: Query
            let evaluator: QueryEvaluator
            let filter: CompiledSQL
            do {
                query = try QueryParser().parse(text)
                evaluator = try QueryEvaluator(query: query, catalog: catalog)
                filter = try compiler.filter(query, context: context)
            } catch let error as QueryError {
                errors += 1
                // Both paths must reject the same queries.
                XCTAssertThrowsError(try QueryEvaluator(text, catalog: catalog).matches(records[0], context: context), text)
                _ = error
                continue
            }
            var expected: Set<Int64> = []
            for (i, record) in records.enumerated() where try evaluator.matches(record, context: context) {
                expected.insert(Int64(i + 1))
            }
            let rows = try db.rows(CompiledSQL(sql: "SELECT rowid FROM events WHERE " + filter.sql, parameters: filter.parameters))
            let actual = Set(rows.compactMap { row -> Int64? in
                if case .integer(let id)? = row[0] { return id }
                return nil
            })
            if expected != actual {
                let onlySQL = actual.subtracting(expected).sorted().prefix(3).map { events[Int($0) - 1] }
                let onlyEval = expected.subtracting(actual).sorted().prefix(3).map { events[Int($0) - 1] }
                XCTFail("disagreement for `\(text)`\nSQL: \(filter.sql)\nparams: \(filter.parameters)\nonly SQL: \(onlySQL)\nonly evaluator: \(onlyEval)")
                return
            }
            compared += records.count
            if !expected.isEmpty && expected.count < records.count { nonTrivial += 1 }
        }
        // The generator must exercise real selections, not just all-or-nothing.
        XCTAssertGreaterThan(nonTrivial, 600, "too few selective queries")
        XCTAssertLessThan(errors, 150, "generator produced too many invalid queries")
        XCTAssertGreaterThan(compared, 150_000)
    }
}

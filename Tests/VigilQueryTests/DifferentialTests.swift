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

    /// A rule engine evaluates many conditions on one record, sharing a `RecordMemo` (each field
    /// fetched, lowered, parsed once per record). Every condition must answer with the memo as
    /// without it, record after record: a value must never outlive its record or cross slots.
    func testConditionsSharingARecordMemoAnswerAsWithout() throws {
        var rng = SeededRandom(seed: 0x5EED_0003)
        let records = (0..<120).map { randomEvent(&rng, index: $0).record }
        let catalog = StandardCatalogs.events
        let context = QueryContext(nowMillis: testNow, specialObjects: testSpecialObjects)
        var generator = QueryGenerator(rng: SeededRandom(seed: 0x5EED_0004))
        var evaluators: [QueryEvaluator] = []
        while evaluators.count < 400 {
            if let e = try? QueryEvaluator(generator.query(), catalog: catalog) { evaluators.append(e) }
        }
        let memo = RecordMemo()
        var matched = 0, compared = 0
        for record in records {
            memo.next()
            let shared = MemoRecord(base: record, memo: memo)
            for e in evaluators {
                let without = try e.matches(record, context: context)
                let with = try e.matches(shared, context: context)
                if with != without { return XCTFail("memo changed the answer of `\(e.query.text)`: \(with) with, \(without) without") }
                if with { matched += 1 }
                compared += 1
            }
        }
        XCTAssertEqual(compared, 48_000)
        XCTAssertGreaterThan(matched, 2_000, "too few matches to compare")
    }

    /// The memo's contract: it serves one record until `next()`; a record type that shares one
    /// without starting it sees the previous record's values (which is why `EventRecord` starts
    /// it when built: VigilRulesTests.RecordMemoTests).
    func testARecordMemoRemembersUntilNext() throws {
        let catalog = StandardCatalogs.events
        let context = QueryContext(nowMillis: testNow, specialObjects: testSpecialObjects)
        let evaluator = try QueryEvaluator("user.name: alice", catalog: catalog)
        let token = try XCTUnwrap(catalog.token(named: "user.name"))
        let alice = RowRecord(json: [jsonColumn(token): [jsonKey(token): .text("Alice")]])
        let bob = RowRecord(json: [jsonColumn(token): [jsonKey(token): .text("bob")]])
        let memo = RecordMemo()
        memo.next()
        XCTAssertTrue(try evaluator.matches(MemoRecord(base: alice, memo: memo), context: context))
        XCTAssertTrue(try evaluator.matches(MemoRecord(base: bob, memo: memo), context: context), "without next() the memo still holds alice")
        memo.next()
        XCTAssertFalse(try evaluator.matches(MemoRecord(base: bob, memo: memo), context: context))
        XCTAssertFalse(try evaluator.matches(bob, context: context))
    }

    private func jsonColumn(_ t: TokenDefinition) -> String {
        if case .json(let column, _) = t.storage { return column }
        return ""
    }
    private func jsonKey(_ t: TokenDefinition) -> String { t.jsonKey ?? "" }
}

/// A record evaluated with a shared memo, as the detection engine's EventRecord is.
struct MemoRecord<Base: QueryRecord>: QueryRecord {
    let base: Base
    let memo: RecordMemo?
    func value(for token: TokenDefinition) -> SQLValue? { base.value(for: token) }
}

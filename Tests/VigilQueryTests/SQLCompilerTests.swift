import XCTest
@testable import VigilQuery

final class SQLCompilerTests: XCTestCase {
    let catalog = StandardCatalogs.events
    let context = QueryContext(nowMillis: testNow, specialObjects: testSpecialObjects)

    private func makeStore(_ count: Int = 300, seed: UInt64 = 42) throws -> (SQLiteTestDB, [EventFixture]) {
        var rng = SeededRandom(seed: seed)
        let events = (0..<count).map { randomEvent(&rng, index: $0) }
        let db = try SQLiteTestDB()
        try db.exec(EventStore.schema)
        try EventStore.insert(events, into: db)
        return (db, events)
    }

    private func matching(_ text: String, _ events: [EventFixture]) throws -> [Int] {
        let evaluator = try QueryEvaluator(text, catalog: catalog)
        return try events.indices.filter { try evaluator.matches(events[$0].record, context: context) }
    }

    func testValuesNeverAppearInSQLText() throws {
        let hostile = "'; DROP TABLE events; --"
        let texts = ["user.name: \"\(hostile)\"", "host.name: `\(hostile)`", "\"\(hostile)\"",
                     "user.name: \"x%_\\\\\" or message: \"a'b\"", "process.command_line: \"--\""]
        for text in texts {
            let compiled = try SQLCompiler(catalog: catalog).filter(text, context: context)
            XCTAssertFalse(compiled.sql.contains("DROP"), compiled.sql)
            XCTAssertFalse(compiled.sql.contains("a'b"), compiled.sql)
            XCTAssertTrue(compiled.parameters.contains { if case .text(let s) = $0 { return s.contains("DROP") || s.contains("a'b") || s.contains("--") }; return false })
        }
        let (db, _) = try makeStore(10)
        let compiled = try SQLCompiler(catalog: catalog).filter("user.name: \"\(hostile)\"", context: context)
        _ = try db.rows(CompiledSQL(sql: "SELECT count(*) FROM events WHERE " + compiled.sql, parameters: compiled.parameters))
        XCTAssertEqual(try db.rows("SELECT count(*) FROM events")[0][0], .integer(10), "table intact")
    }

    func testCatalogNamesAreQuotedNotTrusted() throws {
        let odd = TokenCatalog(list: "odd", table: "t\"x", tokens: [
            TokenDefinition("a", type: .text, storage: .json(column: "c\"", path: "$.\"it's\""), description: ""),
        ], freeText: [])
        let sql = try SQLCompiler(catalog: odd).count(QueryParser().parse("a: v"), context: context).sql
        XCTAssertTrue(sql.contains("\"t\"\"x\""), sql)
        XCTAssertTrue(sql.contains("json_extract(\"c\"\"\", '$.\"it''s\"')"), sql)
    }

    func testMissingFieldNeverEqualsSoNotMatchesIt() throws {
        let withUser = EventFixture(id: "a", time: baseMillis, raw: "r", fields: ["user.name": "admin"], enriched: [:])
        let without = EventFixture(id: "b", time: baseMillis, raw: "r", fields: [:], enriched: [:])
        let db = try SQLiteTestDB()
        try db.exec(EventStore.schema)
        try EventStore.insert([withUser, without], into: db)
        for (text, expected) in [("user.name: admin", ["a"]), ("not user.name: admin", ["b"]),
                                 ("not user.name: bob", ["a", "b"]), ("not destination.port > 5", ["a", "b"]),
                                 ("not (user.name: admin or destination.port: 22)", ["b"])] {
            let filter = try SQLCompiler(catalog: catalog).filter(text, context: context)
            let ids = try db.rows(CompiledSQL(sql: "SELECT id FROM events WHERE \(filter.sql) ORDER BY id", parameters: filter.parameters))
                .map { $0[0] }
            XCTAssertEqual(ids, expected.map { .text($0) }, text)
            let evaluator = try QueryEvaluator(text, catalog: catalog)
            XCTAssertEqual(try [withUser, without].filter { try evaluator.matches($0.record, context: context) }.map(\.id), expected, text)
        }
    }

    func testCountAndSearchAgreeWithEvaluator() throws {
        let (db, events) = try makeStore()
        let text = "event.outcome: success and not source.ip: 10.0.0.0/8"
        let query = try QueryParser().parse(text)
        let expected = try matching(text, events)
        XCTAssertFalse(expected.isEmpty)
        let count = try db.rows(SQLCompiler(catalog: catalog).count(query, context: context))
        XCTAssertEqual(count[0][0], .integer(Int64(expected.count)))
    }

    func testKeysetPaginationVisitsEveryRowOnceInOrder() throws {
        let (db, events) = try makeStore(250)
        let compiler = SQLCompiler(catalog: catalog)
        let query = try QueryParser().parse("not event.category: file")
        let expected = Set(try matching(query.text, events).map { Int64($0 + 1) })
        for sort in [SortOrder(token: "@timestamp", descending: true), SortOrder(token: "@timestamp", descending: false),
                     SortOrder(token: "destination.port", descending: false), SortOrder(token: "user.name", descending: true),
                     SortOrder(token: "source.ip", descending: false)] {
            var seen: [Int64] = []
            var cursor: PageCursor?
            var pages = 0
            while pages < 200 {
                let sql = try compiler.search(query, context: context, sort: sort, after: cursor, limit: 7, columns: ["id"])
                let rows = try db.rows(sql)
                if rows.isEmpty { break }
                pages += 1
                for row in rows { if case .integer(let id)? = row[2] { seen.append(id) } }
                let last = rows[rows.count - 1]
                cursor = PageCursor(sortValue: last[1], id: last[2]!)
            }
            XCTAssertEqual(seen.count, Set(seen).count, "duplicates sorting by \(sort)")
            XCTAssertEqual(Set(seen), expected, "rows missed sorting by \(sort)")
            // Same order as one unpaginated query.
            let all = try db.rows(compiler.search(query, context: context, sort: sort, limit: 10_000, columns: ["id"]))
            XCTAssertEqual(all.compactMap { if case .integer(let id)? = $0[2] { return id }; return nil }, seen, "\(sort)")
        }
    }

    func testFacetCountsTopValues() throws {
        let (db, events) = try makeStore()
        let query = try QueryParser().parse("event.outcome: [success, failure]")
        let rows = try db.rows(SQLCompiler(catalog: catalog).facet(query, context: context, token: "event.category", limit: 3))
        XCTAssertLessThanOrEqual(rows.count, 3)
        let matches = try matching(query.text, events)
        var counts: [String: Int64] = [:]
        for i in matches { if let c = events[i].fields["event.category"] { counts[c, default: 0] += 1 } }
        let top = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(3)
        XCTAssertEqual(rows.map { $0[0] }, top.map { .text($0.key) })
        XCTAssertEqual(rows.map { $0[1] }, top.map { .integer($0.value) })
    }

    func testHistogramBucketsMatchSwiftBucketing() throws {
        let (db, events) = try makeStore()
        let query = try QueryParser().parse("user.name: a")
        let from = baseMillis, to = baseMillis + 6 * 86_400_000
        let plan = try SQLCompiler(catalog: catalog).histogram(query, context: context, from: from, to: to, buckets: 24)
        XCTAssertEqual(plan.bucketMillis, 6 * 3_600_000)
        let rows: [(bucket: Int64, count: Int64)] = try db.rows(plan.sql).map { (bucket: integer($0[0]) ?? -1, count: integer($0[1]) ?? -1) }
        let buckets = plan.buckets(from: rows)
        XCTAssertEqual(buckets.count, 24)
        var expected = [Int64](repeating: 0, count: 24)
        for i in try matching(query.text, events) {
            guard let t = events[i].time, t >= from, t < to else { continue }
            expected[Int((t - from) / plan.bucketMillis)] += 1
        }
        XCTAssertEqual(buckets.map(\.count), expected)
        XCTAssertGreaterThan(expected.reduce(0, +), 0)
        XCTAssertEqual(buckets[1].start, from + plan.bucketMillis)
        XCTAssertThrowsError(try SQLCompiler(catalog: catalog).histogram(query, context: context, token: "user.name", from: from, to: to, buckets: 4))
    }

    func testSpecialObjectsResolveAtCompileTimeAndUnknownNamesFail() throws {
        let compiler = SQLCompiler(catalog: catalog)
        let compiled = try compiler.filter("source.ip: @bad_ips", context: context)
        XCTAssertTrue(compiled.sql.contains("qql_ip"))
        XCTAssertThrowsError(try compiler.filter("source.ip: @nope", context: context)) { error in
            XCTAssertEqual((error as? QueryError)?.code, .unknownSpecialObject)
            XCTAssertEqual((error as? QueryError)?.position, 11)
        }
        let broken = QueryContext(nowMillis: 0, specialObjects: StaticSpecialObjects(["x": ["not-an-ip"]]))
        XCTAssertThrowsError(try compiler.filter("source.ip: @x", context: broken)) { error in
            XCTAssertEqual((error as? QueryError)?.code, .invalidSpecialObject)
        }
    }

    func testTimeIndexIsUsableForTimeRanges() throws {
        let (db, _) = try makeStore(20)
        try db.exec("CREATE INDEX events_time ON events(time)")
        let filter = try SQLCompiler(catalog: catalog).filter("@timestamp >= now-24h and user.name: a", context: context)
        let plan = try db.rows(CompiledSQL(sql: "EXPLAIN QUERY PLAN SELECT id FROM events WHERE " + filter.sql, parameters: filter.parameters))
        let detail = plan.compactMap { $0.last.flatMap { if case .text(let s)? = $0 { return s }; return nil } }.joined(separator: "; ")
        XCTAssertTrue(detail.contains("events_time"), detail)
    }
}

func integer(_ value: SQLValue?) -> Int64? {
    if case .integer(let i)? = value { return i }
    return nil
}

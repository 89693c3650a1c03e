import XCTest
@testable import VigilQuery

/// Differential check for column-stored tokens of every type, with records read
/// back from SQLite exactly as a store would (so column affinity is honoured).
final class ColumnDifferentialTests: XCTestCase {
    static let catalog = TokenCatalog(
        list: "mixed", table: "mixed", idColumn: "rowid",
        tokens: [
            TokenDefinition("n", type: .number, storage: .column("n"), description: "REAL column"),
            TokenDefinition("i", type: .number, storage: .column("i"), description: "untyped column"),
            TokenDefinition("t", type: .time, storage: .column("t"), description: "INTEGER column"),
            TokenDefinition("k", type: .keyword, storage: .column("k"), description: "TEXT column"),
            TokenDefinition("s", type: .text, storage: .column("s"), description: "TEXT column"),
            TokenDefinition("b", type: .bool, storage: .column("b"), description: "INTEGER column"),
            TokenDefinition("a", type: .ip, storage: .column("a"), description: "TEXT column"),
            TokenDefinition("j", type: .number, storage: .jsonField("doc", "j"), description: "JSON number or text"),
        ],
        freeText: ["s", "k"])

    func testColumnStoredTokensAgree() throws {
        var rng = SeededRandom(seed: 0xC0FFEE)
        let db = try SQLiteTestDB()
        try db.exec("CREATE TABLE mixed(n REAL, i, t INTEGER, k TEXT, s TEXT, b INTEGER, a TEXT, doc TEXT)")
        let numbers: [SQLValue?] = [.integer(5), .real(5.5), .text("7"), .text("abc"), .integer(-3), .real(1e20), nil, .text(" 8 "), .integer(9_007_199_254_740_993)]
        let texts: [SQLValue?] = [.text("High"), .text("LOW"), .text("medium"), .integer(42), .real(2.5), nil, .text("a_b%c")]
        let bools: [SQLValue?] = [.integer(1), .integer(0), .text("true"), .text("FALSE"), .text("yes"), .real(1.0), nil]
        let ips: [SQLValue?] = [.text("10.0.0.5"), .text("::ffff:10.0.0.9"), .text("2001:db8::1"), .text("bogus"), .integer(1), nil]
        // What json_extract(doc, '$."j"') yields for each document (JSON true is INTEGER 1).
        let jsonMember: [String: SQLValue] = ["{\"j\": 3}": .integer(3), "{\"j\": \"4.5\"}": .text("4.5"), "{\"j\": \"x\"}": .text("x"),
                                              "{\"j\": 2.0}": .real(2.0), "{\"j\": true}": .integer(1)]
        let docs = Array(jsonMember.keys).sorted() + ["{}"]
        for _ in 0..<150 {
            try db.run("INSERT INTO mixed VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
                rng.pick(numbers), rng.pick(numbers), rng.pick([.integer(baseMillis), .integer(baseMillis + 86_400_000), .real(Double(baseMillis) + 0.5), .text("soon"), nil]),
                rng.pick(texts), rng.pick(texts), rng.pick(bools), rng.pick(ips), .text(rng.pick(docs)),
            ])
        }
        // Read rows back: what SQLite stored after affinity, as a store would hand them over.
        let stored = try db.rows("SELECT rowid, n, i, t, k, s, b, a, doc FROM mixed ORDER BY rowid")
        let names = ["n", "i", "t", "k", "s", "b", "a"]
        let records: [(Int64, RowRecord)] = stored.map { row in
            var columns: [String: SQLValue] = [:]
            for (offset, name) in names.enumerated() { if let v = row[offset + 1] { columns[name] = v } }
            var doc: [String: SQLValue] = [:]
            if case .text(let json)? = row[8], let j = jsonMember[json] { doc["j"] = j }
            return (integer(row[0]) ?? -1, RowRecord(columns: columns, json: ["doc": doc]))
        }

        let clauses = [
            "n > 5", "n >= 5", "n: 5", "n: [5 .. 7]", "n < 1e21", "i: 7", "i > 0", "i: [5, 8]", "i = 9007199254740993", "i > 9007199254740992",
            "t: 2026-03-02", "t > 2026-03-01T00:00:00Z", "t <= now", "t: (2026-03-01 .. 2026-03-03)",
            "k: high", "k: [low, MEDIUM]", "k: 42", "k: `High`", "k: h*", "k = 2.5",
            "s: a_b", "s: \"%c\"", "s: *_*", "s: 4?", "s: 2.5",
            "b: true", "b: false", "b: yes", "a: 10.0.0.0/24", "a: [10.0.0.1 .. 10.0.0.9]", "a > ::1", "a: 10.*",
            "j > 3", "j: 4.5", "j: [1 .. 3]", "j: 1", "high", "\"2.5\"", "`LOW`",
        ]
        let compiler = SQLCompiler(catalog: Self.catalog)
        let context = QueryContext(nowMillis: testNow)
        var checked = 0
        for _ in 0..<600 {
            var text = rng.pick(clauses)
            if rng.chance(0.5) { text = "\(rng.pick(["", "not "]))\(text) \(rng.pick(["and", "or"])) \(rng.pick(["", "not "]))\(rng.pick(clauses))" }
            let evaluator = try QueryEvaluator(text, catalog: Self.catalog)
            let expected = Set(try records.filter { try evaluator.matches($0.1, context: context) }.map(\.0))
            let filter = try compiler.filter(text, context: context)
            let actual = Set(try db.rows(CompiledSQL(sql: "SELECT rowid FROM mixed WHERE " + filter.sql, parameters: filter.parameters)).compactMap { integer($0[0]) })
            XCTAssertEqual(expected, actual, "`\(text)` -> \(filter.sql)")
            if expected != actual { return }
            checked += 1
        }
        XCTAssertEqual(checked, 600)
    }
}

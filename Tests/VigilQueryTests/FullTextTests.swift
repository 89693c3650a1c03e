import XCTest
@testable import VigilQuery

/// Free text answered by an FTS5 index (opt-in per catalog), run for real on SQLite.
final class FullTextTests: XCTestCase {
    let context = QueryContext(nowMillis: testNow)

    static let tokens = [
        TokenDefinition("raw", type: .text, storage: .column("raw"), description: ""),
        TokenDefinition("message", type: .text, storage: .column("msg"), description: ""),
        TokenDefinition("n", type: .number, storage: .column("n"), description: ""),
    ]
    let indexed = TokenCatalog(list: "lines", table: "lines", idColumn: "id", tokens: FullTextTests.tokens,
                               freeText: ["raw", "message"], fullText: FullTextIndex(table: "lines_fts", rowidColumn: "seq"))
    var plain: TokenCatalog { indexed.withoutFullText }

    let lines: [(raw: String, msg: String?)] = [
        ("sshd[1]: Failed password for alice from 10.0.0.1", "login failed"),
        ("sshd[2]: Accepted password for bob from 10.0.0.12", "login ok"),
        ("kernel: failure in FAILSAFE mode", nil),
        ("web-0042 GET /index.html 200", "Ünïcode Straße"),
        ("backup job svc_backup finished", "nightly"),
    ]

    private func store() throws -> SQLiteTestDB {
        let db = try SQLiteTestDB()
        try db.exec("""
            CREATE TABLE lines(id INTEGER PRIMARY KEY, raw TEXT, msg TEXT, n INTEGER, seq INTEGER UNIQUE);
            CREATE VIRTUAL TABLE lines_fts USING fts5(raw, msg, content='');
            """)
        for (i, line) in lines.enumerated() {
            try db.run("INSERT INTO lines(id, raw, msg, n, seq) VALUES(?, ?, ?, ?, ?)",
                       [.integer(Int64(i)), .text(line.raw), line.msg.map { .text($0) }, .integer(Int64(i)), .integer(Int64(100 + i))])
            try db.run("INSERT INTO lines_fts(rowid, raw, msg) VALUES(?, ?, ?)",
                       [.integer(Int64(100 + i)), .text(line.raw), line.msg.map { .text($0) }])
        }
        return db
    }

    private func ids(_ q: String, _ catalog: TokenCatalog, _ db: SQLiteTestDB) throws -> [Int64] {
        let c = try SQLCompiler(catalog: catalog).filter(q, context: context)
        return try db.rows(CompiledSQL(sql: "SELECT id FROM lines WHERE " + c.sql + " ORDER BY id", parameters: c.parameters))
            .map { if case .integer(let i)? = $0[0] { return i }; return -1 }
    }

    func testMatchExpressions() throws {
        func expr(_ q: String) throws -> String? {
            guard case .freeText(let literal)? = try QueryParser().parse(q).root else { XCTFail(q); return nil }
            return FullTextMatch.expression(literal)
        }
        XCTAssertEqual(try expr("fail"), "\"fail\"")
        XCTAssertEqual(try expr("fail*"), "\"fail\"*")
        XCTAssertEqual(try expr("web-00*"), "\"web-00\"*")
        XCTAssertEqual(try expr("\"failed password\""), "\"failed password\"")
        XCTAssertEqual(try expr("\"say \\\"hi\\\"\""), "\"say \"\"hi\"\"\"", "quotes inside are doubled, never end the FTS string")
        XCTAssertEqual(FullTextMatch.quoted("a\"\u{0301}b"), "\"a\"\"\u{0301}b\"", "a quote with a combining mark is still a quote to FTS5")
        XCTAssertNil(try expr("`Failed`"), "exact values are case-sensitive: substring scan")
        XCTAssertNil(try expr("*fail"), "leading wildcard: substring scan")
        XCTAssertNil(try expr("f?il"))
        XCTAssertNil(try expr("fa*l"))
        XCTAssertNil(try expr("web-*"), "the prefix must end in a token character")
        XCTAssertNil(try expr("\"--\""), "no token characters: substring scan")
    }

    func testWordsPrefixesAndPhrasesUseTheIndex() throws {
        let db = try store()
        let sql = try SQLCompiler(catalog: indexed).filter("failed", context: context).sql
        XCTAssertTrue(sql.contains("\"seq\" IN (SELECT rowid FROM \"lines_fts\" WHERE \"lines_fts\" MATCH ?)"), sql)
        XCTAssertEqual(try ids("failed", indexed, db), [0], "a word matches the token in raw or message, case-insensitive")
        XCTAssertEqual(try ids("FAILED", indexed, db), [0])
        XCTAssertEqual(try ids("fail", indexed, db), [], "a word is a token, not a substring")
        XCTAssertEqual(try ids("fail", plain, db), [0, 2], "without the index: substring, as before")
        XCTAssertEqual(try ids("fail*", indexed, db), [0, 2], "trailing * is a prefix (failed, failure, FAILSAFE)")
        XCTAssertEqual(try ids("\"password for\"", indexed, db), [0, 1])
        XCTAssertEqual(try ids("\"for password\"", indexed, db), [], "a phrase keeps its order")
        XCTAssertEqual(try ids("10.0.0.1", indexed, db), [0], "dots split tokens; the address is a phrase of its parts")
        XCTAssertEqual(try ids("web-0042", indexed, db), [3])
        XCTAssertEqual(try ids("svc_backup", indexed, db), [4])
        XCTAssertEqual(try ids("straße", indexed, db), [3], "unicode61 folds case beyond ASCII")
        XCTAssertEqual(try ids("unicode", indexed, db), [3], "and removes diacritics")
        XCTAssertEqual(try ids("login and not ok", indexed, db), [0])
        XCTAssertEqual(try ids("not password", indexed, db), [2, 3, 4])
        XCTAssertEqual(try ids("password and n >= 1", indexed, db), [1])
        XCTAssertEqual(try ids("alice or nightly", indexed, db), [0, 4])
    }

    func testWhatTheIndexCannotAnswerKeepsTheSubstringScan() throws {
        let db = try store()
        for q in ["`Failed`", "*ail*", "f?il*", "\"[\"", "`FAILSAFE`"] {
            let sql = try SQLCompiler(catalog: indexed).filter(q, context: context).sql
            XCTAssertFalse(sql.contains("MATCH"), "\(q): \(sql)")
            XCTAssertEqual(try ids(q, indexed, db), try ids(q, plain, db), q)
        }
        XCTAssertEqual(try ids("`Failed`", indexed, db), [0])
        XCTAssertEqual(try ids("*ail*", indexed, db), [0, 2])
    }

    func testOnlyCatalogsThatOptInUseTheIndexAndTheEvaluatorKeepsSubstrings() throws {
        for list in [StandardCatalogs.events, plain] {
            XCTAssertFalse(try SQLCompiler(catalog: list).filter("failed", context: context).sql.contains("MATCH"), list.list)
        }
        // Rule conditions run in memory; their free text keeps the substring meaning.
        let evaluator = try QueryEvaluator("fail", catalog: indexed)
        XCTAssertTrue(try evaluator.matches(RowRecord(columns: ["raw": .text("Failed password")]), context: context))
    }

    /// Whatever the free text holds (FTS5 operators, quotes, stars, carets, non-ASCII), the MATCH
    /// text is one quoted string that SQLite accepts.
    func testAnyFreeTextGivesValidFTSSyntax() throws {
        let db = try store()
        var rng = SeededRandom(seed: 5)
        let pieces = ["fail", "ed", "OR", "AND", "NOT", "NEAR", "(", ")", "^", "+", "-", ":", "\\\"", "'", "*", "?", "{", "}",
                      "é", "ß", "日本", "10.0", "web", "0042", " ", "password", "raw:", "msg", "\u{0301}", "."]
        var compiled = 0, matched = 0
        for _ in 0..<400 {
            var text = ""
            for _ in 0..<Int.random(in: 1...5, using: &rng) { text += rng.pick(pieces) }
            let q = rng.chance(0.3) ? "\"\(text)\"" : text
            guard (try? QueryParser().parse(q)) != nil, let c = try? SQLCompiler(catalog: indexed).filter(q, context: context) else { continue }
            // Throws (and fails the test) if SQLite or FTS5 refuses the statement.
            do { _ = try db.rows(CompiledSQL(sql: "SELECT id FROM lines WHERE " + c.sql, parameters: c.parameters)) }
            catch { XCTFail("\(q) -> \(c.parameters): \(error)"); continue }
            if c.sql.contains("MATCH") { matched += 1 }
            compiled += 1
        }
        XCTAssertGreaterThan(compiled, 100)
        XCTAssertGreaterThan(matched, 50, "most random free text goes to the index")
    }

    /// For common terms a page walks the time index: the same rows, the FTS only filtering.
    func testFiltersOnlyFormGivesTheSameRows() throws {
        let db = try store()
        var filtering = SQLCompiler(catalog: indexed)
        filtering.fullTextFiltersOnly = true
        for q in ["failed", "fail* and not alice", "password or nightly", "\"password for\"", "`Failed`"] {
            let a = try SQLCompiler(catalog: indexed).filter(q, context: context)
            let b = try filtering.filter(q, context: context)
            XCTAssertEqual(b.sql.contains("+\"seq\" IN"), a.sql.contains("MATCH"), q)
            XCTAssertEqual(try db.rows(CompiledSQL(sql: "SELECT id FROM lines WHERE " + a.sql + " ORDER BY id", parameters: a.parameters)),
                           try db.rows(CompiledSQL(sql: "SELECT id FROM lines WHERE " + b.sql + " ORDER BY id", parameters: b.parameters)), q)
        }
        XCTAssertEqual(try SQLCompiler(catalog: indexed).fullTextMatches(QueryParser().parse("fail* and not (\"a b\" or n > 1) and `x`")),
                       ["\"fail\"*", "\"a b\""])
        XCTAssertEqual(try SQLCompiler(catalog: plain).fullTextMatches(QueryParser().parse("failed")), [])
    }
}

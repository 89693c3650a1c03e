import XCTest
@testable import VigilStore

/// The background checkpointer: the writer never checkpoints (below its backstop), yet its
/// pages reach the database file, and the WAL starts over instead of growing.
final class CheckpointerTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "vigil-ckpt-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    func size(_ path: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0 }

    func write(_ db: Database, rows: Int) throws {
        let blob = SQLValue.blob([UInt8](repeating: 7, count: 1000))
        for _ in 0..<(rows / 500) {
            try db.transaction { for _ in 0..<500 { try db.run("INSERT INTO t(data) VALUES(?)", [blob]) } }
        }
    }

    /// A store whose writer leaves checkpoints to a Checkpointer (its own only as the backstop).
    func openStore(_ name: String) throws -> (String, Database) {
        var options = StoreOptions()
        options.backgroundCheckpoint = true
        let db = try Database(path: dir + "/" + name, options: options)
        try db.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, data BLOB)")
        return (dir + "/" + name, db)
    }

    func eventually(_ what: String, timeoutMs: Int = 10_000, _ cond: () -> Bool) {
        let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
        while !cond() && Date() < deadline { usleep(20_000) }
        XCTAssertTrue(cond(), what)
    }

    func testPagesReachTheDatabaseFileWithoutTheWriterCheckpointing() throws {
        let (path, db) = try openStore("a.db")
        try write(db, rows: 10_000) // ≈ 10 MB, ≈ 2,500–3,000 pages: under the writer's backstop (32,768)
        usleep(300_000)
        XCTAssertLessThan(size(path), 1_000_000, "the writer checkpointed by itself")
        let firstWAL = size(path + "-wal")
        XCTAssertGreaterThan(firstWAL, 9_000_000)

        let checkpointer = Checkpointer(path: path, intervalMs: 50, restartBytes: 4 << 20)
        defer { checkpointer.stop() }
        eventually("the checkpointer copied the WAL") { checkpointer.current.pages >= 2_000 }
        XCTAssertGreaterThan(size(path), 9_000_000, "pages in the database file")
        let s = checkpointer.current
        XCTAssertGreaterThanOrEqual(s.pages, 2_000)
        XCTAssertGreaterThanOrEqual(s.checkpoints, 1)
        XCTAssertEqual(s.failures, 0, s.lastError)

        // Rounds of writes: with the WAL started over after each checkpoint its file never grows
        // past the first generation, instead of by every round (10 rounds ≈ 27 MB more).
        for _ in 0..<10 {
            try write(db, rows: 2_000)
            let copied = checkpointer.current.pages
            eventually("round checkpointed") { checkpointer.current.pages > copied }
            usleep(60_000)
        }
        XCTAssertLessThanOrEqual(size(path + "-wal"), firstWAL, "WAL kept growing")
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM t")?.int64, 30_000)
        XCTAssertEqual(checkpointer.current.failures, 0, checkpointer.current.lastError)
    }

    func testItsThreadIsNamedForTopAndPerf() throws {
        let (path, db) = try openStore("c.db")
        defer { db.close() }
        let names = { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task"))?.compactMap {
            try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } ?? [] }
        let before = names().filter { $0 == "checkpointer" }.count
        let checkpointer = Checkpointer(path: path, intervalMs: 10_000)
        eventually("a thread named checkpointer") { names().filter { $0 == "checkpointer" }.count == before + 1 }
        checkpointer.stop()
    }

    func testStopReturnsPromptlyAndWritesGoOnAfterIt() throws {
        let (path, db) = try openStore("b.db")
        let checkpointer = Checkpointer(path: path, intervalMs: 10_000)
        let t0 = Date()
        checkpointer.stop()
        XCTAssertLessThan(Date().timeIntervalSince(t0), 2, "stop waited for the interval")
        try write(db, rows: 1_000)
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM t")?.int64, 1_000)
    }
}

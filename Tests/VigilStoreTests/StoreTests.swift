import XCTest
@testable import VigilStore

final class StoreTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "vigil-store-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    let v1 = Migration(1, "t", "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, data BLOB);")
    let v2 = Migration(2, "t.extra", "ALTER TABLE t ADD COLUMN extra TEXT NOT NULL DEFAULT 'x';")

    func testWALAndMigrationsApplyOnceInOrder() throws {
        let db = try Database(path: dir + "/a.db")
        XCTAssertEqual(try db.scalar("PRAGMA journal_mode")?.string, "wal")
        XCTAssertEqual(try db.migrate(component: "svc", [v2, v1]).map(\.version), [1, 2])
        XCTAssertEqual(try db.migrate(component: "svc", [v1, v2]).count, 0)
        XCTAssertEqual(try db.schemaVersion(component: "svc"), 2)
        // Components version independently in the same file.
        XCTAssertEqual(try db.schemaVersion(component: "other"), 0)
        try db.run("INSERT INTO t(name) VALUES(?)", ["a"])
        XCTAssertEqual(try db.scalar("SELECT extra FROM t")?.string, "x")
    }

    func testNewerFileIsRefused() throws {
        let db = try Database(path: dir + "/b.db")
        try db.migrate(component: "svc", [v1, v2])
        XCTAssertThrowsError(try db.migrate(component: "svc", [v1])) { e in
            XCTAssertEqual((e as? StoreError)?.code, .migration)
            XCTAssertTrue("\(e)".contains("newer than this program knows"), "\(e)")
        }
    }

    func testBadMigrationIsRolledBackAndNamed() throws {
        let db = try Database(path: dir + "/c.db")
        let bad = Migration(2, "broken", "CREATE TABLE u(x); SELECT nonsense FROM nowhere;")
        XCTAssertThrowsError(try db.migrate(component: "svc", [v1, bad])) { e in
            XCTAssertTrue("\(e)".contains("svc migration 2 (broken)"), "\(e)")
        }
        XCTAssertEqual(try db.schemaVersion(component: "svc"), 1)
        XCTAssertTrue(try db.query("SELECT name FROM sqlite_master WHERE name = 'u'").isEmpty, "failed migration must roll back")
    }

    func testTransactionRollsBackOnError() throws {
        let db = try Database(path: dir + "/d.db")
        try db.migrate(component: "svc", [v1])
        struct Boom: Error {}
        XCTAssertThrowsError(try db.transaction {
            try db.run("INSERT INTO t(name) VALUES(?)", ["kept?"])
            throw Boom()
        })
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM t")?.int64, 0)
        try db.transaction {
            try db.run("INSERT INTO t(name) VALUES(?)", ["one"])
            try db.transaction { try db.run("INSERT INTO t(name) VALUES(?)", ["nested"]) }
        }
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM t")?.int64, 2)
    }

    func testValuesRoundTripAsBoundParameters() throws {
        let db = try Database(path: dir + "/e.db")
        try db.migrate(component: "svc", [v1])
        let hostile = "'); DROP TABLE t; --"
        try db.run("INSERT INTO t(name, data) VALUES(?, ?)", [.text(hostile), .blob([0, 1, 2, 255])])
        try db.run("INSERT INTO t(name, data) VALUES(?, ?)", [.null, .blob([])])
        let rows = try db.query("SELECT name, data FROM t ORDER BY id")
        XCTAssertEqual(rows[0].string(0), hostile)
        XCTAssertEqual(rows[0].blob(1), [0, 1, 2, 255])
        XCTAssertEqual(rows[1][0], .null)
        XCTAssertEqual(rows[1].blob(1), [])
        XCTAssertThrowsError(try db.run("INSERT INTO t(name) VALUES(?)", [])) { e in
            XCTAssertEqual((e as? StoreError)?.code, .bind)
        }
        XCTAssertThrowsError(try db.query("SELECT * FROM missing")) { e in
            XCTAssertEqual((e as? StoreError)?.code, .prepare)
        }
    }

    func testDataSurvivesReopen() throws {
        do {
            let db = try Database(path: dir + "/f.db")
            try db.migrate(component: "svc", [v1])
            try db.transaction { for i in 0..<1000 { try db.run("INSERT INTO t(name) VALUES(?)", [.text("n\(i)")]) } }
        }
        let db = try Database(path: dir + "/f.db")
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM t")?.int64, 1000)
    }

    /// After-commit hooks run once per outermost COMMIT that succeeded; after-rollback hooks when
    /// the body, a before-commit hook or the COMMIT failed. Nested transactions run neither.
    func testCommitAndRollbackHooksFollowWhatTheStoreKept() throws {
        let db = try Database(path: dir + "/hooks.db")
        try db.execute("CREATE TABLE t(x INTEGER)")
        var commits = 0, rollbacks = 0, failBeforeCommit = false
        struct Boom: Error {}
        db.addBeforeCommit { if failBeforeCommit { throw Boom() } }
        db.addAfterCommit { commits += 1 }
        db.addAfterRollback { rollbacks += 1 }
        try db.transaction { try db.transaction { try db.run("INSERT INTO t VALUES(1)") } }
        XCTAssertEqual([commits, rollbacks], [1, 0], "the nested one joins the outer: one commit")
        XCTAssertThrowsError(try db.transaction { try db.run("INSERT INTO t VALUES(2)"); throw Boom() })
        XCTAssertEqual([commits, rollbacks], [1, 1])
        failBeforeCommit = true
        XCTAssertThrowsError(try db.transaction { try db.run("INSERT INTO t VALUES(3)") })
        XCTAssertEqual([commits, rollbacks], [1, 2], "a before-commit hook's error rolls back")
        XCTAssertEqual(try db.scalar("SELECT group_concat(x) FROM t")?.string, "1")
    }

    func testDeletesWithoutZeroingRestoreTheSettingEvenOnError() throws {
        let db = try Database(path: dir + "/zero.db")
        try db.execute("PRAGMA secure_delete=1")
        let inside = try db.withoutZeroingDeletes { try db.scalar("PRAGMA secure_delete")?.int64 }
        XCTAssertEqual(inside, 2, "FAST inside")
        XCTAssertEqual(try db.scalar("PRAGMA secure_delete")?.int64, 1, "restored after")
        struct Boom: Error {}
        XCTAssertThrowsError(try db.withoutZeroingDeletes { throw Boom() })
        XCTAssertEqual(try db.scalar("PRAGMA secure_delete")?.int64, 1, "restored after an error")
    }

    /// Another connection holds the write lock for `holdMs` on its own thread. Returns how long this
    /// connection's write attempt took and how long after the lock's release it went through (ms;
    /// negative when it gave up before the release), or its error.
    private func writeBehindHolder(_ db: Database, holdMs: Int) throws -> (attemptMs: Double, result: Result<Double, Error>) {
        let holder = try Database(path: db.path)
        final class Times: @unchecked Sendable { var releasedNs: UInt64 = 0; var lockError: Error? }  // written before a signal
        let times = Times()
        let locked = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        let t = Thread {
            do { try holder.execute("BEGIN IMMEDIATE") } catch { times.lockError = error }
            locked.signal()
            usleep(UInt32(holdMs * 1000))
            try? holder.execute("COMMIT")
            times.releasedNs = DispatchTime.now().uptimeNanoseconds
            done.signal()
        }
        t.start()
        locked.wait()
        if let e = times.lockError { done.wait(); holder.close(); throw e }
        let start = DispatchTime.now().uptimeNanoseconds
        let result = Result { try db.run("INSERT INTO t(name) VALUES('waited')") }
        let wroteAt = DispatchTime.now().uptimeNanoseconds
        done.wait()
        holder.close()
        return (Double(wroteAt - start) / 1e6, result.map { _ in Double(Int64(wroteAt) - Int64(times.releasedNs)) / 1e6 })
    }

    /// A writer held off by another connection gets the lock soon after it is released (the
    /// polling busy handler), not at SQLite's next 5/10/15 ms sleep step; and it still gives up
    /// with `busy` once `busyTimeoutMs` of real time has passed.
    func testAWaitingWriterGetsTheLockSoonAfterItsReleaseAndTimesOut() throws {
        let db = try Database(path: dir + "/busy.db")
        try db.migrate(component: "svc", [v1])
        // Held 20 ms: SQLite's own handler would try at 1, 3, 8, 18 and 33 ms, 13 ms late.
        var late: [Double] = []
        for _ in 0..<9 { late.append(try writeBehindHolder(db, holdMs: 20).result.get()) }
        late.sort()
        XCTAssertLessThan(late[4], 9, "median ms between the lock's release and the waiting write: \(late)")
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM t")?.int64, 9)

        db.busyTimeoutMs = 50
        XCTAssertEqual(db.busyTimeoutMs, 50)
        let (attemptMs, r) = try writeBehindHolder(db, holdMs: 1500)
        guard case .failure(let e) = r else { return XCTFail("a write behind a 1.5 s hold with a 50 ms timeout went through") }
        XCTAssertEqual((e as? StoreError)?.code, .busy, "\(e)")
        XCTAssertGreaterThanOrEqual(attemptMs, 50, "gave up before its timeout")
        XCTAssertLessThan(attemptMs, 1000, "waited well past its 50 ms timeout")
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM t")?.int64, 9)
    }

    /// The busy handler's deadline is real time from the first try of a wait, and a call long
    /// after the previous one starts a new wait (a prepare does not reset SQLite's count).
    func testBusyWaitGivesUpByTheClock() {
        let w = BusyWait(timeoutMs: 50)
        XCTAssertEqual(w.retry(tries: 0), 1)
        usleep(60_000)
        XCTAssertEqual(w.retry(tries: 1), 0, "60 ms after the first try of a 50 ms wait")
        XCTAssertEqual(w.retry(tries: 0), 1, "a new wait")
        usleep(20_000)
        XCTAssertEqual(w.retry(tries: 7), 1, "20 ms into it")
        usleep(120_000)
        XCTAssertEqual(w.retry(tries: 8), 1, "a call 120 ms after the last one starts afresh")
        let never = BusyWait(timeoutMs: 0)
        XCTAssertEqual(never.retry(tries: 0), 0)
    }
}

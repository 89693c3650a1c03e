import CSQLite
import VigilLog
#if canImport(Glibc)
import Glibc
#endif

/// How one connection waits for a lock another connection holds (its busy handler's state).
/// SQLite's own `sqlite3_busy_timeout` sleeps 1, 2, 5, 10, 15, 20, 25 ms… between tries, so a
/// writer held off 10–12 ms by a checkpointer's RESTART got the lock only after 18 ms, one held
/// 20–30 ms after 33 ms (traced at 10k events/s: every slow enrichment batch was one of those
/// waits). This handler tries again every 0.1 ms for the first 50 ms of a wait, then every 1 ms,
/// until `timeoutMs` of real time has passed (the clock, not the tries: a 0.1 ms sleep takes
/// nearer 0.2 ms on a loaded machine). A lock here is held for milliseconds, so polling finely
/// costs little.
///
/// SQLite counts `tries` from 0 at the first busy call of a statement step, so the waits of one
/// step (a RESTART checkpoint waits for the write lock, then for readers) share one deadline, as
/// with SQLite's own handler. A call long after the previous one (a prepare that reloads the
/// schema, which does not reset the count) — over 100 ms after the previous one — starts a new wait.
final class BusyWait {
    var timeoutMs: Int32
    private var startNs: UInt64 = 0
    private var lastNs: UInt64 = 0

    init(timeoutMs: Int32) { self.timeoutMs = max(0, timeoutMs) }

    /// SQLite's callback: `tries` is 0 at the first call of each wait. Nonzero: try again.
    func retry(tries: Int32) -> Int32 {
        let now = Clock.monotonicNs()
        // Within one wait the calls come at most ~1 ms apart (the sleeps below).
        if tries == 0 || now &- lastNs > 100_000_000 { startNs = now }
        lastNs = now
        let waitedNs = now &- startNs
        if waitedNs >= UInt64(timeoutMs) * 1_000_000 { return 0 }
        usleep(waitedNs < 50_000_000 ? 100 : 1000)
        return 1
    }
}

private let busyWaitCallback: @convention(c) (UnsafeMutableRawPointer?, Int32) -> Int32 = { context, tries in
    guard let context else { return 0 }
    return Unmanaged<BusyWait>.fromOpaque(context).takeUnretainedValue().retry(tries: tries)
}

/// Options for opening a service's store. Defaults suit one service process owning its file.
public struct StoreOptions: Sendable {
    /// Wait this long for a lock held by another connection before failing with `busy`
    /// (`BusyWait`: tries again every 0.1 ms at first, so a short hold costs only itself).
    public var busyTimeoutMs: Int32 = 5_000
    /// WAL + NORMAL survives process kills (SIGKILL) without losing committed transactions;
    /// `full` also survives power loss at the cost of an fsync per commit.
    public var synchronousFull: Bool = false
    public var readOnly: Bool = false
    /// Page cache per connection. SQLite's default (2 MB) makes a busy outbox or event store
    /// re-read pages it just wrote.
    public var cacheSizeKiB: Int = 64 * 1024
    /// Reads through a memory map instead of a read() per page.
    public var mmapSizeBytes: Int = 256 * 1024 * 1024
    /// WAL pages before SQLite checkpoints into the database file (SQLite's default is 1000).
    /// Services commit thousands of rows per second: fewer, larger checkpoints write hot pages
    /// (index interiors, the outbox's tail) once instead of many times, and fsync less often.
    public var walAutocheckpointPages: Int = 8192
    /// A `Checkpointer` thread does the checkpoints; the connection's own automatic checkpoint
    /// is then only a backstop, at 4 × `walAutocheckpointPages`, for when that thread falls behind.
    public var backgroundCheckpoint: Bool = false
    public init() {}
}

/// One SQLite connection. Not thread-safe: owned by the thread (or loop) that uses it.
public final class Database {
    let handle: OpaquePointer
    public let path: String
    private let busyWait: BusyWait

    /// How long this connection waits for a lock another connection holds before failing with
    /// `busy` (`StoreOptions.busyTimeoutMs` at open; `BusyWait`: polled finely, real time).
    public var busyTimeoutMs: Int32 {
        get { busyWait.timeoutMs }
        set { busyWait.timeoutMs = max(0, newValue) }
    }
    private var cache: [String: Statement] = [:]
    private var transactionDepth = 0
    private var beforeCommit: [() throws -> Void] = []
    private var afterCommit: [() -> Void] = []
    private var afterRollback: [() -> Void] = []

    /// Process-wide SQLite settings, applied once before the first connection: no memory
    /// statistics (they take a global mutex on every allocation, ≈ 9 % of the enrichment store
    /// path measured; Vigil never reads them).
    private static let configured: Bool = {
        vigil_sqlite_config_memstatus(0)
        return true
    }()

    public init(path: String, options: StoreOptions = StoreOptions()) throws {
        _ = Self.configured
        var db: OpaquePointer?
        let flags = options.readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        let rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let msg = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let db { sqlite3_close_v2(db) }
            throw StoreError(code: .open, sqliteCode: rc, message: "\(msg) (\(path))")
        }
        self.handle = db
        self.path = path
        self.busyWait = BusyWait(timeoutMs: options.busyTimeoutMs)
        // The connection keeps `busyWait` for as long as SQLite may call the handler (until close).
        sqlite3_busy_handler(db, busyWaitCallback, Unmanaged.passUnretained(busyWait).toOpaque())
        if !options.readOnly {
            try execute("PRAGMA journal_mode=WAL")
            try execute(options.synchronousFull ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL")
            try execute("PRAGMA wal_autocheckpoint=\(options.walAutocheckpointPages * (options.backgroundCheckpoint ? 4 : 1))")
        }
        try execute("PRAGMA foreign_keys=ON")
        try execute("PRAGMA cache_size=-\(options.cacheSizeKiB)")
        try execute("PRAGMA mmap_size=\(options.mmapSizeBytes)")
        try execute("PRAGMA temp_store=MEMORY")
    }

    private var closed = false

    deinit { close() }

    /// Finalizes statements and closes the connection now (deinit may run late or, for
    /// globals, never). Further use of this Database fails with SQLITE_MISUSE errors.
    public func close() {
        guard !closed else { return }
        closed = true
        cache.removeAll()
        // A statement someone still holds keeps a closed connection alive (a zombie) that could
        // still wait for a lock: it must not call back into `busyWait`, which goes with `self`.
        sqlite3_busy_handler(handle, nil, nil)
        sqlite3_close_v2(handle)
    }

    func error(_ code: StoreError.Code, _ rc: Int32, sql: String?) -> StoreError {
        let msg = String(cString: sqlite3_errmsg(handle))
        let primary = rc & 0xff
        let c: StoreError.Code = primary == SQLITE_BUSY || primary == SQLITE_LOCKED ? .busy
            : primary == SQLITE_CONSTRAINT ? .constraint
            : primary == SQLITE_FULL ? .full : code
        return StoreError(code: c, sqliteCode: rc, message: msg, sql: sql)
    }

    /// Runs one or more statements without parameters (schema, pragmas).
    public func execute(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &err)
        if rc != SQLITE_OK {
            let msg = err.map { String(cString: $0) } ?? "error"
            sqlite3_free(err)
            throw StoreError(code: .step, sqliteCode: rc, message: msg, sql: sql)
        }
    }

    /// A prepared statement, cached by its SQL text so hot paths prepare once.
    public func statement(_ sql: String) throws -> Statement {
        if let s = cache[sql] { s.reset(); return s }
        let s = try Statement(db: self, sql: sql)
        cache[sql] = s
        return s
    }

    /// Runs a statement with bound values; returns the number of rows changed.
    @discardableResult
    public func run(_ sql: String, _ values: [SQLValue] = []) throws -> Int {
        let s = try statement(sql)
        try s.bind(values)
        while try s.step() {}
        s.reset()
        return Int(sqlite3_changes(handle))
    }

    /// All rows of a query.
    public func query(_ sql: String, _ values: [SQLValue] = []) throws -> [Row] {
        let s = try statement(sql)
        try s.bind(values)
        var rows: [Row] = []
        while try s.step() { rows.append(s.row()) }
        s.reset()
        return rows
    }

    /// The first column of the first row, if any.
    public func scalar(_ sql: String, _ values: [SQLValue] = []) throws -> SQLValue? {
        try query(sql, values).first?.values.first
    }

    public var lastInsertRowId: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Runs `body` in one transaction (BEGIN IMMEDIATE, so writers queue instead of failing
    /// mid-way). Nested calls join the outer transaction.
    @discardableResult
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        if transactionDepth > 0 {
            transactionDepth += 1
            defer { transactionDepth -= 1 }
            return try body()
        }
        try execute("BEGIN IMMEDIATE")
        transactionDepth = 1
        do {
            let result = try body()
            for hook in beforeCommit { try hook() }
            transactionDepth = 0
            try execute("COMMIT")
            for hook in afterCommit { hook() }
            return result
        } catch {
            transactionDepth = 0
            try? execute("ROLLBACK")
            for hook in afterRollback { hook() }
            throw error
        }
    }

    public var inTransaction: Bool { transactionDepth > 0 }

    /// Runs `hook` inside every outermost `transaction`, after its body and before COMMIT; an
    /// error rolls the transaction back like an error of the body. A stream producer writes
    /// the messages appended during the transaction here, as a few rows instead of one each.
    public func addBeforeCommit(_ hook: @escaping () throws -> Void) {
        beforeCommit.append(hook)
    }

    /// Runs `body` with SQLite's `secure_delete` at FAST, then restores the connection's setting.
    /// Debian's SQLite is built with it on: every page a DELETE frees is zeroed and written again
    /// (to the WAL, then at the checkpoint), as many pages as storing the rows took. FAST zeroes
    /// only what the delete writes anyway. For deletes of data kept elsewhere (a stream outbox's
    /// delivered copies); deletes that must not leave data in free pages (retention) keep it on.
    public func withoutZeroingDeletes<T>(_ body: () throws -> T) throws -> T {
        let setting = try scalar("PRAGMA secure_delete")?.int64 ?? 0
        try execute("PRAGMA secure_delete=FAST")
        defer { try? execute("PRAGMA secure_delete=\(setting)") }
        return try body()
    }

    /// Runs `hook` after every outermost `transaction` has committed, so state kept beside the
    /// store (a stream producer's outbox index) follows what is durable, not what a caller says.
    public func addAfterCommit(_ hook: @escaping () -> Void) {
        afterCommit.append(hook)
    }

    /// Runs `hook` after every outermost `transaction` has rolled back (its body, a before-commit
    /// hook or the COMMIT itself failed).
    public func addAfterRollback(_ hook: @escaping () -> Void) {
        afterRollback.append(hook)
    }
}

/// One result row, copied out of SQLite.
public struct Row: Sendable {
    public var values: [SQLValue]
    public subscript(i: Int) -> SQLValue { i < values.count ? values[i] : .null }
    public func int(_ i: Int) -> Int64 { self[i].int64 ?? 0 }
    public func string(_ i: Int) -> String { self[i].string ?? "" }
    public func blob(_ i: Int) -> [UInt8] {
        switch self[i] {
        case .blob(let b): return b
        case .text(let s): return Array(s.utf8)
        default: return []
        }
    }
}

import CSQLite

/// A prepared statement. Values are always bound, never spliced into SQL text.
public final class Statement {
    let stmt: OpaquePointer
    unowned let db: Database
    public let sql: String

    init(db: Database, sql: String) throws {
        var s: OpaquePointer?
        let rc = sqlite3_prepare_v3(db.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &s, nil)
        guard rc == SQLITE_OK, let s else { throw db.error(.prepare, rc, sql: sql) }
        self.stmt = s
        self.db = db
        self.sql = sql
    }

    deinit { sqlite3_finalize(stmt) }

    public func reset() {
        sqlite3_reset(stmt)
        sqlite3_clear_bindings(stmt)
    }

    public func bind(_ values: [SQLValue]) throws {
        let expected = Int(sqlite3_bind_parameter_count(stmt))
        guard expected == values.count else {
            throw StoreError(code: .bind, message: "statement takes \(expected) parameters, got \(values.count)", sql: sql)
        }
        for (i, v) in values.enumerated() {
            let idx = Int32(i + 1)
            let rc: Int32
            switch v {
            case .null: rc = sqlite3_bind_null(stmt, idx)
            case .integer(let x): rc = sqlite3_bind_int64(stmt, idx, x)
            case .real(let x): rc = sqlite3_bind_double(stmt, idx, x)
            case .text(let s): rc = sqlite3_bind_text(stmt, idx, s, -1, vigil_sqlite_transient())
            case .blob(let b):
                rc = b.withUnsafeBytes { buf in
                    // A zero-length blob must still be a blob, not NULL.
                    buf.baseAddress == nil
                        ? sqlite3_bind_zeroblob(stmt, idx, 0)
                        : sqlite3_bind_blob(stmt, idx, buf.baseAddress, Int32(buf.count), vigil_sqlite_transient())
                }
            }
            if rc != SQLITE_OK { throw db.error(.bind, rc, sql: sql) }
        }
    }

    /// Binds parameter `index` (1-based) to `bytes` without SQLite copying them
    /// (SQLITE_STATIC), for the duration of `body`, which steps the statement; the statement is
    /// reset and the parameter cleared before the bytes may go. For large blobs on hot paths.
    public func withBorrowedBlob<R>(_ index: Int, _ bytes: [UInt8], _ body: () throws -> R) throws -> R {
        try bytes.withUnsafeBytes { buf in
            let idx = Int32(index)
            // A zero-length blob must still be a blob, not NULL.
            let rc = buf.baseAddress == nil || buf.isEmpty
                ? sqlite3_bind_zeroblob(stmt, idx, 0)
                : sqlite3_bind_blob(stmt, idx, buf.baseAddress, Int32(buf.count), nil)
            if rc != SQLITE_OK { throw db.error(.bind, rc, sql: sql) }
            defer { sqlite3_reset(stmt); sqlite3_bind_null(stmt, idx) }
            return try body()
        }
    }

    /// Advances; true when a row is available.
    public func step() throws -> Bool {
        let rc = sqlite3_step(stmt)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        let err = db.error(.step, rc, sql: sql)
        sqlite3_reset(stmt)
        throw err
    }

    public var columnCount: Int { Int(sqlite3_column_count(stmt)) }

    public func value(_ i: Int) -> SQLValue {
        let idx = Int32(i)
        switch sqlite3_column_type(stmt, idx) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(stmt, idx))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(stmt, idx))
        case SQLITE_TEXT:
            guard let p = sqlite3_column_text(stmt, idx) else { return .text("") }
            let n = Int(sqlite3_column_bytes(stmt, idx))
            return .text(String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self))
        case SQLITE_BLOB:
            let n = Int(sqlite3_column_bytes(stmt, idx))
            guard n > 0, let p = sqlite3_column_blob(stmt, idx) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: p, count: n)))
        default: return .null
        }
    }

    public func row() -> Row { Row(values: (0..<columnCount).map { value($0) }) }
}

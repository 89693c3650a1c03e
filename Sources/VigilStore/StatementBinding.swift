import CSQLite

/// Binding one parameter at a time, for hot paths that run one statement per row: no `[SQLValue]`
/// array, no `String` built for bytes the caller already holds, text bound with its length (no
/// `strlen`, and an embedded NUL is kept instead of cutting the value short).
/// Indexes are 1-based, as in SQLite. A statement from `Database.statement(_:)` comes reset.
extension Statement {
    public func bind(_ index: Int, int64 value: Int64) throws {
        try check(sqlite3_bind_int64(stmt, Int32(index), value))
    }

    /// Text copied by SQLite (the string may go right after).
    public func bind(_ index: Int, text value: String) throws {
        var v = value
        try v.withUTF8 { utf8 in
            try check(sqlite3_bind_text(stmt, Int32(index), Self.nonNull(utf8.baseAddress), Int32(utf8.count), vigil_sqlite_transient()))
        }
    }

    /// UTF-8 text that SQLite reads in place (`SQLITE_STATIC`): the bytes must stay valid and
    /// unchanged until the statement is reset (`execute()` resets it).
    public func bind(_ index: Int, borrowedText bytes: UnsafeRawBufferPointer) throws {
        try check(sqlite3_bind_text(stmt, Int32(index), Self.nonNull(bytes.baseAddress?.assumingMemoryBound(to: CChar.self)),
                                    Int32(bytes.count), nil))
    }

    /// A blob that SQLite reads in place, with the same lifetime rule as `borrowedText`. A
    /// zero-length blob is still a blob, not NULL.
    public func bind(_ index: Int, borrowedBlob bytes: UnsafeRawBufferPointer) throws {
        if let base = bytes.baseAddress, !bytes.isEmpty {
            try check(sqlite3_bind_blob(stmt, Int32(index), base, Int32(bytes.count), nil))
        } else {
            try check(sqlite3_bind_zeroblob(stmt, Int32(index), 0))
        }
    }

    /// Steps to the end, then resets the statement and clears its parameters (so no borrowed
    /// bytes stay bound); returns the rows changed.
    @discardableResult
    public func execute() throws -> Int {
        defer { reset() }
        while try step() {}
        return Int(sqlite3_changes(db.handle))
    }

    private func check(_ rc: Int32) throws {
        if rc != SQLITE_OK { throw db.error(.bind, rc, sql: sql) }
    }

    /// SQLite binds NULL for a NULL pointer; an empty value must stay empty text. A static
    /// string's bytes live as long as the program.
    private static var empty: UnsafePointer<CChar> {
        UnsafeRawPointer(("" as StaticString).utf8Start).assumingMemoryBound(to: CChar.self)
    }

    @inline(__always)
    private static func nonNull<T>(_ p: UnsafePointer<T>?) -> UnsafePointer<CChar> {
        guard let p else { return empty }
        return UnsafeRawPointer(p).assumingMemoryBound(to: CChar.self)
    }
}

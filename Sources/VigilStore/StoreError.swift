/// An SQLite failure with the SQLite result code, its message and the statement involved.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case open, prepare, bind, step, migration, busy, constraint, full
    }
    public var code: Code
    public var sqliteCode: Int32
    public var message: String
    public var sql: String?

    public init(code: Code, sqliteCode: Int32 = 0, message: String, sql: String? = nil) {
        self.code = code; self.sqliteCode = sqliteCode; self.message = message; self.sql = sql
    }

    public var description: String {
        var s = "store \(code.rawValue) error (sqlite \(sqliteCode)): \(message)"
        if let sql { s += " [sql: \(sql.prefix(200))]" }
        return s
    }
}

import CSQLite
import VigilQuery

struct SQLiteError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// A tiny SQLite wrapper for running compiled QQL for real, with the QQL
/// functions registered the way a store must register them.
final class SQLiteTestDB {
    private(set) var handle: OpaquePointer?

    init(path: String = ":memory:") throws {
        guard sqlite3_open(path, &handle) == SQLITE_OK else { throw SQLiteError(message: "open failed") }
        try registerQQLFunctions(handle)
    }

    deinit { sqlite3_close_v2(handle) }

    private var lastError: String { String(cString: sqlite3_errmsg(handle)) }

    func exec(_ sql: String) throws {
        guard sqlite3_exec(handle, sql, nil, nil, nil) == SQLITE_OK else { throw SQLiteError(message: lastError + " in " + sql) }
    }

    func rows(_ compiled: CompiledSQL) throws -> [[SQLValue?]] {
        try rows(compiled.sql, compiled.parameters.map { Optional($0) })
    }

    func rows(_ sql: String, _ parameters: [SQLValue?] = []) throws -> [[SQLValue?]] {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK else {
            throw SQLiteError(message: lastError + " in " + sql)
        }
        defer { sqlite3_finalize(statement) }
        for (index, value) in parameters.enumerated() { bind(statement, Int32(index + 1), value) }
        var out: [[SQLValue?]] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw SQLiteError(message: lastError + " in " + sql) }
            out.append((0..<sqlite3_column_count(statement)).map { column(statement, $0) })
        }
        return out
    }

    func run(_ sql: String, _ parameters: [SQLValue?]) throws {
        _ = try rows(sql, parameters)
    }
}

private func bind(_ statement: OpaquePointer?, _ index: Int32, _ value: SQLValue?) {
    switch value {
    case .none: sqlite3_bind_null(statement, index)
    case .integer(let i): sqlite3_bind_int64(statement, index, i)
    case .real(let d): sqlite3_bind_double(statement, index, d)
    case .text(let s): sqlite3_bind_text(statement, index, s, Int32(s.utf8.count), vigil_sqlite_transient())
    }
}

private func column(_ statement: OpaquePointer?, _ index: Int32) -> SQLValue? {
    switch sqlite3_column_type(statement, index) {
    case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, index))
    case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, index))
    case SQLITE_TEXT:
        guard let text = sqlite3_column_text(statement, index) else { return nil }
        let count = Int(sqlite3_column_bytes(statement, index))
        return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
    default: return nil
    }
}

private func argument(_ value: OpaquePointer?) -> SQLValue? {
    switch sqlite3_value_type(value) {
    case SQLITE_INTEGER: return .integer(sqlite3_value_int64(value))
    case SQLITE_FLOAT: return .real(sqlite3_value_double(value))
    case SQLITE_TEXT:
        guard let text = sqlite3_value_text(value) else { return nil }
        let count = Int(sqlite3_value_bytes(value))
        return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
    default: return nil
    }
}

/// Registers `qql_num` and `qql_ip` (see `QQLFunctions`) on a connection.
func registerQQLFunctions(_ db: OpaquePointer?) throws {
    let flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC
    var rc = sqlite3_create_function_v2(db, QQLFunctions.numberFunctionName, 1, flags, nil, { context, _, arguments in
        guard let value = argument(arguments?[0]), let number = QQLFunctions.number(value) else {
            sqlite3_result_null(context)
            return
        }
        switch number {
        case .integer(let i): sqlite3_result_int64(context, i)
        case .real(let d): sqlite3_result_double(context, d)
        }
    }, nil, nil, nil)
    guard rc == SQLITE_OK else { throw SQLiteError(message: "register qql_num failed") }
    rc = sqlite3_create_function_v2(db, QQLFunctions.ipFunctionName, 1, flags, nil, { context, _, arguments in
        guard let value = argument(arguments?[0]), let key = QQLFunctions.ipKey(value) else {
            sqlite3_result_null(context)
            return
        }
        sqlite3_result_text(context, key, Int32(key.utf8.count), vigil_sqlite_transient())
    }, nil, nil, nil)
    guard rc == SQLITE_OK else { throw SQLiteError(message: "register qql_ip failed") }
}

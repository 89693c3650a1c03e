import CSQLite

/// Holds a Swift function for SQLite; freed by SQLite's destructor callback.
private final class FunctionBox {
    let fn: (SQLValue) -> SQLValue
    init(_ fn: @escaping (SQLValue) -> SQLValue) { self.fn = fn }
}

private func sqlValue(_ v: OpaquePointer?) -> SQLValue {
    guard let v else { return .null }
    switch sqlite3_value_type(v) {
    case SQLITE_INTEGER: return .integer(sqlite3_value_int64(v))
    case SQLITE_FLOAT: return .real(sqlite3_value_double(v))
    case SQLITE_TEXT:
        guard let p = sqlite3_value_text(v) else { return .text("") }
        return .text(String(decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_value_bytes(v))), as: UTF8.self))
    case SQLITE_BLOB:
        let n = Int(sqlite3_value_bytes(v))
        guard n > 0, let p = sqlite3_value_blob(v) else { return .blob([]) }
        return .blob(Array(UnsafeRawBufferPointer(start: p, count: n)))
    default: return .null
    }
}

extension Database {
    /// Registers a deterministic one-argument SQL function implemented in Swift (used for
    /// QQL's number and IP helpers). Safe for any input: the function gets a value, never a pointer.
    public func registerFunction(_ name: String, _ fn: @escaping (SQLValue) -> SQLValue) throws {
        let box = Unmanaged.passRetained(FunctionBox(fn)).toOpaque()
        let rc = sqlite3_create_function_v2(handle, name, 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, box, { ctx, argc, argv in
            guard let ctx, let user = sqlite3_user_data(ctx) else { return }
            let f = Unmanaged<FunctionBox>.fromOpaque(user).takeUnretainedValue()
            let input: SQLValue = argc > 0 ? sqlValue(argv?[0]) : .null
            switch f.fn(input) {
            case .null: sqlite3_result_null(ctx)
            case .integer(let i): sqlite3_result_int64(ctx, i)
            case .real(let d): sqlite3_result_double(ctx, d)
            case .text(let s): sqlite3_result_text(ctx, s, -1, vigil_sqlite_transient())
            case .blob(let b):
                b.withUnsafeBytes { sqlite3_result_blob(ctx, $0.baseAddress, Int32($0.count), vigil_sqlite_transient()) }
            }
        }, nil, nil, { user in
            if let user { Unmanaged<FunctionBox>.fromOpaque(user).release() }
        })
        guard rc == SQLITE_OK else { throw error(.prepare, rc, sql: "function \(name)") }
    }
}

import Foundation

/// A SQLite-shaped value: what a record holds and what a bound parameter carries.
/// Mirroring SQLite's storage classes keeps the evaluator and SQL paths in step.
public enum SQLValue: Sendable, Hashable, CustomStringConvertible {
    case integer(Int64)
    case real(Double)
    case text(String)

    public var description: String {
        switch self {
        case .integer(let i): return String(i)
        case .real(let d): return String(d)
        case .text(let s): return "'" + s + "'"
        }
    }

    /// The text SQLite produces for this value (`CAST(x AS TEXT)`, `lower(x)`).
    var sqliteText: String {
        switch self {
        case .text(let s): return s
        case .integer(let i): return String(i)
        case .real(let d): return sqliteRealText(d)
        }
    }
}

/// SQLite renders REAL with "%!.15g": always a decimal point or exponent.
func sqliteRealText(_ d: Double) -> String {
    if d.isNaN { return "" }
    if d.isInfinite { return d < 0 ? "-Inf" : "Inf" }
    var s = formatG15(d)
    if let e = s.firstIndex(where: { $0 == "e" }) {
        if !s[..<e].contains(".") { s.insert(contentsOf: ".0", at: e) }
    } else if !s.contains(".") {
        s += ".0"
    }
    return s
}

private func formatG15(_ d: Double) -> String {
    // String(format:) without a locale formats in the POSIX locale, like SQLite.
    String(format: "%.15g", d)
}

/// SQL text plus the values bound to its `?` placeholders, in order.
public struct CompiledSQL: Sendable, Equatable {
    public var sql: String
    public var parameters: [SQLValue]

    public init(sql: String, parameters: [SQLValue]) {
        self.sql = sql
        self.parameters = parameters
    }
}

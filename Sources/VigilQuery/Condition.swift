/// A query bound to a catalog: tokens resolved, values typed. Both the SQL
/// compiler and the evaluator consume this one structure, which is what keeps
/// them in agreement.
indirect enum Condition: Sendable {
    case constant(Bool)
    case and([Condition])
    case or([Condition])
    case not(Condition)
    case test(TokenDefinition, Test)
    /// `@name`: resolved per compile/evaluation through the provider.
    case special(TokenDefinition, name: String, position: Int)
    /// A free-text term the catalog's FTS5 index answers in SQL (`match` is the MATCH text).
    /// In-memory evaluation uses `fallback`, the substring tests over the free-text tokens,
    /// so rule conditions keep their meaning (docs/qql.md, "Free text").
    case fullText(match: String, fallback: Condition)
}

/// A time or number operand; relative times resolve against `now` late.
enum Operand: Sendable, Hashable {
    case number(QNumber)
    case relative(Int64)

    func resolve(nowMillis: Int64) -> QNumber {
        switch self {
        case .number(let n): return n
        case .relative(let offset): return .integer(TimeValue.relative(offset).resolve(nowMillis: nowMillis))
        }
    }
}

enum Comparison: String, Sendable {
    case equal = "="
    case greater = ">"
    case greaterOrEqual = ">="
    case less = "<"
    case lessOrEqual = "<="

    func holds(_ c: Int) -> Bool {
        switch self {
        case .equal: return c == 0
        case .greater: return c > 0
        case .greaterOrEqual: return c >= 0
        case .less: return c < 0
        case .lessOrEqual: return c <= 0
        }
    }
}

enum Test: Sendable {
    // Text tests apply to the value's text form (what SQLite's CAST(x AS TEXT) gives).
    /// `instr(lower(x), needle) > 0`; needle already ASCII-lowered.
    case containsFolded(String)
    /// `instr(x, needle) > 0`.
    case contains(String)
    /// `lower(x) IN (…)`; members already ASCII-lowered.
    case equalsFolded(Members)
    /// `x = v`: text values only, case-sensitive.
    case equals(String)
    /// `lower(x) LIKE pattern`.
    case like(WildcardPattern)

    // Numeric tests (number and time tokens).
    case compare(Comparison, Operand)
    case between(Operand, Operand)
    case numberIn([QNumber])

    // IP tests on the 32-hex-digit key.
    case ipCompare(Comparison, String)
    case ipBetween(String, String)
    case ipIn(Members)

    case bool(Bool)
}

/// Values for IN tests: ordered for SQL parameters, hashed for the evaluator.
struct Members: Sendable {
    let list: [String]
    let set: Set<String>
    /// The member when there is exactly one (most rule literals): compared without hashing.
    let single: String?

    init(_ list: [String]) {
        self.list = list
        set = Set(list)
        single = set.count == 1 ? set.first : nil
    }

    func contains(_ s: String) -> Bool {
        if let single { return s == single }
        return set.contains(s)
    }
}

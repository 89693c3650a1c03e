/// A parsed query: a tree of clauses, independent of any catalog.
public struct Query: Sendable, Equatable {
    public var text: String
    /// `nil` for an empty query, which matches every record.
    public var root: QueryNode?

    public init(text: String, root: QueryNode?) {
        self.text = text
        self.root = root
    }
}

public indirect enum QueryNode: Sendable, Equatable {
    case and([QueryNode])
    case or([QueryNode])
    case not(QueryNode)
    case clause(Clause)
    /// A value with no token: searches the catalog's free-text tokens.
    case freeText(ValueLiteral)
}

public enum ClauseOperator: String, Sendable, Equatable {
    case colon = ":"
    case greater = ">"
    case less = "<"
    case greaterOrEqual = ">="
    case lessOrEqual = "<="
    case equal = "="
}

public struct Clause: Sendable, Equatable {
    public var token: String
    public var tokenPosition: Int
    public var op: ClauseOperator
    public var value: ClauseValue

    public init(token: String, tokenPosition: Int, op: ClauseOperator, value: ClauseValue) {
        self.token = token
        self.tokenPosition = tokenPosition
        self.op = op
        self.value = value
    }
}

public enum ClauseValue: Sendable, Equatable {
    case single(ValueLiteral)
    case list([ValueLiteral])
    case range(low: ValueLiteral, high: ValueLiteral, inclusive: Bool)
    case special(name: String, position: Int)
}

public struct ValueLiteral: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Unquoted word; may hold wildcards.
        case bare
        /// "a phrase": literal text, no wildcards.
        case phrase
        /// `exact`: the whole value, case-sensitive.
        case exact
    }

    public var text: String
    public var kind: Kind
    public var position: Int

    public init(_ text: String, kind: Kind, position: Int) {
        self.text = text
        self.kind = kind
        self.position = position
    }

    var hasWildcard: Bool { kind == .bare && text.contains(where: { $0 == "*" || $0 == "?" }) }
}

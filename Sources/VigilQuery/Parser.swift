/// Recursive-descent parser for QQL.
///
///     query   := orExpr?
///     orExpr  := andExpr ("or" andExpr)*
///     andExpr := unary (("and")? unary)*      -- adjacency means and
///     unary   := "not" unary | "(" orExpr ")" | clause | freeText
///     clause  := word op value
///
/// Limits on length, nesting and clause count keep hostile input from
/// overflowing the stack here or SQLite's expression depth later.
public struct QueryParser: Sendable {
    public static let maxLength = 10_000
    public static let maxDepth = 64
    public static let maxClauses = 512

    public init() {}

    public func parse(_ text: String) throws -> Query {
        do {
            var state = ParserState(text)
            let root = try state.parseQuery()
            return Query(text: text, root: root)
        } catch let error as QueryError {
            throw error.with(query: text)
        }
    }
}

private struct ParserState {
    var lexer: Lexer
    var depth = 0
    var clauses = 0

    init(_ text: String) {
        lexer = Lexer(text)
    }

    mutating func parseQuery() throws -> QueryNode? {
        if lexer.chars.count > QueryParser.maxLength {
            throw QueryError(.tooComplex, at: QueryParser.maxLength,
                             "query is longer than \(QueryParser.maxLength) characters")
        }
        if try lexer.peek(.clause).kind == .end { return nil }
        let root = try parseOr()
        let trailing = try lexer.next(.clause)
        guard trailing.kind == .end else {
            if trailing.kind == .rightParen {
                throw QueryError(.syntax, at: trailing.position, "unbalanced ')': no '(' to close")
            }
            throw QueryError(.syntax, at: trailing.position, "expected 'and', 'or' or the end of the query; got \(trailing.describe)")
        }
        return root
    }

    mutating func parseOr() throws -> QueryNode {
        var parts = [try parseAnd()]
        while case .word(let w) = try lexer.peek(.clause).kind, w.lowercased() == "or" {
            _ = try lexer.next(.clause)
            parts.append(try parseAnd(after: "or"))
        }
        return parts.count == 1 ? parts[0] : .or(parts)
    }

    mutating func parseAnd(after keyword: String? = nil) throws -> QueryNode {
        var parts = [try parseUnary(after: keyword)]
        while true {
            let next = try lexer.peek(.clause)
            switch next.kind {
            case .end, .rightParen:
                return parts.count == 1 ? parts[0] : .and(parts)
            case .word(let w) where w.lowercased() == "or":
                return parts.count == 1 ? parts[0] : .and(parts)
            case .word(let w) where w.lowercased() == "and":
                _ = try lexer.next(.clause)
                parts.append(try parseUnary(after: "and"))
            default:
                parts.append(try parseUnary(after: nil))
            }
        }
    }

    mutating func parseUnary(after keyword: String?) throws -> QueryNode {
        let lexeme = try lexer.peek(.clause)
        switch lexeme.kind {
        case .word(let w) where w.lowercased() == "not":
            _ = try lexer.next(.clause)
            return .not(try nested(at: lexeme.position) { try $0.parseUnary(after: "not") })
        case .word(let w) where w.lowercased() == "and" || w.lowercased() == "or":
            throw QueryError(.syntax, at: lexeme.position, "expected a clause before '\(w)'")
        case .leftParen:
            _ = try lexer.next(.clause)
            let inner = try nested(at: lexeme.position) { try $0.parseOr() }
            let close = try lexer.next(.clause)
            guard close.kind == .rightParen else {
                throw QueryError(.syntax, at: close.position, "expected ')' to close the '(' at \(lexeme.position); got \(close.describe)")
            }
            return inner
        case .word, .phrase, .exact:
            return try parseClause()
        case .end:
            let what = keyword.map { "after '\($0)'" } ?? "here"
            throw QueryError(.syntax, at: lexeme.position, "expected a clause \(what), like `token: value`")
        default:
            throw QueryError(.syntax, at: lexeme.position, "expected a clause like `token: value`; got \(lexeme.describe)")
        }
    }

    mutating func nested(at position: Int, _ body: (inout ParserState) throws -> QueryNode) throws -> QueryNode {
        depth += 1
        defer { depth -= 1 }
        if depth > QueryParser.maxDepth {
            throw QueryError(.tooComplex, at: position, "query nests deeper than \(QueryParser.maxDepth) levels")
        }
        return try body(&self)
    }

    mutating func countClause(at position: Int) throws {
        clauses += 1
        if clauses > QueryParser.maxClauses {
            throw QueryError(.tooComplex, at: position, "query has more than \(QueryParser.maxClauses) clauses")
        }
    }

    mutating func parseClause() throws -> QueryNode {
        let first = try lexer.next(.clause)
        try countClause(at: first.position)
        switch first.kind {
        case .phrase(let p):
            return .freeText(ValueLiteral(p, kind: .phrase, position: first.position))
        case .exact(let e):
            return .freeText(ValueLiteral(e, kind: .exact, position: first.position))
        case .word(let word):
            let afterWord = lexer
            let opLexeme = try lexer.next(.clause)
            guard case .op(let op) = opLexeme.kind else {
                lexer = afterWord
                return .freeText(ValueLiteral(word, kind: .bare, position: first.position))
            }
            if word.isEmpty {
                throw QueryError(.syntax, at: first.position, "expected a token name before '\(op.rawValue)'")
            }
            let value = try parseValue(after: op, at: opLexeme.position)
            return .clause(Clause(token: word, tokenPosition: first.position, op: op, value: value))
        default:
            throw QueryError(.syntax, at: first.position, "expected a clause like `token: value`; got \(first.describe)")
        }
    }

    mutating func parseValue(after op: ClauseOperator, at opPosition: Int) throws -> ClauseValue {
        let lexeme = try lexer.next(.value)
        switch lexeme.kind {
        case .leftBracket where op == .colon:
            return try parseBracket(open: lexeme)
        case .leftParen where op == .colon:
            let low = try rangeValue(expecting: "a range start like `(a .. b)`")
            try expect(.dotDot, "'..' in an exclusive range `(a .. b)`")
            let high = try rangeValue(expecting: "a range end like `(a .. b)`")
            try expect(.rightParen, "')' to close the range started at \(lexeme.position)")
            return .range(low: low, high: high, inclusive: false)
        case .word(let w) where w.hasPrefix("@") && op == .colon:
            let name = String(w.dropFirst())
            guard !name.isEmpty else {
                throw QueryError(.syntax, at: lexeme.position, "expected a special object name after '@'")
            }
            return .special(name: name, position: lexeme.position)
        default:
            if let literal = literal(lexeme) { return .single(literal) }
            let hint = op == .colon ? "a value, a list `[a, b]`, a range `[a .. b]` or `@name`" : "a value"
            throw QueryError(.syntax, at: lexeme.position, "expected \(hint) after '\(op.rawValue)'; got \(lexeme.describe)")
        }
    }

    mutating func parseBracket(open: Lexeme) throws -> ClauseValue {
        let first = try rangeValue(expecting: "a value, a list `[a, b]` or a range `[a .. b]`")
        let next = try lexer.next(.rangeValue)
        switch next.kind {
        case .dotDot:
            let high = try rangeValue(expecting: "a range end like `[a .. b]`")
            try expect(.rightBracket, "']' to close the range started at \(open.position)")
            return .range(low: first, high: high, inclusive: true)
        case .comma, .rightBracket:
            var items = [first]
            var separator = next
            while separator.kind == .comma {
                items.append(try rangeValue(expecting: "a list item after ','"))
                separator = try lexer.next(.rangeValue)
            }
            guard separator.kind == .rightBracket else {
                throw QueryError(.syntax, at: separator.position, "expected ',' or ']' in the list started at \(open.position); got \(separator.describe)")
            }
            return .list(items)
        default:
            throw QueryError(.syntax, at: next.position, "expected ',', '..' or ']' after a value in '['; got \(next.describe)")
        }
    }

    mutating func rangeValue(expecting: String) throws -> ValueLiteral {
        let lexeme = try lexer.next(.rangeValue)
        if let literal = literal(lexeme) { return literal }
        throw QueryError(.syntax, at: lexeme.position, "expected \(expecting); got \(lexeme.describe)")
    }

    mutating func expect(_ kind: Lexeme.Kind, _ what: String) throws {
        let lexeme = try lexer.next(.rangeValue)
        guard lexeme.kind == kind else {
            throw QueryError(.syntax, at: lexeme.position, "expected \(what); got \(lexeme.describe)")
        }
    }

    func literal(_ lexeme: Lexeme) -> ValueLiteral? {
        switch lexeme.kind {
        case .word(let w) where !w.isEmpty: return ValueLiteral(w, kind: .bare, position: lexeme.position)
        case .phrase(let p): return ValueLiteral(p, kind: .phrase, position: lexeme.position)
        case .exact(let e): return ValueLiteral(e, kind: .exact, position: lexeme.position)
        default: return nil
        }
    }
}

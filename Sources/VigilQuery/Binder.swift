/// Turns a parsed query into a `Condition` over one catalog: resolves tokens,
/// checks each value against its token's type, and fixes the meaning of `:`.
struct Binder: Sendable {
    let catalog: TokenCatalog

    func bind(_ query: Query) throws -> Condition {
        do {
            guard let root = query.root else { return .constant(true) }
            return try bind(root)
        } catch let error as QueryError {
            throw error.with(query: query.text)
        }
    }

    private func bind(_ node: QueryNode) throws -> Condition {
        switch node {
        case .and(let parts): return .and(try parts.map(bind))
        case .or(let parts): return .or(try parts.map(bind))
        case .not(let inner): return .not(try bind(inner))
        case .freeText(let literal): return try freeText(literal)
        case .clause(let clause): return try bind(clause)
        }
    }

    private func freeText(_ literal: ValueLiteral) throws -> Condition {
        let test: Test
        switch literal.kind {
        case .exact: test = .contains(literal.text)
        case .phrase: test = .containsFolded(TextMatch.asciiLowercased(literal.text))
        case .bare:
            test = literal.hasWildcard
                ? .like(WildcardPattern(word: literal.text, anywhere: true))
                : .containsFolded(TextMatch.asciiLowercased(literal.text))
        }
        let tokens = catalog.freeTextDefinitions
        guard !tokens.isEmpty else {
            throw QueryError(.unsupported, at: literal.position,
                             "the \(catalog.list) list has no free-text search; use `token: value` with one of: \(catalog.listedTokens.prefix(12).map(\.name).joined(separator: ", "))")
        }
        let scan = Condition.or(tokens.map { .test($0, test) })
        if catalog.fullText != nil, let match = FullTextMatch.expression(literal) {
            return .fullText(match: match, fallback: scan)
        }
        return scan
    }

    private func resolveToken(_ clause: Clause) throws -> TokenDefinition {
        if let token = catalog.token(named: clause.token) { return token }
        let near = catalog.nearest(to: clause.token)
        let listed = catalog.listedTokens.map(\.name)
        let hint = near.isEmpty
            ? "tokens of \(catalog.list): " + listed.prefix(12).joined(separator: ", ") + (listed.count > 12 ? ", … (\(listed.count) in all)" : "")
            : "did you mean " + near.joined(separator: ", ") + "?"
        throw QueryError(.unknownToken, at: clause.tokenPosition,
                         "unknown token '\(clause.token)' for \(catalog.list); \(hint)", suggestions: near)
    }

    private func bind(_ clause: Clause) throws -> Condition {
        let token = try resolveToken(clause)
        switch clause.value {
        case .special(let name, let position):
            if token.type == .time || token.type == .bool {
                throw QueryError(.typeMismatch, at: position,
                                 "\(token.name) takes \(article(token.type)); special objects apply to text, keyword, number and ip tokens")
            }
            return .special(token, name: name, position: position)
        case .list(let items):
            let parts = try items.map { try single(token, .colon, $0) }
            return simplifyList(parts)
        case .range(let low, let high, let inclusive):
            return try range(token, low, high, inclusive: inclusive)
        case .single(let literal):
            return try single(token, clause.op, literal)
        }
    }

    /// Collapses keyword equality lists into one IN test.
    private func simplifyList(_ parts: [Condition]) -> Condition {
        var folded: [String] = []
        var token: TokenDefinition?
        for part in parts {
            guard case .test(let t, .equalsFolded(let values)) = part, token == nil || token == t else {
                return .or(parts)
            }
            token = t
            folded += values.list
        }
        if let token { return .test(token, .equalsFolded(Members(folded))) }
        return .or(parts)
    }

    private func single(_ token: TokenDefinition, _ op: ClauseOperator, _ literal: ValueLiteral) throws -> Condition {
        switch token.type {
        case .text, .keyword:
            switch op {
            case .colon:
                if literal.kind == .exact { return .test(token, .equals(literal.text)) }
                if literal.hasWildcard { return .test(token, .like(WildcardPattern(word: literal.text, anywhere: false))) }
                let lowered = TextMatch.asciiLowercased(literal.text)
                return .test(token, token.type == .text ? .containsFolded(lowered) : .equalsFolded(Members([lowered])))
            case .equal:
                return .test(token, .equals(literal.text))
            default:
                throw QueryError(.typeMismatch, at: literal.position,
                                 "'\(op.rawValue)' compares numbers, times and ips; \(token.name) takes \(article(token.type)) (use ':' or '=')")
            }
        case .number, .time:
            try noWildcard(token, literal)
            let operand = try numericOperand(token, literal)
            let comparison = try comparisonFor(op)
            if token.type == .time, case .absolute(let start, day: true) = try timeValue(token, literal) {
                return dayCondition(token, comparison, start)
            }
            return .test(token, .compare(comparison, operand))
        case .ip:
            if op == .colon, literal.hasWildcard {
                return .test(token, .like(WildcardPattern(word: literal.text, anywhere: false)))
            }
            if op == .colon, literal.text.contains("/") {
                guard let block = CIDRBlock(literal.text) else {
                    throw mismatch(token, literal, hint: " (a CIDR block looks like 10.0.0.0/8 or 2001:db8::/32)")
                }
                return .test(token, .ipBetween(block.low.key, block.high.key))
            }
            let key = try ipKey(token, literal)
            return .test(token, .ipCompare(try comparisonFor(op), key))
        case .bool:
            guard op == .colon || op == .equal else {
                throw QueryError(.typeMismatch, at: literal.position,
                                 "'\(op.rawValue)' compares numbers, times and ips; \(token.name) takes true or false")
            }
            switch TextMatch.asciiLowercased(literal.text) {
            case "true", "yes", "1": return .test(token, .bool(true))
            case "false", "no", "0": return .test(token, .bool(false))
            default: throw mismatch(token, literal, hint: " (true or false)")
            }
        }
    }

    /// A bare date means its whole UTC day, so `>` and `<=` move to the day's end.
    private func dayCondition(_ token: TokenDefinition, _ comparison: Comparison, _ start: Int64) -> Condition {
        let end = start + TimeValue.millisPerDay
        let s = Operand.number(.integer(start)), e = Operand.number(.integer(end))
        switch comparison {
        case .equal: return .and([.test(token, .compare(.greaterOrEqual, s)), .test(token, .compare(.less, e))])
        case .greater: return .test(token, .compare(.greaterOrEqual, e))
        case .greaterOrEqual: return .test(token, .compare(.greaterOrEqual, s))
        case .less: return .test(token, .compare(.less, s))
        case .lessOrEqual: return .test(token, .compare(.less, e))
        }
    }

    private func range(_ token: TokenDefinition, _ low: ValueLiteral, _ high: ValueLiteral, inclusive: Bool) throws -> Condition {
        switch token.type {
        case .number, .time:
            try noWildcard(token, low)
            try noWildcard(token, high)
            var lowOperand = try numericOperand(token, low), highOperand = try numericOperand(token, high)
            var lowCmp: Comparison = inclusive ? .greaterOrEqual : .greater
            var highCmp: Comparison = inclusive ? .lessOrEqual : .less
            // Whole days: an inclusive end covers its day, an exclusive start skips its day.
            if token.type == .time {
                if case .absolute(let start, day: true) = try timeValue(token, high), inclusive {
                    highOperand = .number(.integer(start + TimeValue.millisPerDay)); highCmp = .less
                }
                if case .absolute(let start, day: true) = try timeValue(token, low), !inclusive {
                    lowOperand = .number(.integer(start + TimeValue.millisPerDay)); lowCmp = .greaterOrEqual
                }
            }
            if lowCmp == .greaterOrEqual, highCmp == .lessOrEqual {
                return .test(token, .between(lowOperand, highOperand))
            }
            return .and([.test(token, .compare(lowCmp, lowOperand)), .test(token, .compare(highCmp, highOperand))])
        case .ip:
            let lowKey = try ipKey(token, low), highKey = try ipKey(token, high)
            if inclusive { return .test(token, .ipBetween(lowKey, highKey)) }
            return .and([.test(token, .ipCompare(.greater, lowKey)), .test(token, .ipCompare(.less, highKey))])
        case .text, .keyword, .bool:
            throw QueryError(.typeMismatch, at: low.position,
                             "ranges apply to number, time and ip tokens; \(token.name) takes \(article(token.type))")
        }
    }

    private func comparisonFor(_ op: ClauseOperator) throws -> Comparison {
        switch op {
        case .colon, .equal: return .equal
        case .greater: return .greater
        case .greaterOrEqual: return .greaterOrEqual
        case .less: return .less
        case .lessOrEqual: return .lessOrEqual
        }
    }

    private func noWildcard(_ token: TokenDefinition, _ literal: ValueLiteral) throws {
        if literal.hasWildcard {
            throw QueryError(.typeMismatch, at: literal.position,
                             "wildcards apply to text, keyword and ip tokens; \(token.name) takes \(article(token.type)); got '\(literal.text)'")
        }
    }

    private func timeValue(_ token: TokenDefinition, _ literal: ValueLiteral) throws -> TimeValue {
        guard let value = TimeValue.parse(literal.text) else {
            throw mismatch(token, literal, hint: " (like 2026-03-01, 2026-03-01T10:00:00Z or now-24h)")
        }
        return value
    }

    private func numericOperand(_ token: TokenDefinition, _ literal: ValueLiteral) throws -> Operand {
        if token.type == .time {
            switch try timeValue(token, literal) {
            case .absolute(let ms, _): return .number(.integer(ms))
            case .relative(let offset): return .relative(offset)
            }
        }
        guard let number = QNumber.parse(literal.text) else { throw mismatch(token, literal, hint: "") }
        return .number(number)
    }

    private func ipKey(_ token: TokenDefinition, _ literal: ValueLiteral) throws -> String {
        guard let address = IPAddress(literal.text) else {
            throw mismatch(token, literal, hint: " (IPv4 like 10.1.2.3 or IPv6 like 2001:db8::1)")
        }
        return address.key
    }

    private func mismatch(_ token: TokenDefinition, _ literal: ValueLiteral, hint: String) -> QueryError {
        QueryError(.typeMismatch, at: literal.position,
                   "\(token.name) takes \(article(token.type))\(hint); got '\(literal.text)'")
    }
}

func article(_ type: TokenType) -> String {
    switch type {
    case .text: return "text"
    case .keyword: return "a keyword"
    case .number: return "a number"
    case .time: return "a time"
    case .ip: return "an ip address"
    case .bool: return "true or false"
    }
}

/// Resolves `@name` into plain tests with the members the provider returns now.
enum SpecialObjectResolver {
    static func resolve(_ token: TokenDefinition, name: String, position: Int,
                        provider: any SpecialObjectProvider) throws -> Condition {
        guard let members = provider.values(named: name) else {
            throw QueryError(.unknownSpecialObject, at: position, "unknown special object '@\(name)'; check the name in the configuration")
        }
        return try resolve(token, name: name, position: position, members: members)
    }

    static func resolve(_ token: TokenDefinition, name: String, position: Int, members: [String]) throws -> Condition {
        if members.isEmpty { return .constant(false) }
        switch token.type {
        case .text, .keyword:
            return .test(token, .equalsFolded(Members(members.map(TextMatch.asciiLowercased))))
        case .number:
            var numbers: [QNumber] = []
            for member in members {
                guard let n = QNumber.parse(member) else { throw invalid(name, member, "a number", position) }
                numbers.append(n)
            }
            return .test(token, .numberIn(numbers))
        case .ip:
            var keys: [String] = []
            var blocks: [Condition] = []
            for member in members {
                if member.contains("/") {
                    guard let block = CIDRBlock(member) else { throw invalid(name, member, "an ip or CIDR block", position) }
                    blocks.append(.test(token, .ipBetween(block.low.key, block.high.key)))
                } else {
                    guard let address = IPAddress(member) else { throw invalid(name, member, "an ip or CIDR block", position) }
                    keys.append(address.key)
                }
            }
            if !keys.isEmpty { blocks.append(.test(token, .ipIn(Members(keys)))) }
            return blocks.count == 1 ? blocks[0] : .or(blocks)
        case .time, .bool:
            throw QueryError(.typeMismatch, at: position, "special objects do not apply to \(token.name), which takes \(article(token.type))")
        }
    }

    private static func invalid(_ name: String, _ member: String, _ expected: String, _ position: Int) -> QueryError {
        QueryError(.invalidSpecialObject, at: position, "special object '@\(name)' has member '\(member)', which is not \(expected)")
    }
}

import VigilRules
import VigilYAML

/// Sigma's condition grammar: `or` < `and` < `not`, parentheses, `1 of X*`, `all of X*`,
/// `1 of them`, `all of them` (selections starting with `_` are not part of `them`).
struct SigmaConditionParser {
    enum Token: Equatable { case word(String), open, close, pipe }
    let text: String
    let mark: YAMLMark
    let selections: [(String, Predicate)]
    private var tokens: [Token] = []
    private var i = 0

    init(text: String, mark: YAMLMark, selections: [(String, Predicate)]) {
        self.text = text; self.mark = mark; self.selections = selections
    }

    mutating func parse() throws -> Predicate {
        tokens = Self.lex(text)
        if tokens.contains(.pipe) { throw SigmaError(.aggregation, "condition aggregation '| …' (\(text))", at: mark) }
        guard !tokens.isEmpty else { throw SigmaError(.badCondition, "empty condition", at: mark) }
        let p = try orExpr()
        guard i == tokens.count else { throw SigmaError(.badCondition, "unexpected '\(describe(tokens[i]))' in condition '\(text)'", at: mark) }
        return p
    }

    static func lex(_ s: String) -> [Token] {
        var out: [Token] = [], word = ""
        func flush() { if !word.isEmpty { out.append(.word(word)); word = "" } }
        for ch in s {
            switch ch {
            case "(": flush(); out.append(.open)
            case ")": flush(); out.append(.close)
            case "|": flush(); out.append(.pipe)
            case " ", "\t", "\n", "\r": flush()
            default: word.append(ch)
            }
        }
        flush()
        return out
    }

    private func describe(_ t: Token) -> String {
        switch t { case .word(let w): return w; case .open: return "("; case .close: return ")"; case .pipe: return "|" }
    }
    private func peekWord() -> String? { if i < tokens.count, case .word(let w) = tokens[i] { return w.lowercased() }; return nil }

    private mutating func orExpr() throws -> Predicate {
        var parts = [try andExpr()]
        while peekWord() == "or" { i += 1; parts.append(try andExpr()) }
        return parts.count == 1 ? parts[0] : .or(parts)
    }

    private mutating func andExpr() throws -> Predicate {
        var parts = [try notExpr()]
        while peekWord() == "and" { i += 1; parts.append(try notExpr()) }
        return parts.count == 1 ? parts[0] : .and(parts)
    }

    private mutating func notExpr() throws -> Predicate {
        if peekWord() == "not" { i += 1; return .not(try notExpr()) }
        return try atom()
    }

    private mutating func atom() throws -> Predicate {
        guard i < tokens.count else { throw SigmaError(.badCondition, "condition '\(text)' ends early", at: mark) }
        switch tokens[i] {
        case .open:
            i += 1
            let p = try orExpr()
            guard i < tokens.count, tokens[i] == .close else { throw SigmaError(.badCondition, "missing ')' in condition '\(text)'", at: mark) }
            i += 1
            return p
        case .close, .pipe: throw SigmaError(.badCondition, "unexpected '\(describe(tokens[i]))' in condition '\(text)'", at: mark)
        case .word(let w):
            i += 1
            let lw = w.lowercased()
            if lw == "1" || lw == "all" || lw == "any" {
                guard peekWord() == "of", i + 1 < tokens.count, case .word(let target) = tokens[i + 1] else {
                    if lw == "all" || lw == "any" || lw == "1" { throw SigmaError(.badCondition, "'\(w)' must be followed by 'of NAME*' or 'of them' in '\(text)'", at: mark) }
                    return try named(w)
                }
                i += 2
                let chosen: [Predicate]
                if target.lowercased() == "them" {
                    chosen = selections.filter { !$0.0.hasPrefix("_") }.map(\.1)
                } else {
                    let pattern = SigmaString(target)
                    chosen = selections.filter { Self.nameMatches($0.0, pattern) }.map(\.1)
                }
                guard !chosen.isEmpty else { throw SigmaError(.badCondition, "'\(w) of \(target)' matches no selection", at: mark) }
                if chosen.count == 1 { return chosen[0] }
                return lw == "all" ? .and(chosen) : .or(chosen)
            }
            if let n = Int(lw), n > 1, peekWord() == "of" {
                throw SigmaError(.badCondition, "'\(n) of' (only '1 of' and 'all of' exist)", at: mark)
            }
            if ["and", "or", "of"].contains(lw) { throw SigmaError(.badCondition, "unexpected '\(w)' in condition '\(text)'", at: mark) }
            return try named(w)
        }
    }

    private func named(_ w: String) throws -> Predicate {
        guard let p = selections.first(where: { $0.0 == w })?.1 else {
            throw SigmaError(.badCondition, "condition names '\(w)', which is not a selection", at: mark)
        }
        return p
    }

    /// Selection-name wildcards, case-sensitive as Sigma names are.
    static func nameMatches(_ name: String, _ p: SigmaString) -> Bool {
        guard let plain = p.plain else {
            let bytes = Array(p.glob.utf8)
            return Array(name.utf8).withUnsafeBufferPointer { PredicateGlob.matches($0, bytes) }
        }
        return name == plain
    }
}

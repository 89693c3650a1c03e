import VigilRules
import VigilYAML

/// `detection:` → one Predicate: each named selection becomes a predicate, the condition
/// combines them. Field names pass through the logsource's aliases.
struct SigmaDetection {
    var selections: [(String, Predicate)] = []
    var condition: Predicate

    init(_ node: YAMLNode, aliases: LogsourceMapping.Resolved) throws {
        guard case .mapping(let pairs, _) = node else { throw SigmaError(.invalidRule, "detection must be a map, found \(node.kindName)", at: node.mark) }
        var conditions: [(String, YAMLMark)] = []
        var selections: [(String, Predicate)] = []
        for p in pairs {
            switch p.key {
            case "condition":
                switch p.value {
                case .scalar(let s): conditions = [(s.text, s.mark)]
                case .sequence(let xs, _):
                    conditions = try xs.map {
                        guard case .scalar(let s) = $0 else { throw SigmaError(.badCondition, "condition list items must be text", at: $0.mark) }
                        return (s.text, s.mark)
                    }
                default: throw SigmaError(.badCondition, "condition must be text or a list of text", at: p.value.mark)
                }
            case "timeframe": continue
            default: selections.append((p.key, try Self.selection(p.value, aliases: aliases)))
            }
        }
        guard !conditions.isEmpty else { throw SigmaError(.invalidRule, "detection has no condition", at: node.mark) }
        let parsed = try conditions.map { c -> Predicate in
            var parser = SigmaConditionParser(text: c.0, mark: c.1, selections: selections)
            return try parser.parse()
        }
        self.selections = selections
        condition = parsed.count == 1 ? parsed[0] : .or(parsed)
    }

    static func selection(_ node: YAMLNode, aliases: LogsourceMapping.Resolved) throws -> Predicate {
        switch node {
        case .mapping(let pairs, let mark):
            guard !pairs.isEmpty else { throw SigmaError(.unsupportedValue, "empty selection map", at: mark) }
            let tests = try pairs.map { try fieldTest($0, aliases: aliases) }
            return tests.count == 1 ? tests[0] : .and(tests)
        case .sequence(let items, let mark):
            guard !items.isEmpty else { throw SigmaError(.unsupportedValue, "empty selection list", at: mark) }
            if items.allSatisfy({ if case .mapping = $0 { return true }; return false }) {
                let ps = try items.map { try selection($0, aliases: aliases) }
                return ps.count == 1 ? ps[0] : .or(ps)
            }
            guard items.allSatisfy({ if case .scalar = $0 { return true }; return false }) else {
                throw SigmaError(.unsupportedValue, "a selection list mixing maps and keywords", at: mark)
            }
            return .keywords(try items.flatMap { try keywordMatchers(SigmaValue($0), at: $0.mark) })
        case .scalar(let s):
            return .keywords(try keywordMatchers(SigmaValue(node), at: s.mark))
        }
    }

    static func keywordMatchers(_ v: SigmaValue, at mark: YAMLMark) throws -> [Matcher] {
        guard v != .null else { throw SigmaError(.unsupportedValue, "null keyword", at: mark) }
        let s: SigmaString
        if case .string(let t, _) = v { s = SigmaString(t) } else { s = SigmaString(text: v.text) }
        return [ModifierChain.matcher(.contains, s)]
    }

    static func fieldTest(_ p: YAMLPair, aliases: LogsourceMapping.Resolved) throws -> Predicate {
        let parts = p.key.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        let field = parts[0]
        let chain = try ModifierChain(Array(parts.dropFirst()), at: p.keyMark)
        let values: [YAMLNode]
        switch p.value {
        case .sequence(let xs, let mark):
            guard !xs.isEmpty else { throw SigmaError(.unsupportedValue, "empty value list for \(p.key)", at: mark) }
            values = xs
        case .mapping(_, let mark): throw SigmaError(.unsupportedValue, "a map as the value of \(p.key)", at: mark)
        case .scalar: values = [p.value]
        }
        // Under |all each value is one conjunct; the alternatives a transform makes for one value stay an OR.
        let perValue = try values.map { try chain.matchers(SigmaValue($0), at: $0.mark) }
        if field.isEmpty {
            let ks = perValue.map { Predicate.keywords($0) }
            return chain.all ? (ks.count == 1 ? ks[0] : .and(ks)) : .keywords(perValue.flatMap { $0 })
        }
        let names = [field] + aliases.aliases(of: field)
        if chain.all && values.count > 1 {
            if perValue.allSatisfy({ $0.count == 1 }) {
                return .test(FieldTest(fields: names, matchers: perValue.map { $0[0] }, all: true, cased: chain.cased))
            }
            return .and(perValue.map { .test(FieldTest(fields: names, matchers: $0, cased: chain.cased)) })
        }
        return .test(FieldTest(fields: names, matchers: perValue.flatMap { $0 }, cased: chain.cased))
    }
}

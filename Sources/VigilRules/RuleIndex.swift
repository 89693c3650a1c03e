import VigilEvents
import VigilQuery
import VigilWire

/// A literal a condition cannot match without: `token: value` (or a list of values) on a
/// keyword token, required by the condition's top-level AND. Checked before evaluating,
/// and used to index rules so an event only meets rules that could match it.
public struct Requirement: Sendable, Equatable {
    public let token: TokenDefinition
    /// ASCII-lowercased: keyword `:` ignores ASCII case, so equal keys ⇔ QQL equality.
    public let values: Set<String>

    /// Which required literal to index on when a condition has several: the most selective kinds first.
    static func rank(_ name: String) -> Int {
        switch name.lowercased() {
        case "event.code": return 0
        case "event.action": return 1
        case "event.category": return 3
        case "event.outcome": return 4
        case "event.format": return 5
        default: return 2
        }
    }

    /// The best requirement of a parsed condition, or nil when its top level does not force one
    /// (an OR, a NOT, wildcards, special objects, non-keyword tokens…): such rules are always evaluated.
    public static func of(_ query: Query, catalog: TokenCatalog = EventCatalog.catalog) -> Requirement? {
        guard let root = query.root else { return nil }
        let conjuncts: [QueryNode]
        if case .and(let parts) = root { conjuncts = parts } else { conjuncts = [root] }
        var best: Requirement?
        for node in conjuncts {
            guard case .clause(let c) = node, c.op == .colon || c.op == .equal,
                  let token = catalog.token(named: c.token), token.type == .keyword else { continue }
            let literals: [ValueLiteral]
            switch c.value {
            case .single(let v): literals = [v]
            case .list(let vs): literals = vs
            default: continue
            }
            guard !literals.isEmpty, !literals.contains(where: { $0.kind == .bare && $0.text.contains(where: { $0 == "*" || $0 == "?" }) }) else { continue }
            let r = Requirement(token: token, values: Set(literals.map { asciiLower($0.text) }))
            if best == nil || rank(token.name) < rank(best!.token.name) { best = r }
        }
        return best
    }

    func holds(_ record: EventRecord) -> Bool {
        guard let v = Self.key(record, token) else { return false }
        return values.contains(v)
    }

    static func key(_ record: EventRecord, _ token: TokenDefinition) -> String? {
        switch record.value(for: token) {
        case .text(let s)?: return asciiLower(s)
        case .integer(let i)?: return String(i)
        case .real(let d)?: return String(d)
        case nil: return nil
        }
    }
}

func asciiLower(_ s: String) -> String {
    guard s.utf8.contains(where: { $0 >= 65 && $0 <= 90 }) else { return s }
    return String(decoding: s.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
}

/// Rules bucketed by log source, then by one required literal per condition. Per event the
/// cost is a few dictionary lookups plus the rules that could match, not the rule count.
struct RuleIndex {
    struct Bucket {
        var always: [Int] = []
        /// token name → (token, value → rule slots)
        var byToken: [String: (TokenDefinition, [String: [Int]])] = [:]
    }
    private var buckets: [String: Bucket] = [:]
    static let anyFormat = "\u{0}any"

    init(_ rules: [CompiledRule?]) {
        for (slot, r) in rules.enumerated() {
            guard let r, r.active else { continue }
            let formats = r.rule.logSources.isEmpty ? [Self.anyFormat] : r.rule.logSources
            for f in formats {
                var b = buckets[f] ?? Bucket()
                if r.requirements.contains(where: { $0 == nil }) {
                    b.always.append(slot)
                } else {
                    for req in r.requirements.compactMap({ $0 }) {
                        let name = req.token.name
                        var entry = b.byToken[name] ?? (req.token, [:])
                        for v in req.values where entry.1[v]?.last != slot { entry.1[v, default: []].append(slot) }
                        b.byToken[name] = entry
                    }
                }
                buckets[f] = b
            }
        }
    }

    /// Slots of rules that could match, each at most once (`seen` is a per-call scratch stamp array).
    /// Whether any rule could apply to this event's log source (before scanning it).
    func hasRules(for e: Event) -> Bool { buckets[asciiLower(e.format)] != nil || buckets[Self.anyFormat] != nil }

    /// Lists into `out` the candidates that pass `gate` (the literal prefilter, already run on
    /// this event); returns how many candidates there were before it.
    @discardableResult
    func candidates(_ e: Event, _ record: EventRecord, stamp: Int, seen: inout [Int], gate: LiteralPrefilter.Gate, into out: inout [Int]) -> Int {
        out.removeAll(keepingCapacity: true)
        var total = 0
        // Two lookups without building an array of the two names (this runs per event).
        if let b = buckets[asciiLower(e.format)] { total += Self.add(b, record, stamp, gate, &seen, &out) }
        if let b = buckets[Self.anyFormat] { total += Self.add(b, record, stamp, gate, &seen, &out) }
        return total
    }

    private static func add(_ b: Bucket, _ record: EventRecord, _ stamp: Int, _ gate: LiteralPrefilter.Gate, _ seen: inout [Int], _ out: inout [Int]) -> Int {
        seen.withUnsafeMutableBufferPointer { seen in
            var total = 0
            for s in b.always where seen[s] != stamp { seen[s] = stamp; total += 1; if gate.passes(s) { out.append(s) } }
            for (_, (token, map)) in b.byToken {
                guard let k = Requirement.key(record, token), let slots = map[k] else { continue }
                for s in slots where seen[s] != stamp { seen[s] = stamp; total += 1; if gate.passes(s) { out.append(s) } }
            }
            return total
        }
    }
}

extension Requirement {
    /// The index literal of a predicate: Windows `EventID` (as `event.code`) or `Channel` equality
    /// forced by the top-level AND, or by every branch of an OR on the same field.
    public static func of(_ p: Predicate, catalog: TokenCatalog = EventCatalog.catalog) -> Requirement? {
        switch p {
        case .test(let t):
            guard t.fields.count == 1, !t.all || t.matchers.count == 1, t.matchers.allSatisfy({ $0.op == .equals }),
                  !t.matchers.contains(where: { $0.value.contains(where: { $0 == "*" || $0 == "?" }) }) else { return nil }
            let tokenName: String
            switch t.fields[0] {
            case "EventID": tokenName = "event.code"
            case "Channel": tokenName = "Channel"
            default: return nil
            }
            guard let token = catalog.token(named: tokenName) else { return nil }
            return Requirement(token: token, values: Set(t.matchers.map { asciiLower($0.value) }))
        case .and(let ps):
            var best: Requirement?
            for x in ps { if let r = of(x, catalog: catalog), best == nil || rank(r.token.name) < rank(best!.token.name) { best = r } }
            return best
        case .or(let ps):
            var union: Requirement?
            for x in ps {
                guard let r = of(x, catalog: catalog) else { return nil }
                if let u = union {
                    guard u.token.name == r.token.name else { return nil }
                    union = Requirement(token: u.token, values: u.values.union(r.values))
                } else { union = r }
            }
            return union
        default: return nil
        }
    }
}

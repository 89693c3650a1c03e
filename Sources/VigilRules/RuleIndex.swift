import VigilEvents
import VigilQuery
import VigilWire

/// A literal a condition cannot match without: `token: value` (or a list of values) on a
/// keyword token or a JSON-stored number token, required by the condition's top-level AND.
/// Checked before evaluating, and used to index rules so an event only meets rules that could
/// match it.
public struct Requirement: Sendable, Equatable {
    public let token: TokenDefinition
    /// Keys, equal ⇔ QQL equality: a keyword's value ASCII-lowercased (keyword `:` ignores ASCII
    /// case), a number's `numberKey`.
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
    /// (an OR, a NOT, wildcards, ranges, special objects, text or address tokens…): such rules are
    /// always evaluated.
    public static func of(_ query: Query, catalog: TokenCatalog = EventCatalog.catalog) -> Requirement? {
        guard let root = query.root else { return nil }
        let conjuncts: [QueryNode]
        if case .and(let parts) = root { conjuncts = parts } else { conjuncts = [root] }
        var best: Requirement?
        for node in conjuncts {
            guard case .clause(let c) = node, c.op == .colon || c.op == .equal,
                  let token = catalog.token(named: c.token), token.type == .keyword || isNumeric(token) else { continue }
            let literals: [ValueLiteral]
            switch c.value {
            case .single(let v): literals = [v]
            case .list(let vs): literals = vs
            default: continue
            }
            guard !literals.isEmpty, !literals.contains(where: { $0.kind == .bare && $0.text.contains(where: { $0 == "*" || $0 == "?" }) }) else { continue }
            let values: [String]
            if isNumeric(token) {
                // `port: 443` is numeric equality (443.0 and 4.43e2 too): keyed by the number.
                let numbers = literals.compactMap { QNumber.parse($0.text) }
                guard numbers.count == literals.count else { continue }
                values = numbers.map(numberKey)
            } else {
                values = literals.map { asciiLower($0.text) }
            }
            let r = Requirement(token: token, values: Set(values))
            if best == nil || rank(token.name) < rank(best!.token.name) { best = r }
        }
        return best
    }

    /// A number token stored in a JSON column: its values are text that QQL compares as numbers
    /// (`qql_num`), so the index keys both the rule's literal and the event's value by the number.
    static func isNumeric(_ token: TokenDefinition) -> Bool {
        guard token.type == .number, case .json = token.storage else { return false }
        return true
    }

    /// One key per number, equal keys ⇔ `QNumber.compare` equal: integral reals as their integer.
    static func numberKey(_ n: QNumber) -> String {
        switch n {
        case .integer(let i): return String(i)
        case .real(let d):
            if d == d.rounded(.down), d >= -9223372036854775808.0, d < 9223372036854775808.0 { return String(Int64(d)) }
            return "r" + String(d)
        }
    }

    static func key(_ record: EventRecord, _ token: TokenDefinition) -> String? {
        record.value(for: token).flatMap { key($0, token) }
    }

    /// The index key of an event's value of `token`; nil when a number token's value is not a number.
    static func key(_ value: SQLValue, _ token: TokenDefinition) -> String? {
        if isNumeric(token) { return QQLFunctions.number(value).map(numberKey) }
        switch value {
        case .text(let s): return asciiLower(s)
        case .integer(let i): return String(i)
        case .real(let d): return String(d)
        }
    }
}

/// A condition's `Requirement` as `CompiledRule.matches` checks it per candidate event. A class,
/// so reading it copies no token definition or set; it reads the field through the event's
/// memo, so the hundreds of rules that require `event.category` look it up and lower it once.
final class RequiredLiteral {
    let token: TokenDefinition
    let slot: Int
    let values: Set<String>
    /// The value when there is one: compared without hashing.
    let single: String?

    init(_ r: Requirement) {
        token = r.token
        slot = Int(FieldSlots.slot(r.token.storage))
        values = r.values
        single = r.values.count == 1 ? r.values.first : nil
        numeric = Requirement.isNumeric(r.token)
    }
    let numeric: Bool

    func holds(_ record: EventRecord) -> Bool {
        let key: String
        if let memo = record.memo {
            guard let v = memo.value(slot, { record.value(for: token) }) else { return false }
            if numeric {
                // Parsed once per event however many rules require this number token.
                guard let n = memo.number(slot, v, jsonStored: true) else { return false }
                key = Requirement.numberKey(n)
            } else if case .text = v { key = memo.lowered(slot, v) } else {
                guard let k = Requirement.key(v, token) else { return false }
                key = k
            }
        } else {
            guard let k = Requirement.key(record, token) else { return false }
            key = k
        }
        if let single { return key == single }
        return values.contains(key)
    }
}

func asciiLower(_ s: String) -> String {
    guard s.utf8.contains(where: { $0 >= 65 && $0 <= 90 }) else { return s }
    return String(decoding: s.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
}

/// Rules bucketed by log source, then by one required literal per condition. Per event the
/// cost is a few dictionary lookups plus the rules that could match, not the rule count.
///
/// Each bucket list (a log source's rules without an index literal, or those keyed by one
/// token value) keeps only its *unguarded* rules as a list; a guarded rule (one the literal
/// prefilter can rule out: docs/rules.md, Engine) is reached from the prefilter's hits instead
/// and kept if one of the lists it belongs to applies to the event. So an event costs its
/// unguarded rules plus the rules its literals hit, not the ~1,000 rules of a busy EventID.
final class RuleIndex {
    struct Bucket {
        var always: Int32 = -1
        /// token name → (token, value → list id)
        var byToken: [String: (TokenDefinition, [String: Int32])] = [:]
        /// `byToken` as an array of objects, walked per event (no dictionary iteration or token copies).
        var tokens: [TokenLists] = []
    }
    final class TokenLists {
        let token: TokenDefinition
        let lists: [String: Int32]
        /// The last value looked up as it came in the event, and its list: a stream repeats a few
        /// channel names and event ids, so most events skip lowering and the hashed lookup.
        var lastRaw: String?
        var lastList: Int32?
        /// `Requirement.isNumeric(token)`: values are keyed by number.
        let numeric: Bool
        init(_ token: TokenDefinition, _ lists: [String: Int32]) {
            self.token = token; self.lists = lists; numeric = Requirement.isNumeric(token)
        }
    }
    private var buckets: [String: Bucket] = [:]
    static let anyFormat = "\u{0}any"

    /// List id → its unguarded slots: unguardedSlots[listStart[l]..<listStart[l + 1]].
    private let listStart: UnsafeMutablePointer<Int32>
    private let unguardedSlots: UnsafeMutablePointer<Int32>
    /// Guarded slot → the lists it belongs to: memberLists[memberStart[s]..<memberStart[s + 1]].
    private let memberStart: UnsafeMutablePointer<Int32>
    private let memberLists: UnsafeMutablePointer<Int32>
    /// List id → stamp of the last event it applied to.
    private let listStamp: UnsafeMutablePointer<Int>
    private let listCount: Int

    /// `guarded`: whether the prefilter reports this slot among its hits when (and only when) its guard passed.
    init(_ rules: [CompiledRule?], guarded: (Int) -> Bool = { _ in false }) {
        var lists: [[Int32]] = []
        var members = [[Int32]](repeating: [], count: rules.count)
        func add(_ list: inout Int32, _ slot: Int) {
            if list < 0 { list = Int32(lists.count); lists.append([]) }
            if guarded(slot) {
                if members[slot].last != list { members[slot].append(list) }
            } else if lists[Int(list)].last != Int32(slot) { lists[Int(list)].append(Int32(slot)) }
        }
        for (slot, r) in rules.enumerated() {
            guard let r, r.active else { continue }
            let formats = r.rule.logSources.isEmpty ? [Self.anyFormat] : r.rule.logSources
            for f in formats {
                var b = buckets[f] ?? Bucket()
                if r.requirements.contains(where: { $0 == nil }) {
                    add(&b.always, slot)
                } else {
                    for req in r.requirements.compactMap({ $0 }) {
                        let name = req.token.name
                        var entry = b.byToken[name] ?? (req.token, [:])
                        for v in req.values {
                            var l = entry.1[v] ?? -1
                            add(&l, slot)
                            entry.1[v] = l
                        }
                        b.byToken[name] = entry
                    }
                }
                buckets[f] = b
            }
        }
        for (f, b) in buckets {
            buckets[f]!.tokens = b.byToken.sorted { $0.key < $1.key }.map { TokenLists($0.value.0, $0.value.1) }
        }
        func raw<T>(_ a: [T]) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: max(a.count, 1))
            p.initialize(from: a, count: a.count)
            return p
        }
        var starts: [Int32] = [0]
        for l in lists { starts.append(starts.last! + Int32(l.count)) }
        listStart = raw(starts)
        unguardedSlots = raw(lists.flatMap { $0 })
        var mStarts: [Int32] = [0]
        for m in members { mStarts.append(mStarts.last! + Int32(m.count)) }
        memberStart = raw(mStarts)
        memberLists = raw(members.flatMap { $0 })
        listCount = lists.count
        listStamp = raw([Int](repeating: 0, count: lists.count))
    }

    deinit {
        listStart.deallocate(); unguardedSlots.deallocate(); memberStart.deallocate(); memberLists.deallocate(); listStamp.deallocate()
    }

    /// Whether any rule could apply to this event's log source (before scanning it).
    func hasRules(for e: Event) -> Bool { bucketsFor(e.format); return lastBucket != nil || anyBucket != nil }

    /// The event's log-source bucket, looked up once per run of events of the same format (a
    /// stream repeats one or a few), and the any-format bucket.
    private func bucketsFor(_ format: String) {
        guard !lookedUp || format != lastFormat else { return }
        lastFormat = format
        lastBucket = buckets[asciiLower(format)]
        anyBucket = buckets[Self.anyFormat]
        lookedUp = true
    }
    private var lookedUp = false
    private var lastFormat = ""
    private var lastBucket: Bucket?
    private var anyBucket: Bucket?

    /// Lists into `out`, in slot order, the rules to evaluate: the unguarded rules of the lists
    /// that apply to this event, and those of `hits` (guarded rules whose guard passed, each
    /// once) that belong to one of them. `seen` is a per-slot stamp scratch array. Returns how
    /// many rules were visited (unguarded ones plus hits).
    @discardableResult
    func candidates(_ e: Event, _ record: EventRecord, stamp: Int, seen: inout [Int], hits: UnsafeBufferPointer<Int32>, into out: inout [Int]) -> Int {
        out.removeAll(keepingCapacity: true)
        var total = 0
        // Two lookups without building an array of the two names (this runs per event).
        bucketsFor(e.format)
        if let b = lastBucket { total += add(b, record, stamp, &seen, &out) }
        if let b = anyBucket { total += add(b, record, stamp, &seen, &out) }
        for s in hits {
            let slot = Int(s)
            var k = Int(memberStart[slot])
            let end = Int(memberStart[slot + 1])
            while k < end {
                if listStamp[Int(memberLists[k])] == stamp { out.append(slot); break }
                k += 1
            }
        }
        total += hits.count
        // Slot order: the order rules were added, whatever the order of hits and lists.
        if out.count > 1 { out.sort() }
        return total
    }

    private func add(_ b: Bucket, _ record: EventRecord, _ stamp: Int, _ seen: inout [Int], _ out: inout [Int]) -> Int {
        var total = 0
        if b.always >= 0 { total += list(b.always, stamp, &seen, &out) }
        for t in b.tokens {
            let l: Int32?
            if case .text(let raw)? = record.value(for: t.token) {
                if let last = t.lastRaw, last == raw { l = t.lastList } else {
                    l = (t.numeric ? Requirement.key(.text(raw), t.token) : asciiLower(raw)).flatMap { t.lists[$0] }
                    t.lastRaw = raw; t.lastList = l
                }
            } else {
                l = Requirement.key(record, t.token).flatMap { t.lists[$0] }
            }
            guard let l else { continue }
            total += list(l, stamp, &seen, &out)
        }
        return total
    }

    @inline(__always) private func list(_ l: Int32, _ stamp: Int, _ seen: inout [Int], _ out: inout [Int]) -> Int {
        listStamp[Int(l)] = stamp
        var total = 0
        seen.withUnsafeMutableBufferPointer { seen in
            var k = Int(listStart[Int(l)])
            let end = Int(listStart[Int(l) + 1])
            while k < end {
                let s = Int(unguardedSlots[k])
                if seen[s] != stamp { seen[s] = stamp; total += 1; out.append(s) }
                k += 1
            }
        }
        return total
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

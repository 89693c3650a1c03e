import VigilWire

/// A necessary condition per predicate rule — "one of these literals occurs in that field" —
/// checked for all rules at once: each field's value is scanned once by an Aho–Corasick
/// automaton of every rule's literals for that field, and only rules with a hit are evaluated.
/// Rules without such a guard (regexes, NOTs at the top, keywords…) are always evaluated.
final class LiteralPrefilter {
    struct Atom: Hashable { var fields: [String]; var needle: [UInt8] }

    private struct FieldScanner {
        var fields: [String]
        var automaton: AhoCorasick
        /// Needle id → slots guarded by it.
        var slots: [[Int]]
    }
    private var scanners: [FieldScanner] = []
    /// Slot → has a guard (rules without one are always candidates).
    private(set) var guarded: [Bool]
    private var passed: [Int]

    init(_ rules: [CompiledRule?]) {
        guarded = Array(repeating: false, count: rules.count)
        passed = Array(repeating: 0, count: rules.count)
        var byField: [[String]: [[UInt8]: [Int]]] = [:]
        for (slot, r) in rules.enumerated() {
            guard let r, r.active, case .match = r.rule.detection, r.conditions.count == 1,
                  case .predicate(let p) = r.conditions[0], let atoms = Self.guardAtoms(p.predicate) else { continue }
            guarded[slot] = true
            for a in atoms { byField[a.fields, default: [:]][a.needle, default: []].append(slot) }
        }
        for (fields, needles) in byField.sorted(by: { $0.key.joined(separator: "|") < $1.key.joined(separator: "|") }) {
            let list = Array(needles)
            scanners.append(FieldScanner(fields: fields, automaton: AhoCorasick(list.map(\.key)), slots: list.map(\.value)))
        }
    }

    /// Marks the guarded rules whose literals occur in this event; `passes` answers for one slot.
    func scan(_ e: Event, stamp: Int) {
        for s in scanners {
            var value: String?
            for f in s.fields { if let v = e.original[f] ?? e.fields[f] { value = v; break } }
            guard let v = value else { continue }
            s.automaton.scan(v) { id in for slot in s.slots[id] { passed[slot] = stamp } }
        }
    }

    @inline(__always) func passes(_ slot: Int, stamp: Int) -> Bool { !guarded[slot] || passed[slot] == stamp }

    // MARK: guards

    /// Literals at least one of which must occur for the predicate to hold, or nil when there is no such set.
    static func guardAtoms(_ p: Predicate) -> Set<Atom>? {
        switch p {
        case .and(let ps):
            var best: Set<Atom>?
            for x in ps { if let g = guardAtoms(x), best == nil || score(g) < score(best!) { best = g } }
            return best
        case .or(let ps):
            var all = Set<Atom>()
            for x in ps { guard let g = guardAtoms(x) else { return nil }; all.formUnion(g) }
            return all
        case .test(let t):
            // The index already uses EventID/Channel; a literal every event of the source has would not filter.
            if t.fields.contains(where: { $0 == "EventID" || $0 == "Channel" }) { return nil }
            var needles: [[UInt8]] = []
            for m in t.matchers {
                guard let n = needle(m), n.count >= 2 else { if t.all { continue } else { return nil } }
                needles.append(n)
            }
            if needles.isEmpty { return nil }
            if t.all, let longest = needles.max(by: { $0.count < $1.count }) { return [Atom(fields: t.fields, needle: longest)] }
            return Set(needles.map { Atom(fields: t.fields, needle: $0) })
        default: return nil
        }
    }

    static func score(_ g: Set<Atom>) -> Int { g.count + (g.contains { $0.needle.count < 4 } ? 1000 : 0) }

    /// The folded literal a matcher's value must contain.
    static func needle(_ m: Matcher) -> [UInt8]? {
        switch m.op {
        case .equals, .contains, .startswith, .endswith: return m.value.isEmpty ? nil : Array(m.value.utf8).map(PredicateEvaluator.fold)
        case .glob:
            // The longest literal run between wildcards.
            var best: [UInt8] = [], cur: [UInt8] = []
            let b = Array(m.value.utf8)
            var i = 0
            while i < b.count {
                let c = b[i]
                if c == 0x5C, i + 1 < b.count, [0x2A, 0x3F, 0x5C].contains(b[i + 1]) { cur.append(PredicateEvaluator.fold(b[i + 1])); i += 2; continue }
                if c == 0x2A || c == 0x3F { if cur.count > best.count { best = cur }; cur = [] } else { cur.append(PredicateEvaluator.fold(c)) }
                i += 1
            }
            if cur.count > best.count { best = cur }
            return best.isEmpty ? nil : best
        default: return nil
        }
    }
}

/// Aho–Corasick over ASCII-folded bytes: dense root, sorted sparse transitions elsewhere.
struct AhoCorasick {
    private var trans: [[(UInt8, Int32)]] = [[]]
    private var fail: [Int32] = [0]
    /// Needle ids ending exactly here, and the nearest failure-chain state that has some.
    private var out: [[Int32]] = [[]]
    private var outLink: [Int32] = [-1]
    private var root = [Int32](repeating: 0, count: 256)

    init(_ needles: [[UInt8]]) {
        var children: [[UInt8: Int32]] = [[:]]
        for (id, n) in needles.enumerated() {
            var s: Int32 = 0
            for c in n {
                if let nx = children[Int(s)][c] { s = nx; continue }
                let nx = Int32(children.count)
                children.append([:]); out.append([]); fail.append(0); outLink.append(-1)
                children[Int(s)][c] = nx
                s = nx
            }
            out[Int(s)].append(Int32(id))
        }
        trans = children.map { $0.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
        for c in 0..<256 { root[c] = children[0][UInt8(c)] ?? 0 }
        // Breadth-first failure links.
        var queue: [Int32] = children[0].values.map { $0 }
        var qi = 0
        while qi < queue.count {
            let s = queue[qi]; qi += 1
            for (c, nx) in trans[Int(s)] {
                var f = fail[Int(s)]
                while f != 0 && Self.step(trans[Int(f)], c) == nil { f = fail[Int(f)] }
                let target = f == 0 ? root[Int(c)] : (Self.step(trans[Int(f)], c) ?? 0)
                fail[Int(nx)] = target == nx ? 0 : target
                let ft = Int(fail[Int(nx)])
                outLink[Int(nx)] = out[ft].isEmpty ? outLink[ft] : Int32(ft)
                queue.append(nx)
            }
        }
    }

    @inline(__always) static func step(_ t: [(UInt8, Int32)], _ c: UInt8) -> Int32? {
        for (k, v) in t { if k == c { return v }; if k > c { return nil } }
        return nil
    }

    func scan(_ s: String, _ hit: (Int) -> Void) {
        var st: Int32 = 0
        let body: (UnsafeBufferPointer<UInt8>) -> Void = { buf in
            for raw in buf {
                let c = PredicateEvaluator.fold(raw)
                while true {
                    if st == 0 { st = root[Int(c)]; break }
                    if let nx = Self.step(trans[Int(st)], c) { st = nx; break }
                    st = fail[Int(st)]
                }
                if st != 0 {
                    for id in out[Int(st)] { hit(Int(id)) }
                    var l = outLink[Int(st)]
                    while l > 0 { for id in out[Int(l)] { hit(Int(id)) }; l = outLink[Int(l)] }
                }
            }
        }
        if s.utf8.withContiguousStorageIfAvailable(body) == nil { Array(s.utf8).withUnsafeBufferPointer(body) }
    }
}

import VigilWire

/// A necessary condition per predicate rule — "one of these literals occurs in that field" —
/// checked for all rules at once: each field's value is scanned once by an Aho–Corasick
/// automaton of every rule's literals for that field, and only rules with a hit are evaluated.
/// Rules without such a guard (regexes, NOTs at the top, keywords…) are always evaluated.
final class LiteralPrefilter {
    struct Atom: Hashable { var fields: [String]; var needle: [UInt8] }

    /// One field list's needles: guard atoms (→ rule slots) and literal tests (→ ids in `results`),
    /// flattened so a hit costs no retain: needle i's guard uses are slotUses[needle[i].slots…],
    /// its literal tests litUses[needle[i].lits…]. Each record keeps together what a hit reads
    /// (one cache line instead of one per array: the scan's cost is mostly memory waits).
    private final class FieldScanner {
        struct Needle { var slotStart: Int32, slotEnd: Int32, litStart: Int32, litEnd: Int32, length: Int32 }
        struct SlotUse { var slot: Int32; var bit: UInt16 }
        struct LitUse { var id: Int32; var op: LiteralKey.Op }
        /// The field list, as FieldTable ids (the first present one is scanned).
        let ids: [Int32]
        let automaton: AhoCorasick
        let needle: UnsafeMutablePointer<Needle>
        let slotUses: UnsafeMutablePointer<SlotUse>
        let litUses: UnsafeMutablePointer<LitUse>
        init(ids: [Int32], needles: [([UInt8], Use)]) {
            self.ids = ids
            automaton = AhoCorasick(needles.map(\.0))
            var ns: [Needle] = [], su: [SlotUse] = [], lu: [LitUse] = []
            for (bytes, u) in needles {
                var n = Needle(slotStart: Int32(su.count), slotEnd: 0, litStart: Int32(lu.count), litEnd: 0, length: Int32(bytes.count))
                su += u.slots.map { SlotUse(slot: Int32($0.0), bit: 1 << $0.1) }
                lu += u.literals.map { LitUse(id: $0.0, op: $0.1) }
                n.slotEnd = Int32(su.count); n.litEnd = Int32(lu.count)
                ns.append(n)
            }
            func raw<T>(_ a: [T]) -> UnsafeMutablePointer<T> {
                let p = UnsafeMutablePointer<T>.allocate(capacity: max(a.count, 1))
                p.initialize(from: a, count: a.count)
                return p
            }
            needle = raw(ns); slotUses = raw(su); litUses = raw(lu)
        }
        deinit { needle.deallocate(); slotUses.deallocate(); litUses.deallocate() }
    }
    /// A needle's uses: (guarded slot, clause index of that rule's guard) and literal tests.
    struct Use { var slots: [(Int, Int)] = []; var literals: [(Int32, LiteralKey.Op)] = [] }
    /// Guard clauses kept per rule (each a literal set one of which must occur); the most selective ones.
    static let maxClauses = 8
    private var scanners: [FieldScanner] = []
    /// `scanners` without reference counting, for the per-event walk (the array keeps them alive,
    /// and it does not change after init).
    private let scannerRefs: UnsafeMutablePointer<Unmanaged<FieldScanner>>
    /// Field id → scanners that read it (as their first name or an alias):
    /// entries[entryStart[id]..<entryStart[id + 1]]; an entry is a scanner index, negated (-1 - i)
    /// when the scanner's field list is not just this name (so it must be resolved per event).
    private var entryStart: UnsafeMutablePointer<Int32>
    private var entries: UnsafeMutablePointer<Int32>
    /// The field names scanners and bound tests read, and the current event's values by id.
    let fields: FieldTable
    /// Per slot, in one record: whether it has a guard (rules without one are always candidates),
    /// the stamp of the last event whose scan found one of its guard literals, and which of its
    /// clauses were found then (`have`, one bit per clause; the guard passes when it equals `need`).
    private struct SlotState { var passed = 0; var have: UInt16 = 0; var need: UInt16 = 0; var guarded = false }
    private let slotState: UnsafeMutablePointer<SlotState>
    private let slotCount: Int
    /// The guarded slots whose guard passed on the last scanned event, each once, in hit order:
    /// the index keeps those of the event's buckets (instead of walking every bucket member).
    private let hitSlots: UnsafeMutablePointer<Int32>
    private var hitCount = 0
    /// Every literal test of every active predicate rule, decided by the scan (see BoundPredicate).
    let results: LiteralResults
    private(set) var literalCount = 0
    /// Scanners made by merging field lists with the same first name (tests check it happens).
    private(set) var mergedScanners = 0

    init(_ rules: [CompiledRule?]) {
        slotCount = rules.count
        slotState = .allocate(capacity: max(rules.count, 1))
        slotState.initialize(repeating: SlotState(), count: max(rules.count, 1))
        hitSlots = .allocate(capacity: max(rules.count, 1))
        var byField: [[String]: [[UInt8]: Use]] = [:]
        for (slot, r) in rules.enumerated() {
            guard let r, r.active, case .match = r.rule.detection, r.conditions.count == 1,
                  case .predicate(let p) = r.conditions[0], let clauses = Self.guardClauses(p.predicate) else { continue }
            slotState[slot].guarded = true
            let kept = clauses.enumerated().sorted { (Self.score($0.element), $0.offset) < (Self.score($1.element), $1.offset) }.prefix(Self.maxClauses)
            for (c, (_, atoms)) in kept.enumerated() {
                slotState[slot].need |= 1 << c
                for a in atoms { byField[a.fields, default: [:]][a.needle, default: Use()].slots.append((slot, c)) }
            }
        }
        // Literal tests, shared across rules: each distinct (fields, op, needle) gets one id.
        var ids: [LiteralKey: Int32] = [:]
        var keys: [LiteralKey] = []
        for r in rules {
            guard let r else { continue }
            for case .predicate(let p) in r.conditions {
                guard r.active else { p.bound = nil; continue }
                keys.removeAll(keepingCapacity: true)
                BoundPredicate.literalKeys(p.root, into: &keys)
                for k in keys where ids[k] == nil {
                    let id = Int32(ids.count)
                    ids[k] = id
                    byField[k.fields, default: [:]][k.needle, default: Use()].literals.append((id, k.op))
                }
            }
        }
        literalCount = ids.count
        results = LiteralResults(literals: ids.count)
        // Every field name a scanner or a bound test reads gets an id.
        var names: [String] = [], nameIds: [String: Int32] = [:]
        func intern(_ f: String) -> Int32 {
            if let i = nameIds[f] { return i }
            nameIds[f] = Int32(names.count); names.append(f)
            return Int32(names.count - 1)
        }
        let sortedFields = byField.sorted(by: { $0.key.joined(separator: "|") < $1.key.joined(separator: "|") })
        for (fs, _) in sortedFields { for f in fs { _ = intern(f) } }
        for r in rules {
            guard let r, r.active else { continue }
            for case .predicate(let p) in r.conditions { for f in BoundPredicate.testFields(p.root) { _ = intern(f) } }
        }
        fields = FieldTable(names)
        for r in rules {
            guard let r, r.active else { continue }
            for case .predicate(let p) in r.conditions { p.bound = BoundPredicate(p.root, results: results, fields: fields, fieldId: intern) { ids[$0] } }
        }
        var lists = [[Int32]](repeating: [], count: names.count)
        // Field lists that start with the same name (Image; Image|NewProcessName) all run on that
        // name's value whenever it is present: there one automaton of all their needles scans the
        // value once. A list's other names keep its own scanner (when the first name is absent).
        var byFirst: [String: [Int]] = [:]
        for (k, (fs, _)) in sortedFields.enumerated() { byFirst[fs[0], default: []].append(k) }
        var made: [FieldScanner] = [], mergedCount = 0
        func add(_ fs: [String], _ needles: [[UInt8]: Use]) -> Int32 {
            let scanner = FieldScanner(ids: fs.map(intern), needles: needles.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map { ($0.key, $0.value) })
            made.append(scanner)
            return Int32(made.count - 1)
        }
        for (fs, needles) in sortedFields {
            let merged = byFirst[fs[0]]!.count > 1
            if merged && fs.count == 1 { continue }
            let i = add(fs, needles)
            for (k, f) in fs.enumerated() where !(merged && k == 0) { lists[Int(intern(f))].append(fs == [f] ? i : -1 - i) }
        }
        for (f, group) in byFirst.sorted(by: { $0.key < $1.key }) where group.count > 1 {
            var union: [[UInt8]: Use] = [:]
            for k in group {
                for (n, u) in sortedFields[k].value { union[n, default: Use()].slots += u.slots; union[n, default: Use()].literals += u.literals }
            }
            lists[Int(intern(f))].append(add([f], union))
            mergedCount += 1
        }
        scanners = made
        mergedScanners = mergedCount
        var starts: [Int32] = [0]
        for l in lists { starts.append(starts.last! + Int32(l.count)) }
        entryStart = .allocate(capacity: starts.count); entryStart.initialize(from: starts, count: starts.count)
        let flat = lists.flatMap { $0 }
        scannerRefs = .allocate(capacity: max(scanners.count, 1))
        scannerRefs.initialize(from: scanners.map { Unmanaged.passUnretained($0) }, count: scanners.count)
        entries = .allocate(capacity: max(flat.count, 1)); entries.initialize(from: flat, count: flat.count)
    }

    deinit { slotState.deallocate(); hitSlots.deallocate(); entryStart.deallocate(); entries.deallocate(); scannerRefs.deallocate() }

    func isGuarded(_ slot: Int) -> Bool { slot < slotCount && slotState[slot].guarded }

    /// The guarded rules whose guard passed on the last `scan` (valid until the next one).
    var passedSlots: UnsafeBufferPointer<Int32> { UnsafeBufferPointer(start: hitSlots, count: hitCount) }

    /// Marks the guarded rules whose literals occur in this event and decides every literal test;
    /// `passes` answers for one slot, bound predicates read `results`.
    /// Walks the event's own fields (tens) rather than every scanner (hundreds): a scanner runs
    /// on the value its field list resolves to — the first of its names present, vendor fields first.
    func scan(_ e: Event, stamp: Int) {
        results.words[0] = stamp
        fields.load(e, stamp: stamp)
        var count = 0
        // The scratch hit buffer as a local for the whole scan (a stored property is checked for
        // exclusive access on every use).
        var hits = self.hits
        defer { self.hits = hits }
        for i in 0..<fields.presentCount {
            let id = fields.present(i)
            var k = Int(entryStart[Int(id)])
            let end = Int(entryStart[Int(id) + 1])
            while k < end {
                let entry = entries[k]
                k += 1
                scannerRefs[Int(entry < 0 ? -1 - entry : entry)]._withUnsafeGuaranteedRef { s in
                    if entry < 0 {
                        // Resolves to this name only when no earlier name of the list is present.
                        var resolved: Int32 = -1
                        for f in s.ids where fields.has(f) { resolved = f; break }
                        guard resolved == id else { return }
                    }
                    fields.withBytes(id) { run(s, $0, stamp, &count, &hits) }
                }
            }
        }
        hitCount = count
    }

    @inline(__always) private func run(_ s: FieldScanner, _ buf: UnsafeBufferPointer<UInt8>, _ stamp: Int, _ count: inout Int, _ hits: inout HitBuffer) {
        hits.count = 0
        s.automaton.scan(buf, into: &hits)
        let length = Int32(buf.count)
        let hitIds = hits.ids, hitEnds = hits.ends
        var k = 0
        while k < hits.count {
            let n = s.needle[Int(hitIds[k])]
            var j = Int(n.slotStart)
            while j < Int(n.slotEnd) {
                let use = s.slotUses[j]
                let st = slotState + Int(use.slot)
                if st.pointee.passed != stamp { st.pointee.passed = stamp; st.pointee.have = 0 }
                let was = st.pointee.have
                // Listed once, when its last clause is found.
                if was & use.bit == 0 { st.pointee.have = was | use.bit; if was | use.bit == st.pointee.need { hitSlots[count] = use.slot; count += 1 } }
                j += 1
            }
            // The needle ends at `end` (inclusive); where it starts decides the anchored ops.
            let end = hitEnds[k], len = n.length
            j = Int(n.litStart)
            while j < Int(n.litEnd) {
                let lit = s.litUses[j]
                let holds: Bool
                switch lit.op {
                case .contains: holds = true
                case .startswith: holds = end + 1 == len
                case .endswith: holds = end + 1 == length
                case .equals: holds = end + 1 == length && len == length
                }
                if holds { results.set(lit.id) }
                j += 1
            }
            k += 1
        }
    }
    private var hits = HitBuffer()

    // MARK: guards

    /// Literal sets, from each of which one literal must occur for the predicate to hold (a
    /// conjunction of disjunctions); nil when there is none. The engine evaluates a rule only
    /// when every kept clause was found by the scan.
    static func guardClauses(_ p: Predicate) -> [Set<Atom>]? {
        switch p {
        case .and(let ps):
            var all: [Set<Atom>] = []
            for x in ps { if let cs = guardClauses(x) { for c in cs where !all.contains(c) { all.append(c) } } }
            return all.isEmpty ? nil : all
        case .test(let t) where t.all:
            // Every matcher holds: each one's literal is a clause of its own.
            guard !t.fields.contains(where: { $0 == "EventID" || $0 == "Channel" }) else { return nil }
            var out: [Set<Atom>] = []
            for m in t.matchers { if let n = needle(m), n.count >= 2, !out.contains([Atom(fields: t.fields, needle: n)]) { out.append([Atom(fields: t.fields, needle: n)]) } }
            return out.isEmpty ? nil : out
        default:
            return guardAtoms(p).map { [$0] }
        }
    }

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
        // A number also equals other spellings of it ("03" = "3"): no literal is necessary.
        case .equals where PredicateEvaluator.numericValue(m.value) != nil: return nil
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
        case .regex: return RegexLiteral.required(m.value)
        default: return nil
        }
    }
}

/// A literal (ASCII-folded, at least 3 bytes) every match of a regex contains, found conservatively:
/// the longest run of plain characters at the top level, none made optional by a quantifier;
/// nil when the pattern has a top-level `|` or no such run.
enum RegexLiteral {
    /// `minimum`: the shortest literal worth returning (the prefilter wants 3 bytes or more).
    static func required(_ pattern: String, minimum: Int = 3) -> [UInt8]? {
        var best: [UInt8] = []
        for r in runs(pattern) ?? [] where r.count > best.count { best = r }
        return best.count >= max(minimum, 1) ? best : nil
    }

    /// Every such run, in pattern order: a match holds them all, one after another without
    /// overlap (the top level is a concatenation). The evaluator checks that before ICU runs —
    /// a byte search is far cheaper than bridging to NSString and matching. nil as for `required`.
    static func runs(_ pattern: String) -> [[UInt8]]? {
        if pattern.contains("(?x") || pattern.contains("(?-") { return nil }
        let b = Array(pattern.utf8)
        var found: [[UInt8]] = [], cur: [UInt8] = []
        func cut() { if !cur.isEmpty { found.append(cur) }; cur = [] }
        var i = 0
        while i < b.count {
            let c = b[i]
            switch c {
            case UInt8(ascii: "|"): return nil
            case UInt8(ascii: "("), UInt8(ascii: "["):
                cut()
                // Skip the group or class (nested groups, escapes, classes inside groups).
                var depth = 0, inClass = false
                while i < b.count {
                    let x = b[i]
                    if x == UInt8(ascii: "\\") { i += 2; continue }
                    if inClass { if x == UInt8(ascii: "]") { inClass = false; if depth == 0 { break } } }
                    else if x == UInt8(ascii: "[") { inClass = true }
                    else if x == UInt8(ascii: "(") { depth += 1 }
                    else if x == UInt8(ascii: ")") { depth -= 1; if depth == 0 { break } }
                    i += 1
                }
                i += 1
                continue
            case UInt8(ascii: "*"), UInt8(ascii: "?"), UInt8(ascii: "{"):
                if !cur.isEmpty { cur.removeLast() }
                cut()
                if c == UInt8(ascii: "{") { while i < b.count && b[i] != UInt8(ascii: "}") { i += 1 } }
            case UInt8(ascii: "+"): cut()
            case UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "$"), UInt8(ascii: ")"): cut()
            case UInt8(ascii: "\\"):
                guard i + 1 < b.count else { cut(); break }
                let n = b[i + 1]
                let isLetterOrDigit = (n >= 48 && n <= 57) || (n >= 65 && n <= 90) || (n >= 97 && n <= 122)
                if isLetterOrDigit { cut() } else { cur.append(n) }
                i += 1
            default:
                if c >= 0x80 { cut() } else { cur.append(PredicateEvaluator.fold(c)) }
            }
            i += 1
        }
        cut()
        return found
    }
}

/// A run of at least `count` consecutive bytes from a set that every match of a regex contains:
/// from a top-level `[class]{n,…}` (or `\\d`, `\\w`, `\\s` with a count), n ≥ 8 — a hex or base64
/// blob, say. Checked over the value's bytes before the regex runs. Conservative: any byte ≥ 0x80
/// counts as a member (a non-ASCII character may belong to \\w), inline flags such as `(?i)` or a
/// top-level `|` give nil.
///
/// Also a pair: a top-level character followed by a small class (`\\.[ "']`): one of those
/// byte pairs must occur. Either part may be absent (count 0, pairFirst nil).
struct RegexRun {
    var member: [Bool] = []
    var count = 0
    var pairFirst: UInt8?
    var pairNext: [Bool] = []
    var pairSize = Int.max

    static let minimum = 8

    func occurs(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        if count > 0 {
            var run = 0, found = false
            for c in b {
                if member[Int(c)] { run += 1; if run >= count { found = true; break } } else { run = 0 }
            }
            if !found { return false }
        }
        if let f = pairFirst {
            guard b.count >= 2 else { return false }
            var i = 0
            while i + 1 < b.count {
                if b[i] == f && pairNext[Int(b[i + 1])] { return true }
                i += 1
            }
            return false
        }
        return true
    }

    static func required(_ pattern: String) -> RegexRun? {
        let b = Array(pattern.utf8)
        // Inline flags ((?i) widens classes), quoting (\\Q…\\E is not syntax): no answer.
        if pattern.replacingOccurrences(of: "(?:", with: "").contains("(?") || pattern.contains("\\Q") { return nil }
        var best = RegexRun()
        var i = 0
        var prevSingle: UInt8?
        func result() -> RegexRun? { best.count > 0 || best.pairFirst != nil ? best : nil }
        func set(_ escape: UInt8) -> [Bool]? {
            var m = [Bool](repeating: false, count: 256)
            for x in 0x80..<256 { m[x] = true }
            switch escape {
            case UInt8(ascii: "d"): for x in UInt8(ascii: "0")...UInt8(ascii: "9") { m[Int(x)] = true }
            case UInt8(ascii: "w"):
                for x in UInt8(ascii: "0")...UInt8(ascii: "9") { m[Int(x)] = true }
                for x in UInt8(ascii: "a")...UInt8(ascii: "z") { m[Int(x)] = true; m[Int(x) - 32] = true }
                m[Int(UInt8(ascii: "_"))] = true
            case UInt8(ascii: "s"): for x in [9, 10, 11, 12, 13, 32] { m[x] = true }
            default: return nil
            }
            return m
        }
        while i < b.count {
            let c = b[i]
            var item: [Bool]?
            var single: UInt8?
            switch c {
            case UInt8(ascii: "|"): return nil
            case UInt8(ascii: "("):
                // Skip the group (as RegexLiteral does); its quantifier, if any, is skipped below.
                var depth = 0, inClass = false
                while i < b.count {
                    let x = b[i]
                    if x == UInt8(ascii: "\\") { i += 2; continue }
                    if inClass {
                        // A nested set ([a[b]]) would end the class elsewhere: give up rather than misread.
                        if x == UInt8(ascii: "[") { return nil }
                        if x == UInt8(ascii: "]") { inClass = false }
                    }
                    else if x == UInt8(ascii: "[") { inClass = true }
                    else if x == UInt8(ascii: "(") { depth += 1 }
                    else if x == UInt8(ascii: ")") { depth -= 1; if depth == 0 { break } }
                    i += 1
                }
                i += 1
            case UInt8(ascii: "["):
                // A simple class: ASCII characters, ranges, escaped punctuation, \\d \\w \\s. Anything else: no item.
                var m = [Bool](repeating: false, count: 256)
                for x in 0x80..<256 { m[x] = true }
                var j = i + 1, ok = true
                if j < b.count && b[j] == UInt8(ascii: "^") { ok = false }
                var prev: UInt8?
                if j < b.count && b[j] == UInt8(ascii: "]") { return nil }
                while j < b.count && b[j] != UInt8(ascii: "]") {
                    var x = b[j]
                    if x == UInt8(ascii: "[") { ok = false; break }
                    if x == UInt8(ascii: "\\") {
                        guard j + 1 < b.count else { ok = false; break }
                        let e = b[j + 1]
                        if let s = set(e) { for k in 0..<256 where s[k] { m[k] = true }; prev = nil; j += 2; continue }
                        let isAlnum = (e >= 48 && e <= 57) || (e >= 65 && e <= 90) || (e >= 97 && e <= 122)
                        if isAlnum || e >= 0x80 { ok = false; break }
                        x = e; j += 1
                    } else if x == UInt8(ascii: "-"), let p = prev, j + 1 < b.count, b[j + 1] != UInt8(ascii: "]") {
                        var hi = b[j + 1]
                        if hi == UInt8(ascii: "\\") { guard j + 2 < b.count else { ok = false; break }; hi = b[j + 2]; j += 1 }
                        if hi < p || hi >= 0x80 { ok = false; break }
                        for k in p...hi { m[Int(k)] = true }
                        prev = nil; j += 2; continue
                    }
                    if x >= 0x80 { ok = false; break }
                    m[Int(x)] = true
                    prev = x
                    j += 1
                }
                // Any class this reader does not fully understand ends the search: reading on from
                // its middle could take class text for top-level syntax.
                if j >= b.count || !ok { return nil }
                i = j + 1
                item = m
            case UInt8(ascii: "\\"):
                guard i + 1 < b.count else { return result() }
                let e = b[i + 1]
                item = set(e)
                let isAlnum = (e >= 48 && e <= 57) || (e >= 65 && e <= 90) || (e >= 97 && e <= 122)
                if !isAlnum && e < 0x80 { single = e }
                i += 2
            default:
                if c < 0x80 && !Array(".^$*+?{})]".utf8).contains(c) { single = c }
                i += 1
            }
            // The quantifier after the item (or after a skipped group / plain character).
            var atLeast = 1
            if i < b.count {
                switch b[i] {
                case UInt8(ascii: "*"), UInt8(ascii: "?"): atLeast = 0; i += 1
                case UInt8(ascii: "+"): i += 1
                case UInt8(ascii: "{"):
                    var j = i + 1, n = 0, digits = 0
                    while j < b.count, b[j] >= 48, b[j] <= 57 { n = n * 10 + Int(b[j] - 48); j += 1; digits += 1 }
                    if digits > 0, j < b.count, b[j] == UInt8(ascii: ",") || b[j] == UInt8(ascii: "}") {
                        atLeast = n
                        while j < b.count && b[j] != UInt8(ascii: "}") { j += 1 }
                        i = j + 1
                    }
                default: break
                }
                // Lazy or possessive suffix.
                if i < b.count && (b[i] == UInt8(ascii: "?") || b[i] == UInt8(ascii: "+")) { i += 1 }
            }
            if let m = item, atLeast >= minimum, atLeast > best.count { best.member = m; best.count = atLeast }
            // A character (at least once) right before a small class (at least once): the last of
            // the one is followed by a member of the other.
            if let m = item, atLeast >= 1, let p = prevSingle {
                let size = (0..<128).filter { m[$0] }.count
                if size <= 4 && size < best.pairSize { best.pairFirst = p; best.pairNext = m; best.pairSize = size }
            }
            prevSingle = atLeast >= 1 ? single : nil
        }
        return result()
    }
}

/// Aho–Corasick over ASCII-folded bytes: a dense row for the root and for every state with many
/// edges, the other states' edges in one flat sorted array. Stored in raw memory allocated once,
/// so a scan neither allocates nor retains.
final class AhoCorasick {
    /// One state's data in one 16-byte record, so a transition touches one cache line for it
    /// (the automata of thousands of rules do not fit in cache; separate arrays cost a miss each).
    struct State {
        /// Edges: packed[lo..<hi] (sparse), or for a dense state lo = -1 - row.
        var lo: Int32, hi: Int32
        var fail: Int32
        /// Needles ending here (with its failure chain's): outs[out…] up to an entry with id -1, or -1 for none.
        var out: Int32
    }
    private let states: UnsafeMutablePointer<State>
    /// Sparse edges, sorted by byte within a state: next state << 8 | byte.
    private let packed: UnsafeMutablePointer<UInt32>
    /// A state's outputs, each with what confirming it needs (its unique tail, compared in place),
    /// followed by an entry with id -1: one run of memory per hit.
    private struct Output { var id: Int32, tail: Int32, tailStart: Int32 }
    private let outs: UnsafeMutablePointer<Output>
    /// 256 entries per dense row (row 0: the root); 0 means no edge (the root is never a target).
    private let dense: UnsafeMutablePointer<Int32>
    /// States with at least this many edges get a dense row: a lookup instead of a linear search.
    static let denseEdges = 16

    /// The shallowest states (breadth-first numbering: 0..<rowStates) also get a complete row over
    /// byte classes, failure links already followed (a DFA row): one load per byte while the scan
    /// stays among them, which is most of the time. Each entry is target << 1 | (target has outputs).
    /// Bytes no needle contains share class 0. Deeper states keep edges + failure links, so memory
    /// stays bounded (rows up to `rowBytes` per automaton).
    private let rowStates: Int
    private let classCount: Int
    /// Raw byte (folding included) → class.
    private let byteClass: UnsafeMutablePointer<UInt8>
    /// Rows in 16-bit entries when every state number fits in 15 bits (all but huge automata):
    /// half the memory, so twice the rows in the same budget (fewer bytes take the slower
    /// edge-and-failure path).
    private let rows16: UnsafeMutablePointer<UInt16>?
    private let rows32: UnsafeMutablePointer<Int32>?
    var hasWideRows: Bool { rows32 != nil }
    static let rowBytes = 1 << 20

    /// Every needle's bytes, one after another (outputs point at their tails).
    private let needleBytes: UnsafeMutablePointer<UInt8>
    /// A needle's automaton path stops this deep once no other needle shares it; the rest (its
    /// unique tail) is compared in place on a hit. Thousands of rules' literals otherwise make
    /// long single-needle chains of states that only cost cache misses.
    static let minimumKept = 4

    /// The shortest needle: a shorter value cannot hold any, so it is not scanned.
    private let minLength: Int
    /// When every needle is long (hash values, 36 bytes and more), a filter that rules most values
    /// out without walking the automaton — whose states such random (hex) text visits all over,
    /// a cache miss a byte. Every occurrence of a needle of at least m bytes covers one of the
    /// value's q-grams starting at 0, step, 2·step… (step = m − q + 1), and that q-gram is one of
    /// the needle's own: so when none of those q-grams is among the needles' (a hashed bit set,
    /// no false "no"), no needle occurs. A few probes instead of a byte-by-byte walk.
    private let gramBits: UnsafeMutablePointer<UInt64>?
    private let gramWords: Int
    private let gramShift: UInt64
    private let gramStep: Int
    static let gramLength = 8
    static let gramMinimumNeedle = 16

    /// `rowStates`: how many states get a DFA row (nil: as many as `rowBytes` allows); tests vary it.
    /// `gramFilter`: whether long needles get the q-gram filter (tests compare with and without).
    init(_ needles: [[UInt8]], rowStates wanted: Int? = nil, gramFilter: Bool = true) {
        minLength = needles.map(\.count).min() ?? 0
        if gramFilter && minLength >= Self.gramMinimumNeedle {
            let q = Self.gramLength
            var grams = Set<UInt64>()
            for n in needles {
                let folded = n.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
                folded.withUnsafeBufferPointer { b in for at in 0...(b.count - q) { grams.insert(Self.gram(b.baseAddress! + at)) } }
            }
            // About 16 bits per q-gram: a value of four probes passes ~1 time in 7 by chance.
            var log2 = 12
            while (1 << log2) < grams.count * 16 && log2 < 26 { log2 += 1 }
            gramWords = (1 << log2) / 64
            let bits = UnsafeMutablePointer<UInt64>.allocate(capacity: gramWords)
            bits.initialize(repeating: 0, count: gramWords)
            gramShift = UInt64(64 - log2)
            for g in grams { let bit = Int(truncatingIfNeeded: g >> gramShift); bits[bit >> 6] |= 1 << UInt64(bit & 63) }
            gramBits = bits
            gramStep = minLength - q + 1
        } else {
            gramBits = nil; gramWords = 0; gramShift = 0; gramStep = 0
        }
        // Needles through each node of the full trie: where a needle's path becomes its own.
        var fullChildren: [[UInt8: Int32]] = [[:]]
        var through: [Int32] = [0]
        for n in needles {
            var s: Int32 = 0
            for c in n {
                if let nx = fullChildren[Int(s)][c] { s = nx } else {
                    let nx = Int32(fullChildren.count)
                    fullChildren.append([:]); through.append(0)
                    fullChildren[Int(s)][c] = nx
                    s = nx
                }
                through[Int(s)] += 1
            }
        }
        var kept: [Int32] = []
        for n in needles {
            var s: Int32 = 0, k = n.count
            for (d, c) in n.enumerated() {
                s = fullChildren[Int(s)][c]!
                if d + 1 >= Self.minimumKept && through[Int(s)] == 1 { k = d + 1; break }
            }
            kept.append(Int32(k))
        }
        var children: [[UInt8: Int32]] = [[:]]
        var out: [[Int32]] = [[]]
        for (id, whole) in needles.enumerated() {
            var s: Int32 = 0
            for c in whole.prefix(Int(kept[id])) {
                if let nx = children[Int(s)][c] { s = nx; continue }
                let nx = Int32(children.count)
                children.append([:]); out.append([])
                children[Int(s)][c] = nx
                s = nx
            }
            out[Int(s)].append(Int32(id))
        }
        let trans = children.map { $0.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
        var fail = [Int32](repeating: 0, count: trans.count)
        func step(_ s: Int32, _ c: UInt8) -> Int32? { children[Int(s)][c] }
        // Breadth-first: failure links, and each state's outputs extended by its failure state's.
        var queue: [Int32] = children[0].values.sorted()
        var qi = 0
        while qi < queue.count {
            let s = queue[qi]; qi += 1
            for (c, nx) in trans[Int(s)] {
                var f = fail[Int(s)]
                while f != 0 && step(f, c) == nil { f = fail[Int(f)] }
                let target = step(f, c) ?? 0
                fail[Int(nx)] = target == nx ? 0 : target
                out[Int(nx)] += out[Int(fail[Int(nx)])]
                queue.append(nx)
            }
        }
        // States renumbered breadth-first: the shallow states, where a scan spends most of its
        // time, sit together in a few cache lines.
        let order: [Int32] = [0] + queue
        var renum = [Int32](repeating: 0, count: trans.count)
        for (i, s) in order.enumerated() { renum[Int(s)] = Int32(i) }
        var recs: [State] = [], packed: [UInt32] = [], outIds: [[Int32]] = [], outCount = 0, dense: [Int32] = []
        for old in order {
            let s = Int(old), t = trans[s]
            var r = State(lo: 0, hi: 0, fail: renum[Int(fail[s])], out: out[s].isEmpty ? -1 : Int32(outCount))
            if s == 0 || t.count >= Self.denseEdges {
                let row = dense.count / 256
                dense += [Int32](repeating: 0, count: 256)
                for (c, nx) in t { dense[row * 256 + Int(c)] = renum[Int(nx)] }
                r.lo = -1 - Int32(row)
            } else {
                r.lo = Int32(packed.count)
                for (c, nx) in t { packed.append(UInt32(renum[Int(nx)]) << 8 | UInt32(c)) }
                r.hi = Int32(packed.count)
            }
            if !out[s].isEmpty { outIds.append(out[s]); outCount += out[s].count + 1 }
            recs.append(r)
        }
        func raw<T>(_ a: [T]) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: max(a.count, 1))
            p.initialize(from: a, count: a.count)
            return p
        }
        states = raw(recs); self.packed = raw(packed); self.dense = raw(dense)
        needleBytes = raw(needles.flatMap { $0 })
        var starts: [Int32] = [], at: Int32 = 0
        for n in needles { starts.append(at); at += Int32(n.count) }
        var outputs: [Output] = []
        for ids in outIds {
            for id in ids { outputs.append(Output(id: id, tail: Int32(needles[Int(id)].count) - kept[Int(id)], tailStart: starts[Int(id)] + kept[Int(id)])) }
            outputs.append(Output(id: -1, tail: 0, tailStart: 0))
        }
        outs = raw(outputs)

        // Byte classes: each byte some kept needle prefix uses gets its own class; all others share 0.
        var cls = [UInt8](repeating: 0, count: 256), classByte: [UInt8] = [0]
        var used = Set<UInt8>()
        for t in trans { for (c, _) in t { used.insert(c) } }
        // More than 255 used bytes cannot happen after folding A–Z away, but stay safe: no rows then.
        let usable = used.count < 255
        if usable { for c in used.sorted() { cls[Int(c)] = UInt8(classByte.count); classByte.append(c) } }
        for b in 65...90 { cls[b] = cls[b + 32] }
        classCount = classByte.count
        let narrow = recs.count <= Int(Int16.max)
        let byRows = Self.rowBytes / ((narrow ? 2 : 4) * classCount)
        rowStates = usable ? min(recs.count, max(0, wanted ?? byRows)) : 0
        byteClass = raw(cls)
        // Falling back to the root reports the root's outputs, as the edge-and-failure scan does.
        let rootFlag: Int32 = recs.isEmpty || recs[0].out < 0 ? 0 : 1
        var rowData = [Int32](repeating: rootFlag, count: max(rowStates * classCount, 1))
        // Breadth-first: a state's failure state comes before it, so its row is already complete.
        for s in 0..<rowStates {
            let r = recs[s]
            for k in 1..<classCount {
                let c = classByte[k]
                var target: Int32 = -1
                if r.lo < 0 {
                    let nx = dense[Int(-1 - r.lo) * 256 + Int(c)]
                    if nx != 0 { target = nx }
                } else {
                    for e in packed[Int(r.lo)..<Int(r.hi)] where UInt8(truncatingIfNeeded: e) == c { target = Int32(e >> 8); break }
                }
                if target >= 0 {
                    rowData[s * classCount + k] = target << 1 | (recs[Int(target)].out >= 0 ? 1 : 0)
                } else if s != 0 {
                    rowData[s * classCount + k] = rowData[Int(r.fail) * classCount + k]
                }
            }
        }
        if narrow { rows16 = raw(rowData.map { UInt16(truncatingIfNeeded: $0) }); rows32 = nil } else { rows32 = raw(rowData); rows16 = nil }
    }

    deinit {
        states.deallocate(); packed.deallocate(); outs.deallocate(); dense.deallocate()
        needleBytes.deallocate()
        byteClass.deallocate(); rows16?.deallocate(); rows32?.deallocate()
        gramBits?.deallocate()
    }

    var hasGramFilter: Bool { gramBits != nil }

    /// Eight bytes from `p`, A–Z folded, hashed (multiplicative: the top bits index the bit set).
    @inline(__always) private static func gram(_ p: UnsafePointer<UInt8>) -> UInt64 {
        var x: UInt64 = 0
        for k in 0..<gramLength {
            let raw = p[k]
            x = x << 8 | UInt64(raw >= 65 && raw <= 90 ? raw + 32 : raw)
        }
        return x &* 0x9E37_79B9_7F4A_7C15
    }

    /// False only when no needle can occur in `buf` (see `gramBits`).
    @inline(__always) private func mayOccur(_ buf: UnsafeBufferPointer<UInt8>) -> Bool {
        if buf.count < minLength { return false }
        guard let bits = gramBits, let base = buf.baseAddress else { return true }
        var at = 0
        let last = buf.count - Self.gramLength
        while at <= last {
            let bit = Int(truncatingIfNeeded: Self.gram(base + at) >> gramShift)
            if bits[bit >> 6] & (1 << UInt64(bit & 63)) != 0 { return true }
            at += gramStep
        }
        return false
    }

    /// Appends the id of every needle occurring in `s` (an id once per occurrence).
    func scan(_ s: String, into hits: inout [Int32]) {
        var ends: [Int32] = []
        scan(s, into: &hits, ends: &ends)
    }

    /// Also appends, per hit, the byte offset where that occurrence ends (inclusive).
    func scan(_ s: String, into hits: inout [Int32], ends: inout [Int32]) {
        var s = s
        s.withUTF8 { scan($0, into: &hits, ends: &ends) }
    }

    func scan(_ buf: UnsafeBufferPointer<UInt8>, into hits: inout [Int32], ends: inout [Int32]) {
        var h = HitBuffer()
        scan(buf, into: &h)
        for i in 0..<h.count { hits.append(h.ids[i]); ends.append(h.ends[i]) }
    }

    func scan(_ buf: UnsafeBufferPointer<UInt8>, into hits: inout HitBuffer) {
        guard mayOccur(buf) else { return }
        if let r = rows16 { scan(buf, into: &hits, rows: r) } else if let r = rows32 { scan(buf, into: &hits, rows: r) }
    }

    @inline(__always) private func scan<Entry: FixedWidthInteger>(_ buf: UnsafeBufferPointer<UInt8>, into hits: inout HitBuffer, rows: UnsafeMutablePointer<Entry>) {
        var st: Int32 = 0, pos: Int32 = 0
        let rowStates = Int32(self.rowStates), classCount = self.classCount
        for raw in buf {
            let cl = Int(byteClass[Int(raw)])
            var hasOut = false
            if st < rowStates {
                let nx = Int32(truncatingIfNeeded: rows[Int(st) &* classCount &+ cl])
                st = nx >> 1
                hasOut = nx & 1 != 0
            } else {
                let c = raw >= 65 && raw <= 90 ? raw + 32 : raw
                var r = states[Int(st)]
                while true {
                    if st < rowStates {
                        let nx = Int32(truncatingIfNeeded: rows[Int(st) &* classCount &+ cl])
                        st = nx >> 1
                        hasOut = nx & 1 != 0
                        break
                    }
                    if r.lo < 0 {
                        let nx = dense[Int(-1 - r.lo) * 256 + Int(c)]
                        if nx != 0 || st == 0 { st = nx; hasOut = states[Int(st)].out >= 0; break }
                    } else {
                        var k = Int(r.lo), found: Int32 = -1
                        let end = Int(r.hi)
                        while k < end {
                            let e = packed[k]
                            let b = UInt8(truncatingIfNeeded: e)
                            if b == c { found = Int32(e >> 8); break }
                            if b > c { break }
                            k += 1
                        }
                        if found >= 0 { st = found; hasOut = states[Int(st)].out >= 0; break }
                    }
                    st = r.fail
                    r = states[Int(st)]
                }
            }
            if hasOut {
                var i = Int(states[Int(st)].out)
                while true {
                    let o = outs[i]
                    if o.id < 0 { break }
                    let id = o.id, tail = o.tail
                    if tail == 0 { hits.append(id, pos) } else if Int(pos + tail) < buf.count {
                        // The unique tail must follow in the text (compared folded, like the scan).
                        let n = needleBytes + Int(o.tailStart)
                        var k = 0
                        while k < Int(tail) {
                            let raw = buf[Int(pos) + 1 + k]
                            if (raw >= 65 && raw <= 90 ? raw + 32 : raw) != n[k] { break }
                            k += 1
                        }
                        if k == Int(tail) { hits.append(id, pos + tail) }
                    }
                    i += 1
                }
            }
            pos += 1
        }
    }
}

extension Predicate {
    /// Whether the engine can skip this predicate on events that lack all of its literals
    /// (otherwise it is evaluated on every event of its log source and EventID).
    public var hasLiteralGuard: Bool { LiteralPrefilter.guardClauses(self) != nil }
}

/// Needle ids and end offsets found by a scan, in raw memory that grows and is reused, so
/// appending a hit neither allocates nor checks uniqueness.
struct HitBuffer {
    private(set) var ids: UnsafeMutablePointer<Int32>
    private(set) var ends: UnsafeMutablePointer<Int32>
    var count = 0
    private var capacity: Int
    private let owner: Owner

    /// Frees the buffers when the last copy goes.
    private final class Owner {
        var ids: UnsafeMutablePointer<Int32>, ends: UnsafeMutablePointer<Int32>
        init(_ i: UnsafeMutablePointer<Int32>, _ e: UnsafeMutablePointer<Int32>) { ids = i; ends = e }
        deinit { ids.deallocate(); ends.deallocate() }
    }

    init(capacity: Int = 64) {
        self.capacity = capacity
        ids = .allocate(capacity: capacity)
        ends = .allocate(capacity: capacity)
        owner = Owner(ids, ends)
    }

    @inline(__always) mutating func append(_ id: Int32, _ end: Int32) {
        if count == capacity { grow() }
        ids[count] = id
        ends[count] = end
        count += 1
    }

    private mutating func grow() {
        let c = capacity * 2
        let ni = UnsafeMutablePointer<Int32>.allocate(capacity: c), ne = UnsafeMutablePointer<Int32>.allocate(capacity: c)
        ni.update(from: ids, count: count); ne.update(from: ends, count: count)
        ids.deallocate(); ends.deallocate()
        ids = ni; ends = ne; capacity = c
        owner.ids = ni; owner.ends = ne
    }
}

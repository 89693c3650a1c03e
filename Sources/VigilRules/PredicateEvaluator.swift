import Foundation
import VigilWire

/// A Predicate ready to run: needles folded once, regexes compiled, networks parsed.
/// Values are read from the event's vendor fields first, then its normalized fields.
final class PredicateEvaluator {
    indirect enum Node {
        case and([Node]), or([Node]), not(Node), constant(Bool)
        case test(fields: [String], matchers: [Compiled], all: Bool, cased: Bool)
        /// A long any-of list of literal matchers: one Aho–Corasick pass, then each hit checked by its own op.
        case manyLiterals(fields: [String], automaton: AhoCorasick, matchers: [Compiled], rest: [Compiled])
        case keywords(Keywords)
    }

    /// Splits matchers into plain literals (needles for one Aho–Corasick pass, each hit then
    /// confirmed by its own matcher) and the rest. An empty needle never reports a hit from the
    /// automaton: it stays a plain matcher.
    static func splitLiterals(_ ms: [Compiled]) -> (lits: [Compiled], needles: [[UInt8]], rest: [Compiled]) {
        var lits: [Compiled] = [], needles: [[UInt8]] = [], rest: [Compiled] = []
        for m in ms {
            var literal: [UInt8]?
            switch m {
            case .contains(let n), .startswith(let n), .endswith(let n): literal = n
            case .equals(let n, nil): literal = n
            default: break
            }
            if let n = literal, !n.isEmpty { lits.append(m); needles.append(n) } else { rest.append(m) }
        }
        return (lits, needles, rest)
    }

    /// Keyword matchers (any vendor value, or the message, matches one). A long list of plain
    /// literals is searched with one Aho–Corasick pass per value instead of one search per
    /// literal per value; each hit is confirmed by its own matcher, so the answer is the same.
    final class Keywords {
        let matchers: [Compiled]
        private let automaton: AhoCorasick?
        private let lits: [Compiled]
        private let rest: [Compiled]
        /// Without an automaton: the plain literals flattened (bytes, op), so a value is checked
        /// against them in one loop over raw memory — an enum switch per literal per value copied
        /// its payload (a retain and release), and a keyword rule checks every vendor value.
        private let flat: LiteralList

        init(_ ms: [Compiled]) {
            matchers = ms
            let (lits, needles, rest) = PredicateEvaluator.splitLiterals(ms)
            if lits.count >= 6 {
                automaton = AhoCorasick(needles)
                self.lits = lits
                flat = LiteralList([])
            } else {
                automaton = nil
                self.lits = []
                flat = LiteralList(lits)
            }
            self.rest = rest
        }

        func holds(_ e: Event) -> Bool {
            // Every vendor value, then the message.
            guard let automaton else {
                func one(_ v: String) -> Bool {
                    if withBytes(v, flat.anyHolds) { return true }
                    var i = 0
                    while i < rest.count { if PredicateEvaluator.test(rest[i], v, cased: false, e) { return true }; i += 1 }
                    return false
                }
                for v in e.original.values where one(v) { return true }
                if let v = e.fields["message"], one(v) { return true }
                return false
            }
            var hits = HitBuffer(capacity: 16)
            func one(_ v: String) -> Bool {
                hits.count = 0
                withBytes(v) { automaton.scan($0, into: &hits) }
                for i in 0..<hits.count where PredicateEvaluator.test(lits[Int(hits.ids[i])], v, cased: false, e) { return true }
                for m in rest where PredicateEvaluator.test(m, v, cased: false, e) { return true }
                return false
            }
            for v in e.original.values where one(v) { return true }
            if let v = e.fields["message"], one(v) { return true }
            return false
        }
    }

    /// Plain case-insensitive literals (contains, startswith, endswith, equals without a number)
    /// in raw memory: needle k is bytes[start[k] ..< start[k + 1]], folded.
    final class LiteralList {
        enum Op: UInt8 { case contains, startswith, endswith, equals }
        private let bytes: UnsafeMutablePointer<UInt8>
        private let start: UnsafeMutablePointer<Int>
        private let ops: UnsafeMutablePointer<Op>
        let count: Int
        private let shortest: Int

        init(_ lits: [Compiled]) {
            var b: [UInt8] = [], st: [Int] = [0], os: [Op] = []
            for m in lits {
                switch m {
                case .contains(let n): b += n; os.append(.contains)
                case .startswith(let n): b += n; os.append(.startswith)
                case .endswith(let n): b += n; os.append(.endswith)
                case .equals(let n, nil): b += n; os.append(.equals)
                default: continue
                }
                st.append(b.count)
            }
            count = os.count
            shortest = zip(st.dropFirst(), st).map { $0 - $1 }.min() ?? 0
            bytes = .allocate(capacity: max(b.count, 1)); bytes.initialize(from: b, count: b.count)
            start = .allocate(capacity: st.count); start.initialize(from: st, count: st.count)
            ops = .allocate(capacity: max(os.count, 1)); ops.initialize(from: os, count: os.count)
        }
        deinit { bytes.deallocate(); start.deallocate(); ops.deallocate() }

        func anyHolds(_ h: UnsafeBufferPointer<UInt8>) -> Bool {
            guard count > 0, h.count >= shortest else { return false }
            var k = 0
            while k < count {
                let n = UnsafeBufferPointer(start: bytes + start[k], count: start[k + 1] - start[k])
                switch ops[k] {
                case .contains: if PredicateEvaluator.contains(h, n, false) { return true }
                case .startswith: if h.count >= n.count && eq(h, 0, n, false) { return true }
                case .endswith: if h.count >= n.count && eq(h, h.count - n.count, n, false) { return true }
                case .equals: if h.count == n.count && eq(h, 0, n, false) { return true }
                }
                k += 1
            }
            return false
        }
    }
    final class CompiledRegex {
        let regex: NSRegularExpression
        /// The literal runs every match holds, in order (RegexLiteral.runs).
        let literals: [[UInt8]]
        let run: RegexRun?
        init(_ regex: NSRegularExpression, literals: [[UInt8]], run: RegexRun?) { self.regex = regex; self.literals = literals; self.run = run }

        /// False when the value cannot match: a literal run missing, or not in the pattern's order.
        func mayMatch(_ h: UnsafeBufferPointer<UInt8>) -> Bool {
            var from = 0
            for lit in literals {
                let at = lit.withUnsafeBufferPointer { PredicateEvaluator.firstIndex(UnsafeBufferPointer(rebasing: h[from...]), $0, false) }
                if at < 0 { return false }
                from += at + lit.count
            }
            if let run, !run.occurs(h) { return false }
            return true
        }
    }

    enum Compiled {
        case equals([UInt8], Double?), contains([UInt8]), startswith([UInt8]), endswith([UInt8]), glob([UInt8])
        /// The regex, the literal runs every match contains in order and a run of class bytes every
        /// match contains (checked first: bridging to NSString and ICU cost far more than a byte loop), in one
        /// object: copying the matcher out of a list then costs one retain, not one per part.
        case regex(CompiledRegex)
        /// `.{N,}`: a line of at least N characters (ICU takes milliseconds on this pattern).
        case longLine(Int)
        case cidr(Network)
        case compare(Matcher.Op, Double)
        case exists(Bool), null
        case fieldref(String)
    }

    let predicate: Predicate
    let root: Node

    init(_ p: Predicate) throws {
        predicate = p
        root = try Self.compile(p)
    }

    static func compile(_ p: Predicate) throws -> Node {
        switch p {
        case .and(let ps): return .and(try ps.map(compile))
        case .or(let ps): return .or(try ps.map(compile))
        case .not(let x): return .not(try compile(x))
        case .constant(let b): return .constant(b)
        case .keywords(let ms): return .keywords(Keywords(try ms.map { try compile($0, cased: false) }))
        case .test(let t):
            let compiled = try t.matchers.map { try compile($0, cased: t.cased) }
            if !t.all && !t.cased {
                let (lits, needles, rest) = Self.splitLiterals(compiled)
                if lits.count >= 6 { return .manyLiterals(fields: t.fields, automaton: AhoCorasick(needles), matchers: lits, rest: rest) }
            }
            return .test(fields: t.fields, matchers: compiled, all: t.all, cased: t.cased)
        }
    }

    /// The number an `equals` value also matches numerically (nil: compared as text only).
    static func numericValue(_ s: String) -> Double? {
        !s.isEmpty && s.allSatisfy({ $0.isNumber || $0 == "." || $0 == "-" }) ? Double(s) : nil
    }

    static func compile(_ m: Matcher, cased: Bool) throws -> Compiled {
        let b = cased ? Array(m.value.utf8) : Array(m.value.utf8).map(fold)
        switch m.op {
        case .equals: return .equals(b, numericValue(m.value))
        case .contains: return .contains(b)
        case .startswith: return .startswith(b)
        case .endswith: return .endswith(b)
        case .glob: return .glob(b)
        case .regex:
            if let n = longLinePattern(m.value) { return .longLine(n) }
            do { return .regex(CompiledRegex(try NSRegularExpression(pattern: m.value), literals: RegexLiteral.runs(m.value) ?? [], run: RegexRun.required(m.value))) } catch {
                throw PredicateError("regex '\(m.value)' does not compile: \(error.localizedDescription)")
            }
        case .cidr:
            guard let n = Network(m.value) else { throw PredicateError("'\(m.value)' is not a CIDR network") }
            return .cidr(n)
        case .gt, .gte, .lt, .lte:
            guard let d = Double(m.value) else { throw PredicateError("\(m.op.rawValue) needs a number, found '\(m.value)'") }
            return .compare(m.op, d)
        case .exists: return .exists(m.value == "true")
        case .null: return .null
        case .fieldref: return .fieldref(m.value)
        }
    }

    /// The engine's form (literal tests decided by its shared scan); set when the engine indexes its rules.
    var bound: BoundPredicate?

    func matches(_ e: Event) -> Bool { eval(root, e) }

    private func eval(_ n: Node, _ e: Event) -> Bool {
        switch n {
        case .and(let xs): for x in xs where !eval(x, e) { return false }; return true
        case .or(let xs): for x in xs where eval(x, e) { return true }; return false
        case .not(let x): return !eval(x, e)
        case .constant(let b): return b
        case .keywords(let k): return k.holds(e)
        case .manyLiterals(let fields, let ac, let lits, let rest):
            var value: String?
            for f in fields { if let v = e.original[f] ?? e.fields[f] { value = v; break } }
            guard let v = value else { return rest.contains(where: Self.holdsWhenAbsent) }
            // `equals` with a number (e.g. 3 matching "03") is in `rest`, so numeric equality is kept.
            var hits: [Int32] = []
            ac.scan(v, into: &hits)
            for id in hits where Self.test(lits[Int(id)], v, cased: false, e) { return true }
            for m in rest where Self.test(m, v, cased: false, e) { return true }
            return false
        case .test(let fields, let ms, let all, let cased): return Self.fieldTest(fields, ms, all: all, cased: cased, e)
        }
    }

    static func fieldTest(_ fields: [String], _ ms: [Compiled], all: Bool, cased: Bool, _ e: Event) -> Bool {
        var value: String?
        for f in fields { if let v = e.original[f] ?? e.fields[f] { value = v; break } }
        return valueTest(value, ms, all: all, cased: cased, e)
    }

    /// A field test on the value its field list resolved to (nil: no field of the list is present).
    static func valueTest(_ value: String?, _ ms: [Compiled], all: Bool, cased: Bool, _ e: Event) -> Bool {
        ms.withUnsafeBufferPointer { valueTest(value, $0, all: all, cased: cased, e) }
    }

    /// The same over raw memory: a matcher read from it is borrowed where an array element is
    /// copied out (a retain and release of its payload per matcher per event).
    static func valueTest(_ value: String?, _ ms: UnsafeBufferPointer<Compiled>, all: Bool, cased: Bool, _ e: Event) -> Bool {
        guard let v = value else {
            // Absent: only `exists: false` and `null` hold.
            if all { return ms.allSatisfy(holdsWhenAbsent) }
            return ms.contains(where: holdsWhenAbsent)
        }
        var i = 0
        if all { while i < ms.count { if !test(ms[i], v, cased: cased, e) { return false }; i += 1 }; return true }
        while i < ms.count { if test(ms[i], v, cased: cased, e) { return true }; i += 1 }
        return false
    }

    /// Whether one of `ms` holds on `v` (case-insensitive). Plain literals are compared on the
    /// value's bytes in one pass per matcher, without going through `test` per matcher.
    static func anyHolds(_ ms: [Compiled], _ v: String, _ e: Event) -> Bool {
        var other = false
        let hit = withBytes(v) { h in
            var i = 0
            while i < ms.count {
                defer { i += 1 }
                switch ms[i] {
                case .contains(let n): if contains(h, n, false) { return true }
                case .startswith(let n): if h.count >= n.count && eq(h, 0, n, false) { return true }
                case .endswith(let n): if h.count >= n.count && eq(h, h.count - n.count, n, false) { return true }
                case .equals(let n, nil): if h.count == n.count && eq(h, 0, n, false) { return true }
                default: other = true
                }
            }
            return false
        }
        if hit { return true }
        return other && ms.contains { m in
            switch m {
            case .contains, .startswith, .endswith, .equals(_, nil): return false
            default: return test(m, v, cased: false, e)
            }
        }
    }

    static func holdsWhenAbsent(_ m: Compiled) -> Bool {
        switch m {
        case .exists(let want): return !want
        case .null: return true
        default: return false
        }
    }

    static func test(_ m: Compiled, _ v: String, cased: Bool, _ e: Event) -> Bool {
        switch m {
        case .exists(let want): return want
        case .null: return v.isEmpty
        case .regex(let c):
            if !withBytes(v, c.mayMatch) { return false }
            return c.regex.firstMatch(in: v, range: NSRange(v.startIndex..., in: v)) != nil
        case .cidr(let n): return n.contains(v)
        case .longLine(let n):
            var run = 0
            for ch in v.unicodeScalars { if ch == "\n" || ch == "\r" { run = 0 } else { run += 1; if run >= n { return true } } }
            return false
        case .compare(let op, let d):
            guard let x = Double(v) ?? Double(v.trimmingCharacters(in: .whitespaces)) else { return false }
            switch op { case .gt: return x > d; case .gte: return x >= d; case .lt: return x < d; default: return x <= d }
        case .fieldref(let other):
            guard let o = e.original[other] ?? e.fields[other] else { return false }
            if cased { return v == o }
            // Byte-wise ASCII-folded equality first (no lowered copies); String equality (canonical
            // equivalence) decides only when the bytes differ outside ASCII.
            var ascii = true
            let same = withBytes(v) { a in withBytes(o) { b in
                guard a.count == b.count else { ascii = !a.contains { $0 >= 0x80 } && !b.contains { $0 >= 0x80 }; return false }
                var i = 0
                while i < a.count {
                    if fold(a[i]) != fold(b[i]) { ascii = !a.contains { $0 >= 0x80 } && !b.contains { $0 >= 0x80 }; return false }
                    i += 1
                }
                return true
            } }
            if same { return true }
            return ascii ? false : asciiLower(v) == asciiLower(o)
        case .equals(let needle, let num):
            if bytesEqual(v, needle, cased) { return true }
            if let num, let x = Double(v) { return x == num }
            return false
        case .contains(let n): return withBytes(v) { contains($0, n, cased) }
        case .startswith(let n): return withBytes(v) { $0.count >= n.count && eq($0, 0, n, cased) }
        case .endswith(let n): return withBytes(v) { $0.count >= n.count && eq($0, $0.count - n.count, n, cased) }
        case .glob(let p): return withBytes(v) { glob($0, p, cased) }
        }
    }

    /// `.{N,}` (optionally with `^`/`$` around it): the minimum line length N.
    static func longLinePattern(_ p: String) -> Int? {
        var s = Substring(p)
        if s.hasPrefix("^") { s = s.dropFirst() }
        if s.hasSuffix("$") { s = s.dropLast() }
        guard s.hasPrefix(".{"), s.hasSuffix(",}") else { return nil }
        return Int(s.dropFirst(2).dropLast(2))
    }

    @inline(__always) static func fold(_ c: UInt8) -> UInt8 { c >= 65 && c <= 90 ? c + 32 : c }

    @inline(__always) static func withBytes<R>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let r = s.utf8.withContiguousStorageIfAvailable(body) { return r }
        let a = Array(s.utf8)
        return a.withUnsafeBufferPointer(body)
    }

    static func bytesEqual(_ s: String, _ n: [UInt8], _ cased: Bool) -> Bool {
        withBytes(s) { $0.count == n.count && eq($0, 0, n, cased) }
    }

    @inline(__always) static func eq(_ h: UnsafeBufferPointer<UInt8>, _ at: Int, _ n: [UInt8], _ cased: Bool) -> Bool {
        n.withUnsafeBufferPointer { eq(h, at, $0, cased) }
    }

    @inline(__always) static func eq(_ h: UnsafeBufferPointer<UInt8>, _ at: Int, _ n: UnsafeBufferPointer<UInt8>, _ cased: Bool) -> Bool {
        var i = 0
        if cased { while i < n.count { if h[at + i] != n[i] { return false }; i += 1 } } else {
            while i < n.count { if fold(h[at + i]) != n[i] { return false }; i += 1 }
        }
        return true
    }

    static func contains(_ h: UnsafeBufferPointer<UInt8>, _ n: [UInt8], _ cased: Bool) -> Bool {
        n.withUnsafeBufferPointer { contains(h, $0, cased) }
    }

    @inline(__always) static func contains(_ h: UnsafeBufferPointer<UInt8>, _ n: UnsafeBufferPointer<UInt8>, _ cased: Bool) -> Bool {
        firstIndex(h, n, cased) >= 0
    }

    /// Where `n` first occurs in `h` (folded unless `cased`), or -1.
    static func firstIndex(_ h: UnsafeBufferPointer<UInt8>, _ n: UnsafeBufferPointer<UInt8>, _ cased: Bool) -> Int {
        guard !n.isEmpty else { return 0 }
        guard h.count >= n.count, let base = h.baseAddress else { return -1 }
        let first = n[0]
        var i = 0
        let last = h.count - n.count
        // Eight bytes at a time: flag the bytes equal to the first needle byte (either case), then
        // compare the needle only there. The zero-byte test can flag a byte above a real match
        // (borrow), never miss one; every flagged position is compared in full.
        let upper = !cased && first >= 97 && first <= 122 ? first - 32 : first
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let pf = ones &* UInt64(first), pu = ones &* UInt64(upper)
        while i + 8 <= h.count && i <= last {
            let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            let x = w ^ pf, y = w ^ pu
            var m = ((x &- ones) & ~x & highs) | ((y &- ones) & ~y & highs)
            while m != 0 {
                let p = i + m.trailingZeroBitCount >> 3
                if p > last { return -1 }
                if eq(h, p, n, cased) { return p }
                m &= m - 1
            }
            i += 8
        }
        while i <= last {
            let c = cased ? h[i] : fold(h[i])
            if c == first && eq(h, i, n, cased) { return i }
            i += 1
        }
        return -1
    }

    /// `*` any run, `?` one byte, `\` escapes the next `*`, `?` or `\`.
    static func glob(_ h: UnsafeBufferPointer<UInt8>, _ p: [UInt8], _ cased: Bool) -> Bool {
        var hi = 0, pi = 0, starP = -1, starH = 0
        while hi < h.count {
            if pi < p.count {
                let c = p[pi]
                if c == 0x2A { starP = pi; starH = hi; pi += 1; continue }
                if c == 0x3F { pi += 1; hi += 1; continue }
                var lit = c, width = 1
                if c == 0x5C, pi + 1 < p.count, [0x2A, 0x3F, 0x5C].contains(p[pi + 1]) { lit = p[pi + 1]; width = 2 }
                if (cased ? h[hi] : fold(h[hi])) == lit { pi += width; hi += 1; continue }
            }
            if starP >= 0 { pi = starP + 1; starH += 1; hi = starH; continue }
            return false
        }
        while pi < p.count && p[pi] == 0x2A { pi += 1 }
        return pi == p.count
    }
}

/// An IPv4 or IPv6 network for `cidr`.
struct Network {
    let bytes: [UInt8]
    let prefix: Int

    init?(_ s: String) {
        let parts = s.split(separator: "/", maxSplits: 1)
        guard let a = Network.parse(String(parts[0])) else { return nil }
        let p = parts.count == 2 ? Int(parts[1]) : a.count * 8
        guard let p, p >= 0, p <= a.count * 8 else { return nil }
        bytes = a; prefix = p
    }

    static func parse(_ s: String) -> [UInt8]? {
        if s.contains(":") {
            var a = in6_addr()
            guard inet_pton(AF_INET6, s, &a) == 1 else { return nil }
            return withUnsafeBytes(of: &a) { Array($0) }
        }
        var a = in_addr()
        guard inet_pton(AF_INET, s, &a) == 1 else { return nil }
        return withUnsafeBytes(of: &a) { Array($0) }
    }

    func contains(_ s: String) -> Bool {
        guard let a = Network.parse(s), a.count == bytes.count else { return false }
        var bits = prefix, i = 0
        while bits > 0 {
            let mask: UInt8 = bits >= 8 ? 0xFF : UInt8(0xFF << (8 - bits) & 0xFF)
            if a[i] & mask != bytes[i] & mask { return false }
            bits -= 8; i += 1
        }
        return true
    }
}

/// The evaluator's wildcard matcher, case-sensitive, for other modules (Sigma selection names).
public enum PredicateGlob {
    public static func matches(_ h: UnsafeBufferPointer<UInt8>, _ pattern: [UInt8]) -> Bool {
        PredicateEvaluator.glob(h, pattern, true)
    }
}

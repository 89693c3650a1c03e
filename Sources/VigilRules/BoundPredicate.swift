import VigilWire

/// Per-event results shared by the engine's literal scan and its bound predicates: slot 0 is the
/// current event's stamp, slot 1+id the stamp of the last event on which literal test `id` held.
/// Raw memory, not a Swift array: read on every predicate node, so no exclusivity or CoW checks.
final class LiteralResults {
    let words: UnsafeMutablePointer<Int>
    let count: Int
    init(literals: Int) {
        count = literals + 1
        words = .allocate(capacity: count)
        words.initialize(repeating: 0, count: count)
    }
    deinit { words.deallocate() }
    @inline(__always) var stamp: Int { words[0] }
    @inline(__always) func held(_ id: Int32) -> Bool { words[Int(id) + 1] == words[0] }
    @inline(__always) func set(_ id: Int32) { words[Int(id) + 1] = words[0] }
}

/// A case-insensitive literal test of one field (list), identified across all rules of an engine:
/// the same test in many rules is decided once per event by the shared Aho–Corasick scan.
struct LiteralKey: Hashable {
    enum Op: UInt8 { case contains, startswith, endswith, equals }
    var fields: [String]
    var op: Op
    var needle: [UInt8]
}

/// A predicate as the engine runs it: a flat node array where each literal test is a lookup in
/// `LiteralResults` (filled by the prefilter's scan of the event) instead of a re-scan of the value.
/// Matchers that are not plain literals (regex, glob, cidr, numbers, cased…) stay field tests.
final class BoundPredicate {
    enum Kind: UInt8 { case and, or, not, constant, literal, test, keywords }
    struct Node { var kind: Kind; var a: Int32; var b: Int32 }
    /// A field test on the value of the first of `ids` (FieldTable ids) the event has.
    struct Test { var ids: [Int32]; var matchers: [PredicateEvaluator.Compiled]; var all: Bool; var cased: Bool }
    /// `Test` flattened for evaluation (no arrays to retain per node): field ids
    /// testIds[idStart..<idEnd], matchers testMatchers[matcherStart..<matcherEnd].
    struct FlatTest { var idStart: Int32, idEnd: Int32, matcherStart: Int32, matcherEnd: Int32, all: Bool, cased: Bool }

    private let nodes: UnsafeMutablePointer<Node>
    private let nodeCount: Int
    private let kids: UnsafeMutablePointer<Int32>
    private let kidCount: Int
    private let tests: UnsafeMutablePointer<FlatTest>
    private let testCount: Int
    private let testIds: UnsafeMutablePointer<Int32>
    private let testMatchers: UnsafeMutablePointer<PredicateEvaluator.Compiled>
    private let testMatcherCount: Int
    private let keywords: [PredicateEvaluator.Keywords]
    private let root: Int32
    let results: LiteralResults
    let fields: FieldTable

    /// Builds from a compiled tree; `id` gives the shared id of a literal test (nil: keep it a field test),
    /// `fieldId` the FieldTable id of every name in `testFields(tree)`.
    init(_ tree: PredicateEvaluator.Node, results: LiteralResults, fields: FieldTable, fieldId: (String) -> Int32, id: (LiteralKey) -> Int32?) {
        var nodes: [Node] = [], kids: [Int32] = [], tests: [Test] = [], keywords: [PredicateEvaluator.Keywords] = []
        // Estimated cost of evaluating each node: and/or try their cheap children first (a
        // literal answer before a regex), which changes no result — evaluation has no side effects.
        var cost: [Int] = []
        func add(_ n: Node, _ c: Int) -> Int32 { nodes.append(n); cost.append(c); return Int32(nodes.count - 1) }
        func group(_ kind: Kind, _ children: [Int32]) -> Int32 {
            if children.count == 1 { return children[0] }
            let start = Int32(kids.count)
            kids += children.enumerated().sorted { (cost[Int($0.element)], $0.offset) < (cost[Int($1.element)], $1.offset) }.map(\.element)
            return add(Node(kind: kind, a: start, b: Int32(children.count)), children.reduce(0) { $0 + cost[Int($1)] })
        }
        func fieldTest(_ fields: [String], _ ms: [PredicateEvaluator.Compiled], all: Bool, cased: Bool) -> Int32 {
            var children: [Int32] = [], rest: [PredicateEvaluator.Compiled] = []
            for m in ms {
                if !cased, let k = BoundPredicate.key(fields, m), let i = id(k) { children.append(add(Node(kind: .literal, a: i, b: 0), 1)) } else { rest.append(m) }
            }
            if !rest.isEmpty || children.isEmpty {
                tests.append(Test(ids: fields.map(fieldId), matchers: rest, all: all, cased: cased))
                children.append(add(Node(kind: .test, a: Int32(tests.count - 1), b: 0), 2 + rest.reduce(0) { $0 + Self.cost($1) }))
            }
            // A literal never holds on an absent field, as in the unbound evaluator.
            return group(all ? .and : .or, children)
        }
        func build(_ n: PredicateEvaluator.Node) -> Int32 {
            switch n {
            case .and(let xs): return group(.and, xs.map(build))
            case .or(let xs): return group(.or, xs.map(build))
            case .not(let x): let c = build(x); return add(Node(kind: .not, a: c, b: 0), cost[Int(c)])
            case .constant(let v): return add(Node(kind: .constant, a: v ? 1 : 0, b: 0), 0)
            case .keywords(let k): keywords.append(k); return add(Node(kind: .keywords, a: Int32(keywords.count - 1), b: 0), 50 * k.matchers.count)
            case .test(let fields, let ms, let all, let cased): return fieldTest(fields, ms, all: all, cased: cased)
            case .manyLiterals(let fields, _, let lits, let rest): return fieldTest(fields, lits + rest, all: false, cased: false)
            }
        }
        // `and`/`or` with an empty list keep their meaning (true/false) through `group`'s range.
        root = build(tree)
        self.results = results
        self.fields = fields
        var flat: [FlatTest] = [], flatIds: [Int32] = [], flatMatchers: [PredicateEvaluator.Compiled] = []
        for t in tests {
            flat.append(FlatTest(idStart: Int32(flatIds.count), idEnd: Int32(flatIds.count + t.ids.count),
                                 matcherStart: Int32(flatMatchers.count), matcherEnd: Int32(flatMatchers.count + t.matchers.count), all: t.all, cased: t.cased))
            flatIds += t.ids
            flatMatchers += t.matchers
        }
        testCount = flat.count
        self.tests = .allocate(capacity: max(flat.count, 1)); self.tests.initialize(from: flat, count: flat.count)
        testIds = .allocate(capacity: max(flatIds.count, 1)); testIds.initialize(from: flatIds, count: flatIds.count)
        testMatcherCount = flatMatchers.count
        testMatchers = .allocate(capacity: max(flatMatchers.count, 1)); testMatchers.initialize(from: flatMatchers, count: flatMatchers.count)
        self.keywords = keywords
        nodeCount = nodes.count
        self.nodes = .allocate(capacity: max(nodes.count, 1))
        self.nodes.initialize(from: nodes, count: nodes.count)
        kidCount = kids.count
        self.kids = .allocate(capacity: max(kids.count, 1))
        self.kids.initialize(from: kids, count: kids.count)
    }

    deinit {
        nodes.deallocate(); kids.deallocate(); tests.deallocate(); testIds.deallocate()
        testMatchers.deinitialize(count: testMatcherCount); testMatchers.deallocate()
    }

    /// The literal tests of a compiled tree (what the engine's scan must decide).
    static func literalKeys(_ n: PredicateEvaluator.Node, into out: inout [LiteralKey]) {
        switch n {
        case .and(let xs), .or(let xs): for x in xs { literalKeys(x, into: &out) }
        case .not(let x): literalKeys(x, into: &out)
        case .constant, .keywords: break
        case .test(let fields, let ms, _, let cased): if !cased { for m in ms { if let k = key(fields, m) { out.append(k) } } }
        case .manyLiterals(let fields, _, let lits, _): for m in lits { if let k = key(fields, m) { out.append(k) } }
        }
    }

    /// Rough relative cost of one matcher on one value (a literal lookup costs 1).
    static func cost(_ m: PredicateEvaluator.Compiled) -> Int {
        switch m {
        case .regex: return 200
        case .longLine, .glob, .cidr, .compare, .fieldref: return 10
        case .equals, .contains, .startswith, .endswith: return 3
        case .exists, .null: return 1
        }
    }

    /// Every field name a field test of the tree may read.
    static func testFields(_ n: PredicateEvaluator.Node) -> [String] {
        switch n {
        case .and(let xs), .or(let xs): return xs.flatMap(testFields)
        case .not(let x): return testFields(x)
        case .constant, .keywords: return []
        case .test(let fields, _, _, _), .manyLiterals(let fields, _, _, _): return fields
        }
    }

    /// Plain literal matchers only; `equals` with a number keeps its numeric comparison as a field test.
    static func key(_ fields: [String], _ m: PredicateEvaluator.Compiled) -> LiteralKey? {
        switch m {
        case .contains(let n) where !n.isEmpty: return LiteralKey(fields: fields, op: .contains, needle: n)
        case .startswith(let n) where !n.isEmpty: return LiteralKey(fields: fields, op: .startswith, needle: n)
        case .endswith(let n) where !n.isEmpty: return LiteralKey(fields: fields, op: .endswith, needle: n)
        case .equals(let n, nil) where !n.isEmpty: return LiteralKey(fields: fields, op: .equals, needle: n)
        default: return nil
        }
    }

    /// Only valid while `results` holds this event's scan (the engine calls it right after scanning).
    func matches(_ e: Event) -> Bool { eval(root, e) }

    private func eval(_ i: Int32, _ e: Event) -> Bool {
        let n = nodes[Int(i)]
        switch n.kind {
        case .literal: return results.held(n.a)
        case .and:
            var k = Int(n.a)
            let end = k + Int(n.b)
            while k < end { if !eval(kids[k], e) { return false }; k += 1 }
            return true
        case .or:
            var k = Int(n.a)
            let end = k + Int(n.b)
            while k < end { if eval(kids[k], e) { return true }; k += 1 }
            return false
        case .not: return !eval(n.a, e)
        case .constant: return n.a != 0
        case .keywords: return keywords[Int(n.a)].holds(e)
        case .test:
            let t = tests[Int(n.a)]
            var value: String?
            var k = Int(t.idStart)
            while k < Int(t.idEnd) { if let v = fields.value(testIds[k]) { value = v; break }; k += 1 }
            let ms = UnsafeBufferPointer(start: testMatchers + Int(t.matcherStart), count: Int(t.matcherEnd - t.matcherStart))
            return PredicateEvaluator.valueTest(value, ms, all: t.all, cased: t.cased, e)
        }
    }
}

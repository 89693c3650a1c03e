import Foundation

/// A bound `Condition` laid out for evaluation per record: nodes, children and tests in memory
/// the loop reads in place, without reference counting. Walking the `indirect enum` copied each
/// node's payload — token definitions (five strings each), member sets, child arrays — and a rule
/// engine spent about a third of its time retaining and releasing them (docs/performance.md).
/// Immutable after `init`; the pointers are freed with it.
final class FlatCondition: @unchecked Sendable {
    enum Kind: UInt8, Sendable { case constant, and, or, not, test, special }
    struct Node: Sendable {
        var kind: Kind
        /// constant: 0/1; and/or: first child in `kids`; not: the child node; test/special: its index.
        var a: Int32
        /// and/or: the number of children.
        var b: Int32
    }
    struct Special: Sendable {
        let token: TokenDefinition
        let name: String
        let position: Int
    }

    private let nodes: UnsafeMutablePointer<Node>
    private let kids: UnsafeMutablePointer<Int32>
    /// Per test: its memo slot, whether its token is stored in a JSON column (numeric tests parse
    /// text there), and the test, boxed (a test read from memory to be switched on is copied, its
    /// strings and sets retained; a class's `let` read through an unretained reference is not).
    private let slots: UnsafeMutablePointer<Int32>
    private let jsonStored: UnsafeMutablePointer<Bool>
    private let tests: UnsafeMutablePointer<Unmanaged<TestBox>>
    /// Owns the boxes `tests` points to.
    private let testBoxes: [TestBox]
    /// Per test, read only when the record has no memo or the memo misses.
    private let tokens: [TokenDefinition]
    private let specials: [Special]
    private let root: Int32

    private struct Builder {
        var nodes: [Node] = []
        var kids: [Int32] = []
        var tokens: [TokenDefinition] = []
        var slots: [Int32] = []
        var jsonStored: [Bool] = []
        var tests: [TestBox] = []
        var specials: [Special] = []

        mutating func add(_ c: Condition) -> Int32 {
            switch c {
            case .constant(let v):
                return node(.constant, v ? 1 : 0, 0)
            case .and(let parts), .or(let parts):
                let children = parts.map { add($0) }
                let start = Int32(kids.count)
                kids.append(contentsOf: children)
                if case .and = c { return node(.and, start, Int32(children.count)) }
                return node(.or, start, Int32(children.count))
            case .not(let inner):
                return node(.not, add(inner), 0)
            case .test(let token, let test):
                tokens.append(token)
                slots.append(FieldSlots.slot(token.storage))
                if case .json = token.storage { jsonStored.append(true) } else { jsonStored.append(false) }
                tests.append(TestBox(test))
                return node(.test, Int32(tests.count - 1), 0)
            case .special(let token, let name, let position):
                specials.append(Special(token: token, name: name, position: position))
                return node(.special, Int32(specials.count - 1), 0)
            case .fullText(_, let fallback):
                // In memory a free-text term is its substring fallback (docs/qql.md, "Free text").
                return add(fallback)
            }
        }

        private mutating func node(_ kind: Kind, _ a: Int32, _ b: Int32) -> Int32 {
            nodes.append(Node(kind: kind, a: a, b: b))
            return Int32(nodes.count - 1)
        }
    }

    init(_ condition: Condition) {
        var b = Builder()
        root = b.add(condition)
        func copy<T>(_ a: [T]) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: max(a.count, 1))
            p.initialize(from: a, count: a.count)
            return p
        }
        nodes = copy(b.nodes)
        kids = copy(b.kids)
        slots = copy(b.slots)
        jsonStored = copy(b.jsonStored)
        tests = copy(b.tests.map { Unmanaged.passUnretained($0) })
        testBoxes = b.tests
        tokens = b.tokens
        specials = b.specials
    }

    deinit {
        nodes.deallocate(); kids.deallocate(); slots.deallocate(); jsonStored.deallocate(); tests.deallocate()
    }

    /// `special`: evaluates a resolved special object (`@name`), the one case still walked as a tree.
    func evaluate<R: QueryRecord>(_ record: R, nowMillis: Int64, special: (Special) throws -> Bool) rethrows -> Bool {
        try eval(root, record, record.memo, nowMillis, special)
    }

    private func eval<R: QueryRecord>(_ i: Int32, _ record: R, _ memo: RecordMemo?, _ now: Int64,
                                      _ special: (Special) throws -> Bool) rethrows -> Bool {
        let n = nodes[Int(i)]
        switch n.kind {
        case .constant: return n.a != 0
        case .and:
            var k = Int(n.a)
            let end = k + Int(n.b)
            while k < end { if try !eval(kids[k], record, memo, now, special) { return false }; k += 1 }
            return true
        case .or:
            var k = Int(n.a)
            let end = k + Int(n.b)
            while k < end { if try eval(kids[k], record, memo, now, special) { return true }; k += 1 }
            return false
        case .not:
            return try !eval(n.a, record, memo, now, special)
        case .test:
            let t = Int(n.a)
            // A missing field never satisfies a test (so `not` matches it).
            guard let memo else {
                guard let value = record.value(for: tokens[t]) else { return false }
                return tests[t]._withUnsafeGuaranteedRef {
                    QueryEvaluator.check($0.test, jsonStored: jsonStored[t], value, nil, nowMillis: now)
                }
            }
            let slot = Int(slots[t])
            guard let value = memo.value(slot, { record.value(for: tokens[t]) }) else { return false }
            return tests[t]._withUnsafeGuaranteedRef {
                QueryEvaluator.check($0.test, jsonStored: jsonStored[t], value, (memo, slot), nowMillis: now)
            }
        case .special:
            return try special(specials[Int(n.a)])
        }
    }
}

final class TestBox: Sendable {
    let test: Test
    init(_ test: Test) { self.test = test }
}

/// Dense numbers for token storages, process-wide, so a `RecordMemo` is an array and not a
/// dictionary. Keyed by storage, not by name: what a record returns for a token, and how a test
/// reads it, depend only on where the token is stored, and several catalogs share token names.
/// Assigned when conditions are compiled, never per record.
public enum FieldSlots {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var slots: [TokenStorage: Int32] = [:]

    public static func slot(_ storage: TokenStorage) -> Int32 {
        lock.lock()
        defer { lock.unlock() }
        if let s = slots[storage] { return s }
        let s = Int32(slots.count)
        slots[storage] = s
        return s
    }
}

/// What the conditions evaluated on one record have already worked out about it: a rule engine
/// evaluates hundreds of conditions per event, mostly on the same few fields, and each looked
/// the field up (hashing its name), lowered it for case-insensitive tests or parsed it as a
/// number or an address again. One memo per evaluating thread; `next()` starts each record
/// (`EventRecord` calls it when it is built with a memo).
public final class RecordMemo {
    private var stamp: UInt32 = 1
    /// Per slot; pointers rather than arrays: this is read for every test of every condition,
    /// and arrays in a class pay an exclusivity check and a uniqueness check per write. The four
    /// caches are spelled out: a generic column struct for them brought the exclusivity checks
    /// back (1,000 rules: 24.5 → 28.6–30.4 CPU µs per event, `e2e-bench --detection-cpu`).
    private var capacity = 0
    private var valueStamp: UnsafeMutablePointer<UInt32>
    private var values: UnsafeMutablePointer<SQLValue?>
    private var loweredStamp: UnsafeMutablePointer<UInt32>
    private var lowered: UnsafeMutablePointer<String>
    private var numberStamp: UnsafeMutablePointer<UInt32>
    private var numbers: UnsafeMutablePointer<QNumber?>
    private var ipStamp: UnsafeMutablePointer<UInt32>
    private var ips: UnsafeMutablePointer<String?>

    public init() {
        valueStamp = .allocate(capacity: 0); values = .allocate(capacity: 0)
        loweredStamp = .allocate(capacity: 0); lowered = .allocate(capacity: 0)
        numberStamp = .allocate(capacity: 0); numbers = .allocate(capacity: 0)
        ipStamp = .allocate(capacity: 0); ips = .allocate(capacity: 0)
    }

    deinit { release() }

    private func release() {
        values.deinitialize(count: capacity); lowered.deinitialize(count: capacity)
        numbers.deinitialize(count: capacity); ips.deinitialize(count: capacity)
        for p in [valueStamp, loweredStamp, numberStamp, ipStamp] { p.deallocate() }
        values.deallocate(); lowered.deallocate(); numbers.deallocate(); ips.deallocate()
    }

    /// Forgets the previous record.
    public func next() {
        stamp &+= 1
        if stamp == 0 {
            // Wrapped after 4 billion records: clear, so no entry of 2³² records ago looks current.
            for p in [valueStamp, loweredStamp, numberStamp, ipStamp] { p.update(repeating: 0, count: capacity) }
            stamp = 1
        }
    }

    private func grow(to slot: Int) {
        let n = Swift.max(slot + 1, capacity * 2, 64)
        func moved<T>(_ old: UnsafeMutablePointer<T>, fill: T) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: n)
            p.moveInitialize(from: old, count: capacity)
            (p + capacity).initialize(repeating: fill, count: n - capacity)
            old.deallocate()
            return p
        }
        valueStamp = moved(valueStamp, fill: 0); values = moved(values, fill: nil)
        loweredStamp = moved(loweredStamp, fill: 0); lowered = moved(lowered, fill: "")
        numberStamp = moved(numberStamp, fill: 0); numbers = moved(numbers, fill: nil)
        ipStamp = moved(ipStamp, fill: 0); ips = moved(ips, fill: nil)
        capacity = n
    }

    /// The record's value in `slot`, fetched once per record.
    public func value(_ slot: Int, _ fetch: () -> SQLValue?) -> SQLValue? {
        if slot >= capacity { grow(to: slot) }
        if valueStamp[slot] == stamp { return values[slot] }
        let v = fetch()
        values[slot] = v
        valueStamp[slot] = stamp
        return v
    }

    /// `value`'s text ASCII-lowered (what `lower(CAST(x AS TEXT))` gives), once per record;
    /// `value` must be what `value(slot, …)` returned for this record.
    public func lowered(_ slot: Int, _ value: SQLValue) -> String {
        if slot >= capacity { grow(to: slot) }
        if loweredStamp[slot] == stamp { return lowered[slot] }
        let s = TextMatch.asciiLowercased(value.sqliteText)
        lowered[slot] = s
        loweredStamp[slot] = stamp
        return s
    }

    /// `value` as QQL's numeric tests read it (`jsonStored`: text is parsed, as `qql_num` does),
    /// once per record; `value` must be what `value(slot, …)` returned for this record.
    public func number(_ slot: Int, _ value: SQLValue, jsonStored: Bool) -> QNumber? {
        if slot >= capacity { grow(to: slot) }
        if numberStamp[slot] == stamp { return numbers[slot] }
        let n = QueryEvaluator.numericValue(jsonStored: jsonStored, value)
        numbers[slot] = n
        numberStamp[slot] = stamp
        return n
    }

    func ipKey(_ slot: Int, _ value: SQLValue) -> String? {
        if slot >= capacity { grow(to: slot) }
        if ipStamp[slot] == stamp { return ips[slot] }
        let k = QQLFunctions.ipKey(value)
        ips[slot] = k
        ipStamp[slot] = stamp
        return k
    }
}

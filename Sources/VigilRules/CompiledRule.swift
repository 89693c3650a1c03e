import VigilWire
import VigilEvents
import VigilQuery

/// A rule ready to evaluate: its conditions bound to the events catalog, their index
/// requirements, and the group-by accessors.
final class CompiledRule {
    let ruleBox: RuleBox
    var rule: Rule { _read { yield ruleBox.rule } }
    let active: Bool
    let conditions: [Condition]
    let requirements: [Requirement?]
    /// `requirements` in the form checked per event.
    let requiredLiterals: [RequiredLiteral?]
    /// Per condition, unretained references for the per-candidate path (`conditions` and
    /// `requiredLiterals` own them): reading a class reference out of an array retains it.
    private let literalRefs: UnsafeMutablePointer<Unmanaged<RequiredLiteral>?>
    private let queryRefs: UnsafeMutablePointer<Unmanaged<QueryEvaluator>?>
    let groupBy: [FieldAccess]
    let distinctField: FieldAccess?
    /// `rule.detection`'s kind and numbers, read per candidate instead of the detection (whose
    /// conditions and group-by lists a switch on it copies and retains).
    let shape: Shape
    let suppressionMs: Int64
    enum Shape {
        case match
        case threshold(count: Int, windowMs: Int64)
        case distinct(count: Int, windowMs: Int64)
        /// `counts`: each step's count.
        case sequence(counts: [Int], windowMs: Int64)
        case temporal(steps: Int, windowMs: Int64)
        case absence(windowMs: Int64)
    }
    /// Condition 0 when it is a predicate (read per candidate: switching on `conditions[0]` copies the enum).
    let firstPredicate: PredicateEvaluator?

    init(_ rule: Rule, forceActive: Bool = false) throws {
        ruleBox = RuleBox(rule)
        active = forceActive || rule.status == .active
        conditions = try rule.detection.conditions.map { try Condition($0) }
        requirements = conditions.map {
            switch $0 {
            case .qql(let q): return Requirement.of(q.query)
            case .predicate(let p): return Requirement.of(p.predicate)
            }
        }
        requiredLiterals = requirements.map { $0.map(RequiredLiteral.init) }
        literalRefs = .allocate(capacity: max(1, conditions.count))
        literalRefs.initialize(from: requiredLiterals.map { $0.map(Unmanaged.passUnretained) }, count: conditions.count)
        queryRefs = .allocate(capacity: max(1, conditions.count))
        queryRefs.initialize(from: conditions.map { if case .qql(let q) = $0 { return Unmanaged.passUnretained(q) }; return nil }, count: conditions.count)
        if case .predicate(let p)? = conditions.first { firstPredicate = p } else { firstPredicate = nil }
        groupBy = rule.detection.groupBy.map(FieldAccess.init)
        switch rule.detection {
        case .match: shape = .match
        case .threshold(_, let n, _, let w): shape = .threshold(count: n, windowMs: w)
        case .distinct(_, _, let n, _, let w): shape = .distinct(count: n, windowMs: w)
        case .sequence(let steps, _, let w): shape = .sequence(counts: steps.map(\.count), windowMs: w)
        case .temporal(let steps, _, let w): shape = .temporal(steps: steps.count, windowMs: w)
        case .absence(_, _, _, let w): shape = .absence(windowMs: w)
        }
        suppressionMs = rule.suppressionMs
        if case .distinct(_, let f, _, _, _) = rule.detection { distinctField = FieldAccess(f) } else { distinctField = nil }
    }

    deinit { literalRefs.deallocate(); queryRefs.deallocate() }

    /// Condition `i` on one event; the cheap literal check first. An evaluation error (an
    /// unknown special object, say) counts as no match.
    /// `indexed`: the engine's index already selected this rule by condition `i`'s requirement
    /// (a one-condition rule), so it holds and is not checked again.
    func matches(_ i: Int, _ record: EventRecord, _ context: QueryContext, indexed: Bool = false) -> Bool {
        if !(indexed && conditions.count == 1), let r = literalRefs[i], !r._withUnsafeGuaranteedRef({ $0.holds(record) }) { return false }
        if let q = queryRefs[i] { return q._withUnsafeGuaranteedRef { (try? $0.matches(record, context: context)) == true } }
        // Not QQL, so a predicate.
        if i == 0, let p = firstPredicate { return p.bound?.matches(record.event) ?? p.matches(record.event) }
        guard case .predicate(let p) = conditions[i] else { return false }
        return p.bound?.matches(record.event) ?? p.matches(record.event)
    }

    /// A plain match rule (read per candidate: cheaper than matching on `rule.detection`, which copies it).
    var isMatch: Bool {
        if case .match = shape { return true }
        return false
    }
}

/// A condition in either form: QQL over the events list, or a field predicate (`@predicate …`, what Sigma compiles to).
enum Condition {
    case qql(QueryEvaluator)
    case predicate(PredicateEvaluator)

    init(_ text: String) throws {
        if text.hasPrefix(Predicate.prefix) { self = .predicate(try PredicateEvaluator(try Predicate.parse(condition: text))) } else {
            self = .qql(try QueryEvaluator(text, catalog: EventCatalog.catalog))
        }
    }
}

/// One rule's correlation state for one group key; checkpointed as JSON (short keys).
struct GroupState: Codable, Equatable {
    struct Hit: Codable, Equatable {
        var t: Int64
        var id: String
    }
    /// Engine touch counter: least recently touched groups are evicted first.
    var touched: Int64 = 0
    /// threshold: matching events in time order; sequence: the partial's events; absence: the pending first event.
    var hits: [Hit] = []
    /// distinct: value → its latest event.
    var values: [String: Hit] = [:]
    /// sequence: current step, events counted in it, window start.
    var step = 0
    var stepHits = 0
    /// Suppressed (event time) before this.
    var quietUntil: Int64 = 0

    enum CodingKeys: String, CodingKey { case touched = "u", hits = "h", values = "v", step = "s", stepHits = "n", quietUntil = "q" }

    var isEmpty: Bool { hits.isEmpty && values.isEmpty && step == 0 && stepHits == 0 }
}

/// An immutable rule shared by reference (engine and hits).
final class RuleBox: Sendable {
    let rule: Rule
    /// The rule's first tactic and technique, made once (each signal carries it).
    let mitre: Mitre
    init(_ rule: Rule) { self.rule = rule; mitre = rule.primaryMitre }
}

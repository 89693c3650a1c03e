import VigilEvents
import VigilQuery

/// A rule ready to evaluate: its conditions bound to the events catalog, their index
/// requirements, and the group-by accessors.
final class CompiledRule {
    let rule: Rule
    let active: Bool
    let conditions: [QueryEvaluator]
    let requirements: [Requirement?]
    let groupBy: [FieldAccess]
    let distinctField: FieldAccess?

    init(_ rule: Rule, forceActive: Bool = false) throws {
        self.rule = rule
        active = forceActive || rule.status == .active
        conditions = try rule.detection.conditions.map { try QueryEvaluator($0, catalog: EventCatalog.catalog) }
        requirements = conditions.map { Requirement.of($0.query) }
        groupBy = rule.detection.groupBy.map(FieldAccess.init)
        if case .distinct(_, let f, _, _, _) = rule.detection { distinctField = FieldAccess(f) } else { distinctField = nil }
    }

    /// Condition `i` on one event; the cheap literal check first. An evaluation error (an
    /// unknown special object, say) counts as no match.
    func matches(_ i: Int, _ record: EventRecord, _ context: QueryContext) -> Bool {
        if let r = requirements[i], !r.holds(record) { return false }
        return (try? conditions[i].matches(record, context: context)) == true
    }

    var windowMs: Int64 {
        switch rule.detection {
        case .match: return 0
        case .threshold(_, _, _, let w), .distinct(_, _, _, _, let w), .sequence(_, _, let w), .absence(_, _, _, let w): return w
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

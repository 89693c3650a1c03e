import VigilWire

/// A detection rule: data, versioned, readable by a person (docs/rules.md is the reference).
public struct Rule: Sendable, Equatable {
    public static let schemaVersion = 1

    public var id: String
    public var name: String
    public var description: String = ""
    public var version: Int = 1
    public var author: String = ""
    /// The library rule (or other rule) this one was copied from; empty for originals.
    public var derivedFrom: String = ""
    /// Milliseconds since the epoch.
    public var createdMs: Int64 = 0
    public var modifiedMs: Int64 = 0
    public var status: RuleStatus = .inactive
    public var tactics: [MitreRef] = []
    public var techniques: [MitreRef] = []
    public var criticality: Criticality = .medium
    /// 0–100; the signal's risk starts here.
    public var riskScore: Int = 50
    /// `event.format` values this rule applies to; empty means every format.
    public var logSources: [String] = []
    public var detection: Detection
    /// After a signal for a group key, the same rule stays silent for that key this long (event time).
    public var suppressionMs: Int64 = 0
    /// Response template ids; stored and carried, run by the response service.
    public var responses: [String] = []
    public var tests: [RuleTest] = []

    public init(id: String, name: String, detection: Detection) {
        self.id = id
        self.name = name
        self.detection = detection
    }

    /// The primary ATT&CK mapping, as signals carry one tactic and one technique.
    public var primaryMitre: Mitre {
        Mitre(tacticId: tactics.first?.id ?? "", tacticName: tactics.first?.name ?? "",
              techniqueId: techniques.first?.id ?? "", techniqueName: techniques.first?.name ?? "")
    }
}

public enum RuleStatus: String, Sendable, Equatable, CaseIterable {
    case active, inactive
}

public struct MitreRef: Sendable, Equatable {
    public var id: String
    public var name: String
    public init(id: String, name: String) { self.id = id; self.name = name }
}

/// What makes a rule fire.
public enum Detection: Sendable, Equatable {
    /// One event satisfies the condition. `groupBy` only keys suppression.
    case match(condition: String, groupBy: [String])
    /// At least `count` matching events for the same group within `windowMs`.
    case threshold(condition: String, count: Int, groupBy: [String], windowMs: Int64)
    /// At least `count` distinct values of `field` among matching events of one group within `windowMs`.
    case distinct(condition: String, field: String, count: Int, groupBy: [String], windowMs: Int64)
    /// The steps in order (each `count` times), same group, all within `windowMs` of the first.
    case sequence(steps: [SequenceStep], groupBy: [String], windowMs: Int64)
    /// An event matching `condition` not followed by one matching `absent` for the same group within `windowMs`.
    case absence(condition: String, absent: String, groupBy: [String], windowMs: Int64)
    /// Every step matched (once each, in any order), same group, all within `windowMs` (Sigma `temporal`).
    case temporal(steps: [SequenceStep], groupBy: [String], windowMs: Int64)

    public var type: String {
        switch self {
        case .match: return "match"
        case .threshold: return "threshold"
        case .distinct: return "distinct"
        case .sequence: return "sequence"
        case .absence: return "absence"
        case .temporal: return "temporal"
        }
    }

    public var groupBy: [String] {
        switch self {
        case .match(_, let g), .threshold(_, _, let g, _), .distinct(_, _, _, let g, _), .sequence(_, let g, _), .absence(_, _, let g, _), .temporal(_, let g, _): return g
        }
    }

    /// Every QQL condition the detection evaluates, in a fixed order (the engine's slots).
    public var conditions: [String] {
        switch self {
        case .match(let c, _), .threshold(let c, _, _, _), .distinct(let c, _, _, _, _): return [c]
        case .sequence(let steps, _, _), .temporal(let steps, _, _): return steps.map(\.condition)
        case .absence(let a, let b, _, _): return [a, b]
        }
    }
}

public struct SequenceStep: Sendable, Equatable {
    public var name: String
    public var condition: String
    public var count: Int
    public init(name: String = "", condition: String, count: Int = 1) {
        self.name = name; self.condition = condition; self.count = count
    }
}

/// Example events with the expected outcome: the rule's own regression test.
public struct RuleTest: Sendable, Equatable {
    public enum Expectation: String, Sendable, Equatable { case fire, noFire = "no_fire" }
    public var name: String
    public var expect: Expectation
    /// Exact number of signals, when the test says so.
    public var signals: Int?
    public var events: [Event]
    public init(name: String, expect: Expectation, signals: Int? = nil, events: [Event]) {
        self.name = name; self.expect = expect; self.signals = signals; self.events = events
    }
}

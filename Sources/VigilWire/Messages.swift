// Swift value types for the wire contract (Protos/vigil/v1). Everything above VigilWire
// works with these; only this module touches protobuf-c structs.

public enum ParseStatus: Int32, Sendable, Equatable {
    case unspecified = 0, parsed = 1, unparsed = 2
}

public struct Event: Sendable, Equatable {
    public var id: String = ""
    public var eventTimeMs: Int64 = 0
    public var receivedTimeMs: Int64 = 0
    public var source: String = ""
    public var format: String = ""
    public var raw: [UInt8] = []
    public var parseStatus: ParseStatus = .unspecified
    public var parseError: String = ""
    public var fields: [String: String] = [:]
    public var original: [String: String] = [:]
    public var enriched: [String: String] = [:]
    public var partitionKey: String = ""
    public var partition: UInt32 = 0
    public var sender: String = ""
    public init() {}
}

public struct EventBatch: Sendable, Equatable {
    public var batchId: String = ""
    public var agentId: String = ""
    public var events: [Event] = []
    public init() {}
}

public struct EventBatchAck: Sendable, Equatable {
    public var batchId: String = ""
    public var accepted: UInt32 = 0
    public var unparsed: UInt32 = 0
    public var duplicate: Bool = false
    public init() {}
}

public enum Criticality: Int32, Sendable, Equatable, CaseIterable {
    case unspecified = 0, low = 1, medium = 2, high = 3, critical = 4
    /// The lower-case name used in topics (`signals.high.…`) and by people.
    public var name: String {
        switch self {
        case .unspecified: return "unspecified"
        case .low: return "low"
        case .medium: return "medium"
        case .high: return "high"
        case .critical: return "critical"
        }
    }
    public init?(name: String) {
        guard let c = Criticality.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = c
    }
}

public struct Mitre: Sendable, Equatable {
    public var tacticId = "", tacticName = "", techniqueId = "", techniqueName = ""
    public init(tacticId: String = "", tacticName: String = "", techniqueId: String = "", techniqueName: String = "") {
        self.tacticId = tacticId; self.tacticName = tacticName
        self.techniqueId = techniqueId; self.techniqueName = techniqueName
    }
}

public struct Entity: Sendable, Equatable {
    public var user = "", asset = "", ip = ""
    public init(user: String = "", asset: String = "", ip: String = "") {
        self.user = user; self.asset = asset; self.ip = ip
    }
}

public struct Signal: Sendable, Equatable {
    public var id = ""
    public var ruleId = ""
    public var ruleVersion: UInt32 = 0
    public var ruleName = ""
    public var mitre = Mitre()
    public var criticality: Criticality = .unspecified
    public var riskScore: UInt32 = 0
    public var entity = Entity()
    public var groupKey = ""
    public var eventIds: [String] = []
    public var createdTimeMs: Int64 = 0
    public var firstEventTimeMs: Int64 = 0
    public var lastEventTimeMs: Int64 = 0
    public var description = ""
    /// The rule's `responses`: template ids the response service renders and delivers.
    public var responseTemplateIds: [String] = []
    public init() {}

    /// `signals.<criticality>.<tactic>`, tactic as a lower-case slug ("credential-access").
    public var topic: String {
        let tactic = mitre.tacticName.isEmpty ? "none" : Signal.slug(mitre.tacticName)
        return "signals.\(criticality.name).\(tactic)"
    }

    public static func slug(_ s: String) -> String {
        var out = ""
        var lastDash = false
        for ch in s.lowercased() {
            if ch.isLetter || ch.isNumber { out.append(ch); lastDash = false }
            else if !lastDash && !out.isEmpty { out.append("-"); lastDash = true }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return out
    }
}

public enum EnvelopeKind: Int32, Sendable, Equatable {
    case unspecified = 0, data = 1, head = 2
    /// Consecutive messages of one stream in one bus message (`payloads`, first `sequence`).
    case batch = 3
}

public struct StreamEnvelope: Sendable, Equatable {
    public var producerId = ""
    public var stream = ""
    public var sequence: UInt64 = 0
    public var kind: EnvelopeKind = .data
    public var topic = ""
    public var payloadType = ""
    public var payload: [UInt8] = []
    public var producedTimeMs: Int64 = 0
    /// BATCH only: message `i` has sequence `sequence + i` and was produced at `producedTimesMs[i]`.
    public var payloads: [[UInt8]] = []
    public var producedTimesMs: [Int64] = []
    public init() {}

    /// One BATCH envelope holding `messages` (DATA envelopes of one stream, topic and payload
    /// type, with consecutive sequences: the caller's to ensure).
    public init<C: BidirectionalCollection>(batch messages: C) where C.Element == StreamEnvelope {
        self.init()
        guard let first = messages.first, let last = messages.last else { return }
        producerId = first.producerId
        stream = first.stream
        sequence = first.sequence
        kind = .batch
        topic = first.topic
        payloadType = first.payloadType
        producedTimeMs = last.producedTimeMs
        payloads = messages.map(\.payload)
        producedTimesMs = messages.map(\.producedTimeMs)
    }

    /// The DATA messages this envelope carries: itself for DATA and HEAD, the expanded payloads
    /// for BATCH; nil for a BATCH that is empty or whose times do not match its payloads.
    public func messages() -> [StreamEnvelope]? {
        guard kind == .batch else { return [self] }
        guard !payloads.isEmpty, payloads.count == producedTimesMs.count,
              sequence > 0, sequence <= UInt64.max - UInt64(payloads.count) else { return nil }
        var one = self
        one.kind = .data
        one.payloads = []
        one.producedTimesMs = []
        var out: [StreamEnvelope] = []
        out.reserveCapacity(payloads.count)
        for i in payloads.indices {
            one.sequence = sequence + UInt64(i)
            one.payload = payloads[i]
            one.producedTimeMs = producedTimesMs[i]
            out.append(one)
        }
        return out
    }
}

public struct ReplayRequest: Sendable, Equatable {
    public var stream = ""
    public var fromSequence: UInt64 = 0
    public var maxMessages: UInt32 = 0
    public init(stream: String = "", fromSequence: UInt64 = 0, maxMessages: UInt32 = 0) {
        self.stream = stream; self.fromSequence = fromSequence; self.maxMessages = maxMessages
    }
}

public struct ReplayResponse: Sendable, Equatable {
    public var messages: [StreamEnvelope] = []
    public var head: UInt64 = 0
    public var firstRetained: UInt64 = 0
    public init() {}
}

public struct AckRequest: Sendable, Equatable {
    public var consumerId = ""
    public var stream = ""
    public var sequence: UInt64 = 0
    public init(consumerId: String = "", stream: String = "", sequence: UInt64 = 0) {
        self.consumerId = consumerId; self.stream = stream; self.sequence = sequence
    }
}

public enum ErrorCode: Int32, Sendable, Equatable {
    case ok = 0, badRequest = 1, notFound = 2, unavailable = 3, permissionDenied = 4
    case `internal` = 5, timeout = 6, unknownMethod = 7, resourceExhausted = 8
}

public struct Identity: Sendable, Equatable {
    public var name = "", role = ""
    public init(name: String = "", role: String = "") { self.name = name; self.role = role }
}

public struct RpcRequest: Sendable, Equatable {
    public var method = ""
    public var requestId = ""
    public var caller = Identity()
    public var payload: [UInt8] = []
    public init(method: String = "", requestId: String = "", caller: Identity = Identity(), payload: [UInt8] = []) {
        self.method = method; self.requestId = requestId; self.caller = caller; self.payload = payload
    }
}

public struct RpcResponse: Sendable, Equatable {
    public var requestId = ""
    public var errorCode: ErrorCode = .ok
    public var errorMessage = ""
    public var payload: [UInt8] = []
    public var instance = ""
    public init(requestId: String = "", errorCode: ErrorCode = .ok, errorMessage: String = "",
                payload: [UInt8] = [], instance: String = "") {
        self.requestId = requestId; self.errorCode = errorCode; self.errorMessage = errorMessage
        self.payload = payload; self.instance = instance
    }
}

public struct StreamLag: Sendable, Equatable {
    public var producerId = "", stream = ""
    public var position: UInt64 = 0, head: UInt64 = 0
    public init(producerId: String = "", stream: String = "", position: UInt64 = 0, head: UInt64 = 0) {
        self.producerId = producerId; self.stream = stream; self.position = position; self.head = head
    }
    public var lag: UInt64 { head > position ? head - position : 0 }
}

public struct HealthResponse: Sendable, Equatable {
    public var service = "", instance = "", status = ""
    public var startedTimeMs: Int64 = 0
    public var pid: UInt32 = 0
    public var version = "", detail = ""
    public init() {}
}

public struct MetricsResponse: Sendable, Equatable {
    public var service = "", instance = ""
    public var counters: [String: UInt64] = [:]
    public var lags: [StreamLag] = []
    public init() {}
}

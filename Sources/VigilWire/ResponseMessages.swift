import CProtobufC
import VigilProto

// Response messages (Protos/vigil/v1/response.proto): delivery status of notifications,
// template documents and per-template statistics. Swift values and their protobuf-c conversion.

public enum DeliveryStatus: Int32, Sendable, Equatable {
    case unspecified = 0, pending = 1, delivered = 2, dead = 3
    public var name: String {
        switch self {
        case .unspecified: return "unspecified"
        case .pending: return "pending"
        case .delivered: return "delivered"
        case .dead: return "dead"
        }
    }
}

public struct Response: Sendable, Equatable {
    public var id = "", signalId = "", templateId = "", templateName = "", channel = "", destination = ""
    public var status: DeliveryStatus = .unspecified
    public var attempts: UInt32 = 0
    public var lastError = ""
    public var createdTimeMs: Int64 = 0, updatedTimeMs: Int64 = 0, nextAttemptTimeMs: Int64 = 0
    public var ruleId = ""
    /// An earlier attempt's outcome is unknown (the service stopped during it), so this
    /// notification was sent again with the same idempotency key.
    public var redelivered = false
    public init() {}
}

public struct ResponseList: Sendable, Equatable {
    public var responses: [Response] = []
    public init(responses: [Response] = []) { self.responses = responses }
}

public struct ResponseRequest: Sendable, Equatable {
    public var signalId = "", responseId = ""
    public init(signalId: String = "", responseId: String = "") { self.signalId = signalId; self.responseId = responseId }
}

public struct TemplateRequest: Sendable, Equatable {
    public var id = "", templateJson = ""
    public init(id: String = "", templateJson: String = "") { self.id = id; self.templateJson = templateJson }
}

public struct TemplateDocument: Sendable, Equatable {
    public var json = ""
    public init(json: String = "") { self.json = json }
}

public struct TemplateStats: Sendable, Equatable {
    public var templateId = "", channel = ""
    public var pending: UInt64 = 0, delivered: UInt64 = 0, dead: UInt64 = 0, attempts: UInt64 = 0
    public var lastDeliveredTimeMs: Int64 = 0
    public init() {}
}

public struct ResponseStatsList: Sendable, Equatable {
    public var templates: [TemplateStats] = []
    public init(templates: [TemplateStats] = []) { self.templates = templates }
}

// MARK: - helpers

private func boxes<T>(_ a: Arena, _ items: [T]) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<T>?>?) {
    if items.isEmpty { return (0, nil) }
    let arr = a.allocate(UnsafeMutablePointer<T>?.self, count: items.count)
    for (i, x) in items.enumerated() { arr[i] = a.box(x) }
    return (items.count, arr)
}

private func unboxed<T, R>(_ p: UnsafeMutablePointer<UnsafeMutablePointer<T>?>?, _ n: Int, _ f: (T) -> R) -> [R] {
    guard let p else { return [] }
    return (0..<n).compactMap { p[$0].map { f($0.pointee) } }
}

// MARK: - Response

extension Response: WireMessage {
    public static let typeName = "vigil.v1.Response"

    func cValue(_ a: Arena) -> Vigil__V1__Response {
        var c = Vigil__V1__Response()
        vigil__v1__response__init(&c)
        c.id = a.string(id); c.signal_id = a.string(signalId); c.template_id = a.string(templateId)
        c.template_name = a.string(templateName); c.channel = a.string(channel); c.destination = a.string(destination)
        c.status = .init(rawValue: numericCast(status.rawValue))
        c.attempts = attempts; c.last_error = a.string(lastError)
        c.created_time_ms = createdTimeMs; c.updated_time_ms = updatedTimeMs; c.next_attempt_time_ms = nextAttemptTimeMs
        c.rule_id = a.string(ruleId); c.redelivered = redelivered ? 1 : 0
        return c
    }

    init(c: Vigil__V1__Response) {
        self.init()
        id = swiftString(c.id); signalId = swiftString(c.signal_id); templateId = swiftString(c.template_id)
        templateName = swiftString(c.template_name); channel = swiftString(c.channel); destination = swiftString(c.destination)
        status = DeliveryStatus(rawValue: numericCast(c.status.rawValue)) ?? .unspecified
        attempts = c.attempts; lastError = swiftString(c.last_error)
        createdTimeMs = c.created_time_ms; updatedTimeMs = c.updated_time_ms; nextAttemptTimeMs = c.next_attempt_time_ms
        ruleId = swiftString(c.rule_id); redelivered = c.redelivered != 0
    }

    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = cValue(a)
        return pack(&c, vigil__v1__response__get_packed_size, vigil__v1__response__pack)
    }

    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__response__unpack(nil, $0, $1) },
                          { vigil__v1__response__free_unpacked($0, nil) }) { Response(c: $0) }
    }
}

extension ResponseList: WireMessage {
    public static let typeName = "vigil.v1.ResponseList"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__ResponseList()
        vigil__v1__response_list__init(&c)
        (c.n_responses, c.responses) = boxes(a, responses.map { $0.cValue(a) })
        return pack(&c, vigil__v1__response_list__get_packed_size, vigil__v1__response_list__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__response_list__unpack(nil, $0, $1) },
                          { vigil__v1__response_list__free_unpacked($0, nil) }) {
            ResponseList(responses: unboxed($0.responses, $0.n_responses, Response.init(c:)))
        }
    }
}

extension ResponseRequest: WireMessage {
    public static let typeName = "vigil.v1.ResponseRequest"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__ResponseRequest()
        vigil__v1__response_request__init(&c)
        c.signal_id = a.string(signalId); c.response_id = a.string(responseId)
        return pack(&c, vigil__v1__response_request__get_packed_size, vigil__v1__response_request__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__response_request__unpack(nil, $0, $1) },
                          { vigil__v1__response_request__free_unpacked($0, nil) }) {
            ResponseRequest(signalId: swiftString($0.signal_id), responseId: swiftString($0.response_id))
        }
    }
}

extension TemplateRequest: WireMessage {
    public static let typeName = "vigil.v1.TemplateRequest"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__TemplateRequest()
        vigil__v1__template_request__init(&c)
        c.id = a.string(id); c.template_json = a.string(templateJson)
        return pack(&c, vigil__v1__template_request__get_packed_size, vigil__v1__template_request__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__template_request__unpack(nil, $0, $1) },
                          { vigil__v1__template_request__free_unpacked($0, nil) }) {
            TemplateRequest(id: swiftString($0.id), templateJson: swiftString($0.template_json))
        }
    }
}

extension TemplateDocument: WireMessage {
    public static let typeName = "vigil.v1.TemplateDocument"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__TemplateDocument()
        vigil__v1__template_document__init(&c)
        c.json = a.string(json)
        return pack(&c, vigil__v1__template_document__get_packed_size, vigil__v1__template_document__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__template_document__unpack(nil, $0, $1) },
                          { vigil__v1__template_document__free_unpacked($0, nil) }) { TemplateDocument(json: swiftString($0.json)) }
    }
}

extension TemplateStats {
    func cValue(_ a: Arena) -> Vigil__V1__TemplateStats {
        var c = Vigil__V1__TemplateStats()
        vigil__v1__template_stats__init(&c)
        c.template_id = a.string(templateId); c.channel = a.string(channel)
        c.pending = pending; c.delivered = delivered; c.dead = dead; c.attempts = attempts
        c.last_delivered_time_ms = lastDeliveredTimeMs
        return c
    }
    init(c: Vigil__V1__TemplateStats) {
        self.init()
        templateId = swiftString(c.template_id); channel = swiftString(c.channel)
        pending = c.pending; delivered = c.delivered; dead = c.dead; attempts = c.attempts
        lastDeliveredTimeMs = c.last_delivered_time_ms
    }
}

extension ResponseStatsList: WireMessage {
    public static let typeName = "vigil.v1.ResponseStatsList"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__ResponseStatsList()
        vigil__v1__response_stats_list__init(&c)
        (c.n_templates, c.templates) = boxes(a, templates.map { $0.cValue(a) })
        return pack(&c, vigil__v1__response_stats_list__get_packed_size, vigil__v1__response_stats_list__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__response_stats_list__unpack(nil, $0, $1) },
                          { vigil__v1__response_stats_list__free_unpacked($0, nil) }) {
            ResponseStatsList(templates: unboxed($0.templates, $0.n_templates, TemplateStats.init(c:)))
        }
    }
}

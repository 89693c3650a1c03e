import CProtobufC
import VigilProto

// Config messages (Protos/vigil/v1/config.proto): changes on `config.changed`, requests and
// replies of the config RPCs, and the snapshot a starting service loads.

public struct ConfigChange: Sendable, Equatable {
    public var sequence: UInt64 = 0
    public var kind = "", id = "", action = "", objectJSON = "", actor = ""
    public var timeMs: Int64 = 0
    /// The object before the change (updates and deletes); empty for creates and snapshots.
    public var previousJSON = ""
    public init(sequence: UInt64 = 0, kind: String = "", id: String = "", action: String = "",
                objectJSON: String = "", actor: String = "", timeMs: Int64 = 0, previousJSON: String = "") {
        self.sequence = sequence; self.kind = kind; self.id = id; self.action = action
        self.objectJSON = objectJSON; self.actor = actor; self.timeMs = timeMs; self.previousJSON = previousJSON
    }
}

public struct ConfigRequest: Sendable, Equatable {
    public var kind = "", id = "", objectJSON = ""
    public var confirm = false
    public var limit: UInt32 = 0
    public init(kind: String = "", id: String = "", objectJSON: String = "", confirm: Bool = false, limit: UInt32 = 0) {
        self.kind = kind; self.id = id; self.objectJSON = objectJSON; self.confirm = confirm; self.limit = limit
    }
}

public struct ConfigReply: Sendable, Equatable {
    public var json = ""
    public var nextCursor = ""
    public init(json: String = "", nextCursor: String = "") { self.json = json; self.nextCursor = nextCursor }
}

public struct ConfigSnapshot: Sendable, Equatable {
    public var head: UInt64 = 0
    public var objects: [ConfigChange] = []
    public var producerId = ""
    public init(head: UInt64 = 0, objects: [ConfigChange] = [], producerId: String = "") {
        self.head = head; self.objects = objects; self.producerId = producerId
    }
}

extension ConfigChange: WireMessage {
    public static let typeName = "vigil.v1.ConfigChange"

    func cValue(_ a: Arena) -> Vigil__V1__ConfigChange {
        var c = Vigil__V1__ConfigChange()
        vigil__v1__config_change__init(&c)
        c.sequence = sequence
        c.kind = a.string(kind)
        c.id = a.string(id)
        c.action = a.string(action)
        c.object_json = a.string(objectJSON)
        c.actor = a.string(actor)
        c.time_ms = timeMs
        c.previous_json = a.string(previousJSON)
        return c
    }

    init(c m: Vigil__V1__ConfigChange) {
        self.init(sequence: m.sequence, kind: swiftString(m.kind), id: swiftString(m.id), action: swiftString(m.action),
                  objectJSON: swiftString(m.object_json), actor: swiftString(m.actor), timeMs: m.time_ms,
                  previousJSON: swiftString(m.previous_json))
    }

    public func encoded() -> [UInt8] {
        let arena = Arena()
        var c = cValue(arena)
        return packed(&c, size: vigil__v1__config_change__get_packed_size, pack: vigil__v1__config_change__pack)
    }

    public init(decoding bytes: [UInt8]) throws {
        self = try unpacked(bytes, type: Self.typeName,
                            unpack: { vigil__v1__config_change__unpack(nil, $0, $1) },
                            free: { vigil__v1__config_change__free_unpacked($0, nil) },
                            convert: { ConfigChange(c: $0.pointee) })
    }
}

extension ConfigRequest: WireMessage {
    public static let typeName = "vigil.v1.ConfigRequest"

    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__ConfigRequest()
        vigil__v1__config_request__init(&c)
        c.kind = a.string(kind)
        c.id = a.string(id)
        c.object_json = a.string(objectJSON)
        c.confirm = confirm ? 1 : 0
        c.limit = limit
        return packed(&c, size: vigil__v1__config_request__get_packed_size, pack: vigil__v1__config_request__pack)
    }

    public init(decoding bytes: [UInt8]) throws {
        self = try unpacked(bytes, type: Self.typeName,
                            unpack: { vigil__v1__config_request__unpack(nil, $0, $1) },
                            free: { vigil__v1__config_request__free_unpacked($0, nil) },
                            convert: { p in
            let m = p.pointee
            return ConfigRequest(kind: swiftString(m.kind), id: swiftString(m.id), objectJSON: swiftString(m.object_json),
                                 confirm: m.confirm != 0, limit: m.limit)
        })
    }
}

extension ConfigReply: WireMessage {
    public static let typeName = "vigil.v1.ConfigReply"

    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__ConfigReply()
        vigil__v1__config_reply__init(&c)
        c.json = a.string(json)
        c.next_cursor = a.string(nextCursor)
        return packed(&c, size: vigil__v1__config_reply__get_packed_size, pack: vigil__v1__config_reply__pack)
    }

    public init(decoding bytes: [UInt8]) throws {
        self = try unpacked(bytes, type: Self.typeName,
                            unpack: { vigil__v1__config_reply__unpack(nil, $0, $1) },
                            free: { vigil__v1__config_reply__free_unpacked($0, nil) },
                            convert: { ConfigReply(json: swiftString($0.pointee.json), nextCursor: swiftString($0.pointee.next_cursor)) })
    }
}

extension ConfigSnapshot: WireMessage {
    public static let typeName = "vigil.v1.ConfigSnapshot"

    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__ConfigSnapshot()
        vigil__v1__config_snapshot__init(&c)
        c.head = head
        c.producer_id = a.string(producerId)
        if !objects.isEmpty {
            let arr = a.allocate(UnsafeMutablePointer<Vigil__V1__ConfigChange>?.self, count: objects.count)
            for (i, o) in objects.enumerated() { arr[i] = a.box(o.cValue(a)) }
            c.n_objects = objects.count
            c.objects = arr
        }
        return packed(&c, size: vigil__v1__config_snapshot__get_packed_size, pack: vigil__v1__config_snapshot__pack)
    }

    public init(decoding bytes: [UInt8]) throws {
        self = try unpacked(bytes, type: Self.typeName,
                            unpack: { vigil__v1__config_snapshot__unpack(nil, $0, $1) },
                            free: { vigil__v1__config_snapshot__free_unpacked($0, nil) },
                            convert: { p in
            var s = ConfigSnapshot(head: p.pointee.head, producerId: swiftString(p.pointee.producer_id))
            if let arr = p.pointee.objects {
                for i in 0..<p.pointee.n_objects { if let o = arr[i] { s.objects.append(ConfigChange(c: o.pointee)) } }
            }
            return s
        })
    }
}

import CProtobufC
import VigilProto

// Conversions between the Swift values in Messages.swift and protobuf-c structs.
// Encoding builds C structs in an Arena, packs, and frees; decoding unpacks, copies into
// Swift values, and frees the unpacked message. No C pointer leaves this file.

@inline(__always)
func packed<C>(_ message: UnsafePointer<C>,
                       size: (UnsafePointer<C>) -> Int,
                       pack: (UnsafePointer<C>, UnsafeMutablePointer<UInt8>) -> Int) -> [UInt8] {
    let n = size(message)
    if n == 0 { return [] }
    return [UInt8](unsafeUninitializedCapacity: n) { buf, count in
        count = pack(message, buf.baseAddress!)
    }
}

@inline(__always)
func unpacked<C, R>(_ bytes: [UInt8], type: String,
                            unpack: (Int, UnsafePointer<UInt8>) -> UnsafeMutablePointer<C>?,
                            free: (UnsafeMutablePointer<C>) -> Void,
                            convert: (UnsafePointer<C>) -> R) throws -> R {
    // An empty buffer is a valid encoding of a message with all default values.
    var one: UInt8 = 0
    let ptr: UnsafeMutablePointer<C>? = bytes.isEmpty
        ? withUnsafePointer(to: &one) { unpack(0, $0) }
        : bytes.withUnsafeBufferPointer { unpack($0.count, $0.baseAddress!) }
    guard let ptr else { throw WireError(code: .malformed, messageType: type, byteCount: bytes.count) }
    defer { free(ptr) }
    return convert(UnsafePointer(ptr))
}

/// `unpacked` with the thread's bump allocator (Arena.swift): no malloc per field and no
/// free_unpacked walk. Same inputs accepted and the same error for the rest: the allocator does
/// not change what protobuf-c parses, only where the unpacked structs live.
@inline(__always)
func unpackedInArena<C, R>(_ bytes: [UInt8], type: String,
                           unpack: (UnsafeMutablePointer<ProtobufCAllocator>?, Int, UnsafePointer<UInt8>) -> UnsafeMutablePointer<C>?,
                           free: (UnsafeMutablePointer<C>, UnsafeMutablePointer<ProtobufCAllocator>?) -> Void,
                           convert: (UnsafePointer<C>, UnsafeMutablePointer<UnpackArenaState>?) -> R) throws -> R {
    try withUnpackAllocator { allocator, state in
        var one: UInt8 = 0
        let ptr: UnsafeMutablePointer<C>? = bytes.isEmpty
            ? withUnsafePointer(to: &one) { unpack(allocator, 0, $0) }
            : bytes.withUnsafeBufferPointer { unpack(allocator, $0.count, $0.baseAddress!) }
        guard let ptr else { throw WireError(code: .malformed, messageType: type, byteCount: bytes.count) }
        // Only the fallback (no arena) owns malloc'd blocks; the arena is reset by its caller.
        defer { if allocator == nil { free(ptr, nil) } }
        return convert(UnsafePointer(ptr), state)
    }
}

// MARK: - string maps

// Closures, not key paths: a key-path projection instantiates generic metadata on every
// call, which cost about a tenth of enrichment's time decoding events.
@inline(__always)
private func stringMap<E>(_ entries: UnsafeMutablePointer<UnsafeMutablePointer<E>?>?, _ n: Int,
                          _ keys: UnsafeMutablePointer<UnpackArenaState>? = nil,
                          _ pair: (E) -> (UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<CChar>?)) -> [String: String] {
    guard let entries, n > 0 else { return [:] }
    var out = [String: String](minimumCapacity: n)
    for i in 0..<n {
        guard let e = entries[i] else { continue }
        let (k, v) = pair(e.pointee)
        out[internedKey(k, keys)] = swiftString(v)
    }
    return out
}

private func cStringMap<E>(_ map: [String: String], arena: Arena,
                           make: (UnsafeMutablePointer<CChar>, UnsafeMutablePointer<CChar>) -> E)
    -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<E>?>?) {
    if map.isEmpty { return (0, nil) }
    let array = arena.allocate(UnsafeMutablePointer<E>?.self, count: map.count)
    // Map order on the wire carries no meaning (protobuf maps are unordered), so no sort.
    var i = 0
    for (k, v) in map {
        array[i] = arena.box(make(arena.string(k), arena.string(v)))
        i += 1
    }
    return (map.count, array)
}

// MARK: - Event

extension Event: WireMessage {
    public static let typeName = "vigil.v1.Event"

    func cValue(_ arena: Arena) -> Vigil__V1__Event {
        var c = Vigil__V1__Event()
        vigil__v1__event__init(&c)
        c.id = arena.string(id)
        c.event_time_ms = eventTimeMs
        c.received_time_ms = receivedTimeMs
        c.source = arena.string(source)
        c.format = arena.string(format)
        c.raw = arena.binary(raw)
        c.parse_status = .init(rawValue: numericCast(parseStatus.rawValue))
        c.parse_error = arena.string(parseError)
        (c.n_fields, c.fields) = cStringMap(fields, arena: arena) { k, v in
            var e = Vigil__V1__Event__FieldsEntry(); vigil__v1__event__fields_entry__init(&e)
            e.key = k; e.value = v; return e
        }
        (c.n_original, c.original) = cStringMap(original, arena: arena) { k, v in
            var e = Vigil__V1__Event__OriginalEntry(); vigil__v1__event__original_entry__init(&e)
            e.key = k; e.value = v; return e
        }
        (c.n_enriched, c.enriched) = Self.cEnriched(enriched, arena: arena)
        c.partition_key = arena.string(partitionKey)
        c.partition = partition
        c.sender = arena.string(sender)
        return c
    }

    /// The bytes of protobuf-c's own exact-size packing (its size pass, then pack): the
    /// reference `encoded()`'s single-pass packing is tested against.
    func encodedWithSizePass() -> [UInt8] {
        let arena = Arena()
        var c = cValue(arena)
        return packed(&c, size: vigil__v1__event__get_packed_size, pack: vigil__v1__event__pack)
    }

    /// `keys`: the decoding thread's key cache, nil where decoding does not own one.
    /// `keepOriginal` false: the `original` map is left empty (see `init(decoding:keepOriginal:entry:)`).
    init(c: UnsafePointer<Vigil__V1__Event>, keys: UnsafeMutablePointer<UnpackArenaState>? = nil, keepOriginal: Bool = true) {
        let m = c.pointee
        self.init()
        id = swiftString(m.id)
        eventTimeMs = m.event_time_ms
        receivedTimeMs = m.received_time_ms
        source = swiftString(m.source)
        format = swiftString(m.format)
        raw = swiftBytes(m.raw)
        parseStatus = ParseStatus(rawValue: numericCast(m.parse_status.rawValue)) ?? .unspecified
        parseError = swiftString(m.parse_error)
        fields = stringMap(m.fields, m.n_fields, keys) { ($0.key, $0.value) }
        if keepOriginal { original = stringMap(m.original, m.n_original, keys) { ($0.key, $0.value) } }
        enriched = stringMap(m.enriched, m.n_enriched, keys) { ($0.key, $0.value) }
        partitionKey = swiftString(m.partition_key)
        partition = m.partition
        sender = swiftString(m.sender)
    }

    /// Encoded by protobuf-c (invariant 1: the bus speaks protobuf-c; a hand-written encoder
    /// was faster but is not what the contract promises).
    public func encoded() -> [UInt8] {
        let arena = Arena()
        var c = cValue(arena)
        // Events are ingest's hot path: skip protobuf-c's separate size pass (≈ a third of its
        // work) with an upper bound. Every string, bytes field and map entry costs at most its
        // contents plus a tag (≤ 2 bytes) and a length (≤ 5); each scalar at most 11. Checked
        // against protobuf-c's exact size in debug builds (the tests).
        let entries = c.n_fields + c.n_original + c.n_enriched
        let bound = arena.contentBytes + 8 * (arena.contentCount + entries) + 12 * 8 + 64
        assert(vigil__v1__event__get_packed_size(&c) <= bound, "Event size bound too small: update it with the message")
        return [UInt8](unsafeUninitializedCapacity: bound) { buf, count in
            count = vigil__v1__event__pack(&c, buf.baseAddress!)
        }
    }

    public init(decoding bytes: [UInt8]) throws {
        self = try unpackedInArena(bytes, type: Self.typeName,
                                   unpack: { vigil__v1__event__unpack($0, $1, $2) },
                                   free: { vigil__v1__event__free_unpacked($0, $1) },
                                   convert: { Event(c: $0, keys: $1) })
    }
}

extension Event {
    /// The `enriched` map as protobuf-c entries in `arena` (encoding, and `replacingEnriched`).
    static func cEnriched(_ enriched: [String: String], arena: Arena)
        -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<Vigil__V1__Event__EnrichedEntry>?>?) {
        cStringMap(enriched, arena: arena) { k, v in
            var e = Vigil__V1__Event__EnrichedEntry(); vigil__v1__event__enriched_entry__init(&e)
            e.key = k; e.value = v; return e
        }
    }

    /// `bytes` (an encoded Event) with its `enriched` map replaced by `enriched`: every other
    /// field as received, unknown ones included (protobuf-c keeps and packs them again).
    public static func replacingEnriched(in bytes: [UInt8], with enriched: [String: String]) throws -> [UInt8] {
        try unpacked(bytes, type: typeName,
                     unpack: { vigil__v1__event__unpack(nil, $0, $1) },
                     free: { vigil__v1__event__free_unpacked($0, nil) },
                     convert: { (p: UnsafePointer<Vigil__V1__Event>) -> [UInt8] in
            let m = UnsafeMutablePointer(mutating: p)
            let arena = Arena()
            let received = (m.pointee.n_enriched, m.pointee.enriched)
            // Put back before protobuf-c frees the message: the new entries belong to the arena.
            defer { (m.pointee.n_enriched, m.pointee.enriched) = received }
            (m.pointee.n_enriched, m.pointee.enriched) = cEnriched(enriched, arena: arena)
            return packed(UnsafePointer(m), size: vigil__v1__event__get_packed_size, pack: vigil__v1__event__pack)
        })
    }
}

/// Which map of an event an entry given to `Event.init(decoding:keepOriginal:entry:)` is from.
public enum EventMap: Sendable { case fields, original }

extension Event {
    /// Decodes like `init(decoding:)` for a consumer that writes the maps out as text (enrichment's
    /// store): each entry of `fields` and `original` is also given to `entry`, in wire order, as
    /// the bytes of its key and value exactly as received (UTF-8 not checked; valid only during
    /// the call). With `keepOriginal` false, `original` is not built as a dictionary — its
    /// entries reach only `entry` — which saves hashing and a String per entry.
    public init(decoding bytes: [UInt8], keepOriginal: Bool,
                entry: (EventMap, UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) throws {
        self = try unpackedInArena(bytes, type: Self.typeName,
                                   unpack: { vigil__v1__event__unpack($0, $1, $2) },
                                   free: { vigil__v1__event__free_unpacked($0, $1) },
                                   convert: { c, keys in
            let m = c.pointee
            if let f = m.fields {
                for i in 0..<m.n_fields { if let x = f[i] { entry(.fields, rawBytes(x.pointee.key), rawBytes(x.pointee.value)) } }
            }
            if let o = m.original {
                for i in 0..<m.n_original { if let x = o[i] { entry(.original, rawBytes(x.pointee.key), rawBytes(x.pointee.value)) } }
            }
            return Event(c: c, keys: keys, keepOriginal: keepOriginal)
        })
    }
}

extension EventBatch: WireMessage {
    public static let typeName = "vigil.v1.EventBatch"

    public func encoded() -> [UInt8] {
        let arena = Arena()
        var c = Vigil__V1__EventBatch()
        vigil__v1__event_batch__init(&c)
        c.batch_id = arena.string(batchId)
        c.agent_id = arena.string(agentId)
        if !events.isEmpty {
            let arr = arena.allocate(UnsafeMutablePointer<Vigil__V1__Event>?.self, count: events.count)
            for (i, e) in events.enumerated() { arr[i] = arena.box(e.cValue(arena)) }
            c.n_events = events.count
            c.events = arr
        }
        return packed(&c, size: vigil__v1__event_batch__get_packed_size, pack: vigil__v1__event_batch__pack)
    }

    public init(decoding bytes: [UInt8]) throws {
        self = try unpacked(bytes, type: Self.typeName,
                            unpack: { vigil__v1__event_batch__unpack(nil, $0, $1) },
                            free: { vigil__v1__event_batch__free_unpacked($0, nil) },
                            convert: { p in
            var b = EventBatch()
            b.batchId = swiftString(p.pointee.batch_id)
            b.agentId = swiftString(p.pointee.agent_id)
            if let evs = p.pointee.events {
                for i in 0..<p.pointee.n_events { if let e = evs[i] { b.events.append(Event(c: e)) } }
            }
            return b
        })
    }
}

extension EventBatchAck: WireMessage {
    public static let typeName = "vigil.v1.EventBatchAck"

    public func encoded() -> [UInt8] {
        let arena = Arena()
        var c = Vigil__V1__EventBatchAck()
        vigil__v1__event_batch_ack__init(&c)
        c.batch_id = arena.string(batchId)
        c.accepted = accepted
        c.unparsed = unparsed
        c.duplicate = duplicate ? 1 : 0
        return packed(&c, size: vigil__v1__event_batch_ack__get_packed_size, pack: vigil__v1__event_batch_ack__pack)
    }

    public init(decoding bytes: [UInt8]) throws {
        self = try unpacked(bytes, type: Self.typeName,
                            unpack: { vigil__v1__event_batch_ack__unpack(nil, $0, $1) },
                            free: { vigil__v1__event_batch_ack__free_unpacked($0, nil) },
                            convert: { p in
            var a = EventBatchAck()
            a.batchId = swiftString(p.pointee.batch_id)
            a.accepted = p.pointee.accepted
            a.unparsed = p.pointee.unparsed
            a.duplicate = p.pointee.duplicate != 0
            return a
        })
    }
}

// MARK: - Signal

extension Signal: WireMessage {
    public static let typeName = "vigil.v1.Signal"

    public func encoded() -> [UInt8] {
        let arena = Arena()
        var c = cValue(arena)
        return packed(&c, size: vigil__v1__signal__get_packed_size, pack: vigil__v1__signal__pack)
    }

    /// The C struct, its memory owned by `arena` (also used by messages that embed signals).
    func cValue(_ arena: Arena) -> Vigil__V1__Signal {
        var c = Vigil__V1__Signal()
        vigil__v1__signal__init(&c)
        c.id = arena.string(id)
        c.rule_id = arena.string(ruleId)
        c.rule_version = ruleVersion
        c.rule_name = arena.string(ruleName)
        var m = Vigil__V1__Mitre()
        vigil__v1__mitre__init(&m)
        m.tactic_id = arena.string(mitre.tacticId)
        m.tactic_name = arena.string(mitre.tacticName)
        m.technique_id = arena.string(mitre.techniqueId)
        m.technique_name = arena.string(mitre.techniqueName)
        c.mitre = arena.box(m)
        c.criticality = .init(rawValue: numericCast(criticality.rawValue))
        c.risk_score = riskScore
        var en = Vigil__V1__Entity()
        vigil__v1__entity__init(&en)
        en.user = arena.string(entity.user)
        en.asset = arena.string(entity.asset)
        en.ip = arena.string(entity.ip)
        c.entity = arena.box(en)
        c.group_key = arena.string(groupKey)
        if !eventIds.isEmpty {
            let arr = arena.allocate(UnsafeMutablePointer<CChar>?.self, count: eventIds.count)
            for (i, s) in eventIds.enumerated() { arr[i] = arena.string(s) }
            c.n_event_ids = eventIds.count
            c.event_ids = arr
        }
        c.created_time_ms = createdTimeMs
        c.first_event_time_ms = firstEventTimeMs
        c.last_event_time_ms = lastEventTimeMs
        c.description = arena.string(description)
        if !responseTemplateIds.isEmpty {
            let arr = arena.allocate(UnsafeMutablePointer<CChar>?.self, count: responseTemplateIds.count)
            for (i, s) in responseTemplateIds.enumerated() { arr[i] = arena.string(s) }
            c.n_response_template_ids = responseTemplateIds.count
            c.response_template_ids = arr
        }
        return c
    }

    init(c: Vigil__V1__Signal) {
        var s = Signal()
        s.id = swiftString(c.id)
        s.ruleId = swiftString(c.rule_id)
        s.ruleVersion = c.rule_version
        s.ruleName = swiftString(c.rule_name)
        if let m = c.mitre?.pointee {
            s.mitre = Mitre(tacticId: swiftString(m.tactic_id), tacticName: swiftString(m.tactic_name),
                            techniqueId: swiftString(m.technique_id), techniqueName: swiftString(m.technique_name))
        }
        s.criticality = Criticality(rawValue: numericCast(c.criticality.rawValue)) ?? .unspecified
        s.riskScore = c.risk_score
        if let e = c.entity?.pointee {
            s.entity = Entity(user: swiftString(e.user), asset: swiftString(e.asset), ip: swiftString(e.ip))
        }
        s.groupKey = swiftString(c.group_key)
        if let ids = c.event_ids {
            for i in 0..<c.n_event_ids { s.eventIds.append(swiftString(ids[i])) }
        }
        s.createdTimeMs = c.created_time_ms
        s.firstEventTimeMs = c.first_event_time_ms
        s.lastEventTimeMs = c.last_event_time_ms
        s.description = swiftString(c.description)
        if let ids = c.response_template_ids {
            for i in 0..<c.n_response_template_ids { s.responseTemplateIds.append(swiftString(ids[i])) }
        }
        self = s
    }

    public init(decoding bytes: [UInt8]) throws {
        self = try unpacked(bytes, type: Self.typeName,
                            unpack: { vigil__v1__signal__unpack(nil, $0, $1) },
                            free: { vigil__v1__signal__free_unpacked($0, nil) },
                            convert: { Signal(c: $0.pointee) })
    }
}

// MARK: - Streams

extension StreamEnvelope: WireMessage {
    public static let typeName = "vigil.v1.StreamEnvelope"

    func cValue(_ arena: Arena) -> Vigil__V1__StreamEnvelope {
        var c = Vigil__V1__StreamEnvelope()
        vigil__v1__stream_envelope__init(&c)
        c.producer_id = arena.string(producerId)
        c.stream = arena.string(stream)
        c.sequence = sequence
        c.kind = .init(rawValue: numericCast(kind.rawValue))
        c.topic = arena.string(topic)
        c.payload_type = arena.string(payloadType)
        c.payload = arena.binary(payload)
        c.produced_time_ms = producedTimeMs
        (c.n_payloads, c.payloads) = cBinaries(arena, payloads)
        (c.n_produced_times_ms, c.produced_times_ms) = cScalars(arena, producedTimesMs)
        return c
    }

    init(c: UnsafePointer<Vigil__V1__StreamEnvelope>) {
        let m = c.pointee
        self.init()
        producerId = swiftString(m.producer_id)
        stream = swiftString(m.stream)
        sequence = m.sequence
        kind = EnvelopeKind(rawValue: numericCast(m.kind.rawValue)) ?? .unspecified
        topic = swiftString(m.topic)
        payloadType = swiftString(m.payload_type)
        payload = swiftBytes(m.payload)
        producedTimeMs = m.produced_time_ms
        payloads = swiftBinaries(m.payloads, m.n_payloads)
        producedTimesMs = swiftScalars(m.produced_times_ms, m.n_produced_times_ms)
    }

    public func encoded() -> [UInt8] {
        let arena = Arena()
        var c = cValue(arena)
        return packed(&c, size: vigil__v1__stream_envelope__get_packed_size, pack: vigil__v1__stream_envelope__pack)
    }

    public init(decoding bytes: [UInt8]) throws {
        self = try unpacked(bytes, type: Self.typeName,
                            unpack: { vigil__v1__stream_envelope__unpack(nil, $0, $1) },
                            free: { vigil__v1__stream_envelope__free_unpacked($0, nil) },
                            convert: { StreamEnvelope(c: $0) })
    }
}

extension ReplayRequest: WireMessage {
    public static let typeName = "vigil.v1.ReplayRequest"

    public func encoded() -> [UInt8] {
        let arena = Arena()
        var c = Vigil__V1__ReplayRequest()
        vigil__v1__replay_request__init(&c)
        c.stream = arena.string(stream)
        c.from_sequence = fromSequence
        c.max_messages = maxMessages
        return packed(&c, size: vigil__v1__replay_request__get_packed_size, pack: vigil__v1__replay_request__pack)
    }

    public init(decoding bytes: [UInt8]) throws {
        self = try unpacked(bytes, type: Self.typeName,
                            unpack: { vigil__v1__replay_request__unpack(nil, $0, $1) },
                            free: { vigil__v1__replay_request__free_unpacked($0, nil) },
                            convert: { p in
            ReplayRequest(stream: swiftString(p.pointee.stream), fromSequence: p.pointee.from_sequence,
                          maxMessages: p.pointee.max_messages)
        })
    }
}

extension ReplayResponse: WireMessage {
    public static let typeName = "vigil.v1.ReplayResponse"

    public func encoded() -> [UInt8] {
        let arena = Arena()
        var c = Vigil__V1__ReplayResponse()
        vigil__v1__replay_response__init(&c)
        if !messages.isEmpty {
            let arr = arena.allocate(UnsafeMutablePointer<Vigil__V1__StreamEnvelope>?.self, count: messages.count)
            for (i, m) in messages.enumerated() { arr[i] = arena.box(m.cValue(arena)) }
            c.n_messages = messages.count
            c.messages = arr
        }
        c.head = head
        c.first_retained = firstRetained
        return packed(&c, size: vigil__v1__replay_response__get_packed_size, pack: vigil__v1__replay_response__pack)
    }

    public init(decoding bytes: [UInt8]) throws {
        self = try unpacked(bytes, type: Self.typeName,
                            unpack: { vigil__v1__replay_response__unpack(nil, $0, $1) },
                            free: { vigil__v1__replay_response__free_unpacked($0, nil) },
                            convert: { p in
            var r = ReplayResponse()
            if let ms = p.pointee.messages {
                for i in 0..<p.pointee.n_messages { if let m = ms[i] { r.messages.append(StreamEnvelope(c: m)) } }
            }
            r.head = p.pointee.head
            r.firstRetained = p.pointee.first_retained
            return r
        })
    }
}

extension AckRequest: WireMessage {
    public static let typeName = "vigil.v1.AckRequest"

    public func encoded() -> [UInt8] {
        let arena = Arena()
        var c = Vigil__V1__AckRequest()
        vigil__v1__ack_request__init(&c)
        c.consumer_id = arena.string(consumerId)
        c.stream = arena.string(stream)
        c.sequence = sequence
        return packed(&c, size: vigil__v1__ack_request__get_packed_size, pack: vigil__v1__ack_request__pack)
    }

    public init(decoding bytes: [UInt8]) throws {
        self = try unpacked(bytes, type: Self.typeName,
                            unpack: { vigil__v1__ack_request__unpack(nil, $0, $1) },
                            free: { vigil__v1__ack_request__free_unpacked($0, nil) },
                            convert: { p in
            AckRequest(consumerId: swiftString(p.pointee.consumer_id), stream: swiftString(p.pointee.stream),
                       sequence: p.pointee.sequence)
        })
    }
}

// MARK: - RPC

extension RpcRequest: WireMessage {
    public static let typeName = "vigil.v1.RpcRequest"

    public func encoded() -> [UInt8] {
        let arena = Arena()
        var c = Vigil__V1__RpcRequest()
        vigil__v1__rpc_request__init(&c)
        c.method = arena.string(method)
        c.request_id = arena.string(requestId)
        var idn = Vigil__V1__Identity()
        vigil__v1__identity__init(&idn)
        idn.name = arena.string(caller.name)
        idn.role = arena.string(caller.role)
        c.caller = arena.box(idn)
        c.payload = arena.binary(payload)
        return packed(&c, size: vigil__v1__rpc_request__get_packed_size, pack: vigil__v1__rpc_request__pack)
    }

    public init(decoding bytes: [UInt8]) throws {
        self = try unpacked(bytes, type: Self.typeName,
                            unpack: { vigil__v1__rpc_request__unpack(nil, $0, $1) },
                            free: { vigil__v1__rpc_request__free_unpacked($0, nil) },
                            convert: { p in
            let c = p.pointee
            var caller = Identity()
            if let i = c.caller?.pointee { caller = Identity(name: swiftString(i.name), role: swiftString(i.role)) }
            return RpcRequest(method: swiftString(c.method), requestId: swiftString(c.request_id),
                              caller: caller, payload: swiftBytes(c.payload))
        })
    }
}

extension RpcResponse: WireMessage {
    public static let typeName = "vigil.v1.RpcResponse"

    public func encoded() -> [UInt8] {
        let arena = Arena()
        var c = Vigil__V1__RpcResponse()
        vigil__v1__rpc_response__init(&c)
        c.request_id = arena.string(requestId)
        c.error_code = .init(rawValue: numericCast(errorCode.rawValue))
        c.error_message = arena.string(errorMessage)
        c.payload = arena.binary(payload)
        c.instance = arena.string(instance)
        return packed(&c, size: vigil__v1__rpc_response__get_packed_size, pack: vigil__v1__rpc_response__pack)
    }

    public init(decoding bytes: [UInt8]) throws {
        self = try unpacked(bytes, type: Self.typeName,
                            unpack: { vigil__v1__rpc_response__unpack(nil, $0, $1) },
                            free: { vigil__v1__rpc_response__free_unpacked($0, nil) },
                            convert: { p in
            let c = p.pointee
            return RpcResponse(requestId: swiftString(c.request_id),
                               errorCode: ErrorCode(rawValue: numericCast(c.error_code.rawValue)) ?? .internal,
                               errorMessage: swiftString(c.error_message), payload: swiftBytes(c.payload),
                               instance: swiftString(c.instance))
        })
    }
}

extension HealthResponse: WireMessage {
    public static let typeName = "vigil.v1.HealthResponse"

    public func encoded() -> [UInt8] {
        let arena = Arena()
        var c = Vigil__V1__HealthResponse()
        vigil__v1__health_response__init(&c)
        c.service = arena.string(service)
        c.instance = arena.string(instance)
        c.status = arena.string(status)
        c.started_time_ms = startedTimeMs
        c.pid = pid
        c.version = arena.string(version)
        c.detail = arena.string(detail)
        return packed(&c, size: vigil__v1__health_response__get_packed_size, pack: vigil__v1__health_response__pack)
    }

    public init(decoding bytes: [UInt8]) throws {
        self = try unpacked(bytes, type: Self.typeName,
                            unpack: { vigil__v1__health_response__unpack(nil, $0, $1) },
                            free: { vigil__v1__health_response__free_unpacked($0, nil) },
                            convert: { p in
            let c = p.pointee
            var h = HealthResponse()
            h.service = swiftString(c.service); h.instance = swiftString(c.instance)
            h.status = swiftString(c.status); h.startedTimeMs = c.started_time_ms; h.pid = c.pid
            h.version = swiftString(c.version); h.detail = swiftString(c.detail)
            return h
        })
    }
}

extension MetricsResponse: WireMessage {
    public static let typeName = "vigil.v1.MetricsResponse"

    public func encoded() -> [UInt8] {
        let arena = Arena()
        var c = Vigil__V1__MetricsResponse()
        vigil__v1__metrics_response__init(&c)
        c.service = arena.string(service)
        c.instance = arena.string(instance)
        if !counters.isEmpty {
            let arr = arena.allocate(UnsafeMutablePointer<Vigil__V1__MetricsResponse__CountersEntry>?.self,
                                     count: counters.count)
            for (i, k) in counters.keys.sorted().enumerated() {
                var e = Vigil__V1__MetricsResponse__CountersEntry()
                vigil__v1__metrics_response__counters_entry__init(&e)
                e.key = arena.string(k)
                e.value = counters[k]!
                arr[i] = arena.box(e)
            }
            c.n_counters = counters.count
            c.counters = arr
        }
        if !lags.isEmpty {
            let arr = arena.allocate(UnsafeMutablePointer<Vigil__V1__StreamLag>?.self, count: lags.count)
            for (i, l) in lags.enumerated() {
                var e = Vigil__V1__StreamLag()
                vigil__v1__stream_lag__init(&e)
                e.producer_id = arena.string(l.producerId)
                e.stream = arena.string(l.stream)
                e.position = l.position
                e.head = l.head
                arr[i] = arena.box(e)
            }
            c.n_lags = lags.count
            c.lags = arr
        }
        return packed(&c, size: vigil__v1__metrics_response__get_packed_size, pack: vigil__v1__metrics_response__pack)
    }

    public init(decoding bytes: [UInt8]) throws {
        self = try unpacked(bytes, type: Self.typeName,
                            unpack: { vigil__v1__metrics_response__unpack(nil, $0, $1) },
                            free: { vigil__v1__metrics_response__free_unpacked($0, nil) },
                            convert: { p in
            let c = p.pointee
            var m = MetricsResponse()
            m.service = swiftString(c.service); m.instance = swiftString(c.instance)
            if let cs = c.counters {
                for i in 0..<c.n_counters { if let e = cs[i] { m.counters[swiftString(e.pointee.key)] = e.pointee.value } }
            }
            if let ls = c.lags {
                for i in 0..<c.n_lags {
                    if let l = ls[i]?.pointee {
                        m.lags.append(StreamLag(producerId: swiftString(l.producer_id), stream: swiftString(l.stream),
                                                position: l.position, head: l.head))
                    }
                }
            }
            return m
        })
    }
}

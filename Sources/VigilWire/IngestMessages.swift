import CProtobufC
import VigilProto

// Swift values and codecs for Protos/vigil/v1/ingest.proto (RPC `ingest.sources`).
// Same pattern as Codec.swift: encode builds C structs in an Arena; decode unpacks,
// copies into Swift values and frees.

public struct SourcesRequest: Sendable, Equatable {
    public init() {}
}

public struct SourceStatus: Sendable, Equatable {
    public var source = ""
    public var events: UInt64 = 0
    public var bytes: UInt64 = 0
    public var unparsed: UInt64 = 0
    public var lastSeenMs: Int64 = 0
    public var firstSeenMs: Int64 = 0
    public var refused: UInt64 = 0
    public init(source: String = "", events: UInt64 = 0, bytes: UInt64 = 0, unparsed: UInt64 = 0,
                lastSeenMs: Int64 = 0, firstSeenMs: Int64 = 0, refused: UInt64 = 0) {
        self.source = source; self.events = events; self.bytes = bytes; self.unparsed = unparsed
        self.lastSeenMs = lastSeenMs; self.firstSeenMs = firstSeenMs; self.refused = refused
    }
}

public struct CollectorStatus: Sendable, Equatable {
    public var collector = "", appliance = "", status = ""
    public var sources: UInt32 = 0
    public var events: UInt64 = 0, refused: UInt64 = 0
    public var lastSeenMs: Int64 = 0
    public var state = ""
    public init(collector: String = "", appliance: String = "", status: String = "", sources: UInt32 = 0,
                events: UInt64 = 0, refused: UInt64 = 0, lastSeenMs: Int64 = 0, state: String = "") {
        self.collector = collector; self.appliance = appliance; self.status = status; self.sources = sources
        self.events = events; self.refused = refused; self.lastSeenMs = lastSeenMs; self.state = state
    }
}

public struct SourcesResponse: Sendable, Equatable {
    public var instance = ""
    public var sources: [SourceStatus] = []
    public var collectors: [CollectorStatus] = []
    public init() {}
}

extension SourcesRequest: WireMessage {
    public static let typeName = "vigil.v1.SourcesRequest"

    public func encoded() -> [UInt8] {
        var c = Vigil__V1__SourcesRequest()
        vigil__v1__sources_request__init(&c)
        return packed(&c, size: vigil__v1__sources_request__get_packed_size, pack: vigil__v1__sources_request__pack)
    }

    public init(decoding bytes: [UInt8]) throws {
        self = try unpacked(bytes, type: Self.typeName,
                            unpack: { vigil__v1__sources_request__unpack(nil, $0, $1) },
                            free: { vigil__v1__sources_request__free_unpacked($0, nil) },
                            convert: { _ in SourcesRequest() })
    }
}

extension SourcesResponse: WireMessage {
    public static let typeName = "vigil.v1.SourcesResponse"

    public func encoded() -> [UInt8] {
        let arena = Arena()
        var c = Vigil__V1__SourcesResponse()
        vigil__v1__sources_response__init(&c)
        c.instance = arena.string(instance)
        if !sources.isEmpty {
            let arr = arena.allocate(UnsafeMutablePointer<Vigil__V1__SourceStatus>?.self, count: sources.count)
            for (i, s) in sources.enumerated() {
                var e = Vigil__V1__SourceStatus()
                vigil__v1__source_status__init(&e)
                e.source = arena.string(s.source)
                e.events = s.events
                e.bytes = s.bytes
                e.unparsed = s.unparsed
                e.last_seen_ms = s.lastSeenMs
                e.first_seen_ms = s.firstSeenMs
                e.refused = s.refused
                arr[i] = arena.box(e)
            }
            c.n_sources = sources.count
            c.sources = arr
        }
        if !collectors.isEmpty {
            let arr = arena.allocate(UnsafeMutablePointer<Vigil__V1__CollectorStatus>?.self, count: collectors.count)
            for (i, s) in collectors.enumerated() {
                var e = Vigil__V1__CollectorStatus()
                vigil__v1__collector_status__init(&e)
                e.collector = arena.string(s.collector)
                e.appliance = arena.string(s.appliance)
                e.status = arena.string(s.status)
                e.sources = s.sources
                e.events = s.events
                e.refused = s.refused
                e.last_seen_ms = s.lastSeenMs
                e.state = arena.string(s.state)
                arr[i] = arena.box(e)
            }
            c.n_collectors = collectors.count
            c.collectors = arr
        }
        return packed(&c, size: vigil__v1__sources_response__get_packed_size, pack: vigil__v1__sources_response__pack)
    }

    public init(decoding bytes: [UInt8]) throws {
        self = try unpacked(bytes, type: Self.typeName,
                            unpack: { vigil__v1__sources_response__unpack(nil, $0, $1) },
                            free: { vigil__v1__sources_response__free_unpacked($0, nil) },
                            convert: { p in
            let c = p.pointee
            var r = SourcesResponse()
            r.instance = swiftString(c.instance)
            if let ss = c.sources {
                for i in 0..<c.n_sources {
                    guard let s = ss[i]?.pointee else { continue }
                    r.sources.append(SourceStatus(source: swiftString(s.source), events: s.events, bytes: s.bytes,
                                                  unparsed: s.unparsed, lastSeenMs: s.last_seen_ms,
                                                  firstSeenMs: s.first_seen_ms, refused: s.refused))
                }
            }
            if let cs = c.collectors {
                for i in 0..<c.n_collectors {
                    guard let s = cs[i]?.pointee else { continue }
                    r.collectors.append(CollectorStatus(collector: swiftString(s.collector), appliance: swiftString(s.appliance),
                                                        status: swiftString(s.status), sources: s.sources, events: s.events,
                                                        refused: s.refused, lastSeenMs: s.last_seen_ms, state: swiftString(s.state)))
                }
            }
            return r
        })
    }
}

import CProtobufC
import VigilProto

// Query messages (Protos/vigil/v1/query.proto): Swift values and their protobuf-c conversion.

public struct QueryRequest: Sendable, Equatable {
    public var query = ""
    public var fromTimeMs: Int64 = 0
    public var toTimeMs: Int64 = 0
    public var limit: UInt32 = 0
    public var sortToken = ""
    public var sortAscending = false
    public var cursor = ""
    public var facetToken = ""
    public var buckets: UInt32 = 0
    public init(query: String = "") { self.query = query }
}

public struct GetRequest: Sendable, Equatable {
    public var id = ""
    public init(id: String = "") { self.id = id }
}

public struct EventPage: Sendable, Equatable {
    public var events: [Event] = []
    public var nextCursor = ""
    public init() {}
}

public struct CountResponse: Sendable, Equatable {
    public var count: UInt64 = 0
    public init(count: UInt64 = 0) { self.count = count }
}

public struct FacetResponse: Sendable, Equatable {
    public struct Value: Sendable, Equatable {
        public var value: String
        public var count: UInt64
        public init(value: String, count: UInt64) { self.value = value; self.count = count }
    }
    public var token = ""
    public var values: [Value] = []
    public init() {}
}

public struct HistogramResponse: Sendable, Equatable {
    public struct Bucket: Sendable, Equatable {
        public var startTimeMs: Int64
        public var count: UInt64
        public init(startTimeMs: Int64, count: UInt64) { self.startTimeMs = startTimeMs; self.count = count }
    }
    public var bucketMs: Int64 = 0
    public var buckets: [Bucket] = []
    public init() {}
}

public struct TokenCatalogResponse: Sendable, Equatable {
    public struct Token: Sendable, Equatable {
        public var name: String, type: String, description: String
        public init(name: String, type: String, description: String) { self.name = name; self.type = type; self.description = description }
    }
    public var list = ""
    public var tokens: [Token] = []
    public init() {}
}

@inline(__always)
func pack<C>(_ m: inout C, _ size: (UnsafePointer<C>) -> Int, _ pk: (UnsafePointer<C>, UnsafeMutablePointer<UInt8>) -> Int) -> [UInt8] {
    let n = size(&m)
    if n == 0 { return [] }
    return [UInt8](unsafeUninitializedCapacity: n) { buf, count in count = pk(&m, buf.baseAddress!) }
}

@inline(__always)
func unpack<C, R>(_ bytes: [UInt8], _ type: String, _ up: (Int, UnsafePointer<UInt8>) -> UnsafeMutablePointer<C>?,
                          _ fr: (UnsafeMutablePointer<C>) -> Void, _ convert: (C) -> R) throws -> R {
    var one: UInt8 = 0
    let p: UnsafeMutablePointer<C>? = bytes.isEmpty ? withUnsafePointer(to: &one) { up(0, $0) }
        : bytes.withUnsafeBufferPointer { up($0.count, $0.baseAddress!) }
    guard let p else { throw WireError(code: .malformed, messageType: type, byteCount: bytes.count) }
    defer { fr(p) }
    return convert(p.pointee)
}

extension QueryRequest: WireMessage {
    public static let typeName = "vigil.v1.QueryRequest"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__QueryRequest()
        vigil__v1__query_request__init(&c)
        c.query = a.string(query); c.from_time_ms = fromTimeMs; c.to_time_ms = toTimeMs; c.limit = limit
        c.sort_token = a.string(sortToken); c.sort_ascending = sortAscending ? 1 : 0; c.cursor = a.string(cursor)
        c.facet_token = a.string(facetToken); c.buckets = buckets
        return pack(&c, vigil__v1__query_request__get_packed_size, vigil__v1__query_request__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__query_request__unpack(nil, $0, $1) },
                          { vigil__v1__query_request__free_unpacked($0, nil) }) { c in
            var r = QueryRequest(query: swiftString(c.query))
            r.fromTimeMs = c.from_time_ms; r.toTimeMs = c.to_time_ms; r.limit = c.limit
            r.sortToken = swiftString(c.sort_token); r.sortAscending = c.sort_ascending != 0
            r.cursor = swiftString(c.cursor); r.facetToken = swiftString(c.facet_token); r.buckets = c.buckets
            return r
        }
    }
}

extension GetRequest: WireMessage {
    public static let typeName = "vigil.v1.GetRequest"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__GetRequest()
        vigil__v1__get_request__init(&c)
        c.id = a.string(id)
        return pack(&c, vigil__v1__get_request__get_packed_size, vigil__v1__get_request__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__get_request__unpack(nil, $0, $1) },
                          { vigil__v1__get_request__free_unpacked($0, nil) }) { GetRequest(id: swiftString($0.id)) }
    }
}

extension EventPage: WireMessage {
    public static let typeName = "vigil.v1.EventPage"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__EventPage()
        vigil__v1__event_page__init(&c)
        if !events.isEmpty {
            let arr = a.allocate(UnsafeMutablePointer<Vigil__V1__Event>?.self, count: events.count)
            for (i, e) in events.enumerated() { arr[i] = a.box(e.cValue(a)) }
            c.n_events = events.count; c.events = arr
        }
        c.next_cursor = a.string(nextCursor)
        return pack(&c, vigil__v1__event_page__get_packed_size, vigil__v1__event_page__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__event_page__unpack(nil, $0, $1) },
                          { vigil__v1__event_page__free_unpacked($0, nil) }) { c in
            var p = EventPage()
            if let evs = c.events { for i in 0..<c.n_events { if let e = evs[i] { p.events.append(Event(c: e)) } } }
            p.nextCursor = swiftString(c.next_cursor)
            return p
        }
    }
}

extension CountResponse: WireMessage {
    public static let typeName = "vigil.v1.CountResponse"
    public func encoded() -> [UInt8] {
        var c = Vigil__V1__CountResponse()
        vigil__v1__count_response__init(&c)
        c.count = count
        return pack(&c, vigil__v1__count_response__get_packed_size, vigil__v1__count_response__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__count_response__unpack(nil, $0, $1) },
                          { vigil__v1__count_response__free_unpacked($0, nil) }) { CountResponse(count: $0.count) }
    }
}

extension FacetResponse: WireMessage {
    public static let typeName = "vigil.v1.FacetResponse"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__FacetResponse()
        vigil__v1__facet_response__init(&c)
        c.token = a.string(token)
        if !values.isEmpty {
            let arr = a.allocate(UnsafeMutablePointer<Vigil__V1__FacetValue>?.self, count: values.count)
            for (i, v) in values.enumerated() {
                var e = Vigil__V1__FacetValue(); vigil__v1__facet_value__init(&e)
                e.value = a.string(v.value); e.count = v.count
                arr[i] = a.box(e)
            }
            c.n_values = values.count; c.values = arr
        }
        return pack(&c, vigil__v1__facet_response__get_packed_size, vigil__v1__facet_response__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__facet_response__unpack(nil, $0, $1) },
                          { vigil__v1__facet_response__free_unpacked($0, nil) }) { c in
            var r = FacetResponse()
            r.token = swiftString(c.token)
            if let vs = c.values { for i in 0..<c.n_values { if let v = vs[i]?.pointee { r.values.append(.init(value: swiftString(v.value), count: v.count)) } } }
            return r
        }
    }
}

extension HistogramResponse: WireMessage {
    public static let typeName = "vigil.v1.HistogramResponse"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__HistogramResponse()
        vigil__v1__histogram_response__init(&c)
        c.bucket_ms = bucketMs
        if !buckets.isEmpty {
            let arr = a.allocate(UnsafeMutablePointer<Vigil__V1__HistogramBucket>?.self, count: buckets.count)
            for (i, b) in buckets.enumerated() {
                var e = Vigil__V1__HistogramBucket(); vigil__v1__histogram_bucket__init(&e)
                e.start_time_ms = b.startTimeMs; e.count = b.count
                arr[i] = a.box(e)
            }
            c.n_buckets = buckets.count; c.buckets = arr
        }
        return pack(&c, vigil__v1__histogram_response__get_packed_size, vigil__v1__histogram_response__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__histogram_response__unpack(nil, $0, $1) },
                          { vigil__v1__histogram_response__free_unpacked($0, nil) }) { c in
            var r = HistogramResponse()
            r.bucketMs = c.bucket_ms
            if let bs = c.buckets { for i in 0..<c.n_buckets { if let b = bs[i]?.pointee { r.buckets.append(.init(startTimeMs: b.start_time_ms, count: b.count)) } } }
            return r
        }
    }
}

extension TokenCatalogResponse: WireMessage {
    public static let typeName = "vigil.v1.TokenCatalogResponse"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__TokenCatalogResponse()
        vigil__v1__token_catalog_response__init(&c)
        c.list = a.string(list)
        if !tokens.isEmpty {
            let arr = a.allocate(UnsafeMutablePointer<Vigil__V1__TokenInfo>?.self, count: tokens.count)
            for (i, t) in tokens.enumerated() {
                var e = Vigil__V1__TokenInfo(); vigil__v1__token_info__init(&e)
                e.name = a.string(t.name); e.type = a.string(t.type); e.description = a.string(t.description)
                arr[i] = a.box(e)
            }
            c.n_tokens = tokens.count; c.tokens = arr
        }
        return pack(&c, vigil__v1__token_catalog_response__get_packed_size, vigil__v1__token_catalog_response__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__token_catalog_response__unpack(nil, $0, $1) },
                          { vigil__v1__token_catalog_response__free_unpacked($0, nil) }) { c in
            var r = TokenCatalogResponse()
            r.list = swiftString(c.list)
            if let ts = c.tokens {
                for i in 0..<c.n_tokens {
                    if let t = ts[i]?.pointee { r.tokens.append(.init(name: swiftString(t.name), type: swiftString(t.type), description: swiftString(t.description))) }
                }
            }
            return r
        }
    }
}

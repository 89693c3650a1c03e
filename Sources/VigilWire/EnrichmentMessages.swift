import CProtobufC
import VigilProto

// Enrichment messages (Protos/vigil/v1/enrichment.proto): threat-intel feeds and lookups,
// asset and directory-user imports and pages. Swift values and their protobuf-c conversion.

public struct FeedStatus: Sendable, Equatable {
    public var name = "", format = "", location = ""
    public var indicators: UInt64 = 0
    public var lastLoadTimeMs: Int64 = 0
    public var lastAttemptTimeMs: Int64 = 0
    public var lastError = ""
    public var failures: UInt64 = 0
    public var refused: UInt64 = 0
    public var refusedSamples: [String] = []
    public var refreshSeconds: Int64 = 0
    public var loading = false
    public init() {}
}

public struct FeedStatusList: Sendable, Equatable {
    public var feeds: [FeedStatus] = []
    public var configError = ""
    public init(feeds: [FeedStatus] = []) { self.feeds = feeds }
}

public struct IntelLookupRequest: Sendable, Equatable {
    public var value = ""
    public init(value: String = "") { self.value = value }
}

public struct ThreatIndicator: Sendable, Equatable {
    public var type = "", value = "", feed = ""
    public var confidence: UInt32 = 0
    public var firstSeenTimeMs: Int64 = 0, lastSeenTimeMs: Int64 = 0, expiresTimeMs: Int64 = 0
    public init() {}
}

public struct IntelLookupResponse: Sendable, Equatable {
    public var value = ""
    public var indicators: [ThreatIndicator] = []
    public init() {}
}

public struct IntelReloadRequest: Sendable, Equatable {
    public var feed = ""
    public init(feed: String = "") { self.feed = feed }
}

public struct ImportRequest: Sendable, Equatable {
    public var format = ""
    public var content: [UInt8] = []
    public var origin = ""
    public init(format: String = "", content: [UInt8] = [], origin: String = "") { self.format = format; self.content = content; self.origin = origin }
}

public struct ImportResponse: Sendable, Equatable {
    public var imported: UInt64 = 0
    public var rejected: UInt64 = 0
    public var errors: [String] = []
    public init() {}
}

public struct AssetRecord: Sendable, Equatable {
    public var id = "", name = "", hostname = "", ip = "", mac = "", agentId = "", criticality = ""
    public var tags: [String] = []
    public var os = "", owner = ""
    public var updatedTimeMs: Int64 = 0
    public init() {}
}

public struct AssetPage: Sendable, Equatable {
    public var assets: [AssetRecord] = []
    public var nextCursor = ""
    public init() {}
}

public struct DirectoryUser: Sendable, Equatable {
    public var id = "", samAccountName = "", upn = "", email = "", sid = "", displayName = ""
    public var department = "", title = "", manager = ""
    public var groups: [String] = []
    public var privileged = false
    public var updatedTimeMs: Int64 = 0
    public init() {}
}

public struct DirectoryUserPage: Sendable, Equatable {
    public var users: [DirectoryUser] = []
    public var nextCursor = ""
    public init() {}
}

// MARK: - FeedStatus

extension FeedStatus {
    func cValue(_ a: Arena) -> Vigil__V1__FeedStatus {
        var c = Vigil__V1__FeedStatus()
        vigil__v1__feed_status__init(&c)
        c.name = a.string(name); c.format = a.string(format); c.location = a.string(location)
        c.indicators = indicators; c.last_load_time_ms = lastLoadTimeMs; c.last_attempt_time_ms = lastAttemptTimeMs
        c.last_error = a.string(lastError); c.failures = failures; c.refused = refused
        (c.n_refused_samples, c.refused_samples) = cStrings(a, refusedSamples)
        c.refresh_s = refreshSeconds; c.loading = loading ? 1 : 0
        return c
    }
    init(c: Vigil__V1__FeedStatus) {
        self.init()
        name = swiftString(c.name); format = swiftString(c.format); location = swiftString(c.location)
        indicators = c.indicators; lastLoadTimeMs = c.last_load_time_ms; lastAttemptTimeMs = c.last_attempt_time_ms
        lastError = swiftString(c.last_error); failures = c.failures; refused = c.refused
        refusedSamples = swiftStrings(c.refused_samples, c.n_refused_samples)
        refreshSeconds = c.refresh_s; loading = c.loading != 0
    }
}

extension FeedStatusList: WireMessage {
    public static let typeName = "vigil.v1.FeedStatusList"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__FeedStatusList()
        vigil__v1__feed_status_list__init(&c)
        (c.n_feeds, c.feeds) = cArray(a, feeds.map { $0.cValue(a) })
        c.config_error = a.string(configError)
        return pack(&c, vigil__v1__feed_status_list__get_packed_size, vigil__v1__feed_status_list__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__feed_status_list__unpack(nil, $0, $1) },
                          { vigil__v1__feed_status_list__free_unpacked($0, nil) }) { c in
            var l = FeedStatusList(feeds: swiftArray(c.feeds, c.n_feeds, FeedStatus.init(c:)))
            l.configError = swiftString(c.config_error)
            return l
        }
    }
}

extension IntelLookupRequest: WireMessage {
    public static let typeName = "vigil.v1.IntelLookupRequest"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__IntelLookupRequest()
        vigil__v1__intel_lookup_request__init(&c)
        c.value = a.string(value)
        return pack(&c, vigil__v1__intel_lookup_request__get_packed_size, vigil__v1__intel_lookup_request__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__intel_lookup_request__unpack(nil, $0, $1) },
                          { vigil__v1__intel_lookup_request__free_unpacked($0, nil) }) { IntelLookupRequest(value: swiftString($0.value)) }
    }
}

extension ThreatIndicator {
    func cValue(_ a: Arena) -> Vigil__V1__ThreatIndicator {
        var c = Vigil__V1__ThreatIndicator()
        vigil__v1__threat_indicator__init(&c)
        c.type = a.string(type); c.value = a.string(value); c.feed = a.string(feed); c.confidence = confidence
        c.first_seen_time_ms = firstSeenTimeMs; c.last_seen_time_ms = lastSeenTimeMs; c.expires_time_ms = expiresTimeMs
        return c
    }
    init(c: Vigil__V1__ThreatIndicator) {
        self.init()
        type = swiftString(c.type); value = swiftString(c.value); feed = swiftString(c.feed); confidence = c.confidence
        firstSeenTimeMs = c.first_seen_time_ms; lastSeenTimeMs = c.last_seen_time_ms; expiresTimeMs = c.expires_time_ms
    }
}

extension IntelLookupResponse: WireMessage {
    public static let typeName = "vigil.v1.IntelLookupResponse"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__IntelLookupResponse()
        vigil__v1__intel_lookup_response__init(&c)
        c.value = a.string(value)
        (c.n_indicators, c.indicators) = cArray(a, indicators.map { $0.cValue(a) })
        return pack(&c, vigil__v1__intel_lookup_response__get_packed_size, vigil__v1__intel_lookup_response__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__intel_lookup_response__unpack(nil, $0, $1) },
                          { vigil__v1__intel_lookup_response__free_unpacked($0, nil) }) { c in
            var r = IntelLookupResponse()
            r.value = swiftString(c.value)
            r.indicators = swiftArray(c.indicators, c.n_indicators, ThreatIndicator.init(c:))
            return r
        }
    }
}

extension IntelReloadRequest: WireMessage {
    public static let typeName = "vigil.v1.IntelReloadRequest"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__IntelReloadRequest()
        vigil__v1__intel_reload_request__init(&c)
        c.feed = a.string(feed)
        return pack(&c, vigil__v1__intel_reload_request__get_packed_size, vigil__v1__intel_reload_request__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__intel_reload_request__unpack(nil, $0, $1) },
                          { vigil__v1__intel_reload_request__free_unpacked($0, nil) }) { IntelReloadRequest(feed: swiftString($0.feed)) }
    }
}

extension ImportRequest: WireMessage {
    public static let typeName = "vigil.v1.ImportRequest"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__ImportRequest()
        vigil__v1__import_request__init(&c)
        c.format = a.string(format); c.content = a.binary(content); c.origin = a.string(origin)
        return pack(&c, vigil__v1__import_request__get_packed_size, vigil__v1__import_request__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__import_request__unpack(nil, $0, $1) },
                          { vigil__v1__import_request__free_unpacked($0, nil) }) { c in
            ImportRequest(format: swiftString(c.format), content: swiftBytes(c.content), origin: swiftString(c.origin))
        }
    }
}

extension ImportResponse: WireMessage {
    public static let typeName = "vigil.v1.ImportResponse"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__ImportResponse()
        vigil__v1__import_response__init(&c)
        c.imported = imported; c.rejected = rejected
        (c.n_errors, c.errors) = cStrings(a, errors)
        return pack(&c, vigil__v1__import_response__get_packed_size, vigil__v1__import_response__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__import_response__unpack(nil, $0, $1) },
                          { vigil__v1__import_response__free_unpacked($0, nil) }) { c in
            var r = ImportResponse()
            r.imported = c.imported; r.rejected = c.rejected; r.errors = swiftStrings(c.errors, c.n_errors)
            return r
        }
    }
}

// MARK: - assets and users

extension AssetRecord {
    func cValue(_ a: Arena) -> Vigil__V1__Asset {
        var c = Vigil__V1__Asset()
        vigil__v1__asset__init(&c)
        c.id = a.string(id); c.name = a.string(name); c.hostname = a.string(hostname); c.ip = a.string(ip)
        c.mac = a.string(mac); c.agent_id = a.string(agentId); c.criticality = a.string(criticality)
        (c.n_tags, c.tags) = cStrings(a, tags)
        c.os = a.string(os); c.owner = a.string(owner); c.updated_time_ms = updatedTimeMs
        return c
    }
    init(c: Vigil__V1__Asset) {
        self.init()
        id = swiftString(c.id); name = swiftString(c.name); hostname = swiftString(c.hostname); ip = swiftString(c.ip)
        mac = swiftString(c.mac); agentId = swiftString(c.agent_id); criticality = swiftString(c.criticality)
        tags = swiftStrings(c.tags, c.n_tags); os = swiftString(c.os); owner = swiftString(c.owner); updatedTimeMs = c.updated_time_ms
    }
}

extension AssetPage: WireMessage {
    public static let typeName = "vigil.v1.AssetPage"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__AssetPage()
        vigil__v1__asset_page__init(&c)
        (c.n_assets, c.assets) = cArray(a, assets.map { $0.cValue(a) })
        c.next_cursor = a.string(nextCursor)
        return pack(&c, vigil__v1__asset_page__get_packed_size, vigil__v1__asset_page__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__asset_page__unpack(nil, $0, $1) },
                          { vigil__v1__asset_page__free_unpacked($0, nil) }) { c in
            var p = AssetPage()
            p.assets = swiftArray(c.assets, c.n_assets, AssetRecord.init(c:))
            p.nextCursor = swiftString(c.next_cursor)
            return p
        }
    }
}

extension DirectoryUser {
    func cValue(_ a: Arena) -> Vigil__V1__DirectoryUser {
        var c = Vigil__V1__DirectoryUser()
        vigil__v1__directory_user__init(&c)
        c.id = a.string(id); c.sam_account_name = a.string(samAccountName); c.upn = a.string(upn); c.email = a.string(email)
        c.sid = a.string(sid); c.display_name = a.string(displayName); c.department = a.string(department)
        c.title = a.string(title); c.manager = a.string(manager)
        (c.n_groups, c.groups) = cStrings(a, groups)
        c.privileged = privileged ? 1 : 0; c.updated_time_ms = updatedTimeMs
        return c
    }
    init(c: Vigil__V1__DirectoryUser) {
        self.init()
        id = swiftString(c.id); samAccountName = swiftString(c.sam_account_name); upn = swiftString(c.upn); email = swiftString(c.email)
        sid = swiftString(c.sid); displayName = swiftString(c.display_name); department = swiftString(c.department)
        title = swiftString(c.title); manager = swiftString(c.manager); groups = swiftStrings(c.groups, c.n_groups)
        privileged = c.privileged != 0; updatedTimeMs = c.updated_time_ms
    }
}

extension DirectoryUserPage: WireMessage {
    public static let typeName = "vigil.v1.DirectoryUserPage"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__DirectoryUserPage()
        vigil__v1__directory_user_page__init(&c)
        (c.n_users, c.users) = cArray(a, users.map { $0.cValue(a) })
        c.next_cursor = a.string(nextCursor)
        return pack(&c, vigil__v1__directory_user_page__get_packed_size, vigil__v1__directory_user_page__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__directory_user_page__unpack(nil, $0, $1) },
                          { vigil__v1__directory_user_page__free_unpacked($0, nil) }) { c in
            var p = DirectoryUserPage()
            p.users = swiftArray(c.users, c.n_users, DirectoryUser.init(c:))
            p.nextCursor = swiftString(c.next_cursor)
            return p
        }
    }
}

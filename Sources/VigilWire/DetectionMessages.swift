import CProtobufC
import VigilProto

// Detection's library, signal deletion, dashboard and signal detail messages
// (Protos/vigil/v1/rules.proto): Swift values and their protobuf-c conversion.

public struct DeleteSignalsResponse: Sendable, Equatable {
    public var ruleId = ""
    public var deleted: UInt64 = 0
    public init(ruleId: String = "", deleted: UInt64 = 0) { self.ruleId = ruleId; self.deleted = deleted }
}

public struct LibraryEntry: Sendable, Equatable {
    public var summary = RuleSummary()
    public var description = ""
    public var installed = false
    public var installedStatus = ""
    public var installedModified = false
    public var copies: UInt32 = 0
    public var tests: UInt32 = 0
    public init() {}
}

public struct LibraryPage: Sendable, Equatable {
    public var entries: [LibraryEntry] = []
    public init(entries: [LibraryEntry] = []) { self.entries = entries }
}

public struct LibraryDetail: Sendable, Equatable {
    public var entry = LibraryEntry()
    public var ruleJson = ""
    public var explanation = ""
    public init() {}
}

public struct DashboardRequest: Sendable, Equatable {
    public var fromTimeMs: Int64 = 0
    public var toTimeMs: Int64 = 0
    public var query = ""
    public init(fromTimeMs: Int64 = 0, toTimeMs: Int64 = 0, query: String = "") {
        self.fromTimeMs = fromTimeMs; self.toTimeMs = toTimeMs; self.query = query
    }
}

public struct DashboardBucket: Sendable, Equatable {
    public var key = ""
    public var name = ""
    public var count: UInt64 = 0
    public init(key: String, name: String = "", count: UInt64) { self.key = key; self.name = name; self.count = count }
}

public struct Dashboard: Sendable, Equatable {
    public var fromTimeMs: Int64 = 0
    public var toTimeMs: Int64 = 0
    public var total: UInt64 = 0
    public var byStage: [DashboardBucket] = []
    public var topTactics: [DashboardBucket] = []
    public var topUsers: [DashboardBucket] = []
    public var topAssets: [DashboardBucket] = []
    public var byCriticality: [DashboardBucket] = []
    public init() {}
}

public struct SignalDetail: Sendable, Equatable {
    public var signal = Signal()
    public var events: [Event] = []
    /// Present when the signal's events (or its asset name) resolve to an inventory asset.
    public var asset: AssetRecord?
    public var lookupError = ""
    public init() {}
}

// MARK: - codecs

extension DeleteSignalsResponse: WireMessage {
    public static let typeName = "vigil.v1.DeleteSignalsResponse"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__DeleteSignalsResponse()
        vigil__v1__delete_signals_response__init(&c)
        c.rule_id = a.string(ruleId); c.deleted = deleted
        return pack(&c, vigil__v1__delete_signals_response__get_packed_size, vigil__v1__delete_signals_response__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__delete_signals_response__unpack(nil, $0, $1) },
                          { vigil__v1__delete_signals_response__free_unpacked($0, nil) }) { DeleteSignalsResponse(ruleId: swiftString($0.rule_id), deleted: $0.deleted) }
    }
}

extension LibraryEntry {
    func cValue(_ a: Arena) -> Vigil__V1__LibraryEntry {
        var c = Vigil__V1__LibraryEntry()
        vigil__v1__library_entry__init(&c)
        c.summary = a.box(summary.cValue(a))
        c.description = a.string(description)
        c.installed = installed ? 1 : 0
        c.installed_status = a.string(installedStatus)
        c.installed_modified = installedModified ? 1 : 0
        c.copies = copies; c.tests = tests
        return c
    }
    init(c: Vigil__V1__LibraryEntry) {
        self.init()
        if let s = c.summary { summary = RuleSummary(c: s.pointee) }
        description = swiftString(c.description)
        installed = c.installed != 0
        installedStatus = swiftString(c.installed_status)
        installedModified = c.installed_modified != 0
        copies = c.copies; tests = c.tests
    }
}

extension LibraryPage: WireMessage {
    public static let typeName = "vigil.v1.LibraryPage"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__LibraryPage()
        vigil__v1__library_page__init(&c)
        (c.n_entries, c.entries) = cArray(a, entries.map { $0.cValue(a) })
        return pack(&c, vigil__v1__library_page__get_packed_size, vigil__v1__library_page__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__library_page__unpack(nil, $0, $1) },
                          { vigil__v1__library_page__free_unpacked($0, nil) }) { LibraryPage(entries: swiftArray($0.entries, $0.n_entries, LibraryEntry.init(c:))) }
    }
}

extension LibraryDetail: WireMessage {
    public static let typeName = "vigil.v1.LibraryDetail"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__LibraryDetail()
        vigil__v1__library_detail__init(&c)
        c.entry = a.box(entry.cValue(a))
        c.rule_json = a.string(ruleJson); c.explanation = a.string(explanation)
        return pack(&c, vigil__v1__library_detail__get_packed_size, vigil__v1__library_detail__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__library_detail__unpack(nil, $0, $1) },
                          { vigil__v1__library_detail__free_unpacked($0, nil) }) { c in
            var d = LibraryDetail()
            if let e = c.entry { d.entry = LibraryEntry(c: e.pointee) }
            d.ruleJson = swiftString(c.rule_json); d.explanation = swiftString(c.explanation)
            return d
        }
    }
}

extension DashboardRequest: WireMessage {
    public static let typeName = "vigil.v1.DashboardRequest"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__DashboardRequest()
        vigil__v1__dashboard_request__init(&c)
        c.from_time_ms = fromTimeMs; c.to_time_ms = toTimeMs; c.query = a.string(query)
        return pack(&c, vigil__v1__dashboard_request__get_packed_size, vigil__v1__dashboard_request__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__dashboard_request__unpack(nil, $0, $1) },
                          { vigil__v1__dashboard_request__free_unpacked($0, nil) }) {
            DashboardRequest(fromTimeMs: $0.from_time_ms, toTimeMs: $0.to_time_ms, query: swiftString($0.query))
        }
    }
}

extension DashboardBucket {
    func cValue(_ a: Arena) -> Vigil__V1__DashboardBucket {
        var c = Vigil__V1__DashboardBucket()
        vigil__v1__dashboard_bucket__init(&c)
        c.key = a.string(key); c.name = a.string(name); c.count = count
        return c
    }
    init(c: Vigil__V1__DashboardBucket) { self.init(key: swiftString(c.key), name: swiftString(c.name), count: c.count) }
}

extension Dashboard: WireMessage {
    public static let typeName = "vigil.v1.Dashboard"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__Dashboard()
        vigil__v1__dashboard__init(&c)
        c.from_time_ms = fromTimeMs; c.to_time_ms = toTimeMs; c.total = total
        (c.n_by_stage, c.by_stage) = cArray(a, byStage.map { $0.cValue(a) })
        (c.n_top_tactics, c.top_tactics) = cArray(a, topTactics.map { $0.cValue(a) })
        (c.n_top_users, c.top_users) = cArray(a, topUsers.map { $0.cValue(a) })
        (c.n_top_assets, c.top_assets) = cArray(a, topAssets.map { $0.cValue(a) })
        (c.n_by_criticality, c.by_criticality) = cArray(a, byCriticality.map { $0.cValue(a) })
        return pack(&c, vigil__v1__dashboard__get_packed_size, vigil__v1__dashboard__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__dashboard__unpack(nil, $0, $1) },
                          { vigil__v1__dashboard__free_unpacked($0, nil) }) { c in
            var d = Dashboard()
            d.fromTimeMs = c.from_time_ms; d.toTimeMs = c.to_time_ms; d.total = c.total
            d.byStage = swiftArray(c.by_stage, c.n_by_stage, DashboardBucket.init(c:))
            d.topTactics = swiftArray(c.top_tactics, c.n_top_tactics, DashboardBucket.init(c:))
            d.topUsers = swiftArray(c.top_users, c.n_top_users, DashboardBucket.init(c:))
            d.topAssets = swiftArray(c.top_assets, c.n_top_assets, DashboardBucket.init(c:))
            d.byCriticality = swiftArray(c.by_criticality, c.n_by_criticality, DashboardBucket.init(c:))
            return d
        }
    }
}

extension SignalDetail: WireMessage {
    public static let typeName = "vigil.v1.SignalDetail"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__SignalDetail()
        vigil__v1__signal_detail__init(&c)
        c.signal = a.box(signal.cValue(a))
        (c.n_events, c.events) = cArray(a, events.map { $0.cValue(a) })
        if let asset { c.asset = a.box(asset.cValue(a)); c.has_asset = 1 }
        c.lookup_error = a.string(lookupError)
        return pack(&c, vigil__v1__signal_detail__get_packed_size, vigil__v1__signal_detail__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__signal_detail__unpack(nil, $0, $1) },
                          { vigil__v1__signal_detail__free_unpacked($0, nil) }) { c in
            var d = SignalDetail()
            if let s = c.signal { d.signal = Signal(c: s.pointee) }
            if let evs = c.events { for i in 0..<c.n_events { if let e = evs[i] { d.events.append(Event(c: e)) } } }
            if c.has_asset != 0, let x = c.asset { d.asset = AssetRecord(c: x.pointee) }
            d.lookupError = swiftString(c.lookup_error)
            return d
        }
    }
}

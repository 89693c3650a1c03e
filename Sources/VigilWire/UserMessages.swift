import CProtobufC
import VigilProto

// User-analytics messages (Protos/vigil/v1/users.proto): risk pages, user detail, user lists,
// directory sync reports. Swift values and their protobuf-c conversion.

public struct UserRequest: Sendable, Equatable {
    public var user = "", query = ""
    public var limit: UInt32 = 0
    public var fromTimeMs: Int64 = 0, toTimeMs: Int64 = 0
    public var tactic = ""
    public var bucketMs: Int64 = 0
    public init(user: String = "", query: String = "", limit: UInt32 = 0) { self.user = user; self.query = query; self.limit = limit }
}

public struct UserRisk: Sendable, Equatable {
    public var id = "", name = "", displayName = "", department = "", title = ""
    public var privileged = false
    public var score: Double = 0
    public var signals: UInt64 = 0
    public var lastSignalTimeMs: Int64 = 0
    public var topRule = ""
    public var inDirectory = false
    public init() {}
}

public struct UserRiskPage: Sendable, Equatable {
    public var users: [UserRisk] = []
    public var total: UInt64 = 0
    public init(users: [UserRisk] = [], total: UInt64 = 0) { self.users = users; self.total = total }
}

public struct RiskContribution: Sendable, Equatable {
    public var signalId = "", ruleId = "", ruleName = "", tactic = ""
    public var signalScore: UInt32 = 0
    public var weight: Double = 1, decayed: Double = 0, points: Double = 0
    public var timeMs: Int64 = 0
    public var count: UInt64 = 0
    public init() {}
}

public struct RiskPoint: Sendable, Equatable {
    public var timeMs: Int64 = 0
    public var score: Double = 0, delta: Double = 0
    public var signalId = "", ruleName = ""
    public init(timeMs: Int64 = 0, score: Double = 0, delta: Double = 0, signalId: String = "", ruleName: String = "") {
        self.timeMs = timeMs; self.score = score; self.delta = delta; self.signalId = signalId; self.ruleName = ruleName
    }
}

public struct CountBucket: Sendable, Equatable {
    public var key = "", label = ""
    public var count: UInt64 = 0
    public var startTimeMs: Int64 = 0
    public init(key: String = "", label: String = "", count: UInt64 = 0, startTimeMs: Int64 = 0) {
        self.key = key; self.label = label; self.count = count; self.startTimeMs = startTimeMs
    }
}

public struct SignalSummary: Sendable, Equatable {
    public var id = "", ruleId = "", ruleName = "", tactic = "", technique = ""
    public var criticality: UInt32 = 0, score: UInt32 = 0
    public var timeMs: Int64 = 0
    public var eventIds: [String] = []
    public init() {}
}

public struct UserDetail: Sendable, Equatable {
    public var risk = UserRisk()
    public var directory = DirectoryUser()
    public var attributes: [String: String] = [:]
    public var byTactic: [CountBucket] = []
    public var bySignal: [RiskContribution] = []
    public var byRule: [RiskContribution] = []
    public var signals: [SignalSummary] = []
    public var trend: [RiskPoint] = []
    public var timeline: [CountBucket] = []
    public var bucketMs: Int64 = 0, fromTimeMs: Int64 = 0, toTimeMs: Int64 = 0
    public init() {}
}

public struct UserListRisk: Sendable, Equatable {
    public var id = "", name = "", query = ""
    public var members: UInt64 = 0
    public var top: [UserRisk] = []
    public var error = ""
    public init() {}
}

public struct UserListRiskList: Sendable, Equatable {
    public var lists: [UserListRisk] = []
    public init(lists: [UserListRisk] = []) { self.lists = lists }
}

public struct DirectorySyncRequest: Sendable, Equatable {
    public var mode = ""
    public init(mode: String = "") { self.mode = mode }
}

public struct DirectorySyncReport: Sendable, Equatable {
    public var mode = ""
    public var startedTimeMs: Int64 = 0, finishedTimeMs: Int64 = 0
    public var ok = false
    public var error = ""
    public var fetched: UInt64 = 0, added: UInt64 = 0, updated: UInt64 = 0, unchanged: UInt64 = 0
    public var rejected: UInt64 = 0, duplicates: UInt64 = 0, missing: UInt64 = 0
    public var problems: [String] = []
    public var pages: UInt32 = 0
    public var running = false
    public init() {}
}

public struct DirectorySyncReportList: Sendable, Equatable {
    public var syncs: [DirectorySyncReport] = []
    public init(syncs: [DirectorySyncReport] = []) { self.syncs = syncs }
}

// MARK: - DirectoryUser as a stream payload (`directory.changed`)

extension DirectoryUser: WireMessage {
    public static let typeName = "vigil.v1.DirectoryUser"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = cValue(a)
        return pack(&c, vigil__v1__directory_user__get_packed_size, vigil__v1__directory_user__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__directory_user__unpack(nil, $0, $1) },
                          { vigil__v1__directory_user__free_unpacked($0, nil) }) { DirectoryUser(c: $0) }
    }
}

// MARK: - UserRequest

extension UserRequest: WireMessage {
    public static let typeName = "vigil.v1.UserRequest"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__UserRequest()
        vigil__v1__user_request__init(&c)
        c.user = a.string(user); c.query = a.string(query); c.limit = limit
        c.from_time_ms = fromTimeMs; c.to_time_ms = toTimeMs; c.tactic = a.string(tactic); c.bucket_ms = bucketMs
        return pack(&c, vigil__v1__user_request__get_packed_size, vigil__v1__user_request__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__user_request__unpack(nil, $0, $1) },
                          { vigil__v1__user_request__free_unpacked($0, nil) }) { c in
            var r = UserRequest(user: swiftString(c.user), query: swiftString(c.query), limit: c.limit)
            r.fromTimeMs = c.from_time_ms; r.toTimeMs = c.to_time_ms; r.tactic = swiftString(c.tactic); r.bucketMs = c.bucket_ms
            return r
        }
    }
}

// MARK: - UserRisk, UserRiskPage

extension UserRisk {
    func cValue(_ a: Arena) -> Vigil__V1__UserRisk {
        var c = Vigil__V1__UserRisk()
        vigil__v1__user_risk__init(&c)
        c.id = a.string(id); c.name = a.string(name); c.display_name = a.string(displayName)
        c.department = a.string(department); c.title = a.string(title); c.privileged = privileged ? 1 : 0
        c.score = score; c.signals = signals; c.last_signal_time_ms = lastSignalTimeMs; c.top_rule = a.string(topRule)
        c.in_directory = inDirectory ? 1 : 0
        return c
    }
    init(c: Vigil__V1__UserRisk) {
        self.init()
        id = swiftString(c.id); name = swiftString(c.name); displayName = swiftString(c.display_name)
        department = swiftString(c.department); title = swiftString(c.title); privileged = c.privileged != 0
        score = c.score; signals = c.signals; lastSignalTimeMs = c.last_signal_time_ms; topRule = swiftString(c.top_rule)
        inDirectory = c.in_directory != 0
    }
}

extension UserRiskPage: WireMessage {
    public static let typeName = "vigil.v1.UserRiskPage"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__UserRiskPage()
        vigil__v1__user_risk_page__init(&c)
        (c.n_users, c.users) = cArray(a, users.map { $0.cValue(a) })
        c.total = total
        return pack(&c, vigil__v1__user_risk_page__get_packed_size, vigil__v1__user_risk_page__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__user_risk_page__unpack(nil, $0, $1) },
                          { vigil__v1__user_risk_page__free_unpacked($0, nil) }) { c in
            UserRiskPage(users: swiftArray(c.users, c.n_users, UserRisk.init(c:)), total: c.total)
        }
    }
}

// MARK: - UserDetail and its parts

extension RiskContribution {
    func cValue(_ a: Arena) -> Vigil__V1__RiskContribution {
        var c = Vigil__V1__RiskContribution()
        vigil__v1__risk_contribution__init(&c)
        c.signal_id = a.string(signalId); c.rule_id = a.string(ruleId); c.rule_name = a.string(ruleName); c.tactic = a.string(tactic)
        c.signal_score = signalScore; c.weight = weight; c.decayed = decayed; c.points = points; c.time_ms = timeMs; c.count = count
        return c
    }
    init(c: Vigil__V1__RiskContribution) {
        self.init()
        signalId = swiftString(c.signal_id); ruleId = swiftString(c.rule_id); ruleName = swiftString(c.rule_name); tactic = swiftString(c.tactic)
        signalScore = c.signal_score; weight = c.weight; decayed = c.decayed; points = c.points; timeMs = c.time_ms; count = c.count
    }
}

extension RiskPoint {
    func cValue(_ a: Arena) -> Vigil__V1__RiskPoint {
        var c = Vigil__V1__RiskPoint()
        vigil__v1__risk_point__init(&c)
        c.time_ms = timeMs; c.score = score; c.delta = delta; c.signal_id = a.string(signalId); c.rule_name = a.string(ruleName)
        return c
    }
    init(c: Vigil__V1__RiskPoint) {
        self.init(timeMs: c.time_ms, score: c.score, delta: c.delta, signalId: swiftString(c.signal_id), ruleName: swiftString(c.rule_name))
    }
}

extension CountBucket {
    func cValue(_ a: Arena) -> Vigil__V1__CountBucket {
        var c = Vigil__V1__CountBucket()
        vigil__v1__count_bucket__init(&c)
        c.key = a.string(key); c.label = a.string(label); c.count = count; c.start_time_ms = startTimeMs
        return c
    }
    init(c: Vigil__V1__CountBucket) {
        self.init(key: swiftString(c.key), label: swiftString(c.label), count: c.count, startTimeMs: c.start_time_ms)
    }
}

extension SignalSummary {
    func cValue(_ a: Arena) -> Vigil__V1__SignalSummary {
        var c = Vigil__V1__SignalSummary()
        vigil__v1__signal_summary__init(&c)
        c.id = a.string(id); c.rule_id = a.string(ruleId); c.rule_name = a.string(ruleName); c.tactic = a.string(tactic)
        c.technique = a.string(technique); c.criticality = criticality; c.score = score; c.time_ms = timeMs
        (c.n_event_ids, c.event_ids) = cStrings(a, eventIds)
        return c
    }
    init(c: Vigil__V1__SignalSummary) {
        self.init()
        id = swiftString(c.id); ruleId = swiftString(c.rule_id); ruleName = swiftString(c.rule_name); tactic = swiftString(c.tactic)
        technique = swiftString(c.technique); criticality = c.criticality; score = c.score; timeMs = c.time_ms
        eventIds = swiftStrings(c.event_ids, c.n_event_ids)
    }
}

extension UserDetail: WireMessage {
    public static let typeName = "vigil.v1.UserDetail"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__UserDetail()
        vigil__v1__user_detail__init(&c)
        c.risk = a.box(risk.cValue(a))
        c.directory = a.box(directory.cValue(a))
        let entries: [Vigil__V1__UserDetail__AttributesEntry] = attributes.sorted { $0.key < $1.key }.map { k, v in
            var e = Vigil__V1__UserDetail__AttributesEntry()
            vigil__v1__user_detail__attributes_entry__init(&e)
            e.key = a.string(k); e.value = a.string(v)
            return e
        }
        (c.n_attributes, c.attributes) = cArray(a, entries)
        (c.n_by_tactic, c.by_tactic) = cArray(a, byTactic.map { $0.cValue(a) })
        (c.n_by_signal, c.by_signal) = cArray(a, bySignal.map { $0.cValue(a) })
        (c.n_by_rule, c.by_rule) = cArray(a, byRule.map { $0.cValue(a) })
        (c.n_signals, c.signals) = cArray(a, signals.map { $0.cValue(a) })
        (c.n_trend, c.trend) = cArray(a, trend.map { $0.cValue(a) })
        (c.n_timeline, c.timeline) = cArray(a, timeline.map { $0.cValue(a) })
        c.bucket_ms = bucketMs; c.from_time_ms = fromTimeMs; c.to_time_ms = toTimeMs
        return pack(&c, vigil__v1__user_detail__get_packed_size, vigil__v1__user_detail__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__user_detail__unpack(nil, $0, $1) },
                          { vigil__v1__user_detail__free_unpacked($0, nil) }) { c in
            var d = UserDetail()
            if let r = c.risk { d.risk = UserRisk(c: r.pointee) }
            if let u = c.directory { d.directory = DirectoryUser(c: u.pointee) }
            for e in swiftArray(c.attributes, c.n_attributes, { ($0.key, $0.value) }) { d.attributes[swiftString(e.0)] = swiftString(e.1) }
            d.byTactic = swiftArray(c.by_tactic, c.n_by_tactic, CountBucket.init(c:))
            d.bySignal = swiftArray(c.by_signal, c.n_by_signal, RiskContribution.init(c:))
            d.byRule = swiftArray(c.by_rule, c.n_by_rule, RiskContribution.init(c:))
            d.signals = swiftArray(c.signals, c.n_signals, SignalSummary.init(c:))
            d.trend = swiftArray(c.trend, c.n_trend, RiskPoint.init(c:))
            d.timeline = swiftArray(c.timeline, c.n_timeline, CountBucket.init(c:))
            d.bucketMs = c.bucket_ms; d.fromTimeMs = c.from_time_ms; d.toTimeMs = c.to_time_ms
            return d
        }
    }
}

// MARK: - user lists

extension UserListRisk {
    func cValue(_ a: Arena) -> Vigil__V1__UserListRisk {
        var c = Vigil__V1__UserListRisk()
        vigil__v1__user_list_risk__init(&c)
        c.id = a.string(id); c.name = a.string(name); c.query = a.string(query); c.members = members
        (c.n_top, c.top) = cArray(a, top.map { $0.cValue(a) })
        c.error = a.string(error)
        return c
    }
    init(c: Vigil__V1__UserListRisk) {
        self.init()
        id = swiftString(c.id); name = swiftString(c.name); query = swiftString(c.query); members = c.members
        top = swiftArray(c.top, c.n_top, UserRisk.init(c:)); error = swiftString(c.error)
    }
}

extension UserListRiskList: WireMessage {
    public static let typeName = "vigil.v1.UserListRiskList"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__UserListRiskList()
        vigil__v1__user_list_risk_list__init(&c)
        (c.n_lists, c.lists) = cArray(a, lists.map { $0.cValue(a) })
        return pack(&c, vigil__v1__user_list_risk_list__get_packed_size, vigil__v1__user_list_risk_list__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__user_list_risk_list__unpack(nil, $0, $1) },
                          { vigil__v1__user_list_risk_list__free_unpacked($0, nil) }) { c in
            UserListRiskList(lists: swiftArray(c.lists, c.n_lists, UserListRisk.init(c:)))
        }
    }
}

// MARK: - directory sync

extension DirectorySyncRequest: WireMessage {
    public static let typeName = "vigil.v1.DirectorySyncRequest"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__DirectorySyncRequest()
        vigil__v1__directory_sync_request__init(&c)
        c.mode = a.string(mode)
        return pack(&c, vigil__v1__directory_sync_request__get_packed_size, vigil__v1__directory_sync_request__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__directory_sync_request__unpack(nil, $0, $1) },
                          { vigil__v1__directory_sync_request__free_unpacked($0, nil) }) { DirectorySyncRequest(mode: swiftString($0.mode)) }
    }
}

extension DirectorySyncReport {
    func cValue(_ a: Arena) -> Vigil__V1__DirectorySyncReport {
        var c = Vigil__V1__DirectorySyncReport()
        vigil__v1__directory_sync_report__init(&c)
        c.mode = a.string(mode); c.started_time_ms = startedTimeMs; c.finished_time_ms = finishedTimeMs
        c.ok = ok ? 1 : 0; c.error = a.string(error)
        c.fetched = fetched; c.added = added; c.updated = updated; c.unchanged = unchanged
        c.rejected = rejected; c.duplicates = duplicates; c.missing = missing
        (c.n_problems, c.problems) = cStrings(a, problems)
        c.pages = pages
        c.running = running ? 1 : 0
        return c
    }
    init(c: Vigil__V1__DirectorySyncReport) {
        self.init()
        mode = swiftString(c.mode); startedTimeMs = c.started_time_ms; finishedTimeMs = c.finished_time_ms
        ok = c.ok != 0; error = swiftString(c.error)
        fetched = c.fetched; added = c.added; updated = c.updated; unchanged = c.unchanged
        rejected = c.rejected; duplicates = c.duplicates; missing = c.missing
        problems = swiftStrings(c.problems, c.n_problems); pages = c.pages
        running = c.running != 0
    }
}

extension DirectorySyncReport: WireMessage {
    public static let typeName = "vigil.v1.DirectorySyncReport"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = cValue(a)
        return pack(&c, vigil__v1__directory_sync_report__get_packed_size, vigil__v1__directory_sync_report__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__directory_sync_report__unpack(nil, $0, $1) },
                          { vigil__v1__directory_sync_report__free_unpacked($0, nil) }) { DirectorySyncReport(c: $0) }
    }
}

extension DirectorySyncReportList: WireMessage {
    public static let typeName = "vigil.v1.DirectorySyncReportList"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__DirectorySyncReportList()
        vigil__v1__directory_sync_report_list__init(&c)
        (c.n_syncs, c.syncs) = cArray(a, syncs.map { $0.cValue(a) })
        return pack(&c, vigil__v1__directory_sync_report_list__get_packed_size, vigil__v1__directory_sync_report_list__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__directory_sync_report_list__unpack(nil, $0, $1) },
                          { vigil__v1__directory_sync_report_list__free_unpacked($0, nil) }) { c in
            DirectorySyncReportList(syncs: swiftArray(c.syncs, c.n_syncs, DirectorySyncReport.init(c:)))
        }
    }
}

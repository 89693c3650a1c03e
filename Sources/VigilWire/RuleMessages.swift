import CProtobufC
import VigilProto

// Rule and signal-query messages (Protos/vigil/v1/rules.proto): Swift values and their protobuf-c conversion.

public struct RuleRequest: Sendable, Equatable {
    public var id = ""
    public var ruleJson = ""
    public init(id: String = "", ruleJson: String = "") { self.id = id; self.ruleJson = ruleJson }
}

public struct RuleSummary: Sendable, Equatable {
    public var id = "", name = ""
    public var version: UInt32 = 0
    public var status = ""
    public var criticality: Criticality = .unspecified
    public var riskScore: UInt32 = 0
    public var type = ""
    public var tacticIds: [String] = [], techniqueIds: [String] = [], logSources: [String] = []
    public var modifiedTimeMs: Int64 = 0
    public var signalCount: UInt64 = 0
    public init() {}
}

public struct RulePage: Sendable, Equatable {
    public var rules: [RuleSummary] = []
    public var nextCursor = ""
    public init() {}
}

public struct RuleDetail: Sendable, Equatable {
    public var summary = RuleSummary()
    public var ruleJson = ""
    public var explanation = ""
    public var stateGroups: UInt64 = 0
    public init() {}
}

public struct RuleBundleMessage: Sendable, Equatable {
    public var json = ""
    public var ids: [String] = []
    public init(json: String = "", ids: [String] = []) { self.json = json; self.ids = ids }
}

public struct RuleTestResponse: Sendable, Equatable {
    public struct Result: Sendable, Equatable {
        public var name = "", expect = ""
        public var signals: UInt32 = 0
        public var passed = false
        public var detail = ""
        public init(name: String, expect: String, signals: UInt32, passed: Bool, detail: String) {
            self.name = name; self.expect = expect; self.signals = signals; self.passed = passed; self.detail = detail
        }
    }
    public var ruleId = "", ruleName = ""
    public var passed = false
    public var results: [Result] = []
    public init() {}
}

public struct SignalPage: Sendable, Equatable {
    public var signals: [Signal] = []
    public var nextCursor = ""
    public init() {}
}

// pack/unpack: the shared helpers in QueryMessages.swift.

extension RuleRequest: WireMessage {
    public static let typeName = "vigil.v1.RuleRequest"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__RuleRequest()
        vigil__v1__rule_request__init(&c)
        c.id = a.string(id); c.rule_json = a.string(ruleJson)
        return pack(&c, vigil__v1__rule_request__get_packed_size, vigil__v1__rule_request__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__rule_request__unpack(nil, $0, $1) },
                          { vigil__v1__rule_request__free_unpacked($0, nil) }) { RuleRequest(id: swiftString($0.id), ruleJson: swiftString($0.rule_json)) }
    }
}

extension RuleSummary {
    func cValue(_ a: Arena) -> Vigil__V1__RuleSummary {
        var c = Vigil__V1__RuleSummary()
        vigil__v1__rule_summary__init(&c)
        c.id = a.string(id); c.name = a.string(name); c.version = version; c.status = a.string(status)
        c.criticality = .init(rawValue: numericCast(criticality.rawValue)); c.risk_score = riskScore; c.type = a.string(type)
        (c.n_tactic_ids, c.tactic_ids) = cStrings(a, tacticIds)
        (c.n_technique_ids, c.technique_ids) = cStrings(a, techniqueIds)
        (c.n_log_sources, c.log_sources) = cStrings(a, logSources)
        c.modified_time_ms = modifiedTimeMs; c.signal_count = signalCount
        return c
    }
    init(c: Vigil__V1__RuleSummary) {
        var r = RuleSummary()
        r.id = swiftString(c.id); r.name = swiftString(c.name); r.version = c.version; r.status = swiftString(c.status)
        r.criticality = Criticality(rawValue: numericCast(c.criticality.rawValue)) ?? .unspecified
        r.riskScore = c.risk_score; r.type = swiftString(c.type)
        r.tacticIds = swiftStrings(c.tactic_ids, c.n_tactic_ids)
        r.techniqueIds = swiftStrings(c.technique_ids, c.n_technique_ids)
        r.logSources = swiftStrings(c.log_sources, c.n_log_sources)
        r.modifiedTimeMs = c.modified_time_ms; r.signalCount = c.signal_count
        self = r
    }
}

extension RulePage: WireMessage {
    public static let typeName = "vigil.v1.RulePage"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__RulePage()
        vigil__v1__rule_page__init(&c)
        if !rules.isEmpty {
            let arr = a.allocate(UnsafeMutablePointer<Vigil__V1__RuleSummary>?.self, count: rules.count)
            for (i, r) in rules.enumerated() { arr[i] = a.box(r.cValue(a)) }
            c.n_rules = rules.count; c.rules = arr
        }
        c.next_cursor = a.string(nextCursor)
        return pack(&c, vigil__v1__rule_page__get_packed_size, vigil__v1__rule_page__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__rule_page__unpack(nil, $0, $1) },
                          { vigil__v1__rule_page__free_unpacked($0, nil) }) { c in
            var p = RulePage()
            if let rs = c.rules { for i in 0..<c.n_rules { if let r = rs[i] { p.rules.append(RuleSummary(c: r.pointee)) } } }
            p.nextCursor = swiftString(c.next_cursor)
            return p
        }
    }
}

extension RuleDetail: WireMessage {
    public static let typeName = "vigil.v1.RuleDetail"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__RuleDetail()
        vigil__v1__rule_detail__init(&c)
        c.summary = a.box(summary.cValue(a))
        c.rule_json = a.string(ruleJson); c.explanation = a.string(explanation); c.state_groups = stateGroups
        return pack(&c, vigil__v1__rule_detail__get_packed_size, vigil__v1__rule_detail__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__rule_detail__unpack(nil, $0, $1) },
                          { vigil__v1__rule_detail__free_unpacked($0, nil) }) { c in
            var d = RuleDetail()
            if let s = c.summary { d.summary = RuleSummary(c: s.pointee) }
            d.ruleJson = swiftString(c.rule_json); d.explanation = swiftString(c.explanation); d.stateGroups = c.state_groups
            return d
        }
    }
}

extension RuleBundleMessage: WireMessage {
    public static let typeName = "vigil.v1.RuleBundle"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__RuleBundle()
        vigil__v1__rule_bundle__init(&c)
        c.json = a.string(json)
        (c.n_ids, c.ids) = cStrings(a, ids)
        return pack(&c, vigil__v1__rule_bundle__get_packed_size, vigil__v1__rule_bundle__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__rule_bundle__unpack(nil, $0, $1) },
                          { vigil__v1__rule_bundle__free_unpacked($0, nil) }) { RuleBundleMessage(json: swiftString($0.json), ids: swiftStrings($0.ids, $0.n_ids)) }
    }
}

extension RuleTestResponse: WireMessage {
    public static let typeName = "vigil.v1.RuleTestResponse"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__RuleTestResponse()
        vigil__v1__rule_test_response__init(&c)
        c.rule_id = a.string(ruleId); c.rule_name = a.string(ruleName); c.passed = passed ? 1 : 0
        if !results.isEmpty {
            let arr = a.allocate(UnsafeMutablePointer<Vigil__V1__RuleTestResult>?.self, count: results.count)
            for (i, r) in results.enumerated() {
                var e = Vigil__V1__RuleTestResult(); vigil__v1__rule_test_result__init(&e)
                e.name = a.string(r.name); e.expect = a.string(r.expect); e.signals = r.signals; e.passed = r.passed ? 1 : 0; e.detail = a.string(r.detail)
                arr[i] = a.box(e)
            }
            c.n_results = results.count; c.results = arr
        }
        return pack(&c, vigil__v1__rule_test_response__get_packed_size, vigil__v1__rule_test_response__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__rule_test_response__unpack(nil, $0, $1) },
                          { vigil__v1__rule_test_response__free_unpacked($0, nil) }) { c in
            var r = RuleTestResponse()
            r.ruleId = swiftString(c.rule_id); r.ruleName = swiftString(c.rule_name); r.passed = c.passed != 0
            if let rs = c.results {
                for i in 0..<c.n_results {
                    if let t = rs[i]?.pointee {
                        r.results.append(.init(name: swiftString(t.name), expect: swiftString(t.expect), signals: t.signals, passed: t.passed != 0, detail: swiftString(t.detail)))
                    }
                }
            }
            return r
        }
    }
}

extension SignalPage: WireMessage {
    public static let typeName = "vigil.v1.SignalPage"
    public func encoded() -> [UInt8] {
        let a = Arena()
        var c = Vigil__V1__SignalPage()
        vigil__v1__signal_page__init(&c)
        if !signals.isEmpty {
            let arr = a.allocate(UnsafeMutablePointer<Vigil__V1__Signal>?.self, count: signals.count)
            for (i, s) in signals.enumerated() { arr[i] = a.box(s.cValue(a)) }
            c.n_signals = signals.count; c.signals = arr
        }
        c.next_cursor = a.string(nextCursor)
        return pack(&c, vigil__v1__signal_page__get_packed_size, vigil__v1__signal_page__pack)
    }
    public init(decoding bytes: [UInt8]) throws {
        self = try unpack(bytes, Self.typeName, { vigil__v1__signal_page__unpack(nil, $0, $1) },
                          { vigil__v1__signal_page__free_unpacked($0, nil) }) { c in
            var p = SignalPage()
            if let ss = c.signals { for i in 0..<c.n_signals { if let s = ss[i] { p.signals.append(Signal(c: s.pointee)) } } }
            p.nextCursor = swiftString(c.next_cursor)
            return p
        }
    }
}

import Foundation
import VigilEvents
import VigilQuery
import VigilWire

/// JSON → Rule with validation. Collects every problem (path + message) and refuses the
/// rule whole when there is any; unknown members are refused so a typo never silently
/// turns a detection off.
public enum RuleDecoder {
    public static let maxWindowMs: Int64 = 30 * 86_400_000
    public static let maxTestEvents = 10_000

    public static func decode(_ text: String) throws -> Rule {
        try decode(parsing(text))
    }

    static func parsing(_ text: String) throws -> JSONValue {
        do { return try JSONReader.parse(text) } catch let e as JSONReader.SyntaxError {
            throw RuleError(.invalidJSON, "$", e.description)
        }
    }

    public static func decode(_ json: JSONValue, path: String = "$") throws -> Rule {
        let c = Collector()
        let rule = read(json, path, c)
        if !c.issues.isEmpty { throw RuleError(c.issues) }
        guard let rule else { throw RuleError(.invalidValue, path, "not a rule") }
        return rule
    }

    /// Collected problems; a class so nested readers can add to one list.
    final class Collector {
        var issues: [RuleIssue] = []
        func add(_ code: RuleIssue.Code, _ path: String, _ message: String) { issues.append(RuleIssue(code, path, message)) }
    }

    /// Reads members of one object, remembering which were used so leftovers are reported.
    struct Obj {
        let members: [(String, JSONValue)]
        let path: String
        let c: Collector
        private var used = Set<String>()

        init?(_ v: JSONValue, _ path: String, _ c: Collector) {
            guard case .object(let m) = v else { c.add(.wrongType, path, "must be an object, not \(v.typeName)"); return nil }
            members = m; self.path = path; self.c = c
        }

        func p(_ key: String) -> String { path + "." + key }

        mutating func raw(_ key: String, required: Bool = false) -> JSONValue? {
            used.insert(key)
            guard let v = members.first(where: { $0.0 == key })?.1, v != .null else {
                if required { c.add(.missingField, p(key), "is required") }
                return nil
            }
            return v
        }

        mutating func string(_ key: String, required: Bool = false, nonEmpty: Bool = false) -> String? {
            guard let v = raw(key, required: required) else { return nil }
            guard case .string(let s) = v else { c.add(.wrongType, p(key), "must be a string, not \(v.typeName)"); return nil }
            if nonEmpty && s.trimmingCharacters(in: .whitespaces).isEmpty { c.add(.invalidValue, p(key), "must not be empty"); return nil }
            return s
        }

        mutating func int(_ key: String, required: Bool = false, range: ClosedRange<Int64>) -> Int? {
            guard let v = raw(key, required: required) else { return nil }
            guard case .integer(let n) = v else {
                c.add(.wrongType, p(key), "must be a whole number, not \(v.typeName)"); return nil
            }
            guard range.contains(n) else { c.add(.invalidValue, p(key), "must be between \(range.lowerBound) and \(range.upperBound), got \(n)"); return nil }
            return Int(n)
        }

        mutating func strings(_ key: String, required: Bool = false) -> [String]? {
            guard let v = raw(key, required: required) else { return nil }
            guard case .array(let items) = v else { c.add(.wrongType, p(key), "must be an array of strings, not \(v.typeName)"); return nil }
            var out: [String] = []
            for (i, item) in items.enumerated() {
                guard case .string(let s) = item, !s.trimmingCharacters(in: .whitespaces).isEmpty else {
                    c.add(.wrongType, "\(p(key))[\(i)]", "must be a non-empty string"); continue
                }
                out.append(s)
            }
            return out
        }

        mutating func duration(_ key: String, required: Bool = false, max: Int64 = RuleDecoder.maxWindowMs) -> Int64? {
            guard let v = raw(key, required: required) else { return nil }
            let ms: Int64?
            switch v {
            case .string(let s): ms = Durations.parse(s)
            case .integer(let n): ms = n
            default: ms = nil
            }
            guard let ms else { c.add(.invalidValue, p(key), "must be a duration like \"30s\", \"10m\", \"2h\", \"1d\" (or milliseconds)"); return nil }
            guard ms > 0, ms <= max else { c.add(.invalidValue, p(key), "must be more than 0 and at most \(Durations.words(max))"); return nil }
            return ms
        }

        mutating func time(_ key: String) -> Int64? {
            guard let v = raw(key) else { return nil }
            switch v {
            case .integer(let n): return n
            case .string(let s):
                if case .absolute(let ms, _)? = TimeValue.parse(s) { return ms }
            default: break
            }
            c.add(.invalidValue, p(key), "must be an ISO 8601 time like \"2026-01-31T10:00:00Z\" or epoch milliseconds")
            return nil
        }

        /// Reports members nobody asked for.
        func finish() {
            for (k, _) in members where !used.contains(k) {
                c.add(.unknownField, p(k), "unknown member \"\(k)\"; members here: \(used.sorted().joined(separator: ", "))")
            }
        }
    }

    static func read(_ json: JSONValue, _ path: String, _ c: Collector) -> Rule? {
        guard var o = Obj(json, path, c) else { return nil }
        defer { o.finish() }
        if let s = o.int("schema", range: 1...1_000), s != Rule.schemaVersion {
            c.add(.invalidValue, o.p("schema"), "schema \(s) is not supported (this version reads schema \(Rule.schemaVersion))")
        }
        var id = o.string("id", required: true)
        if let i = id {
            if let u = UUID(uuidString: i) { id = u.uuidString.lowercased() }
            else { c.add(.invalidValue, o.p("id"), "must be a UUID like \"4f1c2d3e-0000-4000-8000-000000000001\", got \"\(i)\""); id = nil }
        }
        let name = o.string("name", required: true, nonEmpty: true)
        if let n = name, n.count > 200 { c.add(.invalidValue, o.p("name"), "must be at most 200 characters") }
        let description = o.string("description") ?? ""
        let version = o.int("version", range: 1...Int64(Int32.max)) ?? 1
        let author = o.string("author") ?? ""
        var derivedFrom = o.string("derived_from") ?? ""
        if !derivedFrom.isEmpty {
            if let u = UUID(uuidString: derivedFrom) { derivedFrom = u.uuidString.lowercased() }
            else { c.add(.invalidValue, o.p("derived_from"), "must be the UUID of the rule this one was copied from, got \"\(derivedFrom)\"") }
        }
        let created = o.time("created") ?? 0
        let modified = o.time("modified") ?? created
        var status = RuleStatus.inactive
        if let s = o.string("status") {
            if let st = RuleStatus(rawValue: s.lowercased()) { status = st }
            else { c.add(.invalidValue, o.p("status"), "must be \"active\" or \"inactive\", got \"\(s)\"") }
        }
        var tactics: [MitreRef] = [], techniques: [MitreRef] = []
        if let m = o.raw("mitre"), var mo = Obj(m, o.p("mitre"), c) {
            tactics = refs(mo.raw("tactics"), mo.p("tactics"), prefix: "TA", c)
            techniques = refs(mo.raw("techniques"), mo.p("techniques"), prefix: "T", c)
            mo.finish()
        }
        var criticality = Criticality.medium
        if let s = o.string("criticality", required: true) {
            if let cr = Criticality(name: s), cr != .unspecified { criticality = cr }
            else { c.add(.invalidValue, o.p("criticality"), "must be low, medium, high or critical, got \"\(s)\"") }
        }
        let risk = o.int("risk_score", required: true, range: 0...100) ?? 0
        let logSources = (o.strings("log_sources") ?? []).map { $0.lowercased() }
        let detection = o.raw("detection", required: true).flatMap { readDetection($0, o.p("detection"), c) }
        let suppression = o.duration("suppression") ?? 0
        let responses = o.strings("responses") ?? []
        var tests: [RuleTest] = []
        if let t = o.raw("tests") {
            if case .array(let items) = t {
                for (i, item) in items.enumerated() {
                    if let test = readTest(item, "\(o.p("tests"))[\(i)]", index: i, c) { tests.append(test) }
                }
            } else { c.add(.wrongType, o.p("tests"), "must be an array of tests, not \(t.typeName)") }
        }
        guard let id, let name, let detection else { return nil }
        var r = Rule(id: id, name: name, detection: detection)
        r.description = description; r.version = version; r.author = author; r.derivedFrom = derivedFrom
        r.createdMs = created; r.modifiedMs = modified; r.status = status
        r.tactics = tactics; r.techniques = techniques; r.criticality = criticality; r.riskScore = risk
        r.logSources = logSources; r.suppressionMs = suppression; r.responses = responses; r.tests = tests
        return r
    }

    static func refs(_ v: JSONValue?, _ path: String, prefix: String, _ c: Collector) -> [MitreRef] {
        guard let v else { return [] }
        guard case .array(let items) = v else { c.add(.wrongType, path, "must be an array of {\"id\", \"name\"}"); return [] }
        var out: [MitreRef] = []
        for (i, item) in items.enumerated() {
            guard var o = Obj(item, "\(path)[\(i)]", c) else { continue }
            let id = o.string("id", required: true, nonEmpty: true)
            let name = o.string("name", required: true, nonEmpty: true)
            o.finish()
            if let id, !validMitreId(id, prefix: prefix) {
                c.add(.invalidValue, o.p("id"), prefix == "TA" ? "must be a tactic id like TA0006, got \"\(id)\"" : "must be a technique id like T1110 or T1110.001, got \"\(id)\"")
                continue
            }
            if let id, let name { out.append(MitreRef(id: id.uppercased(), name: name)) }
        }
        return out
    }

    static func validMitreId(_ s: String, prefix: String) -> Bool {
        let u = s.uppercased()
        guard u.hasPrefix(prefix) else { return false }
        let rest = u.dropFirst(prefix.count)
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= (prefix == "T" ? 2 : 1), parts[0].count == 4, parts[0].allSatisfy(\.isNumber) else { return false }
        return parts.count == 1 || (parts[1].count == 3 && parts[1].allSatisfy(\.isNumber))
    }

    /// A QQL condition over the events list; a bad one is reported with the caret rendering.
    static func condition(_ o: inout Obj, _ key: String) -> String? {
        guard let text = o.string(key, required: true, nonEmpty: true) else { return nil }
        if text.hasPrefix(Predicate.prefix) {
            do { _ = try PredicateEvaluator(try Predicate.parse(condition: text)) } catch {
                o.c.add(.invalidQuery, o.p(key), "predicate: \(error)")
                return nil
            }
            return text
        }
        do { _ = try QueryEvaluator(text, catalog: EventCatalog.catalog) } catch let e as QueryError {
            o.c.add(.invalidQuery, o.p(key), e.with(text).rendered)
            return nil
        } catch {
            o.c.add(.invalidQuery, o.p(key), "\(error)")
            return nil
        }
        return text
    }

    static func fields(_ o: inout Obj, _ key: String, required: Bool) -> [String]? {
        guard let list = o.strings(key, required: required) else { return required ? nil : [] }
        for (i, f) in list.enumerated() where !FieldAccess.isValidName(f) {
            o.c.add(.invalidValue, "\(o.p(key))[\(i)]", "\"\(f)\" is not a field name (letters, digits, '.', '_', '@', '-')")
        }
        if Set(list.map { $0.lowercased() }).count != list.count { o.c.add(.duplicate, o.p(key), "names a field twice") }
        return list
    }

    static func readDetection(_ v: JSONValue, _ path: String, _ c: Collector) -> Detection? {
        guard var o = Obj(v, path, c) else { return nil }
        defer { o.finish() }
        guard let type = o.string("type", required: true) else { return nil }
        switch type {
        case "match":
            let cond = condition(&o, "condition")
            let g = fields(&o, "group_by", required: false)
            guard let cond, let g else { return nil }
            return .match(condition: cond, groupBy: g)
        case "threshold":
            let cond = condition(&o, "condition")
            let n = o.int("count", required: true, range: 1...100_000)
            let g = fields(&o, "group_by", required: false)
            let w = o.duration("window", required: true)
            guard let cond, let n, let g, let w else { return nil }
            return .threshold(condition: cond, count: n, groupBy: g, windowMs: w)
        case "distinct":
            let cond = condition(&o, "condition")
            let f = o.string("field", required: true, nonEmpty: true)
            if let f, !FieldAccess.isValidName(f) { c.add(.invalidValue, o.p("field"), "\"\(f)\" is not a field name") }
            let n = o.int("count", required: true, range: 2...10_000)
            let g = fields(&o, "group_by", required: false)
            let w = o.duration("window", required: true)
            guard let cond, let f, let n, let g, let w else { return nil }
            return .distinct(condition: cond, field: f, count: n, groupBy: g, windowMs: w)
        case "sequence", "temporal":
            let temporal = type == "temporal"
            var steps: [SequenceStep] = []
            var ok = true
            if let s = o.raw("steps", required: true) {
                if case .array(let items) = s, items.count >= 2, items.count <= 20 {
                    for (i, item) in items.enumerated() {
                        guard var so = Obj(item, "\(o.p("steps"))[\(i)]", c) else { ok = false; continue }
                        let name = so.string("name") ?? ""
                        let cond = condition(&so, "condition")
                        let n = so.int("count", range: temporal ? 1...1 : 1...10_000) ?? 1
                        so.finish()
                        if let cond { steps.append(SequenceStep(name: name, condition: cond, count: n)) } else { ok = false }
                    }
                } else { c.add(.invalidValue, o.p("steps"), "must be an array of 2 to 20 steps"); ok = false }
            } else { ok = false }
            let g = fields(&o, "group_by", required: true)
            if let g, g.isEmpty { c.add(.invalidValue, o.p("group_by"), "a \(type) needs at least one field: the steps must be about the same thing") }
            let w = o.duration("window", required: true)
            guard ok, let g, !g.isEmpty, let w else { return nil }
            return temporal ? .temporal(steps: steps, groupBy: g, windowMs: w) : .sequence(steps: steps, groupBy: g, windowMs: w)
        case "absence":
            let a = condition(&o, "condition")
            let b = condition(&o, "absent")
            let g = fields(&o, "group_by", required: false)
            let w = o.duration("window", required: true)
            guard let a, let b, let g, let w else { return nil }
            return .absence(condition: a, absent: b, groupBy: g, windowMs: w)
        default:
            c.add(.invalidValue, o.p("type"), "must be match, threshold, distinct, sequence, temporal or absence, got \"\(type)\"")
            return nil
        }
    }

    /// The first test event starts at 2026-01-01T00:00:00Z unless it says otherwise.
    public static let testEpochMs: Int64 = 1_767_225_600_000

    static func readTest(_ v: JSONValue, _ path: String, index: Int, _ c: Collector) -> RuleTest? {
        guard var o = Obj(v, path, c) else { return nil }
        defer { o.finish() }
        let name = o.string("name") ?? "test \(index + 1)"
        var expect: RuleTest.Expectation?
        if let e = o.string("expect", required: true) {
            expect = RuleTest.Expectation(rawValue: e.replacingOccurrences(of: "-", with: "_"))
            if expect == nil { c.add(.invalidValue, o.p("expect"), "must be \"fire\" or \"no_fire\", got \"\(e)\"") }
        }
        let signals = o.int("signals", range: 0...100_000)
        var events: [Event] = []
        var clock = testEpochMs
        if let ev = o.raw("events", required: true) {
            guard case .array(let items) = ev else { c.add(.wrongType, o.p("events"), "must be an array of events"); return nil }
            for (i, item) in items.enumerated() {
                readTestEvents(item, "\(o.p("events"))[\(i)]", test: index, index: i, clock: &clock, into: &events, c)
            }
            if events.count > maxTestEvents { c.add(.invalidValue, o.p("events"), "at most \(maxTestEvents) events (with repeats)") }
        }
        guard let expect else { return nil }
        if expect == .noFire, let s = signals, s != 0 { c.add(.invalidValue, o.p("signals"), "a no_fire test expects 0 signals") }
        return RuleTest(name: name, expect: expect, signals: signals, events: events)
    }

    static func readTestEvents(_ v: JSONValue, _ path: String, test: Int, index: Int, clock: inout Int64, into out: inout [Event], _ c: Collector) {
        guard var o = Obj(v, path, c) else { return }
        defer { o.finish() }
        var e = Event()
        let id = o.string("id")
        if let t = o.time("time") { clock = t }
        if let after = o.duration("after", max: maxWindowMs * 10) { clock += after }
        e.format = o.string("format") ?? ""
        e.raw = Array((o.string("raw") ?? "").utf8)
        e.source = "test"
        e.parseStatus = .parsed
        e.fields = stringMap(&o, "fields")
        e.original = stringMap(&o, "original")
        e.enriched = stringMap(&o, "enriched")
        let repeatCount = o.int("repeat", range: 1...10_000) ?? 1
        let every = o.duration("every") ?? 1000
        for k in 0..<repeatCount {
            var copy = e
            copy.eventTimeMs = clock
            copy.receivedTimeMs = clock
            copy.id = repeatCount == 1 ? (id ?? "t\(test)-e\(index)") : "\(id ?? "t\(test)-e\(index)")-\(k)"
            out.append(copy)
            if k < repeatCount - 1 { clock += every }
        }
        clock += 1000
    }

    static func stringMap(_ o: inout Obj, _ key: String) -> [String: String] {
        guard let v = o.raw(key) else { return [:] }
        guard case .object(let members) = v else { o.c.add(.wrongType, o.p(key), "must be an object of field → value"); return [:] }
        var out: [String: String] = [:]
        for (k, val) in members {
            switch val {
            case .string(let s): out[k] = s
            case .integer(let n): out[k] = String(n)
            case .double(let d): out[k] = String(d)
            case .bool(let b): out[k] = b ? "true" : "false"
            default: o.c.add(.wrongType, "\(o.p(key)).\(k)", "must be a string, number or boolean")
            }
        }
        return out
    }
}

extension QueryError {
    func with(_ text: String) -> QueryError {
        var e = self
        if e.query.isEmpty { e.query = text }
        return e
    }
}

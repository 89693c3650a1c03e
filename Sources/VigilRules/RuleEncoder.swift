import VigilLog
import VigilWire

/// Rule → JSON in a fixed member order, so exports diff cleanly and re-import to an equal rule.
public enum RuleEncoder {
    public static func json(_ r: Rule, includeTests: Bool = true) -> JSONValue {
        var m: [(String, JSONValue)] = [
            ("schema", .integer(Int64(Rule.schemaVersion))),
            ("id", .string(r.id)),
            ("name", .string(r.name)),
            ("description", .string(r.description)),
            ("version", .integer(Int64(r.version))),
            ("author", .string(r.author)),
        ]
        if !r.derivedFrom.isEmpty { m.append(("derived_from", .string(r.derivedFrom))) }
        if r.createdMs != 0 { m.append(("created", .string(Clock.iso8601(r.createdMs)))) }
        if r.modifiedMs != 0 { m.append(("modified", .string(Clock.iso8601(r.modifiedMs)))) }
        m.append(("status", .string(r.status.rawValue)))
        m.append(("mitre", .object([
            ("tactics", .array(r.tactics.map { .object([("id", .string($0.id)), ("name", .string($0.name))]) })),
            ("techniques", .array(r.techniques.map { .object([("id", .string($0.id)), ("name", .string($0.name))]) })),
        ])))
        m.append(("criticality", .string(r.criticality.name)))
        m.append(("risk_score", .integer(Int64(r.riskScore))))
        m.append(("log_sources", .array(r.logSources.map { .string($0) })))
        m.append(("detection", detection(r.detection)))
        if r.suppressionMs > 0 { m.append(("suppression", .string(Durations.format(r.suppressionMs)))) }
        m.append(("responses", .array(r.responses.map { .string($0) })))
        if includeTests && !r.tests.isEmpty { m.append(("tests", .array(r.tests.map(test)))) }
        return .object(m)
    }

    public static func text(_ r: Rule, includeTests: Bool = true) -> String {
        JSONWriter.write(json(r, includeTests: includeTests)) + "\n"
    }

    static func strings(_ a: [String]) -> JSONValue { .array(a.map { .string($0) }) }

    static func detection(_ d: Detection) -> JSONValue {
        switch d {
        case .match(let c, let g):
            var m: [(String, JSONValue)] = [("type", .string("match")), ("condition", .string(c))]
            if !g.isEmpty { m.append(("group_by", strings(g))) }
            return .object(m)
        case .threshold(let c, let n, let g, let w):
            return .object([("type", .string("threshold")), ("condition", .string(c)), ("count", .integer(Int64(n))),
                            ("group_by", strings(g)), ("window", .string(Durations.format(w)))])
        case .distinct(let c, let f, let n, let g, let w):
            return .object([("type", .string("distinct")), ("condition", .string(c)), ("field", .string(f)),
                            ("count", .integer(Int64(n))), ("group_by", strings(g)), ("window", .string(Durations.format(w)))])
        case .sequence(let steps, let g, let w), .temporal(let steps, let g, let w):
            return .object([("type", .string(d.type)),
                            ("steps", .array(steps.map { s in
                                var m: [(String, JSONValue)] = []
                                if !s.name.isEmpty { m.append(("name", .string(s.name))) }
                                m.append(("condition", .string(s.condition)))
                                if s.count != 1 { m.append(("count", .integer(Int64(s.count)))) }
                                return .object(m)
                            })),
                            ("group_by", strings(g)), ("window", .string(Durations.format(w)))])
        case .absence(let a, let b, let g, let w):
            return .object([("type", .string("absence")), ("condition", .string(a)), ("absent", .string(b)),
                            ("group_by", strings(g)), ("window", .string(Durations.format(w)))])
        }
    }

    /// Test events are written one per event with explicit ids and times (repeats expanded).
    static func test(_ t: RuleTest) -> JSONValue {
        var m: [(String, JSONValue)] = [("name", .string(t.name)), ("expect", .string(t.expect.rawValue))]
        if let s = t.signals { m.append(("signals", .integer(Int64(s)))) }
        m.append(("events", .array(t.events.map { e in
            var em: [(String, JSONValue)] = [("id", .string(e.id)), ("time", .string(Clock.iso8601(e.eventTimeMs)))]
            if !e.format.isEmpty { em.append(("format", .string(e.format))) }
            if !e.raw.isEmpty { em.append(("raw", .string(String(decoding: e.raw, as: UTF8.self)))) }
            for (k, map) in [("fields", e.fields), ("original", e.original), ("enriched", e.enriched)] where !map.isEmpty {
                em.append((k, .object(map.keys.sorted().map { ($0, .string(map[$0]!)) })))
            }
            return .object(em)
        })))
        return .object(m)
    }
}

/// A bundle: several rules in one JSON document (`rules export`, `rules import`).
/// Import also accepts a bare array of rules or a single rule object.
public enum RuleBundle {
    public static func text(_ rules: [Rule]) -> String {
        JSONWriter.write(.object([("schema", .integer(Int64(Rule.schemaVersion))), ("rules", .array(rules.map { RuleEncoder.json($0) }))])) + "\n"
    }

    /// Every rule or nothing: one bad rule refuses the bundle, with the paths of all problems.
    public static func decode(_ text: String) throws -> [Rule] {
        let json = try RuleDecoder.parsing(text)
        let items: [JSONValue]
        let base: String
        switch json {
        case .array(let a): items = a; base = "$"
        case .object(let m) where m.contains(where: { $0.0 == "rules" }):
            for (k, v) in m where k != "rules" && k != "schema" { _ = v; throw RuleError(.unknownField, "$.\(k)", "unknown member \"\(k)\" in a bundle (members: schema, rules)") }
            guard case .array(let a)? = json["rules"] else { throw RuleError(.wrongType, "$.rules", "must be an array of rules") }
            items = a; base = "$.rules"
        case .object: return [try RuleDecoder.decode(json)]
        default: throw RuleError(.wrongType, "$", "must be a rule, an array of rules or {\"rules\": […]}")
        }
        var issues: [RuleIssue] = []
        var rules: [Rule] = []
        var seen: [String: Int] = [:]
        for (i, item) in items.enumerated() {
            do {
                let r = try RuleDecoder.decode(item, path: "\(base)[\(i)]")
                if let prev = seen[r.id] { issues.append(RuleIssue(.duplicate, "\(base)[\(i)].id", "same id as \(base)[\(prev)]")) }
                seen[r.id] = i
                rules.append(r)
            } catch let e as RuleError { issues += e.issues }
        }
        if !issues.isEmpty { throw RuleError(issues) }
        return rules
    }
}

/// Any JSON object: flattened to dotted names in `vendor` ("a.b.0.c"), with common
/// source/destination/user/host spellings and ECS-shaped keys copied to `fields`.
public struct GenericJSONParser: ContextParser {
    public let name = "json"
    public init() {}
    public func parse(_ line: String) -> Result<ParsedRecord, ParseFailure>? { parseLine(line, receivedAt: LineContext.now()) }
    public func parse(_ line: String, receivedAt: Int64) -> Result<ParsedRecord, ParseFailure>? { parseLine(line, receivedAt: receivedAt) }

    /// Alias (lowercased, '_' '-' removed) → ECS name. Matched against top-level keys only.
    static let aliases: [String: String] = [
        "srcip": "source.ip", "sourceip": "source.ip", "src": "source.ip", "clientip": "source.ip", "remoteaddr": "source.ip", "remoteip": "source.ip",
        "dstip": "destination.ip", "destip": "destination.ip", "dst": "destination.ip", "destinationip": "destination.ip", "serverip": "destination.ip",
        "srcport": "source.port", "sourceport": "source.port", "sport": "source.port", "spt": "source.port", "clientport": "source.port",
        "dstport": "destination.port", "destport": "destination.port", "destinationport": "destination.port", "dport": "destination.port", "dpt": "destination.port",
        "user": "user.name", "username": "user.name", "usr": "user.name", "account": "user.name", "login": "user.name",
        "host": "host.name", "hostname": "host.name", "computer": "host.name", "computername": "host.name", "device": "host.name",
        "message": "message", "msg": "message",
        "action": "event.action", "outcome": "event.outcome", "result": "event.outcome",
        "pid": "process.pid", "processid": "process.pid", "process": "process.name", "processname": "process.name", "program": "process.name",
        "cmdline": "process.command_line", "commandline": "process.command_line", "command": "process.command_line",
        "proto": "network.transport", "protocol": "network.transport", "transport": "network.transport",
        "eventid": "event.code", "code": "event.code", "url": "url.original", "method": "http.request.method", "useragent": "user_agent.original",
        "category": "event.category", "severity": "event.severity", "domain": "user.domain",
    ]
    static let timeKeys = ["@timestamp", "timestamp", "time", "ts", "eventTime", "event_time", "datetime", "date", "EventTime", "TimeCreated"]
    /// Prefixes of ECS field sets copied verbatim when a flattened key already uses them.
    static let ecsPrefixes = ["source.", "destination.", "user.", "host.", "process.", "event.", "network.", "url.", "file.", "http.",
                              "dns.", "rule.", "observer.", "client.", "server.", "threat.", "registry.", "log.", "user_agent.", "service.", "group."]
    static let numericTargets: Set<String> = ["source.port", "destination.port", "process.pid"]
    static let ipTargets: Set<String> = ["source.ip", "destination.ip"]

    func parse(_ ctx: LineContext) -> Result<ParsedRecord, ParseFailure>? {
        let start = ctx.header?.messageStart ?? ctx.start
        guard ctx.line.at(start) == 0x7B || ctx.line.at(start) == 0x5B else { return nil }
        switch JSONReader.parse(ctx.line, from: start) {
        case .failure(let f): return .failure(f)
        case .success(let v): return parse(json: v, ctx: ctx)
        }
    }

    func parse(json v: JSONValue, ctx: LineContext) -> Result<ParsedRecord, ParseFailure> {
        guard let members = v.objectMembers else {
            return .failure(ParseFailure(code: "json.shape", reason: "expected a JSON object at the top level, found \(v.kindName)"))
        }
        var r = RecordBuilder(format: name)
        var flat: [String: String] = [:]
        Self.flatten(v, prefix: "", into: &flat, depth: 0)
        r.vendor = flat
        for (k, val) in flat where k.utf8.contains(0x2E) && Self.ecsPrefixes.contains(where: { k.hasPrefix($0) }) {
            r.put(k, val)
        }
        for (k, _) in members {
            let norm = String(k.lowercased().filter { $0 != "_" && $0 != "-" })
            guard let target = Self.aliases[norm], let val = flat[k] else { continue }
            if Self.ipTargets.contains(target) { if r.fields[target] == nil { r.putIP(target, val) } }
            else if Self.numericTargets.contains(target) { if r.fields[target] == nil { r.putNumber(target, val) } }
            else if target == "event.outcome" { r.putIfAbsent(target, Text.outcome(val)) }
            else { r.putIfAbsent(target, val) }
        }
        for k in Self.timeKeys {
            if let t = flat[k], let ms = Timestamps.flexible(t, reference: ctx.receivedAt) { r.timestamp = ms; break }
        }
        ctx.header?.apply(to: &r)
        return .success(r.record)
    }

    static func flatten(_ v: JSONValue, prefix: String, into out: inout [String: String], depth: Int) {
        switch v {
        case .object(let m):
            for (k, child) in m { flatten(child, prefix: prefix.isEmpty ? k : prefix + "." + k, into: &out, depth: depth + 1) }
        case .array(let items):
            for (i, child) in items.enumerated() { flatten(child, prefix: prefix + "." + String(i), into: &out, depth: depth + 1) }
        case .null:
            break
        default:
            if let t = v.scalarText { out[prefix] = t }
        }
    }
}

/// Fortinet FortiGate (FortiOS) key=value syslog: traffic, UTM and event logs.
public struct FortiGateParser: ContextParser {
    public let name = "fortigate"
    public init() {}
    public func parse(_ line: String) -> Result<ParsedRecord, ParseFailure>? { parseLine(line, receivedAt: LineContext.now()) }
    public func parse(_ line: String, receivedAt: Int64) -> Result<ParsedRecord, ParseFailure>? { parseLine(line, receivedAt: receivedAt) }

    /// Sniff within the first 256 bytes: FortiOS lines start with date= or logver=, or
    /// carry logid= and devid= early.
    // Markers built once: an array per test was an allocation for every line sniffed here.
    static let dateMarker = Array(ascii: "date="), logverMarker = Array(ascii: "logver="),
               logidMarker = Array(ascii: "logid="), devidMarker = Array(ascii: "devid=")

    static func detect(_ line: Line, _ s: Int) -> Bool {
        if line.hasPrefix(dateMarker, at: s) || line.hasPrefix(logverMarker, at: s) { return true }
        let limit = min(line.count, s + 256)
        return line.find(logidMarker, from: s, to: limit) != nil && line.find(devidMarker, from: s, to: limit) != nil
    }

    static let mapping: [String: String] = [
        "devname": "observer.name", "devid": "observer.serial_number", "logid": "event.code", "level": "log.level",
        "policyid": "rule.id", "policyname": "rule.name", "app": "network.application", "service": "network.protocol",
        "srcintf": "observer.ingress.interface.name", "dstintf": "observer.egress.interface.name", "msg": "message",
        "hostname": "url.domain", "url": "url.path", "virus": "threat.name", "attack": "threat.name", "srccountry": "source.geo.country_name",
        "dstcountry": "destination.geo.country_name", "ui": "source.address", "logdesc": "event.reason", "vd": "observer.vsys",
    ]

    func parse(_ ctx: LineContext) -> Result<ParsedRecord, ParseFailure>? {
        guard Self.detect(ctx.line, ctx.body) else { return nil }
        let pairs: [(String, String)]
        switch KeyValue.parse(ctx.line, from: ctx.body, code: "fortigate.kv") {
        case .failure(let f): return .failure(f)
        case .success(let p): pairs = p
        }
        var v: [String: String] = [:]
        v.reserveCapacity(pairs.count)
        for (k, val) in pairs { v[k] = val }
        guard v["date"] != nil || v["eventtime"] != nil || v["logid"] != nil else {
            return .failure(ParseFailure(code: "fortigate.fields", reason: "FortiGate log has none of date=, eventtime=, logid="))
        }
        var r = RecordBuilder(format: name)
        r.vendor = v
        r.put("observer.vendor", "Fortinet"); r.put("observer.product", "FortiGate")
        for (k, t) in Self.mapping { if let val = v[k] { r.putIfAbsent(t, val) } }
        r.put("host.name", v["devname"])
        r.putIP("source.ip", v["srcip"]); r.putIP("destination.ip", v["dstip"])
        r.putNumber("source.port", v["srcport"]); r.putNumber("destination.port", v["dstport"])
        r.putIP("source.nat.ip", v["transip"]); r.putNumber("source.nat.port", v["transport"])
        r.putNumber("source.bytes", v["sentbyte"]); r.putNumber("destination.bytes", v["rcvdbyte"])
        if let p = v["proto"] { r.put("network.transport", Net.transport(ianaNumber: p)); r.putNumber("network.iana_number", p) }
        if let u = v["user"] ?? v["srcuser"] ?? v["unauthuser"] { r.put("user.name", u) }
        r.put("event.action", v["action"])
        r.put("event.outcome", (v["status"] ?? v["result"]).flatMap(Text.outcome) ?? v["action"].flatMap(Self.outcome))
        r.put("event.category", Self.category(type: v["type"], subtype: v["subtype"], action: v["action"]))
        r.put("event.type", v["subtype"])
        r.timestamp = Self.time(v)
        ctx.header?.apply(to: &r)
        return .success(r.record)
    }

    /// FortiOS action words: accept/close/timeout/server-rst are allowed sessions.
    static func outcome(_ a: String) -> String? {
        switch a {
        case "accept", "close", "timeout", "server-rst", "client-rst", "passthrough", "pass", "allow", "login": return "success"
        case "deny", "block", "blocked", "dropped", "drop", "reset": return "failure"
        default: return Text.outcome(a)
        }
    }

    static func category(type: String?, subtype: String?, action: String?) -> String? {
        switch (type, subtype) {
        case ("traffic", _): return "network"
        case ("utm", "virus"?): return "malware"
        case ("utm", "ips"?), ("utm", "anomaly"?): return "intrusion_detection"
        case ("utm", "webfilter"?): return "web"
        case ("utm", _): return "network"
        case ("event", "user"?), ("event", "vpn"?): return "authentication"
        case ("event", "system"?): return action == "login" ? "authentication" : "host"
        case ("event", _): return "host"
        default: return nil
        }
    }

    /// eventtime (epoch s/ms/µs/ns, FortiOS ≥ 6.2) wins; else date+time with the tz offset.
    static func time(_ v: [String: String]) -> Int64? {
        if let e = v["eventtime"], let t = Timestamps.epoch(e) { return t }
        guard let d = v["date"], let t = v["time"] else { return nil }
        let tz = v["tz"].map { $0.replacingQuotes } ?? "Z"
        return Timestamps.flexible(d + "T" + t + (tz.isEmpty ? "Z" : tz))
    }
}

private extension String {
    var replacingQuotes: String { String(filter { $0 != "\"" }) }
}

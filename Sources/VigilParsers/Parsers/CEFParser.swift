/// ArcSight Common Event Format:
/// `CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension`
public struct CEFParser: ContextParser {
    public let name = "cef"
    public init() {}
    public func parse(_ line: String) -> Result<ParsedRecord, ParseFailure>? { parseLine(line, receivedAt: LineContext.now()) }
    public func parse(_ line: String, receivedAt: Int64) -> Result<ParsedRecord, ParseFailure>? { parseLine(line, receivedAt: receivedAt) }

    static let marker = Array(ascii: "CEF:")

    /// Extension key → ECS name (IP/port keys are handled separately for validation).
    static let mapping: [String: String] = [
        "suser": "source.user.name", "duser": "destination.user.name", "shost": "source.domain", "dhost": "destination.domain",
        "smac": "source.mac", "dmac": "destination.mac", "act": "event.action", "msg": "message", "request": "url.original",
        "requestMethod": "http.request.method", "requestClientApplication": "user_agent.original", "fname": "file.name",
        "filePath": "file.path", "fsize": "file.size", "sproc": "process.name", "dproc": "destination.process.name",
        "dvchost": "observer.hostname", "reason": "event.reason", "externalId": "event.id", "dntdom": "destination.user.domain",
        "sntdom": "source.user.domain", "destinationServiceName": "service.name",
    ]

    func parse(_ ctx: LineContext) -> Result<ParsedRecord, ParseFailure>? {
        let line = ctx.line
        let s = ctx.body
        guard line.hasPrefix(Self.marker, at: s) else { return nil }
        let (h, extStart) = PipeHeader.split(line, from: s + 4, fields: 7)
        guard h.count == 7 else {
            return .failure(ParseFailure(code: "cef.header", reason: "expected 7 '|'-terminated header fields after 'CEF:' at offset \(s) (Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|), found \(h.count)"))
        }
        guard let version = h[0].decimalValue else {
            return .failure(ParseFailure(code: "cef.version", reason: "expected an integer CEF version at offset \(s + 4), found '\(h[0])'"))
        }
        let ext: [(String, String)]
        switch CEFExtension.parse(line, from: extStart, to: line.count, code: "cef.extension") {
        case .failure(let f): return .failure(f)
        case .success(let e): ext = e
        }
        var r = RecordBuilder(format: name)
        var v: [String: String] = ["cefVersion": String(version), "deviceVendor": h[1], "deviceProduct": h[2], "deviceVersion": h[3],
                                   "deviceEventClassId": h[4], "name": h[5], "severity": h[6]]
        v.reserveCapacity(ext.count + 7)
        for (k, val) in ext { v[k] = val }
        r.vendor = v
        r.put("observer.vendor", h[1])
        r.put("observer.product", h[2])
        r.put("observer.version", h[3])
        r.put("event.code", h[4])
        r.put("event.severity", Self.severity(h[6]))
        for (k, val) in ext {
            if let target = Self.mapping[k] { r.put(target, val) }
        }
        r.putIP("source.ip", v["src"]); r.putNumber("source.port", v["spt"])
        r.putIP("destination.ip", v["dst"]); r.putNumber("destination.port", v["dpt"])
        r.putIP("observer.ip", v["dvc"])
        r.putNumber("process.pid", v["spid"])
        r.putNumber("source.bytes", v["in"]); r.putNumber("destination.bytes", v["out"])
        r.put("user.name", v["suser"])
        r.put("user.target.name", v["duser"])
        r.put("network.transport", v["proto"].map { Net.transport(ianaNumber: $0) ?? $0.lowercased() })
        r.put("network.protocol", v["app"]?.lowercased())
        if let o = v["outcome"] { r.put("event.outcome", Text.outcome(o)) }
        // Firewalls and IDSs put the verdict in `act` (blocked, denied, allowed…) and often
        // send no `outcome`; a record between two addresses is network activity.
        else if let a = v["act"] { r.put("event.outcome", Text.outcome(a)) }
        if v["src"] != nil || v["dst"] != nil { r.putIfAbsent("event.category", "network") }
        if let d = v["deviceDirection"] { r.put("network.direction", d == "0" ? "ingress" : d == "1" ? "egress" : nil) }
        r.putIfAbsent("message", h[5])
        r.put("host.name", v["dvchost"])
        r.timestamp = (v["rt"] ?? v["end"] ?? v["start"]).flatMap { Timestamps.flexible($0, reference: ctx.receivedAt) }
        ctx.header?.apply(to: &r)
        return .success(r.record)
    }

    /// 0-10 numeric, or the CEF words Low/Medium/High/Very-High mapped to the top of their range.
    static func severity(_ s: String) -> String? {
        if let n = s.decimalValue { return String(n) }
        switch s.lowercased() {
        case "unknown": return "0"
        case "low": return "3"
        case "medium": return "6"
        case "high": return "8"
        case "very-high", "very high": return "10"
        default: return nil
        }
    }
}

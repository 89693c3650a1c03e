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
        // Sized once; the keys read below are picked up in the same pass (last value wins,
        // as in the map) instead of a hash lookup each.
        var v = [String: String](minimumCapacity: ext.count + 7)
        v["cefVersion"] = String(version); v["deviceVendor"] = h[1]; v["deviceProduct"] = h[2]; v["deviceVersion"] = h[3]
        v["deviceEventClassId"] = h[4]; v["name"] = h[5]; v["severity"] = h[6]
        var src, spt, dst, dpt, dvc, spid, bytesIn, bytesOut, suser, duser, proto, app, outcome, act, direction, dvchost,
            rt, end, start: String?
        for (k, val) in ext {
            v[k] = val
            switch k {
            case "src": src = val
            case "spt": spt = val
            case "dst": dst = val
            case "dpt": dpt = val
            case "dvc": dvc = val
            case "spid": spid = val
            case "in": bytesIn = val
            case "out": bytesOut = val
            case "suser": suser = val
            case "duser": duser = val
            case "proto": proto = val
            case "app": app = val
            case "outcome": outcome = val
            case "act": act = val
            case "deviceDirection": direction = val
            case "dvchost": dvchost = val
            case "rt": rt = val
            case "end": end = val
            case "start": start = val
            default: break
            }
        }
        r.vendor = v
        r.put("observer.vendor", h[1])
        r.put("observer.product", h[2])
        r.put("observer.version", h[3])
        r.put("event.code", h[4])
        r.put("event.severity", Self.severity(h[6]))
        for (k, val) in ext {
            if let target = Self.mapping[k] { r.put(target, val) }
        }
        r.putIP("source.ip", src); r.putNumber("source.port", spt)
        r.putIP("destination.ip", dst); r.putNumber("destination.port", dpt)
        r.putIP("observer.ip", dvc)
        r.putNumber("process.pid", spid)
        r.putNumber("source.bytes", bytesIn); r.putNumber("destination.bytes", bytesOut)
        r.put("user.name", suser)
        r.put("user.target.name", duser)
        r.put("network.transport", proto.map { Net.transport(ianaNumber: $0) ?? $0.lowercased() })
        r.put("network.protocol", app?.lowercased())
        if let o = outcome { r.put("event.outcome", Text.outcome(o)) }
        // Firewalls and IDSs put the verdict in `act` (blocked, denied, allowed…) and often
        // send no `outcome`; a record between two addresses is network activity.
        else if let a = act { r.put("event.outcome", Text.outcome(a)) }
        if src != nil || dst != nil { r.putIfAbsent("event.category", "network") }
        if let d = direction { r.put("network.direction", d == "0" ? "ingress" : d == "1" ? "egress" : nil) }
        r.putIfAbsent("message", h[5])
        r.put("host.name", dvchost)
        r.timestamp = (rt ?? end ?? start).flatMap { Timestamps.flexible($0, reference: ctx.receivedAt) }
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

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

    /// Extension keys the parser reads beyond `mapping`.
    enum Key: Int, CaseIterable {
        case src, spt, dst, dpt, dvc, spid, `in`, out, suser, duser, proto, app, outcome, act, deviceDirection, dvchost, rt, end, start
    }

    static let keyCount = Key.allCases.count

    /// Per extension key: its slot among `Key` and its `mapping` target (one lookup for both).
    static let keyInfo: [String: (slot: Key?, target: String?)] = {
        var d: [String: (slot: Key?, target: String?)] = [:]
        for k in Key.allCases { d["\(k)"] = (k, nil) }
        for (k, t) in mapping { d[k] = (d[k]?.slot, t) }
        return d
    }()

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
        // Sized once. The keys read below are picked up in the same pass (last value wins, as
        // in the map) instead of a hash lookup each.
        var v = [String: String](minimumCapacity: ext.count + 7)
        v["cefVersion"] = String(version); v["deviceVendor"] = h[1]; v["deviceProduct"] = h[2]; v["deviceVersion"] = h[3]
        v["deviceEventClassId"] = h[4]; v["name"] = h[5]; v["severity"] = h[6]
        // One hash per extension key: which of the keys read below it is (its slot) and its
        // ECS target, if any; targets are applied in extension order after the header fields.
        var slot = [String?](repeating: nil, count: Self.keyCount)
        var mapped: [(String, String)] = []
        mapped.reserveCapacity(ext.count)
        for (k, val) in ext {
            v[k] = val
            guard let info = Self.keyInfo[k] else { continue }
            if let sl = info.slot { slot[sl.rawValue] = val }
            if let t = info.target { mapped.append((t, val)) }
        }
        r.vendor = v
        r.put("observer.vendor", h[1])
        r.put("observer.product", h[2])
        r.put("observer.version", h[3])
        r.put("event.code", h[4])
        r.put("event.severity", Self.severity(h[6]))
        for (target, val) in mapped { r.put(target, val) }
        let src = slot[Key.src.rawValue], spt = slot[Key.spt.rawValue], dst = slot[Key.dst.rawValue], dpt = slot[Key.dpt.rawValue]
        let dvc = slot[Key.dvc.rawValue], spid = slot[Key.spid.rawValue], bytesIn = slot[Key.in.rawValue], bytesOut = slot[Key.out.rawValue]
        let suser = slot[Key.suser.rawValue], duser = slot[Key.duser.rawValue], proto = slot[Key.proto.rawValue], app = slot[Key.app.rawValue]
        let outcome = slot[Key.outcome.rawValue], act = slot[Key.act.rawValue], direction = slot[Key.deviceDirection.rawValue]
        let dvchost = slot[Key.dvchost.rawValue], rt = slot[Key.rt.rawValue], end = slot[Key.end.rawValue], start = slot[Key.start.rawValue]
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

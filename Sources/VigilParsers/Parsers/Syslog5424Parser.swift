/// Generic RFC 5424 syslog: header, structured data and MSG, no payload interpretation.
public struct Syslog5424Parser: ContextParser {
    public let name = "syslog-rfc5424"
    public init() {}
    public func parse(_ line: String) -> Result<ParsedRecord, ParseFailure>? { parseLine(line, receivedAt: LineContext.now()) }
    public func parse(_ line: String, receivedAt: Int64) -> Result<ParsedRecord, ParseFailure>? { parseLine(line, receivedAt: receivedAt) }

    func parse(_ ctx: LineContext) -> Result<ParsedRecord, ParseFailure>? {
        switch ctx.envelope {
        case .failure(let f)?: return .failure(f)
        case .success(let h)? where h.kind == .rfc5424: return .success(GenericSyslog.record(h, ctx).record)
        default: return nil
        }
    }
}

/// Shared mapping of an envelope to the generic syslog record (also the base of linux-auth).
enum GenericSyslog {
    static func record(_ h: SyslogHeader, _ ctx: LineContext) -> RecordBuilder {
        var r = RecordBuilder(format: h.kind == .rfc5424 ? "syslog-rfc5424" : "syslog-rfc3164")
        h.apply(to: &r)
        let msg = ctx.line.str(from: h.messageStart)
        r.put("message", msg)
        r.put("log.syslog.appname", h.appname)
        r.put("process.name", h.appname)
        r.put("log.syslog.procid", h.procid)
        r.putNumber("process.pid", h.procid)
        r.put("log.syslog.msgid", h.msgid)
        if let v = h.version { r.fields["log.syslog.version"] = String(v) }
        // Sized once (growing from empty rehashed every key several times); a nil value is
        // only assigned when structured data could hold that key to remove.
        var v = h.structuredData
        v.reserveCapacity(v.count + 10)
        let removable = !v.isEmpty
        func set(_ k: String, _ x: String?) { if x != nil || removable { v[k] = x } }
        if let p = h.pri {
            v["pri"] = String(p); v["facility"] = String(p / 8); v["severity"] = String(p % 8)
        }
        set("timestamp", h.timestampText)
        set("hostname", h.hostname)
        set("appname", h.appname)
        set("procid", h.procid)
        set("msgid", h.msgid)
        v["msg"] = msg
        r.vendor = v
        return r
    }
}

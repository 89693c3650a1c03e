/// Palo Alto Networks PAN-OS syslog CSV, TRAFFIC and THREAT types, using the documented
/// column positions (PAN-OS 8.1–11.x; later columns are appended, never reordered).
public struct PanOSParser: ContextParser {
    public let name = "panos"
    public init() {}
    public func parse(_ line: String) -> Result<ParsedRecord, ParseFailure>? { parseLine(line, receivedAt: LineContext.now()) }
    public func parse(_ line: String, receivedAt: Int64) -> Result<ParsedRecord, ParseFailure>? { parseLine(line, receivedAt: receivedAt) }

    /// Columns 0…30 are shared by TRAFFIC and THREAT.
    static let common = ["future_use1", "receive_time", "serial", "type", "subtype", "future_use2", "time_generated", "src", "dst",
                         "natsrc", "natdst", "rule", "srcuser", "dstuser", "app", "vsys", "from", "to", "inbound_if", "outbound_if",
                         "logset", "future_use3", "sessionid", "repeatcnt", "sport", "dport", "natsport", "natdport", "flags", "proto", "action"]
    static let traffic = common + ["bytes", "bytes_sent", "bytes_received", "packets", "start", "elapsed", "category", "future_use4",
                                   "seqno", "actionflags", "srcloc", "dstloc", "future_use5", "pkts_sent", "pkts_received", "session_end_reason"]
    static let threat = common + ["misc", "threatid", "category", "severity", "direction", "seqno", "actionflags", "srcloc", "dstloc",
                                  "future_use4", "contenttype", "pcap_id", "filedigest", "cloud", "url_idx", "user_agent", "filetype",
                                  "xff", "referer", "sender", "subject", "recipient", "reportid"]

    static let trafficMarker = Array(ascii: "TRAFFIC,"), threatMarker = Array(ascii: "THREAT,")

    /// Sniff: "<digit>,yyyy/mm/dd hh:mm:ss,<serial>,TRAFFIC|THREAT,".
    static func detect(_ line: Line, _ s: Int) -> Bool {
        guard let c = line.at(s), isDigit(c), line.at(s + 1) == 0x2C, line.at(s + 6) == 0x2F else { return false }
        guard let serialEnd = line.find(0x2C, from: s + 22, to: s + 60) else { return false }
        return line.hasPrefix(Self.trafficMarker, at: serialEnd + 1) || line.hasPrefix(Self.threatMarker, at: serialEnd + 1)
    }

    func parse(_ ctx: LineContext) -> Result<ParsedRecord, ParseFailure>? {
        guard Self.detect(ctx.line, ctx.body) else { return nil }
        let cols: [String]
        switch CSV.split(ctx.line, from: ctx.body, code: "panos.csv") {
        case .failure(let f): return .failure(f)
        case .success(let c): cols = c
        }
        let isThreat = cols[3] == "THREAT"
        let names = isThreat ? Self.threat : Self.traffic
        let minimum = isThreat ? 35 : 34
        guard cols.count >= minimum else {
            return .failure(ParseFailure(code: "panos.columns", reason: "\(cols[3]) log needs at least \(minimum) comma-separated fields (through '\(names[minimum - 1])'), found \(cols.count)"))
        }
        var v: [String: String] = [:]
        v.reserveCapacity(cols.count)
        for (i, c) in cols.enumerated() where i < names.count && !names[i].hasPrefix("future_use") && !c.isEmpty { v[names[i]] = c }
        // Read columns by position rather than through the dictionary: hashing dominates the cost.
        func col(_ i: Int) -> String? { i < cols.count && !cols[i].isEmpty ? cols[i] : nil }
        var r = RecordBuilder(format: isThreat ? "panos-threat" : "panos-traffic")
        r.vendor = v
        r.put("observer.vendor", "Palo Alto Networks"); r.put("observer.product", "PAN-OS")
        r.put("observer.serial_number", col(2))
        r.put("event.category", isThreat ? "intrusion_detection" : "network")
        r.put("event.type", col(4))
        r.putIP("source.ip", col(7)); r.putIP("destination.ip", col(8))
        r.putIP("source.nat.ip", col(9)); r.putIP("destination.nat.ip", col(10))
        r.putNumber("source.port", col(24)); r.putNumber("destination.port", col(25))
        r.putNumber("source.nat.port", col(26)); r.putNumber("destination.nat.port", col(27))
        r.put("rule.name", col(11))
        if let u = col(12) {
            let (d, n) = Text.splitUser(u)
            r.put("user.name", n); r.put("user.domain", d); r.put("source.user.name", n)
        }
        r.put("destination.user.name", col(13))
        r.put("network.application", col(14))
        r.put("network.transport", col(29))
        r.put("observer.ingress.zone", col(16)); r.put("observer.egress.zone", col(17))
        r.put("observer.ingress.interface.name", col(18)); r.put("observer.egress.interface.name", col(19))
        r.put("event.action", col(30))
        r.put("event.outcome", col(30).flatMap(Text.outcome))
        r.put("network.session_id", col(22))
        if isThreat {
            if let t = col(32) {
                // "Eicar Test File(39040)" → name + id
                if t.hasSuffix(")"), let open = t.lastIndex(of: "(") {
                    r.put("threat.name", String(t[..<open]).trimmingSpaces)
                    r.put("threat.id", String(t[t.index(after: open)..<t.index(before: t.endIndex)]))
                } else { r.put("threat.name", t) }
            }
            r.put("log.level", col(34))
            r.put("event.severity", Self.severity(col(34)))
            r.put("network.direction", col(35))
            if col(4) == "url" { r.put("url.original", col(31)) } else { r.put("file.name", col(31)) }
        } else {
            r.putNumber("network.bytes", col(31))
            r.putNumber("source.bytes", col(32)); r.putNumber("destination.bytes", col(33))
            r.putNumber("network.packets", col(34))
            r.put("event.reason", col(46))
        }
        r.timestamp = (col(6) ?? col(1)).flatMap { Timestamps.flexible($0) }
        ctx.header?.apply(to: &r)
        return .success(r.record)
    }

    static func severity(_ s: String?) -> String? {
        switch s {
        case "informational": return "1"
        case "low": return "2"
        case "medium": return "3"
        case "high": return "4"
        case "critical": return "5"
        default: return nil
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}

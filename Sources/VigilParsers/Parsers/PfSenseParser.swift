/// pfSense / OPNsense `filterlog` CSV (pfSense ≥ 2.2 layout):
/// rule,subrule,anchor,tracker,iface,reason,action,dir,ipver, then IPv4 or IPv6 fields, then
/// protocol fields (TCP: sport,dport,datalen,flags,seq,ack,window,urg,options; UDP: sport,dport,datalen).
public struct PfSenseParser: ContextParser {
    public let name = "pfsense"
    public init() {}
    public func parse(_ line: String) -> Result<ParsedRecord, ParseFailure>? { parseLine(line, receivedAt: LineContext.now()) }
    public func parse(_ line: String, receivedAt: Int64) -> Result<ParsedRecord, ParseFailure>? { parseLine(line, receivedAt: receivedAt) }

    static let head = ["rulenr", "subrulenr", "anchorname", "label", "interface", "reason", "action", "dir", "ipversion"]
    static let ipv4 = ["tos", "ecn", "ttl", "id", "offset", "ipflags", "protonum", "proto", "length", "srcip", "dstip"]
    static let ipv6 = ["class", "flowlabel", "hlim", "proto", "protonum", "payload-length", "srcip", "dstip"]
    static let tcp = ["srcport", "dstport", "datalen", "tcpflags", "seq", "ack", "window", "urg", "options"]
    static let udp = ["srcport", "dstport", "datalen"]

    func parse(_ ctx: LineContext) -> Result<ParsedRecord, ParseFailure>? {
        guard let h = ctx.header, h.appname == "filterlog" else { return nil }
        let cols: [String]
        switch CSV.split(ctx.line, from: ctx.body, code: "pfsense.csv") {
        case .failure(let f): return .failure(f)
        case .success(let c): cols = c
        }
        guard cols.count >= 9 else {
            return .failure(ParseFailure(code: "pfsense.columns", reason: "filterlog needs at least 9 leading fields (rule … ip version), found \(cols.count)"))
        }
        var names = Self.head
        switch cols[8] {
        case "4": names += Self.ipv4
        case "6": names += Self.ipv6
        default:
            return .failure(ParseFailure(code: "pfsense.ipversion", reason: "expected IP version 4 or 6 in field 9, found '\(cols[8])'"))
        }
        guard cols.count >= names.count else {
            return .failure(ParseFailure(code: "pfsense.columns", reason: "IPv\(cols[8]) filterlog needs at least \(names.count) fields (through destination address), found \(cols.count)"))
        }
        var v: [String: String] = [:]
        for (i, n) in names.enumerated() where !cols[i].isEmpty { v[n] = cols[i] }
        let proto = (v["proto"] ?? "").lowercased()
        let tail = Array(cols[names.count...])
        switch proto {
        case "tcp": for (i, n) in Self.tcp.enumerated() where i < tail.count && !tail[i].isEmpty { v[n] = tail[i] }
        case "udp": for (i, n) in Self.udp.enumerated() where i < tail.count && !tail[i].isEmpty { v[n] = tail[i] }
        case "icmp", "ipv6-icmp":
            if let t = tail.first { v["icmp_type"] = t }
            if tail.count > 1 { v["icmp_data"] = tail[1...].joined(separator: ",") }
        default: break
        }
        if (proto == "tcp" || proto == "udp") && tail.count < 2 {
            return .failure(ParseFailure(code: "pfsense.columns", reason: "\(proto) filterlog needs source and destination port after field \(names.count), found \(tail.count) more fields"))
        }
        var r = RecordBuilder(format: name)
        r.vendor = v
        r.put("observer.vendor", "Netgate"); r.put("observer.product", "pfSense"); r.put("observer.type", "firewall")
        r.put("event.category", "network")
        r.put("rule.id", v["label"]); r.put("rule.name", v["rulenr"])
        r.put("observer.ingress.interface.name", v["interface"])
        r.put("event.action", v["action"])
        r.put("event.outcome", v["action"].flatMap(Text.outcome))
        r.put("event.reason", v["reason"])
        r.put("network.direction", v["dir"] == "in" ? "ingress" : v["dir"] == "out" ? "egress" : nil)
        r.put("network.type", "ipv" + cols[8])
        r.put("network.transport", proto == "ipv6-icmp" ? "ipv6-icmp" : proto)
        r.putNumber("network.iana_number", v["protonum"])
        r.putIP("source.ip", v["srcip"]); r.putIP("destination.ip", v["dstip"])
        r.putNumber("source.port", v["srcport"]); r.putNumber("destination.port", v["dstport"])
        r.put("icmp.type", v["icmp_type"])
        ctx.header?.apply(to: &r)
        return .success(r.record)
    }
}

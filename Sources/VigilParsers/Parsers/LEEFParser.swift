/// IBM QRadar Log Event Extended Format 1.0 and 2.0:
/// `LEEF:1.0|Vendor|Product|Version|EventID|k=v<TAB>k=v…`
/// `LEEF:2.0|Vendor|Product|Version|EventID|<delimiter>|k=v<delimiter>k=v…`
public struct LEEFParser: ContextParser {
    public let name = "leef"
    public init() {}
    public func parse(_ line: String) -> Result<ParsedRecord, ParseFailure>? { parseLine(line, receivedAt: LineContext.now()) }
    public func parse(_ line: String, receivedAt: Int64) -> Result<ParsedRecord, ParseFailure>? { parseLine(line, receivedAt: receivedAt) }

    static let marker = Array(ascii: "LEEF:")

    static let mapping: [String: String] = [
        "usrName": "user.name", "accountName": "user.name", "identHostName": "host.name", "srcMAC": "source.mac", "dstMAC": "destination.mac",
        "url": "url.original", "action": "event.action", "act": "event.action", "policy": "rule.name", "ruleName": "rule.name", "msg": "message",
        "resource": "file.path", "domain": "user.domain",
    ]

    func parse(_ ctx: LineContext) -> Result<ParsedRecord, ParseFailure>? {
        let line = ctx.line
        let s = ctx.body
        guard line.hasPrefix(Self.marker, at: s) else { return nil }
        var (h, rest) = PipeHeader.split(line, from: s + 5, fields: 5)
        guard h.count == 5 else {
            return .failure(ParseFailure(code: "leef.header", reason: "expected 5 '|'-terminated header fields after 'LEEF:' at offset \(s) (Version|Vendor|Product|Version|EventID|), found \(h.count)"))
        }
        let version = h[0]
        guard version == "1.0" || version == "2.0" || version == "1" || version == "2" else {
            return .failure(ParseFailure(code: "leef.version", reason: "unsupported LEEF version '\(version)' at offset \(s + 5); expected 1.0 or 2.0"))
        }
        var delimiter: [UInt8] = [0x09]
        if version.hasPrefix("2"), let pipe = line.find(0x7C, from: rest, to: min(rest + 7, line.count)),
           line.find(0x3D, from: rest, to: pipe) == nil {
            // Optional 6th header field: the attribute delimiter ("^", "x5E", "0x5E", "\t").
            let spec = line.str(rest..<pipe)
            guard let d = Self.delimiter(spec) else {
                return .failure(ParseFailure(code: "leef.delimiter", reason: "invalid LEEF 2.0 delimiter '\(spec)' at offset \(rest); expected one character or its hex value (x5E / 0x5E)"))
            }
            delimiter = d
            rest = pipe + 1
        }
        var attrs: [(String, String)] = []
        let usesDelimiter = line.find(delimiter, from: rest) != nil
        if delimiter == [0x09] && !usesDelimiter && line.find(Array(ascii: " "), from: rest) != nil {
            // Senders that put spaces instead of tabs: tokenise like CEF rather than returning one giant value.
            switch CEFExtension.parse(line, from: rest, to: line.count, code: "leef.attributes") {
            case .failure(let f): return .failure(f)
            case .success(let a): attrs = a
            }
        } else {
            // Byte ranges first, strings last: gluing by string concatenation would be quadratic.
            var spans: [(key: Range<Int>, value: Range<Int>)] = []
            var i = rest
            while i < line.count {
                let end = line.find(delimiter, from: i) ?? line.count
                if end > i {
                    if let eq = line.find(0x3D, from: i, to: end) {
                        spans.append((i..<eq, (eq + 1)..<end))
                    } else if let last = spans.popLast() {
                        // A delimiter inside a value: glue it back rather than lose data.
                        spans.append((last.key, last.value.lowerBound..<end))
                    } else {
                        return .failure(ParseFailure(code: "leef.attributes", reason: "expected key=value at offset \(i), found '\(line.str(i..<min(end, i + 32)))'"))
                    }
                }
                i = end + delimiter.count
            }
            attrs = spans.map { (line.str($0.key), line.str($0.value)) }
        }
        var r = RecordBuilder(format: name)
        var v: [String: String] = ["leefVersion": version, "deviceVendor": h[1], "deviceProduct": h[2], "deviceVersion": h[3], "eventId": h[4]]
        for (k, val) in attrs { v[k] = val }
        r.vendor = v
        r.put("observer.vendor", h[1]); r.put("observer.product", h[2]); r.put("observer.version", h[3])
        r.put("event.code", h[4])
        for (k, val) in attrs { if let t = Self.mapping[k] { r.putIfAbsent(t, val) } }
        r.putIP("source.ip", v["src"]); r.putIP("destination.ip", v["dst"])
        r.putNumber("source.port", v["srcPort"]); r.putNumber("destination.port", v["dstPort"])
        r.putIP("source.nat.ip", v["srcPostNAT"]); r.putIP("destination.nat.ip", v["dstPostNAT"])
        r.putNumber("source.bytes", v["srcBytes"]); r.putNumber("destination.bytes", v["dstBytes"])
        r.put("network.transport", v["proto"].map { Net.transport(ianaNumber: $0) ?? $0.lowercased() })
        r.putNumber("event.severity", v["sev"])
        if let o = v["outcome"] ?? v["result"] { r.put("event.outcome", Text.outcome(o)) }
        else if let a = v["action"] ?? v["act"] { r.put("event.outcome", Text.outcome(a)) }
        r.timestamp = v["devTime"].flatMap { Timestamps.flexible($0, reference: ctx.receivedAt) }
        ctx.header?.apply(to: &r)
        return .success(r.record)
    }

    static func delimiter(_ spec: String) -> [UInt8]? {
        if spec.isEmpty || spec == "\\t" { return [0x09] }
        var hex = Substring(spec)
        if hex.hasPrefix("0x") || hex.hasPrefix("0X") { hex = hex.dropFirst(2) } else if hex.hasPrefix("x") || hex.hasPrefix("X") { hex = hex.dropFirst() }
        if hex.count != spec.count, (1...4).contains(hex.count), let n = UInt32(hex, radix: 16), let u = Unicode.Scalar(n) {
            return Array(String(Character(u)).utf8)
        }
        return spec.count == 1 ? Array(spec.utf8) : nil
    }
}

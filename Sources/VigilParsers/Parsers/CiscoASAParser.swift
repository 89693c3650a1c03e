/// Cisco ASA / FTD `%ASA-<severity>-<id>: <text>` messages. Common connection, ACL and
/// AAA ids are decoded; other ids still yield code, severity and message.
public struct CiscoASAParser: ContextParser {
    public let name = "cisco-asa"
    public init() {}
    public func parse(_ line: String) -> Result<ParsedRecord, ParseFailure>? { parseLine(line, receivedAt: LineContext.now()) }
    public func parse(_ line: String, receivedAt: Int64) -> Result<ParsedRecord, ParseFailure>? { parseLine(line, receivedAt: receivedAt) }

    // Markers built once (an array per test was an allocation for every line sniffed here).
    static let asa = Array(ascii: "%ASA-"), ftd = Array(ascii: "%FTD-"), pix = Array(ascii: "%PIX-")

    func parse(_ ctx: LineContext) -> Result<ParsedRecord, ParseFailure>? {
        let line = ctx.line
        var s = ctx.body
        // Some relays put text before the tag; look a little further than the body start.
        if line.at(s) != 0x25 {
            guard let p = line.find(Self.asa, from: s, to: min(line.count, s + 64)) ?? line.find(Self.ftd, from: s, to: min(line.count, s + 64)) else { return nil }
            s = p
        }
        guard line.hasPrefix(Self.asa, at: s) || line.hasPrefix(Self.ftd, at: s) || line.hasPrefix(Self.pix, at: s) else { return nil }
        guard let sev = line.at(s + 5), sev >= 0x30, sev <= 0x37, line.at(s + 6) == 0x2D,
              let id = parseDecimal(line.b, (s + 7)..<(s + 13)), line.at(s + 13) == 0x3A else {
            return .failure(ParseFailure(code: "asa.header", reason: "expected '%ASA-<severity 0-7>-<6-digit message id>:' at offset \(s), found '\(line.str(s..<min(line.count, s + 14)))'"))
        }
        let product = line.str((s + 1)..<(s + 4))
        let textStart = line.skipSpaces(s + 14)
        let text = line.str(from: textStart)
        var r = RecordBuilder(format: name)
        let idText = line.str((s + 7)..<(s + 13))
        r.vendor = ["facility": product, "severity": String(sev - 0x30), "message_id": idText, "message": text]
        r.put("observer.vendor", "Cisco"); r.put("observer.product", product == "FTD" ? "Firepower Threat Defense" : "ASA")
        r.put("event.code", idText)
        r.put("event.severity", String(sev - 0x30))
        r.put("message", text)
        if let f = ASAMessages.decode(id, Substring(text), &r) {
            return .failure(ParseFailure(code: "asa.\(idText)", reason: f + " in message \(idText) at offset \(textStart)"))
        }
        ctx.header?.apply(to: &r)
        return .success(r.record)
    }
}

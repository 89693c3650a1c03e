/// Routes a line to the right parser by sniffing its first bytes, and falls back to the
/// generic syslog / generic JSON record when a specialised parser rejects a payload.
///
/// Fallback rule: if a vendor parser recognises its marker but the payload is malformed
/// and a generic parser still understands the line (valid syslog envelope or valid JSON),
/// the generic record is returned with `error.code` / `error.message` describing the
/// vendor failure — nothing the sender wrote is lost. Only when nothing understands the
/// line is a `ParseFailure` returned (the caller stores it as an unparsed event).
public struct ParserChain: Sendable {
    public static let standard = ParserChain()

    let syslog5424 = Syslog5424Parser()
    let syslog3164 = Syslog3164Parser()
    let linuxAuth = LinuxAuthParser()
    let windows = WindowsEventParser()
    let cef = CEFParser()
    let leef = LEEFParser()
    let panos = PanOSParser()
    let fortigate = FortiGateParser()
    let asa = CiscoASAParser()
    let pfsense = PfSenseParser()
    let json = GenericJSONParser()

    public init() {}

    /// All parsers, specialised first.
    public var parsers: [any LogParser] { [windows, cef, leef, panos, fortigate, asa, pfsense, linuxAuth, json, syslog5424, syslog3164] }

    /// Hint names accepted by `parse(_:hint:receivedAt:)`; unknown hints are ignored.
    func parser(forHint hint: String) -> (any ContextParser)? {
        switch hint.lowercased() {
        case "syslog-rfc5424", "rfc5424": return syslog5424
        case "syslog-rfc3164", "rfc3164": return syslog3164
        case "linux-auth", "auth", "linux": return linuxAuth
        case "windows", "sysmon", "evtx", "winlogbeat", "nxlog", "wineventlog": return windows
        case "cef": return cef
        case "leef": return leef
        case "panos", "panos-traffic", "panos-threat", "paloalto", "palo-alto", "pan-os": return panos
        case "fortigate", "fortinet", "fortios": return fortigate
        case "cisco-asa", "asa", "cisco", "ftd": return asa
        case "pfsense", "filterlog", "opnsense": return pfsense
        case "json": return json
        default: return nil
        }
    }

    public func parse(_ line: String, hint: String? = nil, receivedAt: Int64) -> Result<ParsedRecord, ParseFailure> {
        parse(LineContext(line, receivedAt: receivedAt), hint: hint)
    }

    /// Same as `parse(String(decoding: bytes, as: UTF8.self), …)`. An all-ASCII line (what
    /// every listener mostly receives) is parsed from its bytes as they are, saving the String
    /// and the second byte copy; anything else takes the String path, so invalid UTF-8 is
    /// repaired exactly as before.
    public func parse(bytes: [UInt8], hint: String? = nil, receivedAt: Int64) -> Result<ParsedRecord, ParseFailure> {
        if Self.isASCII(bytes) { return parse(LineContext(line: Line(bytes: bytes), receivedAt: receivedAt), hint: hint) }
        return parse(String(decoding: bytes, as: UTF8.self), hint: hint, receivedAt: receivedAt)
    }

    static func isASCII(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { buf in
            var acc: UInt8 = 0
            for c in buf { acc |= c }
            return acc < 0x80
        }
    }

    func parse(_ ctx: LineContext, hint: String?) -> Result<ParsedRecord, ParseFailure> {
        if ctx.isBlank {
            return .failure(ParseFailure(code: "input.empty", reason: "line is empty or whitespace only (\(ctx.line.count) bytes)"))
        }
        // "json" means "the JSON path": Windows/Sysmon first, then generic JSON — exactly what
        // sniffing does for a line starting with '{' — so an evtx_dump event sent to a JSON
        // listener is still recognised as Windows rather than flattened as generic JSON.
        if let hint, hint.lowercased() == "json" { return sniff(ctx) }
        guard let hint, let p = parser(forHint: hint) else { return sniff(ctx) }
        switch p.parse(ctx) {
        case .success(let r)?:
            return .success(r)
        case .failure(let f)?:
            // The operator said what this is, so its failure is the most useful reason.
            switch sniff(ctx) {
            case .failure: return .failure(f)
            case .success(var r):
                r.fields["error.code"] = f.code
                r.fields["error.message"] = f.reason
                return .success(r)
            }
        case nil:
            return sniff(ctx)
        }
    }

    func sniff(_ ctx: LineContext) -> Result<ParsedRecord, ParseFailure> {
        switch ctx.envelope {
        case .failure(let f)?:
            return .failure(f)
        case .success(let h)?:
            let specific = dispatch(ctx)
            if case .success(let rec)? = specific { return .success(rec) }
            var r = GenericSyslog.record(h, ctx)
            if case .failure(let f)? = specific {
                r.fields["error.code"] = f.code
                r.fields["error.message"] = f.reason
            }
            return .success(r.record)
        case nil:
            if let r = dispatch(ctx) { return r }
            return .failure(ParseFailure(code: "input.unrecognized", reason: "no parser recognised the line: no syslog header at offset \(ctx.start) (expected '<PRI>', 'Mmm dd hh:mm:ss' or an RFC 3339 timestamp), not JSON, and no CEF/LEEF/%ASA/PAN-OS/FortiGate marker; line starts with '\(ctx.line.str(ctx.start..<min(ctx.line.count, ctx.start + 40)))'"))
        }
    }

    /// Payload sniffing on the first bytes after the envelope.
    func dispatch(_ ctx: LineContext) -> Result<ParsedRecord, ParseFailure>? {
        let s = ctx.body
        if ctx.header?.appname == "filterlog" { return pfsense.parse(ctx) }
        switch ctx.line.at(s) {
        case 0x43?: if let r = cef.parse(ctx) { return r }
        case 0x4C?: if let r = leef.parse(ctx) { return r }
        case 0x7B?, 0x5B?: return parseJSON(ctx)
        case let c? where isDigit(c): if let r = panos.parse(ctx) { return r }
        default: break
        }
        if let r = fortigate.parse(ctx) { return r }
        if let r = asa.parse(ctx) { return r }
        if ctx.header != nil, let r = linuxAuth.parse(ctx) { return r }
        return nil
    }

    /// JSON is parsed once and offered to the Windows mapper, then the generic one.
    func parseJSON(_ ctx: LineContext) -> Result<ParsedRecord, ParseFailure> {
        switch JSONReader.parse(ctx.line, from: ctx.body) {
        case .failure(let f):
            return .failure(f)
        case .success(let v):
            switch windows.parse(json: v, header: ctx.header) {
            case .success(let r)?: return .success(r)
            case .failure(let f)?:
                return json.parse(json: v, ctx: ctx).map { rec in
                    var r = rec
                    r.fields["error.code"] = f.code
                    r.fields["error.message"] = f.reason
                    return r
                }
            case nil:
                return json.parse(json: v, ctx: ctx)
            }
        }
    }
}

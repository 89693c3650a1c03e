/// Generic BSD syslog (RFC 3164 and the common relaxed variants: no PRI as in
/// /var/log/auth.log files, explicit year, RFC 3339 timestamps from rsyslog, no host).
public struct Syslog3164Parser: ContextParser {
    public let name = "syslog-rfc3164"
    public init() {}
    public func parse(_ line: String) -> Result<ParsedRecord, ParseFailure>? { parseLine(line, receivedAt: LineContext.now()) }
    public func parse(_ line: String, receivedAt: Int64) -> Result<ParsedRecord, ParseFailure>? { parseLine(line, receivedAt: receivedAt) }

    func parse(_ ctx: LineContext) -> Result<ParsedRecord, ParseFailure>? {
        switch ctx.envelope {
        case .failure(let f)?: return .failure(f)
        case .success(let h)? where h.kind == .rfc3164: return .success(GenericSyslog.record(h, ctx).record)
        default: return nil
        }
    }
}

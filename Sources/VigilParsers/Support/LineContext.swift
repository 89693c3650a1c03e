import Foundation

/// Everything the parsers share about one line, computed once by the chain: the bytes,
/// where content starts (after BOM/whitespace) and the syslog envelope, if any.
struct LineContext {
    let line: Line
    let receivedAt: Int64
    /// First content byte (after a UTF-8 BOM and leading whitespace).
    let start: Int
    /// nil: no syslog envelope; failure: looked like syslog (e.g. "<") but is broken.
    let envelope: Result<SyslogHeader, ParseFailure>?

    init(_ text: String, receivedAt: Int64) {
        self.init(line: Line(text), receivedAt: receivedAt)
    }

    init(line: Line, receivedAt: Int64) {
        self.line = line
        self.receivedAt = receivedAt
        var s = 0
        if line.hasPrefix(SyslogEnvelope.bom, at: 0) { s = 3 }
        while let c = line.at(s), c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A { s += 1 }
        start = s
        // JSON never carries a syslog envelope at byte 0; skip the work.
        envelope = line.at(s) == 0x7B ? nil : SyslogEnvelope.parse(line, from: s, reference: receivedAt)
    }

    var header: SyslogHeader? {
        if case .success(let h)? = envelope { return h }
        return nil
    }

    /// Where the payload starts: after the envelope when there is one.
    var body: Int { header?.messageStart ?? start }

    var isBlank: Bool { start >= line.count }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// Internal parser shape: works on a precomputed context so the chain parses the
/// envelope once, whichever parser ends up handling the payload.
protocol ContextParser: LogParser {
    func parse(_ ctx: LineContext) -> Result<ParsedRecord, ParseFailure>?
}

extension ContextParser {
    func parseLine(_ line: String, receivedAt: Int64) -> Result<ParsedRecord, ParseFailure>? {
        parse(LineContext(line, receivedAt: receivedAt))
    }
}

/// One successfully parsed log line.
///
/// `fields` holds ECS-style normalized names so detections can be written once for
/// every source; `vendor` keeps the source's own field names untouched so vendor-native
/// rules (e.g. Sigma on Windows EventData) run without rewriting.
public struct ParsedRecord: Sendable, Equatable {
    /// Parser that produced the record, e.g. "cef", "windows", "syslog-rfc3164".
    public var format: String
    /// Normalized ECS-style dotted names; numbers are decimal strings.
    public var fields: [String: String]
    /// Original vendor field names and values.
    public var vendor: [String: String]
    /// Event time in ms since the Unix epoch (UTC) when the line carries one.
    public var timestamp: Int64?

    public init(format: String, fields: [String: String] = [:], vendor: [String: String] = [:], timestamp: Int64? = nil) {
        self.format = format
        self.fields = fields
        self.vendor = vendor
        self.timestamp = timestamp
    }
}

/// Why a line could not be parsed. `code` is a stable machine key ("cef.header",
/// "json.syntax", …); `reason` says what was wrong, where (byte offset / field) and
/// what was expected, so an operator can fix the sender without reading code.
public struct ParseFailure: Error, Sendable, Equatable {
    public var code: String
    public var reason: String

    public init(code: String, reason: String) {
        self.code = code
        self.reason = reason
    }
}

/// A parser for one log format.
public protocol LogParser: Sendable {
    /// Format name, matching `ParsedRecord.format` of what it produces.
    var name: String { get }
    /// `nil` means "not my format"; a failure means "my format, but broken".
    func parse(_ line: String) -> Result<ParsedRecord, ParseFailure>?
    /// Same, with the time the line was received; used to infer the year of
    /// year-less RFC 3164 timestamps deterministically.
    func parse(_ line: String, receivedAt: Int64) -> Result<ParsedRecord, ParseFailure>?
}

extension LogParser {
    public func parse(_ line: String, receivedAt: Int64) -> Result<ParsedRecord, ParseFailure>? {
        parse(line)
    }
}

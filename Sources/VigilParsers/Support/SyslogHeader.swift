/// Parsed syslog envelope (RFC 5424 or RFC 3164/BSD). Vendor parsers receive it so a
/// CEF/ASA/FortiGate payload wrapped in syslog keeps its relay host, PRI and time.
struct SyslogHeader: Sendable {
    enum Kind: Sendable { case rfc5424, rfc3164 }
    var kind: Kind
    var pri: Int?
    var version: Int?
    var timestamp: Int64?
    var timestampText: String?
    var hostname: String?
    var appname: String?
    var procid: String?
    var msgid: String?
    /// Structured data flattened as "SD-ID.PARAM-NAME" → value.
    var structuredData: [String: String] = [:]
    /// Byte offset where MSG starts (after a UTF-8 BOM, if any).
    var messageStart: Int
}

enum SyslogEnvelope {
    static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
    static let payloadMarkers: [[UInt8]] = [Array(ascii: "CEF:"), Array(ascii: "LEEF:"), Array(ascii: "%ASA-"), Array(ascii: "%FTD-"), Array(ascii: "%PIX-")]

    /// nil = the line has no syslog envelope (no PRI and no leading timestamp).
    static func parse(_ line: Line, from start: Int, reference: Int64) -> Result<SyslogHeader, ParseFailure>? {
        var i = start
        var pri: Int? = nil
        if line.at(i) == 0x3C {
            var j = i + 1
            while let c = line.at(j), isDigit(c), j - i <= 3 { j += 1 }
            guard j > i + 1 else {
                return .failure(ParseFailure(code: "syslog.pri", reason: "expected 1-3 digits after '<' at offset \(i + 1), found \(line.describe(i + 1))"))
            }
            guard line.at(j) == 0x3E else {
                return .failure(ParseFailure(code: "syslog.pri", reason: "expected '>' closing PRI at offset \(j), found \(line.describe(j))"))
            }
            let v = parseDecimal(line.b, (i + 1)..<j) ?? 999
            guard v <= 191 else {
                return .failure(ParseFailure(code: "syslog.pri", reason: "PRI value \(v) at offset \(i + 1) is out of range 0...191"))
            }
            pri = v
            i = j + 1
            if let c = line.at(i), c >= 0x31, c <= 0x39 {
                var k = i
                while let d = line.at(k), isDigit(d), k - i < 3 { k += 1 }
                if line.at(k) == 0x20 || (k == line.count && k > i) {
                    return RFC5424Header.parse(line, pri: v, versionStart: i)
                }
            }
        }
        return RFC3164Header.parse(line, pri: pri, at: i, reference: reference)
    }

    static func isPayloadStart(_ line: Line, _ i: Int) -> Bool {
        guard let c = line.at(i) else { return false }
        if c == 0x7B { return true }
        guard c == 0x43 || c == 0x4C || c == 0x25 else { return false }
        return payloadMarkers.contains { line.hasPrefix($0, at: i) }
    }
}

enum RFC3164Header {
    static func parse(_ line: Line, pri: Int?, at start: Int, reference: Int64) -> Result<SyslogHeader, ParseFailure>? {
        var h = SyslogHeader(kind: .rfc3164, pri: pri, messageStart: start)
        var i = start
        if let (t, e) = Timestamps.bsd(line.b, at: i, reference: reference) ?? Timestamps.rfc3339(line.b, at: i),
           e == line.count || line.at(e) == 0x20 || line.at(e) == 0x3A {
            h.timestamp = t
            h.timestampText = line.str(i..<e)
            i = e
        } else if pri == nil {
            return nil
        } else {
            // RFC 3164 §4.3.2: without a valid TIMESTAMP the rest is all MSG.
            return .success(h)
        }
        if line.at(i) == 0x3A { i += 1 }  // Cisco: "Mar 10 2024 12:00:00: %ASA-…"
        i = line.skipSpaces(i)
        h.messageStart = i
        if i >= line.count || SyslogEnvelope.isPayloadStart(line, i) { return .success(h) }
        if let tag = tag(line, i) {
            apply(tag, line, &h)
            return .success(h)
        }
        var e = i
        while let c = line.at(e), c != 0x20 { e += 1 }
        h.hostname = line.str(i..<e)
        i = line.skipSpaces(e)
        if line.at(i) == 0x3A, i + 1 >= line.count || line.at(i + 1) == 0x20 { i = line.skipSpaces(i + 1) }  // "host : %ASA-…"
        h.messageStart = i
        if i < line.count, !SyslogEnvelope.isPayloadStart(line, i), let tag = tag(line, i) {
            apply(tag, line, &h)
        }
        return .success(h)
    }

    struct Tag { var app: Range<Int>; var pid: Range<Int>?; var next: Int }

    private static func apply(_ t: Tag, _ line: Line, _ h: inout SyslogHeader) {
        h.appname = line.str(t.app)
        if let p = t.pid { h.procid = line.str(p) }
        h.messageStart = t.next
    }

    /// "app[pid]: " / "app: " at i. Tag chars exclude ':' '[' and space so a
    /// hostname or free text is never mistaken for a tag.
    static func tag(_ line: Line, _ i: Int) -> Tag? {
        var j = i
        while let c = line.at(j), isAlpha(c) || isDigit(c) || c == 0x5F || c == 0x2D || c == 0x2E || c == 0x2F || c == 0x40, j - i < 64 { j += 1 }
        guard j > i else { return nil }
        let app = i..<j
        var pid: Range<Int>? = nil
        if line.at(j) == 0x5B {
            guard let close = line.find(0x5D, from: j + 1, to: j + 34) else { return nil }
            pid = (j + 1)..<close
            j = close + 1
        }
        guard line.at(j) == 0x3A else { return nil }
        j += 1
        if j < line.count {
            guard line.at(j) == 0x20 else { return nil }
            j += 1
        }
        return Tag(app: app, pid: pid, next: j)
    }
}

enum RFC5424Header {
    /// `<PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD [SP MSG]`
    static func parse(_ line: Line, pri: Int, versionStart: Int) -> Result<SyslogHeader, ParseFailure> {
        var h = SyslogHeader(kind: .rfc5424, pri: pri, messageStart: line.count)
        var i = versionStart
        while let c = line.at(i), isDigit(c) { i += 1 }
        h.version = parseDecimal(line.b, versionStart..<i)
        func fail(_ what: String) -> Result<SyslogHeader, ParseFailure> {
            .failure(ParseFailure(code: "syslog5424.header", reason: what))
        }
        // Each header field is one SP-delimited token; "-" is NILVALUE.
        var fieldsText: [String?] = []
        for name in ["TIMESTAMP", "HOSTNAME", "APP-NAME", "PROCID", "MSGID"] {
            guard line.at(i) == 0x20 else { return fail("expected SP before \(name) at offset \(i), found \(line.describe(i))") }
            i += 1
            let s = i
            while let c = line.at(i), c != 0x20 { i += 1 }
            guard i > s else { return fail("empty \(name) at offset \(s) (use '-' for NILVALUE)") }
            let text = line.str(s..<i)
            if name == "TIMESTAMP", text != "-" {
                guard let (t, e) = Timestamps.rfc3339(line.b, at: s, strict: true), e == i else {
                    return .failure(ParseFailure(code: "syslog5424.timestamp", reason: "invalid RFC 3339 TIMESTAMP '\(text)' at offset \(s); expected YYYY-MM-DDThh:mm:ss[.frac](Z|±hh:mm)"))
                }
                h.timestamp = t
            }
            fieldsText.append(text == "-" ? nil : text)
        }
        h.timestampText = fieldsText[0]
        h.hostname = fieldsText[1]
        h.appname = fieldsText[2]
        h.procid = fieldsText[3]
        h.msgid = fieldsText[4]
        guard line.at(i) == 0x20 else { return fail("expected SP before STRUCTURED-DATA at offset \(i), found \(line.describe(i))") }
        i += 1
        switch parseSD(line, &i, into: &h.structuredData) {
        case .failure(let f): return .failure(f)
        case .success: break
        }
        if i < line.count {
            guard line.at(i) == 0x20 else { return fail("expected SP before MSG at offset \(i), found \(line.describe(i))") }
            i += 1
            if line.hasPrefix(SyslogEnvelope.bom, at: i) { i += 3 }
        }
        h.messageStart = i
        return .success(h)
    }

    /// STRUCTURED-DATA = NILVALUE / 1*SD-ELEMENT; values unescape \" \\ \].
    static func parseSD(_ line: Line, _ i: inout Int, into out: inout [String: String]) -> Result<Void, ParseFailure> {
        func fail(_ r: String) -> Result<Void, ParseFailure> { .failure(ParseFailure(code: "syslog5424.sd", reason: r)) }
        if line.at(i) == 0x2D { i += 1; return .success(()) }
        guard line.at(i) == 0x5B else { return fail("expected '-' or '[' to start STRUCTURED-DATA at offset \(i), found \(line.describe(i))") }
        while line.at(i) == 0x5B {
            let elementStart = i
            i += 1
            let idStart = i
            while let c = line.at(i), c != 0x20, c != 0x5D, c != 0x3D, c != 0x22 { i += 1 }
            guard i > idStart else { return fail("empty SD-ID at offset \(idStart)") }
            let id = line.str(idStart..<i)
            while line.at(i) == 0x20 {
                i += 1
                let nameStart = i
                while let c = line.at(i), c != 0x3D, c != 0x20, c != 0x5D, c != 0x22 { i += 1 }
                guard i > nameStart else { return fail("empty PARAM-NAME in SD element '\(id)' at offset \(nameStart)") }
                let name = line.str(nameStart..<i)
                guard line.at(i) == 0x3D else { return fail("expected '=' after PARAM-NAME '\(name)' at offset \(i), found \(line.describe(i))") }
                i += 1
                guard line.at(i) == 0x22 else { return fail("expected '\"' to open value of '\(name)' at offset \(i), found \(line.describe(i))") }
                let valueStart = i
                i += 1
                var bytes: [UInt8] = []
                while true {
                    guard let c = line.at(i) else { return fail("unterminated PARAM-VALUE of '\(name)' starting at offset \(valueStart)") }
                    if c == 0x22 { i += 1; break }
                    if c == 0x5C, let n = line.at(i + 1), n == 0x22 || n == 0x5C || n == 0x5D {
                        bytes.append(n); i += 2; continue
                    }
                    bytes.append(c); i += 1
                }
                out[id + "." + name] = String(decoding: bytes, as: UTF8.self)
            }
            guard line.at(i) == 0x5D else { return fail("expected ']' closing SD element '\(id)' (opened at offset \(elementStart)) at offset \(i), found \(line.describe(i))") }
            i += 1
        }
        return .success(())
    }
}

extension SyslogHeader {
    /// Envelope fields that every record wrapped in syslog carries.
    func apply(to r: inout RecordBuilder) {
        if let p = pri {
            r.fields["log.syslog.priority"] = String(p)
            r.fields["log.syslog.facility"] = String(p / 8)
            r.fields["log.syslog.severity"] = String(p % 8)
        }
        r.put("log.syslog.hostname", hostname)
        r.putIfAbsent("host.name", hostname)
        if r.timestamp == nil { r.timestamp = timestamp }
    }
}

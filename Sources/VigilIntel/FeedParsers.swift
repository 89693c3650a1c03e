import Foundation

/// Turns one feed document into indicators. A document that is not what its format says is an
/// error (the caller keeps the feed's last good set); single entries that cannot be used are
/// refused, counted and sampled.
public enum FeedParsers {
    public static func parse(_ bytes: [UInt8], feed: FeedConfig, nowMs: Int64) -> Result<ParsedFeed, IntelError> {
        let expires = feed.expirySeconds > 0 ? nowMs + feed.expirySeconds * 1000 : 0
        let result: Result<ParsedFeed, IntelError>
        switch feed.format {
        case .stix: result = stix(bytes, feed: feed, expiresMs: expires, nowMs: nowMs)
        case .misp: result = misp(bytes, feed: feed, expiresMs: expires)
        case .csv: result = csv(bytes, feed: feed, expiresMs: expires)
        case .plain: result = plain(bytes, feed: feed, expiresMs: expires)
        }
        if case .success(let p) = result, p.indicators.isEmpty, p.refusedCount > 0 {
            let why = p.refusedSamples.prefix(3).map(\.description).joined(separator: "; ")
            return .failure(IntelError(.noIndicators, feed: feed.name, "none of its \(p.refusedCount) entries could be used (\(why))"))
        }
        return result
    }

    static func json(_ bytes: [UInt8], _ feed: FeedConfig, expected: String) -> Result<Any, IntelError> {
        guard let j = try? JSONSerialization.jsonObject(with: Data(bytes)) else {
            return .failure(IntelError(.badDocument, feed: feed.name, "not valid JSON; expected \(expected)"))
        }
        return .success(j)
    }

    // MARK: STIX 2.1

    public static func stix(_ bytes: [UInt8], feed: FeedConfig, expiresMs: Int64, nowMs: Int64) -> Result<ParsedFeed, IntelError> {
        let j: Any
        switch json(bytes, feed, expected: "a STIX 2.1 bundle") { case .success(let v): j = v; case .failure(let e): return .failure(e) }
        guard let bundle = j as? [String: Any], bundle["type"] as? String == "bundle" else {
            return .failure(IntelError(.badDocument, feed: feed.name, "not a STIX 2.1 bundle: expected an object with \"type\": \"bundle\""))
        }
        guard let objects = bundle["objects"] as? [Any] else {
            return .failure(IntelError(.badDocument, feed: feed.name, "STIX bundle without an \"objects\" array"))
        }
        var p = ParsedFeed()
        for case let o as [String: Any] in objects where o["type"] as? String == "indicator" {
            let id = o["id"] as? String ?? "indicator"
            if o["revoked"] as? Bool == true { continue }
            if let pt = o["pattern_type"] as? String, pt.lowercased() != "stix" {
                p.refuse(id, "pattern_type '\(pt)' is not supported (only stix)"); continue
            }
            guard let pattern = o["pattern"] as? String else { p.refuse(id, "indicator without a pattern"); continue }
            var expires = expiresMs
            if let until = o["valid_until"] as? String {
                guard let t = parseTimestamp(until) else { p.refuse(id, "valid_until '\(until)' is not an RFC 3339 timestamp"); continue }
                if t <= nowMs { continue }  // already expired: not an error, just not current
                expires = expires == 0 ? t : min(expires, t)
            }
            var confidence = feed.confidence
            if let c = o["confidence"] {
                guard let n = c as? Int, (0...100).contains(n) else { p.refuse(id, "confidence \(c) is not an integer 0…100"); continue }
                confidence = n
            }
            switch StixPattern.parse(pattern) {
            case .failure(let why): p.refuse("\(id) \(pattern)", why.reason)
            case .success(let terms):
                for t in terms { p.add(t.type, t.value, confidence: confidence, expiresMs: expires) }
            }
        }
        return .success(p)
    }

    static func parseTimestamp(_ s: String) -> Int64? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: s) { return Int64(d.timeIntervalSince1970 * 1000) }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: s).map { Int64($0.timeIntervalSince1970 * 1000) }
    }

    // MARK: MISP

    /// MISP attribute types and the indicator types of their value parts (`a|b` types hold two).
    static let mispTypes: [String: [IndicatorType?]] = [
        "ip-src": [.ipv4], "ip-dst": [.ipv4], "ip-src|port": [.ipv4, nil], "ip-dst|port": [.ipv4, nil],
        "domain": [.domain], "hostname": [.domain], "domain|ip": [.domain, .ipv4], "hostname|port": [.domain, nil],
        "url": [.url], "uri": [.url], "link": [.url],
        "md5": [.md5], "sha1": [.sha1], "sha256": [.sha256],
        "filename|md5": [nil, .md5], "filename|sha1": [nil, .sha1], "filename|sha256": [nil, .sha256],
    ]

    /// A MISP event (`{"Event": {"Attribute": [...], "Object": [{"Attribute": [...]}]}}`), a list of
    /// them, or a REST search answer (`{"response": [{"Event": …}]}`).
    public static func misp(_ bytes: [UInt8], feed: FeedConfig, expiresMs: Int64) -> Result<ParsedFeed, IntelError> {
        let j: Any
        switch json(bytes, feed, expected: "a MISP event ({\"Event\": {\"Attribute\": […]}})") { case .success(let v): j = v; case .failure(let e): return .failure(e) }
        var events: [[String: Any]] = []
        func collect(_ v: Any) {
            if let o = v as? [String: Any] {
                if let e = o["Event"] as? [String: Any] { events.append(e) }
                else if let r = o["response"] as? [Any] { r.forEach(collect) }
            } else if let a = v as? [Any] { a.forEach(collect) }
        }
        collect(j)
        guard !events.isEmpty else {
            return .failure(IntelError(.badDocument, feed: feed.name, "no MISP event found: expected {\"Event\": {\"Attribute\": […]}} (or a list of them)"))
        }
        var p = ParsedFeed()
        for e in events {
            var attributes = e["Attribute"] as? [Any] ?? []
            for case let o as [String: Any] in e["Object"] as? [Any] ?? [] { attributes += o["Attribute"] as? [Any] ?? [] }
            for case let a as [String: Any] in attributes {
                guard let type = a["type"] as? String, let value = a["value"] as? String else {
                    p.refuse("\(a["uuid"] ?? "attribute")", "attribute without a string type and value"); continue
                }
                // to_ids=false marks context, not detection material.
                if let ids = a["to_ids"] as? Bool, !ids { continue }
                guard let parts = mispTypes[type.lowercased()] else { p.refuse("\(type) \(value)", "MISP type '\(type)' is not supported"); continue }
                let values = parts.count == 1 ? [value] : value.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                guard values.count == parts.count else { p.refuse("\(type) \(value)", "expected \(parts.count) '|'-separated parts"); continue }
                for (t, v) in zip(parts, values) { if let t { p.add(t, v, confidence: feed.confidence, expiresMs: expiresMs) } }
            }
        }
        return .success(p)
    }

    // MARK: CSV

    public static func csv(_ bytes: [UInt8], feed: FeedConfig, expiresMs: Int64) -> Result<ParsedFeed, IntelError> {
        let records: [(line: Int, fields: [String])]
        switch CSVText.records(bytes, delimiter: feed.csv.delimiter) {
        case .success(let r): records = r
        case .failure(let e): return .failure(IntelError(.badDocument, feed: feed.name, "line \(e.line): \(e.reason)"))
        }
        // Comment lines (# …) before the header are common in published lists.
        let rows = records.filter { !($0.fields.first?.hasPrefix("#") ?? false) }
        guard let header = rows.first?.fields.map({ $0.lowercased() }) else {
            return .failure(IntelError(.badDocument, feed: feed.name, "empty CSV: expected a header row naming the column '\(feed.csv.value)'"))
        }
        func column(_ name: String) -> Result<Int?, IntelError> {
            if name.isEmpty { return .success(nil) }
            guard let i = header.firstIndex(of: name.lowercased()) else {
                return .failure(IntelError(.badDocument, feed: feed.name,
                    "wrong CSV columns: no column '\(name)' in the header (found: \(header.joined(separator: ", ")))"))
            }
            return .success(i)
        }
        let vi: Int, ti: Int?, ci: Int?
        switch (column(feed.csv.value), column(feed.csv.type), column(feed.csv.confidence)) {
        case (.success(let v?), .success(let t), .success(let c)): vi = v; ti = t; ci = c
        case (.failure(let e), _, _), (_, .failure(let e), _), (_, _, .failure(let e)): return .failure(e)
        default: return .failure(IntelError(.badConfig, feed: feed.name, "columns.value must be set"))
        }
        var p = ParsedFeed()
        for r in rows.dropFirst() {
            guard vi < r.fields.count else { p.refuse("line \(r.line)", "\(r.fields.count) columns; the value column is number \(vi + 1)"); continue }
            let value = r.fields[vi]
            var confidence = feed.confidence
            if let ci, ci < r.fields.count, !r.fields[ci].isEmpty {
                guard let n = Int(r.fields[ci]), (0...100).contains(n) else { p.refuse("line \(r.line)", "confidence '\(r.fields[ci])' is not 0…100"); continue }
                confidence = n
            }
            if let ti, ti < r.fields.count, !r.fields[ti].isEmpty {
                guard let t = IndicatorType.named(r.fields[ti]) else { p.refuse("line \(r.line)", "unknown type '\(r.fields[ti])'"); continue }
                p.add(t, value, confidence: confidence, expiresMs: expiresMs)
            } else if let t = feed.type {
                p.add(t, value, confidence: confidence, expiresMs: expiresMs)
            } else {
                p.addSniffed(value, confidence: confidence, expiresMs: expiresMs)
            }
        }
        return .success(p)
    }

    // MARK: plain lists

    /// One IOC per line; lines starting with `#` or `;` are comments; anything after the first blank is ignored
    /// (lists often append a comment or a date).
    public static func plain(_ bytes: [UInt8], feed: FeedConfig, expiresMs: Int64) -> Result<ParsedFeed, IntelError> {
        if bytes.prefix(512).contains(0) {
            return .failure(IntelError(.badDocument, feed: feed.name, "binary content; expected text with one indicator per line"))
        }
        let text = String(decoding: bytes, as: UTF8.self)
        var p = ParsedFeed()
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            // Only a leading # or ; is a comment: URLs may contain both.
            let value = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) ?? ""
            if value.isEmpty || value.hasPrefix("#") || value.hasPrefix(";") { continue }
            if let t = feed.type { p.add(t, value, confidence: feed.confidence, expiresMs: expiresMs) }
            else { p.addSniffed(value, confidence: feed.confidence, expiresMs: expiresMs) }
        }
        return .success(p)
    }
}

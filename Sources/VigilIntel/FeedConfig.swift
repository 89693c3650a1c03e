import Foundation

public enum FeedFormat: String, Sendable, CaseIterable {
    case stix = "stix2.1", misp, csv, plain

    public static func named(_ s: String) -> FeedFormat? {
        switch s.lowercased() {
        case "stix2.1", "stix", "stix2", "stix-2.1": return .stix
        case "misp", "misp-json", "misp-feed": return .misp
        case "csv": return .csv
        case "plain", "text", "list", "txt": return .plain
        default: return nil
        }
    }
}

/// How CSV columns map to indicator attributes. Column names are matched case-insensitively
/// against the header row.
public struct CSVMapping: Sendable, Equatable {
    public var value = "value"
    /// Empty: the type is sniffed from the value.
    public var type = ""
    public var confidence = ""
    public var delimiter: UInt8 = UInt8(ascii: ",")
    public init() {}
}

/// One threat-intelligence feed, as defined in the feeds file.
public struct FeedConfig: Sendable, Equatable {
    public var name: String
    public var format: FeedFormat
    /// A file path (relative paths are relative to the feeds file) or an http(s) URL.
    public var location: String
    /// Seconds between loads; 0 loads at start and on `intel.reload` only.
    public var refreshSeconds: Int64 = 3600
    /// 0…100, for indicators that carry none.
    public var confidence: Int = 50
    /// Seconds an indicator stays valid after it was last seen in the feed; 0 = until removed.
    public var expirySeconds: Int64 = 0
    /// For plain lists: every line is this type (otherwise sniffed).
    public var type: IndicatorType?
    public var csv = CSVMapping()
    public var timeoutMs = 30_000
    public var maxBytes = 256 << 20
    public var enabled = true

    public init(name: String, format: FeedFormat, location: String) {
        self.name = name; self.format = format; self.location = location
    }

    public var isHTTP: Bool {
        let l = location.lowercased()
        return l.hasPrefix("http://") || l.hasPrefix("https://")
    }
}

public enum FeedsFile {
    /// Reads `{"feeds": [ … ]}` (or a bare array). Every problem names the feed and the key.
    public static func load(path: String) throws -> [FeedConfig] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw IntelError(.badConfig, feed: path, "cannot read the feeds file")
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(data, origin: path, baseDirectory: base)
    }

    public static func parse(_ data: Data, origin: String, baseDirectory: String) throws -> [FeedConfig] {
        guard let json = try? JSONSerialization.jsonObject(with: data) else {
            throw IntelError(.badConfig, feed: origin, "not valid JSON; expected {\"feeds\": [{\"name\": …, \"format\": …, \"location\": …}]}")
        }
        let list: [Any]
        if let obj = json as? [String: Any] {
            guard let l = obj["feeds"] as? [Any] else { throw IntelError(.badConfig, feed: origin, "expected a \"feeds\" array at the top level") }
            list = l
        } else if let l = json as? [Any] {
            list = l
        } else {
            throw IntelError(.badConfig, feed: origin, "expected an object with a \"feeds\" array")
        }
        var seen = Set<String>()
        return try list.enumerated().map { i, item in
            guard let o = item as? [String: Any] else { throw IntelError(.badConfig, feed: "\(origin) feeds[\(i)]", "each feed is a JSON object") }
            let f = try feed(o, index: i, origin: origin, baseDirectory: baseDirectory)
            guard seen.insert(f.name).inserted else { throw IntelError(.badConfig, feed: f.name, "defined twice in \(origin)") }
            return f
        }
    }

    static let knownKeys: Set<String> = ["name", "format", "location", "url", "path", "refresh", "confidence", "expiry", "type",
                                         "columns", "delimiter", "timeout", "max_bytes", "enabled", "description"]

    static func feed(_ o: [String: Any], index: Int, origin: String, baseDirectory: String) throws -> FeedConfig {
        guard let name = o["name"] as? String, !name.isEmpty,
              name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw IntelError(.badConfig, feed: "\(origin) feeds[\(index)]", "\"name\" must be a non-empty word of letters, digits, '-', '_', '.'")
        }
        func bad(_ m: String) -> IntelError { IntelError(.badConfig, feed: name, m) }
        if let unknown = o.keys.first(where: { !knownKeys.contains($0) }) {
            throw bad("unknown key \"\(unknown)\"; known: \(knownKeys.sorted().joined(separator: ", "))")
        }
        guard let fs = o["format"] as? String, let format = FeedFormat.named(fs) else {
            throw bad("\"format\" must be one of \(FeedFormat.allCases.map(\.rawValue).joined(separator: ", ")); got \(o["format"].map { "\($0)" } ?? "nothing")")
        }
        guard var location = (o["location"] ?? o["url"] ?? o["path"]) as? String, !location.isEmpty else {
            throw bad("\"location\" (a file path or an http(s) URL) is required")
        }
        var f = FeedConfig(name: name, format: format, location: location)
        if !f.isHTTP {
            if location.lowercased().hasPrefix("file://") { location = String(location.dropFirst(7)) }
            if location.contains("://") { throw bad("\"location\" \(location): only file paths and http(s) URLs are supported") }
            f.location = location.hasPrefix("/") ? location : baseDirectory + "/" + location
        }
        if let r = o["refresh"] { f.refreshSeconds = try seconds(r, key: "refresh", bad) }
        if let e = o["expiry"] { f.expirySeconds = try seconds(e, key: "expiry", bad) }
        if let t = o["timeout"] { f.timeoutMs = Int(try seconds(t, key: "timeout", bad)) * 1000 }
        if let c = o["confidence"] {
            guard let n = c as? Int, (0...100).contains(n) else { throw bad("\"confidence\" must be an integer 0…100; got \(c)") }
            f.confidence = n
        }
        if let m = o["max_bytes"] {
            guard let n = m as? Int, n > 0 else { throw bad("\"max_bytes\" must be a positive integer") }
            f.maxBytes = n
        }
        if let e = o["enabled"] {
            guard let b = e as? Bool else { throw bad("\"enabled\" must be true or false") }
            f.enabled = b
        }
        if let t = o["type"] {
            guard let s = t as? String, let type = IndicatorType.named(s) else {
                throw bad("\"type\" must be one of \(IndicatorType.allCases.map(\.rawValue).joined(separator: ", ")); got \(t)")
            }
            f.type = type
        }
        if let cols = o["columns"] {
            guard format == .csv, let c = cols as? [String: Any] else { throw bad("\"columns\" is an object, for csv feeds only") }
            for (k, v) in c {
                guard let s = v as? String, !s.isEmpty else { throw bad("columns.\(k) must name a header column") }
                switch k {
                case "value": f.csv.value = s
                case "type": f.csv.type = s
                case "confidence": f.csv.confidence = s
                default: throw bad("unknown columns.\(k); known: value, type, confidence")
                }
            }
        }
        if let d = o["delimiter"] {
            guard let s = d as? String, s.utf8.count == 1 else { throw bad("\"delimiter\" must be one character") }
            f.csv.delimiter = s.utf8.first!
        }
        return f
    }

    /// A number of seconds, or a duration text: 90s, 15m, 1h, 7d.
    static func seconds(_ v: Any, key: String, _ bad: (String) -> IntelError) throws -> Int64 {
        if let n = v as? Int, n >= 0 { return Int64(n) }
        if let s = v as? String, let d = parseDuration(s) { return d }
        throw bad("\"\(key)\" must be seconds or a duration like 30s, 15m, 1h, 7d; got \(v)")
    }

    public static func parseDuration(_ s: String) -> Int64? {
        let t = s.trimmingCharacters(in: .whitespaces).lowercased()
        guard let unit = t.last else { return nil }
        let mult: Int64
        switch unit {
        case "s": mult = 1
        case "m": mult = 60
        case "h": mult = 3600
        case "d": mult = 86400
        case "w": mult = 7 * 86400
        default: return Int64(t).flatMap { $0 >= 0 ? $0 : nil }
        }
        guard let n = Int64(t.dropLast()), n >= 0 else { return nil }
        return n * mult
    }
}

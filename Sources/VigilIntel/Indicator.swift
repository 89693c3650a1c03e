import Foundation

/// What an indicator's value is. Raw values are the names used in feeds files, storage and RPCs.
public enum IndicatorType: String, Sendable, CaseIterable, Hashable {
    case ipv4, ipv6, cidr, domain, url, md5, sha1, sha256

    /// Names feeds use for these types (CSV type columns, plain-list `type`, MISP-ish words).
    public static func named(_ raw: String) -> IndicatorType? {
        switch raw.lowercased().trimmingCharacters(in: .whitespaces) {
        case "ipv4", "ip", "ip-src", "ip-dst", "ipv4-addr", "ip_address", "ipaddress", "address": return .ipv4
        case "ipv6", "ipv6-addr": return .ipv6
        case "cidr", "subnet", "network", "ip-range", "netblock": return .cidr
        case "domain", "domain-name", "hostname", "fqdn", "host": return .domain
        case "url", "uri", "link": return .url
        case "md5", "hash-md5", "file-md5": return .md5
        case "sha1", "sha-1", "hash-sha1", "file-sha1": return .sha1
        case "sha256", "sha-256", "hash-sha256", "file-sha256": return .sha256
        default: return nil
        }
    }
}

/// One indicator as a feed gave it, normalized (lower-case hashes and domains, canonical IPs).
public struct Indicator: Sendable, Hashable {
    public var type: IndicatorType
    public var value: String
    /// 0…100.
    public var confidence: Int
    /// 0 = never expires.
    public var expiresMs: Int64
    public init(type: IndicatorType, value: String, confidence: Int, expiresMs: Int64 = 0) {
        self.type = type; self.value = value; self.confidence = confidence; self.expiresMs = expiresMs
    }
}

/// Why a single entry of a feed was not used (the feed itself may still be fine).
public struct Refusal: Sendable, Hashable {
    public var entry: String
    public var reason: String
    public init(entry: String, reason: String) { self.entry = entry; self.reason = reason }
    public var description: String { "\(entry): \(reason)" }
}

/// The usable indicators of one feed document and what was refused.
public struct ParsedFeed: Sendable {
    public var indicators: [Indicator] = []
    public var refusedCount = 0
    /// The first few refusals, for people; the count says how many there were.
    public var refusedSamples: [Refusal] = []
    public static let sampleLimit = 10
    public init() {}

    public mutating func refuse(_ entry: String, _ reason: String) {
        refusedCount += 1
        if refusedSamples.count < Self.sampleLimit { refusedSamples.append(Refusal(entry: String(entry.prefix(200)), reason: reason)) }
    }

    /// Normalizes and adds `raw` as `type` (or refuses it with the normalizer's reason).
    public mutating func add(_ type: IndicatorType, _ raw: String, confidence: Int, expiresMs: Int64 = 0) {
        switch IndicatorValue.normalize(type, raw) {
        case .success(let (t, v)): indicators.append(Indicator(type: t, value: v, confidence: confidence, expiresMs: expiresMs))
        case .failure(let why): refuse(raw, why.reason)
        }
    }

    /// Sniffs the type of `raw` and adds it (or refuses it).
    public mutating func addSniffed(_ raw: String, confidence: Int, expiresMs: Int64 = 0) {
        guard let t = IndicatorValue.sniff(raw) else {
            refuse(raw, "not an IP address, CIDR block, domain, URL or MD5/SHA-1/SHA-256 hash")
            return
        }
        add(t, raw, confidence: confidence, expiresMs: expiresMs)
    }
}

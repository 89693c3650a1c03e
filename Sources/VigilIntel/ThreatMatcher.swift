import Foundation

/// The match enrichment records on an event (`threat.indicator.*`).
public struct ThreatMatch: Sendable, Equatable {
    public var type: IndicatorType
    public var value: String
    public var feed: String
    public var confidence: Int
    /// The event field whose value matched.
    public var field: String
}

/// Checks an event's fields against every feed's set; the most confident match wins, and
/// among equals the first field in `fields` order. Cost per event is a few hash lookups per
/// present field and feed, plus one trie walk per address when a feed has CIDR blocks.
public struct ThreatMatcher: Sendable {
    public var sets: [IndicatorSet]
    public init(sets: [IndicatorSet] = []) { self.sets = sets }

    public enum Kind: Sendable { case ip, domain, url, hash }
    /// Fields checked, in priority order (names as docs/parsers.md emits them).
    public static let fields: [(String, Kind)] = [
        ("source.ip", .ip), ("destination.ip", .ip),
        ("dns.question.name", .domain), ("url.domain", .domain), ("destination.domain", .domain),
        ("url.full", .url), ("url.original", .url),
        ("file.hash.sha256", .hash), ("file.hash.sha1", .hash), ("file.hash.md5", .hash),
        ("process.hash.sha256", .hash), ("process.hash.sha1", .hash), ("process.hash.md5", .hash),
    ]

    public var isEmpty: Bool { sets.allSatisfy { $0.count == 0 } }

    public func match(_ fields: [String: String], nowMs: Int64) -> ThreatMatch? {
        if sets.isEmpty { return nil }
        var best: ThreatMatch?
        func consider(_ e: IndicatorSet.Entry?, _ set: IndicatorSet, _ field: String) {
            guard let e, best == nil || e.confidence > best!.confidence else { return }
            best = ThreatMatch(type: e.type, value: e.value, feed: set.feed, confidence: e.confidence, field: field)
        }
        for (name, kind) in Self.fields {
            guard let raw = fields[name], !raw.isEmpty else { continue }
            switch kind {
            case .ip:
                guard let ip = IP.parse(raw) else { continue }
                for s in sets where !s.isEmptyForAddresses { consider(s.match(ip: ip, nowMs: nowMs), s, name) }
            case .domain:
                matchHost(raw, name, &best)
            case .url:
                if sets.allSatisfy({ $0.isEmptyForURLs && $0.isEmptyForDomains && $0.isEmptyForAddresses }) { continue }
                guard let u = URLParts(raw) else { continue }
                for s in sets where !s.isEmptyForURLs { consider(s.match(url: u.normalized, nowMs: nowMs), s, name) }
                // A URL on a known-bad host is a hit on the host too.
                matchHost(u.host, name, &best)
            case .hash:
                let h = ASCII.lowered(raw)
                for s in sets where !s.isEmptyForHashes { consider(s.match(hash: h, nowMs: nowMs), s, name) }
            }
        }
        return best

        func matchHost(_ host: String, _ field: String, _ best: inout ThreatMatch?) {
            var h = ASCII.lowered(host)
            if h.utf8.last == UInt8(ascii: ".") { h.removeLast() }
            if let ip = IP.parse(h) {
                for s in sets where !s.isEmptyForAddresses { if let e = s.match(ip: ip, nowMs: nowMs), best == nil || e.confidence > best!.confidence {
                    best = ThreatMatch(type: e.type, value: e.value, feed: s.feed, confidence: e.confidence, field: field) } }
                return
            }
            for s in sets where !s.isEmptyForDomains {
                if let e = s.match(domain: h, nowMs: nowMs), best == nil || e.confidence > best!.confidence {
                    best = ThreatMatch(type: e.type, value: e.value, feed: s.feed, confidence: e.confidence, field: field)
                }
            }
        }
    }

    /// Every live entry that matches `value` in any feed (for `intel.lookup`).
    public func lookup(_ value: String, nowMs: Int64) -> [ThreatMatch] {
        var out: [ThreatMatch] = []
        let s = value.trimmingCharacters(in: .whitespaces)
        for set in sets {
            var e: IndicatorSet.Entry?
            if let ip = IP.parse(s) { e = set.match(ip: ip, nowMs: nowMs) }
            else if let u = URLParts(s), s.contains("://") {
                e = set.match(url: u.normalized, nowMs: nowMs) ?? set.match(domain: u.host, nowMs: nowMs)
            } else if s.utf8.allSatisfy(IndicatorValue.isHex), [32, 40, 64].contains(s.utf8.count) {
                e = set.match(hash: s.lowercased(), nowMs: nowMs)
            } else if let d = IndicatorValue.domain(s) { e = set.match(domain: d, nowMs: nowMs) }
            if let e { out.append(ThreatMatch(type: e.type, value: e.value, feed: set.feed, confidence: e.confidence, field: "")) }
        }
        return out.sorted { $0.confidence > $1.confidence }
    }
}

/// One feed's indicators, indexed for matching at event rate: hash maps for exact IPs,
/// hashes, URLs and domains; binary tries for CIDR blocks. Immutable once built, so it can be
/// built on a loader thread and handed to the event loop.
public final class IndicatorSet: @unchecked Sendable {
    public struct Entry: Sendable {
        public var type: IndicatorType
        public var value: String
        public var confidence: Int
        public var expiresMs: Int64
    }

    public let feed: String
    public private(set) var entries: [Entry] = []
    private var ipv4: [UInt32: Int32] = [:]
    private var ipv6: [IP: Int32] = [:]
    private var cidr4 = PrefixTrie()
    private var cidr6 = PrefixTrie()
    private var domains: [String: Int32] = [:]
    private var urls: [String: Int32] = [:]
    private var hashes: [String: Int32] = [:]

    public var count: Int { entries.count }

    /// Indicators repeated in one feed keep the highest confidence.
    public init(feed: String, indicators: [Indicator]) {
        self.feed = feed
        entries.reserveCapacity(indicators.count)
        for ind in indicators { add(ind) }
    }

    private func better(_ a: Int32, _ b: Int32) -> Int32 {
        entries[Int(b)].confidence > entries[Int(a)].confidence ? b : a
    }

    private func add(_ ind: Indicator) {
        let i = Int32(entries.count)
        func put<K: Hashable>(_ map: inout [K: Int32], _ k: K) {
            if let old = map[k] {
                // Duplicate: keep one entry, the more confident one.
                if ind.confidence > entries[Int(old)].confidence { entries[Int(old)] = Entry(type: ind.type, value: ind.value, confidence: ind.confidence, expiresMs: ind.expiresMs) }
                return
            }
            entries.append(Entry(type: ind.type, value: ind.value, confidence: ind.confidence, expiresMs: ind.expiresMs))
            map[k] = i
        }
        switch ind.type {
        case .ipv4, .ipv6:
            guard let ip = IP.parse(ind.value) else { return }
            if ip.isIPv4 { put(&ipv4, UInt32(truncatingIfNeeded: ip.lo)) } else { put(&ipv6, ip) }
        case .cidr:
            guard let block = CIDR.parse(ind.value) else { return }
            entries.append(Entry(type: ind.type, value: ind.value, confidence: ind.confidence, expiresMs: ind.expiresMs))
            if block.address.isIPv4 { cidr4.insert(block, i, keep: better) } else { cidr6.insert(block, i, keep: better) }
        case .domain: put(&domains, ind.value)
        case .url: put(&urls, ind.value)
        case .md5, .sha1, .sha256: put(&hashes, ind.value)
        }
    }

    /// The best live entry for an address: an exact indicator or any block containing it.
    @inline(__always)
    public func match(ip: IP, nowMs: Int64) -> Entry? {
        var best: Entry?
        func consider(_ i: Int32) {
            let e = entries[Int(i)]
            if e.expiresMs != 0 && e.expiresMs <= nowMs { return }
            if best == nil || e.confidence > best!.confidence { best = e }
        }
        if ip.isIPv4 {
            if let i = ipv4[UInt32(truncatingIfNeeded: ip.lo)] { consider(i) }
            if !cidr4.isEmpty { cidr4.forEachContaining(ip, consider) }
        } else {
            if let i = ipv6[ip] { consider(i) }
            if !cidr6.isEmpty { cidr6.forEachContaining(ip, consider) }
        }
        return best
    }

    /// A domain indicator for `name` or any parent of it (`a.b.evil.com` → `b.evil.com`,
    /// `evil.com`), found by walking label suffixes against the map; `name` is normalized.
    @inline(__always)
    public func match(domain name: String, nowMs: Int64) -> Entry? {
        if domains.isEmpty { return nil }
        var best: Entry?
        var suffix = Substring(name)
        while true {
            if let i = domains[String(suffix)] {
                let e = entries[Int(i)]
                if (e.expiresMs == 0 || e.expiresMs > nowMs) && (best == nil || e.confidence > best!.confidence) { best = e }
            }
            guard let dot = suffix.utf8.firstIndex(of: UInt8(ascii: ".")) else { break }
            suffix = suffix[suffix.utf8.index(after: dot)...]
        }
        return best
    }

    @inline(__always)
    public func match(url: String, nowMs: Int64) -> Entry? { live(urls[url], nowMs) }

    @inline(__always)
    public func match(hash: String, nowMs: Int64) -> Entry? { live(hashes[hash], nowMs) }

    @inline(__always)
    private func live(_ i: Int32?, _ nowMs: Int64) -> Entry? {
        guard let i else { return nil }
        let e = entries[Int(i)]
        return e.expiresMs == 0 || e.expiresMs > nowMs ? e : nil
    }

    public var isEmptyForURLs: Bool { urls.isEmpty }
    public var isEmptyForDomains: Bool { domains.isEmpty }
    public var isEmptyForAddresses: Bool { ipv4.isEmpty && ipv6.isEmpty && cidr4.isEmpty && cidr6.isEmpty }
    public var isEmptyForHashes: Bool { hashes.isEmpty }
}

import Foundation

/// Normal forms shared by feeds (when indicators are stored) and events (when they are
/// matched), so that `EVIL.com.` in a feed matches `evil.com` in a DNS query.
public enum IndicatorValue {
    public struct Invalid: Error, Sendable { public var reason: String }

    /// The canonical form of `raw` as `type`; an IPv4 CIDR of /32 becomes an exact ipv4, etc.
    public static func normalize(_ type: IndicatorType, _ raw: String) -> Result<(IndicatorType, String), Invalid> {
        let s = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if s.isEmpty { return .failure(Invalid(reason: "empty value")) }
        switch type {
        case .ipv4, .ipv6, .cidr:
            if s.contains("/") {
                guard let block = CIDR.parse(s) else { return .failure(Invalid(reason: "not a CIDR block (expected address/prefix, e.g. 192.0.2.0/24)")) }
                if block.isExact { return .success((block.address.isIPv4 ? .ipv4 : .ipv6, block.address.text)) }
                return .success((.cidr, block.text))
            }
            guard let ip = IP.parse(s) else { return .failure(Invalid(reason: "not an IPv4 or IPv6 address")) }
            return .success((ip.isIPv4 ? .ipv4 : .ipv6, ip.text))
        case .domain:
            guard let d = domain(s) else {
                return .failure(Invalid(reason: "not a domain name (letters, digits, '-', '_' in dot-separated labels, at least two labels)"))
            }
            return .success((.domain, d))
        case .url:
            guard let u = url(s) else { return .failure(Invalid(reason: "not an absolute URL (scheme://host/…)")) }
            return .success((.url, u))
        case .md5, .sha1, .sha256:
            let want = type == .md5 ? 32 : type == .sha1 ? 40 : 64
            let h = s.lowercased()
            guard h.utf8.count == want, h.utf8.allSatisfy(isHex) else {
                return .failure(Invalid(reason: "not a \(type.rawValue) hash (\(want) hex digits)"))
            }
            return .success((type, h))
        }
    }

    /// Guesses the type of a bare IOC (plain lists, CSV without a type column).
    public static func sniff(_ raw: String) -> IndicatorType? {
        let s = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if s.isEmpty { return nil }
        if s.contains("://") { return .url }
        if s.contains("/"), CIDR.parse(s) != nil { return .cidr }
        if let ip = IP.parse(s) { return ip.isIPv4 ? .ipv4 : .ipv6 }
        if s.utf8.allSatisfy(isHex) {
            switch s.utf8.count { case 32: return .md5; case 40: return .sha1; case 64: return .sha256; default: break }
        }
        if domain(s) != nil { return .domain }
        return nil
    }

    static func isHex(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70) }

    /// Lower-cased, without a trailing dot or a leading `*.`; nil unless it looks like a host name
    /// with at least two labels (a one-label "domain" would match a whole top-level domain).
    public static func domain(_ raw: String) -> String? {
        var s = Substring(raw.lowercased())
        if s.hasPrefix("*.") { s = s.dropFirst(2) }
        if s.hasSuffix(".") { s = s.dropLast() }
        guard !s.isEmpty, s.utf8.count <= 253 else { return nil }
        var labels = 0
        for label in s.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.utf8.count <= 63,
                  label.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 95 || $0 >= 0x80 })
            else { return nil }
            labels += 1
        }
        guard labels >= 2, IP.parse(String(s)) == nil else { return nil }
        return String(s)
    }

    /// `scheme://host[:port]/path?query` with scheme and host lower-cased, the fragment dropped
    /// and an empty path written as `/`; nil for anything that is not an absolute URL.
    public static func url(_ raw: String) -> String? {
        guard let parts = URLParts(raw) else { return nil }
        return parts.normalized
    }
}

/// The pieces of an absolute URL that matching needs, split on UTF-8 bytes without
/// Foundation's URL (which rejects much of what appears in logs, and is slow per event).
public struct URLParts: Sendable {
    public var scheme: String
    /// Lower-cased host without brackets, user info or port.
    public var host: String
    public var normalized: String

    public init?(_ raw: String) {
        let b = Array(raw.utf8)
        var lo = 0, hi = b.count
        while lo < hi, b[lo] <= 32 { lo += 1 }
        while hi > lo, b[hi - 1] <= 32 { hi -= 1 }
        // scheme ":" "//"
        var i = lo
        while i < hi, Self.isSchemeByte(b[i]) { i += 1 }
        guard i > lo, i + 2 < hi, b[i] == 58, b[i + 1] == 47, b[i + 2] == 47 else { return nil }
        let schemeEnd = i
        var end = hi
        if let hash = b[(i + 3)..<hi].firstIndex(of: 35) { end = hash }  // drop the fragment
        let authStart = i + 3
        var authEnd = authStart
        while authEnd < end, b[authEnd] != 47, b[authEnd] != 63 { authEnd += 1 }
        var hostStart = authStart
        if let at = b[authStart..<authEnd].lastIndex(of: 64) { hostStart = at + 1 }
        var hostEnd = authEnd, portStart = authEnd, bracketed = false
        if hostStart < authEnd, b[hostStart] == 91 {  // [v6]
            guard let close = b[hostStart..<authEnd].firstIndex(of: 93) else { return nil }
            bracketed = true
            portStart = close + 1
            hostStart += 1
            hostEnd = close
        } else if let colon = b[hostStart..<authEnd].lastIndex(of: 58) {
            hostEnd = colon
            portStart = colon
        }
        guard hostEnd > hostStart else { return nil }
        func lower(_ r: Range<Int>) -> [UInt8] { b[r].map { $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 } }
        let schemeBytes = lower(lo..<schemeEnd)
        let hostBytes = lower(hostStart..<hostEnd)
        scheme = String(decoding: schemeBytes, as: UTF8.self)
        host = String(decoding: hostBytes, as: UTF8.self)
        var out = schemeBytes + Array("://".utf8)
        if bracketed { out.append(91) }
        out += hostBytes
        if bracketed { out.append(93) }
        out += b[portStart..<authEnd]
        if authEnd == end || b[authEnd] == 63 { out.append(47) }
        out += b[authEnd..<end]
        normalized = String(decoding: out, as: UTF8.self)
    }

    @inline(__always) static func isSchemeByte(_ c: UInt8) -> Bool {
        (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 43 || c == 45 || c == 46
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address as 128 bits, without allocating (matching runs per event field).
/// IPv4 lives in the low 32 bits of `lo`; IPv4-mapped IPv6 (`::ffff:a.b.c.d`) counts as IPv4.
public struct IP: Sendable, Hashable {
    public var hi: UInt64
    public var lo: UInt64
    public var isIPv4: Bool

    public static func parse(_ s: String) -> IP? {
        if let v4 = parseIPv4(s.utf8) { return IP(hi: 0, lo: UInt64(v4), isIPv4: true) }
        guard s.contains(":"), s.utf8.count <= 45 else { return nil }
        var a = in6_addr()
        // Zone ids (fe80::1%eth0) are not part of the address.
        let text = s.split(separator: "%", maxSplits: 1).first.map(String.init) ?? s
        guard inet_pton(AF_INET6, text, &a) == 1 else { return nil }
        let b = withUnsafeBytes(of: a) { Array($0) }
        var hi: UInt64 = 0, lo: UInt64 = 0
        for i in 0..<8 { hi = hi << 8 | UInt64(b[i]) }
        for i in 8..<16 { lo = lo << 8 | UInt64(b[i]) }
        if hi == 0 && lo >> 32 == 0xffff { return IP(hi: 0, lo: lo & 0xffff_ffff, isIPv4: true) }
        return IP(hi: hi, lo: lo, isIPv4: false)
    }

    /// Dotted quad, strict: four decimal parts 0…255, nothing else.
    static func parseIPv4(_ u: String.UTF8View) -> UInt32? {
        var value: UInt32 = 0, part: UInt32 = 0, digits = 0, dots = 0
        for c in u {
            if c >= 48 && c <= 57 {
                part = part * 10 + UInt32(c - 48)
                digits += 1
                if digits > 3 || part > 255 { return nil }
            } else if c == 46 {
                if digits == 0 || dots == 3 { return nil }
                value = value << 8 | part
                part = 0; digits = 0; dots += 1
            } else {
                return nil
            }
        }
        guard dots == 3, digits > 0 else { return nil }
        return value << 8 | part
    }

    /// Canonical text: dotted quad, or RFC 5952 IPv6 (inet_ntop).
    public var text: String {
        if isIPv4 {
            let v = UInt32(truncatingIfNeeded: lo)
            return "\(v >> 24).\(v >> 16 & 255).\(v >> 8 & 255).\(v & 255)"
        }
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: hi >> (56 - 8 * UInt64(i))) }
        for i in 0..<8 { bytes[8 + i] = UInt8(truncatingIfNeeded: lo >> (56 - 8 * UInt64(i))) }
        var out = [CChar](repeating: 0, count: 64)
        bytes.withUnsafeBytes { b in _ = inet_ntop(AF_INET6, b.baseAddress, &out, 64) }
        return String(cString: out)
    }

    /// Bit `i` counted from the most significant bit of the address (0…31 or 0…127).
    @inline(__always) func bit(_ i: Int) -> Int {
        if isIPv4 { return Int(truncatingIfNeeded: (lo >> UInt64(31 - i)) & 1) }
        return i < 64 ? Int(truncatingIfNeeded: (hi >> UInt64(63 - i)) & 1) : Int(truncatingIfNeeded: (lo >> UInt64(127 - i)) & 1)
    }

    public var bitCount: Int { isIPv4 ? 32 : 128 }
}

/// An address block `address/prefix` with the host bits cleared.
public struct CIDR: Sendable, Hashable {
    public var address: IP
    public var prefix: Int

    public static func parse(_ s: String) -> CIDR? {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let ip = IP.parse(String(parts[0])), let p = Int(parts[1]), p >= 0 else { return nil }
        // ::ffff:a.b.c.d/120 style prefixes are written over 128 bits.
        let prefix = ip.isIPv4 && parts[0].contains(":") ? p - 96 : p
        guard prefix >= 0, prefix <= ip.bitCount else { return nil }
        return CIDR(address: Self.masked(ip, prefix), prefix: prefix)
    }

    static func masked(_ ip: IP, _ prefix: Int) -> IP {
        var m = ip
        if ip.isIPv4 {
            m.lo = prefix == 0 ? 0 : ip.lo & (UInt64(UInt32.max) << UInt64(32 - prefix) & 0xffff_ffff)
        } else {
            m.hi = prefix >= 64 ? ip.hi : prefix == 0 ? 0 : ip.hi & (UInt64.max << UInt64(64 - prefix))
            m.lo = prefix >= 128 ? ip.lo : prefix <= 64 ? 0 : ip.lo & (UInt64.max << UInt64(128 - prefix))
        }
        return m
    }

    public var isExact: Bool { prefix == address.bitCount }
    public var text: String { "\(address.text)/\(prefix)" }
}

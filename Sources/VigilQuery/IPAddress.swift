import Foundation

/// IPv4/IPv6 parsing. Every address maps to 16 bytes (IPv4 as ::ffff:a.b.c.d) and to a
/// 32-hex-digit key whose text order is numeric order, so SQLite can range-compare keys.
public struct IPAddress: Sendable, Hashable, Comparable {
    public var bytes: [UInt8]
    public var isIPv4: Bool

    public init?(_ text: String) {
        if let v4 = IPAddress.fastIPv4(text) {
            bytes = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] + v4
            isIPv4 = true
        } else if text.utf8.allSatisfy({ $0 == UInt8(ascii: ".") || ($0 >= 0x30 && $0 <= 0x39) }) {
            return nil
        } else if let v4 = IPAddress.parseIPv4(Substring(text)) {
            bytes = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] + v4
            isIPv4 = true
        } else if let v6 = IPAddress.parseIPv6(text) {
            bytes = v6
            isIPv4 = false
        } else {
            return nil
        }
    }

    init(bytes: [UInt8]) {
        self.bytes = bytes
        isIPv4 = false
    }

    public var key: String {
        var utf8: [UInt8] = []
        utf8.reserveCapacity(32)
        for b in bytes {
            utf8.append(IPAddress.hexDigits[Int(b >> 4)])
            utf8.append(IPAddress.hexDigits[Int(b & 0x0f)])
        }
        return String(decoding: utf8, as: UTF8.self)
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    public static func < (a: IPAddress, b: IPAddress) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }

    /// Byte-level dotted-quad parser: the hot path for IPv4 fields in rule evaluation.
    static func fastIPv4(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(4)
        var value = 0, digits = 0
        for b in text.utf8 {
            if b >= 0x30 && b <= 0x39 {
                value = value * 10 + Int(b - 0x30)
                digits += 1
                if digits > 3 || value > 255 { return nil }
            } else if b == UInt8(ascii: "."), digits > 0, out.count < 3 {
                out.append(UInt8(value))
                value = 0
                digits = 0
            } else {
                return nil
            }
        }
        guard digits > 0, out.count == 3 else { return nil }
        out.append(UInt8(value))
        return out
    }

    static func parseIPv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let v = Int(part), v <= 255 else { return nil }
            out.append(UInt8(v))
        }
        return out
    }

    static func parseIPv6(_ text: String) -> [UInt8]? {
        guard text.count >= 2, text.count <= 45, text.contains(":") else { return nil }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ s: String, allowV4Tail: Bool) -> [UInt8]? {
            if s.isEmpty { return [] }
            var out: [UInt8] = []
            let parts = s.split(separator: ":", omittingEmptySubsequences: false)
            for (i, part) in parts.enumerated() {
                if i == parts.count - 1, allowV4Tail, part.contains(".") {
                    guard let v4 = parseIPv4(part) else { return nil }
                    out += v4
                    continue
                }
                guard (1...4).contains(part.count), part.allSatisfy({ $0.isHexDigit && $0.isASCII }),
                      let v = UInt16(part, radix: 16) else { return nil }
                out += [UInt8(v >> 8), UInt8(v & 0xff)]
            }
            return out
        }
        if halves.count == 1 {
            guard let all = groups(halves[0], allowV4Tail: true), all.count == 16 else { return nil }
            return all
        }
        guard let head = groups(halves[0], allowV4Tail: false),
              let tail = groups(halves[1], allowV4Tail: true),
              head.count + tail.count <= 14 else { return nil }
        return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }
}

/// A CIDR block as an inclusive range of addresses.
public struct CIDRBlock: Sendable, Hashable {
    public var low: IPAddress
    public var high: IPAddress

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPAddress(String(parts[0])),
              (1...3).contains(parts[1].count), parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
              let length = Int(parts[1]) else { return nil }
        let maxLength = address.isIPv4 ? 32 : 128
        guard length <= maxLength else { return nil }
        let prefix = address.isIPv4 ? length + 96 : length
        var low = address.bytes, high = address.bytes
        for bit in prefix..<128 {
            let byte = bit / 8, mask = UInt8(0x80) >> UInt8(bit % 8)
            low[byte] &= ~mask
            high[byte] |= mask
        }
        self.low = IPAddress(bytes: low)
        self.high = IPAddress(bytes: high)
    }

    public func contains(_ address: IPAddress) -> Bool { low <= address && address <= high }
}

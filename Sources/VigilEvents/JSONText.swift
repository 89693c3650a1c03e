import Foundation
/// Fast JSON text for flat string maps (event fields are stored as JSON objects so SQLite's
/// JSON1 functions can search them). Keys are sorted for stable output.
public enum JSONText {
    public static func object(_ map: [String: String]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64 + map.count * 40)
        out.append(UInt8(ascii: "{"))
        var first = true
        // Sorted pairs (stable text for equal maps) without hashing each key a second time.
        for (k, v) in map.sorted(by: { $0.key < $1.key }) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            appendQuoted(k, to: &out)
            out.append(UInt8(ascii: ":"))
            appendQuoted(v, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    public static func string(_ v: String) -> String {
        var out: [UInt8] = []
        appendQuoted(v, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `v` as a quoted JSON string (escapes quotes, backslashes and control characters).
    public static func append(_ v: String, to s: inout String) {
        s += string(v)
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// Byte-level escaping: UTF-8 bytes of 0x20 and above (all bytes of multi-byte characters
    /// are ≥ 0x80) are copied as they are, so the common case is one bulk copy per value.
    static func appendQuoted(_ v: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var v = v
        v.withUTF8 { bytes in
            var start = 0
            for (i, b) in bytes.enumerated() where b < 0x20 || b == 0x22 || b == 0x5C {
                out.append(contentsOf: bytes[start..<i])
                switch b {
                case 0x22: out.append(contentsOf: [0x5C, 0x22])
                case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                default:
                    out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 15)]])
                }
                start = i + 1
            }
            out.append(contentsOf: bytes[start..<bytes.count])
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension JSONText {
    /// Reads back a flat object written by `object(_:)` (non-string values become their JSON text).
    public static func parseObject(_ text: String) -> [String: String] {
        guard let data = text.data(using: .utf8),
              let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return [:] }
        var out: [String: String] = [:]
        for (k, v) in obj { out[k] = v as? String ?? "\(v)" }
        return out
    }
}

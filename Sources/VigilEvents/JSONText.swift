import Foundation
/// Fast JSON text for flat string maps (event fields are stored as JSON objects so SQLite's
/// JSON1 functions can search them). Keys are sorted for stable output.
public enum JSONText {
    public static func object(_ map: [String: String]) -> String {
        // Sorted pairs (stable text for equal maps) without hashing each key a second time.
        let pairs = map.sorted(by: { $0.key < $1.key })
        var room = 2
        for (k, v) in pairs { room += quotedCapacity(k.utf8.count) + quotedCapacity(v.utf8.count) + 2 }
        return String(unsafeUninitializedCapacity: room) { buf in
            let d = UnsafeMutableRawPointer(buf.baseAddress!)
            var o = 0
            d.storeBytes(of: UInt8(ascii: "{"), toByteOffset: o, as: UInt8.self); o += 1
            for (i, (k, v)) in pairs.enumerated() {
                if i > 0 { d.storeBytes(of: UInt8(ascii: ","), toByteOffset: o, as: UInt8.self); o += 1 }
                o += writeQuoted(k, to: d + o)
                d.storeBytes(of: UInt8(ascii: ":"), toByteOffset: o, as: UInt8.self); o += 1
                o += writeQuoted(v, to: d + o)
            }
            d.storeBytes(of: UInt8(ascii: "}"), toByteOffset: o, as: UInt8.self); o += 1
            return o
        }
    }

    public static func string(_ v: String) -> String {
        String(unsafeUninitializedCapacity: quotedCapacity(v.utf8.count)) { writeQuoted(v, to: UnsafeMutableRawPointer($0.baseAddress!)) }
    }

    /// Appends `v` as a quoted JSON string (escapes quotes, backslashes and control characters).
    public static func append(_ v: String, to s: inout String) {
        s += string(v)
    }

    /// The most bytes `writeQuoted` writes for `n` bytes of text (every byte a `\u00XX`, two quotes).
    @inline(__always)
    public static func quotedCapacity(_ n: Int) -> Int { 6 * n + 2 }

    private static func writeQuoted(_ v: String, to d: UnsafeMutableRawPointer) -> Int {
        var v = v
        return v.withUTF8 { writeQuoted(UnsafeRawBufferPointer($0), to: d) }
    }

    /// Writes `bytes` as a quoted JSON string at `d`, which has room for `quotedCapacity(bytes.count)`
    /// bytes; returns the bytes written. Escapes: `\"`, `\\`, `\n`, `\r`, `\t`, other bytes below
    /// 0x20 as `\u00XX`; everything else (UTF-8 included, bytes ≥ 0x80 as they are) copied, 8 bytes
    /// at a time where none needs an escape. With room for the worst case the loop only stores.
    public static func writeQuoted(_ bytes: UnsafeRawBufferPointer, to d: UnsafeMutableRawPointer) -> Int {
        let n = bytes.count
        var o = 0
        d.storeBytes(of: 0x22, toByteOffset: o, as: UInt8.self); o += 1
        if let p = bytes.baseAddress {
            var i = 0
            while i < n {
                while i + 8 <= n {
                    let w = p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                    if needsEscape(w) { break }
                    d.storeBytes(of: w, toByteOffset: o, as: UInt64.self)
                    o += 8; i += 8
                }
                guard i < n else { break }
                let b = p.load(fromByteOffset: i, as: UInt8.self)
                i += 1
                if b >= 0x20 && b != 0x22 && b != 0x5C { d.storeBytes(of: b, toByteOffset: o, as: UInt8.self); o += 1; continue }
                d.storeBytes(of: 0x5C, toByteOffset: o, as: UInt8.self); o += 1
                switch b {
                case 0x22, 0x5C: d.storeBytes(of: b, toByteOffset: o, as: UInt8.self); o += 1
                case 0x0A: d.storeBytes(of: UInt8(ascii: "n"), toByteOffset: o, as: UInt8.self); o += 1
                case 0x0D: d.storeBytes(of: UInt8(ascii: "r"), toByteOffset: o, as: UInt8.self); o += 1
                case 0x09: d.storeBytes(of: UInt8(ascii: "t"), toByteOffset: o, as: UInt8.self); o += 1
                default:
                    for c in [UInt8(ascii: "u"), 0x30, 0x30, hexDigit(b >> 4), hexDigit(b & 15)] {
                        d.storeBytes(of: c, toByteOffset: o, as: UInt8.self); o += 1
                    }
                }
            }
        }
        d.storeBytes(of: 0x22, toByteOffset: o, as: UInt8.self); o += 1
        return o
    }

    @inline(__always)
    private static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? 48 + v : 87 + v }

    /// Whether any of 8 bytes needs an escape: below 0x20, `"` or `\` (exact: no false positives).
    @inline(__always)
    static func needsEscape(_ w: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, high: UInt64 = 0x8080_8080_8080_8080
        let below20 = (w &- ones &* 0x20) & ~w & high
        let q = w ^ (ones &* 0x22), b = w ^ (ones &* 0x5C)
        return (below20 | ((q &- ones) & ~q & high) | ((b &- ones) & ~b & high)) != 0
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

#if canImport(Glibc)
import Glibc
#endif

/// Direct protobuf encoding of `Event` (the ingest hot path), without building protobuf-c
/// structs first: same wire format (proto3: default values omitted, map entries as nested
/// key = 1 / value = 2 messages), decoded by protobuf-c like its own output. Strings with an
/// embedded NUL get U+FFFD there, as `Arena.string` does for protobuf-c's C strings.
struct ProtoWriter {
    var out: [UInt8] = []

    init(capacity: Int) { out.reserveCapacity(capacity) }

    @inline(__always) static func varintSize(_ v: UInt64) -> Int {
        var n = 1, v = v
        while v >= 0x80 { v >>= 7; n += 1 }
        return n
    }

    @inline(__always) mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { out.append(UInt8(truncatingIfNeeded: v) | 0x80); v >>= 7 }
        out.append(UInt8(v))
    }

    @inline(__always) mutating func tag(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    mutating func int64(_ field: Int, _ v: Int64) {
        if v == 0 { return }
        tag(field, 0); varint(UInt64(bitPattern: v))
    }

    mutating func uint32(_ field: Int, _ v: UInt32) {
        if v == 0 { return }
        tag(field, 0); varint(UInt64(v))
    }

    mutating func bytes(_ field: Int, _ b: [UInt8]) {
        if b.isEmpty { return }
        tag(field, 2); varint(UInt64(b.count)); out.append(contentsOf: b)
    }

    /// The string as protobuf-c would send it (NUL → U+FFFD).
    @inline(__always) static func clean(_ s: String) -> String {
        let nul = s.utf8.withContiguousStorageIfAvailable { b in
            b.count > 0 && memchr(b.baseAddress!, 0, b.count) != nil
        } ?? s.utf8.contains(0)
        return nul ? String(s.map { $0 == "\u{0}" ? "\u{FFFD}" : $0 }) : s
    }

    @inline(__always) mutating func appendUTF8(_ s: String) {
        if s.utf8.withContiguousStorageIfAvailable({ b in out.append(contentsOf: b) }) == nil {
            out.append(contentsOf: s.utf8)
        }
    }

    mutating func string(_ field: Int, _ s: String) {
        if s.isEmpty { return }
        let t = Self.clean(s)
        tag(field, 2); varint(UInt64(t.utf8.count)); appendUTF8(t)
    }

    mutating func map(_ field: Int, _ m: [String: String]) {
        for (k0, v0) in m {
            let k = Self.clean(k0), v = Self.clean(v0)
            let kn = k.utf8.count, vn = v.utf8.count
            let len = (kn > 0 ? 1 + Self.varintSize(UInt64(kn)) + kn : 0) + (vn > 0 ? 1 + Self.varintSize(UInt64(vn)) + vn : 0)
            tag(field, 2); varint(UInt64(len))
            if kn > 0 { tag(1, 2); varint(UInt64(kn)); appendUTF8(k) }
            if vn > 0 { tag(2, 2); varint(UInt64(vn)); appendUTF8(v) }
        }
    }
}

extension Event {
    /// Encoded bytes, written directly (see `ProtoWriter`).
    public func encoded() -> [UInt8] {
        var size = 64 + id.utf8.count + source.utf8.count + format.utf8.count + raw.count + parseError.utf8.count
            + partitionKey.utf8.count + sender.utf8.count
        for (k, v) in fields { size += k.utf8.count + v.utf8.count + 8 }
        for (k, v) in original { size += k.utf8.count + v.utf8.count + 8 }
        for (k, v) in enriched { size += k.utf8.count + v.utf8.count + 8 }
        var w = ProtoWriter(capacity: size)
        w.string(1, id)
        w.int64(2, eventTimeMs)
        w.int64(3, receivedTimeMs)
        w.string(4, source)
        w.string(5, format)
        w.bytes(6, raw)
        w.int64(7, Int64(parseStatus.rawValue))
        w.string(8, parseError)
        w.map(9, fields)
        w.map(10, original)
        w.map(11, enriched)
        w.string(12, partitionKey)
        w.uint32(13, partition)
        w.string(14, sender)
        return w.out
    }
}

import CProtobufC
#if canImport(Glibc)
import Glibc
#endif

/// Owns the C memory built while encoding one message; everything is freed at once after packing.
final class Arena {
    private var blocks: [UnsafeMutableRawPointer] = []

    deinit { for b in blocks { free(b) } }

    /// A NUL-terminated copy. protobuf-c strings are C strings, so an embedded NUL would cut
    /// the value short; it is replaced by U+FFFD to keep the rest.
    func string(_ s: String) -> UnsafeMutablePointer<CChar> {
        var utf8 = Array(s.utf8)
        if utf8.contains(0) {
            utf8 = Array(String(s.map { $0 == "\u{0}" ? "\u{FFFD}" : $0 }).utf8)
        }
        let p = allocate(CChar.self, count: utf8.count + 1)
        utf8.withUnsafeBufferPointer { src in
            if let base = src.baseAddress {
                UnsafeMutableRawPointer(p).copyMemory(from: base, byteCount: src.count)
            }
        }
        p[utf8.count] = 0
        return p
    }

    func binary(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        if bytes.isEmpty { return ProtobufCBinaryData(len: 0, data: nil) }
        let p = allocate(UInt8.self, count: bytes.count)
        bytes.withUnsafeBufferPointer { src in
            p.update(from: src.baseAddress!, count: src.count)
        }
        return ProtobufCBinaryData(len: bytes.count, data: p)
    }

    func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let raw = calloc(max(count, 1), MemoryLayout<T>.stride)!
        blocks.append(raw)
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }

    /// A heap copy of `value`, for messages referenced by pointer from their parent.
    func box<T>(_ value: T) -> UnsafeMutablePointer<T> {
        let p = allocate(T.self, count: 1)
        p.initialize(to: value)
        return p
    }
}

@inline(__always)
func swiftString(_ p: UnsafeMutablePointer<CChar>?) -> String {
    guard let p else { return "" }
    return String(cString: p)
}

@inline(__always)
func swiftBytes(_ b: ProtobufCBinaryData) -> [UInt8] {
    guard b.len > 0, let data = b.data else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: b.len))
}

import CProtobufC
#if canImport(Glibc)
import Glibc
#endif

/// Owns the C memory built while encoding one message; everything is freed at once after
/// packing. A bump allocator over a few large chunks: an event with 40 map entries needs ~100
/// small blocks, and one malloc each was the largest cost of encoding.
final class Arena {
    private var chunks: [UnsafeMutableRawPointer] = []
    private var current: UnsafeMutableRawPointer?
    private var offset = 0
    private var capacity = 0
    private static let chunkSize = 16 * 1024
    /// Bytes of string and binary contents copied so far, and how many values: with them
    /// `Event.encoded()` bounds the packed size without protobuf-c's own size pass.
    private(set) var contentBytes = 0
    private(set) var contentCount = 0

    deinit { for c in chunks { free(c) } }

    private func raw(_ size: Int, alignment: Int) -> UnsafeMutableRawPointer {
        var start = (offset + alignment - 1) & ~(alignment - 1)
        if current == nil || start + size > capacity {
            let n = max(Self.chunkSize, size + alignment)
            let chunk = malloc(n)!
            chunks.append(chunk)
            current = chunk
            capacity = n
            start = 0
        }
        offset = start + size
        return current! + start
    }

    /// A NUL-terminated copy. protobuf-c strings are C strings, so an embedded NUL would cut
    /// the value short; it is replaced by U+FFFD to keep the rest.
    func string(_ s: String) -> UnsafeMutablePointer<CChar> {
        var text = s
        let copied: UnsafeMutablePointer<CChar>? = text.withUTF8 { utf8 in
            if utf8.contains(0) { return nil }
            let p = raw(utf8.count + 1, alignment: 1).bindMemory(to: CChar.self, capacity: utf8.count + 1)
            if let base = utf8.baseAddress { UnsafeMutableRawPointer(p).copyMemory(from: base, byteCount: utf8.count) }
            p[utf8.count] = 0
            contentBytes += utf8.count
            contentCount += 1
            return p
        }
        return copied ?? string(String(s.map { $0 == "\u{0}" ? "\u{FFFD}" : $0 }))
    }

    func binary(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        contentCount += 1
        if bytes.isEmpty { return ProtobufCBinaryData(len: 0, data: nil) }
        contentBytes += bytes.count
        let p = raw(bytes.count, alignment: 1).bindMemory(to: UInt8.self, capacity: bytes.count)
        bytes.withUnsafeBufferPointer { src in p.update(from: src.baseAddress!, count: src.count) }
        return ProtobufCBinaryData(len: bytes.count, data: p)
    }

    /// Zeroed storage for `count` values (C structs start from all-zero, like calloc).
    func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let size = max(count, 1) * MemoryLayout<T>.stride
        let p = raw(size, alignment: max(MemoryLayout<T>.alignment, 8))
        p.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        return p.bindMemory(to: T.self, capacity: max(count, 1))
    }

    /// A copy of `value`, for messages referenced by pointer from their parent.
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

// MARK: - repeated fields (shared by every message file)

/// A `repeated string` field: count and an arena array of C strings.
func cStrings(_ a: Arena, _ values: [String]) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) {
    if values.isEmpty { return (0, nil) }
    let arr = a.allocate(UnsafeMutablePointer<CChar>?.self, count: values.count)
    for (i, s) in values.enumerated() { arr[i] = a.string(s) }
    return (values.count, arr)
}

func swiftStrings(_ p: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ n: Int) -> [String] {
    guard let p else { return [] }
    return (0..<n).map { swiftString(p[$0]) }
}

/// A `repeated Message` field: count and an arena array of boxed C structs.
func cArray<T>(_ a: Arena, _ items: [T]) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<T>?>?) {
    if items.isEmpty { return (0, nil) }
    let arr = a.allocate(UnsafeMutablePointer<T>?.self, count: items.count)
    for (i, x) in items.enumerated() { arr[i] = a.box(x) }
    return (items.count, arr)
}

func swiftArray<T, R>(_ p: UnsafeMutablePointer<UnsafeMutablePointer<T>?>?, _ n: Int, _ f: (T) -> R) -> [R] {
    guard let p else { return [] }
    return (0..<n).compactMap { p[$0].map { f($0.pointee) } }
}

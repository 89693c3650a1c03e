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

/// A C string's bytes (no copy; valid as long as the string).
@inline(__always)
func rawBytes(_ p: UnsafeMutablePointer<CChar>?) -> UnsafeRawBufferPointer {
    guard let p else { return UnsafeRawBufferPointer(start: nil, count: 0) }
    return UnsafeRawBufferPointer(start: p, count: strlen(p))
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

/// A `repeated bytes` field: count and an arena array of binary values.
func cBinaries(_ a: Arena, _ values: [[UInt8]]) -> (Int, UnsafeMutablePointer<ProtobufCBinaryData>?) {
    if values.isEmpty { return (0, nil) }
    let arr = a.allocate(ProtobufCBinaryData.self, count: values.count)
    for (i, b) in values.enumerated() { arr[i] = a.binary(b) }
    return (values.count, arr)
}

func swiftBinaries(_ p: UnsafeMutablePointer<ProtobufCBinaryData>?, _ n: Int) -> [[UInt8]] {
    guard let p else { return [] }
    return (0..<n).map { swiftBytes(p[$0]) }
}

/// A `repeated` scalar field (int64, uint32, …): count and an arena copy of the values.
func cScalars<T>(_ a: Arena, _ values: [T]) -> (Int, UnsafeMutablePointer<T>?) {
    if values.isEmpty { return (0, nil) }
    let arr = a.allocate(T.self, count: values.count)
    for (i, v) in values.enumerated() { arr[i] = v }
    return (values.count, arr)
}

func swiftScalars<T>(_ p: UnsafeMutablePointer<T>?, _ n: Int) -> [T] {
    guard let p else { return [] }
    return Array(UnsafeBufferPointer(start: p, count: n))
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

// MARK: - decoding arena

/// Bump allocator handed to protobuf-c's unpack on the decode path. An unpacked event with 40
/// map entries is ~130 small blocks; with the default allocator each was a malloc plus a free in
/// free_unpacked, about a third of decoding's instructions. Here they come out of one chunk per
/// thread that is reused for every message; the unpacked message is copied into Swift values
/// before the chunk is reset, so no pointer into it outlives the decode call. `free` is a no-op
/// (protobuf-c frees partial messages on malformed input; the reset reclaims them instead).
struct UnpackArenaState {
    var allocator: ProtobufCAllocator
    var base: UnsafeMutableRawPointer
    var baseCapacity: Int
    var chunk: UnsafeMutableRawPointer
    var offset: Int
    var capacity: Int
    /// Chunks taken when `base` ran out, linked through their first word; freed on reset.
    var overflow: UnsafeMutableRawPointer?
    var overflowed: Bool
    var inUse: Bool
    /// Map keys seen before on this thread (see `internedKey`): raw bytes, lengths, strings.
    var keyBytes: UnsafeMutableRawPointer
    var keyLengths: UnsafeMutablePointer<Int>
    var keyStrings: UnsafeMutablePointer<String>
}

private let keyCacheSlots = 512
private let keyCacheWidth = 64 // longer keys are converted every time

/// A map key as `String(cString:)` would make it, from a per-thread cache when the same bytes
/// were converted before. Keys repeat from event to event (same parsers, same schema), and a
/// hit skips UTF-8 validation, small-string assembly and, over 15 bytes, a heap allocation.
/// A hit needs identical bytes, so the result is the one `String(cString:)` gives (repairs
/// included).
@inline(__always)
func internedKey(_ p: UnsafeMutablePointer<CChar>?, _ s: UnsafeMutablePointer<UnpackArenaState>?) -> String {
    guard let p else { return "" }
    guard let s else { return String(cString: p) }
    let n = strlen(p)
    if n == 0 || n > keyCacheWidth { return String(cString: p) }
    let raw = UnsafeRawPointer(p)
    var h: UInt64 = 0
    if n >= 8 {
        h = raw.loadUnaligned(as: UInt64.self) &* 0x100_0000_01B3 ^ raw.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
    } else {
        withUnsafeMutableBytes(of: &h) { $0.baseAddress!.copyMemory(from: raw, byteCount: n) }
    }
    h = (h ^ UInt64(n)) &* 0x9E37_79B9_7F4A_7C15
    let slot = Int(truncatingIfNeeded: h >> 55) // top 9 bits: 512 slots
    let cached = s.pointee.keyBytes + slot * keyCacheWidth
    if s.pointee.keyLengths[slot] == n && memcmp(cached, raw, n) == 0 { return s.pointee.keyStrings[slot] }
    let str = String(cString: p)
    s.pointee.keyLengths[slot] = n
    cached.copyMemory(from: raw, byteCount: n)
    s.pointee.keyStrings[slot] = str
    return str
}

private let unpackArenaAlignment = 16          // what malloc guarantees; protobuf-c structs need ≤ 8
private let unpackArenaInitial = 16 * 1024     // a 2 KB Windows event unpacks into ~7 KB
private let unpackArenaMaxRetained = 256 * 1024 // kept per thread at most after a large message

private func unpackArenaAlloc(_ data: UnsafeMutableRawPointer?, _ size: Int) -> UnsafeMutableRawPointer? {
    guard let s = data?.assumingMemoryBound(to: UnpackArenaState.self) else { return nil }
    let start = (s.pointee.offset + unpackArenaAlignment - 1) & ~(unpackArenaAlignment - 1)
    if start <= s.pointee.capacity && size <= s.pointee.capacity - start {
        s.pointee.offset = start + size
        return s.pointee.chunk + start
    }
    // A new chunk, its first 16 bytes holding the link to the previous overflow chunk.
    let (total, overflowed) = size.addingReportingOverflow(unpackArenaAlignment + s.pointee.baseCapacity)
    guard !overflowed, let p = malloc(total) else { return nil }
    p.storeBytes(of: s.pointee.overflow, as: UnsafeMutableRawPointer?.self)
    s.pointee.overflow = p
    s.pointee.overflowed = true
    s.pointee.chunk = p
    s.pointee.capacity = total
    s.pointee.offset = unpackArenaAlignment + size
    return p + unpackArenaAlignment
}

private func unpackArenaFree(_ data: UnsafeMutableRawPointer?, _ pointer: UnsafeMutableRawPointer?) {}

private func unpackArenaReset(_ s: UnsafeMutablePointer<UnpackArenaState>) {
    var usedOverflow = 0
    while let p = s.pointee.overflow {
        s.pointee.overflow = p.load(as: UnsafeMutableRawPointer?.self)
        free(p)
        usedOverflow += 1
    }
    // A thread that decodes large messages gets a larger base, up to a bound.
    if s.pointee.overflowed && s.pointee.baseCapacity < unpackArenaMaxRetained,
       let grown = malloc(min(s.pointee.baseCapacity * 2, unpackArenaMaxRetained)) {
        free(s.pointee.base)
        s.pointee.base = grown
        s.pointee.baseCapacity = min(s.pointee.baseCapacity * 2, unpackArenaMaxRetained)
    }
    s.pointee.overflowed = false
    s.pointee.chunk = s.pointee.base
    s.pointee.capacity = s.pointee.baseCapacity
    s.pointee.offset = 0
}

/// One arena per thread, freed when the thread exits.
private let unpackArenaKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { raw in
        guard let s = raw?.assumingMemoryBound(to: UnpackArenaState.self) else { return }
        unpackArenaReset(s)
        free(s.pointee.base)
        free(s.pointee.keyBytes)
        s.pointee.keyLengths.deallocate()
        s.pointee.keyStrings.deinitialize(count: keyCacheSlots)
        s.pointee.keyStrings.deallocate()
        s.deinitialize(count: 1)
        s.deallocate()
    }
    return key
}()

private func threadUnpackArena() -> UnsafeMutablePointer<UnpackArenaState>? {
    if let raw = pthread_getspecific(unpackArenaKey) { return raw.assumingMemoryBound(to: UnpackArenaState.self) }
    guard let base = malloc(unpackArenaInitial) else { return nil }
    guard let keyBytes = malloc(keyCacheSlots * keyCacheWidth) else { free(base); return nil }
    let keyLengths = UnsafeMutablePointer<Int>.allocate(capacity: keyCacheSlots)
    keyLengths.initialize(repeating: -1, count: keyCacheSlots)
    let keyStrings = UnsafeMutablePointer<String>.allocate(capacity: keyCacheSlots)
    keyStrings.initialize(repeating: "", count: keyCacheSlots)
    let s = UnsafeMutablePointer<UnpackArenaState>.allocate(capacity: 1)
    s.initialize(to: UnpackArenaState(
        allocator: ProtobufCAllocator(alloc: { unpackArenaAlloc($0, $1) }, free: { unpackArenaFree($0, $1) },
                                      allocator_data: UnsafeMutableRawPointer(s)),
        base: base, baseCapacity: unpackArenaInitial, chunk: base, offset: 0, capacity: unpackArenaInitial,
        overflow: nil, overflowed: false, inUse: false,
        keyBytes: keyBytes, keyLengths: keyLengths, keyStrings: keyStrings))
    if pthread_setspecific(unpackArenaKey, s) != 0 {
        s.deinitialize(count: 1); s.deallocate(); free(base); free(keyBytes)
        keyLengths.deallocate(); keyStrings.deinitialize(count: keyCacheSlots); keyStrings.deallocate()
        return nil
    }
    return s
}

/// Runs `body` with this thread's decode allocator and arena state, or with nil for both
/// (protobuf-c's malloc, no key cache) when it is already in use further up the stack or could
/// not be set up; `body` must not keep pointers into the unpacked message, which is released
/// when it returns.
@inline(__always)
func withUnpackAllocator<R>(_ body: (UnsafeMutablePointer<ProtobufCAllocator>?, UnsafeMutablePointer<UnpackArenaState>?) throws -> R) rethrows -> R {
    guard let s = threadUnpackArena(), !s.pointee.inUse else { return try body(nil, nil) }
    s.pointee.inUse = true
    defer {
        unpackArenaReset(s)
        s.pointee.inUse = false
    }
    return try body(UnsafeMutableRawPointer(s).advanced(by: unpackArenaAllocatorOffset).assumingMemoryBound(to: ProtobufCAllocator.self), s)
}

private let unpackArenaAllocatorOffset = MemoryLayout<UnpackArenaState>.offset(of: \.allocator)!

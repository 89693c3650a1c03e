import VigilEvents
import VigilStore
import VigilWire
#if canImport(Glibc)
import Glibc
#endif

/// Growable bytes in memory of their own: a pointer into them stays valid until the next append
/// or reset, so SQLite can read a column from them in place (`Statement.bind(_:borrowedText:)`).
/// A struct (used in place, `inout`) so appends need no exclusivity check each; its owner frees
/// it (`release`).
struct ByteBuffer {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int = 4096) {
        self.capacity = max(capacity, 64)
        base = malloc(self.capacity)!
    }

    func release() { free(base) }

    @inline(__always) mutating func reset() { count = 0 }

    /// Makes room for `n` more bytes.
    @inline(__always) mutating func reserve(_ n: Int) {
        if count + n > capacity { grow(count + n) }
    }

    private mutating func grow(_ needed: Int) {
        var c = capacity
        while c < needed { c *= 2 }
        // Like an Array that cannot grow: nothing sensible is left to do.
        guard let p = realloc(base, c) else { fatalError("out of memory (\(c) bytes)") }
        base = p
        capacity = c
    }

    @inline(__always) mutating func append(_ byte: UInt8) {
        reserve(1)
        base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    @inline(__always) mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let src = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count)
        (base + count).copyMemory(from: src, byteCount: bytes.count)
        count += bytes.count
    }

    func bytes(_ r: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base + r.lowerBound, count: r.count) }

    /// Where the next byte goes; write at most what `reserve` made room for, then `advance`.
    var end: UnsafeMutableRawPointer { base + count }
    @inline(__always) mutating func advance(_ n: Int) { count += n }
}

/// The JSON text columns of one events row (`fields`, `original`, `enriched`), written as bytes
/// and bound to the insert in place. The same text `JSONText.object` writes — keys sorted by their
/// UTF-8 bytes (Swift's String order for the keys events have), the same escapes, invalid UTF-8
/// repaired as `String` repairs it — without a Swift String or Dictionary per entry: `fields` and
/// `original` come straight from the decoder's entries (`Event(decoding:keepOriginal:entry:)`).
/// One per service, reused from event to event (its buffers keep their capacity).
final class StoreRow {
    private struct Entry {
        var map: UInt8      // 0 fields, 1 original
        var order: Int32    // arrival order: of two equal keys the later one wins, as in a Dictionary
        var prefix: UInt64  // the key's first 8 bytes, big-endian, zero-padded: most comparisons end here
        var key: Int32      // offset of the key's bytes in `keys`
        var keyCount: Int32
        var fragment: Int32 // offset of `"key":"value"` in `fragments`
        var fragmentCount: Int32
    }

    /// The mutable state lives behind a pointer: stored `var`s of a class get a dynamic
    /// exclusivity check at every access, which cost more than the JSON writing itself here.
    private struct State {
        var keys = ByteBuffer()
        var fragments = ByteBuffer(capacity: 8192)
        var entries: [Entry] = []
        var text = ByteBuffer(capacity: 8192)
        var fields = 0..<0, original = 0..<0, enriched = 0..<0
    }
    private let s: UnsafeMutablePointer<State>

    /// The three JSON texts, one after the other (valid until the next `reset`).
    var text: ByteBuffer { s.pointee.text }
    var fields: Range<Int> { s.pointee.fields }
    var original: Range<Int> { s.pointee.original }
    var enriched: Range<Int> { s.pointee.enriched }

    /// The events insert of the store this row was last inserted into: taken from the
    /// connection's cache once instead of hashing its SQL text for every event.
    /// (The connection is held, so it cannot be freed and another take its place.)
    private var insert: (db: Database, statement: Statement)?

    func insertStatement(_ db: Database) throws -> Statement {
        if let i = insert, i.db === db { return i.statement }
        let st = try db.statement(EventRows.insertSQL)
        insert = (db, st)
        return st
    }

    init() {
        s = .allocate(capacity: 1)
        s.initialize(to: State())
        s.pointee.entries.reserveCapacity(128)
    }

    deinit {
        s.pointee.keys.release(); s.pointee.fragments.release(); s.pointee.text.release()
        s.deinitialize(count: 1)
        s.deallocate()
    }

    func reset() {
        s.pointee.keys.reset(); s.pointee.fragments.reset(); s.pointee.text.reset()
        s.pointee.entries.removeAll(keepingCapacity: true)
    }

    /// One map entry as received.
    func add(_ map: EventMap, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        if Self.isASCII(key) && Self.isASCII(value) {
            addChecked(map == .fields ? 0 : 1, key: key, value: value)
        } else {
            // Repaired the way String(cString:) (the dictionary's decoder) repairs it.
            var k = String(decoding: key, as: UTF8.self), v = String(decoding: value, as: UTF8.self)
            k.withUTF8 { kb in v.withUTF8 { vb in addChecked(map == .fields ? 0 : 1, key: UnsafeRawBufferPointer(kb), value: UnsafeRawBufferPointer(vb)) } }
        }
    }

    /// All entries of a dictionary (events not decoded by the service: tests, benches).
    func add(_ map: EventMap, _ dictionary: [String: String]) {
        for (k, v) in dictionary {
            var k = k, v = v
            k.withUTF8 { kb in v.withUTF8 { vb in addChecked(map == .fields ? 0 : 1, key: UnsafeRawBufferPointer(kb), value: UnsafeRawBufferPointer(vb)) } }
        }
    }

    private func addChecked(_ map: UInt8, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        let k = s.pointee.keys.count
        s.pointee.keys.append(key)
        let f = s.pointee.fragments.count
        let n = Self.appendEntry(key, value, to: &s.pointee.fragments)
        s.pointee.entries.append(Entry(map: map, order: Int32(s.pointee.entries.count), prefix: Self.prefix(key), key: Int32(k),
                                       keyCount: Int32(key.count), fragment: Int32(f), fragmentCount: Int32(n)))
    }

    /// Writes the three texts; `enriched` (a few entries at most, added by enrichment) from its dictionary.
    func finish(enriched map: [String: String]) {
        let keyBase = UnsafeRawPointer(s.pointee.keys.base)
        s.pointee.entries.sort { a, b in
            if a.map != b.map { return a.map < b.map }
            if a.prefix != b.prefix { return a.prefix < b.prefix }
            let n = min(a.keyCount, b.keyCount)
            let c = memcmp(keyBase + Int(a.key), keyBase + Int(b.key), Int(n))
            if c != 0 { return c < 0 }
            if a.keyCount != b.keyCount { return a.keyCount < b.keyCount }
            return a.order < b.order
        }
        s.pointee.entries.withUnsafeBufferPointer { entries in
            var i = 0
            s.pointee.fields = writeObject(entries, map: 0, from: &i)
            s.pointee.original = writeObject(entries, map: 1, from: &i)
        }
        let start = s.pointee.text.count
        if map.isEmpty {
            s.pointee.text.append(UInt8(ascii: "{")); s.pointee.text.append(UInt8(ascii: "}"))
        } else {
            var j = JSONText.object(map)
            j.withUTF8 { s.pointee.text.append(UnsafeRawBufferPointer($0)) }
        }
        s.pointee.enriched = start..<s.pointee.text.count
    }

    /// `{…}` of the sorted entries of `map` starting at `i`; of equal keys only the last.
    private func writeObject(_ entries: UnsafeBufferPointer<Entry>, map: UInt8, from i: inout Int) -> Range<Int> {
        let keys = s.pointee.keys.base, fragments = s.pointee.fragments.base
        let start = s.pointee.text.count
        s.pointee.text.append(UInt8(ascii: "{"))
        var first = true
        while i < entries.count, entries[i].map == map {
            let e = entries[i]
            i += 1
            if i < entries.count, entries[i].map == map, e.keyCount == entries[i].keyCount,
               memcmp(keys + Int(e.key), keys + Int(entries[i].key), Int(e.keyCount)) == 0 { continue }
            if !first { s.pointee.text.append(UInt8(ascii: ",")) }
            first = false
            s.pointee.text.append(UnsafeRawBufferPointer(start: fragments + Int(e.fragment), count: Int(e.fragmentCount)))
        }
        s.pointee.text.append(UInt8(ascii: "}"))
        return start..<s.pointee.text.count
    }

    @inline(__always)
    static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let p = bytes.baseAddress else { return true }
        let n = bytes.count
        var i = 0
        var acc: UInt64 = 0
        while i + 8 <= n { acc |= p.loadUnaligned(fromByteOffset: i, as: UInt64.self); i += 8 }
        while i < n { acc |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)); i += 1 }
        return acc & 0x8080_8080_8080_8080 == 0
    }

    /// The key's first 8 bytes as a big-endian number (zero-padded; keys hold no NUL): comparing
    /// two of them orders the keys as comparing their bytes would, up to a tie.
    @inline(__always)
    static func prefix(_ key: UnsafeRawBufferPointer) -> UInt64 {
        var v: UInt64 = 0
        let n = min(key.count, 8)
        if n > 0 { withUnsafeMutableBytes(of: &v) { $0.baseAddress!.copyMemory(from: key.baseAddress!, byteCount: n) } }
        return UInt64(bigEndian: v)
    }

    /// `"key":"value"`; returns the bytes written.
    static func appendEntry(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, to out: inout ByteBuffer) -> Int {
        let start = out.count
        appendQuoted(key, to: &out)
        out.append(UInt8(ascii: ":"))
        appendQuoted(value, to: &out)
        return out.count - start
    }

    /// `"…"` with JSONText's escapes (its writer, into room made once for the worst case).
    static func appendQuoted(_ s: UnsafeRawBufferPointer, to out: inout ByteBuffer) {
        out.reserve(JSONText.quotedCapacity(s.count))
        out.advance(JSONText.writeQuoted(s, to: out.end))
    }
}

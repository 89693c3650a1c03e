import VigilWire

/// The field names an engine's scanners and bound tests read, interned to small ids, and the
/// current event's values by id. Loading an event hashes each of its field names once (a few
/// word loads, open addressing) instead of once per scanner and per test with SipHash; the
/// scan and the tests then read values by id.
///
/// `value(id)` is `e.original[name] ?? e.fields[name]`, the evaluator's rule (vendor field first).
final class FieldTable {
    let names: [String]
    // The hash table: per slot the name's hash (to skip most compares), id + 1 (0 empty) and where
    // its bytes are — one record, so a lookup touches one cache line before the compare.
    private struct Slot { var hash: UInt64 = 0; var id: Int32 = 0; var start: Int32 = 0; var length: Int32 = 0 }
    private let mask: Int
    private let slots: UnsafeMutablePointer<Slot>
    private let nameBytes: UnsafeMutablePointer<UInt8>

    // The current event, per id in one record: the stamps of the event that has it as a vendor /
    // normalized field, and the values; `seen` marks ids already listed in `presentIds`.
    private struct Entry { var origStamp = 0; var normStamp = 0; var seen = 0; var origValue = ""; var normValue = "" }
    private let entries: UnsafeMutablePointer<Entry>
    /// Ids present in the current event, each once: present(0..<presentCount).
    private let presentIds: UnsafeMutablePointer<Int32>
    private(set) var presentCount = 0
    private(set) var stamp = 0

    /// `names` distinct; a name's id is its index.
    init(_ names: [String]) {
        self.names = names
        let n = max(names.count, 1)
        var size = 8
        while size < names.count * 4 { size *= 2 }
        mask = size - 1
        slots = .allocate(capacity: size); slots.initialize(repeating: Slot(), count: size)
        var bytes: [UInt8] = []
        for (id, name) in names.enumerated() {
            let b = Array(name.utf8)
            let h = b.withUnsafeBufferPointer(Self.hash)
            var s = Int(truncatingIfNeeded: h) & mask
            while slots[s].id != 0 { s = (s + 1) & mask }
            slots[s] = Slot(hash: h, id: Int32(id + 1), start: Int32(bytes.count), length: Int32(b.count))
            bytes += b
        }
        nameBytes = .allocate(capacity: max(bytes.count, 1)); nameBytes.initialize(from: bytes, count: bytes.count)
        entries = .allocate(capacity: n); entries.initialize(repeating: Entry(), count: n)
        presentIds = .allocate(capacity: n)
    }

    deinit {
        slots.deallocate(); nameBytes.deallocate()
        entries.deinitialize(count: max(names.count, 1)); entries.deallocate()
        presentIds.deallocate()
    }

    /// Length, first and last 8 bytes (unaligned loads; short names byte by byte), mixed: field
    /// names are short and differ at their ends, and this runs for every field of every event.
    @inline(__always) static func hash(_ b: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let n = b.count
        var h = UInt64(n) &* 0x9E37_79B9_7F4A_7C15
        if n >= 8, let p = b.baseAddress {
            let raw = UnsafeRawPointer(p)
            h ^= raw.loadUnaligned(as: UInt64.self)
            h = (h ^ (h >> 32)) &* 0xD6E8_FEB8_6659_FD93
            h ^= raw.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        } else {
            for c in b { h = (h << 8) | UInt64(c) }
        }
        h = (h ^ (h >> 32)) &* 0xD6E8_FEB8_6659_FD93
        return h ^ (h >> 29)
    }

    /// The id of a name, or nil when no scanner or test reads it.
    @inline(__always) func id(_ name: String) -> Int32? {
        if let r = name.utf8.withContiguousStorageIfAvailable({ lookup($0) }) { return r }
        return Array(name.utf8).withUnsafeBufferPointer { lookup($0) }
    }

    @inline(__always) private func lookup(_ b: UnsafeBufferPointer<UInt8>) -> Int32? {
        let h = Self.hash(b)
        var s = Int(truncatingIfNeeded: h) & mask
        while true {
            let slot = slots[s]
            if slot.id == 0 { return nil }
            if slot.hash == h && Int(slot.length) == b.count {
                let start = Int(slot.start), len = Int(slot.length)
                var k = 0
                while k < len && nameBytes[start + k] == b[k] { k += 1 }
                if k == len { return slot.id - 1 }
            }
            s = (s + 1) & mask
        }
    }

    /// Reads an event's fields into the table (its vendor fields, then its normalized ones).
    func load(_ e: Event, stamp: Int) {
        self.stamp = stamp
        presentCount = 0
        for (name, v) in e.original {
            guard let id = id(name) else { continue }
            let x = entries + Int(id)
            x.pointee.origStamp = stamp
            x.pointee.origValue = v
            mark(x, id)
        }
        for (name, v) in e.fields {
            guard let id = id(name) else { continue }
            let x = entries + Int(id)
            x.pointee.normStamp = stamp
            x.pointee.normValue = v
            mark(x, id)
        }
    }

    @inline(__always) private func mark(_ x: UnsafeMutablePointer<Entry>, _ id: Int32) {
        if x.pointee.seen != stamp { x.pointee.seen = stamp; presentIds[presentCount] = id; presentCount += 1 }
    }

    @inline(__always) func present(_ i: Int) -> Int32 { presentIds[i] }

    @inline(__always) func has(_ id: Int32) -> Bool { entries[Int(id)].origStamp == stamp || entries[Int(id)].normStamp == stamp }

    /// The current event's value of field `id` as UTF-8, read in place (no copy of the String,
    /// so no retain and release per read); nil when the event has no such field.
    @inline(__always) func withBytes<R>(_ id: Int32, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R? {
        let x = entries + Int(id)
        if x.pointee.origStamp == stamp { return Self.bytes(&x.pointee.origValue, body) }
        if x.pointee.normStamp == stamp { return Self.bytes(&x.pointee.normValue, body) }
        return nil
    }

    @inline(__always) private static func bytes<R>(_ s: inout String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        s.withUTF8(body)
    }

    /// The current event's value of field `id`: vendor field first, then the normalized one.
    @inline(__always) func value(_ id: Int32) -> String? {
        let x = entries + Int(id)
        if x.pointee.origStamp == stamp { return x.pointee.origValue }
        if x.pointee.normStamp == stamp { return x.pointee.normValue }
        return nil
    }
}

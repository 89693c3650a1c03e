import VigilWire

/// The field names an engine's scanners and bound tests read, interned to small ids, and the
/// current event's values by id. Loading an event hashes each of its field names once (a few
/// word loads, open addressing) instead of once per scanner and per test with SipHash; the
/// scan and the tests then read values by id.
///
/// `value(id)` is `e.original[name] ?? e.fields[name]`, the evaluator's rule (vendor field first).
final class FieldTable {
    let names: [String]
    // The hash table: slot → id + 1 (0 empty), with the name's hash to skip most compares.
    private let mask: Int
    private let slotIds: UnsafeMutablePointer<Int32>
    private let slotHash: UnsafeMutablePointer<UInt64>
    private let nameStart: UnsafeMutablePointer<Int32>
    private let nameBytes: UnsafeMutablePointer<UInt8>

    // The current event: per id, the stamp of the event that has it and the value.
    private let origStamp: UnsafeMutablePointer<Int>
    private let normStamp: UnsafeMutablePointer<Int>
    private let origValue: UnsafeMutablePointer<String>
    private let normValue: UnsafeMutablePointer<String>
    /// Ids present in the current event, each once: present(0..<presentCount).
    private let presentIds: UnsafeMutablePointer<Int32>
    private(set) var presentCount = 0
    private let seen: UnsafeMutablePointer<Int>
    private(set) var stamp = 0

    /// `names` distinct; a name's id is its index.
    init(_ names: [String]) {
        self.names = names
        let n = max(names.count, 1)
        var size = 8
        while size < names.count * 4 { size *= 2 }
        mask = size - 1
        slotIds = .allocate(capacity: size); slotIds.initialize(repeating: 0, count: size)
        slotHash = .allocate(capacity: size); slotHash.initialize(repeating: 0, count: size)
        var starts: [Int32] = [0], bytes: [UInt8] = []
        for name in names { bytes += Array(name.utf8); starts.append(Int32(bytes.count)) }
        nameStart = .allocate(capacity: starts.count); nameStart.initialize(from: starts, count: starts.count)
        nameBytes = .allocate(capacity: max(bytes.count, 1)); nameBytes.initialize(from: bytes, count: bytes.count)
        for (id, name) in names.enumerated() {
            let h = Array(name.utf8).withUnsafeBufferPointer(Self.hash)
            var s = Int(truncatingIfNeeded: h) & mask
            while slotIds[s] != 0 { s = (s + 1) & mask }
            slotIds[s] = Int32(id + 1)
            slotHash[s] = h
        }
        origStamp = .allocate(capacity: n); origStamp.initialize(repeating: 0, count: n)
        normStamp = .allocate(capacity: n); normStamp.initialize(repeating: 0, count: n)
        origValue = .allocate(capacity: n); origValue.initialize(repeating: "", count: n)
        normValue = .allocate(capacity: n); normValue.initialize(repeating: "", count: n)
        presentIds = .allocate(capacity: n)
        seen = .allocate(capacity: n); seen.initialize(repeating: 0, count: n)
    }

    deinit {
        let n = max(names.count, 1)
        slotIds.deallocate(); slotHash.deallocate(); nameStart.deallocate(); nameBytes.deallocate()
        origValue.deinitialize(count: n); normValue.deinitialize(count: n)
        origStamp.deallocate(); normStamp.deallocate(); origValue.deallocate(); normValue.deallocate()
        presentIds.deallocate(); seen.deallocate()
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
            let v = slotIds[s]
            if v == 0 { return nil }
            if slotHash[s] == h {
                let id = Int(v - 1), start = Int(nameStart[id]), len = Int(nameStart[id + 1]) - start
                if len == b.count {
                    var k = 0
                    while k < len && nameBytes[start + k] == b[k] { k += 1 }
                    if k == len { return Int32(id) }
                }
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
            origStamp[Int(id)] = stamp
            origValue[Int(id)] = v
            mark(id)
        }
        for (name, v) in e.fields {
            guard let id = id(name) else { continue }
            normStamp[Int(id)] = stamp
            normValue[Int(id)] = v
            mark(id)
        }
    }

    @inline(__always) private func mark(_ id: Int32) {
        if seen[Int(id)] != stamp { seen[Int(id)] = stamp; presentIds[presentCount] = id; presentCount += 1 }
    }

    @inline(__always) func present(_ i: Int) -> Int32 { presentIds[i] }

    @inline(__always) func has(_ id: Int32) -> Bool { origStamp[Int(id)] == stamp || normStamp[Int(id)] == stamp }

    /// The current event's value of field `id`: vendor field first, then the normalized one.
    @inline(__always) func value(_ id: Int32) -> String? {
        if origStamp[Int(id)] == stamp { return origValue[Int(id)] }
        if normStamp[Int(id)] == stamp { return normValue[Int(id)] }
        return nil
    }
}

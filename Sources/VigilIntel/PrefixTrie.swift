/// A binary trie over address bits: CIDR blocks are paths, an address lookup walks at most 32
/// (IPv4) or 128 (IPv6) nodes and sees every block containing it. Nodes live in flat arrays so
/// a million blocks do not mean a million objects.
struct PrefixTrie: Sendable {
    private var zero: [Int32] = [-1]
    private var one: [Int32] = [-1]
    /// Entry index stored at a node, -1 when no block ends there.
    private var entry: [Int32] = [-1]

    /// Stores `value` at `block`; `keep` decides between an existing entry and the new one.
    mutating func insert(_ block: CIDR, _ value: Int32, keep: (Int32, Int32) -> Int32) {
        var node = 0
        for i in 0..<block.prefix {
            let b = block.address.bit(i)
            var next = b == 0 ? zero[node] : one[node]
            if next < 0 {
                next = Int32(entry.count)
                zero.append(-1); one.append(-1); entry.append(-1)
                if b == 0 { zero[node] = next } else { one[node] = next }
            }
            node = Int(next)
        }
        entry[node] = entry[node] < 0 ? value : keep(entry[node], value)
    }

    /// Calls `visit` with every entry whose block contains `ip`, shortest prefix first.
    @inline(__always)
    func forEachContaining(_ ip: IP, _ visit: (Int32) -> Void) {
        var node = 0
        var i = 0
        let n = ip.bitCount
        while true {
            if entry[node] >= 0 { visit(entry[node]) }
            if i == n { return }
            let next = ip.bit(i) == 0 ? zero[node] : one[node]
            if next < 0 { return }
            node = Int(next)
            i += 1
        }
    }

    var isEmpty: Bool { zero.count == 1 && entry[0] < 0 }
}

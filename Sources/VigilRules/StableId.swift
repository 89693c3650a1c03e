/// Deterministic ids: FNV-1a 64 over the parts, twice with different seeds, as 32 hex digits.
/// A signal's id is made from rule id, group key and first event, so replays cannot duplicate it.
public enum StableId {
    public static func make(_ parts: String...) -> String { make(parts) }

    /// Two parts without the variadic array (a rule hit's id is rule + event, made per signal).
    public static func make(_ a: String, _ b: String) -> String {
        var h = Hash()
        h.mix(a); h.mix(b)
        return h.digits
    }

    public static func make(_ parts: [String]) -> String {
        var h = Hash()
        for p in parts { h.mix(p) }
        return h.digits
    }

    /// Both hashes in one pass over the bytes, and the 32 digits written in place: this runs
    /// for every signal (formatting with String(radix:) and padding cost more than hashing).
    private struct Hash {
        var a: UInt64 = 14_695_981_039_346_656_037, b: UInt64 = 0x9E37_79B9_7F4A_7C15

        mutating func mix(_ p: String) {
            func bytes(_ bytes: UnsafeBufferPointer<UInt8>) {
                for c in bytes { a = (a ^ UInt64(c)) &* 1_099_511_628_211; b = (b ^ UInt64(c)) &* 1_099_511_628_211 }
            }
            if p.utf8.withContiguousStorageIfAvailable(bytes) == nil { Array(p.utf8).withUnsafeBufferPointer(bytes) }
            a = (a ^ 0x1f) &* 1_099_511_628_211; b = (b ^ 0x1f) &* 1_099_511_628_211
        }

        var digits: String {
            String(unsafeUninitializedCapacity: 32) { buf in
                let digits: StaticString = "0123456789abcdef"
                let d = digits.utf8Start
                for i in 0..<16 {
                    buf[15 - i] = d[Int((a >> (UInt64(i) * 4)) & 0xF)]
                    buf[31 - i] = d[Int((b >> (UInt64(i) * 4)) & 0xF)]
                }
                return 32
            }
        }
    }
}

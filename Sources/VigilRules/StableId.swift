/// Deterministic ids: FNV-1a 64 over the parts, twice with different seeds, as 32 hex digits.
/// A signal's id is made from rule id, group key and first event, so replays cannot duplicate it.
public enum StableId {
    public static func make(_ parts: String...) -> String { make(parts) }

    public static func make(_ parts: [String]) -> String {
        func fnv(_ seed: UInt64) -> UInt64 {
            var h = seed
            for p in parts { for b in p.utf8 { h ^= UInt64(b); h = h &* 1_099_511_628_211 }; h ^= 0x1f; h = h &* 1_099_511_628_211 }
            return h
        }
        let a = String(fnv(14_695_981_039_346_656_037), radix: 16), b = String(fnv(0x9E37_79B9_7F4A_7C15), radix: 16)
        return String(repeating: "0", count: 16 - a.count) + a + String(repeating: "0", count: 16 - b.count) + b
    }
}

/// Stable partitioning: FNV-1a (32 bit) of the entity key modulo the partition count. Stable
/// across processes, versions and platforms, so every instance agrees on who owns a key.
public enum Partitioner {
    public static func partition(of key: String, count: Int) -> UInt32 {
        var h: UInt32 = 2_166_136_261
        for b in key.utf8 {
            h ^= UInt32(b)
            h = h &* 16_777_619
        }
        return h % UInt32(max(1, count))
    }
}

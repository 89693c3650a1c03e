/// Lower-casing and searching on UTF-8 bytes for the per-event path: names in logs are almost
/// always ASCII, and `String.lowercased()` / Character searches cost grapheme breaking and an
/// allocation each time.
public enum ASCII {
    /// `s` lower-cased; the same string (no copy) when it has no upper-case letter.
    @inline(__always)
    public static func lowered(_ s: String) -> String {
        var upper = false
        for c in s.utf8 {
            if c >= 0x80 { return s.lowercased() }
            if c >= 65 && c <= 90 { upper = true }
        }
        if !upper { return s }
        return String(decoding: s.utf8.map { $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    /// Index of the first `byte` in `s` (an ASCII byte is always a character boundary).
    @inline(__always)
    public static func firstIndex(of byte: UInt8, in s: Substring) -> String.Index? {
        s.utf8.firstIndex(of: byte)
    }
}

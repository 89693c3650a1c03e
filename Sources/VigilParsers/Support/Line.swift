/// UTF-8 byte view of one input line. Parsers index bytes instead of Characters:
/// it is much faster and every index operation here is bounds-checked, so no input
/// can trap.
struct Line: Sendable {
    let b: [UInt8]

    init(_ s: String) { b = Array(s.utf8) }
    init(bytes: [UInt8]) { b = bytes }

    var count: Int { b.count }

    @inline(__always) func at(_ i: Int) -> UInt8? { i >= 0 && i < b.count ? b[i] : nil }

    /// Decodes a byte range; invalid UTF-8 is repaired (U+FFFD), never rejected.
    func str(_ r: Range<Int>) -> String {
        let lo = max(0, min(r.lowerBound, b.count)), hi = max(lo, min(r.upperBound, b.count))
        return String(decoding: b[lo..<hi], as: UTF8.self)
    }

    func str(from i: Int) -> String { str(i..<b.count) }

    func hasPrefix(_ p: [UInt8], at i: Int) -> Bool {
        guard i >= 0, i + p.count <= b.count else { return false }
        var k = 0
        while k < p.count { if b[i + k] != p[k] { return false }; k += 1 }
        return true
    }

    func find(_ c: UInt8, from: Int, to: Int? = nil) -> Int? {
        var i = max(0, from)
        let end = min(to ?? b.count, b.count)
        while i < end { if b[i] == c { return i }; i += 1 }
        return nil
    }

    func find(_ needle: [UInt8], from: Int, to: Int? = nil) -> Int? {
        guard let first = needle.first else { return nil }
        let end = min(to ?? b.count, b.count) - needle.count
        var i = max(0, from)
        while i <= end {
            if b[i] == first && hasPrefix(needle, at: i) { return i }
            i += 1
        }
        return nil
    }

    func skipSpaces(_ i: Int) -> Int {
        var j = i
        while j < b.count && (b[j] == 0x20 || b[j] == 0x09) { j += 1 }
        return j
    }

    /// Printable description of the byte at `i` for failure messages.
    func describe(_ i: Int) -> String {
        guard let c = at(i) else { return "end of line" }
        if c >= 0x21 && c < 0x7F { return "'\(Character(Unicode.Scalar(c)))'" }
        return c == 0x20 ? "space" : "byte 0x" + String(c, radix: 16)
    }
}

@inline(__always) func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
@inline(__always) func isAlpha(_ c: UInt8) -> Bool { (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A }

extension Array where Element == UInt8 {
    init(ascii s: StaticString) {
        self = Array(UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }
}

/// Parses an unsigned decimal of at most 18 digits (so it cannot overflow Int64).
func parseDecimal(_ b: [UInt8], _ r: Range<Int>) -> Int? {
    guard !r.isEmpty, r.count <= 18, r.lowerBound >= 0, r.upperBound <= b.count else { return nil }
    var v = 0
    for i in r {
        guard isDigit(b[i]) else { return nil }
        v = v * 10 + Int(b[i] - 0x30)
    }
    return v
}

extension String {
    /// Decimal value of an all-digit string (≤ 18 digits), else nil.
    var decimalValue: Int? {
        // Straight over the UTF-8 view: no temporary array per number.
        var v = 0, k = 0
        for c in utf8 {
            guard isDigit(c), k < 18 else { return nil }
            v = v * 10 + Int(c - 0x30); k += 1
        }
        return k == 0 ? nil : v
    }
}

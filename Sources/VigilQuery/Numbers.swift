/// A number as SQLite holds it. Integers stay exact; comparisons between an
/// integer and a real follow SQLite (exact, not via Double rounding).
public enum QNumber: Sendable, Hashable {
    case integer(Int64)
    case real(Double)

    var sqlValue: SQLValue {
        switch self {
        case .integer(let i): return .integer(i)
        case .real(let d): return .real(d)
        }
    }

    /// -1, 0 or 1.
    static func compare(_ a: QNumber, _ b: QNumber) -> Int {
        switch (a, b) {
        case (.integer(let x), .integer(let y)): return x < y ? -1 : (x > y ? 1 : 0)
        case (.real(let x), .real(let y)): return x < y ? -1 : (x > y ? 1 : 0)
        case (.integer(let x), .real(let y)): return compareIntReal(x, y)
        case (.real(let x), .integer(let y)): return -compareIntReal(y, x)
        }
    }

    private static func compareIntReal(_ i: Int64, _ d: Double) -> Int {
        if d < -9223372036854775808.0 { return 1 }
        if d >= 9223372036854775808.0 { return -1 }
        let floor = d.rounded(.down)
        let t = Int64(floor)
        if i < t { return -1 }
        if i > t { return 1 }
        return floor == d ? 0 : -1
    }

    /// Parses a decimal number: optional sign, digits, optional fraction and exponent,
    /// surrounding ASCII spaces allowed. Integral text that fits Int64 stays an integer.
    public static func parse(_ text: String) -> QNumber? {
        var bytes = Array(text.utf8)
        while let last = bytes.last, last == 0x20 { bytes.removeLast() }
        var start = 0
        while start < bytes.count, bytes[start] == 0x20 { start += 1 }
        guard start < bytes.count, bytes.count - start <= 400 else { return nil }
        let body = bytes[start...]
        var i = body.startIndex
        if body[i] == UInt8(ascii: "-") || body[i] == UInt8(ascii: "+") { i += 1 }
        var mantissaDigits = 0, integral = true
        while i < body.endIndex, isDigit(body[i]) { i += 1; mantissaDigits += 1 }
        if i < body.endIndex, body[i] == UInt8(ascii: ".") {
            integral = false
            i += 1
            while i < body.endIndex, isDigit(body[i]) { i += 1; mantissaDigits += 1 }
        }
        guard mantissaDigits > 0 else { return nil }
        if i < body.endIndex, body[i] == UInt8(ascii: "e") || body[i] == UInt8(ascii: "E") {
            integral = false
            i += 1
            if i < body.endIndex, body[i] == UInt8(ascii: "-") || body[i] == UInt8(ascii: "+") { i += 1 }
            var expDigits = 0
            while i < body.endIndex, isDigit(body[i]) { i += 1; expDigits += 1 }
            guard expDigits > 0 else { return nil }
        }
        guard i == body.endIndex else { return nil }
        let literal = String(decoding: body, as: UTF8.self)
        if integral, let value = Int64(literal) { return .integer(value) }
        guard let value = Double(literal), value.isFinite else { return nil }
        return .real(value)
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
}

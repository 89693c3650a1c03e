/// A time written in a query: an ISO 8601 instant or day, epoch milliseconds, or
/// relative to `now`. Relative values resolve at compile/evaluation time so a
/// long-lived rule condition keeps sliding.
public enum TimeValue: Sendable, Hashable {
    /// Milliseconds since the Unix epoch; `day` when written as a bare date
    /// (`2026-03-01`), which then covers that whole UTC day.
    case absolute(Int64, day: Bool)
    /// `now` plus this many milliseconds (negative for the past).
    case relative(Int64)

    public static let millisPerDay: Int64 = 86_400_000

    public func resolve(nowMillis: Int64) -> Int64 {
        switch self {
        case .absolute(let ms, _): return ms
        case .relative(let offset): return nowMillis.addingReportingOverflow(offset).overflow ? (offset < 0 ? Int64.min : Int64.max) : nowMillis + offset
        }
    }

    var isDay: Bool {
        if case .absolute(_, let day) = self { return day }
        return false
    }

    /// Parses `now`, `now-24h`, `now+1d` (units s m h d w), `2026-03-01`,
    /// `2026-03-01T10:00[:00[.123]][Z|+02:00]` (UTC when no zone) or epoch milliseconds.
    public static func parse(_ text: String) -> TimeValue? {
        let lower = text.lowercased()
        if lower.hasPrefix("now") { return parseRelative(Array(lower.utf8.dropFirst(3))) }
        let b = Array(text.utf8)
        if !b.isEmpty, b.count <= 19, b.allSatisfy(isDigit), b.count != 4 && b.count != 8 {
            return Int64(text).map { .absolute($0, day: false) }
        }
        return parseISO(b)
    }

    private static func parseRelative(_ rest: [UInt8]) -> TimeValue? {
        if rest.isEmpty { return .relative(0) }
        guard rest.count >= 3, rest[0] == UInt8(ascii: "-") || rest[0] == UInt8(ascii: "+") else { return nil }
        let digits = rest[1..<(rest.count - 1)]
        guard digits.count <= 12, digits.allSatisfy(isDigit),
              let amount = Int64(String(decoding: digits, as: UTF8.self)) else { return nil }
        let unit: Int64
        switch rest[rest.count - 1] {
        case UInt8(ascii: "s"): unit = 1_000
        case UInt8(ascii: "m"): unit = 60_000
        case UInt8(ascii: "h"): unit = 3_600_000
        case UInt8(ascii: "d"): unit = millisPerDay
        case UInt8(ascii: "w"): unit = 7 * millisPerDay
        default: return nil
        }
        let (ms, overflow) = amount.multipliedReportingOverflow(by: unit)
        guard !overflow else { return nil }
        return .relative(rest[0] == UInt8(ascii: "-") ? -ms : ms)
    }

    private static func parseISO(_ b: [UInt8]) -> TimeValue? {
        var i = 0
        func number(_ width: Int) -> Int? {
            guard i + width <= b.count else { return nil }
            var v = 0
            for k in i..<(i + width) {
                guard isDigit(b[k]) else { return nil }
                v = v * 10 + Int(b[k] - 0x30)
            }
            i += width
            return v
        }
        func expect(_ c: Character) -> Bool {
            guard i < b.count, b[i] == c.asciiValue else { return false }
            i += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
              (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year) else { return nil }
        let dayStart = Int64(daysFromCivil(year: year, month: month, day: day)) * millisPerDay
        if i == b.count { return .absolute(dayStart, day: true) }
        guard expect("T") || expect("t"), let hour = number(2), expect(":"), let minute = number(2),
              hour < 24, minute < 60 else { return nil }
        var second = 0, millis = 0
        if expect(":") {
            guard let s = number(2), s < 60 else { return nil }
            second = s
            if expect(".") || expect(",") {
                var digits = 0
                while i < b.count, isDigit(b[i]) {
                    if digits < 3 { millis = millis * 10 + Int(b[i] - 0x30) }
                    digits += 1
                    i += 1
                }
                guard digits > 0, digits <= 9 else { return nil }
                if digits < 3 { for _ in digits..<3 { millis *= 10 } }
            }
        }
        var offsetMinutes = 0
        if expect("Z") || expect("z") {
        } else if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            guard let oh = number(2), oh < 24 else { return nil }
            _ = expect(":")
            guard let om = number(2), om < 60 else { return nil }
            offsetMinutes = sign * (oh * 60 + om)
        }
        guard i == b.count else { return nil }
        let ms = dayStart + Int64(((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 + millis)
        return .absolute(ms, day: false)
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Howard Hinnant's days-from-civil: days since 1970-01-01 in the proleptic Gregorian calendar.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

/// Timestamp parsing without DateFormatter: formatters are slow, locale-dependent and
/// not total. All functions return ms since epoch (UTC) or nil; zone-less forms are
/// taken as UTC.
enum Timestamps {
    static let monthNames: [[UInt8]] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].map { Array($0.utf8) }

    /// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (m + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func epochMs(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, ms: Int = 0, offsetMinutes: Int = 0) -> Int64? {
        guard (1...9999).contains(year), (1...12).contains(month), (1...31).contains(day),
              (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second) else { return nil }
        let days = Int64(daysFromCivil(year, month, day))
        let secs = days * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetMinutes * 60)
        return secs * 1000 + Int64(ms)
    }

    static func year(ofMs ms: Int64) -> Int {
        // Inverse of daysFromCivil, only the year part is needed for RFC 3164 year inference.
        let z = Int(ms / 86_400_000) + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let m = mp < 10 ? mp + 3 : mp - 9
        return yoe + era * 400 + (m <= 2 ? 1 : 0)
    }

    @inline(__always) static func num(_ b: [UInt8], _ i: Int, _ n: Int) -> Int? {
        parseDecimal(b, i..<(i + n))
    }

    static func month(_ b: [UInt8], _ i: Int) -> Int? {
        guard i + 3 <= b.count else { return nil }
        for (k, name) in monthNames.enumerated() where b[i] == name[0] && b[i + 1] == name[1] && b[i + 2] == name[2] {
            return k + 1
        }
        return nil
    }

    /// "hh:mm:ss" at i → (h, m, s).
    static func clock(_ b: [UInt8], _ i: Int) -> (Int, Int, Int)? {
        guard i + 8 <= b.count, b[i + 2] == 0x3A, b[i + 5] == 0x3A,
              let h = num(b, i, 2), let m = num(b, i + 3, 2), let s = num(b, i + 6, 2) else { return nil }
        return (h, m, s)
    }

    /// Fraction ".ddd…" at i → (ms, end index). Returns (0, i) when absent.
    static func fraction(_ b: [UInt8], _ i: Int) -> (Int, Int) {
        guard i < b.count, b[i] == 0x2E || b[i] == 0x2C else { return (0, i) }
        var j = i + 1, ms = 0, digits = 0
        while j < b.count, isDigit(b[j]) {
            if digits < 3 { ms = ms * 10 + Int(b[j] - 0x30) }
            digits += 1; j += 1
        }
        if digits == 0 { return (0, i) }
        for _ in digits..<max(digits, 3) { ms *= 10 }
        return (ms, j)
    }

    /// Zone "Z", "+hh:mm", "+hhmm" at i → (offset minutes, end). nil offset when absent.
    static func zone(_ b: [UInt8], _ i: Int) -> (Int, Int)? {
        guard i < b.count else { return nil }
        if b[i] == 0x5A || b[i] == 0x7A { return (0, i + 1) }
        guard b[i] == 0x2B || b[i] == 0x2D, let h = num(b, i + 1, 2) else { return nil }
        let sign = b[i] == 0x2D ? -1 : 1
        if let m = num(b, i + 4, 2), b[i + 3] == 0x3A { return (sign * (h * 60 + m), i + 6) }
        if let m = num(b, i + 3, 2) { return (sign * (h * 60 + m), i + 5) }
        return nil
    }

    /// RFC 3339 / ISO 8601 "YYYY-MM-DD[T ]hh:mm:ss[.frac][zone]" at i. With `strict`,
    /// the 'T' separator and a zone are required (RFC 5424).
    static func rfc3339(_ b: [UInt8], at i: Int, strict: Bool = false) -> (Int64, Int)? {
        guard i + 19 <= b.count, b[i + 4] == 0x2D, b[i + 7] == 0x2D,
              let y = num(b, i, 4), let mo = num(b, i + 5, 2), let d = num(b, i + 8, 2) else { return nil }
        let sep = b[i + 10]
        guard sep == 0x54 || sep == 0x74 || (!strict && sep == 0x20), let (h, mi, s) = clock(b, i + 11) else { return nil }
        let (ms, afterFrac) = fraction(b, i + 19)
        var end = afterFrac, off = 0
        if let (o, e) = zone(b, afterFrac) { off = o; end = e } else if strict { return nil }
        guard let t = epochMs(year: y, month: mo, day: d, hour: h, minute: mi, second: s, ms: ms, offsetMinutes: off) else { return nil }
        return (t, end)
    }

    /// BSD syslog "Mmm dd hh:mm:ss" or "Mmm dd yyyy hh:mm:ss" at i. A missing year is
    /// inferred from `reference` (the receive time): the year that does not put the
    /// event more than a day into the future, which handles December logs read in January.
    static func bsd(_ b: [UInt8], at i: Int, reference: Int64) -> (Int64, Int)? {
        guard let mo = month(b, i), i + 6 < b.count, b[i + 3] == 0x20 else { return nil }
        var j = i + 4
        let d: Int
        if b[j] == 0x20, isDigit(b[j + 1]) { d = Int(b[j + 1] - 0x30); j += 2 }
        else if let two = num(b, j, 2) { d = two; j += 2 }
        else if isDigit(b[j]), j + 1 < b.count, b[j + 1] == 0x20 { d = Int(b[j] - 0x30); j += 1 }
        else { return nil }
        guard j < b.count, b[j] == 0x20 else { return nil }
        j += 1
        var explicitYear: Int? = nil
        if let y = num(b, j, 4), j + 4 < b.count, b[j + 4] == 0x20 { explicitYear = y; j += 5 }
        guard let (h, mi, s) = clock(b, j) else { return nil }
        j += 8
        let (ms, afterFrac) = fraction(b, j)
        j = afterFrac
        if let y = explicitYear {
            guard let t = epochMs(year: y, month: mo, day: d, hour: h, minute: mi, second: s, ms: ms) else { return nil }
            return (t, j)
        }
        // Clamp so hostile receive times cannot overflow the arithmetic below.
        let reference = min(max(reference, 0), 253_402_300_799_000)
        let refYear = year(ofMs: reference)
        guard let t = epochMs(year: refYear, month: mo, day: d, hour: h, minute: mi, second: s, ms: ms) else { return nil }
        if t > reference + 86_400_000, let prev = epochMs(year: refYear - 1, month: mo, day: d, hour: h, minute: mi, second: s, ms: ms) {
            return (prev, j)
        }
        return (t, j)
    }

    /// Integer epoch; the digit count tells the unit (10 s, 13 ms, 16 µs, 19 ns).
    static func epoch(_ s: String) -> Int64? {
        let u = Array(s.utf8)
        guard !u.isEmpty, u.count <= 19, u.allSatisfy(isDigit) else { return nil }
        var v: Int64 = 0
        for c in u {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(c - 0x30))
            if o1 || o2 { return nil }
            v = a
        }
        switch u.count {
        case ...11: return v * 1000
        case 12...14: return v
        case 15...17: return v / 1000
        default: return v / 1_000_000
        }
    }

    /// Best-effort parse for vendor time fields: epoch numbers, RFC 3339,
    /// "yyyy/MM/dd HH:mm:ss", "MMM dd yyyy HH:mm:ss[.SSS]" and "MMM dd HH:mm:ss".
    static func flexible(_ s: String, reference: Int64 = 0) -> Int64? {
        if let e = epoch(s) { return e }
        let b = Array(s.utf8)
        if let (t, _) = rfc3339(b, at: 0) { return t }
        if b.count >= 19, b[4] == 0x2F, b[7] == 0x2F, b[10] == 0x20,
           let y = num(b, 0, 4), let mo = num(b, 5, 2), let d = num(b, 8, 2), let (h, mi, sec) = clock(b, 11) {
            return epochMs(year: y, month: mo, day: d, hour: h, minute: mi, second: sec, ms: fraction(b, 19).0)
        }
        if let (t, _) = bsd(b, at: 0, reference: reference) { return t }
        return nil
    }
}

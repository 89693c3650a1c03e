/// Durations in rules: `500ms`, `30s`, `10m`, `2h`, `1d`, `1w`, or a whole number of milliseconds.
public enum Durations {
    public static func parse(_ text: String) -> Int64? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000), ("w", 604_800_000)]
        for (u, factor) in units where t.hasSuffix(u) {
            let digits = t.dropLast(u.count)
            // "ms" must win over "s"; a suffix "s" on "5ms" would leave "5m".
            if u == "s", t.hasSuffix("ms") { continue }
            guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let n = Int64(digits) else { return nil }
            let (r, overflow) = n.multipliedReportingOverflow(by: factor)
            return overflow ? nil : r
        }
        return nil
    }

    /// The shortest exact form: 600000 → "10m".
    public static func format(_ ms: Int64) -> String {
        for (u, factor) in [("w", Int64(604_800_000)), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)] where ms >= factor && ms % factor == 0 {
            return "\(ms / factor)\(u)"
        }
        return "\(ms)ms"
    }

    /// For people: 600000 → "10 minutes".
    public static func words(_ ms: Int64) -> String {
        for (u, factor) in [("week", Int64(604_800_000)), ("day", 86_400_000), ("hour", 3_600_000), ("minute", 60_000), ("second", 1000)] where ms >= factor && ms % factor == 0 {
            let n = ms / factor
            return "\(n) \(u)\(n == 1 ? "" : "s")"
        }
        return "\(ms) milliseconds"
    }
}

import Foundation

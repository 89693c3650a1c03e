import Foundation
/// Fast JSON text for flat string maps (event fields are stored as JSON objects so SQLite's
/// JSON1 functions can search them). Keys are sorted for stable output.
public enum JSONText {
    public static func object(_ map: [String: String]) -> String {
        var s = "{"
        var first = true
        for k in map.keys.sorted() {
            if !first { s += "," }
            first = false
            append(k, to: &s)
            s += ":"
            append(map[k]!, to: &s)
        }
        return s + "}"
    }

    public static func string(_ v: String) -> String {
        var s = ""
        append(v, to: &s)
        return s
    }

    /// Appends `v` as a quoted JSON string (escapes quotes, backslashes and control characters).
    public static func append(_ v: String, to s: inout String) {
        s += "\""
        for u in v.unicodeScalars {
            switch u {
            case "\"": s += "\\\""
            case "\\": s += "\\\\"
            case "\n": s += "\\n"
            case "\r": s += "\\r"
            case "\t": s += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    s += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    s.unicodeScalars.append(u)
                }
            }
        }
        s += "\""
    }
}

extension JSONText {
    /// Reads back a flat object written by `object(_:)` (non-string values become their JSON text).
    public static func parseObject(_ text: String) -> [String: String] {
        guard let data = text.data(using: .utf8),
              let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return [:] }
        var out: [String: String] = [:]
        for (k, v) in obj { out[k] = v as? String ?? "\(v)" }
        return out
    }
}

/// Accumulates a record. `put` drops empty and placeholder values ("-", "N/A"-like
/// placeholders are vendor specific, "-" is universal) so consumers can test presence
/// instead of emptiness.
struct RecordBuilder {
    var format: String
    var fields: [String: String] = [:]
    var vendor: [String: String] = [:]
    var timestamp: Int64?

    init(format: String) {
        self.format = format
        fields.reserveCapacity(24)  // avoids rehashing while a record is filled
    }

    mutating func put(_ key: String, _ value: String?) {
        guard let v = value, !v.isEmpty, !Self.isDash(v) else { return }
        fields[key] = v
    }

    /// `v == "-"` without the generic string comparison (a measurable share of every put).
    @inline(__always) static func isDash(_ v: String) -> Bool {
        let u = v.utf8
        return u.count == 1 && u.first == 0x2D
    }

    /// Sets only when absent, so specific mappings win over generic ones.
    mutating func putIfAbsent(_ key: String, _ value: String?) {
        if fields[key] == nil { put(key, value) }
    }

    /// IP-valued field: only set when the text looks like an address, so hostnames or
    /// placeholders never land in an IP-typed column downstream.
    mutating func putIP(_ key: String, _ value: String?) {
        if let v = value, Net.looksLikeIP(v) { fields[key] = v }
    }

    /// Port/number field: only set when it is a plain decimal.
    mutating func putNumber(_ key: String, _ value: String?) {
        if let v = value, let n = v.decimalValue { fields[key] = String(n) }
    }

    var record: ParsedRecord { ParsedRecord(format: format, fields: fields, vendor: vendor, timestamp: timestamp) }
}

enum Net {
    /// Cheap syntactic check (IPv4 dotted quad or IPv6 hex/colon form), not full validation.
    static func looksLikeIP(_ s: String) -> Bool {
        // Over the contiguous UTF-8 buffer when there is one (native strings): the generic
        // UTF8View walk cost about a thousand instructions per address.
        if let r = s.utf8.withContiguousStorageIfAvailable({ looksLikeIP(bytes: $0) }) { return r }
        return looksLikeIP(bytes: Array(s.utf8))
    }

    static func looksLikeIP<C: Collection>(bytes u: C) -> Bool where C.Element == UInt8 {
        guard u.count >= 2, u.count <= 45 else { return false }
        if u.contains(0x3A) {
            return u.allSatisfy { isDigit($0) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x66) || $0 == 0x3A || $0 == 0x2E || $0 == 0x25 }
        }
        var parts = 0, digits = 0, value = 0
        for c in u {
            if c == 0x2E {
                guard digits > 0 else { return false }
                parts += 1; digits = 0; value = 0
            } else if isDigit(c) {
                digits += 1; value = value * 10 + Int(c - 0x30)
                guard digits <= 3, value <= 255 else { return false }
            } else { return false }
        }
        return parts == 3 && digits > 0
    }

    /// IANA protocol number → ECS network.transport.
    static func transport(ianaNumber n: String) -> String? {
        switch n {
        case "1": return "icmp"
        case "2": return "igmp"
        case "6": return "tcp"
        case "17": return "udp"
        case "47": return "gre"
        case "50": return "esp"
        case "51": return "ah"
        case "58": return "ipv6-icmp"
        case "132": return "sctp"
        default: return nil
        }
    }
}

enum Text {
    /// "DOMAIN\user" or "user@domain" → (domain, user).
    static func splitUser(_ s: String) -> (domain: String?, name: String) {
        if let i = s.lastIndex(of: "\\") {
            return (String(s[..<i]), String(s[s.index(after: i)...]))
        }
        return (nil, s)
    }

    /// Last path component for both Windows and POSIX paths.
    static func basename(_ s: String) -> String {
        if let i = s.lastIndex(where: { $0 == "\\" || $0 == "/" }) { return String(s[s.index(after: i)...]) }
        return s
    }

    /// Maps vendor verdict words onto ECS event.outcome.
    static func outcome(_ s: String) -> String? {
        switch s.lowercased() {
        case "success", "succeeded", "successful", "allow", "allowed", "accept", "accepted", "permit", "permitted", "pass", "passed", "ok", "true":
            return "success"
        case "failure", "failed", "fail", "deny", "denied", "drop", "dropped", "block", "blocked", "reject", "rejected", "reset", "reset-both", "reset-client", "reset-server", "false":
            return "failure"
        default: return nil
        }
    }

    /// Executable of a command line: quoted first token or text up to the first space.
    static func executable(ofCommand cmd: String) -> String {
        let t = cmd.drop(while: { $0 == " " })
        if t.first == "\"", let end = t.dropFirst().firstIndex(of: "\"") {
            return String(t[t.index(after: t.startIndex)..<end])
        }
        return String(t.prefix(while: { $0 != " " }))
    }
}

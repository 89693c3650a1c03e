import VigilQuery

/// Random, mostly valid QQL over the events catalog, built to hit the edges
/// where SQL and in-memory evaluation could disagree.
struct QueryGenerator {
    var rng: SeededRandom

    mutating func query(depth: Int = 0) -> String {
        let roll = Int.random(in: 0..<10, using: &rng)
        if depth < 3, roll < 2 {
            return "(\(query(depth: depth + 1)) \(rng.pick(["and", "or", "AND", "Or", ""])) \(query(depth: depth + 1)))"
        }
        if depth < 3, roll == 2 { return "\(rng.pick(["not", "NOT"])) \(query(depth: depth + 1))" }
        if depth < 3, roll == 3 { return "\(query(depth: depth + 1)) \(rng.pick(["and", "or"])) \(query(depth: depth + 1))" }
        return clause()
    }

    private mutating func fragment(_ pool: [String]) -> String {
        let s = Array(rng.pick(pool))
        guard s.count > 1, rng.chance(0.5) else { return String(s) }
        let a = Int.random(in: 0..<s.count, using: &rng)
        let b = Int.random(in: (a + 1)...s.count, using: &rng)
        return String(s[a..<b])
    }

    private mutating func textValue(_ pool: [String]) -> String {
        var word = fragment(pool)
        switch Int.random(in: 0..<8, using: &rng) {
        case 0: return "\"" + word.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case 1: return "`" + rng.pick(pool).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "`", with: "\\`") + "`"
        case 2: word = rng.pick(["*", ""]) + word + rng.pick(["*", "", "?"])
        case 3: word = String(word.prefix(2)) + "?" + String(word.dropFirst(3))
        default: break
        }
        // Bare words cannot hold delimiters; quote those.
        if word.isEmpty || word.contains(where: { " ()[],\"`".contains($0) }) || word.hasPrefix("@") {
            return "\"" + word.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return word
    }

    private mutating func clause() -> String {
        switch Int.random(in: 0..<14, using: &rng) {
        case 0: return "user.name\(rng.pick([":", ": ", " = "]))\(textValue(Pools.users))"
        case 1: return "host.name: \(textValue(Pools.hosts))"
        case 2: return "event.category: \(listOr(Pools.categories + ["NETWORK"]))"
        case 3: return "event.outcome\(rng.pick([":", " ="])) \(textValue(Pools.outcomes))"
        case 4: return "process.command_line: \(textValue(Pools.commands))"
        case 5: return numberClause("destination.port", ["22", "80", "443", "1000", "1e3", "-5", "3.5", "65535", "0", "1024.0"])
        case 6: return numberClause("event.severity", ["1", "5", "7.5", "10", "0"])
        case 7: return timeClause()
        case 8: return ipClause(rng.pick(["source.ip", "destination.ip"]))
        case 9: return "threat.matched: \(rng.pick(["true", "false", "yes", "0", "1", "FALSE"]))"
        case 10: return textValue(Pools.words + Pools.users + ["fields", "source", "\\/"])
        case 11: return "user.name: @\(rng.pick(["admins", "empty"]))"
        case 12: return "source.ip: @\(rng.pick(["bad_ips", "empty"]))"
        default: return "source.geo.country_code: \(listOr(Pools.countries + ["us", "RU"]))"
        }
    }

    private mutating func listOr(_ pool: [String]) -> String {
        if rng.chance(0.5) { return textValue(pool) }
        let n = Int.random(in: 1...3, using: &rng)
        return "[" + (0..<n).map { _ in rng.pick(pool) }.joined(separator: ", ") + "]"
    }

    private mutating func numberClause(_ token: String, _ pool: [String]) -> String {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: return "\(token) \(rng.pick([">", "<", ">=", "<=", "="])) \(rng.pick(pool))"
        case 1: return "\(token): [\(rng.pick(pool)) .. \(rng.pick(pool))]"
        case 2: return "\(token): (\(rng.pick(pool))..\(rng.pick(pool)))"
        default: return "\(token): [\(rng.pick(pool)), \(rng.pick(pool))]"
        }
    }

    private mutating func timeClause() -> String {
        let token = rng.pick(["@timestamp", "event.time"])
        let times = ["2026-03-01", "2026-03-02", "2026-03-04", "2026-03-02T00:00:00Z", "2026-03-03T12:30:00+02:00",
                     "now-24h", "now-3d", "now-90m", "now", "now-1w", "2026-03-02T06:00"]
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: return "\(token) \(rng.pick([">", "<", ">=", "<=", "="])) \(rng.pick(times))"
        case 1: return "\(token): [\(rng.pick(times)) .. \(rng.pick(times))]"
        default: return "\(token): (\(rng.pick(times)) .. \(rng.pick(times)))"
        }
    }

    private mutating func ipClause(_ token: String) -> String {
        let ips = ["10.0.0.1", "10.0.0.255", "192.168.1.10", "::1", "2001:db8::5", "8.8.8.8", "::ffff:10.0.0.7"]
        let cidrs = ["10.0.0.0/8", "10.0.0.0/24", "192.168.0.0/16", "2001:db8::/32", "0.0.0.0/0", "::/0", "10.0.0.7/32", "::ffff:0:0/96"]
        switch Int.random(in: 0..<5, using: &rng) {
        case 0: return "\(token): \(rng.pick(ips))"
        case 1: return "\(token): \(rng.pick(cidrs))"
        case 2: return "\(token): [\(rng.pick(ips)) .. \(rng.pick(ips))]"
        case 3: return "\(token) \(rng.pick([">", "<", ">=", "<="])) \(rng.pick(ips))"
        default: return "\(token): \(rng.pick(["10.*", "*.1", "192.168.?.10", "*:*"]))"
        }
    }
}

let testSpecialObjects = StaticSpecialObjects([
    "admins": ["admin", "ADMINISTRATOR", "root"],
    "bad_ips": ["10.0.0.0/24", "8.8.8.8", "2001:db8::/32"],
    "empty": [],
])

import Foundation
import VigilQuery

/// Deterministic RNG (SplitMix64) so failures reproduce.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &self)] }
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self) < p }
}

/// 2026-03-01T00:00:00Z
let baseMillis: Int64 = 1_772_323_200_000
let testNow: Int64 = baseMillis + 5 * 86_400_000

/// One stored event: what goes into SQLite and the matching in-memory record.
struct EventFixture {
    var id: String
    var time: Int64?
    var raw: String
    var fields: [String: String]
    var enriched: [String: String]

    var fieldsJSON: String { json(fields) }
    var enrichedJSON: String { json(enriched) }

    private func json(_ object: [String: String]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    var record: RowRecord {
        var columns: [String: SQLValue] = ["id": .text(id), "raw": .text(raw), "fields": .text(fieldsJSON), "enriched": .text(enrichedJSON)]
        if let time { columns["time"] = .integer(time) }
        return RowRecord(columns: columns, json: ["fields": fields.mapValues { .text($0) }, "enriched": enriched.mapValues { .text($0) }])
    }
}

enum EventStore {
    static let schema = "CREATE TABLE events(id TEXT, time INTEGER, raw TEXT, fields TEXT, enriched TEXT)"

    static func insert(_ events: [EventFixture], into db: SQLiteTestDB) throws {
        try db.exec("BEGIN")
        for e in events {
            try db.run("INSERT INTO events(id, time, raw, fields, enriched) VALUES (?, ?, ?, ?, ?)",
                       [.text(e.id), e.time.map { .integer($0) }, .text(e.raw), .text(e.fieldsJSON), .text(e.enrichedJSON)])
        }
        try db.exec("COMMIT")
    }
}

enum Pools {
    static let ips = ["10.0.0.1", "10.0.0.255", "10.1.2.3", "192.168.1.10", "192.168.200.7", "::1", "2001:db8::5",
                      "2001:db8:0:0:0:0:0:5", "::ffff:10.0.0.7", "not-an-ip", "8.8.8.8", "fe80::1"]
    static let ports = ["22", "80", "443", "8080", "1024", "abc", "-5", "1e3", "3.5", " 80", "65535", "0"]
    static let users = ["admin", "Administrator", "alice", "Bob", "ÉMILE", "émile", "svc_backup", "a%b", "x_y", "back\\slash", "ADMIN-2"]
    static let hosts = ["web-01", "web-02", "WEB-03.corp", "dc01.corp.local", "db_1", "weird*name", "web"]
    static let categories = ["authentication", "network", "process", "Network", "file"]
    static let outcomes = ["success", "failure", "unknown", "SUCCESS"]
    static let commands = ["powershell -enc JAB", "cmd.exe /c whoami", "bash -c 'curl x'", "POWERSHELL.EXE -nop", "\"quoted\" arg"]
    static let words = ["login", "failed", "Accepted", "password", "for", "root", "from", "port", "ssh2", "denied", "é", "50%"]
    static let bools = ["true", "false", "1", "0", "yes", "TRUE"]
    static let countries = ["US", "de", "FR", "ru"]
    static let severities = ["1", "5", "10", "7.5", "high"]
}

func randomEvent(_ rng: inout SeededRandom, index: Int) -> EventFixture {
    var fields: [String: String] = [:]
    func maybe(_ key: String, _ pool: [String]) {
        if rng.chance(0.75) { fields[key] = rng.pick(pool) }
    }
    maybe("source.ip", Pools.ips)
    maybe("destination.ip", Pools.ips)
    maybe("destination.port", Pools.ports)
    maybe("source.port", Pools.ports)
    maybe("user.name", Pools.users)
    maybe("host.name", Pools.hosts)
    maybe("event.category", Pools.categories)
    maybe("event.outcome", Pools.outcomes)
    maybe("process.command_line", Pools.commands)
    maybe("event.severity", Pools.severities)
    if rng.chance(0.7) {
        fields["message"] = (0..<Int.random(in: 1...5, using: &rng)).map { _ in rng.pick(Pools.words) }.joined(separator: " ")
    }
    var enriched: [String: String] = [:]
    if rng.chance(0.6) { enriched["threat.matched"] = rng.pick(Pools.bools) }
    if rng.chance(0.6) { enriched["source.geo.country_code"] = rng.pick(Pools.countries) }
    let dayOffsets: [Int64] = [0, 1, 2, 3, 4, 5]
    var time: Int64? = baseMillis + rng.pick(dayOffsets) * 86_400_000 + Int64.random(in: 0..<86_400_000, using: &rng)
    if rng.chance(0.05) { time = baseMillis + 86_400_000 }   // exactly a day boundary
    if rng.chance(0.05) { time = nil }
    let raw = (0..<Int.random(in: 2...8, using: &rng)).map { _ in rng.pick(Pools.words + Pools.users + Pools.hosts) }.joined(separator: " ")
    return EventFixture(id: "e\(index)", time: time, raw: raw, fields: fields, enriched: enriched)
}

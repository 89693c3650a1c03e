import Foundation
import VigilIntel
import VigilStore
import VigilWire

/// One version of an asset: what its row said from `fromMs` until `toMs` (0: still current).
public struct AssetVersion: Sendable {
    public var asset: AssetRecord
    public var fromMs: Int64
    public var toMs: Int64

    public init(_ asset: AssetRecord, fromMs: Int64 = 0, toMs: Int64 = 0) {
        self.asset = asset
        self.fromMs = fromMs
        self.toMs = toMs
    }

    func valid(at t: Int64?) -> Bool {
        guard let t else { return toMs == 0 }
        return fromMs <= t && (toMs == 0 || t < toMs)
    }
}

/// The asset inventory with its history: every version of every asset (table `asset_versions`),
/// indexed in memory by host name, IP, MAC and agent id, so an event resolves — with a few hash
/// lookups — to the asset its host name or address pointed to at the event's time.
public struct AssetIndex: Sendable {
    public private(set) var versions: [AssetVersion] = []
    private var byHost: [String: [Int]] = [:]
    private var byShortHost: [String: [Int]] = [:]
    private var byIP: [IP: [Int]] = [:]
    private var byMAC: [String: [Int]] = [:]
    private var byAgent: [String: [Int]] = [:]

    /// Current assets only (each valid forever).
    public init(_ list: [AssetRecord] = []) { for a in list { add(AssetVersion(a)) } }
    public init(versions: [AssetVersion]) { for v in versions { add(v) } }

    /// Assets with a current version.
    public var count: Int { versions.lazy.filter { $0.toMs == 0 }.count }

    public mutating func add(_ v: AssetVersion) {
        let i = versions.count
        versions.append(v)
        let a = v.asset
        if !a.hostname.isEmpty {
            let h = a.hostname.lowercased()
            byHost[h, default: []].append(i)
            if let dot = h.firstIndex(of: ".") { byShortHost[String(h[..<dot]), default: []].append(i) } else { byShortHost[h, default: []].append(i) }
        }
        if let ip = IP.parse(a.ip) { byIP[ip, default: []].append(i) }
        if !a.mac.isEmpty { byMAC[Self.mac(a.mac), default: []].append(i) }
        if !a.agentId.isEmpty { byAgent[a.agentId, default: []].append(i) }
    }

    static func mac(_ s: String) -> String { s.lowercased().replacingOccurrences(of: "-", with: ":") }

    /// Of the versions a key points to: the one valid at `t` (the latest-starting one when two
    /// assets claimed the key at once); for an event older than every version the key has, the
    /// earliest one (the asset as first recorded). nil when the key had moved away by then.
    private func pick(_ candidates: [Int]?, _ t: Int64?) -> AssetRecord? {
        guard let candidates else { return nil }
        var best: AssetVersion?
        for i in candidates where versions[i].valid(at: t) {
            if best == nil || versions[i].fromMs >= best!.fromMs { best = versions[i] }
        }
        if let best { return best.asset }
        // Only when the key's recorded history starts after the event: a key that had moved away
        // by then resolves to nothing.
        guard let t, !candidates.contains(where: { versions[$0].fromMs <= t }) else { return nil }
        return candidates.min { versions[$0].fromMs < versions[$1].fromMs }.map { versions[$0].asset }
    }

    /// The event's asset and the field that found it: its host name (full, then the first
    /// label), agent id, host MAC, host IP, then destination IP — as they resolved at `timeMs`
    /// (the event's time; nil: now).
    public func resolve(_ f: [String: String], at timeMs: Int64? = nil) -> (AssetRecord, String)? {
        if versions.isEmpty { return nil }
        if let h = f["host.name"], !h.isEmpty {
            let l = ASCII.lowered(h)
            if let a = pick(byHost[l], timeMs) ?? pick(byShortHost[l], timeMs) { return (a, "host.name") }
            if let dot = l.utf8.firstIndex(of: UInt8(ascii: ".")), let a = pick(byShortHost[String(l[..<dot])], timeMs) { return (a, "host.name") }
        }
        if let id = f["agent.id"], let a = pick(byAgent[id], timeMs) { return (a, "agent.id") }
        if let m = f["host.mac"], let a = pick(byMAC[Self.mac(m)], timeMs) { return (a, "host.mac") }
        for field in ["host.ip", "destination.ip"] {
            if let s = f[field], let ip = IP.parse(s), let a = pick(byIP[ip], timeMs) { return (a, field) }
        }
        return nil
    }
}

/// Asset import (CSV or JSON) and storage.
enum AssetStore {
    /// The original five columns, in order, for CSV files without a header row; the optional
    /// columns may follow.
    static let positional = ["id", "name", "hostname", "ip", "criticality", "mac", "agent_id", "tags", "os", "owner"]
    static let aliases: [String: String] = [
        "id": "id", "assetid": "id", "name": "name", "assetname": "name", "hostname": "hostname", "host": "hostname",
        "hostnames": "hostname", "fqdn": "hostname", "ip": "ip", "ipaddress": "ip", "address": "ip", "criticality": "criticality",
        "mac": "mac", "macaddress": "mac", "agentid": "agent_id", "agent": "agent_id", "tags": "tags", "os": "os",
        "operatingsystem": "os", "owner": "owner",
    ]
    static let criticalities: Set<String> = ["low", "medium", "high", "critical"]

    /// Validates one row; the message says which value is wrong and what was expected.
    static func asset(_ r: ImportRow, nowMs: Int64) -> Result<AssetRecord, ImportProblem> {
        var a = AssetRecord()
        a.id = r.first("id")
        guard !a.id.isEmpty else { return .failure(ImportProblem(origin: r.origin, message: "missing id")) }
        a.hostname = r.first("hostname")
        a.name = r.first("name").isEmpty ? a.hostname : r.first("name")
        a.ip = r.first("ip")
        if !a.ip.isEmpty {
            guard let ip = IP.parse(a.ip) else { return .failure(ImportProblem(origin: r.origin, message: "ip '\(a.ip)' is not an IPv4 or IPv6 address")) }
            a.ip = ip.text
        }
        a.criticality = r.first("criticality").lowercased()
        if a.criticality.isEmpty { a.criticality = "medium" }
        guard criticalities.contains(a.criticality) else {
            return .failure(ImportProblem(origin: r.origin, message: "criticality '\(r.first("criticality"))'; expected low, medium, high or critical"))
        }
        a.mac = AssetIndex.mac(r.first("mac"))
        a.agentId = r.first("agent_id")
        a.tags = r.values["tags"] ?? []
        a.os = r.first("os")
        a.owner = r.first("owner")
        a.updatedTimeMs = nowMs
        return .success(a)
    }

    static let columns = "id, name, hostname, ip, criticality, mac, agent_id, tags, os, owner, updated_ms"

    static let versionColumns = "name, hostname, ip, criticality, mac, agent_id, tags, os, owner"

    /// The values a version is made of (everything but the id and the update time).
    static func versionValues(_ a: AssetRecord) -> [SQLValue] {
        [.text(a.name), .text(a.hostname), .text(a.ip), .text(a.criticality), .text(a.mac), .text(a.agentId),
         .text(a.tags.joined(separator: ";")), .text(a.os), .text(a.owner)]
    }

    /// Stores the asset and its history: when an import or the agent's inventory changes what the
    /// asset says, the current version ends at `updatedTimeMs` and a new one starts there. A
    /// repeat of the same values only touches `updated_ms`. An asset's first version starts at
    /// its first import.
    static func save(_ a: AssetRecord, _ db: Database) throws {
        let now = a.updatedTimeMs
        let values = versionValues(a)
        let current = try db.query("SELECT valid_from_ms, \(versionColumns) FROM asset_versions WHERE asset_id = ? AND valid_to_ms = 0",
                                   [.text(a.id)]).first
        if let current {
            let same = (0..<values.count).allSatisfy { current.string($0 + 1) == values[$0].string }
            if !same {
                if current.int(0) >= now {
                    // Changed twice within the same millisecond: the newer values replace that version.
                    _ = try db.run("DELETE FROM asset_versions WHERE asset_id = ? AND valid_from_ms = ?", [.text(a.id), .integer(current.int(0))])
                } else {
                    _ = try db.run("UPDATE asset_versions SET valid_to_ms = ? WHERE asset_id = ? AND valid_to_ms = 0", [.integer(now), .text(a.id)])
                }
            }
            if !same { try insertVersion(a.id, from: max(now, current.int(0)), values, db) }
        } else {
            try insertVersion(a.id, from: now, values, db)
        }
        try db.run("INSERT OR REPLACE INTO assets(\(columns)) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                   [.text(a.id), .text(a.name), .text(a.hostname), .text(a.ip), .text(a.criticality), .text(a.mac),
                    .text(a.agentId), .text(a.tags.joined(separator: ";")), .text(a.os), .text(a.owner), .integer(a.updatedTimeMs)])
    }

    static func insertVersion(_ id: String, from: Int64, _ values: [SQLValue], _ db: Database) throws {
        _ = try db.run("INSERT INTO asset_versions(asset_id, valid_from_ms, valid_to_ms, \(versionColumns)) VALUES(?,?,0,?,?,?,?,?,?,?,?,?)",
                       [.text(id), .integer(from)] + values)
    }

    /// Every version of every asset, oldest first per asset.
    static func loadVersions(_ db: Database) throws -> [AssetVersion] {
        try db.query("SELECT asset_id, \(versionColumns), valid_from_ms, valid_to_ms FROM asset_versions ORDER BY asset_id, valid_from_ms").map { r in
            var a = AssetRecord()
            a.id = r.string(0); a.name = r.string(1); a.hostname = r.string(2); a.ip = r.string(3); a.criticality = r.string(4)
            a.mac = r.string(5); a.agentId = r.string(6); a.tags = ImportRecords.split(r.string(7)); a.os = r.string(8)
            a.owner = r.string(9); a.updatedTimeMs = r.int(10)
            return AssetVersion(a, fromMs: r.int(10), toMs: r.int(11))
        }
    }

    static let historyMigration = Migration(5, "asset history (versions valid from/to)", """
        CREATE TABLE asset_versions(asset_id TEXT NOT NULL, valid_from_ms INTEGER NOT NULL, valid_to_ms INTEGER NOT NULL,
            name TEXT NOT NULL, hostname TEXT NOT NULL, ip TEXT NOT NULL, criticality TEXT NOT NULL, mac TEXT NOT NULL,
            agent_id TEXT NOT NULL, tags TEXT NOT NULL, os TEXT NOT NULL, owner TEXT NOT NULL,
            PRIMARY KEY(asset_id, valid_from_ms)) WITHOUT ROWID;
        -- Assets stored before history existed: one version, valid since ever.
        INSERT INTO asset_versions SELECT id, 0, 0, name, hostname, ip, criticality, mac, agent_id, tags, os, owner FROM assets;
        """)

    static func record(_ r: Row) -> AssetRecord {
        var a = AssetRecord()
        a.id = r.string(0); a.name = r.string(1); a.hostname = r.string(2); a.ip = r.string(3); a.criticality = r.string(4)
        a.mac = r.string(5); a.agentId = r.string(6); a.tags = ImportRecords.split(r.string(7)); a.os = r.string(8)
        a.owner = r.string(9); a.updatedTimeMs = r.int(10)
        return a
    }

    static func loadAll(_ db: Database) throws -> [AssetRecord] {
        try db.query("SELECT \(columns) FROM assets ORDER BY id").map(record)
    }
}

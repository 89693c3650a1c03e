import Foundation
import VigilIntel
import VigilStore
import VigilWire

/// The asset inventory: rows of the `assets` table, indexed in memory by host name, IP, MAC
/// and agent id so an event resolves to its asset with a few hash lookups.
public struct AssetIndex: Sendable {
    public private(set) var assets: [AssetRecord] = []
    private var byHost: [String: Int] = [:]
    private var byShortHost: [String: Int] = [:]
    private var byIP: [IP: Int] = [:]
    private var byMAC: [String: Int] = [:]
    private var byAgent: [String: Int] = [:]

    public init(_ list: [AssetRecord] = []) { for a in list { add(a) } }

    public var count: Int { assets.count }

    public mutating func add(_ a: AssetRecord) {
        let i = assets.count
        assets.append(a)
        if !a.hostname.isEmpty {
            let h = a.hostname.lowercased()
            byHost[h] = i
            if let dot = h.firstIndex(of: ".") { byShortHost[String(h[..<dot])] = i } else { byShortHost[h] = i }
        }
        if let ip = IP.parse(a.ip) { byIP[ip] = i }
        if !a.mac.isEmpty { byMAC[Self.mac(a.mac)] = i }
        if !a.agentId.isEmpty { byAgent[a.agentId] = i }
    }

    static func mac(_ s: String) -> String { s.lowercased().replacingOccurrences(of: "-", with: ":") }

    /// The event's asset and the field that found it: its host name (full, then the first
    /// label), agent id, host MAC, host IP, then destination IP.
    public func resolve(_ f: [String: String]) -> (AssetRecord, String)? {
        if assets.isEmpty { return nil }
        if let h = f["host.name"], !h.isEmpty {
            let l = ASCII.lowered(h)
            if let i = byHost[l] ?? byShortHost[l] { return (assets[i], "host.name") }
            if let dot = l.utf8.firstIndex(of: UInt8(ascii: ".")), let i = byShortHost[String(l[..<dot])] { return (assets[i], "host.name") }
        }
        if let a = f["agent.id"], let i = byAgent[a] { return (assets[i], "agent.id") }
        if let m = f["host.mac"], let i = byMAC[Self.mac(m)] { return (assets[i], "host.mac") }
        for field in ["host.ip", "destination.ip"] {
            if let s = f[field], let ip = IP.parse(s), let i = byIP[ip] { return (assets[i], field) }
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

    static func save(_ a: AssetRecord, _ db: Database) throws {
        try db.run("INSERT OR REPLACE INTO assets(\(columns)) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                   [.text(a.id), .text(a.name), .text(a.hostname), .text(a.ip), .text(a.criticality), .text(a.mac),
                    .text(a.agentId), .text(a.tags.joined(separator: ";")), .text(a.os), .text(a.owner), .integer(a.updatedTimeMs)])
    }

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

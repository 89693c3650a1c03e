import VigilStore
import VigilWire

/// Host inventory sent by `vigil-agent` (an event with `event.action: agent-inventory`, from a
/// source `agent:<id>`; docs/agent.md) becomes an asset: an asset already known by that agent
/// id, host name or IP gets the agent's id, MAC and OS (its name, criticality, owner and tags
/// are kept); otherwise a new asset `agent-<id>` is added with criticality medium.
extension EnrichmentService {
    static func isAgentInventory(_ e: Event) -> Bool {
        e.fields["event.action"] == "agent-inventory" && e.source.hasPrefix("agent:") && !(e.fields["agent.id"] ?? "").isEmpty
    }

    /// Runs inside the batch transaction; the in-memory index is rebuilt from the table.
    func applyAgentInventory(_ e: Event, nowMs: Int64) throws {
        let f = e.fields
        let agentId = f["agent.id"] ?? "", host = f["host.name"] ?? ""
        let ips = (f["host.ips"] ?? f["host.ip"] ?? "").split(separator: ",").map(String.init)
        let macs = (f["host.macs"] ?? f["host.mac"] ?? "").split(separator: ",").map(String.init)
        let all = try AssetStore.loadAll(runtime.db)
        var a = all.first { $0.agentId == agentId }
            ?? all.first { $0.agentId.isEmpty && !host.isEmpty && $0.hostname.lowercased() == host.lowercased() }
            ?? all.first { $0.agentId.isEmpty && !$0.ip.isEmpty && ips.contains($0.ip) }
            ?? {
                var n = AssetRecord()
                n.id = "agent-\(agentId)"; n.name = host; n.criticality = "medium"
                return n
            }()
        if a.hostname.isEmpty { a.hostname = host }
        if a.ip.isEmpty || !ips.contains(a.ip) { a.ip = ips.first ?? a.ip }
        if let m = macs.first { a.mac = AssetIndex.mac(m) }
        a.agentId = agentId
        if let os = f["host.os.full"], !os.isEmpty { a.os = os }
        a.updatedTimeMs = nowMs
        try AssetStore.save(a, runtime.db)
        try reloadAssets()
        runtime.count("assets.from_agents")
    }
}

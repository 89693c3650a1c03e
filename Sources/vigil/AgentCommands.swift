import Foundation
import VigilBus
import VigilLog
import VigilWire

/// `vigil agents …` — enrolled endpoint agents: status, activation (docs/agent.md).
enum AgentCommands {
    static let usage = """
    usage:
      vigil agents list [--json]          every enrolled agent: status, last seen, lag, spool, drops, version, profile
      vigil agents get ID [--json]        one agent in full (inventory, counters, profile error)
      vigil agents activate ID            let the agent collect and send (an agent sends nothing until then)
      vigil agents deactivate ID          stop it: it keeps heartbeating but reads and sends nothing
    """

    static func run(_ args: Args) throws -> Int32 {
        guard args.words.count >= 2 else { throw CLIError(message: usage, exitCode: 2) }
        let w = Array(args.words.dropFirst(2))
        let ctx = ZContext()
        defer { ctx.terminate() }
        let c = try Connection.client(args, ctx)
        defer { c.close() }
        switch args.words[1] {
        case "list":
            let out = try call(c, "list", ConfigRequest())
            if args.json { print(out); return 0 }
            let items = ConfigCommands.parse(out) as? [[String: Any]] ?? []
            let now = Clock.nowMs()
            print(Table.render(header: ["ID", "HOSTNAME", "STATUS", "LAST SEEN", "LAG", "SPOOL", "SENT", "DROPPED", "VERSION", "PROFILE"],
                               rows: items.map { a in
                func n(_ k: String) -> Int64 { (a[k] as? NSNumber)?.int64Value ?? 0 }
                let profiles = (a["profiles"] as? [String] ?? []).joined(separator: ",")
                let err = a["profile_error"] as? String ?? ""
                let profile = !err.isEmpty ? "REFUSED (see get)" : profiles.isEmpty ? "-" : profiles + ((a["profile_current"] as? Bool ?? false) ? "" : " (pending)")
                return ["\(a["id"] ?? "")", "\(a["hostname"] ?? "")", "\(a["status"] ?? "")", ago(now, n("last_seen_ms")),
                        duration(n("lag_ms")), "\(n("spool_events")) ev / \(bytes(n("spool_bytes")))", "\(n("sent_events"))",
                        "\(n("dropped_events"))", "\(a["version"] ?? "")", profile]
            }))
            if items.isEmpty { print("(no agents enrolled; see docs/agent.md)") }
        case "get":
            guard let id = w.first else { throw CLIError(message: "usage: vigil agents get ID", exitCode: 2) }
            let out = try call(c, "get", ConfigRequest(id: id))
            if args.json { print(out); return 0 }
            let a = ConfigCommands.parse(out) as? [String: Any] ?? [:]
            for k in a.keys.sorted() { print("  \(k.padding(toLength: 18, withPad: " ", startingAt: 0)) \(a[k] ?? "")") }
        case "activate", "deactivate":
            guard let id = w.first else { throw CLIError(message: "usage: vigil agents \(args.words[1]) ID", exitCode: 2) }
            let out = try call(c, args.words[1], ConfigRequest(id: id))
            if args.json { print(out); return 0 }
            let a = ConfigCommands.parse(out) as? [String: Any] ?? [:]
            print("agent \(id) (\(a["hostname"] ?? "")) is \(a["status"] ?? "?")")
        default:
            throw CLIError(message: usage, exitCode: 2)
        }
        return 0
    }

    static func call(_ c: RpcClient, _ method: String, _ req: ConfigRequest) throws -> String {
        do { return try c.call(service: "config", method: "agents.\(method)", req, as: ConfigReply.self, timeoutMs: 30_000).json }
        catch let e as RpcError { throw CLIError(message: "agents.\(method): \(e.message)") }
    }

    static func ago(_ now: Int64, _ ms: Int64) -> String { ms == 0 ? "never" : duration(now - ms) + " ago" }

    static func duration(_ ms: Int64) -> String {
        if ms < 1000 { return "\(max(0, ms)) ms" }
        if ms < 120_000 { return "\(ms / 1000) s" }
        if ms < 7_200_000 { return "\(ms / 60_000) min" }
        return "\(ms / 3_600_000) h"
    }

    static func bytes(_ n: Int64) -> String {
        n < 1024 ? "\(n) B" : n < 1 << 20 ? "\(n / 1024) KiB" : "\(n >> 20) MiB"
    }
}

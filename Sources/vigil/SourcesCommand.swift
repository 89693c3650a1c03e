import Foundation
import VigilBus
import VigilLog
import VigilWire

/// `vigil sources [--json]`: per-source counters from ingest (RPC `ingest.sources`).
enum SourcesCommand {
    static func run(_ args: Args) throws -> Int32 {
        let ctx = ZContext()
        defer { ctx.terminate() }
        let client = try Connection.client(args, ctx)
        defer { client.close() }
        let service = args.flags["service"] ?? "ingest"
        let r: SourcesResponse
        do {
            r = try client.call(service: service, method: "ingest.sources", SourcesRequest(), as: SourcesResponse.self, timeoutMs: 5000)
        } catch let e as RpcError {
            throw CLIError(message: "\(service): \(e.message)")
        }
        if args.json {
            let rows: [[String: Any]] = r.sources.map {
                ["source": $0.source, "events": $0.events, "bytes": $0.bytes, "unparsed": $0.unparsed,
                 "last_seen_ms": $0.lastSeenMs, "first_seen_ms": $0.firstSeenMs,
                 "last_seen": $0.lastSeenMs > 0 ? Clock.iso8601($0.lastSeenMs) : ""]
            }
            let d = try JSONSerialization.data(withJSONObject: ["instance": r.instance, "sources": rows], options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: d, as: UTF8.self))
            return 0
        }
        if r.sources.isEmpty {
            print("no events received yet (\(r.instance))")
            return 0
        }
        let now = Clock.nowMs()
        print(Table.render(header: ["SOURCE", "EVENTS", "BYTES", "UNPARSED", "LAST SEEN"], rows: r.sources.map {
            [$0.source, String($0.events), ProgressDisplay.size(Int64(clamping: $0.bytes)), String($0.unparsed),
             $0.lastSeenMs > 0 ? "\(Clock.iso8601($0.lastSeenMs)) (\(CLI.formatDuration(now - $0.lastSeenMs)) ago)" : "-"]
        }))
        return 0
    }
}

import Foundation
import VigilBus
import VigilLog
import VigilWire

/// `vigil sources [--json]`: per-source counters from ingest (RPC `ingest.sources`) and the
/// configured collectors' traffic (refused lines: their source or collector is stopped/deleted).
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
                 "last_seen_ms": $0.lastSeenMs, "first_seen_ms": $0.firstSeenMs, "refused": $0.refused,
                 "last_seen": $0.lastSeenMs > 0 ? Clock.iso8601($0.lastSeenMs) : ""]
            }
            let collectors: [[String: Any]] = r.collectors.map {
                ["collector": $0.collector, "appliance": $0.appliance, "status": $0.status, "sources": $0.sources,
                 "events": $0.events, "refused": $0.refused, "last_seen_ms": $0.lastSeenMs, "state": $0.state]
            }
            let d = try JSONSerialization.data(withJSONObject: ["instance": r.instance, "sources": rows, "collectors": collectors],
                                               options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: d, as: UTF8.self))
            return 0
        }
        if r.sources.isEmpty && r.collectors.isEmpty {
            print("no events received yet (\(r.instance))")
            return 0
        }
        let now = Clock.nowMs()
        print(Table.render(header: ["SOURCE", "EVENTS", "BYTES", "UNPARSED", "REFUSED", "LAST SEEN"], rows: r.sources.map {
            [$0.source, String($0.events), ProgressDisplay.size(Int64(clamping: $0.bytes)), String($0.unparsed), String($0.refused),
             $0.lastSeenMs > 0 ? "\(Clock.iso8601($0.lastSeenMs)) (\(CLI.formatDuration(now - $0.lastSeenMs)) ago)" : "-"]
        }))
        if !r.collectors.isEmpty {
            print("")
            print(Table.render(header: ["COLLECTOR", "APPLIANCE", "STATE", "SOURCES", "EVENTS", "REFUSED", "LAST SEEN"], rows: r.collectors.map {
                [$0.collector, $0.appliance, $0.state, String($0.sources), String($0.events), String($0.refused),
                 $0.lastSeenMs > 0 ? "\(CLI.formatDuration(now - $0.lastSeenMs)) ago" : "-"]
            }))
        }
        return 0
    }
}

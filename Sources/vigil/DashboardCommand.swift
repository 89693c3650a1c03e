import Foundation
import VigilBus
import VigilLog
import VigilWire

/// `vigil dashboard`: the threat-hunting view in one screen, built from the list RPCs
/// (`events.histogram`, `signals.histogram`, `signals.facets`, `events.facets`).
enum DashboardCommand {
    static let usage = """
    vigil dashboard [QQL over signals] [--since 24h | --from T --to T] [--top 10] [--json]
      events and signals over the range as sparklines, signals by MITRE tactic and by criticality
      as bars, and the top rules, users, assets and source IPs.
    """

    struct Panel {
        var title: String
        var service: String
        var method: String
        var token: String
    }

    static let panels = [
        Panel(title: "Signals by MITRE tactic", service: "detection", method: "signals.facets", token: "tactic.name"),
        Panel(title: "Signals by criticality", service: "detection", method: "signals.facets", token: "signal.criticality"),
        Panel(title: "Top rules", service: "detection", method: "signals.facets", token: "rule.name"),
        Panel(title: "Top users (signals)", service: "detection", method: "signals.facets", token: "user.name"),
        Panel(title: "Top assets (signals)", service: "detection", method: "signals.facets", token: "asset.name"),
        Panel(title: "Top source IPs (events)", service: "enrichment", method: "events.facets", token: "source.ip"),
    ]

    static func run(_ args: Args) throws -> Int32 {
        var base = try EventsCommand.request(args, query: "")
        let now = Clock.nowMs()
        if base.fromTimeMs == 0 { base.fromTimeMs = now - 24 * 3600 * 1000 }
        if base.toTimeMs == 0 { base.toTimeMs = now }
        let signalQuery = args.words.dropFirst().joined(separator: " ")
        let top = try args.int("top", 10)
        let ctx = ZContext()
        defer { ctx.terminate() }
        let c = try Connection.client(args, ctx)
        defer { c.close() }

        var hist = base
        hist.buckets = 48
        let events = try Connection.call(c, args, service: "enrichment", method: "events.histogram", hist, HistogramResponse.self)
        var sh = hist
        sh.query = signalQuery
        let signals = try Connection.call(c, args, service: "detection", method: "signals.histogram", sh, HistogramResponse.self)
        var facets: [(Panel, FacetResponse)] = []
        for p in panels {
            var q = base
            q.query = p.service == "detection" ? signalQuery : ""
            q.facetToken = p.token
            q.limit = UInt32(top)
            facets.append((p, try Connection.call(c, args, service: p.service, method: p.method, q, FacetResponse.self)))
        }
        let eventTotal = events.buckets.reduce(UInt64(0)) { $0 + $1.count }
        let signalTotal = signals.buckets.reduce(UInt64(0)) { $0 + $1.count }
        if args.json {
            var obj: [String: Any] = ["from": Clock.iso8601(base.fromTimeMs), "to": Clock.iso8601(base.toTimeMs),
                                      "events": ["total": eventTotal, "bucket_ms": events.bucketMs, "counts": events.buckets.map(\.count)],
                                      "signals": ["total": signalTotal, "bucket_ms": signals.bucketMs, "counts": signals.buckets.map(\.count)]]
            for (p, f) in facets { obj[p.token + (p.service == "enrichment" ? " (events)" : "")] = f.values.map { ["value": $0.value, "count": $0.count] } }
            JSONOut.print(obj)
            return 0
        }
        print("Threat hunting  \(String(Clock.iso8601(base.fromTimeMs).prefix(16))) … \(String(Clock.iso8601(base.toTimeMs).prefix(16)))"
              + (signalQuery.isEmpty ? "" : "  signals: \(signalQuery)"))
        print("")
        print("  events   \(Chart.sparkline(events.buckets.map(\.count)))  \(eventTotal)")
        print("  signals  \(Chart.sparkline(signals.buckets.map(\.count)))  \(signalTotal)")
        for (p, f) in facets {
            print("\n\(p.title)")
            print(Chart.bars(f.values.map { ($0.value.isEmpty ? "(none)" : $0.value, $0.count) }, maxBar: 30))
        }
        return 0
    }
}

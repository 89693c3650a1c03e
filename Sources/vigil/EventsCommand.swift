import Foundation
import VigilBus
import VigilLog
import VigilQuery
import VigilWire
#if canImport(Glibc)
import Glibc
#endif

/// `vigil events search|count|facets|histogram|get|tokens` — QQL over enrichment's event store.
enum EventsCommand {
    static let usage = """
    usage:
      vigil events search [QQL] [--since 24h | --from T --to T] [--limit N] [--sort TOKEN[:asc]] [--cursor C] [--json]
      vigil events count [QQL] [time flags]
      vigil events facets TOKEN [QQL] [time flags] [--limit N]
      vigil events histogram [QQL] [--since 24h | --from T --to T] [--buckets 24]
      vigil events get ID [--json]
      vigil events tokens
      vigil events reparse [QQL] [time flags] [--limit N] [--json]   run the parsers again over unparsed events
    Times: ISO 8601 (2026-03-01, 2026-03-01T10:00:00Z), epoch ms, or now-24h; --since 24h means --from now-24h.
    """

    static func run(_ args: Args) throws -> Int32 {
        guard args.words.count >= 2 else { throw CLIError(message: usage, exitCode: 2) }
        let sub = args.words[1]
        let rest = Array(args.words.dropFirst(2))
        if sub == "reparse" { return try ReparseCommand.run(args, query: rest.joined(separator: " ")) }
        let ctx = ZContext()
        defer { ctx.terminate() }
        let client = try Connection.client(args, ctx)
        defer { client.close() }
        func call<R: WireMessage>(_ method: String, _ req: some WireMessage, _: R.Type) throws -> R {
            do { return try client.call(service: "enrichment", method: method, req, as: R.self, timeoutMs: 30_000) }
            catch let e as RpcError {
                throw e.code == .badRequest ? CLIError(message: "bad query:\n\(e.message)") : Connection.describe(e, service: "enrichment", method: method)
            }
        }
        switch sub {
        case "search":
            var req = try request(args, query: rest.joined(separator: " "))
            req.limit = UInt32(try args.int("limit", 20))
            if let s = args.flags["sort"] {
                let parts = s.split(separator: ":")
                req.sortToken = String(parts[0])
                req.sortAscending = parts.count > 1 && parts[1] == "asc"
            }
            req.cursor = args.flags["cursor"] ?? ""
            let page = try call("events.search", req, EventPage.self)
            if args.json {
                for e in page.events { print(jsonLine(e)) }
                if !page.nextCursor.isEmpty { print("{\"next_cursor\":\(JSONString(page.nextCursor))}") }
            } else {
                print(Table.render(header: ["TIME", "SOURCE", "FORMAT", "HOST", "USER", "SOURCE.IP", "MESSAGE"],
                                   rows: page.events.map { e in
                    [Table.time(e.eventTimeMs), e.source, e.parseStatus == .unparsed ? "UNPARSED" : e.format,
                     e.fields["host.name"] ?? "", e.fields["user.name"] ?? "", e.fields["source.ip"] ?? "",
                     e.fields["message"] ?? String(decoding: e.raw, as: UTF8.self)]
                }))
                if !page.nextCursor.isEmpty { print("more: --cursor \(page.nextCursor)") }
                if page.events.isEmpty { print("(no events match)") }
            }
        case "count":
            let r = try call("events.count", try request(args, query: rest.joined(separator: " ")), CountResponse.self)
            print(args.json ? "{\"count\":\(r.count)}" : String(r.count))
        case "facets":
            guard let token = rest.first else { throw CLIError(message: "usage: vigil events facets TOKEN [QQL]", exitCode: 2) }
            var req = try request(args, query: rest.dropFirst().joined(separator: " "))
            req.facetToken = token
            req.limit = UInt32(try args.int("limit", 10))
            RulesCommand.printFacets(token, try call("events.facets", req, FacetResponse.self), json: args.json)
        case "histogram":
            var req = try request(args, query: rest.joined(separator: " "))
            if req.fromTimeMs == 0 { req.fromTimeMs = Clock.nowMs() - 24 * 3600 * 1000 }
            req.buckets = UInt32(try args.int("buckets", 24))
            printHistogram(try call("events.histogram", req, HistogramResponse.self), what: "events", json: args.json)
        case "get":
            guard let id = rest.first else { throw CLIError(message: "usage: vigil events get ID", exitCode: 2) }
            let e = try call("events.get", GetRequest(id: id), Event.self)
            if args.json { print(jsonLine(e)); break }
            print("id        \(e.id)\ntime      \(Clock.iso8601(e.eventTimeMs))  (received \(Clock.iso8601(e.receivedTimeMs)))")
            print("source    \(e.source)\nformat    \(e.format)\nstatus    \(e.parseStatus == .parsed ? "parsed" : "unparsed: " + e.parseError)")
            print("raw       \(String(decoding: e.raw, as: UTF8.self))")
            print("\nevent values")
            for k in e.fields.keys.sorted() { print("  \(k.padding(toLength: 28, withPad: " ", startingAt: 0)) \(e.fields[k]!)") }
            if !e.original.isEmpty {
                print("\noriginal vendor fields")
                for k in e.original.keys.sorted() { print("  \(k.padding(toLength: 28, withPad: " ", startingAt: 0)) \(e.original[k]!)") }
            }
            print("\nenriched values")
            if e.enriched.isEmpty { print("  (none)") }
            for k in e.enriched.keys.sorted() { print("  \(k.padding(toLength: 28, withPad: " ", startingAt: 0)) \(e.enriched[k]!)") }
        case "tokens":
            printTokens(try call("events.tokens", QueryRequest(), TokenCatalogResponse.self), json: args.json)
        default:
            throw CLIError(message: "unknown events command '\(sub)'\n\(usage)", exitCode: 2)
        }
        return 0
    }

    static func request(_ args: Args, query: String) throws -> QueryRequest {
        var req = QueryRequest(query: query)
        let now = Clock.nowMs()
        func time(_ flag: String) throws -> Int64? {
            guard let v = args.flags[flag] else { return nil }
            guard let t = TimeValue.parse(v) else {
                throw CLIError(message: "--\(flag): '\(v)' is not a time (ISO 8601 like 2026-03-01T10:00:00Z, epoch ms, or now-24h)", exitCode: 2)
            }
            return t.resolve(nowMillis: now)
        }
        if let since = args.flags["since"] {
            guard let t = TimeValue.parse("now-" + since) else {
                throw CLIError(message: "--since: '\(since)' is not a duration (e.g. 30m, 24h, 7d)", exitCode: 2)
            }
            req.fromTimeMs = t.resolve(nowMillis: now)
        }
        if let f = try time("from") { req.fromTimeMs = f }
        if let t = try time("to") { req.toTimeMs = t }
        return req
    }

    static func bar(_ fraction: Double, width: Int) -> String { Chart.bar(fraction, width: width) }

    static func terminalWidth() -> Int { Terminal.width ?? 160 }

    /// A bar per bucket, a sparkline of the whole range, and the total.
    static func printHistogram(_ r: HistogramResponse, what: String, json: Bool) {
        let total = r.buckets.reduce(UInt64(0)) { $0 + $1.count }
        if json {
            JSONOut.print(["bucket_ms": r.bucketMs, "total": total,
                           "buckets": r.buckets.map { ["start": Clock.iso8601($0.startTimeMs), "start_ms": $0.startTimeMs, "count": $0.count] }])
            return
        }
        let labelWidth = r.bucketMs >= 24 * 3600 * 1000 ? 10 : 16
        print(Chart.bars(r.buckets.map { (String(Clock.iso8601($0.startTimeMs).prefix(labelWidth)).replacingOccurrences(of: "T", with: " "), $0.count) }, maxBar: 50))
        print("\(Chart.sparkline(r.buckets.map(\.count)))  \(total) \(what), \(r.buckets.count) buckets of \(CLI.formatDuration(r.bucketMs))")
    }

    static func printTokens(_ r: TokenCatalogResponse, json: Bool) {
        if json {
            JSONOut.print(["list": r.list, "tokens": r.tokens.map { ["name": $0.name, "type": $0.type, "description": $0.description] }])
            return
        }
        print(Table.render(header: ["TOKEN", "TYPE", "DESCRIPTION"], rows: r.tokens.map { [$0.name, $0.type, $0.description] }))
    }

    static func JSONString(_ s: String) -> String {
        let d = (try? JSONSerialization.data(withJSONObject: [s])) ?? Data("[\"\"]".utf8)
        return String(String(decoding: d, as: UTF8.self).dropFirst().dropLast())
    }

    static func jsonLine(_ e: Event) -> String {
        let obj: [String: Any] = ["id": e.id, "time": Clock.iso8601(e.eventTimeMs), "received": Clock.iso8601(e.receivedTimeMs),
                                  "source": e.source, "format": e.format,
                                  "parse_status": e.parseStatus == .parsed ? "parsed" : "unparsed", "parse_error": e.parseError,
                                  "raw": String(decoding: e.raw, as: UTF8.self), "fields": e.fields, "original": e.original, "enriched": e.enriched]
        let d = (try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])) ?? Data()
        return String(decoding: d, as: UTF8.self)
    }
}

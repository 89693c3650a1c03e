import Foundation
import VigilBus
import VigilLog
import VigilWire

/// `vigil intel …`, `vigil assets …` — enrichment's threat intel and asset inventory
/// (`vigil users …` is UserCommands: user-analytics).
enum EnrichmentCommands {
    static let usage = """
    usage:
      vigil intel feeds [--json]                 status per feed: indicators, last load, last error
      vigil intel lookup VALUE                   indicators matching an IP, domain, URL or hash
      vigil intel reload [FEED] [--wait S]       re-read the feeds file and load (all feeds or one); waits for the result
      vigil assets import FILE [--format csv|json]
      vigil assets list [QQL] [--limit N]        e.g. vigil assets list 'asset.criticality: critical'
      (vigil users …: see UserCommands; import falls back to enrichment when user-analytics is not running)
      vigil assets count [QQL]
      vigil assets facets TOKEN [QQL]      e.g. vigil assets facets asset.criticality
      vigil assets histogram [QQL] [--since 24h | --from T --to T]
      vigil assets tokens                  the list's QQL tokens
    """

    static func client(_ args: Args, _ ctx: ZContext) throws -> RpcClient {
        try Connection.client(args, ctx)
    }

    static func call<R: WireMessage>(_ c: RpcClient, _ method: String, _ req: some WireMessage, _: R.Type) throws -> R {
        do { return try c.call(service: "enrichment", method: method, req, as: R.self, timeoutMs: 30_000) }
        catch let e as RpcError {
            switch e.code {
            case .badRequest where method.hasSuffix(".search") || method.hasSuffix(".count") || method.hasSuffix(".facets") || method.hasSuffix(".histogram"):
                throw CLIError(message: "enrichment \(method): bad query:\n\(e.message)")
            case .unavailable, .timeout: throw Connection.describe(e, service: "enrichment", method: method)
            default: throw CLIError(message: "enrichment \(method): \(e.message)")
            }
        }
    }

    static func intel(_ args: Args) throws -> Int32 {
        guard args.words.count >= 2 else { throw CLIError(message: usage, exitCode: 2) }
        let ctx = ZContext()
        defer { ctx.terminate() }
        let c = try client(args, ctx)
        defer { c.close() }
        switch args.words[1] {
        case "feeds":
            let l = try call(c, "intel.feeds", IntelReloadRequest(), FeedStatusList.self)
            printFeeds(l, json: args.json)
        case "lookup":
            guard args.words.count == 3 else { throw CLIError(message: "usage: vigil intel lookup VALUE", exitCode: 2) }
            let r = try call(c, "intel.lookup", IntelLookupRequest(value: args.words[2]), IntelLookupResponse.self)
            if args.json {
                JSONOut.print(["value": r.value, "indicators": r.indicators.map {
                    ["feed": $0.feed, "type": $0.type, "value": $0.value, "confidence": $0.confidence, "first_seen_ms": $0.firstSeenTimeMs,
                     "last_seen_ms": $0.lastSeenTimeMs, "expires_ms": $0.expiresTimeMs]
                }])
                return r.indicators.isEmpty ? 1 : 0
            }
            if r.indicators.isEmpty { print("no indicator matches \(r.value)"); return 1 }
            print(Table.render(header: ["FEED", "TYPE", "VALUE", "CONFIDENCE", "FIRST SEEN", "LAST SEEN", "EXPIRES"], rows: r.indicators.map {
                [$0.feed, $0.type, $0.value, String($0.confidence), time($0.firstSeenTimeMs), time($0.lastSeenTimeMs),
                 $0.expiresTimeMs == 0 ? "never" : time($0.expiresTimeMs)]
            }))
        case "reload":
            let feed = args.words.count > 2 ? args.words[2] : ""
            let started = Clock.nowMs()
            var l = try call(c, "intel.reload", IntelReloadRequest(feed: feed), FeedStatusList.self)
            // Loads run in the service's background; wait until the asked feeds report an attempt.
            let deadline = Clock.monotonicMs() + Int64(try args.int("wait", 60)) * 1000
            func done(_ l: FeedStatusList) -> Bool {
                l.feeds.filter { feed.isEmpty || $0.name == feed }.allSatisfy { !$0.loading && $0.lastAttemptTimeMs >= started - 1000 }
            }
            while !done(l) && Clock.monotonicMs() < deadline {
                usleep(200_000)
                l = try call(c, "intel.feeds", IntelReloadRequest(), FeedStatusList.self)
            }
            printFeeds(l, json: args.json)
            return l.feeds.contains { (feed.isEmpty || $0.name == feed) && !$0.lastError.isEmpty } || !l.configError.isEmpty ? 1 : 0
        default:
            throw CLIError(message: "unknown intel command '\(args.words[1])'\n\(usage)", exitCode: 2)
        }
        return 0
    }

    static func time(_ ms: Int64) -> String { ms == 0 ? "-" : String(Clock.iso8601(ms).prefix(19)) }

    static func printFeeds(_ l: FeedStatusList, json: Bool) {
        if json {
            let rows: [[String: Any]] = l.feeds.map {
                ["name": $0.name, "format": $0.format, "location": $0.location, "indicators": $0.indicators,
                 "last_load": $0.lastLoadTimeMs, "last_attempt": $0.lastAttemptTimeMs, "last_error": $0.lastError,
                 "failures": $0.failures, "refused": $0.refused, "refused_samples": $0.refusedSamples, "loading": $0.loading]
            }
            let d = (try? JSONSerialization.data(withJSONObject: ["feeds": rows, "config_error": l.configError], options: [.sortedKeys, .prettyPrinted])) ?? Data()
            print(String(decoding: d, as: UTF8.self))
            return
        }
        if !l.configError.isEmpty { print("feeds file: \(l.configError)\n") }
        if l.feeds.isEmpty { print("(no feeds defined: see docs/enrichment.md)"); return }
        print(Table.render(header: ["FEED", "FORMAT", "INDICATORS", "REFUSED", "LAST LOAD", "FAILURES", "STATUS"], rows: l.feeds.map {
            [$0.name, $0.format, String($0.indicators), String($0.refused), time($0.lastLoadTimeMs), String($0.failures),
             $0.loading ? "loading" : $0.lastError.isEmpty ? "ok" : "error: " + $0.lastError]
        }))
    }

    /// `vigil assets import FILE | list [QQL] | count | facets | histogram | tokens` (directory
    /// users are `vigil users`, UserCommands).
    static func assets(_ args: Args) throws -> Int32 {
        let list = "assets"
        guard args.words.count >= 2 else { throw CLIError(message: usage, exitCode: 2) }
        let ctx = ZContext()
        defer { ctx.terminate() }
        let c = try client(args, ctx)
        defer { c.close() }
        switch args.words[1] {
        case "import":
            guard args.words.count == 3 else { throw CLIError(message: "usage: vigil \(list) import FILE [--format csv|json]", exitCode: 2) }
            let path = args.words[2]
            guard let data = FileManager.default.contents(atPath: path) else { throw CLIError(message: "cannot read \(path)") }
            let format = args.flags["format"] ?? (path.lowercased().hasSuffix(".json") ? "json" : "csv")
            let r = try call(c, "\(list).import", ImportRequest(format: format, content: [UInt8](data), origin: (path as NSString).lastPathComponent), ImportResponse.self)
            if args.json {
                JSONOut.print(["imported": r.imported, "rejected": r.rejected, "errors": r.errors])
                return r.rejected > 0 ? 1 : 0
            }
            print("imported \(r.imported) \(list), rejected \(r.rejected)")
            for e in r.errors { print("  \(e)") }
            return r.rejected > 0 ? 1 : 0
        case "count":
            let r = try call(c, "\(list).count", try EventsCommand.request(args, query: args.words.dropFirst(2).joined(separator: " ")), CountResponse.self)
            print(args.json ? "{\"count\":\(r.count)}" : String(r.count))
        case "facets":
            guard args.words.count >= 3 else { throw CLIError(message: "usage: vigil \(list) facets TOKEN [QQL]", exitCode: 2) }
            var q = try EventsCommand.request(args, query: args.words.dropFirst(3).joined(separator: " "))
            q.facetToken = args.words[2]
            q.limit = UInt32(try args.int("limit", 10))
            RulesCommand.printFacets(args.words[2], try call(c, "\(list).facets", q, FacetResponse.self), json: args.json)
        case "histogram":
            var q = try EventsCommand.request(args, query: args.words.dropFirst(2).joined(separator: " "))
            q.buckets = UInt32(try args.int("buckets", 24))
            EventsCommand.printHistogram(try call(c, "\(list).histogram", q, HistogramResponse.self), what: list, json: args.json)
        case "tokens":
            EventsCommand.printTokens(try call(c, "\(list).tokens", QueryRequest(), TokenCatalogResponse.self), json: args.json)
        case "list", "search":
            var req = try EventsCommand.request(args, query: args.words.dropFirst(2).joined(separator: " "))
            req.limit = UInt32(try args.int("limit", 100))
            req.sortToken = "asset.id"
            req.sortAscending = true
            let p = try call(c, "assets.search", req, AssetPage.self)
            if args.json {
                for a in p.assets {
                    print(RulesCommand.json(["id": a.id, "name": a.name, "hostname": a.hostname, "ip": a.ip, "mac": a.mac, "agent_id": a.agentId,
                                             "criticality": a.criticality, "tags": a.tags, "os": a.os, "owner": a.owner]))
                }
                return 0
            }
            print(Table.render(header: ["ID", "NAME", "HOSTNAME", "IP", "MAC", "AGENT", "CRITICALITY", "TAGS", "OS", "OWNER"], rows: p.assets.map {
                [$0.id, $0.name, $0.hostname, $0.ip, $0.mac, $0.agentId, $0.criticality, $0.tags.joined(separator: ";"), $0.os, $0.owner]
            }))
            if p.assets.isEmpty { print("(no assets match)") }
        default:
            throw CLIError(message: "unknown \(list) command '\(args.words[1])'\n\(usage)", exitCode: 2)
        }
        return 0
    }
}

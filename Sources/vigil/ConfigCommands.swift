import Foundation
import VigilBus
import VigilLog
import VigilWire

/// `vigil config …` — the config service's objects, overview, audit log, export and import
/// (docs/configuration.md).
enum ConfigCommands {
    static let usage = """
    usage:
      vigil config list [KIND] [--json]          objects of one kind (or all)
      vigil config get KIND ID                   one object as JSON
      vigil config create KIND FILE              create from a JSON file ('-' reads stdin)
      vigil config update KIND FILE [ID]         replace an object's fields (id in the file or given)
      vigil config delete KIND ID [--confirm]    a collector needs --confirm (a special object too while detection is down)
      vigil config search sources|collectors|appliances [QQL] [--limit N]
      vigil config count|facets|histogram|tokens sources|collectors|appliances …   (facets takes a TOKEN before the QQL)
      vigil config overview [--json]             counts per kind; created/updated in the last 24 h
      vigil config audit [KIND [ID]] [--limit N] [--json]
      vigil config export [FILE]                 the whole configuration as JSON (stdout without FILE)
      vigil config import FILE                   an export; refused whole when anything is wrong
      vigil config snapshot [--json]             every object with the change-stream head (what services mirror)
      vigil config kinds                         the object kinds
    kinds: source_type, appliance, collector, event_source, special_object, intel_feed, agent_profile, user_list, response_template
    """

    static let kinds = ["source_type", "appliance", "collector", "event_source", "special_object", "intel_feed", "agent_profile",
                        "user_list", "response_template"]
    static let lists = ["sources", "collectors", "appliances"]

    static func run(_ args: Args) throws -> Int32 {
        if args.words.count == 2 && args.words[1] == "kinds" {
            if args.json { JSONOut.print(kinds) } else { print(kinds.joined(separator: "\n")) }
            return 0
        }
        guard args.words.count >= 2 else { throw CLIError(message: usage, exitCode: 2) }
        let w = Array(args.words.dropFirst(2))
        let ctx = ZContext()
        defer { ctx.terminate() }
        let c = try Connection.client(args, ctx)
        defer { c.close() }
        func need(_ n: Int, _ u: String) throws { if w.count < n { throw CLIError(message: "usage: vigil config \(u)", exitCode: 2) } }
        switch args.words[1] {
        case "list":
            let out = try call(c, "list", ConfigRequest(kind: w.first ?? "", limit: UInt32(try args.int("limit", 0))))
            if args.json { print(out); return 0 }
            printObjects(out)
        case "get":
            try need(2, "get KIND ID")
            print(try call(c, "get", ConfigRequest(kind: w[0], id: w[1])))
        case "create", "update":
            try need(2, "\(args.words[1]) KIND FILE")
            let req = ConfigRequest(kind: w[0], id: w.count > 2 ? w[2] : "", objectJSON: try read(w[1]))
            print(try call(c, args.words[1], req))
        case "delete":
            try need(2, "delete KIND ID [--confirm]")
            _ = try call(c, "delete", ConfigRequest(kind: w[0], id: w[1], confirm: args.flags["confirm"] != nil))
            print(args.json ? RulesCommand.json(["deleted": w[1], "kind": w[0]]) : "deleted \(w[0]) \(w[1])")
        case "search":
            try need(1, "search sources|collectors|appliances [QQL]")
            var q = try EventsCommand.request(args, query: w.dropFirst().joined(separator: " "))
            q.limit = UInt32(try args.int("limit", 100))
            let r = try listCall(c, args, w[0], "search", q, ConfigReply.self)
            if args.json { print(r.json) } else { printObjects(r.json) }
        case "count":
            try need(1, "count sources|collectors|appliances [QQL]")
            let r = try listCall(c, args, w[0], "count", try EventsCommand.request(args, query: w.dropFirst().joined(separator: " ")), CountResponse.self)
            print(args.json ? "{\"count\":\(r.count)}" : String(r.count))
        case "facets":
            try need(2, "facets sources|collectors|appliances TOKEN [QQL]")
            var q = try EventsCommand.request(args, query: w.dropFirst(2).joined(separator: " "))
            q.facetToken = w[1]
            q.limit = UInt32(try args.int("limit", 10))
            RulesCommand.printFacets(w[1], try listCall(c, args, w[0], "facets", q, FacetResponse.self), json: args.json)
        case "histogram":
            try need(1, "histogram sources|collectors|appliances [QQL] [--since 24h | --from T --to T]")
            var q = try EventsCommand.request(args, query: w.dropFirst().joined(separator: " "))
            q.buckets = UInt32(try args.int("buckets", 24))
            EventsCommand.printHistogram(try listCall(c, args, w[0], "histogram", q, HistogramResponse.self), what: w[0], json: args.json)
        case "tokens":
            try need(1, "tokens sources|collectors|appliances")
            EventsCommand.printTokens(try listCall(c, args, w[0], "tokens", QueryRequest(), TokenCatalogResponse.self), json: args.json)
        case "snapshot":
            let r = try Connection.call(c, args, service: "config", method: "config.snapshot", ConfigRequest(), ConfigSnapshot.self)
            if args.json {
                JSONOut.print(["head": r.head, "producer": r.producerId,
                               "objects": r.objects.map { ["kind": $0.kind, "id": $0.id, "sequence": $0.sequence, "actor": $0.actor, "time_ms": $0.timeMs,
                                                           "object": parse($0.objectJSON) ?? $0.objectJSON] }])
                return 0
            }
            print("producer \(r.producerId), stream head \(r.head), \(r.objects.count) objects")
            print(Table.render(header: ["KIND", "ID", "SEQ", "ACTOR", "TIME"], rows: r.objects.map {
                [$0.kind, $0.id, String($0.sequence), $0.actor, time($0.timeMs)]
            }))
        case "overview":
            let out = try call(c, "overview", ConfigRequest())
            if args.json { print(out); return 0 }
            let o = parse(out) as? [String: Any] ?? [:]
            let areas = o["areas"] as? [String: Any] ?? [:]
            print(Table.render(header: ["AREA", "TOTAL", "CREATED 24H", "UPDATED 24H"], rows: areas.keys.sorted().map { k in
                let a = areas[k] as? [String: Any] ?? [:]
                return [k, "\(a["total"] ?? 0)", "\(a["created_24h"] ?? 0)", "\(a["updated_24h"] ?? 0)"]
            } + [["total", "\(o["total"] ?? 0)", "\(o["created_24h"] ?? 0)", "\(o["updated_24h"] ?? 0)"]]))
        case "audit":
            let out = try call(c, "audit", ConfigRequest(kind: w.first ?? "", id: w.count > 1 ? w[1] : "", limit: UInt32(try args.int("limit", 50))))
            if args.json { print(out); return 0 }
            let entries = parse(out) as? [[String: Any]] ?? []
            print(Table.render(header: ["TIME", "ACTOR", "ACTION", "KIND", "ID", "SEQ"], rows: entries.map {
                [time(($0["time_ms"] as? NSNumber)?.int64Value ?? 0), "\($0["actor"] ?? "")", "\($0["action"] ?? "")",
                 "\($0["kind"] ?? "")", "\($0["id"] ?? "")", "\($0["sequence"] ?? "")"]
            }))
        case "export":
            let out = try call(c, "export", ConfigRequest())
            if let file = w.first {
                guard FileManager.default.createFile(atPath: file, contents: Data((out + "\n").utf8)) else {
                    throw CLIError(message: "cannot write \(file)")
                }
                print("exported to \(file)")
            } else {
                print(out)
            }
        case "import":
            try need(1, "import FILE")
            print(try call(c, "import", ConfigRequest(objectJSON: try read(w[0]))))
        default:
            throw CLIError(message: usage, exitCode: 2)
        }
        return 0
    }

    /// `<list>.search|count|facets|tokens` on one of config's QQL lists; bad QQL keeps its caret.
    static func listCall<R: WireMessage>(_ c: RpcClient, _ args: Args, _ list: String, _ op: String, _ q: QueryRequest, _: R.Type) throws -> R {
        guard lists.contains(list) else {
            throw CLIError(message: "config \(op): '\(list)' is not a searchable list (\(lists.joined(separator: ", ")))", exitCode: 2)
        }
        do { return try c.call(service: "config", method: "\(list).\(op)", q, as: R.self, timeoutMs: 30_000) }
        catch let e as RpcError {
            throw e.code == .badRequest ? CLIError(message: "config \(list).\(op): bad query:\n\(e.message)")
                : Connection.describe(e, service: "config", method: "\(list).\(op)")
        }
    }

    static func call(_ c: RpcClient, _ method: String, _ req: ConfigRequest) throws -> String {
        do { return try c.call(service: "config", method: "config.\(method)", req, as: ConfigReply.self, timeoutMs: 30_000).json }
        catch let e as RpcError {
            throw e.code == .unavailable || e.code == .timeout ? Connection.describe(e, service: "config", method: "config.\(method)")
                : CLIError(message: "config.\(method): \(e.message)")
        }
    }

    static func read(_ path: String) throws -> String {
        let data = path == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: path)
        guard let data, let s = String(data: data, encoding: .utf8) else { throw CLIError(message: "cannot read \(path) as UTF-8 text") }
        return s
    }

    static func parse(_ json: String) -> Any? { try? JSONSerialization.jsonObject(with: Data(json.utf8)) }

    static func time(_ ms: Int64) -> String {
        ms == 0 ? "-" : ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    static func printObjects(_ json: String) {
        let items = parse(json) as? [[String: Any]] ?? []
        print(Table.render(header: ["KIND", "ID", "NAME", "MODIFIED BY", "MODIFIED"], rows: items.map {
            ["\($0["kind"] ?? "")", "\($0["id"] ?? "")", "\($0["name"] ?? "")", "\($0["modified_by"] ?? "")",
             time(($0["modified_ms"] as? NSNumber)?.int64Value ?? 0)]
        }))
        if items.isEmpty { print("(none)") }
    }
}

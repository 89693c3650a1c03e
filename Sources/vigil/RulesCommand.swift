import Foundation
import VigilBus
import VigilLog
import VigilRules
import VigilWire

/// `vigil rules …` and `vigil signals …`: detection's rules and signals over RPC.
/// `vigil rules test FILE` runs locally (no stack needed).
enum RulesCommand {
    static let usage = """
    usage:
      vigil rules list [QQL] [--json]              the rule library (QQL over the rules list: rule.status, rule.tactic, rule.criticality, …)
      vigil rules count [QQL]
      vigil rules histogram [QQL] [time flags]     rules by their time token (last change), as bars and a sparkline
      vigil rules facets TOKEN [QQL]               e.g. rule.tactic, rule.technique, rule.status, rule.criticality, rule.log_source
      vigil rules get ID [--json]                  detail, in plain language; --json prints the rule JSON
      vigil rules create FILE                      one new rule from its JSON (docs/rules.md)
      vigil rules update FILE                      edit: replace a rule by its JSON (same id); a changed detection is a new version
      vigil rules import FILE                      a rule, an array of rules or a bundle; all or nothing
      vigil rules import-sigma PATH… [--mapping F] Sigma rules (files or directories), converted then imported; summary of refusals
      vigil rules export [ID] [--out FILE]         one rule or every rule as a bundle
      vigil rules activate|deactivate|delete ID
      vigil rules test FILE                        run the file's embedded tests (locally)
      vigil rules delete-signals ID --confirm      delete every stored signal of a rule (admin; audited)
      vigil rules library list|show|activate|copy  the shipped library (vigil rules library for details)
      vigil rules test FILE [--remote]             run the file's embedded tests (locally, or in detection with --remote)
      vigil rules tokens                           the rules list's QQL tokens
    """

    static let signalsUsage = """
    usage:
      vigil signals search [QQL] [--since 24h | --from T --to T] [--limit N] [--json]
      vigil signals count [QQL] [time flags]
      vigil signals facets TOKEN [QQL] [time flags]   e.g. signal.criticality, rule.name, tactic, user.name, asset.name
      vigil signals histogram [QQL] [time flags] [--buckets N]
      vigil signals get ID [--json]
      vigil signals show ID [--json]               the signal with its events and asset
      vigil signals dashboard [QQL] [--since 24h | --from T --to T] [--json]
                                                   threat hunting: by ATT&CK stage, top tactics, users, assets
      vigil signals responses ID [--json]          notifications sent for the signal (response service)
      vigil signals tokens                          the signals list's QQL tokens
    """

    /// Calls detection; RPC errors become CLI errors (a refused rule prints its problems as is).
    struct DetectionClient {
        let client: RpcClient
        func callAsFunction<R: WireMessage>(_ method: String, _ req: some WireMessage, _: R.Type) throws -> R {
            do {
                return try client.call(service: "detection", method: method, req, as: R.self, timeoutMs: 30_000)
            } catch let e as RpcError {
                throw e.code == .badRequest ? CLIError(message: e.message) : Connection.describe(e, service: "detection", method: method)
            }
        }
    }

    static func withClient<T>(_ args: Args, _ body: (DetectionClient) throws -> T) throws -> T {
        let ctx = ZContext()
        defer { ctx.terminate() }
        let client = try Connection.client(args, ctx)
        defer { client.close() }
        return try body(DetectionClient(client: client))
    }

    static func run(_ args: Args) throws -> Int32 {
        guard args.words.count >= 2 else { throw CLIError(message: usage, exitCode: 2) }
        let sub = args.words[1]
        let rest = Array(args.words.dropFirst(2))
        if sub == "test" && args.flags["remote"] == nil { return try test(rest) }
        if sub == "import-sigma" { return try SigmaCommand.run(args, rest) }
        if sub == "delete-signals" { return try DetectionCommands.deleteSignals(args) }
        if sub == "library" { return try DetectionCommands.library(args) }
        func id() throws -> String {
            guard let i = rest.first else { throw CLIError(message: "usage: vigil rules \(sub) ID", exitCode: 2) }
            return i
        }
        return try withClient(args) { call in
            switch sub {
            case "list", "search":
                var req = try EventsCommand.request(args, query: rest.joined(separator: " "))
                req.limit = UInt32(try args.int("limit", 1000))
                req.sortToken = "rule.name"; req.sortAscending = true
                let page = try call("rules.search", req, RulePage.self)
                if args.json {
                    for r in page.rules { print(json(["id": r.id, "name": r.name, "version": r.version, "status": r.status, "criticality": r.criticality.name,
                                                      "risk_score": r.riskScore, "type": r.type, "tactics": r.tacticIds, "techniques": r.techniqueIds,
                                                      "log_sources": r.logSources, "signals": r.signalCount])) }
                } else {
                    print(Table.render(header: ["ID", "STATUS", "CRIT", "TYPE", "TACTIC", "TECHNIQUE", "SIGNALS", "NAME"], rows: page.rules.map {
                        [$0.id, $0.status, $0.criticality.name, $0.type, $0.tacticIds.first ?? "", $0.techniqueIds.first ?? "", String($0.signalCount), $0.name]
                    }))
                    print("\(page.rules.count) rule\(page.rules.count == 1 ? "" : "s"), \(page.rules.filter { $0.status == "active" }.count) active")
                }
            case "count":
                let r = try call("rules.count", try EventsCommand.request(args, query: rest.joined(separator: " ")), CountResponse.self)
                print(args.json ? "{\"count\":\(r.count)}" : String(r.count))
            case "histogram":
                var req = try EventsCommand.request(args, query: rest.joined(separator: " "))
                req.buckets = UInt32(try args.int("buckets", 24))
                EventsCommand.printHistogram(try call("rules.histogram", req, HistogramResponse.self), what: "rules", json: args.json)
            case "tokens":
                EventsCommand.printTokens(try call("rules.tokens", QueryRequest(), TokenCatalogResponse.self), json: args.json)
            case "facets":
                guard let token = rest.first else { throw CLIError(message: "usage: vigil rules facets TOKEN [QQL]", exitCode: 2) }
                var req = try EventsCommand.request(args, query: rest.dropFirst().joined(separator: " "))
                req.facetToken = token
                req.limit = UInt32(try args.int("limit", 20))
                printFacets(token, try call("rules.facets", req, FacetResponse.self), json: args.json)
            case "create", "update":
                guard let file = rest.first else { throw CLIError(message: "usage: vigil rules \(sub) FILE", exitCode: 2) }
                let d = try call("rules.\(sub)", RuleRequest(ruleJson: try readFile(file)), RuleDetail.self)
                if args.json { print(d.ruleJson, terminator: ""); break }
                print("\(sub == "create" ? "created" : "updated") \(d.summary.name) [\(d.summary.id)] v\(d.summary.version), \(d.summary.status)")
            case "test":
                guard let file = rest.first else { throw CLIError(message: "usage: vigil rules test FILE --remote", exitCode: 2) }
                let r = try call("rules.test", RuleRequest(ruleJson: try readFile(file)), RuleTestResponse.self)
                if args.json {
                    print(json(["rule_id": r.ruleId, "rule_name": r.ruleName, "passed": r.passed,
                                "results": r.results.map { ["name": $0.name, "expect": $0.expect, "signals": $0.signals, "passed": $0.passed, "detail": $0.detail] }]))
                    return r.passed ? 0 : 1
                }
                print("\(r.ruleName)  [\(r.ruleId)]  (tested by detection)")
                if r.results.isEmpty { print("  (no tests)") }
                for t in r.results { print("  \(t.passed ? "PASS" : "FAIL")  \(t.name) — \(t.detail)") }
                print("\(r.results.filter(\.passed).count) of \(r.results.count) tests passed")
                return r.passed ? 0 : 1
            case "get":
                let d = try call("rules.get", RuleRequest(id: try id()), RuleDetail.self)
                if args.json { print(d.ruleJson, terminator: ""); break }
                let s = d.summary
                print("\(s.name)  (v\(s.version), \(s.status))\nid          \(s.id)")
                print("criticality \(s.criticality.name), base risk \(s.riskScore)\nmitre       \((s.tacticIds + s.techniqueIds).joined(separator: " "))")
                print("log sources \(s.logSources.isEmpty ? "any" : s.logSources.joined(separator: ", "))\nsignals     \(s.signalCount)   (correlation groups in memory: \(d.stateGroups))")
                print("\n\(d.explanation)")
            case "import":
                guard let file = rest.first else { throw CLIError(message: "usage: vigil rules import FILE", exitCode: 2) }
                let text = try readFile(file)
                let r = try call("rules.import", RuleRequest(ruleJson: text), RuleBundleMessage.self)
                if args.json { print(json(["imported": r.ids])); break }
                print("imported \(r.ids.count) rule\(r.ids.count == 1 ? "" : "s"): \(r.ids.joined(separator: ", "))")
            case "export":
                let r = try call("rules.export", RuleRequest(id: rest.first ?? ""), RuleBundleMessage.self)
                if let out = args.flags["out"] {
                    try r.json.write(toFile: out, atomically: true, encoding: .utf8)
                    print("wrote \(r.ids.count) rule\(r.ids.count == 1 ? "" : "s") to \(out)")
                } else {
                    print(r.json, terminator: "")
                }
            case "activate", "deactivate":
                let d = try call("rules.\(sub)", RuleRequest(id: try id()), RuleDetail.self)
                if args.json { print(json(["id": d.summary.id, "name": d.summary.name, "status": d.summary.status, "version": d.summary.version])); break }
                print("\(d.summary.name): \(d.summary.status)")
            case "delete":
                _ = try call("rules.delete", RuleRequest(id: try id()), RuleBundleMessage.self)
                print(args.json ? json(["deleted": try id()]) : "deleted \(try id())")
            default:
                throw CLIError(message: "unknown rules command '\(sub)'\n\(usage)", exitCode: 2)
            }
            return 0
        }
    }

    /// Runs every rule of the file (a rule, an array or a bundle) against its embedded tests.
    static func test(_ rest: [String]) throws -> Int32 {
        guard let file = rest.first else { throw CLIError(message: "usage: vigil rules test FILE", exitCode: 2) }
        let rules: [Rule]
        do { rules = try RuleBundle.decode(try readFile(file)) } catch let e as RuleError { throw CLIError(message: "\(file): \(e.description)") }
        var failed = 0, total = 0
        for r in rules {
            let results = RuleTester.run(r)
            print("\(r.name)  [\(r.id)]")
            if results.isEmpty { print("  (no tests)"); failed += 1 }
            for t in results {
                total += 1
                if !t.passed { failed += 1 }
                print("  \(t.passed ? "PASS" : "FAIL")  \(t.name) — \(t.detail)")
            }
        }
        print("\(total - failed) of \(total) tests passed")
        return failed == 0 ? 0 : 1
    }

    static func signals(_ args: Args) throws -> Int32 {
        guard args.words.count >= 2 else { throw CLIError(message: signalsUsage, exitCode: 2) }
        let sub = args.words[1]
        let rest = Array(args.words.dropFirst(2))
        if sub == "dashboard" { return try DetectionCommands.dashboard(args) }
        if sub == "show" { return try DetectionCommands.show(args) }
        return try withClient(args) { call in
            switch sub {
            case "search":
                var req = try EventsCommand.request(args, query: rest.joined(separator: " "))
                req.limit = UInt32(try args.int("limit", 20))
                req.cursor = args.flags["cursor"] ?? ""
                let page = try call("signals.search", req, SignalPage.self)
                if args.json {
                    for s in page.signals { print(signalJSON(s)) }
                } else {
                    print(Table.render(header: ["TIME", "CRIT", "RISK", "RULE", "TECHNIQUE", "USER", "ASSET", "IP", "ID"], rows: page.signals.map { s in
                        [Table.time(s.createdTimeMs), s.criticality.name, String(s.riskScore), s.ruleName, s.mitre.techniqueId,
                         s.entity.user, s.entity.asset, s.entity.ip, s.id]
                    }))
                    if !page.nextCursor.isEmpty { print("more: --cursor \(page.nextCursor)") }
                    if page.signals.isEmpty { print("(no signals match)") }
                }
            case "count":
                let r = try call("signals.count", try EventsCommand.request(args, query: rest.joined(separator: " ")), CountResponse.self)
                print(args.json ? "{\"count\":\(r.count)}" : String(r.count))
            case "facets":
                guard let token = rest.first else { throw CLIError(message: "usage: vigil signals facets TOKEN [QQL]", exitCode: 2) }
                var req = try EventsCommand.request(args, query: rest.dropFirst().joined(separator: " "))
                req.facetToken = token
                req.limit = UInt32(try args.int("limit", 10))
                printFacets(token, try call("signals.facets", req, FacetResponse.self), json: args.json)
            case "histogram":
                var req = try EventsCommand.request(args, query: rest.joined(separator: " "))
                if req.fromTimeMs == 0 { req.fromTimeMs = Clock.nowMs() - 24 * 3600 * 1000 }
                req.buckets = UInt32(try args.int("buckets", 24))
                EventsCommand.printHistogram(try call("signals.histogram", req, HistogramResponse.self), what: "signals", json: args.json)
            case "tokens":
                EventsCommand.printTokens(try call("signals.tokens", QueryRequest(), TokenCatalogResponse.self), json: args.json)
            case "responses":
                guard rest.count == 1 else { throw CLIError(message: "usage: vigil signals responses ID", exitCode: 2) }
                var a = args
                a.words = ["responses", "of", rest[0]]
                return try ResponseCommands.responses(a)
            case "get":
                guard let id = rest.first else { throw CLIError(message: "usage: vigil signals get ID", exitCode: 2) }
                let s = try call("signals.get", GetRequest(id: id), Signal.self)
                if args.json { print(signalJSON(s)); break }
                print("\(s.ruleName)  (rule \(s.ruleId) v\(s.ruleVersion))\nid          \(s.id)")
                print("criticality \(s.criticality.name), risk \(s.riskScore)\nmitre       \(s.mitre.tacticId) \(s.mitre.tacticName) / \(s.mitre.techniqueId) \(s.mitre.techniqueName)")
                print("entity      user=\(s.entity.user) asset=\(s.entity.asset) ip=\(s.entity.ip)\ngroup       \(s.groupKey)")
                print("events      \(Clock.iso8601(s.firstEventTimeMs)) … \(Clock.iso8601(s.lastEventTimeMs))  (vigil events get ID)")
                for e in s.eventIds { print("  \(e)") }
                print("\n\(s.description)")
            default:
                throw CLIError(message: "unknown signals command '\(sub)'\n\(signalsUsage)", exitCode: 2)
            }
            return 0
        }
    }

    /// Values with their counts as bars (a top-N list people can take in at a glance).
    static func printFacets(_ token: String, _ r: FacetResponse, json: Bool = false) {
        if json {
            JSONOut.print(["token": token, "values": r.values.map { ["value": $0.value, "count": $0.count] }])
            return
        }
        print(token)
        print(Chart.bars(r.values.map { ($0.value.isEmpty ? "(empty)" : $0.value, $0.count) }))
    }

    static func readFile(_ path: String) throws -> String {
        guard let d = FileManager.default.contents(atPath: path) else { throw CLIError(message: "cannot read \(path)") }
        return String(decoding: d, as: UTF8.self)
    }

    static func json(_ obj: [String: Any]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
    }

    static func signalJSON(_ s: Signal) -> String {
        json(["id": s.id, "rule_id": s.ruleId, "rule_version": s.ruleVersion, "rule_name": s.ruleName, "criticality": s.criticality.name,
              "risk": s.riskScore, "tactic": s.mitre.tacticId, "technique": s.mitre.techniqueId, "user": s.entity.user,
              "asset": s.entity.asset, "ip": s.entity.ip, "group_key": s.groupKey, "event_ids": s.eventIds,
              "created": Clock.iso8601(s.createdTimeMs), "first_event": Clock.iso8601(s.firstEventTimeMs), "last_event": Clock.iso8601(s.lastEventTimeMs)])
    }
}

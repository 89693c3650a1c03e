import Foundation
import VigilBus
import VigilLog
import VigilWire

/// `vigil rules delete-signals`, `vigil rules library …`, `vigil signals dashboard` and
/// `vigil signals show`: detection's library, signal clean-up, threat hunting dashboard and
/// signal detail over RPC. Each entry point is self-contained `(Args) throws -> Int32`.
enum DetectionCommands {
    static let libraryUsage = """
    usage:
      vigil rules library list [--json]           the shipped rules: installed?, status, copies
      vigil rules library show ID [--json]        detail in plain language; --json prints the rule JSON
      vigil rules library activate ID             store the library rule as shipped, active
      vigil rules library copy ID                 an inactive editable copy (new id, derived_from ID)
    """

    /// `vigil rules delete-signals ID --confirm`: without --confirm it only says what would go.
    static func deleteSignals(_ args: Args) throws -> Int32 {
        guard args.words.count >= 3 else { throw CLIError(message: "usage: vigil rules delete-signals ID --confirm", exitCode: 2) }
        let id = args.words[2]
        return try RulesCommand.withClient(args) { call in
            guard args.flags["confirm"] != nil else {
                let d = try call("rules.get", RuleRequest(id: id), RuleDetail.self)
                throw CLIError(message: "this deletes the \(d.summary.signalCount) stored signal\(d.summary.signalCount == 1 ? "" : "s") of '\(d.summary.name)'; add --confirm to do it", exitCode: 2)
            }
            let r = try call("rules.delete-signals", RuleRequest(id: id), DeleteSignalsResponse.self)
            print(args.json ? RulesCommand.json(["rule_id": r.ruleId, "deleted": r.deleted]) : "deleted \(r.deleted) signal\(r.deleted == 1 ? "" : "s") of rule \(r.ruleId)")
            return 0
        }
    }

    static func library(_ args: Args) throws -> Int32 {
        guard args.words.count >= 3 else { throw CLIError(message: libraryUsage, exitCode: 2) }
        let sub = args.words[2]
        func id() throws -> String {
            guard args.words.count >= 4 else { throw CLIError(message: "usage: vigil rules library \(sub) ID", exitCode: 2) }
            return args.words[3]
        }
        return try RulesCommand.withClient(args) { call in
            switch sub {
            case "list":
                let page = try call("library.list", RuleRequest(), LibraryPage.self)
                if args.json {
                    for e in page.entries {
                        let s = e.summary
                        print(RulesCommand.json(["id": s.id, "name": s.name, "criticality": s.criticality.name, "type": s.type, "tactics": s.tacticIds,
                                                 "techniques": s.techniqueIds, "log_sources": s.logSources, "installed": e.installed,
                                                 "status": e.installedStatus, "modified": e.installedModified, "copies": e.copies, "tests": e.tests,
                                                 "signals": s.signalCount]))
                    }
                    return 0
                }
                print(Table.render(header: ["ID", "STATUS", "CRIT", "TYPE", "TACTIC", "TECHNIQUE", "COPIES", "SIGNALS", "NAME"], rows: page.entries.map { e in
                    let s = e.summary
                    let status = !e.installed ? "-" : e.installedStatus + (e.installedModified ? "*" : "")
                    return [s.id, status, s.criticality.name, s.type, s.tacticIds.first ?? "", s.techniqueIds.first ?? "", String(e.copies), String(s.signalCount), s.name]
                }))
                let active = page.entries.filter { $0.installedStatus == "active" }.count
                print("\(page.entries.count) library rules, \(active) active (* = installed rule edited since)")
            case "show", "get":
                let d = try call("library.get", RuleRequest(id: try id()), LibraryDetail.self)
                if args.json { print(d.ruleJson, terminator: ""); return 0 }
                let s = d.entry.summary
                print("\(s.name)  (library, v\(s.version))\nid          \(s.id)")
                print("installed   \(d.entry.installed ? d.entry.installedStatus + (d.entry.installedModified ? ", edited" : "") : "no")   copies \(d.entry.copies)   tests \(d.entry.tests)")
                print("criticality \(s.criticality.name), base risk \(s.riskScore)\nmitre       \((s.tacticIds + s.techniqueIds).joined(separator: " "))")
                print("log sources \(s.logSources.isEmpty ? "any" : s.logSources.joined(separator: ", "))\nsignals     \(s.signalCount)")
                print("\n\(d.entry.description)\n\n\(d.explanation)")
            case "activate":
                let d = try call("library.activate", RuleRequest(id: try id()), RuleDetail.self)
                print(args.json ? RulesCommand.json(["id": d.summary.id, "status": d.summary.status, "version": d.summary.version])
                                : "\(d.summary.name): \(d.summary.status) (v\(d.summary.version))")
            case "copy":
                let d = try call("library.copy", RuleRequest(id: try id()), RuleDetail.self)
                if args.json { print(RulesCommand.json(["id": d.summary.id, "name": d.summary.name, "derived_from": try id()])); return 0 }
                print("created \(d.summary.id)  \(d.summary.name)  (inactive; derived from \(try id()))")
                print("edit:  vigil rules get \(d.summary.id) --json > rule.json; edit it; vigil rules import rule.json")
            default:
                throw CLIError(message: "unknown library command '\(sub)'\n\(libraryUsage)", exitCode: 2)
            }
            return 0
        }
    }

    /// `vigil signals dashboard [QQL] [--since 24h | --from T --to T] [--json]`.
    static func dashboard(_ args: Args) throws -> Int32 {
        let q = try EventsCommand.request(args, query: args.words.dropFirst(2).joined(separator: " "))
        var req = DashboardRequest(fromTimeMs: q.fromTimeMs, toTimeMs: q.toTimeMs, query: q.query)
        if args.flags["since"] == nil && args.flags["from"] == nil { req.fromTimeMs = Clock.nowMs() - 24 * 3_600_000 }
        return try RulesCommand.withClient(args) { call in
            let d = try call("signals.dashboard", req, Dashboard.self)
            if args.json {
                func list(_ b: [DashboardBucket]) -> [[String: Any]] { b.map { $0.name.isEmpty ? ["key": $0.key, "count": $0.count] : ["key": $0.key, "name": $0.name, "count": $0.count] } }
                print(RulesCommand.json(["from": Clock.iso8601(d.fromTimeMs), "to": Clock.iso8601(d.toTimeMs), "total": d.total,
                                         "by_stage": list(d.byStage), "top_tactics": list(d.topTactics), "top_users": list(d.topUsers),
                                         "top_assets": list(d.topAssets), "by_criticality": list(d.byCriticality)]))
                return 0
            }
            print("signals \(Clock.iso8601(d.fromTimeMs)) → \(Clock.iso8601(d.toTimeMs)): \(d.total)")
            section("By MITRE ATT&CK stage", d.byStage.map { ("\($0.key) \($0.name)", $0.count) })
            section("Top tactics", d.topTactics.map { ("\($0.key) \($0.name)", $0.count) })
            section("Top users", d.topUsers.map { ($0.key, $0.count) })
            section("Top assets", d.topAssets.map { ($0.key, $0.count) })
            section("By criticality", d.byCriticality.map { ($0.key, $0.count) })
            return 0
        }
    }

    static func section(_ title: String, _ rows: [(String, UInt64)]) {
        print("\n\(title)")
        if rows.isEmpty { print("  (none)"); return }
        let maxCount = max(1, rows.map(\.1).max() ?? 1)
        let width = rows.map(\.0.count).max() ?? 0
        for (label, n) in rows {
            let pad = String(repeating: " ", count: max(0, width - label.count))
            print("  \(label)\(pad)  \(String(n).leftPadded(6))  \(EventsCommand.bar(Double(n) / Double(maxCount), width: 30))")
        }
    }

    /// `vigil signals show ID [--json]`: the signal with its events and asset.
    static func show(_ args: Args) throws -> Int32 {
        guard args.words.count >= 3 else { throw CLIError(message: "usage: vigil signals show ID [--json]", exitCode: 2) }
        return try RulesCommand.withClient(args) { call in
            let d = try call("signals.detail", GetRequest(id: args.words[2]), SignalDetail.self)
            let s = d.signal
            if args.json {
                var o: [String: Any] = ["signal": (try? JSONSerialization.jsonObject(with: Data(RulesCommand.signalJSON(s).utf8))) ?? [:],
                                        "events": d.events.map { ["id": $0.id, "time": Clock.iso8601($0.eventTimeMs), "format": $0.format,
                                                                  "raw": String(decoding: $0.raw, as: UTF8.self), "fields": $0.fields, "enriched": $0.enriched] }]
                if let a = d.asset { o["asset"] = ["id": a.id, "name": a.name, "hostname": a.hostname, "ip": a.ip, "criticality": a.criticality, "os": a.os, "owner": a.owner, "tags": a.tags] }
                if !d.lookupError.isEmpty { o["lookup_error"] = d.lookupError }
                print(RulesCommand.json(o))
                return 0
            }
            print("\(s.ruleName)  (rule \(s.ruleId) v\(s.ruleVersion))\nid          \(s.id)")
            print("criticality \(s.criticality.name), risk \(s.riskScore)\nmitre       \(s.mitre.tacticId) \(s.mitre.tacticName) / \(s.mitre.techniqueId) \(s.mitre.techniqueName)")
            print("entity      user=\(s.entity.user) asset=\(s.entity.asset) ip=\(s.entity.ip)\ngroup       \(s.groupKey)")
            if let a = d.asset {
                print("asset       \(a.name) (\(a.id)) host=\(a.hostname) ip=\(a.ip) criticality=\(a.criticality) os=\(a.os) owner=\(a.owner)")
            } else {
                print("asset       (none in the inventory)")
            }
            print("\nevents (\(d.events.count) of \(s.eventIds.count))")
            print(Table.render(header: ["TIME", "FORMAT", "ID", "RAW"], rows: d.events.map {
                [Clock.iso8601($0.eventTimeMs), $0.format, $0.id, String(String(decoding: $0.raw, as: UTF8.self).prefix(100))]
            }))
            if !d.lookupError.isEmpty { print("note: \(d.lookupError)") }
            return 0
        }
    }
}


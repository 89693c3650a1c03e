import Foundation
import VigilBus
import VigilLog
import VigilQuery
import VigilWire

/// `vigil users …` — the user-analytics service: risk overview, users with risk, one user's
/// tabs, directory syncs, imports and user lists (docs/users.md).
enum UserCommands {
    static let usage = """
    usage:
      vigil users overview [--limit N] [--since 7d]       highest-risk users with signal counts
      vigil users list [QQL] [--limit N]                  e.g. vigil users list 'user.department: Finance'
      vigil users show USER [--tab general|trend|timeline|details] [--since 7d] [--tactic T] [--bucket 1h]
      vigil users sync [--mode full|changed] [--wait S]   sync from LDAP / Active Directory now and wait for the outcome
      vigil users syncs [--limit N]                       latest syncs with their counts and problems
      vigil users import FILE [--format csv|json]         directory users from a file
      vigil users lists [--limit N]                       each user list with its top-risk users
    """

    static func run(_ args: Args) throws -> Int32 {
        guard args.words.count >= 2 else { throw CLIError(message: usage, exitCode: 2) }
        let ctx = ZContext()
        defer { ctx.terminate() }
        let c = try Connection.client(args, ctx)
        defer { c.close() }
        func call<R: WireMessage>(_ method: String, _ req: some WireMessage, _: R.Type) throws -> R {
            do { return try c.call(service: "user-analytics", method: method, req, as: R.self, timeoutMs: 60_000) }
            catch let e as RpcError { throw CLIError(message: "user-analytics \(method): \(e.message)") }
        }
        switch args.words[1] {
        case "overview":
            var req = try request(args)
            req.limit = UInt32(try args.int("limit", 20))
            let p = try call("ua.overview", req, UserRiskPage.self)
            if args.json { printJSON(["total": p.total, "users": p.users.map(json)]) } else { printRisks(p, signalsLabel: "SIGNALS(RANGE)") }
        case "list", "search":
            var req = UserRequest(query: args.words.dropFirst(2).joined(separator: " "))
            req.limit = UInt32(try args.int("limit", 100))
            let p = try call("ua.users", req, UserRiskPage.self)
            if args.json { printJSON(["total": p.total, "users": p.users.map(json)]) } else { printRisks(p, signalsLabel: "SIGNALS") }
        case "show":
            guard args.words.count == 3 else { throw CLIError(message: "usage: vigil users show USER [--tab general|trend|timeline|details] [--since 7d]", exitCode: 2) }
            var req = try request(args)
            req.user = args.words[2]
            req.tactic = args.flags["tactic"] ?? ""
            if let b = args.flags["bucket"] {
                guard let t = TimeValue.parse("now-" + b) else { throw CLIError(message: "--bucket: '\(b)' is not a duration (e.g. 1h)", exitCode: 2) }
                req.bucketMs = Clock.nowMs() - t.resolve(nowMillis: Clock.nowMs())
            }
            let tab = args.flags["tab"] ?? "general"
            guard ["general", "trend", "timeline", "details"].contains(tab) else {
                throw CLIError(message: "--tab: '\(tab)'; expected general, trend, timeline or details", exitCode: 2)
            }
            let d = try call("ua.user", req, UserDetail.self)
            // The trend tab adds the user's activity from enrichment's events, internal vs external.
            let act: Activity? = tab == "trend" ? activity(c, d) : nil
            if args.json {
                var o = detailJSON(d, tab: tab)
                if let a = act { o["activity"] = a.json }
                printJSON(o)
            } else {
                printDetail(d, tab: tab)
                if let a = act { printActivity(a) }
            }
        case "sync":
            let mode = args.flags["mode"] ?? "full"
            var r = try call("ua.sync", DirectorySyncRequest(mode: mode), DirectorySyncReport.self)
            // The service reads the directory in the background; wait for its outcome.
            let deadline = Clock.monotonicMs() + Int64(try args.int("wait", 300)) * 1000
            let started = r.startedTimeMs
            while r.running && Clock.monotonicMs() < deadline {
                usleep(200_000)
                if let done = try call("ua.syncs", UserRequest(limit: 5), DirectorySyncReportList.self).syncs.first(where: { $0.startedTimeMs >= started }) { r = done }
            }
            if r.running { throw CLIError(message: "the sync started at \(time(started)) is still running; see vigil users syncs") }
            if args.json { printJSON(syncJSON(r)) } else { printSyncs([r]) }
            return r.ok ? 0 : 1
        case "syncs":
            let l = try call("ua.syncs", UserRequest(limit: UInt32(try args.int("limit", 10))), DirectorySyncReportList.self)
            if args.json { printJSON(["syncs": l.syncs.map(syncJSON)]) } else { printSyncs(l.syncs) }
        case "import":
            guard args.words.count == 3 else { throw CLIError(message: "usage: vigil users import FILE [--format csv|json]", exitCode: 2) }
            let path = args.words[2]
            guard let data = FileManager.default.contents(atPath: path) else { throw CLIError(message: "cannot read \(path)") }
            let format = args.flags["format"] ?? (path.lowercased().hasSuffix(".json") ? "json" : "csv")
            let req = ImportRequest(format: format, content: [UInt8](data), origin: (path as NSString).lastPathComponent)
            // user-analytics stores them and publishes directory.changed (enrichment follows);
            // without user-analytics running, enrichment imports them directly as before.
            let r: ImportResponse
            do {
                r = try c.call(service: "user-analytics", method: "users.import", req, as: ImportResponse.self, timeoutMs: 60_000)
            } catch let e as RpcError where e.code == .unavailable || e.code == .timeout {
                do { r = try c.call(service: "enrichment", method: "users.import", req, as: ImportResponse.self, timeoutMs: 30_000) }
                catch let e2 as RpcError { throw CLIError(message: "users.import: user-analytics: \(e.message); enrichment: \(e2.message)") }
            } catch let e as RpcError {
                throw CLIError(message: "user-analytics users.import: \(e.message)")
            }
            if args.json { printJSON(["imported": r.imported, "rejected": r.rejected, "errors": r.errors]) }
            else {
                print("imported \(r.imported) users, rejected \(r.rejected)")
                for e in r.errors { print("  \(e)") }
            }
            return r.rejected > 0 ? 1 : 0
        case "lists":
            let l = try call("ua.lists", UserRequest(limit: UInt32(try args.int("limit", 5))), UserListRiskList.self)
            if args.json {
                printJSON(["lists": l.lists.map { ["id": $0.id, "name": $0.name, "query": $0.query, "members": $0.members, "error": $0.error, "top": $0.top.map(json)] as [String: Any] }])
            } else {
                if l.lists.isEmpty { print("(no user lists: create one with vigil config create user_list, docs/users.md)") }
                for x in l.lists {
                    print("\(x.name)  (\(x.members) users\(x.query.isEmpty ? "" : ", query: \(x.query)"))")
                    if !x.error.isEmpty { print("  query error: \(x.error)") }
                    for u in x.top { print("  \(String(format: "%5.1f", u.score))  \(u.id)  \(u.displayName)") }
                }
            }
        default:
            throw CLIError(message: "unknown users command '\(args.words[1])'\n\(usage)", exitCode: 2)
        }
        return 0
    }

    static func request(_ args: Args) throws -> UserRequest {
        var req = UserRequest()
        let q = try EventsCommand.request(args, query: "")
        req.fromTimeMs = q.fromTimeMs
        req.toTimeMs = q.toTimeMs
        return req
    }

    static func time(_ ms: Int64) -> String { ms == 0 ? "-" : String(Clock.iso8601(ms).prefix(19)) }

    static func printRisks(_ p: UserRiskPage, signalsLabel: String) {
        if p.users.isEmpty { print("(no users)"); return }
        print(Table.render(header: ["RISK", "", "USER", "NAME", "DEPARTMENT", "PRIV", signalsLabel, "LAST SIGNAL", "TOP RULE"], rows: p.users.map {
            [String(format: "%.1f", $0.score), EventsCommand.bar($0.score / 100, width: 10), $0.id, $0.displayName, $0.department,
             $0.privileged ? "yes" : "", String($0.signals), time($0.lastSignalTimeMs), $0.topRule + ($0.inDirectory ? "" : "  (not in directory)")]
        }))
        print("\(p.users.count) of \(p.total) users")
    }

    /// ▁▂▃▄▅▆▇█ over the score (0–100).
    static func sparkline(_ values: [Double]) -> String {
        let ticks = Array("▁▂▃▄▅▆▇█")
        return String(values.map { ticks[min(7, max(0, Int($0 / 100 * 7.999)))] })
    }

    static func printDetail(_ d: UserDetail, tab: String) {
        let u = d.directory
        print("\(d.risk.id)  \(u.displayName)  risk \(String(format: "%.1f", d.risk.score))\(d.risk.privileged ? "  privileged" : "")\(d.risk.inDirectory ? "" : "  (not in directory)")")
        print("range \(time(d.fromTimeMs)) … \(time(d.toTimeMs)), \(d.risk.signals) signals\n")
        switch tab {
        case "general":
            print("BY TACTIC")
            print(d.byTactic.isEmpty ? "  (none)" : Table.render(header: ["TACTIC", "SIGNALS"], rows: d.byTactic.map { [$0.label, String($0.count)] }))
            print("\nWHY THE SCORE (by rule; points sum to the score)")
            print(d.byRule.isEmpty ? "  (no signals)" : Table.render(header: ["POINTS", "RULE", "SIGNALS", "DECAYED"], rows: d.byRule.map {
                [String(format: "%.1f", $0.points), $0.ruleName.isEmpty ? $0.ruleId : $0.ruleName, String($0.count), String(format: "%.1f", $0.decayed)]
            }))
            print("\nBY SIGNAL")
            print(d.bySignal.isEmpty ? "  (none)" : Table.render(header: ["POINTS", "TIME", "RULE", "SCORE", "WEIGHT", "DECAYED", "SIGNAL"], rows: d.bySignal.prefix(20).map {
                [String(format: "%.1f", $0.points), time($0.timeMs), $0.ruleName, String($0.signalScore), String(format: "%.2g", $0.weight), String(format: "%.1f", $0.decayed), $0.signalId]
            }))
            print("\nSIGNAL TIMELINE")
            print(d.signals.isEmpty ? "  (none in range)" : Table.render(header: ["TIME", "TACTIC", "RULE", "SCORE", "EVENTS"], rows: d.signals.prefix(50).map {
                [time($0.timeMs), $0.tactic, $0.ruleName, String($0.score), $0.eventIds.prefix(3).joined(separator: ",") + ($0.eventIds.count > 3 ? ",…" : "")]
            }))
        case "trend":
            print("risk  \(sparkline(d.trend.map(\.score)))\n")
            print(d.trend.isEmpty ? "(no points)" : Table.render(header: ["TIME", "SCORE", "MOVE", "SIGNAL"], rows: d.trend.filter { !$0.signalId.isEmpty || $0.delta != 0 }.map {
                [time($0.timeMs), String(format: "%.1f", $0.score), String(format: "%+.1f", $0.delta), $0.signalId.isEmpty ? "(decay)" : "\($0.ruleName)  \($0.signalId)"]
            }))
        case "timeline":
            let maxCount = Double(d.timeline.map(\.count).max() ?? 1)
            print("bucket \(CLI.formatDuration(d.bucketMs))")
            print(Table.render(header: ["START", "SIGNALS", ""], rows: d.timeline.map {
                [time($0.startTimeMs), String($0.count), EventsCommand.bar(Double($0.count) / max(1, maxCount), width: 30)]
            }))
        default:
            var rows: [[String]] = [["id", u.id], ["sAMAccountName", u.samAccountName], ["userPrincipalName", u.upn], ["mail", u.email],
                                    ["objectSid", u.sid], ["displayName", u.displayName], ["department", u.department], ["title", u.title],
                                    ["manager", u.manager], ["groups", u.groups.joined(separator: "; ")], ["privileged", u.privileged ? "yes" : "no"],
                                    ["updated", time(u.updatedTimeMs)]]
            for (k, v) in d.attributes.sorted(by: { $0.key < $1.key }) { rows.append(["ldap " + k, v]) }
            print(Table.render(header: ["ATTRIBUTE", "VALUE"], rows: rows))
        }
    }

    static func printSyncs(_ l: [DirectorySyncReport]) {
        if l.isEmpty { print("(no syncs yet)"); return }
        print(Table.render(header: ["STARTED", "MODE", "RESULT", "FETCHED", "ADDED", "UPDATED", "UNCHANGED", "REJECTED", "DUPLICATES", "MISSING"], rows: l.map {
            [time($0.startedTimeMs), $0.mode, $0.ok ? "ok" : "failed: " + $0.error, String($0.fetched), String($0.added), String($0.updated),
             String($0.unchanged), String($0.rejected), String($0.duplicates), String($0.missing)]
        }))
        for r in l { for p in r.problems { print("  \(p)") } }
    }

    /// Events of the user per bucket, split by source address: internal (RFC 1918, loopback,
    /// ULA) or external (any other address). Events without a source address are in neither.
    struct Activity {
        var bucketMs: Int64 = 0
        var inside: [HistogramResponse.Bucket] = []
        var outside: [HistogramResponse.Bucket] = []
        var error = ""
        var json: [String: Any] {
            if !error.isEmpty { return ["error": error] }
            let ti: UInt64 = inside.reduce(0) { $0 + $1.count }
            let te: UInt64 = outside.reduce(0) { $0 + $1.count }
            var rows: [[String: Any]] = []
            for (i, o) in zip(inside, outside) { rows.append(["start_time_ms": i.startTimeMs, "internal": i.count, "external": o.count]) }
            return ["bucket_ms": bucketMs, "internal_total": ti, "external_total": te, "buckets": rows]
        }
    }

    static let internalNets = "[10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 127.0.0.0/8, fc00::/7, ::1/128]"

    static func activity(_ c: RpcClient, _ d: UserDetail) -> Activity {
        var a = Activity()
        // Directory users are matched by the id enrichment attached; others by account name.
        let who = d.risk.inDirectory ? "enriched.user.id: \"\(d.risk.id)\"" : "user.name: \"\(d.risk.name.isEmpty ? d.risk.id : d.risk.name)\""
        func histogram(_ q: String) throws -> HistogramResponse {
            var r = QueryRequest(query: q)
            r.fromTimeMs = d.fromTimeMs; r.toTimeMs = d.toTimeMs; r.buckets = 24
            return try c.call(service: "enrichment", method: "events.histogram", r, as: HistogramResponse.self, timeoutMs: 30_000)
        }
        do {
            let i = try histogram("\(who) and source.ip: \(internalNets)")
            let e = try histogram("\(who) and source.ip: [0.0.0.0/0, ::/0] and not source.ip: \(internalNets)")
            a.bucketMs = i.bucketMs; a.inside = i.buckets; a.outside = e.buckets
        } catch {
            a.error = "activity from enrichment unavailable: \(error)"
        }
        return a
    }

    static func printActivity(_ a: Activity) {
        print("\nACTIVITY (events by source address)")
        if !a.error.isEmpty { print("  " + a.error); return }
        let ti: UInt64 = a.inside.reduce(0) { $0 + $1.count }
        let te: UInt64 = a.outside.reduce(0) { $0 + $1.count }
        print("internal \(ti), external \(te), bucket \(CLI.formatDuration(a.bucketMs))")
        var rows: [[String]] = []
        for (i, o) in zip(a.inside, a.outside) where i.count + o.count > 0 { rows.append([time(i.startTimeMs), String(i.count), String(o.count)]) }
        if !rows.isEmpty { print(Table.render(header: ["START", "INTERNAL", "EXTERNAL"], rows: rows)) }
    }

    static func json(_ u: UserRisk) -> [String: Any] {
        ["id": u.id, "name": u.name, "display_name": u.displayName, "department": u.department, "title": u.title, "privileged": u.privileged,
         "score": u.score, "signals": u.signals, "last_signal_time_ms": u.lastSignalTimeMs, "top_rule": u.topRule, "in_directory": u.inDirectory]
    }

    static func syncJSON(_ r: DirectorySyncReport) -> [String: Any] {
        ["mode": r.mode, "ok": r.ok, "error": r.error, "started_time_ms": r.startedTimeMs, "finished_time_ms": r.finishedTimeMs,
         "fetched": r.fetched, "added": r.added, "updated": r.updated, "unchanged": r.unchanged, "rejected": r.rejected,
         "duplicates": r.duplicates, "missing": r.missing, "problems": r.problems, "pages": r.pages]
    }

    static func detailJSON(_ d: UserDetail, tab: String) -> [String: Any] {
        var o: [String: Any] = ["user": json(d.risk), "from_time_ms": d.fromTimeMs, "to_time_ms": d.toTimeMs]
        func contrib(_ c: RiskContribution) -> [String: Any] {
            ["signal_id": c.signalId, "rule_id": c.ruleId, "rule_name": c.ruleName, "tactic": c.tactic, "signal_score": c.signalScore,
             "weight": c.weight, "decayed": c.decayed, "points": c.points, "time_ms": c.timeMs, "count": c.count]
        }
        switch tab {
        case "general":
            o["by_tactic"] = d.byTactic.map { ["tactic": $0.key, "count": $0.count] }
            o["by_rule"] = d.byRule.map(contrib)
            o["by_signal"] = d.bySignal.map(contrib)
            o["signals"] = d.signals.map { ["id": $0.id, "rule_id": $0.ruleId, "rule_name": $0.ruleName, "tactic": $0.tactic, "score": $0.score,
                                            "time_ms": $0.timeMs, "event_ids": $0.eventIds] as [String: Any] }
        case "trend":
            o["trend"] = d.trend.map { ["time_ms": $0.timeMs, "score": $0.score, "delta": $0.delta, "signal_id": $0.signalId, "rule_name": $0.ruleName] as [String: Any] }
        case "timeline":
            o["bucket_ms"] = d.bucketMs
            o["timeline"] = d.timeline.map { ["start_time_ms": $0.startTimeMs, "count": $0.count] }
        default:
            let u = d.directory
            o["directory"] = ["id": u.id, "sam_account_name": u.samAccountName, "upn": u.upn, "email": u.email, "sid": u.sid,
                              "display_name": u.displayName, "department": u.department, "title": u.title, "manager": u.manager,
                              "groups": u.groups, "privileged": u.privileged, "updated_time_ms": u.updatedTimeMs] as [String: Any]
            o["attributes"] = d.attributes
        }
        return o
    }

    static func printJSON(_ o: Any) {
        let d = (try? JSONSerialization.data(withJSONObject: o, options: [.sortedKeys, .prettyPrinted])) ?? Data("{}".utf8)
        print(String(decoding: d, as: UTF8.self))
    }
}

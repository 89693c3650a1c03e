import Foundation
import VigilBus
import VigilLog
import VigilQuery
import VigilWire
#if canImport(Glibc)
import Glibc
#endif

/// `vigil demo [--data DIR] [--seed N] [--at TIME] [--json]`: replays a generated day of a small network
/// (DemoDataset) into the running stack — assets, directory users, a threat-intel feed, the
/// rules that catch the day's four attacks — and shows what Vigil made of it. Rerun-safe
/// within the hour: batch ids repeat, so ingest stores nothing twice.
enum DemoCommand {
    /// Library rules the demo activates (ids are stable across versions).
    static let rules: [(id: String, name: String)] = [
        ("17e3cb05-f38c-50ed-b395-7b9e0a673349", "SSH brute force from one address"),
        ("4074fbca-55f2-5b43-9059-f40a4303c295", "SSH login succeeds after repeated failures"),
        ("c67b6c41-0a8a-5ce8-a43a-34ad9a22478b", "Encoded PowerShell command line"),
        ("38bb0ad6-3276-5d84-ac33-64e532946a19", "Office application starts a shell"),
        ("440176b3-56db-5394-8621-bc62536d61c0", "Local Linux account created"),
        ("b6389476-dae0-5b97-bc66-f2a9bc7b5265", "Account added to sudo or wheel group"),
        ("0b6f3c2e-7d1a-5e42-9c1f-4a8e2d7b3c51", "Connection to a threat-intel indicator"),
    ]

    static func say(_ s: String, _ args: Args) { if !args.json { print(s) } }

    static func run(_ args: Args) throws -> Int32 {
        let data = args.data
        let ctx = ZContext()
        defer { ctx.terminate() }
        let client = try Connection.client(args, ctx, checkBroker: false)
        defer { client.close() }
        for s in ["ingest", "enrichment", "detection"] where (try? client.call(service: s, method: "sys.health", timeoutMs: 2000)) == nil {
            throw CLIError(message: "the demo needs the running stack, and \(s) is not answering; start it with `vigil up --data \(data)`")
        }
        func call<R: WireMessage>(_ service: String, _ method: String, _ req: some WireMessage, _: R.Type, timeoutMs: Int64 = 30_000) throws -> R {
            do { return try client.call(service: service, method: method, req, as: R.self, timeoutMs: timeoutMs) }
            catch let e as RpcError { throw CLIError(message: "\(service) \(method): \(e.message)") }
        }
        let seed = UInt64(try args.int("seed", 42))
        // --at: the end of the demo day (default now); batch ids derive from its hour.
        var endMs = Clock.nowMs()
        if let at = args.flags["at"] {
            guard let t = TimeValue.parse(at) else { throw CLIError(message: "--at: '\(at)' is not a time (ISO 8601 or epoch ms)", exitCode: 2) }
            endMs = t.resolve(nowMillis: endMs)
        }
        let lines = DemoDataset.generate(endMs: endMs, seed: seed)
        say("Vigil demo: one day of a small network (12 hosts, 11 people), \(lines.count) log lines, four attacks hidden in it.", args)

        // 1. Context for enrichment: inventory, directory, threat intel.
        let assets = try call("enrichment", "assets.import", ImportRequest(format: "csv", content: Array(DemoDataset.assetsCSV.utf8), origin: "vigil demo"), ImportResponse.self)
        // Directory users go to user-analytics (which scores them and passes them on to enrichment
        // over directory.changed); straight to enrichment when user-analytics is not running.
        let hasAnalytics = (try? client.call(service: "user-analytics", method: "sys.health", timeoutMs: 2000)) != nil
        let users = try call(hasAnalytics ? "user-analytics" : "enrichment", "users.import",
                             ImportRequest(format: "csv", content: Array(DemoDataset.usersCSV.utf8), origin: "vigil demo"), ImportResponse.self)
        say("  assets      \(assets.imported) imported (criticality, owner, OS)", args)
        say("  users       \(users.imported) directory users imported (department, manager, privileged)\(hasAnalytics ? "" : "; user-analytics is not running, so no risk scores")", args)
        let intel = try installFeed(data: data, client: client)
        say("  intel       \(intel)", args)

        // 2. The rules that catch the day's attacks (library rules, inactive until someone activates them).
        var activated = 0
        var missing: [String] = []
        for r in rules {
            do { _ = try client.call(service: "detection", method: "rules.activate", RuleRequest(id: r.id), as: RuleDetail.self, timeoutMs: 10_000); activated += 1 }
            catch { missing.append(r.name) }
        }
        say("  rules       \(activated) library rules active\(missing.isEmpty ? "" : " (not in this store: \(missing.joined(separator: ", ")); a data directory older than the library)")", args)

        // 3. The day's lines, in batches acknowledged after ingest committed them.
        let stamp = String(Clock.iso8601(endMs).prefix(13)).filter { $0.isNumber }
        let before = try call("detection", "signals.count", QueryRequest(), CountResponse.self).count
        let started = Clock.monotonicMs()
        var accepted = 0, unparsed = 0, duplicates = 0
        let batchSize = 500
        for (n, chunk) in stride(from: 0, to: lines.count, by: batchSize).enumerated() {
            var batch = EventBatch()
            batch.batchId = "demo-\(seed)-\(stamp)-\(n)"
            batch.agentId = "demo"
            batch.events = lines[chunk..<min(lines.count, chunk + batchSize)].map { l in
                var e = Event()
                e.raw = Array(l.raw.utf8)
                e.source = l.source
                e.format = l.hint
                return e
            }
            let ack = try call("ingest", "ingest.submit", batch, EventBatchAck.self)
            accepted += Int(ack.accepted); unparsed += Int(ack.unparsed)
            if ack.duplicate { duplicates += 1 }
            if !args.json && isatty(STDERR_FILENO) == 1 {
                FileHandle.standardError.write(Data("\r\u{1B}[2K  sending     \(min(lines.count, chunk + batchSize))/\(lines.count) lines".utf8))
            }
        }
        if !args.json && isatty(STDERR_FILENO) == 1 { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
        say("  ingest      \(accepted) events accepted (\(unparsed) unparsed) in \(Clock.monotonicMs() - started) ms\(duplicates > 0 ? "; \(duplicates) batches were already stored by an earlier run this hour" : "")", args)

        // 4. Wait until the events are stored and detection is quiet.
        let demoSources = "event.source: [demo:linux, demo:windows, demo:firewall]"
        var stored: UInt64 = 0
        let deadline = Clock.monotonicMs() + Int64(try args.int("timeout", 60)) * 1000
        while Clock.monotonicMs() < deadline {
            stored = try call("enrichment", "events.count", QueryRequest(query: demoSources), CountResponse.self).count
            if stored >= UInt64(accepted) { break }
            usleep(200_000)
        }
        var signals = try call("detection", "signals.count", QueryRequest(), CountResponse.self).count
        var stableSince = Clock.monotonicMs()
        while Clock.monotonicMs() < deadline && Clock.monotonicMs() - stableSince < 2000 {
            usleep(250_000)
            let n = try call("detection", "signals.count", QueryRequest(), CountResponse.self).count
            if n != signals { signals = n; stableSince = Clock.monotonicMs() }
        }
        let threats = try call("enrichment", "events.count", QueryRequest(query: "\(demoSources) and threat.indicator.matched: true"), CountResponse.self).count
        let withAsset = try call("enrichment", "events.count", QueryRequest(query: "\(demoSources) and asset.id: *"), CountResponse.self).count
        say("  stored      \(stored) events searchable; \(withAsset) resolved to an asset, \(threats) matched threat intel", args)

        var q = QueryRequest(query: "signal.event_time >= \(endMs - 25 * 3_600_000)")
        q.limit = 500
        let page = try call("detection", "signals.search", q, SignalPage.self)
        let raised = page.signals
        if args.json {
            let obj: [String: Any] = ["lines": lines.count, "accepted": accepted, "unparsed": unparsed, "stored": stored,
                                      "threat_matches": threats, "signals_new": Int(signals) - Int(before),
                                      "signals": raised.map { ["rule": $0.ruleName, "criticality": $0.criticality.name, "risk": $0.riskScore,
                                                               "user": $0.entity.user, "asset": $0.entity.asset, "ip": $0.entity.ip] }]
            let d = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
            print(String(decoding: d, as: UTF8.self))
            return 0
        }
        print("  signals     \(Int(signals) - Int(before)) new (\(raised.count) for this day):\n")
        var byRule: [String: (count: Int, crit: String, risk: UInt32, entities: Set<String>)] = [:]
        for s in raised {
            var r = byRule[s.ruleName] ?? (0, s.criticality.name, 0, [])
            r.count += 1
            r.risk = max(r.risk, s.riskScore)
            for v in [s.entity.user, s.entity.asset, s.entity.ip] where !v.isEmpty { r.entities.insert(v) }
            byRule[s.ruleName] = r
        }
        print(Table.render(header: ["SIGNALS", "CRITICALITY", "RISK", "RULE", "WHO / WHERE"],
                           rows: byRule.sorted { ($0.value.risk, $0.key) > ($1.value.risk, $1.key) }.map { name, r in
            [String(r.count), r.crit.uppercased(), String(r.risk), name, r.entities.sorted().prefix(4).joined(separator: ", ")]
        }))
        if hasAnalytics {
            // Risk is scored as signals arrive; give user-analytics a moment to catch up.
            usleep(1_000_000)
            var req = UserRequest()
            req.limit = 5
            req.fromTimeMs = endMs - 25 * 3_600_000
            if let top = try? client.call(service: "user-analytics", method: "ua.overview", req, as: UserRiskPage.self, timeoutMs: 10_000),
               !top.users.isEmpty {
                print("\n  riskiest users (user-analytics, decaying risk 0–100):")
                print(Table.render(header: ["USER", "RISK", "SIGNALS", "DEPARTMENT", "TOP RULE"], rows: top.users.map {
                    [$0.name + ($0.privileged ? " (privileged)" : ""), String(format: "%.1f", $0.score), String($0.signals),
                     $0.department, $0.topRule]
                }))
            }
        }
        print("""

        Look closer:
          vigil events search 'source.ip: \(DemoDataset.attackerIP)' --data \(data)      the brute force, line by line
          vigil events search 'threat.indicator.matched: true' --data \(data)   the beacon, with the feed that knew the address
          vigil signals search 'criticality: high' --data \(data)
          vigil events get ID --data \(data)                                    event values vs enriched values
          vigil users show admin --tab trend --data \(data)                     why a user's risk is what it is
        """)
        return 0
    }

    /// Writes the demo indicator list and adds a `demo` feed to `<data>/config/feeds.json`
    /// (creating it, or adding to an existing valid file), then asks enrichment to load it.
    static func installFeed(data: String, client: RpcClient) throws -> String {
        func call(_ method: String, _ req: IntelReloadRequest) throws -> FeedStatusList {
            do { return try client.call(service: "enrichment", method: method, req, as: FeedStatusList.self, timeoutMs: 30_000) }
            catch let e as RpcError { throw CLIError(message: "enrichment \(method): \(e.message)") }
        }
        let dir = "\(data)/config"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try DemoDataset.indicators.write(toFile: "\(dir)/demo-indicators.txt", atomically: true, encoding: .utf8)
        let path = "\(dir)/feeds.json"
        var doc: [String: Any] = ["feeds": [Any]()]
        if let d = FileManager.default.contents(atPath: path) {
            guard let o = try? JSONSerialization.jsonObject(with: d) as? [String: Any], o["feeds"] is [Any] else {
                return "skipped: \(path) is not a feeds file this demo can add to (left unchanged)"
            }
            doc = o
        }
        var feeds = doc["feeds"] as? [Any] ?? []
        if !feeds.contains(where: { ($0 as? [String: Any])?["name"] as? String == "demo" }) {
            feeds.append(["name": "demo", "format": "plain", "location": "demo-indicators.txt", "confidence": 90, "refresh": "1h"] as [String: Any])
            doc["feeds"] = feeds
            let out = try JSONSerialization.data(withJSONObject: doc, options: [.prettyPrinted, .sortedKeys])
            try out.write(to: URL(fileURLWithPath: path), options: .atomic)
        }
        var status = try call("intel.reload", IntelReloadRequest(feed: "demo"))
        let deadline = Clock.monotonicMs() + 10_000
        while Clock.monotonicMs() < deadline {
            if let f = status.feeds.first(where: { $0.name == "demo" }), !f.loading, f.lastLoadTimeMs > 0 {
                return "feed 'demo' loaded: \(f.indicators) indicators (\(path))"
            }
            usleep(200_000)
            status = try call("intel.feeds", IntelReloadRequest())
        }
        return "feed 'demo' did not finish loading within 10 s (see `vigil intel feeds`)"
    }
}

import Foundation
import XCTest
import VigilBus
import VigilLog
import VigilStore
import VigilWire

/// Detection with real processes: the library RPCs (list, get, quick-activate, copy-to-edit),
/// deleting a rule's signals, the threat hunting dashboard, the signal detail with its events
/// and asset, and absence rules that fire on a quiet stream (also across a SIGKILL).
final class DetectionLibraryTests: XCTestCase {
    var stack: TestStack!
    override func setUpWithError() throws { stack = try TestStack() }
    override func tearDown() {
        if let s = stack, testRun?.hasSucceeded == false { print("--- detection log ---\n\(s.log("detection").suffix(4000))") }
        stack?.cleanup()
    }

    func submit(_ c: RpcClient, batch b: Int, events: [String]) throws {
        try stack.submit(c, batchId: "lib-\(b)", idPrefix: "ev-\(b)", lines: events)
    }

    func failed(_ user: String) -> String { "<38>Dec  4 09:15:11 web01 sshd[1]: Failed password for \(user) from 10.9.8.7 port 4000 ssh2" }
    let rootLogin = "<38>Dec  4 09:16:00 web01 sshd[1]: Accepted password for root from 203.0.113.5 port 52144 ssh2"

    func testLibraryListGetActivateAndCopy() throws {
        try stack.startCore(ingestArgs: ["--syslog.udp", "off", "--syslog.tcp", "off"])
        let c = try stack.client()
        defer { c.close() }
        func call<R: WireMessage>(_ m: String, _ req: some WireMessage, _: R.Type) throws -> R {
            try c.call(service: "detection", method: m, req, as: R.self, timeoutMs: 10_000)
        }
        let lib = try call("library.list", RuleRequest(), LibraryPage.self).entries
        XCTAssertGreaterThanOrEqual(lib.count, 60)
        XCTAssertTrue(lib.allSatisfy(\.installed), "the library is installed at first start")
        XCTAssertEqual(lib.filter { $0.installedStatus == "active" }.map(\.summary.name), ["Failed SSH or su login"])
        XCTAssertTrue(lib.allSatisfy { $0.tests >= 2 })
        let root = try XCTUnwrap(lib.first { $0.summary.name == "Direct SSH login as root" })
        XCTAssertEqual(root.summary.tacticIds.first, "TA0001")

        let detail = try call("library.get", RuleRequest(id: root.summary.id), LibraryDetail.self)
        XCTAssertTrue(detail.explanation.contains("event.action: ssh_login"), detail.explanation)
        XCTAssertTrue(detail.ruleJson.contains("\"tests\""))
        XCTAssertThrowsError(try call("library.get", RuleRequest(id: "00000000-0000-4000-8000-000000000000"), LibraryDetail.self)) { e in
            XCTAssertEqual((e as? RpcError)?.code, .notFound)
        }

        // Copy-to-edit: a new inactive rule that remembers its origin, and keeps it through an edit.
        let copy = try call("library.copy", RuleRequest(id: root.summary.id), RuleDetail.self)
        XCTAssertNotEqual(copy.summary.id, root.summary.id)
        XCTAssertEqual(copy.summary.status, "inactive")
        XCTAssertEqual(copy.summary.name, "Direct SSH login as root (copy)")
        XCTAssertTrue(copy.ruleJson.contains("\"derived_from\": \"\(root.summary.id)\""), copy.ruleJson)
        let edited = copy.ruleJson.replacingOccurrences(of: "\"derived_from\": \"\(root.summary.id)\",", with: "")
            .replacingOccurrences(of: "Direct SSH login as root (copy)", with: "Root SSH login (ours)")
        let saved = try call("rules.update", RuleRequest(ruleJson: edited), RuleDetail.self)
        XCTAssertEqual(saved.summary.name, "Root SSH login (ours)")
        XCTAssertTrue(saved.ruleJson.contains("\"derived_from\": \"\(root.summary.id)\""), "an edit keeps the origin")
        XCTAssertEqual(try call("library.list", RuleRequest(), LibraryPage.self).entries.first { $0.summary.id == root.summary.id }?.copies, 1)

        // Quick-activate: the shipped rule goes live without a restart and fires.
        let active = try call("library.activate", RuleRequest(id: root.summary.id), RuleDetail.self)
        XCTAssertEqual(active.summary.status, "active")
        try submit(c, batch: 1, events: [rootLogin])
        try stack.eventually("the root login signal") {
            try call("signals.count", QueryRequest(query: "rule.id: \(root.summary.id)"), CountResponse.self).count == 1
        }
        XCTAssertEqual(try call("rules.get", RuleRequest(id: root.summary.id), RuleDetail.self).summary.signalCount, 1)
        XCTAssertEqual(try call("rules.get", RuleRequest(id: copy.summary.id), RuleDetail.self).summary.signalCount, 0, "the inactive copy stays silent")

        // The CLI shows the same.
        let (rc, out, err) = try stack.vigil(["rules", "library", "list"])
        XCTAssertEqual(rc, 0, err)
        XCTAssertTrue(out.contains("Direct SSH login as root") && out.contains("2 active"), out)
        let (showRc, show, _) = try stack.vigil(["rules", "library", "show", root.summary.id])
        XCTAssertEqual(showRc, 0)
        XCTAssertTrue(show.contains("copies 1") && show.contains("installed   active"), show)
    }

    func testDeleteSignalsDashboardAndSignalDetail() throws {
        try stack.startCore(ingestArgs: ["--syslog.udp", "off", "--syslog.tcp", "off"])
        let c = try stack.client()
        defer { c.close() }
        func call<R: WireMessage>(_ m: String, _ req: some WireMessage, _: R.Type) throws -> R {
            try c.call(service: "detection", method: m, req, as: R.self, timeoutMs: 10_000)
        }
        let assets = #"[{"id": "a-web", "name": "Web", "hostname": "web01", "ip": "10.0.0.10", "criticality": "high", "owner": "ops"}]"#
        let ar = try c.call(service: "enrichment", method: "assets.import", ImportRequest(format: "json", content: Array(assets.utf8), origin: "assets.json"), as: ImportResponse.self)
        XCTAssertEqual(ar.imported, 1)
        let lib = try call("library.list", RuleRequest(), LibraryPage.self).entries
        let root = try XCTUnwrap(lib.first { $0.summary.name == "Direct SSH login as root" })
        _ = try call("library.activate", RuleRequest(id: root.summary.id), RuleDetail.self)
        let demoId = "5e0c6b1a-9d43-4f2e-8a71-3c2b1d0e9f01"

        try submit(c, batch: 1, events: [failed("alice"), failed("alice"), failed("alice"), failed("bob"), rootLogin])
        try stack.eventually("5 signals") { try call("signals.count", QueryRequest(), CountResponse.self).count == 5 }

        // Dashboard: every ATT&CK stage in kill-chain order, top tactics, users, assets.
        let d = try call("signals.dashboard", DashboardRequest(), Dashboard.self)
        XCTAssertEqual(d.total, 5)
        XCTAssertEqual(d.byStage.count, 14)
        XCTAssertEqual(d.byStage.first?.key, "TA0043")
        XCTAssertEqual(d.byStage.first { $0.key == "TA0006" }?.count, 4)
        XCTAssertEqual(d.byStage.first { $0.key == "TA0001" }?.count, 1)
        XCTAssertEqual(d.byStage.filter { $0.count > 0 }.count, 2)
        XCTAssertEqual(d.topTactics.map(\.key), ["TA0006", "TA0001"])
        XCTAssertEqual(d.topTactics.first?.name, "Credential Access")
        XCTAssertEqual(d.topUsers.map(\.key), ["alice", "bob", "root"])
        XCTAssertEqual(d.topUsers.map(\.count), [3, 1, 1])
        XCTAssertEqual(d.topAssets.map(\.key), ["Web"], "signals name the inventory asset")
        XCTAssertEqual(d.topAssets.first?.count, 5)
        XCTAssertEqual(d.byCriticality.first { $0.key == "high" }?.count, 1)
        XCTAssertEqual(try call("signals.dashboard", DashboardRequest(query: "user.name: alice"), Dashboard.self).total, 3)
        let past = try call("signals.dashboard", DashboardRequest(fromTimeMs: 1_000_000_000_000, toTimeMs: 1_000_003_600_000), Dashboard.self)
        XCTAssertEqual(past.total, 0)
        XCTAssertEqual(past.byStage.count, 14)
        XCTAssertThrowsError(try call("signals.dashboard", DashboardRequest(query: "user.nme: alice"), Dashboard.self)) { e in
            XCTAssertEqual((e as? RpcError)?.code, .badRequest)
            XCTAssertTrue((e as? RpcError)?.message.contains("user.nme") == true, "\(e)")
        }

        // Signal detail: the events behind it (from enrichment) and its asset.
        var q = QueryRequest(query: "user.name: bob"); q.limit = 1
        let bobSignal = try XCTUnwrap(try call("signals.search", q, SignalPage.self).signals.first)
        let detail = try call("signals.detail", GetRequest(id: bobSignal.id), SignalDetail.self)
        XCTAssertEqual(detail.signal.id, bobSignal.id)
        XCTAssertEqual(detail.events.map(\.id), bobSignal.eventIds)
        XCTAssertTrue(String(decoding: detail.events.first?.raw ?? [], as: UTF8.self).contains("Failed password for bob"))
        XCTAssertEqual(detail.asset?.id, "a-web")
        XCTAssertEqual(detail.asset?.criticality, "high")
        XCTAssertEqual(detail.lookupError, "")
        XCTAssertThrowsError(try call("signals.detail", GetRequest(id: "nope"), SignalDetail.self)) { e in
            XCTAssertEqual((e as? RpcError)?.code, .notFound)
        }

        // Deleting a rule's signals: admins only, counted, audited; other rules' signals stay.
        let viewer = try RpcClient(context: stack.context, endpoint: stack.endpoints.rpc, caller: Identity(name: "eve", role: "viewer"))
        defer { viewer.close() }
        XCTAssertThrowsError(try viewer.call(service: "detection", method: "rules.delete-signals", RuleRequest(id: demoId), as: DeleteSignalsResponse.self, timeoutMs: 10_000)) { e in
            XCTAssertEqual((e as? RpcError)?.code, .permissionDenied)
        }
        let (noConfirm, _, noConfirmErr) = try stack.vigil(["rules", "delete-signals", demoId])
        XCTAssertEqual(noConfirm, 2)
        XCTAssertTrue(noConfirmErr.contains("this deletes the 4 stored signals") && noConfirmErr.contains("--confirm"), noConfirmErr)
        XCTAssertEqual(try call("signals.count", QueryRequest(), CountResponse.self).count, 5, "nothing deleted without --confirm")
        let (rc, out, err) = try stack.vigil(["rules", "delete-signals", demoId, "--confirm"])
        XCTAssertEqual(rc, 0, err)
        XCTAssertTrue(out.contains("deleted 4 signals"), out)
        XCTAssertEqual(try call("signals.count", QueryRequest(), CountResponse.self).count, 1)
        XCTAssertEqual(try call("rules.get", RuleRequest(id: demoId), RuleDetail.self).summary.signalCount, 0)
        XCTAssertEqual(try call("rules.delete-signals", RuleRequest(id: demoId), DeleteSignalsResponse.self).deleted, 0)
        XCTAssertEqual(try stack.metrics("detection").counters["signals.deleted"], 4)
        let db = try Database(path: stack.dir + "/detection-0.db")
        let audit = try db.query("SELECT actor, role, action, target, detail FROM audit WHERE action = 'rules.delete-signals' ORDER BY id")
        XCTAssertEqual(audit.map { $0.string(0) }, ["vigil-cli", "test"])
        XCTAssertEqual(audit.first?.string(3), demoId)
        XCTAssertTrue(audit.first?.string(4).hasPrefix("4 signals of") == true)

        // The dashboard from the CLI, with bars.
        let (dRc, dash, dErr) = try stack.vigil(["signals", "dashboard", "--since", "24h"])
        XCTAssertEqual(dRc, 0, dErr)
        XCTAssertTrue(dash.contains("By MITRE ATT&CK stage") && dash.contains("TA0001 Initial Access") && dash.contains("█"), dash)
        let (sRc, shown, sErr) = try stack.vigil(["signals", "show", try XCTUnwrap(try call("signals.search", QueryRequest(), SignalPage.self).signals.first?.id)])
        XCTAssertEqual(sRc, 0, sErr)
        XCTAssertTrue(shown.contains("asset       Web (a-web)") && shown.contains("Accepted password for root"), shown)

        // Enrichment down: the signal still comes back, with the reason its events are missing.
        let remaining = try XCTUnwrap(try call("signals.search", QueryRequest(), SignalPage.self).signals.first)
        stack.kill("enrichment")
        let alone = try call("signals.detail", GetRequest(id: remaining.id), SignalDetail.self)
        XCTAssertEqual(alone.signal.id, remaining.id)
        XCTAssertEqual(alone.events, [])
        XCTAssertNil(alone.asset)
        XCTAssertTrue(alone.lookupError.contains("events:") && alone.lookupError.contains("asset:"), alone.lookupError)
        XCTAssertGreaterThanOrEqual(try stack.metrics("detection").counters["signals.detail_lookup_failed"] ?? 0, 1)
    }

    /// An absence rule whose expected event never comes fires on the wall clock while the stream
    /// is quiet; a window pending when detection is SIGKILLed fires once after the restart.
    func testAbsenceFiresOnAQuietStreamAndAcrossARestart() throws {
        try stack.start("vigil-broker", name: "broker")
        try stack.start("vigil-ingest", name: "ingest", ["--syslog.udp", "off", "--syslog.tcp", "off"])
        try stack.start("vigil-enrichment", name: "enrichment")
        try stack.start("vigil-detection", name: "detection", ["--rules.lateness", "1s"])
        try stack.waitHealthy(["ingest", "enrichment", "detection"])
        let c = try stack.client()
        defer { c.close() }
        func call<R: WireMessage>(_ m: String, _ req: some WireMessage, _: R.Type) throws -> R {
            try c.call(service: "detection", method: m, req, as: R.self, timeoutMs: 10_000)
        }
        let rule = """
        {"id": "bbbbbbbb-0000-4000-8000-000000000002", "name": "Account without a password", "status": "active",
         "criticality": "medium", "risk_score": 40,
         "mitre": {"tactics": [{"id": "TA0003", "name": "Persistence"}], "techniques": [{"id": "T1136.001", "name": "Local Account"}]},
         "detection": {"type": "absence", "condition": "event.action: user_created", "absent": "event.action: password_changed",
                       "group_by": ["user.target.name"], "window": "3s"}}
        """
        _ = try call("rules.create", RuleRequest(ruleJson: rule), RuleDetail.self)
        func useradd(_ u: String, _ t: String) -> String { "<86>Dec  4 09:15:\(t) web01 useradd[915]: new user: name=\(u), UID=1001, GID=1001, home=/home/\(u), shell=/bin/bash" }
        func passwd(_ u: String, _ t: String) -> String { "<86>Dec  4 09:15:\(t) web01 passwd[913]: pam_unix(passwd:chauthtok): password changed for \(u)" }
        let ruleQuery = QueryRequest(query: "rule.id: bbbbbbbb-0000-4000-8000-000000000002")
        try submit(c, batch: 1, events: [useradd("eve", "10"), useradd("mallory", "10"), passwd("mallory", "11")])
        // Nothing else arrives: only the wall clock can close eve's window.
        try stack.eventually("eve's absence signal") { try call("signals.count", ruleQuery, CountResponse.self).count == 1 }
        var q = ruleQuery; q.limit = 10
        XCTAssertEqual(try call("signals.search", q, SignalPage.self).signals.map(\.groupKey), ["eve"])

        // A pending window survives SIGKILL: the restarted service fires it once.
        let db = try Database(path: stack.dir + "/detection-0.db")
        try submit(c, batch: 2, events: [useradd("trent", "30")])
        try stack.eventually("trent's window is checkpointed") {
            try db.scalar("SELECT count(*) FROM rule_state WHERE rule_id = 'bbbbbbbb-0000-4000-8000-000000000002'")?.int64 == 1
        }
        stack.kill("detection")
        try stack.start("vigil-detection", name: "detection", ["--rules.lateness", "1s"])
        try stack.waitHealthy(["detection"])
        try stack.eventually("trent's absence signal after the restart") { try call("signals.count", ruleQuery, CountResponse.self).count == 2 }
        usleep(3_000_000)
        XCTAssertEqual(try call("signals.search", q, SignalPage.self).signals.map(\.groupKey).sorted(), ["eve", "trent"], "each once")
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM rule_state WHERE rule_id = 'bbbbbbbb-0000-4000-8000-000000000002'")?.int64, 0)
    }
}

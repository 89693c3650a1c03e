import Foundation
import XCTest
import VigilBus
import VigilLog
import VigilStore
import VigilWire

/// The detection service with real processes: rules over RPC, signal search, and a threshold
/// rule that survives SIGKILL without missing or repeating a signal.
final class DetectionTests: XCTestCase {
    var stack: TestStack!
    override func setUpWithError() throws { stack = try TestStack() }
    override func tearDown() {
        if let s = stack, testRun?.hasSucceeded == false { print("--- detection log ---\n\(s.log("detection").suffix(4000))") }
        stack?.cleanup()
    }

    static let thresholdRule = """
    {"id": "aaaaaaaa-0000-4000-8000-000000000001", "name": "Five failures per user", "status": "active",
     "criticality": "high", "risk_score": 60,
     "mitre": {"tactics": [{"id": "TA0006", "name": "Credential Access"}], "techniques": [{"id": "T1110", "name": "Brute Force"}]},
     "detection": {"type": "threshold", "condition": "event.category: authentication and event.outcome: failure",
                   "count": 5, "group_by": ["user.name"], "window": "1h"},
     "tests": [{"expect": "fire", "events": [{"fields": {"event.category": "authentication", "event.outcome": "failure", "user.name": "x"}, "repeat": 5}]},
               {"expect": "no_fire", "events": [{"fields": {"event.category": "authentication", "event.outcome": "failure", "user.name": "x"}, "repeat": 4}]}]}
    """

    func submit(_ c: RpcClient, batch b: Int, events: [String]) throws {
        try stack.submit(c, batchId: "det-\(b)", idPrefix: "ev-\(b)", lines: events)
    }

    func failed(_ user: String, ip: String = "10.9.8.7") -> String {
        "<38>Dec  4 09:15:11 web01 sshd[1]: Failed password for \(user) from \(ip) port 4000 ssh2"
    }

    func testRulesOverRPCAndSignalSearch() throws {
        try stack.startCore(ingestArgs: ["--syslog.udp", "off", "--syslog.tcp", "off"])
        let c = try stack.client()
        defer { c.close() }
        func call<R: WireMessage>(_ m: String, _ req: some WireMessage, _: R.Type) throws -> R {
            try c.call(service: "detection", method: m, req, as: R.self, timeoutMs: 10_000)
        }
        // The library was loaded at first start; only the demo rule is active.
        let all = try call("rules.list", QueryRequest(), RulePage.self).rules
        XCTAssertGreaterThanOrEqual(all.count, 77)
        XCTAssertEqual(all.filter { $0.status == "active" }.map(\.name), ["Failed SSH or su login"])
        var facet = QueryRequest(); facet.facetToken = "rule.tactic"
        let tactics = try call("rules.facets", facet, FacetResponse.self)
        XCTAssertEqual(tactics.values.first { $0.value == "TA0006" }?.count, 16, "\(tactics.values)")
        XCTAssertEqual(try call("rules.count", QueryRequest(query: "rule.type: threshold and rule.log_source: windows"), CountResponse.self).count, 4)

        // A bad rule is refused whole, with the path of the problem.
        let bad = Self.thresholdRule.replacingOccurrences(of: "\"window\": \"1h\"", with: "\"window\": \"soon\"")
        XCTAssertThrowsError(try call("rules.create", RuleRequest(ruleJson: bad), RuleDetail.self)) { e in
            XCTAssertEqual((e as? RpcError)?.code, .badRequest)
            XCTAssertTrue((e as? RpcError)?.message.contains("$.detection.window") == true, "\(e)")
        }
        let created = try call("rules.create", RuleRequest(ruleJson: Self.thresholdRule), RuleDetail.self)
        XCTAssertEqual(created.explanation, "5 or more events matching `event.category: authentication and event.outcome: failure` for the same user.name within 1 hour.")
        let tested = try call("rules.test", RuleRequest(ruleJson: Self.thresholdRule), RuleTestResponse.self)
        XCTAssertTrue(tested.passed)
        XCTAssertEqual(tested.results.count, 2)

        // Activation needs no restart: activate the SSH brute force rule, then send 10 failures.
        let brute = try XCTUnwrap(all.first { $0.name == "SSH brute force from one address" })
        XCTAssertEqual(try call("rules.activate", RuleRequest(id: brute.id), RuleDetail.self).summary.status, "active")
        try submit(c, batch: 1, events: (0..<10).map { failed("user\($0 % 2)") })
        try stack.eventually("10 demo, 2 threshold and 1 brute-force signal") {
            try call("signals.count", QueryRequest(), CountResponse.self).count == 13
        }
        var search = QueryRequest(query: "signal.criticality: high and rule.name: brute")
        search.limit = 10
        let page = try call("signals.search", search, SignalPage.self)
        XCTAssertEqual(page.signals.count, 1)
        let sig = try XCTUnwrap(page.signals.first)
        XCTAssertEqual(sig.entity.ip, "10.9.8.7")
        let got = try call("signals.get", GetRequest(id: sig.id), Signal.self)
        XCTAssertEqual(got.eventIds.count, 10)
        var byRule = QueryRequest(); byRule.facetToken = "rule.name"
        XCTAssertEqual(try call("signals.facets", byRule, FacetResponse.self).values.map(\.count), [10, 2, 1])
        XCTAssertEqual(try call("rules.get", RuleRequest(id: brute.id), RuleDetail.self).summary.signalCount, 1)

        // Export → delete → import brings the rule back; deactivate stops it.
        let exported = try call("rules.export", RuleRequest(id: created.summary.id), RuleBundleMessage.self)
        XCTAssertEqual(exported.ids, [created.summary.id])
        _ = try call("rules.delete", RuleRequest(id: created.summary.id), RuleBundleMessage.self)
        XCTAssertThrowsError(try call("rules.get", RuleRequest(id: created.summary.id), RuleDetail.self)) { e in
            XCTAssertEqual((e as? RpcError)?.code, .notFound)
        }
        XCTAssertEqual(try call("rules.import", RuleRequest(ruleJson: exported.json), RuleBundleMessage.self).ids, [created.summary.id])
        _ = try call("rules.deactivate", RuleRequest(id: brute.id), RuleDetail.self)
        _ = try call("rules.deactivate", RuleRequest(id: created.summary.id), RuleDetail.self)
        try submit(c, batch: 2, events: (0..<10).map { _ in failed("user9") })
        try stack.eventually("10 more demo signals only") { try call("signals.count", QueryRequest(), CountResponse.self).count == 23 }
        usleep(300_000)
        XCTAssertEqual(try call("signals.count", QueryRequest(query: "not rule.name: \"Failed SSH\""), CountResponse.self).count, 3)
    }

    /// SIGKILL detection while a threshold rule is half-way through its windows; after the
    /// restart exactly the expected signals exist, each once.
    func testKilledDetectionResumesThresholdWindowsExactly() throws {
        try stack.startCore(ingestArgs: ["--syslog.udp", "off", "--syslog.tcp", "off"])
        let c = try stack.client()
        defer { c.close() }
        _ = try c.call(service: "detection", method: "rules.create", RuleRequest(ruleJson: Self.thresholdRule), as: RuleDetail.self, timeoutMs: 10_000)
        // 10 users × 23 failures: 4 threshold signals each (3 failures left over), 230 demo signals.
        let users = 10, perUser = 23, batches = 10
        let lines = (0..<(users * perUser)).map { failed("u\($0 % users)") }
        let per = lines.count / batches
        let db = try Database(path: stack.dir + "/detection-0.db")
        for b in 0..<batches {
            try submit(c, batch: b, events: Array(lines[(b * per)..<min(lines.count, (b + 1) * per)]))
            if b == 4 {
                // Let detection take part of the stream, then kill it between or inside batches.
                try stack.eventually("detection is mid-stream") { (try db.scalar("SELECT count(*) FROM signals")?.int64 ?? 0) > 0 }
                stack.kill("detection")
            }
            if b == 6 { try stack.start("vigil-detection", name: "detection") }
        }
        try stack.eventually(timeoutMs: 60_000, "every demo and threshold signal") {
            try db.scalar("SELECT count(*) FROM signals WHERE rule_id = 'aaaaaaaa-0000-4000-8000-000000000001'")?.int64 == Int64(users * 4)
                && db.scalar("SELECT count(*) FROM signals")?.int64 == Int64(users * 4 + users * perUser)
        }
        usleep(500_000)
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM signals WHERE rule_id = 'aaaaaaaa-0000-4000-8000-000000000001'")?.int64, Int64(users * 4), "no threshold signal repeated")
        // Every threshold signal holds 5 distinct events and no event is in two of them.
        let ids = try db.query("SELECT event_ids FROM signals WHERE rule_id = 'aaaaaaaa-0000-4000-8000-000000000001'").flatMap { $0.string(0).split(separator: ",") }
        XCTAssertEqual(ids.count, users * 4 * 5)
        XCTAssertEqual(Set(ids).count, ids.count)
        // Published once each: the signals stream head equals the stored count.
        XCTAssertEqual(try db.scalar("SELECT max(seq) FROM (SELECT seq FROM stream_outbox WHERE stream = 'signals' UNION ALL SELECT seq FROM stream_heads WHERE stream = 'signals')")?.int64,
                       Int64(users * 4 + users * perUser))
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM rule_state WHERE rule_id = 'aaaaaaaa-0000-4000-8000-000000000001'")?.int64, Int64(users), "3 leftover failures per user are checkpointed")
    }

    /// `vigil rules …` and `vigil signals …` against the running stack.
    func testCLIRulesAndSignals() throws {
        try stack.startCore()
        func vigil(_ args: [String]) throws -> (Int32, String) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: stack.binDir + "/vigil")
            p.arguments = args + ["--data", stack.dir]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = out
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        let file = stack.dir + "/rule.json"
        try Self.thresholdRule.write(toFile: file, atomically: true, encoding: .utf8)
        let (testRc, testOut) = try vigil(["rules", "test", file])
        XCTAssertEqual(testRc, 0, testOut)
        XCTAssertTrue(testOut.contains("2 of 2 tests passed"), testOut)
        let (importRc, importOut) = try vigil(["rules", "import", file])
        XCTAssertEqual(importRc, 0, importOut)
        let (listRc, list) = try vigil(["rules", "list", "rule.status: active"])
        XCTAssertEqual(listRc, 0, list)
        XCTAssertTrue(list.contains("Five failures per user") && list.contains("2 rules, 2 active"), list)
        let (_, get) = try vigil(["rules", "get", "aaaaaaaa-0000-4000-8000-000000000001"])
        XCTAssertTrue(get.contains("5 or more events matching"), get)
        try stack.sendSyslog((0..<5).map { _ in failed("carol") }, tcp: true)
        try stack.eventually("6 signals") { try vigil(["signals", "count"]).1.trimmingCharacters(in: .whitespacesAndNewlines) == "6" }
        let (_, search) = try vigil(["signals", "search", "rule.name: \"Five failures\"", "--json"])
        let id = try XCTUnwrap(search.split(separator: "\"").drop { $0 != "id" }.dropFirst(2).first.map(String.init), search)
        let (getRc, signal) = try vigil(["signals", "get", id])
        XCTAssertEqual(getRc, 0, signal)
        XCTAssertTrue(signal.contains("Five failures per user") && signal.contains("user=carol"), signal)
        let (badRc, bad) = try vigil(["rules", "activate", "no-such-rule"])
        XCTAssertEqual(badRc, 1)
        XCTAssertTrue(bad.contains("no rule with id"), bad)
    }
}

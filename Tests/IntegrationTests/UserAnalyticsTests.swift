import Foundation
import XCTest
import VigilBus
import VigilLog
import VigilWire

/// User analytics with the real stack: users imported into user-analytics reach enrichment
/// over `directory.changed`; a failed SSH login for a user raises a signal in detection,
/// and the user's risk shows in the overview, the detail tabs, the CLI and a user list.
final class UserAnalyticsEndToEndTests: XCTestCase {
    var stack: TestStack!
    override func setUpWithError() throws { stack = try TestStack() }
    override func tearDown() {
        if let s = stack, testRun?.hasSucceeded == false { print("--- user-analytics log ---\n\(s.log("user-analytics").suffix(4000))") }
        stack?.cleanup()
    }

    /// RFC 3164 time ("Dec  4 09:15:11", UTC) so the event falls in the default 7-day ranges.
    static func syslogTime(_ ms: Int64) -> String {
        var t = time_t(ms / 1000)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return String(format: "%@ %2d %02d:%02d:%02d", months[Int(tmv.tm_mon)], Int(tmv.tm_mday), Int(tmv.tm_hour), Int(tmv.tm_min), Int(tmv.tm_sec))
    }

    func testSignalForAUserRaisesTheirRiskInTheOverview() throws {
        try stack.startCore(ingestArgs: ["--syslog.udp", "off", "--syslog.tcp", "off"])
        try stack.start("vigil-config", name: "config")
        try stack.start("vigil-user-analytics", name: "user-analytics", ["--risk.half-life", "24"])
        try stack.waitHealthy(["config", "user-analytics"])
        let c = try stack.client()
        defer { c.close() }
        func ua<R: WireMessage>(_ m: String, _ req: some WireMessage, _: R.Type) throws -> R {
            try c.call(service: "user-analytics", method: m, req, as: R.self, timeoutMs: 10_000)
        }
        let csv = """
        sAMAccountName,userPrincipalName,displayName,department,title,privileged
        alice,alice@corp.test,Alice Example,Finance,Accountant,false
        bob,bob@corp.test,Bob Example,IT,Admin,true
        """
        let imported = try ua("users.import", ImportRequest(format: "csv", content: Array(csv.utf8), origin: "users.csv"), ImportResponse.self)
        XCTAssertEqual(imported.imported, 2)

        // Enrichment follows directory.changed: the users are in its replica.
        try stack.eventually("enrichment has the users from directory.changed") {
            let p = try c.call(service: "enrichment", method: "users.search", QueryRequest(query: "user.department: Finance"), as: DirectoryUserPage.self, timeoutMs: 5000)
            return p.users.map(\.samAccountName) == ["alice"]
        }
        XCTAssertTrue(try ua("ua.overview", UserRequest(), UserRiskPage.self).users.isEmpty, "no signals yet, so no risk")

        // A user list by query, stored by config.
        _ = try c.call(service: "config", method: "config.create",
                       ConfigRequest(kind: "user_list", objectJSON: #"{"name": "Finance", "members": ["bob"], "query": "user.department: Finance"}"#),
                       as: ConfigReply.self, timeoutMs: 10_000)

        // The demo rule "Failed SSH or su login" is active: one failure for alice raises a signal.
        var batch = EventBatch()
        batch.batchId = "ua-1"; batch.agentId = "test"
        var e = Event()
        e.id = "ua-ev-1"
        e.raw = Array("<38>\(Self.syslogTime(Clock.nowMs() - 60_000)) web01 sshd[1]: Failed password for alice from 10.9.8.7 port 4000 ssh2".utf8)
        batch.events.append(e)
        _ = try c.call(service: "ingest", method: "ingest.submit", batch, as: EventBatchAck.self, timeoutMs: 20_000)

        var top: UserRisk?
        try stack.eventually("alice's risk shows in the overview") {
            top = try ua("ua.overview", UserRequest(), UserRiskPage.self).users.first
            return top?.id == "alice" && (top?.score ?? 0) > 0
        }
        let alice = try XCTUnwrap(top)
        XCTAssertEqual(alice.displayName, "Alice Example")
        XCTAssertEqual(alice.signals, 1)
        XCTAssertEqual(alice.topRule, "Failed SSH or su login")
        XCTAssertTrue(alice.inDirectory)
        // Detail: the explanation sums to the score; trend, timeline and directory attributes.
        let d = try ua("ua.user", UserRequest(user: "alice@corp.test"), UserDetail.self)
        // The rule's risk score 40, decayed from the event's time (24 h half-life), k = 100.
        let ageHours = Double(Clock.nowMs() - (d.bySignal.first?.timeMs ?? 0)) / 3_600_000
        XCTAssertEqual(alice.score, 100 * (1 - exp(-40 * pow(0.5, ageHours / 24) / 100)), accuracy: 0.2)
        XCTAssertEqual(d.bySignal.first?.signalScore, 40)
        XCTAssertEqual(d.bySignal.count, 1)
        XCTAssertEqual(d.bySignal.map(\.points).reduce(0, +), d.risk.score, accuracy: 1e-6)
        XCTAssertEqual(d.byRule.first?.ruleName, "Failed SSH or su login")
        XCTAssertEqual(d.signals.first?.eventIds.isEmpty, false)
        XCTAssertEqual(d.trend.filter { !$0.signalId.isEmpty }.count, 1)
        XCTAssertEqual(d.timeline.map(\.count).reduce(0, +), 1)
        XCTAssertEqual(d.directory.department, "Finance")
        XCTAssertThrowsError(try ua("ua.user", UserRequest(user: "nobody"), UserDetail.self)) { e in
            XCTAssertEqual((e as? RpcError)?.code, .notFound)
        }
        // QQL over users with risk, and a bad query answered with its position.
        XCTAssertEqual(try ua("ua.users", UserRequest(query: "user.risk > 10"), UserRiskPage.self).users.map(\.id), ["alice"])
        XCTAssertThrowsError(try ua("ua.users", UserRequest(query: "user.department: ("), UserRiskPage.self)) { e in
            XCTAssertEqual((e as? RpcError)?.code, .badRequest)
        }

        // The user list (explicit bob + query Finance) with alice on top.
        try stack.eventually("the user list arrives from config") {
            let l = try ua("ua.lists", UserRequest(), UserListRiskList.self).lists
            return l.first?.name == "Finance" && l.first?.top.first?.id == "alice" && l.first?.members == 2
        }

        // The CLI over the same RPCs.
        let overview = try stack.vigil(["users", "overview", "--json"])
        XCTAssertEqual(overview.status, 0, overview.err)
        XCTAssertTrue(overview.out.contains("\"id\" : \"alice\""), overview.out)
        let show = try stack.vigil(["users", "show", "alice", "--tab", "trend"])
        XCTAssertEqual(show.status, 0, show.err)
        XCTAssertTrue(show.out.contains("Failed SSH or su login"), show.out)
        // The trend tab adds activity from enrichment's events: the login came from 10.9.8.7 (internal).
        let trend = try stack.vigil(["users", "show", "alice", "--tab", "trend", "--json"])
        XCTAssertEqual(trend.status, 0, trend.err)
        let tj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(trend.out.utf8)) as? [String: Any])
        let activity = try XCTUnwrap(tj["activity"] as? [String: Any], trend.out)
        XCTAssertEqual(activity["internal_total"] as? Int, 1, trend.out)
        XCTAssertEqual(activity["external_total"] as? Int, 0, trend.out)
        let list = try stack.vigil(["users", "list", "user.privileged: true"])
        XCTAssertEqual(list.status, 0, list.err)
        XCTAssertTrue(list.out.contains("bob") && !list.out.contains("alice"), list.out)
        // No directory configured: a sync says so instead of touching users.
        let sync = try stack.vigil(["users", "sync"])
        XCTAssertEqual(sync.status, 1)
        XCTAssertTrue(sync.out.contains("no directory configured"), sync.out)
    }
}

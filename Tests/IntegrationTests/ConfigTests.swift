import Foundation
import XCTest
import VigilBus
import VigilWire

/// The config service with real processes: CRUD with validation and references, QQL over
/// sources, export/import, and special objects that change rule evaluation live.
final class ConfigServiceTests: XCTestCase {
    var stack: TestStack!
    override func setUpWithError() throws { stack = try TestStack() }
    override func tearDown() {
        if let s = stack, testRun?.hasSucceeded == false {
            for n in ["config", "detection"] { print("--- \(n) log ---\n\(s.log(n).suffix(3000))") }
        }
        stack?.cleanup()
    }

    func config(_ c: RpcClient, _ method: String, kind: String = "", id: String = "", json: String = "", confirm: Bool = false) throws -> String {
        try c.call(service: "config", method: "config.\(method)", ConfigRequest(kind: kind, id: id, objectJSON: json, confirm: confirm),
                   as: ConfigReply.self, timeoutMs: 10_000).json
    }

    func refused(_ c: RpcClient, _ method: String, kind: String, id: String = "", json: String = "", confirm: Bool = false,
                 _ expected: [String], line: UInt = #line) {
        XCTAssertThrowsError(try config(c, method, kind: kind, id: id, json: json, confirm: confirm), line: line) { e in
            let msg = (e as? RpcError)?.message ?? "\(e)"
            for x in expected { XCTAssertTrue(msg.contains(x), "'\(x)' not in: \(msg)", line: line) }
        }
    }

    func object(_ json: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    static let blocklistRule = """
    {"id": "cccccccc-0000-4000-8000-000000000001", "name": "Login from a blocklisted address", "status": "active",
     "criticality": "high", "risk_score": 70,
     "mitre": {"tactics": [{"id": "TA0001", "name": "Initial Access"}], "techniques": [{"id": "T1078", "name": "Valid Accounts"}]},
     "detection": {"type": "match", "condition": "source.ip: @blocklist"}}
    """

    func accepted(_ c: RpcClient, batch: String, ip: String) throws {
        var b = EventBatch()
        b.batchId = batch
        b.agentId = "test"
        var e = Event()
        e.id = "ev-\(batch)"
        e.raw = Array("<38>Dec  4 09:15:11 web01 sshd[1]: Accepted password for alice from \(ip) port 4000 ssh2".utf8)
        b.events.append(e)
        _ = try c.call(service: "ingest", method: "ingest.submit", b, as: EventBatchAck.self, timeoutMs: 20_000)
    }

    func blocklistSignals(_ c: RpcClient) throws -> UInt64 {
        try c.call(service: "detection", method: "signals.count", QueryRequest(query: "rule.name: blocklisted"),
                   as: CountResponse.self, timeoutMs: 10_000).count
    }

    func evaluated() throws -> UInt64 { try stack.metrics("detection").counters["evaluated"] ?? 0 }

    /// A value added to a special object changes an active rule's result within seconds, with
    /// no restart; a value added while detection is down is there after it restarts
    /// (snapshot + stream).
    func testSpecialObjectChangesRuleEvaluationLive() throws {
        try stack.start("vigil-config", name: "config")
        try stack.startCore(ingestArgs: ["--syslog.udp", "off", "--syslog.tcp", "off"])
        try stack.waitHealthy(["config"])
        let c = try stack.client()
        defer { c.close() }
        _ = try config(c, "create", kind: "special_object",
                       json: #"{"id": "blocklist", "name": "blocklist", "type": "ips", "members": ["198.51.100.0/24"]}"#)
        try stack.eventually("detection loaded the special object") { try self.stack.metrics("detection").counters["config.special_objects"] == 1 }
        _ = try c.call(service: "detection", method: "rules.create", RuleRequest(ruleJson: Self.blocklistRule), as: RuleDetail.self, timeoutMs: 10_000)
        refused(c, "delete", kind: "special_object", id: "blocklist",
                ["referenced:", "rule/cccccccc-0000-4000-8000-000000000001 'Login from a blocklisted address' (condition)"])

        let before = try evaluated()
        try accepted(c, batch: "a", ip: "203.0.113.9")
        try stack.eventually("the first event evaluated") { try self.evaluated() > before }
        XCTAssertEqual(try blocklistSignals(c), 0, "203.0.113.9 is not on the list yet")

        let started = Date()
        _ = try config(c, "update", kind: "special_object", id: "blocklist",
                       json: #"{"name": "blocklist", "type": "ips", "members": ["198.51.100.0/24", "203.0.113.9"]}"#)
        try stack.eventually(timeoutMs: 10_000, "detection applied the change") {
            try self.stack.metrics("detection").counters["config.changes_applied"] ?? 0 >= 1
        }
        try accepted(c, batch: "b", ip: "203.0.113.9")
        try stack.eventually(timeoutMs: 10_000, "a signal for the listed address") { try self.blocklistSignals(c) == 1 }
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        // Event search (enrichment) resolves the same list.
        try stack.eventually("event search with @blocklist") {
            try c.call(service: "enrichment", method: "events.count", QueryRequest(query: "source.ip: @blocklist"),
                       as: CountResponse.self, timeoutMs: 10_000).count == 2
        }

        // Detection down while the list changes: at restart the snapshot (and the stream) bring it back.
        stack.kill("detection", signal: SIGTERM)
        _ = try config(c, "update", kind: "special_object", id: "blocklist",
                       json: #"{"name": "blocklist", "type": "ips", "members": ["203.0.113.9", "192.0.2.77"]}"#)
        try stack.start("vigil-detection", name: "detection")
        try stack.waitHealthy(["detection"])
        try stack.eventually("detection loaded the snapshot") { try self.stack.metrics("detection").counters["config.snapshot_loaded"] == 1 }
        try accepted(c, batch: "c", ip: "192.0.2.77")
        try stack.eventually(timeoutMs: 10_000, "a signal for the address added while detection was down") { try self.blocklistSignals(c) == 2 }
    }

    /// The data-collection model end to end: lines from a configured source's address carry
    /// its source, collector and appliance; deleting the collector (with confirmation) stops
    /// ingestion from its sources — counted as refused, still after an ingest restart — and
    /// configuring the address again resumes it.
    func testDeletingACollectorStopsIngestionFromItsSources() throws {
        try stack.start("vigil-config", name: "config")
        try stack.startCore(ingestArgs: ["--syslog.tcp", "off"])
        try stack.waitHealthy(["config"])
        let c = try stack.client()
        defer { c.close() }
        _ = try config(c, "create", kind: "appliance", json: #"{"id": "app1", "name": "Appliance 1", "hostname": "app1.example.com", "ip": "10.0.0.5"}"#)
        _ = try config(c, "create", kind: "collector", json: #"{"id": "col1", "name": "Syslog collector", "type": "syslog", "appliance": "app1", "status": "running"}"#)
        _ = try config(c, "create", kind: "source_type", json: #"{"id": "linux", "name": "Linux auth", "format": "syslog", "vendor": "Linux", "product": "sshd", "collector_type": "syslog"}"#)
        _ = try config(c, "create", kind: "event_source", json: #"{"id": "loopback", "name": "This host", "type": "linux", "collector": "col1", "address": "127.0.0.1"}"#)
        try stack.eventually("ingest follows the collector") {
            try self.stack.metrics("ingest").counters["collection.collectors"] == 1
                && self.stack.metrics("ingest").counters["collection.sources"] == 1
        }
        func stored() throws -> UInt64 {
            try c.call(service: "enrichment", method: "events.count", QueryRequest(query: "message: \"collector-test\""),
                       as: CountResponse.self, timeoutMs: 10_000).count
        }
        func line(_ n: Int) -> String { "<38>Dec  4 09:15:11 web01 app[1]: collector-test line \(n)" }

        try stack.sendSyslog((0..<3).map(line), tcp: false)
        try stack.eventually("three lines stored") { try stored() == 3 }
        XCTAssertEqual(try c.call(service: "enrichment", method: "events.count",
                                  QueryRequest(query: "collection.source: loopback and collection.collector: col1 and collection.appliance: app1"),
                                  as: CountResponse.self, timeoutMs: 10_000).count, 3, "events carry the source they came through")
        let status = try c.call(service: "ingest", method: "ingest.sources", SourcesRequest(), as: SourcesResponse.self, timeoutMs: 5000)
        XCTAssertEqual(status.collectors.map(\.collector), ["col1"])
        XCTAssertEqual(status.collectors.first?.events, 3)
        XCTAssertEqual(status.collectors.first?.state, "receiving")

        refused(c, "delete", kind: "collector", id: "col1", ["confirmation_required", "event_source/loopback"])
        _ = try config(c, "delete", kind: "collector", id: "col1", confirm: true)
        try stack.eventually("ingest applied the delete") { try self.stack.metrics("ingest").counters["collection.stopped_addresses"] == 1 }
        try stack.sendSyslog((3..<8).map(line), tcp: false)
        try stack.eventually("five lines refused") { try self.stack.sources()["syslog-udp"]?.refused == 5 }
        XCTAssertEqual(try stack.metrics("ingest").counters["refused.source_deleted"], 5)

        // Still stopped after an ingest restart (the address is kept in ingest's store).
        stack.kill("ingest", signal: SIGTERM)
        try stack.start("vigil-ingest", name: "ingest", ["--syslog.tcp", "off"])
        try stack.waitHealthy(["ingest"])
        try stack.sendSyslog([line(8)], tcp: false)
        try stack.eventually("refused after restart") { try self.stack.sources()["syslog-udp"]?.refused == 1 }

        // Configuring the address again resumes ingestion from it.
        _ = try config(c, "create", kind: "collector", json: #"{"id": "col2", "name": "New collector", "type": "syslog", "appliance": "app1"}"#)
        _ = try config(c, "create", kind: "event_source", json: #"{"id": "loopback2", "name": "This host again", "type": "linux", "collector": "col2", "address": "127.0.0.1"}"#)
        try stack.eventually("ingest resumed the address") { try self.stack.metrics("ingest").counters["collection.stopped_addresses"] == 0 }
        try stack.sendSyslog([line(9)], tcp: false)
        try stack.eventually("the new line stored") { try stored() == 4 }
        XCTAssertEqual(try stored(), 4, "none of the six refused lines was stored")
    }

    /// Validation errors name the field; references are checked and protect deletes; a
    /// collector needs confirmation; QQL, overview, audit, export and import work.
    func testObjectsReferencesQQLAndTransfer() throws {
        try stack.start("vigil-broker", name: "broker")
        try stack.start("vigil-config", name: "config")
        try stack.waitHealthy(["config"])
        let c = try stack.client()
        defer { c.close() }

        refused(c, "create", kind: "special_object", json: #"{"name": "bad", "type": "ips", "members": ["10.0.0.1", "not-an-ip"]}"#,
                ["invalid:", "members[1]: 'not-an-ip' is not an IP address"])
        refused(c, "create", kind: "appliance", json: #"{"name": "a", "hostname": "-x", "colour": 1}"#,
                ["hostname: must be a host name", "ip: required", "colour: unknown field"])
        refused(c, "create", kind: "widget", json: "{}", ["unknown_kind"])
        refused(c, "create", kind: "collector", json: #"{"name": "c1", "type": "syslog", "appliance": "nope"}"#, ["appliance: no appliance with id 'nope'"])

        _ = try config(c, "create", kind: "appliance", json: #"{"id": "app1", "name": "Appliance 1", "hostname": "app1.example.com", "ip": "10.0.0.5"}"#)
        _ = try config(c, "create", kind: "collector", json: #"{"id": "col1", "name": "Syslog collector", "type": "syslog", "appliance": "app1", "status": "running"}"#)
        _ = try config(c, "create", kind: "source_type", json: #"{"id": "asa", "name": "Cisco ASA", "format": "syslog", "vendor": "Cisco", "product": "ASA", "collector_type": "syslog"}"#)
        _ = try config(c, "create", kind: "source_type", json: #"{"id": "linux", "name": "Linux auth", "format": "syslog", "vendor": "Linux", "product": "sshd", "collector_type": "syslog"}"#)
        for (i, t) in ["asa", "asa", "linux"].enumerated() {
            _ = try config(c, "create", kind: "event_source", json: #"{"id": "src\#(i)", "name": "Source \#(i)", "type": "\#(t)", "collector": "col1", "address": "10.1.0.\#(i)"}"#)
        }
        XCTAssertEqual(try object(config(c, "get", kind: "source_type", id: "asa"))["sources"] as? Int, 2)
        XCTAssertEqual(try object(config(c, "get", kind: "collector", id: "col1"))["created_by"] as? String, "test")

        _ = try config(c, "create", kind: "special_object", json: #"{"name": "vip_users", "type": "users", "members": ["alice", "bob"]}"#)
        _ = try config(c, "create", kind: "agent_profile",
                       json: #"{"id": "p1", "name": "Servers", "logs": ["auth"], "assets": ["srv-*"], "filter": "user.name: @vip_users"}"#)
        refused(c, "delete", kind: "special_object", id: "vip-users", ["referenced:", "agent_profile/p1 (field filter)"])
        refused(c, "delete", kind: "collector", id: "col1", ["confirmation_required", "event_source/src0"])
        refused(c, "delete", kind: "appliance", id: "app1", ["referenced:", "collector/col1 (field appliance)"])

        // QQL over sources: search and facets (configured sources per format/type).
        let asa = try c.call(service: "config", method: "sources.search", QueryRequest(query: "source.vendor: cisco and source.address: 10.1.0.0/24"),
                             as: ConfigReply.self, timeoutMs: 10_000)
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(asa.json.utf8)) as? [[String: Any]])
        XCTAssertEqual(rows.compactMap { $0["id"] as? String }.sorted(), ["src0", "src1"])
        var facet = QueryRequest(); facet.facetToken = "source.type"
        let f = try c.call(service: "config", method: "sources.facets", facet, as: FacetResponse.self, timeoutMs: 10_000)
        XCTAssertEqual(f.values.map { "\($0.value)=\($0.count)" }, ["asa=2", "linux=1"])
        XCTAssertEqual(try c.call(service: "config", method: "collectors.count", QueryRequest(query: "collector.sources >= 3"),
                                  as: CountResponse.self, timeoutMs: 10_000).count, 1)

        let overview = try object(config(c, "overview"))
        XCTAssertEqual(overview["total"] as? Int, 9)
        XCTAssertEqual(overview["created_24h"] as? Int, 9)
        XCTAssertEqual((overview["recent"] as? [[String: Any]])?.count, 9)

        // Export, then an import with one bad object changes nothing; the good import applies.
        let exported = try config(c, "export")
        let broken = exported.replacingOccurrences(of: "\"10.0.0.5\"", with: "\"10.0.0.500\"")
        refused(c, "import", kind: "", json: broken, ["import refused; nothing was changed", "objects.appliance[0].ip"])
        let changedBefore = try c.call(service: "config", method: "config.snapshot", ConfigRequest(), as: ConfigSnapshot.self, timeoutMs: 10_000).head
        let renamed = exported.replacingOccurrences(of: "\"Appliance 1\"", with: "\"Appliance One\"")
        let result = try object(config(c, "import", json: renamed))
        XCTAssertEqual(result["updated"] as? Int, 1)
        XCTAssertEqual(result["unchanged"] as? Int, 8)
        let snap = try c.call(service: "config", method: "config.snapshot", ConfigRequest(), as: ConfigSnapshot.self, timeoutMs: 10_000)
        XCTAssertEqual(snap.head, changedBefore + 1)
        XCTAssertEqual(snap.objects.count, 9)

        // Confirmed collector delete takes its sources; the audit log has every change.
        _ = try config(c, "delete", kind: "collector", id: "col1", confirm: true)
        XCTAssertEqual(try object(config(c, "get", kind: "source_type", id: "asa"))["sources"] as? Int, 0)
        let audit = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(config(c, "audit").utf8)) as? [[String: Any]])
        XCTAssertEqual(audit.first?["action"] as? String, "deleted")
        XCTAssertEqual(audit.first?["kind"] as? String, "collector")
        XCTAssertEqual(audit.count, 9 + 1 + 4)
        let rename = try XCTUnwrap(audit.first { $0["action"] as? String == "updated" })
        XCTAssertEqual((rename["before"] as? [String: Any])?["name"] as? String, "Appliance 1")
        XCTAssertEqual((rename["after"] as? [String: Any])?["name"] as? String, "Appliance One")
    }

    /// `vigil config …` end to end: create from a file, list, refused delete, export, import.
    func testConfigCLI() throws {
        try stack.start("vigil-broker", name: "broker")
        try stack.start("vigil-config", name: "config")
        try stack.waitHealthy(["config"])
        let file = stack.dir + "/collector.json"
        try #"{"id": "ap", "name": "ap", "hostname": "ap.local", "ip": "10.0.0.9"}"#.write(toFile: stack.dir + "/ap.json", atomically: true, encoding: .utf8)
        try #"{"id": "col", "name": "Edge syslog", "type": "syslog", "appliance": "ap"}"#.write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(try stack.vigil(["config", "create", "appliance", stack.dir + "/ap.json"]).status, 0)
        let created = try stack.vigil(["config", "create", "collectors", file])
        XCTAssertEqual(created.status, 0, created.err)
        XCTAssertTrue(created.out.contains("\"created_by\""), created.out)
        let list = try stack.vigil(["config", "list", "collector"])
        XCTAssertTrue(list.out.contains("Edge syslog"), list.out)
        let refusedDelete = try stack.vigil(["config", "delete", "collector", "col"])
        XCTAssertNotEqual(refusedDelete.status, 0)
        XCTAssertTrue(refusedDelete.err.contains("confirmation_required"), refusedDelete.err)
        let export = stack.dir + "/export.json"
        XCTAssertEqual(try stack.vigil(["config", "export", export]).status, 0)
        XCTAssertEqual(try stack.vigil(["config", "delete", "collector", "col", "--confirm"]).status, 0)
        let imported = try stack.vigil(["config", "import", export])
        XCTAssertEqual(imported.status, 0, imported.err)
        XCTAssertTrue(imported.out.contains("\"created\": 1"), imported.out)
        let overview = try stack.vigil(["config", "overview"])
        XCTAssertTrue(overview.out.contains("collector"), overview.out)
        let audit = try stack.vigil(["config", "audit"])
        XCTAssertEqual(audit.out.components(separatedBy: "\n").filter { $0.contains(" deleted ") || $0.contains(" created ") }.count, 4, audit.out)
    }
}

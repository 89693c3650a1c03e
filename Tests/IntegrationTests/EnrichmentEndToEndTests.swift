import Foundation
import XCTest
import VigilTestSupport
import VigilBus
import VigilLog
import VigilWire
#if canImport(Glibc)
import Glibc
#endif

/// `python3 -m http.server` on a free port serving a temp directory; stopped by pid.
final class FeedServer {
    let dir: String
    let port: UInt16
    let process = Process()

    init(dir: String) throws {
        self.dir = dir
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        port = FreePort.next()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", dir]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 {
            if Self.accepts(port) { return }
            usleep(50_000)
        }
        stop()
        throw TestSetupError(message: "python http.server did not start on port \(port)")
    }

    static func accepts(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = port.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr)
        return withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
    }

    func url(_ file: String) -> String { "http://127.0.0.1:\(port)/\(file)" }
    /// Writes `file`; a rewrite gets a modification time at least a second past the old one.
    /// http.server answers If-Modified-Since by the file's mtime in whole seconds, so a rewrite
    /// within the second of the first write would be "304 Not Modified" to the feed's next fetch
    /// (this test failed that way once its steps ran in under a second).
    func write(_ file: String, _ text: String) throws {
        let path = "\(dir)/\(file)"
        let old = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        if let old {
            let mtime = max(Date(), old.addingTimeInterval(1)).addingTimeInterval(1)
            try FileManager.default.setAttributes([.modificationDate: mtime], ofItemAtPath: path)
        }
    }
    func stop() { if process.isRunning { kill(process.processIdentifier, SIGTERM); process.waitUntilExit() } }
}

/// Threat intel over HTTP, asset and user imports, and the enriched values on stored events,
/// through real processes.
final class EnrichmentEndToEndTests: XCTestCase {
    func testFeedsAssetsUsersEnrichEventsAndBadFeedsKeepTheirLastGoodSet() throws {
        let stack = try TestStack()
        defer { stack.cleanup() }
        let server = try FeedServer(dir: stack.dir + "/www")
        defer { server.stop() }
        try server.write("ips.txt", "# blocklist\n198.51.100.7\n203.0.113.0/24\n")
        try server.write("bundle.json", """
            {"type": "bundle", "objects": [
              {"type": "indicator", "id": "indicator--1", "pattern_type": "stix", "confidence": 90,
               "pattern": "[domain-name:value = 'evil.example'] OR [url:value = 'http://dl.example/x.exe']"},
              {"type": "indicator", "id": "indicator--2", "pattern_type": "stix", "pattern": "[process:name = 'x.exe']"}
            ]}
            """)
        try FileManager.default.createDirectory(atPath: stack.dir + "/config", withIntermediateDirectories: true)
        try """
            {"feeds": [
              {"name": "ips", "format": "plain", "location": "\(server.url("ips.txt"))", "confidence": 60, "refresh": "1h"},
              {"name": "stix", "format": "stix2.1", "location": "\(server.url("bundle.json"))"},
              {"name": "gone", "format": "csv", "location": "\(server.url("missing.csv"))"},
              {"name": "nofile", "format": "plain", "location": "no-such-list.txt"}
            ]}
            """.write(toFile: stack.dir + "/config/feeds.json", atomically: true, encoding: .utf8)
        try stack.startCore(ingestArgs: ["--syslog.udp", "off", "--syslog.tcp", "off"])
        let c = try stack.client()
        defer { c.close() }
        func feeds() throws -> [String: FeedStatus] {
            let l = try c.call(service: "enrichment", method: "intel.feeds", IntelReloadRequest(), as: FeedStatusList.self)
            return Dictionary(uniqueKeysWithValues: l.feeds.map { ($0.name, $0) })
        }
        try stack.eventually("all four feeds attempted") { try feeds().values.allSatisfy { $0.lastAttemptTimeMs > 0 && !$0.loading } }
        var f = try feeds()
        XCTAssertEqual(f["ips"]?.indicators, 2)
        XCTAssertEqual(f["stix"]?.indicators, 2)
        XCTAssertEqual(f["stix"]?.refused, 1, "process:name is refused and counted")
        XCTAssertTrue(f["gone"]?.lastError.contains("HTTP 404") ?? false, "\(String(describing: f["gone"]))")
        XCTAssertTrue(f["nofile"]?.lastError.contains("does not exist") ?? false)
        XCTAssertEqual(f["gone"]?.indicators, 0)

        // Assets (JSON, extra columns) and directory users (CSV).
        let assets = #"[{"id": "a-web", "name": "Web", "hostname": "web01", "ip": "10.0.0.10", "criticality": "critical", "tags": ["dmz", "pci"], "owner": "ops"},"#
            + #" {"id": "a-bad", "ip": "999.1.1.1"}]"#
        let ar = try c.call(service: "enrichment", method: "assets.import", ImportRequest(format: "json", content: Array(assets.utf8), origin: "assets.json"), as: ImportResponse.self)
        XCTAssertEqual(ar.imported, 1)
        XCTAssertEqual(ar.rejected, 1)
        XCTAssertEqual(ar.errors, ["assets.json[1]: ip '999.1.1.1' is not an IPv4 or IPv6 address"])
        let users = "sAMAccountName,UPN,displayName,department,title,manager,memberOf,privileged\nalice,alice@corp.example,Alice Doe,Finance,Controller,bob,Domain Admins;Finance,true\n"
        let ur = try c.call(service: "enrichment", method: "users.import", ImportRequest(format: "csv", content: Array(users.utf8), origin: "users.csv"), as: ImportResponse.self)
        XCTAssertEqual(ur.imported, 1)

        var batch = EventBatch()
        batch.batchId = "intel-1"
        for line in ["<38>Dec  4 10:00:00 web01 sshd[1]: Failed password for alice from 198.51.100.7 port 4242 ssh2",
                     #"{"dns.question.name": "cdn.Evil.example", "user.name": "CORP\\alice", "host.name": "ws7"}"#,
                     #"{"source.ip": "203.0.113.9", "destination.ip": "10.0.0.10"}"#,
                     "<38>Dec  4 10:00:01 db01 sshd[1]: Failed password for root from 192.0.2.200 port 4242 ssh2"] {
            var e = Event(); e.raw = Array(line.utf8); batch.events.append(e)
        }
        _ = try c.call(service: "ingest", method: "ingest.submit", batch, as: EventBatchAck.self)
        func count(_ q: String) throws -> UInt64 {
            try c.call(service: "enrichment", method: "events.count", QueryRequest(query: q), as: CountResponse.self).count
        }
        try stack.eventually("4 events stored") { try count("") == 4 }
        XCTAssertEqual(try count("threat.indicator.matched: true"), 3)
        XCTAssertEqual(try count("threat.indicator.feed: stix and threat.indicator.field: dns.question.name"), 1)
        XCTAssertEqual(try count("threat.indicator.type: cidr and threat.indicator.confidence >= 60"), 1)
        XCTAssertEqual(try count("asset.criticality: critical"), 2, "web01 by host name, 10.0.0.10 by destination.ip")
        XCTAssertEqual(try count("user.department: finance and user.privileged: true"), 2, "alice and CORP\\alice")

        let hit = try c.call(service: "enrichment", method: "events.search", QueryRequest(query: "threat.indicator.field: source.ip and host.name: web01"), as: EventPage.self).events.first
        let e = try XCTUnwrap(hit)
        XCTAssertEqual(e.enriched["threat.indicator.value"], "198.51.100.7")
        XCTAssertEqual(e.enriched["threat.indicator.feed"], "ips")
        XCTAssertEqual(e.enriched["asset.tags"], "dmz;pci")
        XCTAssertEqual(e.enriched["user.full_name"], "Alice Doe")
        XCTAssertEqual(e.enriched["user.groups"], "Domain Admins;Finance")
        XCTAssertNil(e.fields["threat.indicator.matched"], "enriched values never land among event values")

        let lookup = try c.call(service: "enrichment", method: "intel.lookup", IntelLookupRequest(value: "a.b.evil.example"), as: IntelLookupResponse.self)
        XCTAssertEqual(lookup.indicators.map { "\($0.feed) \($0.type) \($0.value) \($0.confidence)" }, ["stix domain evil.example 90"])
        XCTAssertGreaterThan(lookup.indicators.first?.firstSeenTimeMs ?? 0, 0)

        // A feed that turns bad keeps its last good set; the error is reported.
        try server.write("bundle.json", "{ not json")
        _ = try c.call(service: "enrichment", method: "intel.reload", IntelReloadRequest(feed: "stix"), as: FeedStatusList.self)
        try stack.eventually("stix reload failed") { try feeds()["stix"]?.lastError.contains("not valid JSON") == true }
        f = try feeds()
        XCTAssertEqual(f["stix"]?.indicators, 2)
        XCTAssertGreaterThanOrEqual(f["stix"]?.failures ?? 0, 1)
        XCTAssertEqual(try c.call(service: "enrichment", method: "intel.lookup", IntelLookupRequest(value: "evil.example"), as: IntelLookupResponse.self).indicators.count, 1)
        XCTAssertThrowsError(try c.call(service: "enrichment", method: "intel.reload", IntelReloadRequest(feed: "nope"), as: FeedStatusList.self))

        // Assets and users are QQL lists too.
        let page = try c.call(service: "enrichment", method: "assets.search", QueryRequest(query: "asset.tags: pci and host.ip: 10.0.0.0/8"), as: AssetPage.self)
        XCTAssertEqual(page.assets.map(\.id), ["a-web"])
        XCTAssertEqual(page.assets.first?.tags, ["dmz", "pci"])
        XCTAssertEqual(try c.call(service: "enrichment", method: "users.count", QueryRequest(query: "user.privileged: true"), as: CountResponse.self).count, 1)

        // The last good sets survive a restart of enrichment, before any reload.
        stack.kill("enrichment")
        try server.write("ips.txt", "garbage that is not an indicator\n")
        try stack.start("vigil-enrichment", name: "enrichment")
        // The broker may route to the killed worker until it expires (3 s): ask until the new one answers.
        try stack.eventually("restarted enrichment answers from its stored sets") {
            try c.call(service: "enrichment", method: "intel.lookup", IntelLookupRequest(value: "198.51.100.7"), as: IntelLookupResponse.self,
                       timeoutMs: 1000).indicators.first?.feed == "ips"
        }
        try stack.eventually("the failed reload of ips is reported") { try feeds()["ips"]?.lastError.contains("none of its 1 entries") == true }
        XCTAssertEqual(try feeds()["ips"]?.indicators, 2)
    }
}

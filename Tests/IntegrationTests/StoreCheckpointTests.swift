import Foundation
import XCTest
import VigilBus
import VigilWire

/// The services' WAL checkpoints run on their own thread (`store.checkpoint`, default
/// background) and say so in their counters; `inline` leaves them to SQLite's commit.
final class StoreCheckpointTests: XCTestCase {
    var stack: TestStack!

    override func setUpWithError() throws { stack = try TestStack() }
    override func tearDown() { stack?.cleanup() }

    func submit(_ n: Int) throws {
        let c = try stack.client()
        defer { c.close() }
        for b in stride(from: 0, to: n, by: 1000) {
            let lines = (b..<min(n, b + 1000)).map { "<38>Dec  4 09:15:11 web01 sshd[1]: Failed password for u\($0) from 10.9.8.7 port 4000 ssh2" }
            try stack.submit(c, batchId: "ckpt-\(b)", idPrefix: "ckpt-\(b)", lines: lines)
        }
    }

    func testServicesCheckpointInTheBackgroundByDefault() throws {
        try stack.startCore(ingestArgs: ["--syslog.udp", "off", "--syslog.tcp", "off"])
        try submit(5000)
        for service in ["ingest", "enrichment"] {
            try stack.eventually("\(service) checkpointed its WAL in the background") {
                (try self.stack.metrics(service).counters["store.checkpoint_pages"] ?? 0) > 0
            }
            let m = try stack.metrics(service).counters
            XCTAssertGreaterThanOrEqual(m["store.checkpoints"] ?? 0, 1)
            XCTAssertEqual(m["store.checkpoint_failures"], 0)
        }
    }

    func testInlineLeavesCheckpointsToSQLite() throws {
        try stack.startCore(ingestArgs: ["--syslog.udp", "off", "--syslog.tcp", "off", "--store.checkpoint", "inline"])
        try submit(2000)
        try stack.eventually("ingest accepted the events") { (try self.stack.metrics("ingest").counters["accepted"] ?? 0) == 2000 }
        XCTAssertNil(try stack.metrics("ingest").counters["store.checkpoints"])
        XCTAssertNotNil(try stack.metrics("enrichment").counters["store.checkpoints"], "the default elsewhere")
    }
}

import Foundation
import XCTest
import VigilBus
import VigilLog
import VigilStore
import VigilWire
#if canImport(Glibc)
import Glibc
#endif

final class ReliabilityTests: XCTestCase {
    var stack: TestStack!

    override func setUpWithError() throws { stack = try TestStack() }
    override func tearDown() {
        if let s = stack, testRun?.hasSucceeded == false {
            for n in ["broker", "ingest", "enrichment", "detection"] { print("--- \(n) log ---\n\(s.log(n).suffix(3000))") }
        }
        stack?.cleanup()
    }

    /// Sum over streams of the last sequence number ever assigned (outbox rows or remembered heads).
    func totalProduced(_ db: Database) throws -> Int64 {
        try db.scalar("""
            SELECT coalesce(sum(m), 0) FROM (SELECT stream, max(seq) AS m FROM
              (SELECT stream, seq FROM stream_outbox UNION ALL SELECT stream, seq FROM stream_heads) GROUP BY stream)
            """)?.int64 ?? -1
    }

    /// Invariant 2: SIGKILL a consumer while the producer keeps publishing 100k events;
    /// after a restart its store holds every event exactly once, and so does its own output.
    func testKilledConsumerCatchesUpWithEveryEventExactlyOnce() throws {
        try stack.startCore(ingestArgs: ["--syslog.udp", "off", "--syslog.tcp", "off"])
        let client = try stack.client()
        defer { client.close() }
        let total = 100_000, perBatch = 1000
        var failures = 0
        for b in 0..<(total / perBatch) {
            if b == 30 { stack.kill("enrichment") }
            if b == 60 { try stack.start("vigil-enrichment", name: "enrichment") }
            var batch = EventBatch()
            batch.batchId = "batch-\(b)"
            batch.agentId = "test"
            for i in 0..<perBatch {
                let n = b * perBatch + i
                var e = Event()
                e.id = "ev-\(n)"
                e.raw = Array((n % 10 == 0
                    ? "<38>Dec  4 09:15:11 host\(n % 7) sshd[1]: Failed password for user\(n % 13) from 10.0.\(n % 250).1 port 4000 ssh2"
                    : "<38>Dec  4 09:15:11 host\(n % 7) app[1]: message number \(n)").utf8)
                batch.events.append(e)
            }
            let ack = try client.call(service: "ingest", method: "ingest.submit", batch, as: EventBatchAck.self, timeoutMs: 20_000)
            if ack.accepted != UInt32(perBatch) { failures += 1 }
        }
        XCTAssertEqual(failures, 0)
        let enrichment = try Database(path: stack.dir + "/enrichment-0.db")
        try stack.eventually(timeoutMs: 180_000, "enrichment stores 100k events") {
            try enrichment.scalar("SELECT count(*) FROM events")?.int64 == Int64(total)
        }
        XCTAssertEqual(try enrichment.scalar("SELECT count(DISTINCT id) FROM events")?.int64, Int64(total))
        XCTAssertEqual(try totalProduced(enrichment), Int64(total), "each event appended to enrichment's outbox exactly once")
        let m = try stack.metrics("enrichment")
        XCTAssertEqual(m.counters["events.duplicate_ignored"] ?? 0, 0)
        XCTAssertGreaterThan(m.counters["in.replayed"] ?? 0, 0, "the restarted consumer caught up by replay")

        let detection = try Database(path: stack.dir + "/detection-0.db")
        try stack.eventually(timeoutMs: 120_000, "detection raises one signal per failed login") {
            try detection.scalar("SELECT count(*) FROM signals")?.int64 == Int64(total / 10)
        }
        XCTAssertEqual(try totalProduced(detection), Int64(total / 10), "no signal published twice")
    }

    /// An agent resending a batch it got no ack for must not duplicate events.
    func testResentBatchIsNotStoredTwice() throws {
        try stack.startCore(ingestArgs: ["--syslog.udp", "off", "--syslog.tcp", "off"])
        let client = try stack.client()
        defer { client.close() }
        var batch = EventBatch()
        batch.batchId = "agent-1-42"
        batch.agentId = "agent-1"
        for i in 0..<10 { var e = Event(); e.raw = Array("<13>Dec  4 10:00:00 h app: line \(i)".utf8); batch.events.append(e) }
        let first = try client.call(service: "ingest", method: "ingest.submit", batch, as: EventBatchAck.self)
        let second = try client.call(service: "ingest", method: "ingest.submit", batch, as: EventBatchAck.self)
        XCTAssertEqual(first.accepted, 10)
        XCTAssertFalse(first.duplicate)
        XCTAssertTrue(second.duplicate)
        let db = try Database(path: stack.dir + "/enrichment-0.db")
        try stack.eventually("10 events") { try db.scalar("SELECT count(*) FROM events")?.int64 == 10 }
        usleep(500_000)
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM events")?.int64, 10)
    }

    /// Two instances of a service behind the broker; one is killed; requests keep being answered.
    func testRequestsSurviveTheLossOfOneInstance() throws {
        try stack.start("vigil-broker", name: "broker")
        try stack.start("vigil-ingest", name: "ingest-a", ["--instance", "ingest-a", "--syslog.udp", "off", "--syslog.tcp", "off", "--json.tcp", "off"])
        try stack.start("vigil-ingest", name: "ingest-b", ["--instance", "ingest-b", "--syslog.udp", "off", "--syslog.tcp", "off", "--json.tcp", "off"])
        try stack.waitHealthy(["ingest-a", "ingest-b"])
        let client = try stack.client()
        defer { client.close() }
        var answered = Set<String>()
        for _ in 0..<20 {
            answered.insert(try client.call(service: "ingest", method: "sys.health", HealthResponse(), as: HealthResponse.self).instance)
        }
        XCTAssertEqual(answered, ["ingest-a", "ingest-b"])
        stack.kill("ingest-a")
        var after: [String] = []
        for _ in 0..<20 {
            after.append(try client.call(service: "ingest", method: "sys.health", HealthResponse(), as: HealthResponse.self,
                                         timeoutMs: 10_000).instance)
        }
        XCTAssertEqual(Set(after), ["ingest-b"])
    }
}

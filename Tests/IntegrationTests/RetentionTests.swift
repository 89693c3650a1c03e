import Foundation
import XCTest
import VigilBus
import VigilWire

/// Event-store retention in the real enrichment service: by age (event time) and by size
/// (pages in use), oldest first, counted in its metrics.
final class RetentionTests: XCTestCase {
    func submit(_ c: RpcClient, batch: String, count: Int, ageMs: Int64, padding: Int = 0) throws {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var b = EventBatch()
        b.batchId = batch
        for i in 0..<count {
            var e = Event()
            e.raw = Array("\(batch) event \(i) \(String(repeating: "x", count: padding))".utf8)
            e.fields = ["message": "\(batch) \(i)", "host.name": "h\(i % 7)"]
            e.parseStatus = .parsed
            e.format = "test"
            e.eventTimeMs = now - ageMs + Int64(i)
            b.events.append(e)
        }
        _ = try c.call(service: "ingest", method: "ingest.submit", b, as: EventBatchAck.self, timeoutMs: 30_000)
    }

    func count(_ c: RpcClient, _ q: String = "") throws -> UInt64 {
        try c.call(service: "enrichment", method: "events.count", QueryRequest(query: q), as: CountResponse.self, timeoutMs: 10_000).count
    }

    func testEventsOlderThanTheRetentionAgeAreDeleted() throws {
        let stack = try TestStack()
        defer { stack.cleanup() }
        try stack.start("vigil-broker", name: "broker")
        try stack.start("vigil-ingest", name: "ingest", ["--syslog.udp", "off", "--syslog.tcp", "off"])
        try stack.start("vigil-enrichment", name: "enrichment", ["--retention.age", "2h", "--retention.interval", "1s"])
        try stack.waitHealthy(["ingest", "enrichment"])
        let c = try stack.client()
        defer { c.close() }
        try submit(c, batch: "old", count: 300, ageMs: 3 * 3_600_000)
        try submit(c, batch: "recent", count: 200, ageMs: 60_000)
        try stack.eventually("old events deleted, recent kept") {
            try self.count(c) == 200 && (try stack.metrics("enrichment").counters["retention.deleted_age"] ?? 0) == 300
        }
        XCTAssertEqual(try count(c, "message: old"), 0)
        XCTAssertEqual(try count(c, "message: recent"), 200)
    }

    func testTheStoreIsKeptBelowItsSizeLimitOldestFirst() throws {
        let stack = try TestStack()
        defer { stack.cleanup() }
        try stack.start("vigil-broker", name: "broker")
        try stack.start("vigil-ingest", name: "ingest", ["--syslog.udp", "off", "--syslog.tcp", "off"])
        try stack.start("vigil-enrichment", name: "enrichment",
                        ["--retention.age", "0", "--retention.max-bytes", "4m", "--retention.interval", "1s", "--retention.batch", "2000"])
        try stack.start("vigil-detection", name: "detection")
        try stack.waitHealthy(["ingest", "enrichment", "detection"])
        let c = try stack.client()
        defer { c.close() }
        // About 12 MB of events, oldest batch first.
        for k in 0..<6 { try submit(c, batch: "b\(k)", count: 4000, ageMs: Int64(6 - k) * 3_600_000, padding: 300) }
        try stack.eventually(timeoutMs: 60_000, "every event stored") { (try stack.metrics("enrichment").counters["processed"] ?? 0) >= 24_000 }
        // The size is measured by each retention pass (every second): wait for passes after the
        // last batch, until the oldest batch is gone and the events are under the limit.
        try stack.eventually(timeoutMs: 60_000, "events below 4 MiB, oldest first") {
            let m = try stack.metrics("enrichment").counters
            let oldest = try self.count(c, "message: b0")
            return (m["retention.deleted_size"] ?? 0) > 0 && (m["store.event_bytes"] ?? .max) <= 4 << 20 && oldest == 0
        }
        let kept = try count(c)
        XCTAssertGreaterThan(kept, 1000)
        XCTAssertLessThan(kept, 24_000)
        XCTAssertEqual(try count(c, "message: b5"), 4000, "the newest events are kept")
    }
}

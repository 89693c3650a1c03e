import Foundation
import XCTest
import VigilBus
import VigilWire

/// `ingest.submit` holds a bounded number of batches in preparation; over the bound a batch is
/// refused with resource_exhausted (nothing stored), and the sender's resend with the same
/// batch id is stored once.
final class SubmitBoundTests: XCTestCase {
    struct BatchError: Error { var batch: Int; var error: Error }

    var stack: TestStack!

    override func setUpWithError() throws { stack = try TestStack() }
    override func tearDown() { stack?.cleanup() }

    func batch(_ k: Int, events: Int) -> EventBatch {
        var b = EventBatch()
        b.batchId = "bound-\(k)"
        b.agentId = "test"
        for i in 0..<events {
            var e = Event()
            e.id = "bound-\(k)-\(i)"
            e.raw = Array("<38>Dec  4 09:15:11 web01 sshd[1]: Failed password for u\(i) from 10.9.8.\(k) port 4000 ssh2".utf8)
            b.events.append(e)
        }
        return b
    }

    func testSubmitsOverTheBoundAreRefusedAndTheirResendsStoredOnce() throws {
        try stack.startCore(ingestArgs: ["--syslog.udp", "off", "--syslog.tcp", "off", "--submit.max-in-flight", "1"])
        let n = 12, perBatch = 2000
        let outcomes = ErrorList() // RpcErrors per refused batch, anything else is a failure
        let group = DispatchGroup()
        for k in 0..<n {
            let b = batch(k, events: perBatch)
            DispatchQueue.global().async(group: group) {
                do {
                    let c = try self.stack.client()
                    defer { c.close() }
                    _ = try c.call(service: "ingest", method: "ingest.submit", b, as: EventBatchAck.self, timeoutMs: 30_000)
                } catch {
                    outcomes.add(BatchError(batch: k, error: error))
                }
            }
        }
        group.wait()
        let refused = outcomes.all.compactMap { e -> Int? in
            guard let b = e as? BatchError, (b.error as? RpcError)?.code == .resourceExhausted else { return nil }
            return b.batch
        }
        XCTAssertEqual(outcomes.all.count, refused.count, "only resource_exhausted refusals: \(outcomes.all)")
        XCTAssertFalse(refused.isEmpty, "12 concurrent batches with room for 1: some must be refused")
        XCTAssertEqual(try stack.metrics("ingest").counters["submit.busy"], UInt64(refused.count))
        // The senders retry: each refused batch once more, one at a time.
        let c = try stack.client()
        defer { c.close() }
        for k in refused {
            let ack = try c.call(service: "ingest", method: "ingest.submit", batch(k, events: perBatch), as: EventBatchAck.self, timeoutMs: 30_000)
            XCTAssertFalse(ack.duplicate, "a refused batch was not stored")
            XCTAssertEqual(ack.accepted, UInt32(perBatch))
        }
        XCTAssertEqual(try stack.metrics("ingest").counters["accepted"], UInt64(n * perBatch), "every event once")
    }
}

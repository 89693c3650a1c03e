import Foundation
import XCTest
@testable import IngestService
import VigilService
import VigilStore
import VigilWire
import VigilTestSupport

/// Submitted batches that finish preparing while the loop is busy are committed together, in
/// one transaction, each answered as it would be alone (stored, duplicate, refused).
final class SubmitGroupTests: XCTestCase {
    var harness: ServiceHarness!
    override func setUpWithError() throws { harness = try ServiceHarness(service: "ingest", keys: IngestService.keys) }
    override func tearDown() { harness.remove() }

    /// Listeners off: batches come only through `submit`.
    func service() throws -> (ServiceRuntime, IngestService) {
        let runtime = try harness.runtime(["--syslog.udp", "off", "--syslog.tcp", "off", "--json.tcp", "off"])
        return (runtime, try IngestService(runtime: runtime))
    }

    func batch(_ id: String, _ lines: [String]) -> RpcRequest {
        var b = EventBatch()
        b.batchId = id
        b.agentId = "agent-1"
        b.events = lines.map { line in var e = Event(); e.raw = Array(line.utf8); return e }
        return RpcRequest(method: "ingest.submit", payload: b.encoded())
    }

    func testBatchesThatWaitTogetherShareOneTransactionAndAreEachAnswered() throws {
        let (runtime, svc) = try service()
        defer { svc.shutdown(); runtime.close() }
        let sshd = "<38>Dec  5 01:00:00 web01 sshd[7]: Failed password for root from 198.51.100.7 port 22 ssh2"
        var replies: [Int: RpcResponse] = [:]
        let requests = [batch("b1", [sshd, sshd, "not a known format at all"]),
                        batch("b1", [sshd, sshd, "not a known format at all"]),      // a resend while the first waits
                        RpcRequest(method: "ingest.submit", payload: [0xff, 0xff, 0xff]),   // not an EventBatch
                        batch("b2", [sshd])]
        for (k, r) in requests.enumerated() { svc.submit(r) { replies[k] = $0 } }
        svc.preparer.waitIdle()
        var commits = 0
        runtime.db.addAfterCommit { commits += 1 }
        svc.commitPrepared()
        XCTAssertEqual(commits, 1, "four finished batches, one transaction")
        XCTAssertEqual(replies.count, 4)
        let first = try EventBatchAck(decoding: try XCTUnwrap(replies[0]).payload)
        XCTAssertEqual([first.accepted, first.unparsed], [3, 1])
        XCTAssertFalse(first.duplicate)
        let resend = try EventBatchAck(decoding: try XCTUnwrap(replies[1]).payload)
        XCTAssertTrue(resend.duplicate, "the resend is answered as a duplicate of the copy in the same transaction")
        XCTAssertEqual([resend.accepted, resend.unparsed], [3, 1])
        XCTAssertEqual(replies[2]?.errorCode, .badRequest)
        XCTAssertEqual(try EventBatchAck(decoding: try XCTUnwrap(replies[3]).payload).accepted, 1)
        XCTAssertEqual(svc.producer.outboxRows, 4, "b1 once, b2")
        XCTAssertEqual(runtime.counters["accepted"], 4)
        XCTAssertEqual(runtime.counters["duplicate_batches"], 1)
        XCTAssertEqual(runtime.counters["malformed"], 1)
        XCTAssertEqual(try runtime.db.scalar("SELECT count(*) FROM agent_batches")?.int64, 2)
    }

    func testAFailedGroupIsRetriedBatchByBatch() throws {
        let (runtime, svc) = try service()
        defer { svc.shutdown(); runtime.close() }
        let sshd = "<38>Dec  5 01:00:00 web01 sshd[7]: Failed password for root from 198.51.100.7 port 22 ssh2"
        var replies: [Int: RpcResponse] = [:]
        for (k, id) in ["g1", "g2"].enumerated() { svc.submit(batch(id, [sshd])) { replies[k] = $0 } }
        svc.preparer.waitIdle()
        // The first COMMIT fails (the group's); the batches then go one by one.
        var failNext = true, commits = 0
        struct Injected: Error {}
        runtime.db.addBeforeCommit { if failNext { failNext = false; throw Injected() } }
        runtime.db.addAfterCommit { commits += 1 }
        svc.commitPrepared()
        XCTAssertEqual(commits, 2, "each batch alone after the group failed")
        XCTAssertEqual(replies.values.map(\.errorCode), [.ok, .ok])
        XCTAssertEqual(svc.producer.outboxRows, 2)
        XCTAssertEqual(runtime.counters["accepted"], 2)
    }
}

import Foundation
import XCTest
import VigilLog
import VigilService
import VigilStore
import VigilWire
import VigilTestSupport
@testable import EnrichmentService

/// Deferred full-text indexing (`fts.batch`): stored events wait for the index until enough of
/// them do, a query comes, a reparse needs them indexed, or the service restarts; the index stays
/// consistent with the events table throughout (FTS5's integrity-check).
final class DeferredFullTextTests: XCTestCase {
    var harness: ServiceHarness!
    override func setUpWithError() throws { harness = try ServiceHarness(service: "enrichment", keys: EnrichmentService.keys) }
    override func tearDown() { harness.remove() }

    func service(batch: Int) throws -> (ServiceRuntime, EnrichmentService) {
        let runtime = try harness.runtime(["--fts.batch", String(batch)])
        return (runtime, try EnrichmentService(runtime: runtime))
    }

    var sequence: UInt64 = 0
    func envelope(_ id: String, raw: String, message: String?, parsed: Bool = true, reparsed: Bool = false) -> StreamEnvelope {
        var e = Event()
        e.id = id
        e.eventTimeMs = 1_796_400_000_000; e.receivedTimeMs = e.eventTimeMs
        e.source = "test"
        e.raw = Array(raw.utf8)
        e.parseStatus = parsed ? .parsed : .unparsed
        if parsed { e.format = "linux-auth"; e.fields = ["host.name": "web01"] } else { e.parseError = "no parser" }
        if let message { e.fields["message"] = message }
        if reparsed { e.fields["event.reparsed"] = "true" }
        var env = StreamEnvelope()
        env.producerId = "ingest-0"
        env.stream = "events.parsed.0"; env.topic = env.stream
        sequence += 1
        env.sequence = sequence
        env.payloadType = Event.typeName
        env.payload = e.encoded()
        return env
    }

    func matches(_ db: Database, _ q: String) throws -> Int64 {
        try db.scalar("SELECT count(*) FROM events_fts WHERE events_fts MATCH ?", [.text(q)])?.int64 ?? -1
    }

    func testEventsWaitForTheirBatchAndQueriesRestartsAndReparsesIndexThemFirst() throws {
        var (runtime, svc) = try service(batch: 3)
        var db = runtime.db
        try svc.processCommitted([envelope("e1", raw: "sshd: Failed password for alpha", message: "Failed password for alpha"),
                                  envelope("e2", raw: "kernel: disk full", message: "storage alarm")])
        XCTAssertEqual(try matches(db, "alpha OR disk"), 0, "two events wait for a batch of three")
        XCTAssertEqual(try EventFullText.indexedBelow(db), 1)
        // A query indexes what waits first (ListQueries.beforeQuery, run by the list RPCs).
        try XCTUnwrap(svc.queries?.beforeQuery)()
        XCTAssertEqual(try svc.queries?.count(QueryRequest(query: "alpha")), 1)
        XCTAssertEqual(try matches(db, "message:alarm"), 1, "a message the raw line lacks is indexed from memory")
        XCTAssertEqual(try matches(db, "message:alpha"), 0, "a message the raw line contains is not indexed twice")

        // The third waiting event completes a batch: indexed right after the consumer batch that
        // stored it is committed and published, in its own transaction.
        try svc.processCommitted([envelope("e3", raw: "a", message: nil), envelope("e4", raw: "b", message: nil)])
        XCTAssertEqual(try matches(db, "alpha OR disk"), 2)
        try svc.processCommitted([envelope("e5", raw: "c", message: nil), envelope("e6", raw: "d", message: nil),
                                  envelope("e7", raw: "e", message: nil)])
        XCTAssertEqual(try matches(db, "a OR b OR c OR d OR e"), 5)

        // A waiting unparsed event, then its reparse: indexed first, so the update trigger
        // replaces its message; a waiting event deleted (retention) simply never enters the index.
        try svc.processCommitted([envelope("r1", raw: "router: link down", message: nil, parsed: false),
                                  envelope("x1", raw: "gone soon", message: nil)])
        _ = try db.run("DELETE FROM events WHERE id = 'x1'")
        try svc.processCommitted([envelope("r1", raw: "router: link down", message: "interface flapping", reparsed: true)])
        XCTAssertEqual(try matches(db, "message:flapping"), 1)
        XCTAssertEqual(try matches(db, "router"), 1)
        XCTAssertEqual(try matches(db, "gone"), 0)
        _ = try db.run("INSERT INTO events_fts(events_fts) VALUES('integrity-check')")

        // Stored, not indexed, then the process stops: the next start indexes them from the store.
        try svc.processCommitted([envelope("s1", raw: "cron: job started", message: "nightly backup")])
        XCTAssertEqual(try matches(db, "cron"), 0)
        runtime.close()
        (runtime, svc) = try service(batch: 3)
        db = runtime.db
        XCTAssertEqual(try matches(db, "cron"), 1)
        XCTAssertEqual(try matches(db, "message:nightly"), 1)
        XCTAssertEqual(try EventFullText.indexedBelow(db), svc.nextSeq)
        try svc.processCommitted([envelope("s2", raw: "cron: job ended", message: nil)])
        try XCTUnwrap(svc.queries?.beforeQuery)()
        XCTAssertEqual(try matches(db, "cron"), 2)
        _ = try db.run("INSERT INTO events_fts(events_fts) VALUES('integrity-check')")
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM events")?.int64, 10)
        runtime.close()
    }

    /// A full-text step that fails after its batch (here: an injected error in the step's own
    /// transaction) leaves the batch stored and published, counts `fts.index_errors`, does not try
    /// again after every following batch, and what waits is indexed exactly once it works again.
    func testAFailedStepLeavesTheBatchStoredAndIsTriedAgainLater() throws {
        // A long fts.interval: the loop's own retry is driven below by moving its time.
        let runtime = try harness.runtime(["--fts.batch", "2", "--fts.interval", "600000"])
        let svc = try EnrichmentService(runtime: runtime)
        let db = runtime.db
        try db.execute("""
            CREATE TEMP TRIGGER fail_fts_step BEFORE UPDATE ON main.events_fts_state
            BEGIN SELECT RAISE(ABORT, 'injected full-text failure'); END
            """)
        try svc.processCommitted([envelope("f1", raw: "sshd: Failed password for alpha", message: nil),
                                  envelope("f2", raw: "kernel: disk full", message: "storage alarm")])
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM events")?.int64, 2, "the batch is stored whatever its step does")
        XCTAssertEqual(runtime.counters["fts.index_errors"], 1)
        XCTAssertEqual(try matches(db, "alpha OR disk OR alarm"), 0, "the failed step left nothing half-indexed")
        XCTAssertEqual(try EventFullText.indexedBelow(db), 1)
        // The next batch makes four waiting events; the loop does not try again before fts.interval.
        try svc.processCommitted([envelope("f3", raw: "cron: job started", message: nil),
                                  envelope("f4", raw: "cron: job ended", message: nil)])
        XCTAssertEqual(runtime.counters["fts.index_errors"], 1)
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM events")?.int64, 4)
        XCTAssertEqual(svc.ftsRetryDelayMs, 600_000, "the first wait is fts.interval")
        // The loop's retry time comes (here with fts.interval 1 s): it fails again, and each next
        // wait doubles, up to a minute.
        svc.ftsIntervalMs = 1000
        svc.ftsRetryDelayMs = 1000
        svc.ftsRetryAtMs = 0
        runtime.afterConsumerBatch?()
        XCTAssertEqual(runtime.counters["fts.index_errors"], 2)
        XCTAssertEqual(svc.ftsRetryDelayMs, 2000)
        XCTAssertGreaterThan(svc.ftsRetryAtMs, Clock.monotonicMs() + 1000)
        svc.ftsRetryDelayMs = 40_000
        svc.ftsRetryAtMs = 0
        runtime.afterConsumerBatch?()
        XCTAssertEqual(runtime.counters["fts.index_errors"], 3)
        XCTAssertEqual(svc.ftsRetryDelayMs, 60_000)
        // Working again: the loop's next try indexes what waits, exactly, and the back-off resets.
        try db.execute("DROP TRIGGER temp.fail_fts_step")
        svc.ftsRetryAtMs = 0
        runtime.afterConsumerBatch?()
        XCTAssertEqual(runtime.counters["fts.index_errors"], 3)
        XCTAssertEqual(svc.ftsRetryDelayMs, 0)
        XCTAssertEqual(try matches(db, "alpha OR disk OR cron"), 4)
        XCTAssertEqual(try matches(db, "message:alarm"), 1)
        XCTAssertEqual(try EventFullText.indexedBelow(db), svc.nextSeq)
        // And a query finds nothing left to index.
        try XCTUnwrap(svc.queries?.beforeQuery)()
        XCTAssertEqual(try matches(db, "alpha OR disk OR cron"), 4)
        _ = try db.run("INSERT INTO events_fts(events_fts) VALUES('integrity-check')")
        runtime.close()
    }
}

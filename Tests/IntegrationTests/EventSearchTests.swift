import Foundation
import XCTest
import VigilBus
import VigilLog
import VigilWire
import VigilEvents
import VigilQuery
import VigilStore

/// QQL over the real enrichment store, through the broker, as the shell uses it.
final class EventSearchTests: XCTestCase {
    func testSearchPagesFacetsHistogramAndErrors() throws {
        let stack = try TestStack()
        defer { stack.cleanup() }
        try stack.startCore(ingestArgs: ["--syslog.udp", "off", "--syslog.tcp", "off"])
        let c = try stack.client()
        defer { c.close() }
        // 60 events: 20 failed ssh logins from 3 addresses, 40 generic lines on two hosts.
        var batch = EventBatch()
        batch.batchId = "search-1"
        for i in 0..<60 {
            var e = Event()
            e.raw = Array((i % 3 == 0
                ? "<38>Dec  4 09:15:\(String(format: "%02d", i % 60)) web0\(i % 2) sshd[1]: Failed password for user\(i % 4) from 10.0.\(i % 3).\(i) port 22 ssh2"
                : "<13>Dec  4 09:16:\(String(format: "%02d", i % 60)) db0\(i % 2) app[2]: ordinary message \(i)").utf8)
            batch.events.append(e)
        }
        var bad = Event(); bad.raw = Array("no header; searchable anyway".utf8); batch.events.append(bad)
        _ = try c.call(service: "ingest", method: "ingest.submit", batch, as: EventBatchAck.self)
        try stack.eventually("61 events searchable") {
            try c.call(service: "enrichment", method: "events.count", QueryRequest(), as: CountResponse.self).count == 61
        }
        func count(_ q: String) throws -> UInt64 {
            try c.call(service: "enrichment", method: "events.count", QueryRequest(query: q), as: CountResponse.self).count
        }
        XCTAssertEqual(try count("event.outcome: failure"), 20)
        XCTAssertEqual(try count("event.outcome: failure and source.ip: 10.0.0.0/27"), 11)
        XCTAssertEqual(try count("not event.outcome: failure"), 41, "missing fields match a negation")
        XCTAssertEqual(try count("event.parse_status: unparsed"), 1)
        XCTAssertEqual(try count("searchable"), 1, "free text reaches the raw line")
        // Free text is answered by the FTS5 index: words are tokens, `*` at the end is a prefix.
        XCTAssertEqual(try count("FAILED"), 20)
        XCTAssertEqual(try count("fail"), 0, "a word matches whole tokens")
        XCTAssertEqual(try count("fail*"), 20)
        XCTAssertEqual(try count("\"failed password\" and not user0"), 15)
        XCTAssertEqual(try count("ordinary"), 40)
        XCTAssertEqual(try count("*rdinar*"), 40, "a leading wildcard keeps the substring scan")
        XCTAssertEqual(try count("host.name: [web00, web01] and user.name: user0"), 5)

        // The in-memory evaluator (rule conditions) agrees with the store's SQL on these events.
        var everything = QueryRequest()
        everything.limit = 1000
        let all = try c.call(service: "enrichment", method: "events.search", everything, as: EventPage.self).events
        XCTAssertEqual(all.count, 61)
        let queries = ["event.outcome: failure", "not event.outcome: failure", "user.name: user*", "source.ip: 10.0.0.0/27",
                       "host.name: `web01` or process.pid >= 2", "message: \"ordinary message\"", "source.port: [1 .. 100]",
                       "raw: searchable", "asset.name: x", "event.parse_status: unparsed or user.name: [user0, user3]",
                       "@timestamp >= now-1h", "not (host.name: db* and process.name: app)"]
        for q in queries {
            let evaluator = try QueryEvaluator(q, catalog: EventCatalog.catalog)
            let ctx = QueryContext(nowMillis: Clock.nowMs())
            let inMemory = try all.filter { try evaluator.matches(EventRecord($0), context: ctx) }.count
            XCTAssertEqual(UInt64(inMemory), try count(q), "in-memory and SQL disagree on: \(q)")
        }

        // Keyset pagination visits every matching event exactly once.
        var seen: [String] = []
        var req = QueryRequest(query: "event.outcome: failure")
        req.limit = 6
        repeat {
            let page = try c.call(service: "enrichment", method: "events.search", req, as: EventPage.self)
            seen += page.events.map(\.id)
            XCTAssertLessThanOrEqual(page.events.count, 6)
            req.cursor = page.nextCursor
        } while !req.cursor.isEmpty
        XCTAssertEqual(seen.count, 20)
        XCTAssertEqual(Set(seen).count, 20)

        var facet = QueryRequest(query: "event.outcome: failure")
        facet.facetToken = "host.name"
        let f = try c.call(service: "enrichment", method: "events.facets", facet, as: FacetResponse.self)
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: f.values.map { ($0.value, $0.count) }), ["web00": 10, "web01": 10])

        var h = QueryRequest()
        h.fromTimeMs = Clock.nowMs() - 3_600_000
        h.toTimeMs = Clock.nowMs() + 60_000
        h.buckets = 4
        let hist = try c.call(service: "enrichment", method: "events.histogram", h, as: HistogramResponse.self)
        XCTAssertEqual(hist.buckets.count, 4)
        XCTAssertEqual(hist.buckets.reduce(0) { $0 + $1.count }, 1, "only the unparsed event carries the receive time as its time")

        // Errors a person can act on.
        XCTAssertThrowsError(try count("user.nme: bob")) { e in
            let msg = (e as? RpcError)?.message ?? ""
            XCTAssertEqual((e as? RpcError)?.code, .badRequest)
            XCTAssertTrue(msg.contains("did you mean user.name"), msg)
            XCTAssertTrue(msg.contains("user.nme: bob\n^"), msg)
        }
        XCTAssertThrowsError(try count("source.port: abc")) { e in
            XCTAssertTrue(((e as? RpcError)?.message ?? "").contains("number"), "\(e)")
        }
        XCTAssertThrowsError(try count("(user.name: bob")) { e in
            XCTAssertEqual((e as? RpcError)?.code, .badRequest)
        }
        var badCursor = QueryRequest()
        badCursor.cursor = "not-a-cursor"
        XCTAssertThrowsError(try c.call(service: "enrichment", method: "events.search", badCursor, as: EventPage.self))

        // Detail: event values, vendor values and enriched values apart.
        let one = try c.call(service: "enrichment", method: "events.search", QueryRequest(query: "user.name: user1"), as: EventPage.self).events.first
        let detail = try c.call(service: "enrichment", method: "events.get", GetRequest(id: try XCTUnwrap(one?.id)), as: Event.self)
        XCTAssertEqual(detail.fields["user.name"], "user1")
        XCTAssertEqual(detail.raw, one?.raw)
        XCTAssertThrowsError(try c.call(service: "enrichment", method: "events.get", GetRequest(id: "nope"), as: Event.self)) { e in
            XCTAssertEqual((e as? RpcError)?.code, .notFound)
        }
        let tokens = try c.call(service: "enrichment", method: "events.tokens", QueryRequest(), as: TokenCatalogResponse.self)
        XCTAssertTrue(tokens.tokens.contains { $0.name == "source.ip" && $0.type == "ip" })
    }

    /// A store from before the full-text index (events without `seq`, nothing indexed) is indexed
    /// in batches when enrichment starts; searches see every event throughout.
    func testStoredEventsAreIndexedAfterAnUpgrade() throws {
        let stack = try TestStack()
        defer { stack.cleanup() }
        try stack.startCore(ingestArgs: ["--syslog.udp", "off", "--syslog.tcp", "off"])
        let c = try stack.client()
        defer { c.close() }
        var batch = EventBatch()
        batch.batchId = "upgrade-1"
        for i in 0..<30 {
            var e = Event()
            e.raw = Array("<38>Dec  4 09:15:00 web01 sshd[1]: Failed password for user\(i) from 10.0.0.\(i) port 22 ssh2".utf8)
            batch.events.append(e)
        }
        _ = try c.call(service: "ingest", method: "ingest.submit", batch, as: EventBatchAck.self)
        func count(_ q: String) throws -> UInt64 {
            try c.call(service: "enrichment", method: "events.count", QueryRequest(query: q), as: CountResponse.self).count
        }
        try stack.eventually("30 events stored") { try count("") == 30 }
        XCTAssertEqual(try count("fail"), 0, "indexed: words are tokens")

        // Make it a store from before the index: the update trigger takes every event out of it.
        stack.kill("enrichment", signal: SIGTERM)
        let db = try Database(path: stack.dir + "/enrichment-0.db")
        _ = try db.run("UPDATE events SET seq = NULL")
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM events_fts WHERE events_fts MATCH 'failed'")?.int64, 0)
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM events WHERE seq IS NULL")?.int64, 30)
        db.close()

        try stack.start("vigil-enrichment", name: "enrichment")
        try stack.waitHealthy(["enrichment"])
        XCTAssertEqual(try count("failed"), 30, "during and after the backfill every event is found")
        try stack.eventually("backfill done") { try stack.metrics("enrichment").counters["fts.backfilled"] == 30 }
        XCTAssertEqual(try count("fail"), 0, "the index answers again")
        XCTAssertEqual(try count("fail*"), 30)
        XCTAssertEqual(try count("user17"), 1)
    }
}

import Foundation
import XCTest
import VigilEvents
import struct VigilQuery.QueryParser
import VigilLog
import VigilService
import VigilStore
import VigilWire
@testable import EnrichmentService

/// The events' FTS5 index on a real store file: upgrade + backfill, triggers on insert,
/// reparse and retention, and searches through the list RPC code.
final class FullTextStoreTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("fts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func insert(_ db: Database, _ id: String, time: Int64, raw: String, message: String?, seq: Int64?) throws {
        let fields = message.map { #"{"message":"\#($0)"}"# } ?? "{}"
        var columns = "id, time_ms, received_ms, source, format, status, parse_error, raw, fields, original, enriched, partition"
        var values: [SQLValue] = [.text(id), .integer(time), .integer(time), .text("t"), .text("f"), .integer(1), .text(""),
                                  .text(raw), .text(fields), .text("{}"), .text("{}"), .integer(0)]
        if let seq { columns += ", seq"; values.append(.integer(seq)) }
        _ = try db.run("INSERT INTO events(\(columns)) VALUES(\(values.map { _ in "?" }.joined(separator: ",")))", values)
        if let seq { try EventFullText.index(db, seqs: seq..<seq + 1) }
    }

    /// FTS rowids that match, whether or not an event still has them: a stale index entry shows here.
    func indexed(_ db: Database, _ match: String) throws -> Int64 {
        try db.scalar("SELECT count(*) FROM events_fts WHERE events_fts MATCH ?", [.text(match)])?.int64 ?? -1
    }

    func testUpgradeBackfillsInBatchesAndTriggersKeepTheIndexConsistent() throws {
        let db = try Database(path: dir.appendingPathComponent("enrichment.db").path)
        // A store from before the index: migrations 1–3, five events.
        _ = try db.migrate(component: "enrichment", Array(EnrichmentService.migrations.prefix(3)))
        for i in 0..<5 {
            try insert(db, "old-\(i)", time: Int64(1000 + i), raw: "sshd: Failed password for user\(i) from 10.0.0.\(i)", message: i == 0 ? "first login" : nil, seq: nil)
        }
        _ = try db.migrate(component: "enrichment", EnrichmentService.migrations)
        XCTAssertTrue(try EventFullText.pending(db))
        let queries = try ListQueries(catalog: EventCatalog.catalog, db: db)
        func count(_ q: String) throws -> UInt64 { try queries.count(QueryRequest(query: q)) }

        var next = try EventFullText.nextSeq(db)
        XCTAssertEqual(next, 1)
        var r = try EventFullText.backfill(db, from: next, limit: 2)
        XCTAssertEqual(r.indexed, 2)
        XCTAssertEqual(r.next, 3)
        XCTAssertEqual(try indexed(db, "failed"), 2, "only the batch is indexed")
        next = r.next
        r = try EventFullText.backfill(db, from: next, limit: 2); next = r.next
        r = try EventFullText.backfill(db, from: next, limit: 2); next = r.next
        XCTAssertEqual(r.indexed, 1)
        XCTAssertEqual(try EventFullText.backfill(db, from: next, limit: 2).indexed, 0)
        XCTAssertFalse(try EventFullText.pending(db))
        XCTAssertEqual(next, 6)
        XCTAssertEqual(try db.scalar("SELECT count(DISTINCT seq) FROM events")?.int64, 5)

        XCTAssertEqual(try count("failed"), 5)
        XCTAssertEqual(try count("fail"), 0, "a word is a token")
        XCTAssertEqual(try count("fail*"), 5)
        XCTAssertEqual(try count("\"first login\""), 1, "the message is indexed")
        XCTAssertEqual(try count("user3"), 1)
        XCTAssertEqual(try count("*ser3"), 1, "a leading wildcard keeps the substring scan")
        // A page for a common term walks the time index (FTS filtering only): the same page.
        let driven = try queries.search(QueryRequest(query: "failed")).rows.map { $0.string(0) }
        XCTAssertFalse(try queries.fullTextTermsAreCommon(QueryParser().parse("failed")), "5 matches are rare against 1000")
        queries.fullTextCommonThreshold = 3
        XCTAssertTrue(try queries.fullTextTermsAreCommon(QueryParser().parse("failed")))
        XCTAssertFalse(try queries.fullTextTermsAreCommon(QueryParser().parse("failed and user3")), "one rare term: start from it")
        XCTAssertEqual(try queries.search(QueryRequest(query: "failed")).rows.map { $0.string(0) }, driven)
        XCTAssertEqual(driven.count, 5)
        queries.fullTextCommonThreshold = nil
        queries.fullTextReady = false
        XCTAssertEqual(try count("fail"), 5, "while the index is being filled: substring scan")
        queries.fullTextReady = true

        // New events are indexed with their batch; a reparse (fields replaced) re-indexes.
        try insert(db, "new-1", time: 2000, raw: "kernel: disk quota exceeded", message: "quota", seq: next)
        XCTAssertEqual(try count("quota"), 1)
        XCTAssertEqual(try indexed(db, "message:quota"), 0, "a message the raw line contains is indexed once, with the raw line")
        XCTAssertEqual(try indexed(db, "message:first"), 1, "a message the raw line lacks is indexed on its own")
        _ = try db.run(#"UPDATE events SET fields = '{"message":"storage alarm"}' WHERE id = 'new-1'"#)
        XCTAssertEqual(try count("alarm"), 1)
        XCTAssertEqual(try indexed(db, "message:quota"), 0, "the old message left the index")
        XCTAssertEqual(try count("quota"), 1, "still in the raw line")

        // Retention deletes oldest first in batches; the delete trigger removes exactly those rows.
        var policy = RetentionPolicy()
        policy.maxAgeMs = 1000
        policy.batch = 3
        let retention = Retention(policy: policy, db: db, logger: Logger(label: "test", level: .error))
        XCTAssertEqual(try retention.tick(nowMs: 2500), 3)
        XCTAssertEqual(try indexed(db, "failed"), 2, "deleted events left the index")
        XCTAssertEqual(try count("failed"), 2)
        XCTAssertEqual(try retention.tick(nowMs: 2500), 2)
        XCTAssertEqual(try indexed(db, "failed OR first OR user0"), 0)
        XCTAssertEqual(try count("alarm"), 1)
        XCTAssertGreaterThan(try retention.eventsBytes(), 0)
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM sqlite_schema WHERE name = 'events_fts_data'")?.int64, 1)
        _ = try db.run("INSERT INTO events_fts(events_fts) VALUES('integrity-check')")
    }

    /// The batch index's expression (`indexedStored`, which skips the JSON parse when there is no
    /// message key) gives exactly what the triggers' `indexed` gives, or a delete would leave stale terms.
    func testStoredExpressionIndexesWhatTheTriggersDelete() throws {
        let db = try Database(path: dir.appendingPathComponent("enrichment.db").path)
        _ = try db.migrate(component: "enrichment", EnrichmentService.migrations)
        let cases: [(raw: SQLValue, fields: [String: String])] = [
            (.text("sshd: Failed password"), [:]),
            (.text("sshd: Failed password"), ["user.name": "root"]),
            (.text("kernel: disk quota exceeded"), ["message": "quota"]),
            (.text("kernel: disk quota exceeded"), ["message": "storage alarm", "host.name": "db1"]),
            (.text("no message key"), ["note": #"text with "message": inside"#]),
            (.text("empty message"), ["message": ""]),
            (.blob([0xff, 0xfe, 0x41]), ["message": "binary raw"]),
            (.text("unicode ünïcode"), ["message": "ünïcode", "zz": "é"]),
        ]
        for (i, c) in cases.enumerated() {
            _ = try db.run("INSERT INTO events(id, time_ms, received_ms, source, format, status, parse_error, raw, fields, original, enriched, partition, seq) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           [.text("e\(i)"), .integer(1), .integer(1), .text("t"), .text("f"), .integer(1), .text(""), c.raw,
                            .text(JSONText.object(c.fields)), .text("{}"), .text("{}"), .integer(0), .integer(Int64(i + 1))])
        }
        let a = try db.query("SELECT \(EventFullText.indexed("events")) FROM events ORDER BY seq")
        let b = try db.query("SELECT \(EventFullText.indexedStored("events")) FROM events ORDER BY seq")
        XCTAssertEqual(a.count, cases.count)
        for (x, y) in zip(a, b) { XCTAssertEqual(x.values, y.values) }
        XCTAssertEqual(b[3][1], .text("storage alarm"))
        XCTAssertEqual(b[0][1], .null)
        XCTAssertEqual(b[2][1], .null, "a message the raw line contains is not indexed twice")
        XCTAssertEqual(b[4][1], .null, "the key's text inside a value is not a message key")
        // Indexed with the batch expression, deleted with the trigger's: nothing stale is left.
        try EventFullText.index(db, seqs: 1..<Int64(cases.count + 1))
        XCTAssertEqual(try indexed(db, "message:alarm"), 1)
        _ = try db.run("DELETE FROM events")
        XCTAssertEqual(try indexed(db, "alarm OR quota OR password OR binary OR ünïcode"), 0)
        _ = try db.run("INSERT INTO events_fts(events_fts) VALUES('integrity-check')")
    }

    /// Migration 7: merges run in steps (crisismerge above automerge). With FTS5 pages of 64 bytes
    /// each segment spans many leaves, so automerge's incremental merges run across many indexing
    /// statements; through them every event stays findable exactly once.
    func testMergesInStepsKeepTheIndexExact() throws {
        let db = try Database(path: dir.appendingPathComponent("enrichment.db").path)
        _ = try db.migrate(component: "enrichment", EnrichmentService.migrations)
        func config() throws -> [String: Int64] {
            Dictionary(uniqueKeysWithValues: try db.query("SELECT k, v FROM events_fts_config").compactMap { r -> (String, Int64)? in
                guard case .text(let k) = r[0], case .integer(let v) = r[1] else { return nil }
                return (k, v)
            })
        }
        XCTAssertEqual(try config()["automerge"], 16)
        XCTAssertEqual(try config()["crisismerge"], 32)
        _ = try db.run("INSERT INTO events_fts(events_fts, rank) VALUES('pgsz', 64)")
        // 300 steps of 6 events: 300 segments of many small leaves, merged level by level.
        var seq: Int64 = 1
        for step in 0..<300 {
            for k in 0..<6 {
                try insert(db, "e\(seq)", time: seq, raw: "step\(step) host\(k) word\(Int(seq) % 7) common", message: nil, seq: nil)
                _ = try db.run("UPDATE events SET seq = ? WHERE id = ?", [.integer(seq), .text("e\(seq)")])
                seq += 1
            }
            try EventFullText.index(db, seqs: seq - 6..<seq)
            if step % 50 == 49 { _ = try db.run("INSERT INTO events_fts(events_fts) VALUES('integrity-check')") }
        }
        XCTAssertEqual(try indexed(db, "common"), 1800)
        XCTAssertEqual(try indexed(db, "word3"), Int64((1...1800).filter { $0 % 7 == 3 }.count))
        XCTAssertEqual(try indexed(db, "step299"), 6)
        XCTAssertEqual(try indexed(db, "host2 AND step17"), 1)
        // Live segments (the segment id is the top of an FTS5 data rowid, above bit 37): 300
        // statements wrote 300; merged, far fewer remain.
        let segments = try db.scalar("SELECT count(DISTINCT id >> 37) FROM events_fts_data WHERE id >= (1 << 37)")?.int64 ?? -1
        XCTAssertGreaterThan(segments, 0)
        XCTAssertLessThan(segments, 100, "segments were merged")
        _ = try db.run("INSERT INTO events_fts(events_fts) VALUES('integrity-check')")
    }
}

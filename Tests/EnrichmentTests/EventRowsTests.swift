import Foundation
import XCTest
import VigilStore
import VigilWire
@testable import EnrichmentService

/// EventRows.insert: a new id is stored; a known id is replaced only when the stored event was
/// unparsed and the new one is parsed (ingest.reparse), keeping its seq; anything else is ignored.
final class EventRowsTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("rows-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func event(_ id: String, parsed: Bool, message: String) -> Event {
        var e = Event()
        e.id = id
        e.eventTimeMs = 1000; e.receivedTimeMs = 1000
        e.source = "test"
        e.raw = Array("raw line \(id)".utf8)
        e.parseStatus = parsed ? .parsed : .unparsed
        if parsed { e.format = "linux-auth"; e.fields = ["message": message] } else { e.parseError = "no parser" }
        return e
    }

    func testInsertReparseAndRepeats() throws {
        let db = try Database(path: dir.appendingPathComponent("enrichment.db").path)
        _ = try db.migrate(component: "enrichment", EnrichmentService.migrations)
        func row(_ id: String) throws -> Row? {
            try db.query("SELECT parse_status, fields, seq, format FROM events WHERE id = ?", [.text(id)]).first
        }
        try db.transaction {
            XCTAssertEqual(try EventRows.insert(event("a", parsed: false, message: ""), seq: 1, into: db), 1)
            XCTAssertEqual(try EventRows.insert(event("b", parsed: true, message: "first words"), seq: 2, into: db), 1)
            try EventFullText.index(db, seqs: 1..<3)
        }
        try db.transaction {
            // A repeat of a parsed event, and an unparsed repeat of an unparsed one: ignored.
            XCTAssertEqual(try EventRows.insert(event("b", parsed: true, message: "other words"), seq: 3, into: db), 0)
            XCTAssertEqual(try EventRows.insert(event("a", parsed: false, message: ""), seq: 4, into: db), 0)
            // The reparse: replaced, keeps seq 1, re-indexed by the update trigger.
            XCTAssertEqual(try EventRows.insert(event("a", parsed: true, message: "storage alarm"), seq: 5, into: db), 1)
            // Parsed again: the stored event is parsed now, so ignored.
            XCTAssertEqual(try EventRows.insert(event("a", parsed: true, message: "third"), seq: 6, into: db), 0)
        }
        XCTAssertEqual(try row("a")?.values, [.text("parsed"), .text(#"{"message":"storage alarm"}"#), .integer(1), .text("linux-auth")])
        XCTAssertEqual(try row("b")?[1], .text(#"{"message":"first words"}"#))
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM events")?.int64, 2)
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM events_fts WHERE events_fts MATCH 'alarm'")?.int64, 1)
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM events_fts WHERE events_fts MATCH 'other OR third'")?.int64, 0)
        // A new id with a seq already used is an error, as with the upsert before (never silently dropped).
        XCTAssertThrowsError(try db.transaction { _ = try EventRows.insert(event("c", parsed: true, message: "x"), seq: 2, into: db) })
        XCTAssertNil(try row("c"))
        _ = try db.run("INSERT INTO events_fts(events_fts) VALUES('integrity-check')")
    }
}

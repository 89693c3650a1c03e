import VigilEvents
import VigilStore
import VigilWire

/// Rows of enrichment's `events` table as Events.
public enum EventRows {
    static let columns = "id, time_ms, received_ms, source, format, status, parse_error, raw, fields, original, enriched, partition"

    /// One row (selected with `columns` first) back into an Event.
    static func event(from r: Row) -> Event {
        var e = Event()
        e.id = r.string(0)
        e.eventTimeMs = r.int(1)
        e.receivedTimeMs = r.int(2)
        e.source = r.string(3)
        e.format = r.string(4)
        e.parseStatus = ParseStatus(rawValue: Int32(r.int(5))) ?? .unspecified
        e.parseError = r.string(6)
        e.raw = r.blob(7)
        e.fields = JSONText.parseObject(r.string(8))
        e.original = JSONText.parseObject(r.string(9))
        e.enriched = JSONText.parseObject(r.string(10))
        e.partition = UInt32(truncatingIfNeeded: r.int(11))
        return e
    }

    /// Stores one enriched event with its full-text `seq`. A known id replaces the stored event
    /// only when it was unparsed and is now parsed (ingest.reparse). Returns the rows changed
    /// (0: a repeat that was ignored).
    ///
    /// A plain insert first, the replacement only when the id is already stored: the same effect
    /// as one `INSERT … ON CONFLICT(id) DO UPDATE … WHERE`, but that upsert made every insert
    /// dearer (enrichment-bench --store: 56.3 → 42.3 µs of CPU per event without it), and a
    /// repeat is rare (a reparse; reliable streams do not repeat events).
    public static func insert(_ e: Event, seq: Int64, into db: Database) throws -> Int {
        let fields = SQLValue.text(JSONText.object(e.fields)), original = SQLValue.text(JSONText.object(e.original))
        let enriched = SQLValue.text(JSONText.object(e.enriched))
        let parseStatus = e.parseStatus == .parsed ? "parsed" : e.parseStatus == .unparsed ? "unparsed" : ""
        let inserted = try db.run("""
            INSERT OR IGNORE INTO events(id, time_ms, received_ms, source, format, status, parse_error, raw, fields, original, enriched, partition, parse_status, seq)
            VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)
            """, [.text(e.id), .integer(e.eventTimeMs), .integer(e.receivedTimeMs), .text(e.source), .text(e.format),
                  .integer(Int64(e.parseStatus.rawValue)), .text(e.parseError), rawValue(e.raw),
                  fields, original, enriched, .integer(Int64(e.partition)), .text(parseStatus), .integer(seq)])
        if inserted > 0 { return inserted }
        // Ignored: the id is stored — or, which must never happen, another constraint failed
        // (OR IGNORE also skips those: the seq taken, a NOT NULL column). The upsert failed the
        // batch then; so does this.
        guard try db.scalar("SELECT 1 FROM events WHERE id = ?", [.text(e.id)]) != nil else {
            throw StoreError(code: .constraint, message: "event \(e.id) not stored: a constraint of the events table failed (full-text seq \(seq) already used, or a required column empty)")
        }
        guard parseStatus == "parsed" else { return 0 }
        // The event keeps its seq; the update trigger re-indexes it.
        return try db.run("""
            UPDATE events SET time_ms = ?, format = ?, status = ?, parse_error = ?, fields = ?, original = ?, enriched = ?, parse_status = ?
            WHERE id = ? AND parse_status = 'unparsed'
            """, [.integer(e.eventTimeMs), .text(e.format), .integer(Int64(e.parseStatus.rawValue)), .text(e.parseError),
                  fields, original, enriched, .text(parseStatus), .text(e.id)])
    }

    /// Raw bytes are stored as TEXT when they are valid UTF-8 (searchable with QQL, LIKE)
    /// and as a BLOB otherwise; either way they read back byte for byte.
    static func rawValue(_ raw: [UInt8]) -> SQLValue {
        String(validating: raw, as: UTF8.self).map { .text($0) } ?? .blob(raw)
    }
}

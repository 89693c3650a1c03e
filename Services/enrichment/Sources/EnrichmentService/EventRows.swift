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
    public static func insert(_ e: Event, seq: Int64, into db: Database) throws -> Int {
        try db.run("""
            INSERT INTO events(id, time_ms, received_ms, source, format, status, parse_error, raw, fields, original, enriched, partition, parse_status, seq)
            VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)
            ON CONFLICT(id) DO UPDATE SET time_ms = excluded.time_ms, format = excluded.format, status = excluded.status,
                parse_error = excluded.parse_error, fields = excluded.fields, original = excluded.original,
                enriched = excluded.enriched, parse_status = excluded.parse_status
                WHERE events.parse_status = 'unparsed' AND excluded.parse_status = 'parsed'
            """, [.text(e.id), .integer(e.eventTimeMs), .integer(e.receivedTimeMs), .text(e.source), .text(e.format),
                  .integer(Int64(e.parseStatus.rawValue)), .text(e.parseError), rawValue(e.raw),
                  .text(JSONText.object(e.fields)), .text(JSONText.object(e.original)), .text(JSONText.object(e.enriched)),
                  .integer(Int64(e.partition)), .text(e.parseStatus == .parsed ? "parsed" : e.parseStatus == .unparsed ? "unparsed" : ""),
                  .integer(seq)])
    }

    /// Raw bytes are stored as TEXT when they are valid UTF-8 (searchable with QQL, LIKE)
    /// and as a BLOB otherwise; either way they read back byte for byte.
    static func rawValue(_ raw: [UInt8]) -> SQLValue {
        String(validating: raw, as: UTF8.self).map { .text($0) } ?? .blob(raw)
    }
}

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
        let row = StoreRow()
        row.add(.fields, e.fields)
        row.add(.original, e.original)
        row.finish(enriched: e.enriched)
        return try insert(e, row: row, seq: seq, into: db)
    }

    static let insertSQL = """
        INSERT OR IGNORE INTO events(id, time_ms, received_ms, source, format, status, parse_error, raw, fields, original, enriched, partition, parse_status, seq)
        VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)
        """

    /// `insert` with the JSON columns already written in `row` (`StoreRow.finish`), bound in place.
    ///
    /// A plain insert first, the replacement only when the id is already stored: the same effect
    /// as one `INSERT … ON CONFLICT(id) DO UPDATE … WHERE`, but that upsert made every insert
    /// dearer (enrichment-bench --store: 56.3 → 42.3 µs of CPU per event without it), and a
    /// repeat is rare (a reparse; reliable streams do not repeat events).
    static func insert(_ e: Event, row: StoreRow, seq: Int64, into db: Database) throws -> Int {
        let parseStatus = e.parseStatus == .parsed ? "parsed" : e.parseStatus == .unparsed ? "unparsed" : ""
        let s = try row.insertStatement(db)
        let inserted: Int = try e.raw.withUnsafeBytes { raw in
            try s.bind(1, text: e.id)
            try s.bind(2, int64: e.eventTimeMs)
            try s.bind(3, int64: e.receivedTimeMs)
            try s.bind(4, text: e.source)
            try s.bind(5, text: e.format)
            try s.bind(6, int64: Int64(e.parseStatus.rawValue))
            try s.bind(7, text: e.parseError)
            if isText(raw) { try s.bind(8, borrowedText: raw) } else { try s.bind(8, borrowedBlob: raw) }
            try s.bind(9, borrowedText: row.text.bytes(row.fields))
            try s.bind(10, borrowedText: row.text.bytes(row.original))
            try s.bind(11, borrowedText: row.text.bytes(row.enriched))
            try s.bind(12, int64: Int64(e.partition))
            try s.bind(13, text: parseStatus)
            try s.bind(14, int64: seq)
            return try s.execute()
        }
        if inserted > 0 { return inserted }
        // Ignored: the id is stored — or, which must never happen, another constraint failed
        // (OR IGNORE also skips those: the seq taken, a NOT NULL column). The upsert failed the
        // batch then; so does this.
        guard try db.scalar("SELECT 1 FROM events WHERE id = ?", [.text(e.id)]) != nil else {
            throw StoreError(code: .constraint, message: "event \(e.id) not stored: a constraint of the events table failed (full-text seq \(seq) already used, or a required column empty)")
        }
        guard parseStatus == "parsed" else { return 0 }
        func text(_ r: Range<Int>) -> SQLValue { .text(String(decoding: row.text.bytes(r), as: UTF8.self)) }
        // The event keeps its seq; the update trigger re-indexes it.
        return try db.run("""
            UPDATE events SET time_ms = ?, format = ?, status = ?, parse_error = ?, fields = ?, original = ?, enriched = ?, parse_status = ?
            WHERE id = ? AND parse_status = 'unparsed'
            """, [.integer(e.eventTimeMs), .text(e.format), .integer(Int64(e.parseStatus.rawValue)), .text(e.parseError),
                  text(row.fields), text(row.original), text(row.enriched), .text(parseStatus), .text(e.id)])
    }

    /// Raw bytes are stored as TEXT when they are valid UTF-8 (searchable with QQL, LIKE)
    /// and as a BLOB otherwise; either way they read back byte for byte.
    static func isText(_ raw: UnsafeRawBufferPointer) -> Bool {
        StoreRow.isASCII(raw) || String(validating: raw.assumingMemoryBound(to: UInt8.self), as: UTF8.self) != nil
    }
}

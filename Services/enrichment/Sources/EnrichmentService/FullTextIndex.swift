import VigilLog
import VigilStore
#if canImport(Glibc)
import Glibc
#endif

/// The events' FTS5 index (docs/enrichment.md, "Full-text index").
///
/// `events` is a WITHOUT ROWID table keyed by a TEXT id, and FTS5 wants integer rowids, so each
/// event gets an integer `seq` (unique index) that is its rowid in `events_fts`. The FTS table is
/// contentless (`content=''`: the text lives only in `events`), so nothing is stored twice.
///
/// Rows enter the index in bulk, one `INSERT … SELECT` per stored batch (`index(_:seqs:)`): FTS5
/// flushes its pending terms at every statement savepoint, so a per-row insert trigger (one
/// statement per event) made storing about four times slower than indexing the batch at once.
/// Rows leave (or are re-indexed) through triggers: SQLite 3.40 (Debian 12) has no
/// contentless-delete, so FTS5's 'delete' command must be given the values that were indexed,
/// which the triggers take from the old row — retention's batched deletes and reparse updates stay
/// consistent without code of their own.
public enum EventFullText {
    /// What is indexed for a row: the raw line, and the message field unless the raw line already
    /// contains it (usual for syslog; indexing it twice cost about a third of the indexing time).
    /// Deterministic, so the triggers' 'delete' reproduces exactly what was indexed.
    static func indexed(_ row: String) -> String {
        let message = "json_extract(\(row).fields, '$.message')"
        return "\(row).raw, CASE WHEN instr(\(row).raw, \(message)) > 0 THEN NULL ELSE \(message) END"
    }

    static let migration = Migration(4, "full-text index over the raw line and message (FTS5)", """
        ALTER TABLE events ADD COLUMN seq INTEGER;
        CREATE UNIQUE INDEX events_seq ON events(seq);
        CREATE VIRTUAL TABLE events_fts USING fts5(raw, message, content='', columnsize=0, tokenize='unicode61');
        CREATE TRIGGER events_fts_delete AFTER DELETE ON events WHEN old.seq IS NOT NULL BEGIN
            INSERT INTO events_fts(events_fts, rowid, raw, message) VALUES('delete', old.seq, \(indexed("old")));
        END;
        CREATE TRIGGER events_fts_update AFTER UPDATE OF seq, raw, fields ON events WHEN old.seq IS NOT NULL BEGIN
            INSERT INTO events_fts(events_fts, rowid, raw, message) VALUES('delete', old.seq, \(indexed("old")));
            INSERT INTO events_fts(rowid, raw, message) SELECT new.seq, \(indexed("new")) WHERE new.seq IS NOT NULL;
        END;
        """)

    /// FTS5 merges 16 segments of a level at a time instead of 4 (`automerge`, kept in the
    /// table's config): each term is rewritten fewer times. Measured (300k bench events in steps
    /// of 2000, Python sqlite3 on the same SQLite): indexing 6.7–7.0 → 4.8–4.9 µs per event, a
    /// rare-word MATCH 0.026 → 0.041–0.047 ms (more segments to look in), a common word's count
    /// unchanged (3.5–3.9 ms).
    ///
    /// Deferred indexing (migration 6): `events_fts_state.indexed_below` is where the index
    /// stands — every stored event whose `seq` is below it is indexed; those at or above it were
    /// stored by transactions that left their indexing to a later one (`EnrichmentService`
    /// indexes every `fts.batch` events, on a timer, before every event query, before a reparse,
    /// and at start after a crash). The triggers touch the index only for indexed rows: an
    /// unindexed row that is deleted or replaced is simply indexed as it is then, or not at all.
    static let deferredMigration = Migration(6, "deferred full-text indexing (indexed_below)", """
        CREATE TABLE events_fts_state(id INTEGER PRIMARY KEY CHECK (id = 0), indexed_below INTEGER NOT NULL);
        INSERT INTO events_fts_state VALUES(0, (SELECT coalesce(max(seq), 0) + 1 FROM events));
        INSERT INTO events_fts(events_fts, rank) VALUES('automerge', 16);
        DROP TRIGGER events_fts_delete;
        DROP TRIGGER events_fts_update;
        CREATE TRIGGER events_fts_delete AFTER DELETE ON events
        WHEN old.seq IS NOT NULL AND old.seq < (SELECT indexed_below FROM events_fts_state) BEGIN
            INSERT INTO events_fts(events_fts, rowid, raw, message) VALUES('delete', old.seq, \(indexed("old")));
        END;
        CREATE TRIGGER events_fts_update AFTER UPDATE OF seq, raw, fields ON events WHEN old.seq IS NOT NULL BEGIN
            INSERT INTO events_fts(events_fts, rowid, raw, message) SELECT 'delete', old.seq, \(indexed("old"))
                WHERE old.seq < (SELECT indexed_below FROM events_fts_state);
            INSERT INTO events_fts(rowid, raw, message) SELECT new.seq, \(indexed("new"))
                WHERE new.seq IS NOT NULL AND new.seq < (SELECT indexed_below FROM events_fts_state);
        END;
        """)

    /// FTS5 merges a level's segments all at once, inside the statement that adds one, when the
    /// level holds `crisismerge` of them (default 16). With `automerge` 16 that was every merge:
    /// each 16th indexing step merged 32,000 events' segments in one go and held enrichment's
    /// loop 40–60 ms at 10k events/s (traced: the slowest probes waited for exactly those steps).
    /// Above `automerge`, the merge runs incrementally, a bounded amount of work per step.
    /// Measured (200k bench events in steps of 2000, Python sqlite3 on the same SQLite): longest
    /// step 72–80 → 31 ms, indexing 3.85–4.00 → 3.75 µs per event; traced at 10k/s, the loop's
    /// longest hold 59 → 38 ms.
    static let incrementalMergeMigration = Migration(7, "full-text merges in steps (crisismerge 32)", """
        INSERT INTO events_fts(events_fts, rank) VALUES('crisismerge', 32);
        """)

    /// `indexed(row)` for rows whose `fields` JSONText.object wrote (every stored event): the same
    /// values, but an event without a message key (`"message":` cannot be absent from the text when
    /// the key is there) skips parsing its fields JSON. The triggers keep `indexed`, which gives
    /// the same values, so what they delete is what was indexed.
    static func indexedStored(_ row: String) -> String { "\(row).raw, \(storedMessage(row))" }

    /// The message column of `indexedStored`.
    static func storedMessage(_ row: String) -> String {
        let message = "json_extract(\(row).fields, '$.message')"
        return "CASE WHEN instr(\(row).fields, '\"message\":') = 0 THEN NULL WHEN instr(\(row).raw, \(message)) > 0 THEN NULL ELSE \(message) END"
    }

    /// The message column of `indexedStored` for a row with TEXT raw, given from memory instead of
    /// parsed out of the fields JSON (that parse was a fifth of indexing): the service computes it
    /// per event (`message(fields:raw:)`) and keeps the few that are not NULL in this table
    /// (per connection, in memory) until their batch is indexed.
    static let messagesTable = "temp.events_fts_message"

    /// Creates the connection's table of messages waiting for `index(_:seqs:messagesFromMemory:)`.
    public static func prepareMessages(_ db: Database) throws {
        try db.execute("CREATE TEMP TABLE IF NOT EXISTS events_fts_message(seq INTEGER PRIMARY KEY, message TEXT NOT NULL)")
    }

    /// What `indexedStored` gives as the message of an event with valid UTF-8 raw bytes: the
    /// `message` field unless the raw line contains it (a byte search: for valid UTF-8 the same as
    /// SQLite's `instr`, which also finds an empty message), else nil (NULL).
    static func message(fields: [String: String], raw: UnsafeRawBufferPointer) -> String? {
        guard var m = fields["message"] else { return nil }
        let contained: Bool = m.withUTF8 { needle in
            guard needle.count > 0 else { return true }
            guard raw.count >= needle.count, let h = raw.baseAddress, let n = needle.baseAddress else { return false }
            // memchr for the first byte, memcmp for the rest (memmem is not in Glibc's module).
            let first = Int32(n[0]), last = raw.count - needle.count
            var at = 0
            while at <= last {
                guard let p = memchr(h + at, first, last - at + 1) else { return false }
                at = UnsafeRawPointer(p) - h
                if memcmp(p, n, needle.count) == 0 { return true }
                at += 1
            }
            return false
        }
        return contained ? nil : m
    }

    /// Keeps the message of the event stored with `seq` for the next `index(…, messagesFromMemory: true)`.
    static func addMessage(_ db: Database, seq: Int64, _ message: String) throws {
        let s = try db.statement("INSERT OR REPLACE INTO \(messagesTable)(seq, message) VALUES(?, ?)")
        try s.bind(1, int64: seq)
        try s.bind(2, text: message)
        try s.execute()
    }

    /// Where the index stands: every stored event with a smaller `seq` is indexed.
    public static func indexedBelow(_ db: Database) throws -> Int64 {
        (try db.scalar("SELECT indexed_below FROM events_fts_state")?.int64) ?? 1
    }

    /// Indexes the stored events whose `seq` is in `seqs` (one statement) and moves `indexed_below`
    /// past them. Every event below `seqs` must be indexed already (the index stands at
    /// `seqs.lowerBound` or beyond). `messagesFromMemory`: the messages of rows with TEXT raw are
    /// those kept with `addMessage` (absent: NULL), which holds for rows the service stored since
    /// it started; otherwise (rows stored before a restart, tests, benches) they are computed in SQL.
    public static func index(_ db: Database, seqs: Range<Int64>, messagesFromMemory: Bool = false) throws {
        guard !seqs.isEmpty else { return }
        if messagesFromMemory {
            _ = try db.run("""
                INSERT INTO events_fts(rowid, raw, message) SELECT seq, raw, CASE WHEN typeof(raw) = 'text'
                    THEN (SELECT m.message FROM \(messagesTable) m WHERE m.seq = events.seq) ELSE \(storedMessage("events")) END
                FROM events WHERE seq >= ? AND seq < ?
                """, [.integer(seqs.lowerBound), .integer(seqs.upperBound)])
            _ = try db.run("DELETE FROM \(messagesTable) WHERE seq < ?", [.integer(seqs.upperBound)])
        } else {
            _ = try db.run("INSERT INTO events_fts(rowid, raw, message) SELECT seq, \(indexedStored("events")) FROM events WHERE seq >= ? AND seq < ?",
                           [.integer(seqs.lowerBound), .integer(seqs.upperBound)])
        }
        _ = try db.run("UPDATE events_fts_state SET indexed_below = max(indexed_below, ?)", [.integer(seqs.upperBound)])
    }

    /// The next free `seq` (the unique index answers max()).
    public static func nextSeq(_ db: Database) throws -> Int64 {
        (try db.scalar("SELECT coalesce(max(seq), 0) + 1 FROM events")?.int64) ?? 1
    }

    /// Whether events stored before the index existed still wait for their `seq`.
    public static func pending(_ db: Database) throws -> Bool {
        try db.scalar("SELECT 1 FROM events WHERE seq IS NULL LIMIT 1") != nil
    }

    /// Gives up to `limit` unindexed events their `seq` and indexes them, in one transaction.
    /// Returns how many were indexed and the next free `seq`.
    public static func backfill(_ db: Database, from next: Int64, limit: Int) throws -> (indexed: Int, next: Int64) {
        try db.transaction {
            let n = try db.run("""
                UPDATE events SET seq = m.n FROM (
                    SELECT id, ? + row_number() OVER () AS n FROM (SELECT id FROM events WHERE seq IS NULL LIMIT ?)
                ) AS m WHERE events.id = m.id
                """, [.integer(next - 1), .integer(Int64(limit))])
            let after = try nextSeq(db)
            try index(db, seqs: next..<after)
            return (n, after)
        }
    }
}

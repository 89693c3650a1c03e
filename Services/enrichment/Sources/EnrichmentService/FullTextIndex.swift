import VigilLog
import VigilStore

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

    /// `indexed(row)` for rows whose `fields` JSONText.object wrote (every stored event): the same
    /// values, but an event without a message key (`"message":` cannot be absent from the text when
    /// the key is there) skips parsing its fields JSON. The triggers keep `indexed`, which gives
    /// the same values, so what they delete is what was indexed.
    static func indexedStored(_ row: String) -> String {
        let message = "json_extract(\(row).fields, '$.message')"
        return "\(row).raw, CASE WHEN instr(\(row).fields, '\"message\":') = 0 THEN NULL WHEN instr(\(row).raw, \(message)) > 0 THEN NULL ELSE \(message) END"
    }

    /// Indexes the stored events whose `seq` is in `seqs` (one statement). Every row given a seq
    /// must be indexed in the transaction that stored it, before anything updates or deletes it.
    public static func index(_ db: Database, seqs: Range<Int64>) throws {
        guard !seqs.isEmpty else { return }
        _ = try db.run("INSERT INTO events_fts(rowid, raw, message) SELECT seq, \(indexedStored("events")) FROM events WHERE seq >= ? AND seq < ?",
                       [.integer(seqs.lowerBound), .integer(seqs.upperBound)])
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

import VigilStore
import VigilWire

/// Per-source counters (events, raw bytes, unparsed, first/last seen). Counted in memory as
/// events are committed and added to `source_counters` every few seconds, so counting costs
/// no write per event; `status` adds what is not flushed yet, so the RPC answer is current.
/// A SIGKILL loses at most the unflushed increments of the counters (never events).
struct SourceCounters {
    struct Pending {
        var events: Int64 = 0, bytes: Int64 = 0, unparsed: Int64 = 0
        var firstSeenMs: Int64 = .max, lastSeenMs: Int64 = 0

        mutating func add(bytes: Int, unparsed: Bool, timeMs: Int64) {
            events += 1
            self.bytes += Int64(bytes)
            if unparsed { self.unparsed += 1 }
            firstSeenMs = min(firstSeenMs, timeMs)
            lastSeenMs = max(lastSeenMs, timeMs)
        }
    }

    /// Migration 2 adds bytes and first_seen_ms to the table created by migration 1
    /// (`accepted` there is the event count).
    static let migration = Migration(2, "source bytes and first seen", """
    ALTER TABLE source_counters ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE source_counters ADD COLUMN first_seen_ms INTEGER NOT NULL DEFAULT 0;
    """)

    private(set) var pending: [String: Pending] = [:]

    mutating func count(_ e: Event) {
        count(source: e.source, bytes: e.raw.count, unparsed: e.parseStatus == .unparsed, timeMs: e.receivedTimeMs)
    }

    mutating func count(source: String, bytes: Int, unparsed: Bool, timeMs: Int64) {
        pending[source, default: Pending()].add(bytes: bytes, unparsed: unparsed, timeMs: timeMs)
    }

    /// Adds the pending increments to the table in one transaction; kept in memory on failure.
    mutating func flush(_ db: Database) throws {
        guard !pending.isEmpty else { return }
        try db.transaction {
            for (src, c) in pending {
                try db.run("""
                    INSERT INTO source_counters(source, accepted, unparsed, last_seen_ms, bytes, first_seen_ms) VALUES(?,?,?,?,?,?)
                    ON CONFLICT(source) DO UPDATE SET accepted = accepted + excluded.accepted,
                        unparsed = unparsed + excluded.unparsed, bytes = bytes + excluded.bytes,
                        last_seen_ms = max(last_seen_ms, excluded.last_seen_ms),
                        first_seen_ms = CASE WHEN first_seen_ms = 0 THEN excluded.first_seen_ms ELSE first_seen_ms END
                    """, [.text(src), .integer(c.events), .integer(c.unparsed), .integer(c.lastSeenMs),
                          .integer(c.bytes), .integer(c.firstSeenMs)])
            }
        }
        pending.removeAll()
    }

    /// Stored counters plus the unflushed increments, sorted by source name.
    func status(_ db: Database) throws -> [SourceStatus] {
        var out: [String: SourceStatus] = [:]
        for r in try db.query("SELECT source, accepted, bytes, unparsed, last_seen_ms, first_seen_ms FROM source_counters") {
            out[r.string(0)] = SourceStatus(source: r.string(0), events: UInt64(max(0, r.int(1))), bytes: UInt64(max(0, r.int(2))),
                                            unparsed: UInt64(max(0, r.int(3))), lastSeenMs: r.int(4), firstSeenMs: r.int(5))
        }
        for (src, c) in pending {
            var s = out[src] ?? SourceStatus(source: src, firstSeenMs: c.firstSeenMs)
            s.events += UInt64(c.events)
            s.bytes += UInt64(c.bytes)
            s.unparsed += UInt64(c.unparsed)
            s.lastSeenMs = max(s.lastSeenMs, c.lastSeenMs)
            if s.firstSeenMs == 0 { s.firstSeenMs = c.firstSeenMs }
            out[src] = s
        }
        return out.keys.sorted().map { out[$0]! }
    }
}

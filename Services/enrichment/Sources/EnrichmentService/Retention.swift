import Foundation
import VigilIntel
import VigilLog
import VigilService
import VigilStore

/// Event-store retention, by age and by size (docs/enrichment.md, "Retention"). Runs on the
/// service loop every `retention.interval`, deleting at most `retention.batch` events per
/// transaction and per tick, oldest first (event time, which the store is indexed by), so a
/// large backlog is worked off without stalling the stream it consumes.
struct RetentionPolicy: Equatable, Sendable {
    /// Events older than this (ms) are deleted; 0 keeps them forever.
    var maxAgeMs: Int64 = 30 * 86_400_000
    /// The events (table and its indexes) are kept below this many bytes; 0 means no limit.
    var maxBytes: Int64 = 0
    var intervalMs: Int64 = 60_000
    var batch: Int = 10_000

    static let keys: [(String, String)] = [
        ("retention.age", "delete events older than this (event time): 30d, 12h, … or 0 to keep them forever (default 30d)"),
        ("retention.max-bytes", "keep the stored events (table and indexes) below this size (suffixes k, m, g); oldest events go first; 0 = no limit (default 0)"),
        ("retention.interval", "how often retention runs (default 60s)"),
        ("retention.batch", "events deleted per transaction (default 10000)"),
    ]
    static let defaults: [String: String] = ["retention.age": "30d", "retention.max-bytes": "0", "retention.interval": "60s", "retention.batch": "10000"]

    init() {}

    init(_ cfg: RuntimeConfig) throws {
        func duration(_ key: String, _ d: String) throws -> Int64 {
            let v = cfg.string(key, default: d)
            guard let s = FeedsFile.parseDuration(v) else {
                throw ConfigError(code: .badValue, key: key, message: "expected a duration like 90s, 15m, 12h, 30d (or 0), got '\(v)'")
            }
            return s * 1000
        }
        maxAgeMs = try duration("retention.age", "30d")
        intervalMs = max(1000, try duration("retention.interval", "60s"))
        let b = cfg.string("retention.max-bytes", default: "0")
        guard let bytes = Self.bytes(b) else {
            throw ConfigError(code: .badValue, key: "retention.max-bytes", message: "expected bytes like 500m, 20g or 0, got '\(b)'")
        }
        maxBytes = bytes
        batch = try cfg.int("retention.batch", default: 10_000)
        guard batch > 0 else { throw ConfigError(code: .badValue, key: "retention.batch", message: "must be at least 1") }
    }

    static func bytes(_ s: String) -> Int64? {
        let t = s.trimmingCharacters(in: .whitespaces).lowercased()
        let mult: Int64
        var digits = Substring(t)
        switch t.last {
        case "k": mult = 1 << 10; digits = digits.dropLast()
        case "m": mult = 1 << 20; digits = digits.dropLast()
        case "g": mult = 1 << 30; digits = digits.dropLast()
        default: mult = 1
        }
        guard let n = Int64(digits), n >= 0 else { return nil }
        return n * mult
    }
}

/// Applies a RetentionPolicy to the `events` table of one store.
final class Retention {
    let policy: RetentionPolicy
    let db: Database
    let logger: Logger
    private(set) var deletedByAge: UInt64 = 0
    private(set) var deletedBySize: UInt64 = 0
    private(set) var storeBytes: Int64 = 0
    /// Measured when the store is over the limit (else the last measurement).
    private(set) var eventBytes: Int64 = 0

    init(policy: RetentionPolicy, db: Database, logger: Logger) {
        self.policy = policy
        self.db = db
        self.logger = logger.with("component", "retention")
    }

    /// Bytes of the pages in use in the whole store (the file does not shrink; freed pages are reused).
    func usedBytes() throws -> Int64 {
        let pageSize = try db.scalar("PRAGMA page_size")?.int64 ?? 4096
        let pages = try db.scalar("PRAGMA page_count")?.int64 ?? 0
        let free = try db.scalar("PRAGMA freelist_count")?.int64 ?? 0
        return (pages - free) * pageSize
    }

    /// Bytes of the events table, its indexes and its full-text index (SQLite's dbstat, aggregated per b-tree).
    /// It walks their pages, so it is asked only when the whole store is over the limit.
    func eventsBytes() throws -> Int64 {
        try db.scalar("""
            SELECT coalesce(sum(pgsize), 0) FROM dbstat('main', 1)
            WHERE name IN (SELECT name FROM sqlite_schema WHERE tbl_name = 'events' OR substr(tbl_name, 1, 11) = 'events_fts_')
            """)?.int64 ?? 0
    }

    /// One round: at most one batch by age, then batches by size while the events are over
    /// the limit (at most 10 per tick). Returns the number of events deleted.
    @discardableResult
    func tick(nowMs: Int64) throws -> Int {
        var deleted = 0
        if policy.maxAgeMs > 0 {
            let n = try db.transaction {
                try db.run("""
                    DELETE FROM events WHERE id IN (SELECT id FROM events WHERE time_ms < ? ORDER BY time_ms LIMIT ?)
                    """, [.integer(nowMs - policy.maxAgeMs), .integer(Int64(policy.batch))])
            }
            deletedByAge += UInt64(n)
            deleted += n
        }
        storeBytes = try usedBytes()
        // The events can only be over the limit when the whole store is.
        if policy.maxBytes > 0 && storeBytes > policy.maxBytes {
            eventBytes = try eventsBytes()
            var rounds = 0
            while eventBytes > policy.maxBytes && rounds < 10 {
                // Oldest first, in proportion to how far over the limit the events are.
                let total = try db.scalar("SELECT count(*) FROM events")?.int64 ?? 0
                guard total > 0 else { break }
                let over = Double(eventBytes - policy.maxBytes) / Double(eventBytes)
                let n = Int(min(Double(policy.batch), max(100, (over * Double(total)).rounded(.up))))
                let removed = try db.transaction {
                    try db.run("DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY time_ms LIMIT ?)", [.integer(Int64(n))])
                }
                deletedBySize += UInt64(removed)
                deleted += removed
                eventBytes = try eventsBytes()
                rounds += 1
                if removed == 0 { break }
            }
            storeBytes = try usedBytes()
        }
        if deleted > 0 {
            logger.info("events deleted by retention", ["deleted": String(deleted), "store_bytes": String(storeBytes)])
        }
        return deleted
    }
}

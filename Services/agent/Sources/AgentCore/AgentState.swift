import Foundation
import VigilStore
import VigilWire

/// The agent's SQLite file (`<data>/agent.db`): its identity, where each source stands, the
/// spool of batches not yet acknowledged by ingest, and counters that survive restarts. A
/// batch and the source positions it advances are committed in one transaction, so after a
/// crash a line is either in the spool or read again — never both, never neither.
public final class AgentState {
    static let migrations: [Migration] = [
        Migration(1, "agent state", """
        CREATE TABLE state(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE positions(path TEXT PRIMARY KEY, device INTEGER NOT NULL, inode INTEGER NOT NULL, offset INTEGER NOT NULL,
            head INTEGER NOT NULL, updated_ms INTEGER NOT NULL);
        CREATE TABLE spool(n INTEGER PRIMARY KEY AUTOINCREMENT, batch_id TEXT NOT NULL UNIQUE, events INTEGER NOT NULL,
            bytes INTEGER NOT NULL, created_ms INTEGER NOT NULL, payload BLOB NOT NULL);
        CREATE TABLE counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
        """),
    ]

    public let db: Database
    /// Spool totals, kept in memory (the table is only read at start).
    public private(set) var spoolBatches = 0
    public private(set) var spoolEvents = 0
    public private(set) var spoolBytes: Int64 = 0
    public private(set) var counters: [String: Int64] = [:]

    public init(path: String) throws {
        // Frugal on the host: a small page cache and no memory map (the service defaults, 64 MiB
        // and 256 MiB, suit the center, not an endpoint).
        var options = StoreOptions()
        options.cacheSizeKiB = 2048
        options.mmapSizeBytes = 0
        db = try Database(path: path, options: options)
        _ = try db.migrate(component: "agent", Self.migrations)
        try recount()
    }

    /// Reads the spool totals and counters from the table (at start, and after a rolled-back
    /// transaction left the in-memory figures ahead of the file).
    public func recount() throws {
        if let r = try db.query("SELECT count(*), coalesce(sum(events), 0), coalesce(sum(bytes), 0) FROM spool").first {
            spoolBatches = Int(r.int(0)); spoolEvents = Int(r.int(1)); spoolBytes = r.int(2)
        }
        counters = [:]
        for r in try db.query("SELECT name, value FROM counters") { counters[r.string(0)] = r.int(1) }
    }

    public func close() { db.close() }

    public func get(_ key: String) throws -> String? {
        try db.query("SELECT value FROM state WHERE key = ?", [.text(key)]).first?.string(0)
    }

    public func set(_ key: String, _ value: String) throws {
        try db.run("INSERT OR REPLACE INTO state(key, value) VALUES(?, ?)", [.text(key), .text(value)])
    }

    public func positions() throws -> [String: FilePosition] {
        var out: [String: FilePosition] = [:]
        for r in try db.query("SELECT path, device, inode, offset, head FROM positions") {
            out[r.string(0)] = FilePosition(device: UInt64(bitPattern: r.int(1)), inode: UInt64(bitPattern: r.int(2)), offset: r.int(3),
                                            head: UInt64(bitPattern: r.int(4)))
        }
        return out
    }

    /// Adds to a counter inside the caller's transaction (or on its own).
    func bump(_ name: String, _ n: Int64) throws {
        guard n != 0 else { return }
        try db.run("INSERT INTO counters(name, value) VALUES(?, ?) ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                   [.text(name), .integer(n)])
        counters[name, default: 0] += n
    }

    /// Spools one batch with the positions and journal cursor it advances, in one transaction.
    /// Returns the ids of batches dropped to stay under `maxBytes` (oldest first; see docs/agent.md).
    public func spool(agentId: String, events: [Event], positions: [String: FilePosition], journalCursor: String?,
                      maxBytes: Int64, now: Int64) throws -> [String] {
        var dropped: [String] = []
        var droppedEvents = 0
        var droppedBytes: Int64 = 0
        try db.transaction {
            if !events.isEmpty {
                let seq = (Int64(try get("batch_seq") ?? "0") ?? 0) + 1
                try set("batch_seq", String(seq))
                var batch = EventBatch()
                batch.batchId = "\(agentId)-\(seq)"
                batch.agentId = agentId
                batch.events = events
                let payload = batch.encoded()
                try db.run("INSERT INTO spool(batch_id, events, bytes, created_ms, payload) VALUES(?,?,?,?,?)",
                           [.text(batch.batchId), .integer(Int64(events.count)), .integer(Int64(payload.count)), .integer(now), .blob(payload)])
                // Overflow: the oldest batches go first, counted, until the spool fits again.
                var total = spoolBytes + Int64(payload.count)
                if total > maxBytes {
                    for r in try db.query("SELECT n, batch_id, events, bytes FROM spool ORDER BY n") {
                        guard total > maxBytes, r.string(1) != batch.batchId else { break }
                        try db.run("DELETE FROM spool WHERE n = ?", [.integer(r.int(0))])
                        dropped.append(r.string(1)); droppedEvents += Int(r.int(2)); droppedBytes += r.int(3)
                        total -= r.int(3)
                    }
                    try bump("dropped_events", Int64(droppedEvents))
                    try bump("dropped_batches", Int64(dropped.count))
                }
                spoolBatches += 1 - dropped.count
                spoolEvents += events.count - droppedEvents
                spoolBytes = total
                try bump("read_events", Int64(events.count))
            }
            for (path, p) in positions {
                try db.run("INSERT OR REPLACE INTO positions(path, device, inode, offset, head, updated_ms) VALUES(?,?,?,?,?,?)",
                           [.text(path), .integer(Int64(bitPattern: p.device)), .integer(Int64(bitPattern: p.inode)),
                            .integer(p.offset), .integer(Int64(bitPattern: p.head)), .integer(now)])
            }
            if let c = journalCursor { try set("journal_cursor", c) }
        }
        return dropped
    }

    public struct Spooled {
        public var n: Int64
        public var batchId: String
        public var events: Int
        public var bytes: Int64
        public var createdMs: Int64
        public var payload: [UInt8]
    }

    /// The oldest spooled batches after `afterN` (those already in flight are skipped).
    public func oldest(after afterN: Int64, limit: Int) throws -> [Spooled] {
        try db.query("SELECT n, batch_id, events, bytes, created_ms, payload FROM spool WHERE n > ? ORDER BY n LIMIT ?",
                     [.integer(afterN), .integer(Int64(limit))]).map {
            Spooled(n: $0.int(0), batchId: $0.string(1), events: Int($0.int(2)), bytes: $0.int(3), createdMs: $0.int(4), payload: $0.blob(5))
        }
    }

    public func oldestCreatedMs() throws -> Int64? {
        try db.query("SELECT created_ms FROM spool ORDER BY n LIMIT 1").first?.int(0)
    }

    /// Ingest committed the batch: it leaves the spool (a no-op when overflow dropped it meanwhile).
    public func acknowledged(_ s: Spooled, accepted: Bool) throws {
        try db.transaction {
            if try db.run("DELETE FROM spool WHERE n = ?", [.integer(s.n)]) > 0 {
                spoolBatches -= 1; spoolEvents -= s.events; spoolBytes -= s.bytes
                try bump(accepted ? "sent_events" : "rejected_events", Int64(s.events))
                try bump(accepted ? "sent_batches" : "rejected_batches", 1)
            }
        }
    }
}

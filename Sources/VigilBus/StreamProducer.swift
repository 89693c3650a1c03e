import VigilLog
import VigilStore
import VigilWire

public struct StreamError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable { case outboxFull, notInTransaction }
    public var code: Code
    public var message: String
    public var description: String { "\(code.rawValue): \(message)" }
}

/// The producer half of a reliable stream (invariant 2): every message gets the next
/// sequence number of its stream and is written to an SQLite outbox in the caller's
/// transaction; it is published only after that transaction commits. Consumers that miss
/// messages ask for them again with `stream.replay`; what every known consumer has
/// acknowledged with `stream.ack` is truncated.
public final class StreamProducer {
    public struct Options: Sendable {
        public var producerId: String
        /// Refuse new messages beyond this many unacknowledged rows (back-pressure instead of an unbounded file).
        public var maxOutboxRows: Int = 2_000_000
        public var headIntervalMs: Int64 = 500
        public var maxReplayMessages: Int = 5000
        /// Replies stay well under the bus's message size limit whatever the event sizes.
        public var maxReplayBytes: Int = 4 * 1024 * 1024
        /// Streams no consumer has ever acknowledged keep messages this long, then drop them
        /// (nobody is listening reliably; without this the outbox would only grow).
        public var unacknowledgedRetentionMs: Int64 = 24 * 3600 * 1000
        public init(producerId: String) { self.producerId = producerId }
    }

    static let migrations: [Migration] = [
        Migration(1, "outbox", """
        CREATE TABLE stream_outbox(stream TEXT NOT NULL, seq INTEGER NOT NULL, topic TEXT NOT NULL,
            payload_type TEXT NOT NULL, payload BLOB NOT NULL, time_ms INTEGER NOT NULL,
            PRIMARY KEY(stream, seq)) WITHOUT ROWID;
        CREATE TABLE stream_heads(stream TEXT PRIMARY KEY, seq INTEGER NOT NULL);
        CREATE TABLE stream_acks(consumer TEXT NOT NULL, stream TEXT NOT NULL, seq INTEGER NOT NULL,
            time_ms INTEGER NOT NULL, PRIMARY KEY(consumer, stream)) WITHOUT ROWID;
        """),
        // Rows are appended in commit order with a small (stream, seq) index beside them:
        // a WITHOUT ROWID table keyed by (stream, seq) stored the large payloads inside the
        // B-tree, so 16 interleaved partitions rewrote scattered pages on every batch.
        Migration(2, "outbox in append order", """
        CREATE TABLE stream_outbox_v2(id INTEGER PRIMARY KEY, stream TEXT NOT NULL, seq INTEGER NOT NULL,
            topic TEXT NOT NULL, payload_type TEXT NOT NULL, payload BLOB NOT NULL, time_ms INTEGER NOT NULL);
        INSERT INTO stream_outbox_v2(stream, seq, topic, payload_type, payload, time_ms)
            SELECT stream, seq, topic, payload_type, payload, time_ms FROM stream_outbox ORDER BY time_ms, stream, seq;
        DROP TABLE stream_outbox;
        ALTER TABLE stream_outbox_v2 RENAME TO stream_outbox;
        CREATE UNIQUE INDEX stream_outbox_stream_seq ON stream_outbox(stream, seq);
        """),
    ]

    public let options: Options
    let db: Database
    let publisher: Publisher
    let logger: Logger
    public private(set) var heads: [String: UInt64] = [:]
    private var pending: [StreamEnvelope] = []
    /// The outbox INSERT, prepared once (hot path: one row per message).
    private var insert: Statement?
    public private(set) var outboxRows: Int = 0
    private var lastHeads: Int64 = 0
    public private(set) var published: UInt64 = 0
    public private(set) var replayed: UInt64 = 0
    public private(set) var truncated: UInt64 = 0
    /// Tests simulate pub/sub loss with this; never set in production.
    var dropForTesting: ((StreamEnvelope) -> Bool)?

    public init(db: Database, publisher: Publisher, options: Options, logger: Logger) throws {
        self.db = db
        self.publisher = publisher
        self.options = options
        self.logger = logger
        try db.migrate(component: "stream.producer", Self.migrations)
        for r in try db.query("SELECT stream, max(seq) FROM stream_outbox GROUP BY stream") {
            heads[r.string(0)] = UInt64(r.int(1))
        }
        for r in try db.query("SELECT stream, seq FROM stream_heads") {
            heads[r.string(0)] = max(heads[r.string(0)] ?? 0, UInt64(r.int(1)))
        }
        outboxRows = Int(try db.scalar("SELECT count(*) FROM stream_outbox")?.int64 ?? 0)
    }

    /// Appends a message to `stream` inside the caller's open transaction.
    @discardableResult
    public func append(stream: String, topic: String, payloadType: String, payload: [UInt8],
                       now: Int64 = Clock.nowMs()) throws -> UInt64 {
        guard db.inTransaction else {
            throw StreamError(code: .notInTransaction, message: "append must run inside the caller's transaction")
        }
        guard outboxRows < options.maxOutboxRows else {
            throw StreamError(code: .outboxFull,
                              message: "outbox of \(options.producerId) holds \(outboxRows) unacknowledged messages (limit \(options.maxOutboxRows)); consumers are behind or down")
        }
        let seq = (heads[stream] ?? 0) + 1
        let ins: Statement
        if let s = insert { ins = s } else {
            ins = try db.statement("INSERT INTO stream_outbox(stream, seq, topic, payload_type, payload, time_ms) VALUES(?,?,?,?,?,?)")
            insert = ins
        }
        defer { ins.reset() }
        try ins.bind([.text(stream), .integer(Int64(seq)), .text(topic), .text(payloadType), .blob(payload), .integer(now)])
        while try ins.step() {}
        heads[stream] = seq
        outboxRows += 1
        var env = StreamEnvelope()
        env.producerId = options.producerId
        env.stream = stream
        env.sequence = seq
        env.kind = .data
        env.topic = topic
        env.payloadType = payloadType
        env.payload = payload
        env.producedTimeMs = now
        pending.append(env)
        return seq
    }

    /// After the caller's transaction commits: publish what was appended.
    public func publishCommitted() {
        for env in pending where dropForTesting?(env) != true { publisher.publish(topic: env.topic, body: env.encoded()) }
        published += UInt64(pending.count)
        pending.removeAll(keepingCapacity: true)
    }

    /// After the caller's transaction rolled back: forget what was appended.
    public func discardUncommitted() {
        for env in pending.reversed() {
            heads[env.stream] = env.sequence - 1
            outboxRows -= 1
        }
        pending.removeAll(keepingCapacity: true)
    }

    public static func headTopic(_ stream: String) -> String { "stream.head.\(stream)" }

    /// Announces the latest sequence of every stream, so a consumer that missed the tail of
    /// a stream (nothing newer arrives to reveal the gap) still notices and replays.
    public func announceHeads(force: Bool = false) {
        let now = Clock.monotonicMs()
        guard force || now - lastHeads >= options.headIntervalMs else { return }
        lastHeads = now
        for (stream, seq) in heads {
            var env = StreamEnvelope()
            env.producerId = options.producerId
            env.stream = stream
            env.sequence = seq
            env.kind = .head
            env.topic = Self.headTopic(stream)
            env.producedTimeMs = Clock.nowMs()
            publisher.publish(topic: env.topic, body: env.encoded())
        }
    }

    /// RPC `stream.replay`.
    public func replay(_ req: ReplayRequest) throws -> ReplayResponse {
        var resp = ReplayResponse()
        resp.head = heads[req.stream] ?? 0
        let limit = req.maxMessages == 0 ? options.maxReplayMessages : min(Int(req.maxMessages), options.maxReplayMessages)
        let first = try db.scalar("SELECT min(seq) FROM stream_outbox WHERE stream = ?", [.text(req.stream)])?.int64
        resp.firstRetained = first.map { UInt64($0) } ?? resp.head + 1
        var bytes = 0
        for r in try db.query("SELECT seq, topic, payload_type, payload, time_ms FROM stream_outbox WHERE stream = ? AND seq >= ? ORDER BY seq LIMIT ?",
                              [.text(req.stream), .integer(Int64(req.fromSequence)), .integer(Int64(limit))]) {
            var env = StreamEnvelope()
            env.producerId = options.producerId
            env.stream = req.stream
            env.sequence = UInt64(r.int(0))
            env.kind = .data
            env.topic = r.string(1)
            env.payloadType = r.string(2)
            env.payload = r.blob(3)
            env.producedTimeMs = r.int(4)
            bytes += env.payload.count + 64
            // Always at least one message, so progress is made even with one huge event.
            if bytes > options.maxReplayBytes && !resp.messages.isEmpty { break }
            resp.messages.append(env)
        }
        replayed += UInt64(resp.messages.count)
        return resp
    }

    /// RPC `stream.ack`.
    public func acknowledge(_ ack: AckRequest) throws {
        try db.run("""
            INSERT INTO stream_acks(consumer, stream, seq, time_ms) VALUES(?,?,?,?)
            ON CONFLICT(consumer, stream) DO UPDATE SET seq = max(seq, excluded.seq), time_ms = excluded.time_ms
            """, [.text(ack.consumerId), .text(ack.stream), .integer(Int64(ack.sequence)), .integer(Clock.nowMs())])
    }

    /// Deletes, per stream, what every consumer that has acknowledged the stream has committed.
    /// Streams no consumer has acknowledged yet are kept (up to `maxOutboxRows`).
    public func truncateAcknowledged(now: Int64 = Clock.nowMs()) throws {
        let rows = try db.query("SELECT stream, min(seq) FROM stream_acks GROUP BY stream")
        let acked = Set(rows.map { $0.string(0) })
        try db.transaction {
            for stream in heads.keys where !acked.contains(stream) {
                try db.run("INSERT INTO stream_heads(stream, seq) VALUES(?, ?) ON CONFLICT(stream) DO UPDATE SET seq = max(seq, excluded.seq)",
                           [.text(stream), .integer(Int64(heads[stream] ?? 0))])
                let n = try db.run("DELETE FROM stream_outbox WHERE stream = ? AND time_ms < ?",
                                   [.text(stream), .integer(now - options.unacknowledgedRetentionMs)])
                outboxRows -= n
                truncated += UInt64(n)
            }
            for r in rows {
                let stream = r.string(0), upTo = r.int(1)
                guard let head = heads[stream] else { continue }
                // Remember the head before its last row may go, so numbering never restarts.
                try db.run("INSERT INTO stream_heads(stream, seq) VALUES(?, ?) ON CONFLICT(stream) DO UPDATE SET seq = max(seq, excluded.seq)",
                           [.text(stream), .integer(Int64(head))])
                let n = try db.run("DELETE FROM stream_outbox WHERE stream = ? AND seq <= ?", [.text(stream), .integer(upTo)])
                outboxRows -= n
                truncated += UInt64(n)
            }
        }
    }
}

import VigilLog
import VigilStore
import VigilWire

public struct StreamError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable { case outboxFull, notInTransaction, corruptOutbox }
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
        /// Streams whose name starts with one of these are published as BATCH envelopes: each
        /// commit's consecutive messages of a stream in one bus message (up to `maxBatchMessages`
        /// and `maxBatchBytes`), instead of one bus message each. For high-volume internal
        /// streams (events); others stay one DATA envelope per message for simple subscribers.
        public var batchStreamPrefixes: [String] = []
        /// Small bounds: 64 messages already spread the per-message cost, and ZeroMQ's high-water
        /// mark counts bus messages, so a batch multiplies what a slow subscriber's queue may hold.
        public var maxBatchMessages = 64
        public var maxBatchBytes = 256 * 1024
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
        // One row holds `n` consecutive messages of a stream (seq is the last one's): the
        // messages of a stream appended in one transaction are written as one row, so a batch
        // of 5000 events costs a few B-tree inserts instead of 5000 rows and index entries.
        // Rows written before hold one message each (n = 1, payload unframed).
        Migration(3, "several messages per outbox row", """
        ALTER TABLE stream_outbox ADD COLUMN n INTEGER NOT NULL DEFAULT 1;
        """),
        // The (stream, seq) index moves to memory (OutboxIndex): with 16 partitions it made every
        // commit rewrite 16 index pages. The payload goes last, so the start-up scan that rebuilds
        // the index reads the small columns without following large payloads' overflow pages.
        Migration(4, "outbox index in memory, payload last", """
        CREATE TABLE stream_outbox_v4(id INTEGER PRIMARY KEY, stream TEXT NOT NULL, seq INTEGER NOT NULL,
            n INTEGER NOT NULL, time_ms INTEGER NOT NULL, topic TEXT NOT NULL, payload_type TEXT NOT NULL,
            payload BLOB NOT NULL);
        INSERT INTO stream_outbox_v4(id, stream, seq, n, time_ms, topic, payload_type, payload)
            SELECT id, stream, seq, n, time_ms, topic, payload_type, payload FROM stream_outbox ORDER BY id;
        DROP TABLE stream_outbox;
        ALTER TABLE stream_outbox_v4 RENAME TO stream_outbox;
        """),
    ]

    /// At most this many messages or payload bytes per outbox row (bounds what a replay of a
    /// few messages has to read); a larger run of messages takes several rows.
    static let rowMaxMessages = 512
    static let rowMaxBytes = 1 << 20

    public let options: Options
    let db: Database
    let publisher: Publisher
    let logger: Logger
    public private(set) var heads: [String: UInt64] = [:]
    /// Appended in the open transaction (or committed and not yet published).
    private var pending: [StreamEnvelope] = []
    /// How many of `pending` are written to the outbox table (by `writePending`, before COMMIT).
    private var written = 0
    /// How many of `pending` a committed transaction holds (waiting for `publishCommitted`).
    private var committed = 0
    private var frames = OutboxFrames(capacity: 0)
    /// Where each stream's committed rows are (replaces an SQLite index; OutboxIndex).
    private var index = OutboxIndex()
    /// Rows written by `writePending` in the open transaction: they join `index` once it commits.
    private var uncommittedRows: [(stream: String, entry: OutboxIndex.Entry)] = []
    /// Unacknowledged messages in the outbox (the table counts `n` per row), plus the pending ones.
    public private(set) var outboxRows: Int = 0
    private var lastHeads: Int64 = 0
    public private(set) var published: UInt64 = 0
    /// BATCH envelopes among the bus messages sent (each holds several of `published`).
    public private(set) var publishedBatches: UInt64 = 0
    public private(set) var replayed: UInt64 = 0
    public private(set) var truncated: UInt64 = 0
    /// Messages in outbox rows that could not be read back (a damaged database): skipped by
    /// replays — reported to consumers as no longer retained, which count them — never a stuck
    /// stream. Each row counted and logged once.
    public private(set) var corruptSkipped: UInt64 = 0
    private var corruptRowsSeen = Set<String>()
    /// Where the next budgeted truncation starts among the streams.
    private var truncateTurn = 0
    /// Tests simulate pub/sub loss with this; never set in production.
    var dropForTesting: ((StreamEnvelope) -> Bool)?

    public init(db: Database, publisher: Publisher, options: Options, logger: Logger) throws {
        self.db = db
        self.publisher = publisher
        self.options = options
        self.logger = logger
        try db.migrate(component: "stream.producer", Self.migrations)
        let scan = try db.statement("SELECT id, stream, seq, n, time_ms FROM stream_outbox ORDER BY id")
        defer { scan.reset() }
        while try scan.step() {
            index.append(stream: scan.value(1).string ?? "",
                         .init(id: scan.value(0).int64 ?? 0, lastSeq: UInt64(max(0, scan.value(2).int64 ?? 0)),
                               n: max(1, Int(scan.value(3).int64 ?? 1)), timeMs: scan.value(4).int64 ?? 0))
        }
        heads = index.lastSequences
        for r in try db.query("SELECT stream, seq FROM stream_heads") {
            heads[r.string(0)] = max(heads[r.string(0)] ?? 0, UInt64(r.int(1)))
        }
        outboxRows = index.messages
        // Weak: the Database may outlive its producer (tests open several over one file).
        db.addBeforeCommit { [weak self] in try self?.writePending() }
        db.addAfterCommit { [weak self] in self?.didCommit() }
        db.addAfterRollback { [weak self] in self?.didRollBack() }
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
        // Written to the table with the rest of the transaction's messages just before COMMIT
        // (`writePending`), so a rollback or a crash before COMMIT keeps nothing of it.
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

    /// Writes the messages appended in the open transaction to the outbox table: per stream,
    /// runs of messages with the same topic and payload type become one row each (at most
    /// `rowMaxMessages` / `rowMaxBytes`). Called by the Database just before COMMIT.
    func writePending() throws {
        guard written < pending.count else { return }
        // Open rows per stream, in the order their streams first appear.
        var open: [String: Int] = [:]
        var runs: [(first: Int, indices: [Int], bytes: Int)] = []
        for i in written..<pending.count {
            let env = pending[i]
            if let r = open[env.stream] {
                let head = pending[runs[r].first]
                if head.topic == env.topic, head.payloadType == env.payloadType,
                   runs[r].indices.count < Self.rowMaxMessages, runs[r].bytes + env.payload.count <= Self.rowMaxBytes {
                    runs[r].indices.append(i)
                    runs[r].bytes += env.payload.count
                    continue
                }
            }
            open[env.stream] = runs.count
            runs.append((first: i, indices: [i], bytes: env.payload.count))
        }
        let ins = try db.statement("INSERT INTO stream_outbox(stream, seq, n, topic, payload_type, payload, time_ms) VALUES(?,?,?,?,?,?,?)")
        defer { ins.reset() }
        for run in runs {
            let head = pending[run.first], last = pending[run.indices[run.indices.count - 1]]
            if run.indices.count > 1 {
                // One buffer reused for every row (rows are up to `rowMaxBytes`: a fresh one each
                // time cost page faults), read by SQLite in place.
                frames.reset(capacity: run.bytes + run.indices.count * OutboxFrames.overhead)
                for i in run.indices { frames.add(pending[i].payload, timeMs: pending[i].producedTimeMs) }
            }
            let timeMs = run.indices.map { pending[$0].producedTimeMs }.max() ?? last.producedTimeMs
            try ins.bind([.text(head.stream), .integer(Int64(last.sequence)), .integer(Int64(run.indices.count)),
                          .text(head.topic), .text(head.payloadType), .null, .integer(timeMs)])
            try ins.withBorrowedBlob(6, run.indices.count == 1 ? head.payload : frames.bytes) {
                while try ins.step() {}
            }
            uncommittedRows.append((head.stream, .init(id: db.lastInsertRowId, lastSeq: last.sequence, n: run.indices.count, timeMs: timeMs)))
        }
        written = pending.count
    }

    /// The transaction that wrote `pending[..<written]` committed (Database hook): those
    /// messages are durable, whatever the caller does next, and their rows join the index.
    private func didCommit() {
        for r in uncommittedRows { index.append(stream: r.stream, r.entry) }
        uncommittedRows.removeAll(keepingCapacity: true)
        committed = written
    }

    /// The transaction rolled back (Database hook): the rows `writePending` wrote are gone.
    private func didRollBack() {
        uncommittedRows.removeAll(keepingCapacity: true)
        written = committed
    }

    /// After the caller's transaction commits: publish what was appended. Messages of a batched
    /// stream (`batchStreamPrefixes`) go out as runs of consecutive sequences in BATCH envelopes;
    /// a run ends at a change of topic or payload type, at the size bounds, and (in tests) at a
    /// dropped message, so every batch stays gap-free.
    public func publishCommitted() {
        let n = committed
        var runs: [String: (indices: [Int], bytes: Int)] = [:]
        func flush(_ stream: String) {
            guard let run = runs.removeValue(forKey: stream), !run.indices.isEmpty else { return }
            if run.indices.count == 1 {
                let env = pending[run.indices[0]]
                publisher.publish(topic: env.topic, body: env.encoded())
            } else {
                let env = StreamEnvelope(batch: run.indices.map { pending[$0] })
                publisher.publish(topic: env.topic, body: env.encoded())
                publishedBatches += 1
            }
        }
        for i in 0..<n {
            let env = pending[i]
            if dropForTesting?(env) == true { flush(env.stream); continue }
            guard batches(env.stream) else { publisher.publish(topic: env.topic, body: env.encoded()); continue }
            if let run = runs[env.stream] {
                let head = pending[run.indices[0]]
                if head.topic != env.topic || head.payloadType != env.payloadType
                    || run.indices.count >= options.maxBatchMessages || run.bytes + env.payload.count > options.maxBatchBytes {
                    flush(env.stream)
                }
            }
            runs[env.stream, default: ([], 0)].indices.append(i)
            runs[env.stream]!.bytes += env.payload.count
        }
        // Streams are independent: the order their last runs go out in does not matter.
        for stream in Array(runs.keys) { flush(stream) }
        published += UInt64(n)
        pending.removeFirst(n)
        written -= n
        committed = 0
    }

    /// After the caller's transaction rolled back: forget what was appended and not committed.
    /// Messages a committed transaction holds are kept for `publishCommitted` (a caller that
    /// fails after its COMMIT must not rewind numbering that the outbox already uses). The rows
    /// the rollback removed are already forgotten (`didRollBack`).
    public func discardUncommitted() {
        for env in pending[committed...].reversed() {
            heads[env.stream] = env.sequence - 1
            outboxRows -= 1
        }
        pending.removeSubrange(committed...)
    }

    public static func headTopic(_ stream: String) -> String { "stream.head.\(stream)" }

    private var batchedStreams: [String: Bool] = [:]
    private func batches(_ stream: String) -> Bool {
        if let b = batchedStreams[stream] { return b }
        let b = options.batchStreamPrefixes.contains { stream.hasPrefix($0) }
        batchedStreams[stream] = b
        return b
    }

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
        let rows = index.rows(req.stream)
        resp.firstRetained = rows.first?.firstSeq ?? resp.head + 1
        var bytes = 0
        // Rows are read one at a time (each holds up to `rowMaxMessages`), until the reply is full.
        let q = try db.statement("SELECT topic, payload_type, payload, time_ms FROM stream_outbox WHERE id = ?")
        let start = index.firstRow(req.stream, atOrAfter: req.fromSequence) ?? rows.endIndex
        rows: for row in rows[start...] where resp.messages.count < limit {
            q.reset()
            try q.bind([.integer(row.id)])
            let found = try q.step()
            let last = row.lastSeq, n = row.n
            let topic = found ? q.value(0).string ?? "" : "", payloadType = found ? q.value(1).string ?? "" : ""
            let stored: [UInt8]
            switch found ? q.value(2) : .null { case .blob(let b): stored = b; default: stored = [] }
            let messages: [(payload: [UInt8], timeMs: Int64)]
            if n == 1 && found {
                messages = [(stored, q.value(3).int64 ?? 0)]
            } else {
                // A row the index knows but the table lacks is as unreadable as a damaged one.
                guard found, let m = OutboxFrames.split(stored), m.count == n else {
                    if corruptRowsSeen.insert("\(req.stream)/\(last)").inserted {
                        corruptSkipped += UInt64(n)
                        logger.error("outbox row cannot be read; its messages are skipped by replays",
                                     ["stream": req.stream, "first": String(last - UInt64(n - 1)), "last": String(last), "code": StreamError.Code.corruptOutbox.rawValue])
                    }
                    // Where the replay starts, the row is reported as no longer retained (the
                    // consumer counts the skipped messages and goes on after it); after messages
                    // already in this reply, the reply ends and the next one starts there.
                    guard resp.messages.isEmpty else { break rows }
                    resp.firstRetained = max(resp.firstRetained, last + 1)
                    continue rows
                }
                messages = m
            }
            for (k, m) in messages.enumerated() {
                let seq = last - UInt64(n - 1 - k)
                if seq < req.fromSequence { continue }
                var env = StreamEnvelope()
                env.producerId = options.producerId
                env.stream = req.stream
                env.sequence = seq
                env.kind = .data
                env.topic = topic
                env.payloadType = payloadType
                env.payload = m.payload
                env.producedTimeMs = m.timeMs
                bytes += env.payload.count + 64
                // Always at least one message, so progress is made even with one huge event.
                if bytes > options.maxReplayBytes && !resp.messages.isEmpty { break rows }
                resp.messages.append(env)
                if resp.messages.count >= limit { break rows }
            }
        }
        q.reset()
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
    ///
    /// With `budgetMs`, stops once that much time is spent (after at least one chunk) and
    /// returns true when acknowledged rows remain: the caller's loop comes back soon instead of
    /// stalling. A whole 5 s of acknowledged rows in one DELETE took 40–180 ms at 10k events/s,
    /// which every event arriving meanwhile waited for (the largest part of the p99 latency).
    ///
    /// The deleted pages are not zeroed (`Database.withoutZeroingDeletes`): the messages are
    /// copies of events the event store keeps, and zeroing wrote each payload a second time.
    @discardableResult
    public func truncateAcknowledged(now: Int64 = Clock.nowMs(), budgetMs: Int64? = nil) throws -> Bool {
        try db.withoutZeroingDeletes { try truncate(now: now, budgetMs: budgetMs) }
    }

    private func truncate(now: Int64, budgetMs: Int64?) throws -> Bool {
        let start = Clock.monotonicMs()
        let rows = try db.query("SELECT stream, min(seq) FROM stream_acks GROUP BY stream")
        let acked = Set(rows.map { $0.string(0) })
        var more = false
        // Rows deleted per stream (always its oldest): the index forgets them once the DELETEs commit.
        var removed: [String: Int] = [:]
        var removedMessages = 0
        let delete = try db.statement("DELETE FROM stream_outbox WHERE id = ?")
        defer { delete.reset() }
        func deleteOldest(_ stream: String, while keep: (OutboxIndex.Entry) -> Bool) throws {
            var k = removed[stream] ?? 0
            let live = index.rows(stream)
            while live.startIndex + k < live.endIndex, keep(live[live.startIndex + k]) {
                let e = live[live.startIndex + k]
                delete.reset()
                try delete.bind([.integer(e.id)])
                while try delete.step() {}
                removedMessages += e.n
                k += 1
            }
            removed[stream] = k
        }
        try db.transaction {
            for stream in heads.keys where !acked.contains(stream) {
                try db.run("INSERT INTO stream_heads(stream, seq) VALUES(?, ?) ON CONFLICT(stream) DO UPDATE SET seq = max(seq, excluded.seq)",
                           [.text(stream), .integer(Int64(heads[stream] ?? 0))])
                let cutoff = now - options.unacknowledgedRetentionMs
                try deleteOldest(stream) { $0.timeMs < cutoff }
            }
            // Round-robin over the streams in chunks, so a budget that runs out leaves every
            // stream partly truncated rather than the last ones untouched.
            var work: [(stream: String, upTo: UInt64)] = []
            for r in rows {
                let stream = r.string(0), upTo = UInt64(max(0, r.int(1)))
                guard let head = heads[stream] else { continue }
                // Remember the head before its last row may go, so numbering never restarts.
                try db.run("INSERT INTO stream_heads(stream, seq) VALUES(?, ?) ON CONFLICT(stream) DO UPDATE SET seq = max(seq, excluded.seq)",
                           [.text(stream), .integer(Int64(head))])
                work.append((stream, upTo))
            }
            // A chunk is bounded in messages, not rows: a row holds 1–512 of them. Each call starts
            // at the next stream, so a small budget still reaches every stream in turn.
            if !work.isEmpty { truncateTurn += 1; let k = truncateTurn % work.count; work = Array(work[k...] + work[..<k]) }
            var chunks = 0
            rounds: while !work.isEmpty {
                var left: [(stream: String, upTo: UInt64)] = []
                for w in work {
                    // A row goes when all its messages are acknowledged (its last sequence is acknowledged).
                    var end = w.upTo
                    if budgetMs != nil {
                        let live = index.rows(w.stream).dropFirst(removed[w.stream] ?? 0)
                        // Nothing acknowledged left in this stream.
                        guard let first = live.first, first.lastSeq <= w.upTo else { continue }
                        if let b = budgetMs, chunks > 0, Clock.monotonicMs() - start >= b { more = true; break rounds }
                        let bounded = max(first.lastSeq, first.firstSeq + UInt64(Self.truncateChunkMessages) - 1)
                        if bounded < w.upTo { end = bounded; left.append(w) }
                    }
                    chunks += 1
                    try deleteOldest(w.stream) { $0.lastSeq <= end }
                }
                work = left
            }
        }
        for (stream, k) in removed { index.removeFirst(stream, k) }
        outboxRows -= removedMessages
        truncated += UInt64(removedMessages)
        return more
    }

    /// Messages one truncation step deletes per stream when it runs on a time budget (deleting
    /// 50,000 took about 100 ms here; with 1,024 a step still overran its 3 ms by up to 55 ms
    /// when the machine was busy, since the budget is checked between chunks).
    static let truncateChunkMessages = 256
}

/// The payload of an outbox row holding several messages: per message a 4-byte little-endian
/// length, its 8-byte little-endian produced time, then its bytes.
struct OutboxFrames {
    static let overhead = 12
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    /// Empties the buffer, keeping its storage.
    mutating func reset(capacity: Int) {
        bytes.removeAll(keepingCapacity: true)
        bytes.reserveCapacity(capacity)
    }

    mutating func add(_ payload: [UInt8], timeMs: Int64) {
        let n = UInt32(clamping: payload.count), t = UInt64(bitPattern: timeMs)
        for k in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: n >> (8 * UInt32(k)))) }
        for k in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: t >> (8 * UInt64(k)))) }
        bytes.append(contentsOf: payload)
    }

    /// The messages of a row; nil when the bytes are not a whole number of frames.
    static func split(_ b: [UInt8]) -> [(payload: [UInt8], timeMs: Int64)]? {
        var out: [(payload: [UInt8], timeMs: Int64)] = []
        var i = 0
        while i < b.count {
            guard b.count - i >= overhead else { return nil }
            var n = 0, t: UInt64 = 0
            for k in 0..<4 { n |= Int(b[i + k]) << (8 * k) }
            for k in 0..<8 { t |= UInt64(b[i + 4 + k]) << (8 * UInt64(k)) }
            i += overhead
            guard b.count - i >= n else { return nil }
            out.append((Array(b[i..<(i + n)]), Int64(bitPattern: t)))
            i += n
        }
        return out
    }
}

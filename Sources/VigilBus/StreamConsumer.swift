import VigilLog
import VigilStore
import VigilWire

/// The consumer half of a reliable stream. It hands the caller only gap-free, in-order
/// messages per (producer, stream); the caller commits its output together with
/// `commitPositions` in one transaction, so after a crash it resumes exactly where its
/// committed state ends. Gaps (dropped by pub/sub, or missed while down) are filled by
/// asking the producer to replay; duplicates are skipped by sequence number.
public final class StreamConsumer {
    public struct Options: Sendable {
        public var consumerId: String
        /// Topic prefixes to subscribe to, e.g. ["events.parsed."].
        public var topicPrefixes: [String]
        /// Streams this instance owns (partition assignment); others are ignored.
        public var accepts: @Sendable (String) -> Bool = { _ in true }
        public var replayBatch: UInt32 = 5000
        public var replayTimeoutMs: Int64 = 3000
        /// Replay requests outstanding at once (over all streams); others wait their turn. A
        /// consumer behind on 16 partitions asked all 16 producers' streams at once: up to
        /// 16 × `replayBatch` messages arrived together and were held until committed.
        public var maxReplaysInFlight: Int = 4
        public var ackIntervalMs: Int64 = 1000
        public init(consumerId: String, topicPrefixes: [String]) {
            self.consumerId = consumerId
            self.topicPrefixes = topicPrefixes
        }
    }

    public struct Key: Hashable, Sendable {
        public var producer: String
        public var stream: String
    }

    public struct Counters: Sendable {
        public var received: UInt64 = 0
        public var duplicates: UInt64 = 0
        public var gaps: UInt64 = 0
        public var replayRequests: UInt64 = 0
        public var replayed: UInt64 = 0
        public var malformed: UInt64 = 0
        public var truncatedSkipped: UInt64 = 0
        public var ignored: UInt64 = 0
        /// BATCH envelopes received (their messages count in `received`).
        public var batches: UInt64 = 0
    }

    static let migrations: [Migration] = [
        Migration(1, "positions", """
        CREATE TABLE stream_positions(producer TEXT NOT NULL, stream TEXT NOT NULL, seq INTEGER NOT NULL,
            PRIMARY KEY(producer, stream)) WITHOUT ROWID;
        """),
    ]

    public let options: Options
    public let subscriber: Subscriber
    let db: Database
    let rpc: RpcClient
    let logger: Logger
    /// Committed positions (last sequence whose effects are in the store).
    public private(set) var committed: [Key: UInt64] = [:]
    /// Next sequence expected per key, including messages handed out but not yet committed.
    private var next: [Key: UInt64] = [:]
    public private(set) var heads: [Key: UInt64] = [:]
    private var replaying: Set<Key> = []
    /// Streams waiting for a replay slot, oldest first, with the sequence to start from.
    private var replayQueue: [(key: Key, from: UInt64)] = []
    private var ready: [StreamEnvelope] = []
    private var acked: [Key: UInt64] = [:]
    private var lastAck: Int64 = 0
    private var lastFullAck: Int64 = 0
    public private(set) var counters = Counters()

    public init(context: ZContext, endpoints: BusEndpoints, db: Database, rpc: RpcClient, options: Options,
                limits: BusLimits = BusLimits(), logger: Logger) throws {
        self.options = options
        self.db = db
        self.rpc = rpc
        self.logger = logger
        try db.migrate(component: "stream.consumer", Self.migrations)
        for r in try db.query("SELECT producer, stream, seq FROM stream_positions") {
            let k = Key(producer: r.string(0), stream: r.string(1))
            committed[k] = UInt64(r.int(2))
            next[k] = UInt64(r.int(2)) + 1
        }
        var prefixes = options.topicPrefixes
        prefixes += options.topicPrefixes.map { StreamProducer.headTopic($0) }
        subscriber = try Subscriber(context: context, endpoint: endpoints.subscribe, prefixes: prefixes, limits: limits)
    }

    public var socket: ZSocket { subscriber.socket }

    public func close() { subscriber.close() }

    /// When the last `receiveAvailable` began (wall µs; only with `Trace.on`).
    public private(set) var lastReceiveUs: Int64 = 0

    /// Reads what the subscription has queued, up to about `limit` messages (a BATCH envelope
    /// counts as the messages it holds, so memory stays bounded by events, not bus messages),
    /// updating gap/replay state.
    public func receiveAvailable(limit: Int = 20_000) {
        if Trace.on { lastReceiveUs = Trace.nowUs() }
        var read = 0
        while read < limit {
            guard let frames = (try? subscriber.socket.receive(dontWait: true)) ?? nil else { return }
            guard frames.count == 2, let env = try? StreamEnvelope(decoding: frames[1]), let messages = env.messages() else {
                read += 1
                counters.malformed += 1
                logger.warning("malformed stream message", ["topic": frames.first.map { Array($0.prefix(64)).utf8String } ?? "", "frames": String(frames.count)])
                continue
            }
            if env.kind == .batch { counters.batches += 1 }
            read += messages.count
            for m in messages { accept(m, fromReplay: false) }
        }
    }

    private func accept(_ env: StreamEnvelope, fromReplay: Bool) {
        guard options.accepts(env.stream) else { counters.ignored += 1; return }
        let key = Key(producer: env.producerId, stream: env.stream)
        let expected = next[key] ?? 1
        if env.kind == .head {
            heads[key] = max(heads[key] ?? 0, env.sequence)
            if env.sequence >= expected { requestReplay(key, from: expected) }
            return
        }
        guard env.kind == .data else { counters.malformed += 1; return }
        counters.received += 1
        heads[key] = max(heads[key] ?? 0, env.sequence)
        if env.sequence < expected {
            counters.duplicates += 1
        } else if env.sequence == expected {
            ready.append(env)
            next[key] = expected + 1
            if fromReplay { counters.replayed += 1 }
        } else {
            // Dropped on the way or missed while down: fetch the missing range; this message
            // will come again with the replay, so it is not kept.
            if !fromReplay { counters.gaps += 1 }
            requestReplay(key, from: expected)
        }
    }

    private func requestReplay(_ key: Key, from: UInt64) {
        guard !replaying.contains(key) else { return }
        guard replaying.count < options.maxReplaysInFlight else {
            if let i = replayQueue.firstIndex(where: { $0.key == key }) { replayQueue[i].from = min(replayQueue[i].from, from) }
            else { replayQueue.append((key, from)) }
            return
        }
        replaying.insert(key)
        counters.replayRequests += 1
        let req = ReplayRequest(stream: key.stream, fromSequence: from, maxMessages: options.replayBatch)
        rpc.send(service: key.producer, method: "stream.replay", payload: req.encoded(),
                 timeoutMs: options.replayTimeoutMs) { [weak self] result in
            self?.replayed(key, from: from, result)
        }
    }

    private func replayed(_ key: Key, from: UInt64, _ result: Result<RpcResponse, RpcError>) {
        replaying.remove(key)
        defer { startQueuedReplays() }
        guard case .success(let r) = result, r.errorCode == .ok, let resp = try? ReplayResponse(decoding: r.payload) else {
            if case .failure(let e) = result {
                logger.debug("replay failed", ["producer": key.producer, "stream": key.stream, "error": e.message])
            }
            return
        }
        heads[key] = max(heads[key] ?? 0, resp.head)
        var expected = next[key] ?? 1
        if expected == from && resp.firstRetained > expected {
            // The producer truncated what we never committed: only possible when this consumer
            // was unknown to it (never acknowledged). Counted and logged, never silent.
            let skipped = resp.firstRetained - expected
            counters.truncatedSkipped += skipped
            logger.warning("stream messages already truncated by producer; skipping", ["producer": key.producer, "stream": key.stream, "count": String(skipped)])
            next[key] = resp.firstRetained
            expected = resp.firstRetained
        }
        for env in resp.messages {
            guard let messages = env.messages() else { counters.malformed += 1; continue }
            for m in messages { accept(m, fromReplay: true) }
        }
        if let n = next[key], n <= resp.head, !resp.messages.isEmpty { requestReplay(key, from: n) }
    }

    /// Replay requests outstanding now (tests check the bound).
    var replaysInFlight: Int { replaying.count }

    /// Gives free replay slots to the streams waiting for one (from where they now stand).
    private func startQueuedReplays() {
        while replaying.count < options.maxReplaysInFlight, !replayQueue.isEmpty {
            // From where the stream stands now (live messages or a rollback may have moved it).
            let key = replayQueue.removeFirst().key
            let expected = next[key] ?? 1
            guard (heads[key] ?? 0) >= expected else { continue }
            requestReplay(key, from: expected)
        }
    }

    /// Hands out up to `max` in-order messages for the caller to process and commit.
    public func takeReady(max: Int = 5000) -> [StreamEnvelope] {
        if ready.count <= max { defer { ready.removeAll(keepingCapacity: true) }; return ready }
        let batch = Array(ready.prefix(max))
        ready.removeFirst(max)
        return batch
    }

    public var hasReady: Bool { !ready.isEmpty }
    /// In-order messages waiting to be taken.
    public var readyCount: Int { ready.count }

    /// Records positions for `batch` inside the caller's transaction.
    public func commitPositions(_ batch: [StreamEnvelope]) throws {
        var last: [Key: UInt64] = [:]
        for env in batch { last[Key(producer: env.producerId, stream: env.stream)] = env.sequence }
        for (k, seq) in last {
            try db.run("INSERT INTO stream_positions(producer, stream, seq) VALUES(?,?,?) ON CONFLICT(producer, stream) DO UPDATE SET seq = excluded.seq",
                       [.text(k.producer), .text(k.stream), .integer(Int64(seq))])
        }
        pendingCommit = last
    }
    private var pendingCommit: [Key: UInt64] = [:]

    /// After the caller's transaction committed.
    public func didCommit() {
        for (k, v) in pendingCommit { committed[k] = v }
        pendingCommit.removeAll()
    }

    /// After the caller's transaction rolled back: forget uncommitted progress; the messages
    /// are fetched again by replay.
    public func didRollback() {
        pendingCommit.removeAll()
        ready.removeAll()
        next = committed.mapValues { $0 + 1 }
        for k in heads.keys where next[k] == nil { next[k] = 1 }
    }

    /// Tells producers what is committed so they can truncate their outboxes.
    public func sendAcks(force: Bool = false) {
        let now = Clock.monotonicMs()
        guard force || now - lastAck >= options.ackIntervalMs else { return }
        lastAck = now
        // Acks are fire-and-forget; resending unchanged ones every 10 s repairs a lost one.
        let resendAll = now - lastFullAck >= 10_000
        if resendAll { lastFullAck = now }
        for (k, seq) in committed where acked[k] != seq || resendAll {
            acked[k] = seq
            let ack = AckRequest(consumerId: options.consumerId, stream: k.stream, sequence: seq)
            rpc.send(service: k.producer, method: "stream.ack", payload: ack.encoded(), timeoutMs: 3000) { _ in }
        }
        // A stream whose head is ahead and no replay is running gets one (covers lost replies).
        for (k, h) in heads where (next[k] ?? 1) <= h && !replaying.contains(k) {
            requestReplay(k, from: next[k] ?? 1)
        }
    }

    public var lags: [StreamLag] {
        heads.map { k, h in StreamLag(producerId: k.producer, stream: k.stream, position: committed[k] ?? 0, head: h) }
            .sorted { ($0.producerId, $0.stream) < ($1.producerId, $1.stream) }
    }
}

import Foundation
import VigilBus
import VigilLog
import VigilService
import VigilStore
import VigilWire
import VigilParsers

/// Ingest: accepts lines (syslog UDP/TCP, JSON lines over TCP) and event batches (RPC
/// `ingest.submit`, used by agents and `vigil import`), parses them, and appends each event
/// to its partition's stream `events.parsed.<p>` in the outbox. A line no parser understands
/// becomes an *unparsed* event with its raw bytes and reason. RPC `ingest.sources` reports
/// per-source counters.
public final class IngestService {
    public static let keys: [(String, String)] = [
        ("syslog.udp", "syslog UDP listen address host:port or off (default 127.0.0.1:5514)"),
        ("syslog.tcp", "syslog TCP listen address host:port or off (default 127.0.0.1:5514)"),
        ("json.tcp", "newline-delimited JSON TCP listen address host:port or off (default 127.0.0.1:5515)"),
        ("udp.receive-buffer", "UDP socket receive buffer in bytes, capped by net.core.rmem_max (default 8388608)"),
        ("max-line-bytes", "longest accepted line; longer lines are cut (default 262144)"),
        ("batch-size", "events per SQLite transaction (default 5000)"),
        ("parse-workers", "threads that parse and encode received lines off the ingest loop (default 1)"),
        ("parse-threads", "threads one parse worker splits a batch of queued lines over, order kept (default 2, at most the cores)"),
        ("submit.max-in-flight", "ingest.submit batches held in preparation at once; more are refused with resource_exhausted, which senders retry (default 16; also at most 64 MiB)"),
        ("outbox.max-rows", "unacknowledged events kept before refusing input (default 2000000)"),
    ]
    public static let defaults: [String: String] = [
        "syslog.udp": "127.0.0.1:5514", "syslog.tcp": "127.0.0.1:5514", "json.tcp": "127.0.0.1:5515",
        "udp.receive-buffer": "8388608", "max-line-bytes": "262144",
        "batch-size": "5000", "parse-workers": "1", "parse-threads": "2", "submit.max-in-flight": "16", "outbox.max-rows": "2000000",
    ]

    static let migrations: [Migration] = [
        Migration(1, "batches", """
        CREATE TABLE agent_batches(batch_id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, accepted INTEGER NOT NULL,
            unparsed INTEGER NOT NULL, time_ms INTEGER NOT NULL);
        CREATE TABLE source_counters(source TEXT PRIMARY KEY, accepted INTEGER NOT NULL, unparsed INTEGER NOT NULL,
            last_seen_ms INTEGER NOT NULL);
        """),
        SourceCounters.migration,
        Migration(3, "addresses whose configured source was deleted", """
        CREATE TABLE stopped_addresses(address TEXT PRIMARY KEY, reason TEXT NOT NULL, since_ms INTEGER NOT NULL);
        """),
    ]
    /// Parser hint per network source; "json" takes the JSON path (Windows first, then generic).
    static let sourceHints = ["json-tcp": "json"]

    let runtime: ServiceRuntime
    let producer: StreamProducer
    /// Built events from the parse workers.
    let events: ZSocket
    let workers: ParseWorkers
    let listeners: Listeners
    let batchSize: Int
    /// Builder for `ingest.reparse` (on the loop); submitted batches use the preparer's own.
    var submitBuilders: [EventBuilder]
    /// Decodes, parses and encodes submitted batches off the loop, one after the other.
    let preparer: SubmitPreparer
    /// Readable when the preparer has finished a batch.
    let preparedSignal: ZSocket
    /// Replies owed for submitted batches, in arrival order (the preparer keeps that order).
    var submitReplies: [(ticket: UInt64, reply: (RpcResponse) -> Void, bytes: Int)] = []
    /// Bounds what `ingest.submit` holds in preparation (memory, and the work a slow commit
    /// invites from senders that time out and resend): over it a batch is refused with
    /// `resource_exhausted`, which agents and `vigil import` retry with the same batch id.
    var maxSubmitsInFlight = 16
    static let maxSubmitBytesInFlight = 64 << 20
    var nextTicket: UInt64 = 0
    /// "events.parsed.<p>" per partition.
    let streamNames: [String]
    var sources = SourceCounters()
    /// Configured event sources and collectors (config service), consulted per received line.
    let registry: CollectionRegistry
    var configMirror: ConfigMirror!

    public init(runtime: ServiceRuntime) throws {
        self.runtime = runtime
        let cfg = runtime.config
        try runtime.db.migrate(component: "ingest", Self.migrations)
        producer = try runtime.enableProducer(maxOutboxRows: try cfg.int("outbox.max-rows", default: 2_000_000),
                                                  batchStreamPrefixes: ["events.parsed."])
        batchSize = try cfg.int("batch-size", default: 5000)
        submitBuilders = [EventBuilder(partitions: cfg.partitions)]
        preparedSignal = try ZSocket(runtime.context, .pull)
        try preparedSignal.bind(SubmitPreparer.signalEndpoint)
        maxSubmitsInFlight = max(1, try cfg.int("submit.max-in-flight", default: 16))
        preparer = SubmitPreparer(context: runtime.context, partitions: cfg.partitions,
                                  threads: max(1, min(4, ProcessInfo.processInfo.activeProcessorCount)))
        streamNames = (0..<max(1, cfg.partitions)).map { "events.parsed.\($0)" }
        var stopped: [String: String] = [:]
        for r in try runtime.db.query("SELECT address, reason FROM stopped_addresses") { stopped[r.string(0)] = r.string(1) }
        registry = CollectionRegistry(stopped: stopped)
        events = try ZSocket(runtime.context, .pull)
        try events.setHighWaterMarks(send: ParseWorkers.eventsHighWaterMark, receive: ParseWorkers.eventsHighWaterMark)
        try events.bind(ParseWorkers.eventsEndpoint)
        workers = try ParseWorkers(context: runtime.context, count: try cfg.int("parse-workers", default: 1),
                                   threads: min(max(1, try cfg.int("parse-threads", default: 2)), ProcessInfo.processInfo.activeProcessorCount),
                                   partitions: cfg.partitions, hints: Self.sourceHints, registry: registry,
                                   logger: runtime.logger)
        listeners = Listeners(context: runtime.context, logger: runtime.logger, endpoints: workers.endpoints,
                              maxLineBytes: try cfg.int("max-line-bytes", default: 262_144))
        if let udp = try NetworkAddress.parse(cfg.string("syslog.udp", default: "127.0.0.1:5514"), key: "syslog.udp") {
            try listeners.startUDP(udp, receiveBuffer: try cfg.int("udp.receive-buffer", default: 8 * 1024 * 1024))
        }
        if let tcp = try NetworkAddress.parse(cfg.string("syslog.tcp", default: "127.0.0.1:5514"), key: "syslog.tcp") {
            try listeners.startTCP(tcp, source: "syslog-tcp", octetCounting: true)
        }
        if let json = try NetworkAddress.parse(cfg.string("json.tcp", default: "127.0.0.1:5515"), key: "json.tcp") {
            try listeners.startTCP(json, source: "json-tcp", octetCounting: false)
        }
        runtime.add(socket: events) { [unowned self] in self.drainEvents() }
        // Agents submit their batches; so do analysts (`vigil import`) and admins.
        runtime.add(socket: preparedSignal) { [unowned self] in self.commitPrepared() }
        runtime.worker.handleDeferred("ingest.submit", role: .agent) { [unowned self] req, reply in self.submit(req, reply: reply) }
        runtime.worker.handle("ingest.sources") { [unowned self] req in self.sourceStatus(req) }
        runtime.worker.handle("ingest.reparse") { [unowned self] req in self.reparse(req) }
        runtime.every(ms: 2000) { [unowned self] in self.flushSourceCounters() }
        try followConfig()
        let listenerStats = listeners.stats, udpInode = listeners.udpInode, registry = registry
        runtime.addMetrics { counters in
            counters.merge(listenerStats.snapshot) { $1 }
            counters.merge(registry.metrics) { $1 }
            if let inode = udpInode, let drops = UDPDrops.count(inode: inode) { counters["udp.dropped"] = drops }
        }
    }

    /// Follows config's event sources and collectors: deleting one stops ingestion from its
    /// addresses (persisted here, in the same transaction as the stream position).
    func followConfig() throws {
        configMirror = ConfigMirror(runtime: runtime)
        configMirror.onChange = { [unowned self] c in self.persist(self.registry.apply(c)) }
        configMirror.onSnapshot = { [unowned self] s in
            let changes = self.registry.load(s)
            do { try self.runtime.db.transaction { self.persist(changes) } } catch {
                self.runtime.logger.error("stopped addresses not saved", ["error": "\(error)"])
            }
        }
        try runtime.enableConsumer(topicPrefixes: [ConfigMirror.topicPrefix], batchSize: 500) { [unowned self] batch in
            for env in batch where !self.configMirror.accept(env) { self.runtime.count("config.unexpected_stream") }
        }
    }

    func persist(_ changes: [CollectionRegistry.StopChange]) {
        for ch in changes {
            do {
                switch ch {
                case .stop(let address, let reason):
                    try runtime.db.run("INSERT OR REPLACE INTO stopped_addresses(address, reason, since_ms) VALUES(?,?,?)",
                                       [.text(address), .text(reason), .integer(Clock.nowMs())])
                    runtime.logger.warning("ingestion stopped for an address", ["address": address, "reason": reason])
                case .resume(let address):
                    try runtime.db.run("DELETE FROM stopped_addresses WHERE address = ?", [.text(address)])
                    runtime.logger.info("ingestion resumed for an address", ["address": address])
                }
            } catch {
                runtime.logger.error("stopped address not saved", ["error": "\(error)"])
            }
        }
    }

    public func shutdown() {
        listeners.stop()
        // The workers finish what is queued for them; their events are committed here.
        workers.stop()
        let deadline = Clock.monotonicMs() + 5000
        while !workers.allStopped && Clock.monotonicMs() < deadline {
            drainEvents()
            usleep(5000)
        }
        drainEvents()
        // Submitted batches still being prepared are committed and answered.
        preparer.waitIdle()
        commitPrepared()
        preparer.close()
        preparedSignal.close()
        flushSourceCounters()
        events.close()
    }

    /// One submitted event made ready to store: raw-only events are parsed like a line (their
    /// `format`, when set, is the sender's hint: "json", "cef", …; see ParserChain); others
    /// get the defaults they lack. The partition is always derived here: a client's value is
    /// never trusted.
    ///
    /// A raw event whose sender also set `fields` (an agent: `agent.id`, `host.name`,
    /// `log.file.path`) keeps those as context where the parser found no value.
    static func prepare(_ input: Event, source: String, now: Int64, builder: inout EventBuilder) -> Event {
        var e = input
        if e.parseStatus == .unspecified && (e.fields.isEmpty || !e.raw.isEmpty) {
            let hint = e.format.isEmpty || e.format == "auto" ? nil : e.format
            var parsed = builder.makeEvent(raw: e.raw, source: e.source.isEmpty ? source : e.source, sender: e.sender,
                                           now: now, hint: hint)
            if !e.id.isEmpty { parsed.id = e.id }
            for (k, v) in e.fields where parsed.fields[k] == nil { parsed.fields[k] = v }
            e = parsed
        } else {
            if e.id.isEmpty { e.id = builder.ids.next(now: now) }
            if e.receivedTimeMs == 0 { e.receivedTimeMs = now }
            if e.eventTimeMs == 0 { e.eventTimeMs = now }
            if e.source.isEmpty { e.source = source }
            if e.parseStatus == .unspecified { e.parseStatus = .parsed }
        }
        builder.partition(&e)
        return e
    }

    /// Prepares and encodes a submitted batch. Large batches are split over `builders.count`
    /// threads (each chunk has its own EventBuilder, so ids stay unique).
    static func prepare(_ input: [Event], source: String, now: Int64, builders: inout [EventBuilder]) -> ([Event], [[UInt8]]) {
        let n = input.count
        var events = [Event](repeating: Event(), count: n)
        var payloads = [[UInt8]](repeating: [], count: n)
        let k = n >= 256 ? builders.count : 1
        events.withUnsafeMutableBufferPointer { ebuf in
            payloads.withUnsafeMutableBufferPointer { pbuf in
                builders.withUnsafeMutableBufferPointer { bbuf in
                    // Each chunk writes only its own index range and its own builder.
                    let shared = DisjointChunks(events: ebuf, payloads: pbuf, builders: bbuf)
                    let work: @Sendable (Int) -> Void = { c in
                        for i in (n * c / k)..<(n * (c + 1) / k) {
                            var e = Self.prepare(input[i], source: source, now: now, builder: &shared.builders[c])
                            shared.payloads[i] = e.encoded()
                            // The loop needs the partition and what the source counters count, not the fields.
                            e.fields = [:]; e.original = [:]
                            shared.events[i] = e
                        }
                    }
                    if k == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: k, execute: work) }
                }
            }
        }
        return (events, payloads)
    }

    /// Counts committed events per source (call after the transaction has committed).
    func countSources(_ events: [Event]) {
        for e in events { sources.count(e) }
    }

    static let coalesceEvents = 1000
    static let coalesceMs: Int64 = 10

    /// Commits the events the parse workers built: the loop only appends them to the
    /// outbox, one transaction per up to `batchSize` events, and counts them once committed.
    func drainEvents() {
        var lastSource: [UInt8] = [], sourceName = ""
        while true {
            var batch: [BuiltEvent] = []
            batch.reserveCapacity(min(batchSize + ParseWorkers.maxBatch, 8192))
            // A commit costs about as much as a few hundred appends: while the workers are
            // still delivering, wait up to `coalesceMs` for a fuller batch.
            var deadline: Int64 = 0
            while batch.count < batchSize {
                guard let f = (try? events.receive(dontWait: true)) ?? nil else {
                    if batch.isEmpty || batch.count >= Self.coalesceEvents { break }
                    let now = Clock.monotonicMs()
                    if deadline == 0 { deadline = now + Self.coalesceMs }
                    if now >= deadline { break }
                    _ = zpoll([events], timeoutMs: Int(deadline - now))
                    continue
                }
                guard f.count == 2 else { runtime.count("malformed"); continue }
                if f[0] != lastSource { lastSource = f[0]; sourceName = f[0].utf8String }
                let before = batch.count
                if !BuiltBatch.decode(f[1], source: sourceName, into: &batch) { runtime.count("malformed") }
                // A record naming a partition that does not exist is not stored.
                if batch[before...].contains(where: { $0.partition >= streamNames.count }) {
                    let bad = batch[before...].filter { $0.partition >= streamNames.count }.count
                    batch.removeAll { $0.partition >= streamNames.count }
                    runtime.count("malformed", UInt64(bad))
                }
            }
            if batch.isEmpty { return }
            runtime.count("received", UInt64(batch.count))
            do {
                try runtime.db.transaction {
                    for b in batch {
                        let stream = streamNames[b.partition]
                        try producer.append(stream: stream, topic: stream, payloadType: Event.typeName, payload: b.payload,
                                            now: b.receivedTimeMs)
                    }
                }
                producer.publishCommitted()
                var unparsed = 0
                for b in batch {
                    sources.count(source: b.source, bytes: b.rawBytes, unparsed: b.unparsed, timeMs: b.receivedTimeMs)
                    if b.unparsed { unparsed += 1 }
                }
                runtime.count("accepted", UInt64(batch.count))
                runtime.count("unparsed", UInt64(unparsed))
            } catch {
                producer.discardUncommitted()
                runtime.count("rejected", UInt64(batch.count))
                runtime.logger.error("could not store received lines; they are not acknowledged", ["error": "\(error)", "lines": String(batch.count)])
                return
            }
        }
    }

    /// RPC `ingest.submit`: an EventBatch, acknowledged only after it is committed; a batch id
    /// seen before is acknowledged again without storing twice. The batch is decoded, parsed
    /// and encoded by the preparer while the loop goes on (committing the previous batch);
    /// `commitPrepared` stores it and replies, in arrival order.
    func submit(_ req: RpcRequest, reply: @escaping (RpcResponse) -> Void) {
        let held = submitReplies.reduce(0) { $0 + $1.bytes }
        if !submitReplies.isEmpty && (submitReplies.count >= maxSubmitsInFlight || held + req.payload.count > Self.maxSubmitBytesInFlight) {
            runtime.count("submit.busy")
            reply(.failure(.resourceExhausted, "ingest busy: \(submitReplies.count) batches (\(held / 1024) KiB) being stored; retry later with the same batch id"))
            return
        }
        nextTicket += 1
        submitReplies.append((nextTicket, reply, req.payload.count))
        preparer.enqueue(ticket: nextTicket, payload: req.payload, now: Clock.nowMs())
    }

    /// Commits the batches the preparer has finished and answers their senders. Batches that
    /// finished together (the loop was busy: a slow commit, a CPU taken away) share one
    /// transaction, so a backlog costs one commit instead of one per batch; if that transaction
    /// fails, each batch is tried on its own, so one batch cannot fail the others.
    func commitPrepared() {
        while (try? preparedSignal.receive(dontWait: true)) ?? nil != nil {}
        var group: [(prepared: SubmitPreparer.Prepared, reply: (RpcResponse) -> Void)] = []
        for p in preparer.takeFinished() {
            guard let i = submitReplies.firstIndex(where: { $0.ticket == p.ticket }) else { continue }
            group.append((p, submitReplies.remove(at: i).reply))
        }
        if group.count > 1, let responses = commitTogether(group.map(\.prepared)) {
            for (g, r) in zip(group, responses) { g.reply(r) }
            return
        }
        for g in group { g.reply(commit(g.prepared)) }
    }

    func commit(_ p: SubmitPreparer.Prepared) -> RpcResponse {
        commitTogether([p])?.first ?? .failure(.internal, "batch not stored")
    }

    /// Stores `ps` in one transaction and returns each one's answer, in order; nil when the
    /// transaction failed (nothing stored, nothing counted) and the caller should try each alone.
    /// A single batch gets its failure as its answer instead.
    func commitTogether(_ ps: [SubmitPreparer.Prepared]) -> [RpcResponse]? {
        var responses = [RpcResponse](repeating: RpcResponse(), count: ps.count)
        // Batches stored by this transaction, with their unparsed count.
        var stored: [(index: Int, batch: SubmitPreparer.Batch, unparsed: Int)] = []
        var duplicates = 0, malformed = 0
        let tr0 = Trace.on ? Trace.nowUs() : 0
        do {
            try runtime.db.transaction {
                for (k, p) in ps.enumerated() {
                    let batch: SubmitPreparer.Batch
                    switch p.result {
                    case .failure(let message, let undecodable):
                        if undecodable { malformed += 1 }
                        responses[k] = .failure(.badRequest, message)
                        continue
                    case .success(let b): batch = b
                    }
                    // Checked here, in arrival order, so a resend that arrives while the first copy
                    // is still being prepared (or waits in this very transaction) is also answered
                    // as a duplicate.
                    var ack = EventBatchAck()
                    ack.batchId = batch.batchId
                    if let first = stored.first(where: { $0.batch.batchId == batch.batchId }) {
                        ack.accepted = UInt32(first.batch.events.count); ack.unparsed = UInt32(first.unparsed); ack.duplicate = true
                        duplicates += 1
                        responses[k] = .ok(ack)
                        continue
                    }
                    if let row = try runtime.db.query("SELECT accepted, unparsed FROM agent_batches WHERE batch_id = ?", [.text(batch.batchId)]).first {
                        ack.accepted = UInt32(row.int(0)); ack.unparsed = UInt32(row.int(1)); ack.duplicate = true
                        duplicates += 1
                        responses[k] = .ok(ack)
                        continue
                    }
                    let events = batch.events
                    let unparsed = events.filter { $0.parseStatus == .unparsed }.count
                    for (e, payload) in zip(events, batch.payloads) {
                        let stream = streamNames[Int(e.partition)]
                        try producer.append(stream: stream, topic: stream, payloadType: Event.typeName, payload: payload,
                                            now: e.receivedTimeMs)
                    }
                    try runtime.db.run("INSERT INTO agent_batches(batch_id, agent_id, accepted, unparsed, time_ms) VALUES(?,?,?,?,?)",
                                       [.text(batch.batchId), .text(batch.agentId), .integer(Int64(events.count)), .integer(Int64(unparsed)), .integer(p.now)])
                    ack.accepted = UInt32(events.count); ack.unparsed = UInt32(unparsed)
                    responses[k] = .ok(ack)
                    stored.append((k, batch, unparsed))
                }
            }
        } catch let e as StreamError where e.code == .outboxFull {
            producer.discardUncommitted()
            guard ps.count == 1 else { return nil }
            if case .success(let b) = ps[0].result { runtime.count("rejected", UInt64(b.events.count)) }
            return [.failure(.resourceExhausted, e.message)]
        } catch {
            producer.discardUncommitted()
            guard ps.count == 1 else { return nil }
            runtime.count("errors")
            return [.failure(.internal, "batch not stored: \(error)")]
        }
        let tr1 = Trace.on ? Trace.nowUs() : 0
        producer.publishCommitted()
        if malformed > 0 { runtime.count("malformed", UInt64(malformed)) }
        if duplicates > 0 { runtime.count("duplicate_batches", UInt64(duplicates)) }
        if ps.count > 1 { runtime.count("submit.grouped_batches", UInt64(ps.count)) }
        for s in stored {
            let events = s.batch.events
            // Arrival (ms, the events' receive time), prepared, transaction start and end, published (µs).
            if Trace.on { Trace.emit("submit svc=ingest n=\(events.count) arrive=\(ps[s.index].now) prepared=\(ps[s.index].doneUs) take=\(tr0) commit=\(tr1) pub=\(Trace.nowUs())") }
            countSources(events)
            runtime.count("received", UInt64(events.count))
            runtime.count("accepted", UInt64(events.count))
            runtime.count("unparsed", UInt64(s.unparsed))
        }
        return responses
    }

    func flushSourceCounters() {
        do {
            try sources.flush(runtime.db)
        } catch {
            runtime.logger.warning("source counters not saved; kept in memory for the next flush", ["error": "\(error)"])
        }
    }

    /// RPC `ingest.sources`: per-source counters (stored plus not yet flushed).
    func sourceStatus(_ req: RpcRequest) -> RpcResponse {
        do { _ = try SourcesRequest(decoding: req.payload) } catch {
            runtime.count("malformed")
            return .failure(.badRequest, "\(error)")
        }
        do {
            var r = SourcesResponse()
            r.instance = runtime.config.instance
            r.sources = try sources.status(runtime.db)
            // Refused lines are counted by the workers since start; a transport with only refusals still shows.
            for (transport, n) in registry.refusedTransports {
                if let i = r.sources.firstIndex(where: { $0.source == transport }) { r.sources[i].refused = n }
                else { r.sources.append(SourceStatus(source: transport, refused: n)) }
            }
            r.sources.sort { $0.source < $1.source }
            r.collectors = registry.collectorStatus(nowMs: Clock.nowMs())
            return .ok(r)
        } catch {
            return .failure(.internal, "source counters not readable: \(error)")
        }
    }

    public static func main() -> Never {
        ServiceMain.run(service: "ingest", keys: keys, defaults: defaults) { runtime in
            let s = try IngestService(runtime: runtime)
            return { s.shutdown() }
        }
    }
}

/// Time-ordered unique ids, 32 hex digits: 12 of milliseconds, 8 random per process start,
/// 12 of a counter. One random draw per process instead of a getrandom() per id.
struct EventIdGenerator {
    private let prefix: UInt32 = UInt32.random(in: 0...UInt32.max)
    private var counter: UInt64 = UInt64.random(in: 0..<(1 << 40))
    private static let digits = Array("0123456789abcdef".utf8)

    mutating func next(now: Int64) -> String {
        counter &+= 1
        var out = [UInt8](repeating: 0, count: 32)
        func put(_ v: UInt64, _ at: Int, _ n: Int) {
            var v = v
            for k in stride(from: at + n - 1, through: at, by: -1) { out[k] = Self.digits[Int(v & 15)]; v >>= 4 }
        }
        put(UInt64(max(0, now)), 0, 12)
        put(UInt64(prefix), 12, 8)
        put(counter & 0xFFFF_FFFF_FFFF, 20, 12)
        return String(decoding: out, as: UTF8.self)
    }
}

/// The buffers `prepare` fills in parallel. Each chunk touches only its own index range and
/// its own builder, which is what makes sharing them across threads sound.
private struct DisjointChunks: @unchecked Sendable {
    let events: UnsafeMutableBufferPointer<Event>
    let payloads: UnsafeMutableBufferPointer<[UInt8]>
    let builders: UnsafeMutableBufferPointer<EventBuilder>
}

/// Prepares submitted batches (decode, parse, encode) on its own serial queue, one batch at a
/// time split over `threads` builders, and signals the loop for each finished one. Results
/// come out in the order they went in.
final class SubmitPreparer: @unchecked Sendable {
    static let signalEndpoint = "inproc://ingest-prepared"

    struct Batch {
        var batchId: String
        var agentId: String
        /// Without fields (they are in the payloads).
        var events: [Event]
        var payloads: [[UInt8]]
    }

    struct Prepared {
        var ticket: UInt64
        var now: Int64
        var result: Outcome
        /// When preparation ended (wall µs; only with `Trace.on`).
        var doneUs: Int64 = 0
    }

    enum Outcome {
        case success(Batch)
        /// Refused; `undecodable` when the bytes were not an EventBatch (counted `malformed`).
        case failure(String, undecodable: Bool)
    }

    private let queue = DispatchQueue(label: "ingest.submit-prepare")
    private let context: ZContext
    // Touched only on `queue`.
    private var builders: [EventBuilder]
    private var signal: ZSocket?
    private let lock = NSLock()
    private var finished: [Prepared] = []

    init(context: ZContext, partitions: Int, threads: Int) {
        self.context = context
        builders = (0..<max(1, threads)).map { _ in EventBuilder(partitions: partitions) }
    }

    func enqueue(ticket: UInt64, payload: [UInt8], now: Int64) {
        queue.async { [self] in
            let outcome: Outcome
            do {
                let batch = try EventBatch(decoding: payload)
                if batch.batchId.isEmpty {
                    outcome = .failure("EventBatch.batch_id is required (it makes resends safe)", undecodable: false)
                } else {
                    let source = batch.agentId.isEmpty ? "rpc" : "agent:\(batch.agentId)"
                    let (events, payloads) = IngestService.prepare(batch.events, source: source, now: now, builders: &builders)
                    outcome = .success(Batch(batchId: batch.batchId, agentId: batch.agentId, events: events, payloads: payloads))
                }
            } catch {
                outcome = .failure("\(error)", undecodable: true)
            }
            lock.lock(); finished.append(Prepared(ticket: ticket, now: now, result: outcome, doneUs: Trace.on ? Trace.nowUs() : 0)); lock.unlock()
            if signal == nil {
                signal = try? ZSocket(context, .push)
                try? signal?.connect(Self.signalEndpoint)
            }
            // Never blocks: one signal already waiting is enough to wake the loop.
            _ = try? signal?.send([[]], dontWait: true)
        }
    }

    /// What has been prepared since the last call, in arrival order.
    func takeFinished() -> [Prepared] {
        lock.lock(); defer { lock.unlock() }
        let out = finished
        finished.removeAll()
        return out
    }

    /// Returns when everything enqueued so far is prepared.
    func waitIdle() { queue.sync {} }

    /// Closes the signal socket (before the context is terminated).
    func close() { queue.sync { signal?.close(); signal = nil } }
}

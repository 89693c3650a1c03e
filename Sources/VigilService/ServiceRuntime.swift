import Foundation
import VigilBus
import VigilLog
import VigilStore
import VigilWire

/// What every service has: one ZeroMQ context, its SQLite store, an RPC worker (answering
/// `sys.health`, `sys.metrics` and the service's own methods), an RPC client, a publisher,
/// counters, and one loop thread that owns all of them. SIGTERM/SIGINT stop the loop after
/// the current batch; `close` releases sockets and terminates the context explicitly.
public final class ServiceRuntime {
    public let config: RuntimeConfig
    public let logger: Logger
    public let context: ZContext
    public let db: Database
    public let worker: RpcWorker
    public let client: RpcClient
    public let publisher: Publisher
    public let startedAtMs = Clock.nowMs()
    public var counters: [String: UInt64] = [:]
    public var status = "starting"
    public var version = "0.1.0"

    public private(set) var producer: StreamProducer?
    public private(set) var consumer: StreamConsumer?
    /// WAL checkpoints off the loop thread (`store.checkpoint`, default background). Started by
    /// `run()`, after the service's set-up, which may need the store to itself (a page-size change).
    private let backgroundCheckpoint: Bool
    private var checkpointer: Checkpointer?

    private struct Source { var socket: ZSocket; var handler: () -> Void }
    private struct Timer { var intervalMs: Int64; var next: Int64; var handler: () -> Void }
    private var sources: [Source] = []
    private var timers: [Timer] = []
    private var stopping = false
    private var metricsProviders: [(inout [String: UInt64]) -> Void] = []

    public init(config: RuntimeConfig, logger: Logger? = nil) throws {
        self.config = config
        self.logger = logger ?? Logger(label: config.service, level: config.logLevel).with("instance", config.instance)
        try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: config.dataDirectory + "/run", withIntermediateDirectories: true)
        // ipc:// sockets live here; only the account running Vigil may connect (stated roles are trusted on ipc).
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: config.dataDirectory + "/run")
        context = ZContext()
        let checkpointMode = config.string("store.checkpoint", default: "background")
        guard checkpointMode == "background" || checkpointMode == "inline" else {
            throw ConfigError(code: .badValue, key: "store.checkpoint", message: "expected background or inline, got '\(checkpointMode)'")
        }
        var storeOptions = StoreOptions()
        storeOptions.backgroundCheckpoint = checkpointMode == "background"
        db = try Database(path: config.storePath, options: storeOptions)
        backgroundCheckpoint = storeOptions.backgroundCheckpoint
        worker = try RpcWorker(context: context, endpoint: config.endpoints.rpc,
                               services: [config.service, config.instance], instance: config.instance,
                               limits: config.limits, logger: self.logger)
        client = try RpcClient(context: context, endpoint: config.endpoints.rpc,
                               caller: Identity(name: config.instance, role: "service"), limits: config.limits)
        publisher = try Publisher(context: context, endpoint: config.endpoints.publish, limits: config.limits)
        add(socket: worker.socket) { [unowned self] in self.worker.processAvailable() }
        add(socket: client.socket) { [unowned self] in self.client.processAvailable() }
        every(ms: 250) { [unowned self] in
            self.worker.heartbeat()
            self.client.expire()
        }
        installStandardHandlers()
        if backgroundCheckpoint {
            addMetrics { [unowned self] m in
                guard let c = self.checkpointer?.current else { return }
                m["store.checkpoints"] = c.checkpoints
                m["store.checkpoint_pages"] = c.pages
                m["store.checkpoint_ms_max"] = c.maxMs
                m["store.checkpoint_failures"] = c.failures
                m["store.checkpoint_restarts_busy"] = c.restartsBusy
            }
        }
    }

    public func count(_ name: String, _ n: UInt64 = 1) { counters[name, default: 0] &+= n }

    /// Time one outbox truncation step may take on the loop.
    static let truncationBudgetMs: Int64 = 3

    /// Enables the producer side of reliable streams: answers `stream.replay` and `stream.ack`.
    @discardableResult
    public func enableProducer(maxOutboxRows: Int? = nil, batchStreamPrefixes: [String] = []) throws -> StreamProducer {
        var opts = StreamProducer.Options(producerId: config.instance)
        if let m = maxOutboxRows { opts.maxOutboxRows = m }
        if try config.bool("stream.batch-publish", default: true) { opts.batchStreamPrefixes = batchStreamPrefixes }
        // A batch over the bus's message limit would get the publisher disconnected.
        opts.maxBatchBytes = Int(max(1024, min(Int64(opts.maxBatchBytes), config.limits.maxMessageBytes / 2)))
        let p = try StreamProducer(db: db, publisher: publisher, options: opts, logger: logger)
        producer = p
        worker.handle("stream.replay") { req in
            do {
                return .ok(try p.replay(try ReplayRequest(decoding: req.payload)))
            } catch let e as WireError {
                return .failure(.badRequest, e.description)
            } catch {
                return .failure(.internal, "\(error)")
            }
        }
        // Any consumer acknowledges its own position, external subscribers with a viewer identity included.
        worker.handle("stream.ack", role: .viewer) { req in
            do {
                try p.acknowledge(try AckRequest(decoding: req.payload))
                return RpcResponse()
            } catch let e as WireError {
                return .failure(.badRequest, e.description)
            } catch {
                return .failure(.internal, "\(error)")
            }
        }
        every(ms: 200) { p.announceHeads() }
        // Acknowledged rows go every 5 s, a few ms at a time: while rows remain the next step
        // follows 100 ms later, so events arriving in between never wait behind one long DELETE.
        var nextTruncation = Clock.monotonicMs() + 5000
        every(ms: 100) { [unowned self] in
            let now = Clock.monotonicMs()
            guard now >= nextTruncation else { return }
            do {
                let more = try p.truncateAcknowledged(budgetMs: Self.truncationBudgetMs)
                nextTruncation = now + (more ? 100 : 5000)
            } catch {
                nextTruncation = now + 5000
                self.logger.error("outbox truncation failed", ["error": "\(error)"])
            }
        }
        return p
    }

    /// Enables the consumer side; `process` gets in-order messages and runs inside the
    /// transaction that also records the stream positions (and any produced messages).
    @discardableResult
    public func enableConsumer(topicPrefixes: [String], batchSize: Int = 5000,
                               process: @escaping ([StreamEnvelope]) throws -> Void) throws -> StreamConsumer {
        var opts = StreamConsumer.Options(consumerId: config.instance, topicPrefixes: topicPrefixes)
        let cfg = config
        opts.accepts = { stream in
            // "<prefix>.<partition>" streams are owned by one instance; others by all.
            guard let dot = stream.lastIndex(of: "."), let p = Int(stream[stream.index(after: dot)...]) else { return true }
            return cfg.owns(partition: p)
        }
        let c = try StreamConsumer(context: context, endpoints: config.endpoints, db: db, rpc: client,
                                   options: opts, limits: config.limits, logger: logger)
        consumer = c
        add(socket: c.socket) { [unowned self] in
            c.receiveAvailable()
            self.drain(c, batchSize: batchSize, process: process)
        }
        every(ms: 100) { [unowned self] in
            c.sendAcks()
            self.drain(c, batchSize: batchSize, process: process)
        }
        return c
    }

    /// Runs on the loop after each consumer batch is committed and published, outside its
    /// transaction: for work the batch's messages need not wait for (enrichment's full-text step).
    public var afterConsumerBatch: (() -> Void)?

    /// The fewest messages a consumer transaction takes when more are waiting (see `drain`).
    static let stepBatch = 250

    /// How many of `waiting` messages the next consumer transaction takes (see `drain`).
    public static func transactionSize(waiting: Int, batchSize: Int) -> Int {
        min(batchSize, max(stepBatch, waiting / 4))
    }

    /// Processes what is ready in transactions of a quarter of the waiting messages, at least
    /// `stepBatch` and at most `batchSize`: a short backlog (after a stall of a few hundred ms)
    /// goes out in steps the next service works on meanwhile, instead of one transaction that
    /// publishes nothing until it is all done; a long one (catching up) still starts with large
    /// transactions, which cost less per event, and its freshest end goes in steps too.
    private func drain(_ c: StreamConsumer, batchSize: Int, process: ([StreamEnvelope]) throws -> Void) {
        while c.hasReady {
            let batch = c.takeReady(max: Self.transactionSize(waiting: c.readyCount, batchSize: batchSize))
            let tr0 = Trace.on ? Trace.nowUs() : 0
            var tr1: Int64 = 0
            do {
                try db.transaction {
                    try process(batch)
                    if Trace.on { tr1 = Trace.nowUs() }
                    try c.commitPositions(batch)
                }
                let tr2 = Trace.on ? Trace.nowUs() : 0
                c.didCommit()
                producer?.publishCommitted()
                if Trace.on {
                    // Received, taken, processed, committed, published; pmin/pmax: the producers' times (ms).
                    let tr3 = Trace.nowUs()
                    let pmin = batch.map(\.producedTimeMs).min() ?? 0, pmax = batch.map(\.producedTimeMs).max() ?? 0
                    Trace.emit("batch svc=\(config.service) n=\(batch.count) pmin=\(pmin) pmax=\(pmax) recv=\(c.lastReceiveUs) take=\(tr0) proc=\(tr1) commit=\(tr2) pub=\(tr3)")
                }
                count("processed", UInt64(batch.count))
                afterConsumerBatch?()
            } catch {
                c.didRollback()
                producer?.discardUncommitted()
                count("errors")
                logger.error("batch failed; will replay", ["error": "\(error)", "size": String(batch.count)])
                return
            }
        }
    }

    /// Calls `handler` whenever `socket` is readable.
    public func add(socket: ZSocket, handler: @escaping () -> Void) {
        sources.append(Source(socket: socket, handler: handler))
    }

    /// Adds counters computed when `sys.metrics` is asked (values owned by other threads or
    /// the kernel, read at that moment instead of polled).
    public func addMetrics(_ provider: @escaping (inout [String: UInt64]) -> Void) {
        metricsProviders.append(provider)
    }

    public func every(ms: Int64, _ handler: @escaping () -> Void) {
        timers.append(Timer(intervalMs: ms, next: Clock.monotonicMs() + ms, handler: handler))
    }

    private func installStandardHandlers() {
        worker.handle("sys.health") { [unowned self] _ in
            var h = HealthResponse()
            h.service = config.service
            h.instance = config.instance
            h.status = status
            h.startedTimeMs = startedAtMs
            h.pid = UInt32(ProcessInfo.processInfo.processIdentifier)
            h.version = version
            return .ok(h)
        }
        worker.handle("sys.metrics") { [unowned self] _ in .ok(metrics()) }
    }

    public func metrics() -> MetricsResponse {
        var m = MetricsResponse()
        m.service = config.service
        m.instance = config.instance
        m.counters = counters
        m.counters["rpc.handled"] = worker.handled
        m.counters["rpc.malformed"] = worker.malformed
        m.counters["rpc.denied"] = worker.denied
        for p in metricsProviders { p(&m.counters) }
        if let p = producer {
            m.counters["out.published"] = p.published
            m.counters["out.batches"] = p.publishedBatches
            m.counters["out.replayed"] = p.replayed
            m.counters["out.outbox_rows"] = UInt64(max(0, p.outboxRows))
            m.counters["out.truncated"] = p.truncated
            m.counters["out.corrupt_skipped"] = p.corruptSkipped
            m.counters["out.dropped"] = publisher.dropped
        }
        if let c = consumer {
            let k = c.counters
            m.counters["in.received"] = k.received
            m.counters["in.batches"] = k.batches
            m.counters["in.duplicates"] = k.duplicates
            m.counters["in.gaps"] = k.gaps
            m.counters["in.replay_requests"] = k.replayRequests
            m.counters["in.replayed"] = k.replayed
            m.counters["in.malformed"] = k.malformed
            m.counters["in.truncated_skipped"] = k.truncatedSkipped
            m.lags = c.lags
        }
        return m
    }

    /// Runs the loop until SIGTERM/SIGINT (or `stop()`), then lets the service finish.
    public func run(onStop: () -> Void = {}) {
        status = "ok"
        startBackgroundCheckpoints()
        logger.info("started", ["pid": String(ProcessInfo.processInfo.processIdentifier), "store": config.storePath, "rpc": config.endpoints.rpc])
        while !stopping && !ShutdownSignal.requested {
            runOnce(timeoutMs: 50)
        }
        status = "stopping"
        logger.info("stopping: finishing the current batch")
        onStop()
    }

    /// Starts the store's checkpointer thread (when the store uses one) if it is not running:
    /// `run()` does it; code that drives the service by hand (benches) calls it to store as the
    /// service does — without it the WAL grows until the writer's backstop checkpoint.
    public func startBackgroundCheckpoints() {
        if backgroundCheckpoint && checkpointer == nil { checkpointer = Checkpointer(path: config.storePath) }
    }

    public func runOnce(timeoutMs: Int) {
        let ready = zpoll(sources.map { $0.socket }, timeoutMs: timeoutMs)
        // With the trace on, a handler or timer that holds the loop over 3 ms is reported.
        for (i, r) in ready.enumerated() where r {
            let t0 = Trace.on ? Trace.nowUs() : 0
            sources[i].handler()
            if Trace.on { let d = Trace.nowUs() - t0; if d > 3000 { Trace.emit("slow svc=\(config.service) source=\(i) us=\(d) at=\(t0)") } }
        }
        let now = Clock.monotonicMs()
        for i in timers.indices where timers[i].next <= now {
            timers[i].next = now + timers[i].intervalMs
            let t0 = Trace.on ? Trace.nowUs() : 0
            timers[i].handler()
            if Trace.on { let d = Trace.nowUs() - t0; if d > 3000 { Trace.emit("slow svc=\(config.service) timer=\(i) every=\(timers[i].intervalMs) us=\(d) at=\(t0)") } }
        }
    }

    public func stop() { stopping = true }

    /// Releases everything in order: sockets (with linger), the store, then the context.
    public func close() {
        consumer?.sendAcks(force: true)
        consumer?.close()
        worker.close()
        client.close()
        publisher.close()
        checkpointer?.stop()
        db.close()
        context.terminate()
        logger.info("stopped")
    }
}

/// Entry point shared by the service executables: load config, handle `--print-config`
/// and `--help`, run, exit 0 on a graceful stop and 2 on a configuration error.
public enum ServiceMain {
    public static func run(service: String, keys: [(String, String)] = [], defaults: [String: String] = [:],
                           start: (ServiceRuntime) throws -> (() -> Void)) -> Never {
        ShutdownSignal.install()
        let config: RuntimeConfig
        do {
            config = try RuntimeConfig.load(service: service, serviceKeys: keys)
        } catch {
            exitForBadConfiguration(program: service, error)
        }
        if config.settings["help"] != nil || CommandLine.arguments.contains("--help") {
            var s = "usage: vigil-\(service) [--key value]…\n\n"
            for (k, d) in RuntimeConfig.commonKeys + keys { s += "  --\(k.padding(toLength: 22, withPad: " ", startingAt: 0)) \(d)\n" }
            print(s)
            exit(0)
        }
        if config.settings["print-config"] != nil {
            print(config.json(serviceDefaults: defaults))
            exit(0)
        }
        do {
            try ProcessMemory.apply(config, logger: Logger(label: service))
            let runtime = try ServiceRuntime(config: config)
            let onStop = try start(runtime)
            runtime.run(onStop: onStop)
            runtime.close()
            exit(0)
        } catch let error as ConfigError {
            // A bad setting found while starting exits like one found while loading (status 2).
            exitForBadConfiguration(program: service, error)
        } catch {
            Logger(label: service).error("fatal startup error", ["error": "\(error)"])
            exit(1)
        }
    }
}

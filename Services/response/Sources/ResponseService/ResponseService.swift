import Foundation
import VigilBus
import VigilHTTP
import VigilLog
import VigilService
import VigilStore
import VigilWire

/// Response: consumes the reliable stream `signals` (topics `signals.<criticality>.<tactic>`),
/// renders the templates the signal's rule names, and delivers them through an SQLite outbox
/// (one row per signal × template, written in the transaction that records the stream
/// position) with retries, backoff, per-destination rate limits and dead letters. Every
/// state change is published on `responses.<channel>` (reliable stream `responses`).
public final class ResponseService {
    public static let keys: [(String, String)] = [
        ("templates", "templates file (JSON, docs/responses.md) loaded at start; default <data>/config/templates.json when it exists"),
        ("smtp.url", "mail server: smtp://host:port or smtps://host:port (default smtp://127.0.0.1:25)"),
        ("smtp.starttls", "off, try, required (default try)"),
        ("smtp.user", "SMTP user (optional)"),
        ("smtp.password", "SMTP password (optional; @FILE reads it from a file)"),
        ("smtp.ca-file", "PEM file of the CA that signed the mail server's certificate (default: the system's CAs)"),
        ("smtp.from", "envelope and From: address (default vigil@localhost)"),
        ("pagerduty.url", "PagerDuty Events API v2 endpoint (default https://events.pagerduty.com/v2/enqueue)"),
        ("link.base", "prefix of {{signal.link}} (default vigil://signals/)"),
        ("delivery.threads", "concurrent deliveries (default 4)"),
        ("delivery.timeout", "per-attempt timeout in ms (default 10000)"),
        ("delivery.queue", "deliveries handed to the threads at once (default 8 × delivery.threads)"),
        ("retry.attempts", "attempts before a delivery becomes a dead letter (default 8)"),
        ("retry.base", "first retry delay in ms, doubled each attempt, with jitter (default 1000)"),
        ("retry.max", "largest retry delay in ms (default 300000)"),
        ("rate.per-destination", "sends per second to one destination, 0 = unlimited (default 20)"),
        ("batch-size", "signals per SQLite transaction (default 100)"),
        ("retention.days", "delivered and dead notifications (and their attempts) kept this many days (default 30)"),
    ]
    public static let defaults: [String: String] = [
        "templates": "", "smtp.url": "smtp://127.0.0.1:25", "smtp.starttls": "try", "smtp.from": "vigil@localhost",
        "pagerduty.url": "https://events.pagerduty.com/v2/enqueue", "link.base": "vigil://signals/", "delivery.threads": "4",
        "delivery.timeout": "10000", "retry.attempts": "8", "retry.base": "1000", "retry.max": "300000",
        "rate.per-destination": "20", "batch-size": "100", "retention.days": "30",
    ]

    let runtime: ServiceRuntime
    let producer: StreamProducer
    var templates: [String: Template] = [:]
    /// Response templates defined in config (ConfigTemplates.swift).
    var configMirror: ConfigMirror!
    var policy = DeliveryPolicy()
    var payloadOptions = PayloadOptions()
    var limiter: RateLimiter
    let workers: DeliveryWorkers
    /// Deliveries handed to the workers and not yet recorded.
    var inFlight: Set<String> = []
    let capacity: Int
    /// Delivery threads poke this after each outcome.
    let wake: ZSocket

    public init(runtime: ServiceRuntime) throws {
        self.runtime = runtime
        let cfg = runtime.config
        _ = try runtime.db.migrate(component: "response", Outbox.migrations + [Self.configTemplatesMigration, Outbox.claimMigration])
        producer = try runtime.enableProducer()
        policy.maxAttempts = max(1, try cfg.int("retry.attempts", default: 8))
        policy.baseDelayMs = Int64(max(1, try cfg.int("retry.base", default: 1000)))
        policy.maxDelayMs = Int64(max(1, try cfg.int("retry.max", default: 300_000)))
        let rateText = cfg.string("rate.per-destination", default: "20")
        guard let rate = Double(rateText), rate >= 0 else {
            throw ConfigError(code: .badValue, key: "rate.per-destination", message: "expected a number ≥ 0, got '\(rateText)'")
        }
        policy.ratePerDestination = rate
        limiter = RateLimiter(rate: rate)
        payloadOptions.pagerDutyURL = cfg.string("pagerduty.url", default: payloadOptions.pagerDutyURL)
        payloadOptions.mailFrom = cfg.string("smtp.from", default: payloadOptions.mailFrom)
        payloadOptions.linkBase = cfg.string("link.base", default: payloadOptions.linkBase)
        var sender = SenderConfig()
        sender.mailFrom = payloadOptions.mailFrom
        sender.smtp = SMTPServer(url: cfg.string("smtp.url", default: "smtp://127.0.0.1:25"))
        let tlsText = cfg.string("smtp.starttls", default: "try")
        guard let tls = SMTPServer.TLS(rawValue: tlsText) else {
            throw ConfigError(code: .badValue, key: "smtp.starttls", message: "expected off, try or required, got '\(tlsText)'")
        }
        sender.smtp.startTLS = tls
        sender.smtp.username = cfg.string("smtp.user", default: "")
        sender.smtp.caFile = cfg.string("smtp.ca-file", default: "")
        if !sender.smtp.caFile.isEmpty && !FileManager.default.isReadableFile(atPath: sender.smtp.caFile) {
            throw ConfigError(code: .badFile, key: "smtp.ca-file", message: "cannot read \(sender.smtp.caFile)")
        }
        sender.smtp.password = try Self.secret(cfg.string("smtp.password", default: ""), key: "smtp.password")
        sender.httpTimeoutMs = max(100, try cfg.int("delivery.timeout", default: 10_000))
        let threads = max(1, try cfg.int("delivery.threads", default: 4))
        // The loop hands out work on its timer (every 20 ms) and when a thread finishes, so the
        // queue must hold more than the threads finish in one turn.
        capacity = max(1, try cfg.int("delivery.queue", default: threads * 8))
        let wakeEndpoint = "inproc://response-delivered"
        wake = try ZSocket(runtime.context, .pull)
        try wake.bind(wakeEndpoint)
        workers = DeliveryWorkers(count: threads, config: sender, policy: policy, storePath: runtime.db.path,
                                  context: runtime.context, wakeEndpoint: wakeEndpoint)
        // Sends under way when the last process died: their outcome is unknown, so they go again
        // (nothing lost), flagged and with the same idempotency key (the receiver can drop a repeat).
        let unknown = try runtime.db.transaction { try Outbox.recoverUnknown(nowMs: Clock.nowMs(), runtime.db) }
        if unknown > 0 {
            runtime.count("deliveries.outcome_unknown", UInt64(unknown))
            runtime.logger.warning("sends interrupted by the last stop will be repeated", ["count": String(unknown)])
        }
        templates = try Outbox.loadTemplates(runtime.db)
        try loadTemplatesFile()
        installRPCs()
        runtime.addMetrics { [unowned self] m in
            m["deliveries.in_flight"] = UInt64(self.inFlight.count)
            m["templates"] = UInt64(self.templates.count)
        }
        runtime.add(socket: wake) { [unowned self] in
            while (try? self.wake.receive(dontWait: true)) ?? nil != nil {}
            self.tick()
        }
        runtime.every(ms: 20) { [unowned self] in self.tick() }
        let retentionMs = Int64(max(1, try cfg.int("retention.days", default: 30))) * 86_400_000
        runtime.every(ms: 60_000) { [unowned self] in self.expire(olderThanMs: retentionMs) }
        // "signals", not "signals.": the consumer also subscribes to `stream.head.<prefix>`, and
        // detection announces the head of its stream as `stream.head.signals`. With the dot, a
        // response service started after signals were raised would not see them until the next one.
        configMirror = ConfigMirror(runtime: runtime)
        configMirror.onSnapshot = { [unowned self] snap in self.loadConfigTemplates(snap) }
        try runtime.enableConsumer(topicPrefixes: ["signals", ConfigMirror.topicPrefix], batchSize: try cfg.int("batch-size", default: 100)) { [unowned self] batch in
            try self.process(batch)
        }
        runtime.logger.info("templates loaded", ["templates": String(templates.count)])
    }

    static func secret(_ v: String, key: String) throws -> String {
        guard v.hasPrefix("@") else { return v }
        guard let text = try? String(contentsOfFile: String(v.dropFirst()), encoding: .utf8) else {
            throw ConfigError(code: .badFile, key: key, message: "cannot read \(v.dropFirst())")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `--templates FILE` or `<data>/config/templates.json`: every template valid, or none stored.
    func loadTemplatesFile() throws {
        var path = runtime.config.string("templates", default: "")
        if path.isEmpty {
            let d = runtime.config.dataDirectory + "/config/templates.json"
            guard FileManager.default.fileExists(atPath: d) else { return }
            path = d
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(code: .badFile, key: "templates", message: "cannot read \(path)")
        }
        switch TemplateCodec.decodeFile(data) {
        case .failure(let errors):
            throw ConfigError(code: .badFile, key: "templates", message: "\(path): " + errors.all.map { $0.description }.joined(separator: "; "))
        case .success(let list):
            let now = Clock.nowMs()
            try runtime.db.transaction { for t in list { try Outbox.saveTemplate(t, runtime.db, nowMs: now) } }
            for t in list { templates[t.id] = t }
            runtime.logger.info("templates file loaded", ["file": path, "count": String(list.count)])
        }
    }

    // MARK: signals → outbox

    func process(_ batch: [StreamEnvelope]) throws {
        // While a backlog of signals is consumed batch after batch, status changes are published
        // with each batch (same transaction), not only when the loop is idle.
        let done = workers.takeDone()
        if !done.isEmpty {
            try apply(done)
            for d in done { inFlight.remove(d.job.id) }
        }
        try publishRecorded()
        let now = Clock.nowMs()
        for env in batch {
            if env.stream == ConfigMirror.topicPrefix {
                if let c = try? ConfigChange(decoding: env.payload) { try applyConfigTemplate(c) } else { runtime.count("config.malformed") }
                continue
            }
            guard env.payloadType.isEmpty || env.payloadType == Signal.typeName, let s = try? Signal(decoding: env.payload) else {
                runtime.count("malformed")
                continue
            }
            runtime.count("signals")
            var seen = Set<String>()
            for tid in s.responseTemplateIds where seen.insert(tid).inserted {
                try enqueue(s, templateId: tid, payload: env.payload, nowMs: now)
            }
        }
    }

    /// Renders and stores one delivery (no-op when it exists: the idempotency key is signal × template).
    @discardableResult
    func enqueue(_ s: Signal, templateId: String, payload: [UInt8], nowMs: Int64) throws -> Response {
        var r = Response()
        r.id = Outbox.id(signal: s.id, template: templateId)
        r.signalId = s.id; r.templateId = templateId; r.ruleId = s.ruleId
        r.createdTimeMs = nowMs; r.updatedTimeMs = nowMs; r.nextAttemptTimeMs = nowMs
        var message: RenderedMessage?
        if let t = templates[templateId] {
            r.templateName = t.name; r.channel = t.channel.rawValue
            r.destination = Self.displayDestination(t)
            r.status = .pending
            message = Payloads.render(t, s, responseId: r.id, options: payloadOptions, nowMs: nowMs)
        } else {
            // Visible and retryable once the template exists, never silently dropped.
            r.status = .dead
            r.lastError = "template_not_found: the rule names template '\(templateId)', which does not exist"
            runtime.count("responses.template_missing")
        }
        guard try Outbox.insert(r, message: message, signal: payload, attemptLimit: policy.maxAttempts, runtime.db) else {
            runtime.count("responses.duplicate_ignored")
            return try Outbox.get(r.id, runtime.db) ?? r
        }
        runtime.count("responses.created")
        try publish(r)
        return r
    }

    func publish(_ r: Response) throws {
        let channel = r.channel.isEmpty ? "unknown" : r.channel
        do {
            try producer.append(stream: "responses", topic: "responses.\(channel)", payloadType: Response.typeName, payload: r.encoded())
        } catch let e as StreamError where e.code == .outboxFull {
            // Status is history too (kept in the store); a full stream outbox must not stop deliveries.
            runtime.count("responses.status_unpublished")
        }
    }

    // MARK: delivery loop

    func tick() {
        let done = workers.takeDone()
        // The store says whether a status waits (recorded by a thread, recovered at start, or
        // left by a rolled-back batch): a lookup in a partial index, nearly always empty.
        if !done.isEmpty || (try? Outbox.hasUnpublished(runtime.db)) != false { record(done) }
        guard inFlight.count < capacity else { return }
        let now = Clock.nowMs()
        do {
            for d in try Outbox.due(runtime.db, nowMs: now, limit: capacity * 4, excluding: inFlight) {
                guard inFlight.count < capacity else { break }
                guard limiter.take(Self.destinationKey(d.message), nowMs: Clock.monotonicMs()) else { runtime.count("deliveries.rate_limited"); continue }
                inFlight.insert(d.id)
                workers.submit(.init(id: d.id, attempt: d.attempts + 1, attemptLimit: d.attemptLimit, message: d.message))
            }
        } catch {
            runtime.logger.error("reading due deliveries failed", ["error": "\(error)"])
        }
    }

    /// What lists show: Slack webhook URLs and PagerDuty routing keys are credentials.
    static func displayDestination(_ t: Template) -> String {
        switch t.channel {
        case .pagerduty: return "routing key …" + String(t.destination.suffix(4))
        case .slack:
            let host = URLComponents(string: t.destination)?.host ?? "?"
            return "https://\(host)/…" + String(t.destination.suffix(4))
        case .email, .webhook: return t.destination
        }
    }

    /// Retention: finished notifications older than the limit go, with their attempts.
    func expire(olderThanMs: Int64) {
        let cutoff = Clock.nowMs() - olderThanMs
        do {
            let n = try runtime.db.transaction { () -> Int in
                try runtime.db.run("DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE status IN (2, 3) AND updated_ms < ?)", [.integer(cutoff)])
                return try runtime.db.run("DELETE FROM deliveries WHERE status IN (2, 3) AND updated_ms < ?", [.integer(cutoff)])
            }
            if n > 0 { runtime.count("responses.expired", UInt64(n)) }
        } catch {
            runtime.logger.error("retention failed", ["error": "\(error)"])
        }
    }

    static func destinationKey(_ m: RenderedMessage) -> String { m.channel.rawValue + " " + m.target }

    /// Outcomes the delivery threads could not record are recorded here; status changes go on
    /// the `responses` stream; counters. One transaction.
    func record(_ done: [DeliveryWorkers.Done]) {
        do {
            try runtime.db.transaction {
                try apply(done)
                try publishRecorded()
            }
            producer.publishCommitted()
        } catch {
            producer.discardUncommitted()
            // Not recorded: the rows stay claimed and pending, so their next send (now, or after
            // a restart) is flagged as a redelivery, with the same idempotency key.
            runtime.logger.error("recording delivery outcomes failed", ["error": "\(error)"])
        }
        for d in done { inFlight.remove(d.job.id) }
    }

    /// Records what the delivery threads did not, and counts every outcome (caller's transaction).
    func apply(_ done: [DeliveryWorkers.Done]) throws {
        let now = Clock.nowMs()
        for d in done {
            if !d.recordError.isEmpty {
                runtime.logger.warning("a delivery thread could not write to the store", ["id": d.job.id, "error": d.recordError])
            }
            var status = d.recorded
            if status == nil {
                let j = d.job
                status = try Outbox.recordOutcome(id: j.id, attempt: j.attempt, attemptLimit: j.attemptLimit, outcome: d.outcome,
                                                  startedMs: d.startedMs, durationMs: d.durationMs, policy: policy, nowMs: now, runtime.db)
            }
            runtime.count(status == .delivered ? "deliveries.delivered" : status == .dead ? "deliveries.dead" : "deliveries.retried")
        }
    }

    /// Status changes recorded but not yet on the `responses` stream (caller's transaction;
    /// the caller publishes after its commit).
    func publishRecorded() throws {
        for r in try Outbox.unpublished(runtime.db, limit: 1000) {
            try publish(r)
            try Outbox.markPublished(r.id, runtime.db)
        }
    }

    /// Graceful stop: let in-flight deliveries finish (up to 5 s) and record them.
    func drain() {
        let deadline = Clock.monotonicMs() + 5000
        while !inFlight.isEmpty && Clock.monotonicMs() < deadline {
            let done = workers.takeDone()
            if !done.isEmpty { record(done) } else { usleep(10_000) }
        }
        workers.stop()
        wake.close()
    }

    public static func main() -> Never {
        ServiceMain.run(service: "response", keys: keys, defaults: defaults) { runtime in
            let service = try ResponseService(runtime: runtime)
            return { service.drain() }
        }
    }
}

import Foundation
import VigilBus
import VigilLog
import VigilService
import VigilEvents
import VigilIntel
import VigilStore
import VigilWire

/// Enrichment: consumes `events.parsed.*` (the partitions this instance owns), adds asset
/// values in the event's `enriched` section, stores every event (parsed or not) in its
/// searchable store, and publishes `events.enriched.<p>`. Storing, enriching, publishing to
/// the outbox and recording the stream position happen in one transaction.
public final class EnrichmentService {
    public static let keys: [(String, String)] = [
        ("assets", "CSV or JSON file of assets imported at start: id,name,hostname,ip,criticality[,mac,agent_id,tags,os,owner] (optional)"),
        ("feeds", "threat-intel feeds file (JSON, docs/enrichment.md); default <data>/config/feeds.json when it exists"),
        ("batch-size", "most events per SQLite transaction (default 5000; each takes a quarter of what waits, at least 250)"),
        ("outbox.max-rows", "unacknowledged events kept before refusing input (default 2000000)"),
        ("store.page-size", "SQLite page size of a new store in bytes (power of two, 4096–65536; default 16384); an existing store keeps its own"),
        ("fts.batch", "stored events indexed for full-text search together, right after the consumer batch that reaches this many is committed and published (default 2000; 1 indexes after every consumer batch); searches index what waits first"),
        ("fts.interval", "milliseconds after which events waiting for the full-text index are indexed anyway (default 1000)"),
    ] + RetentionPolicy.keys
    public static let defaults: [String: String] = ["assets": "", "feeds": "", "batch-size": "5000", "outbox.max-rows": "2000000",
                                                    "store.page-size": "16384",
                                                    "fts.batch": "2000", "fts.interval": "1000"]
        .merging(RetentionPolicy.defaults) { a, _ in a }

    /// The store's schema (public for bench/qql-bench, which measures this very store).
    public static let migrations: [Migration] = [
        Migration(1, "events and assets", """
        CREATE TABLE events(id TEXT PRIMARY KEY, time_ms INTEGER NOT NULL, received_ms INTEGER NOT NULL,
            source TEXT NOT NULL, format TEXT NOT NULL, status INTEGER NOT NULL, parse_error TEXT NOT NULL,
            raw BLOB NOT NULL, fields TEXT NOT NULL, original TEXT NOT NULL, enriched TEXT NOT NULL,
            partition INTEGER NOT NULL) WITHOUT ROWID;
        CREATE INDEX events_time ON events(time_ms);
        CREATE TABLE assets(id TEXT PRIMARY KEY, name TEXT NOT NULL, hostname TEXT NOT NULL, ip TEXT NOT NULL,
            criticality TEXT NOT NULL);
        """),
        Migration(2, "searchable parse status", """
        ALTER TABLE events ADD COLUMN parse_status TEXT NOT NULL DEFAULT '';
        UPDATE events SET parse_status = CASE status WHEN 1 THEN 'parsed' WHEN 2 THEN 'unparsed' ELSE '' END;
        """),
        Migration(3, "asset inventory columns, directory users, threat-intel indicators and feeds", """
        ALTER TABLE assets ADD COLUMN mac TEXT NOT NULL DEFAULT '';
        ALTER TABLE assets ADD COLUMN agent_id TEXT NOT NULL DEFAULT '';
        ALTER TABLE assets ADD COLUMN tags TEXT NOT NULL DEFAULT '';
        ALTER TABLE assets ADD COLUMN os TEXT NOT NULL DEFAULT '';
        ALTER TABLE assets ADD COLUMN owner TEXT NOT NULL DEFAULT '';
        ALTER TABLE assets ADD COLUMN updated_ms INTEGER NOT NULL DEFAULT 0;
        UPDATE assets SET criticality = lower(criticality);
        CREATE TABLE directory_users(id TEXT PRIMARY KEY, sam TEXT NOT NULL, upn TEXT NOT NULL, email TEXT NOT NULL,
            sid TEXT NOT NULL, display_name TEXT NOT NULL, department TEXT NOT NULL, title TEXT NOT NULL, manager TEXT NOT NULL,
            groups TEXT NOT NULL, privileged INTEGER NOT NULL, updated_ms INTEGER NOT NULL);
        CREATE TABLE intel_indicators(feed TEXT NOT NULL, type TEXT NOT NULL, value TEXT NOT NULL, confidence INTEGER NOT NULL,
            first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL,
            PRIMARY KEY(feed, type, value)) WITHOUT ROWID;
        CREATE INDEX intel_indicators_value ON intel_indicators(value);
        CREATE TABLE intel_feeds(name TEXT PRIMARY KEY, last_load_ms INTEGER NOT NULL, last_attempt_ms INTEGER NOT NULL,
            last_error TEXT NOT NULL, refused INTEGER NOT NULL, refused_samples TEXT NOT NULL, etag TEXT NOT NULL,
            last_modified TEXT NOT NULL);
        """),
        EventFullText.migration,
        AssetStore.historyMigration,
        EventFullText.deferredMigration,
        EventFullText.incrementalMergeMigration,
    ]

    let runtime: ServiceRuntime
    let producer: StreamProducer
    public let enricher = Enricher()
    var intel: ThreatIntel!
    var queries: ListQueries?
    /// Special objects from the config service, for `@name` in event searches.
    var configMirror: ConfigMirror!
    var listQueries: [ListQueries] = []
    var retention: Retention!
    /// The `seq` (FTS rowid) the next stored event gets; the loop thread owns it.
    var nextSeq: Int64 = 1
    /// Events stored before the full-text index existed are still being indexed.
    var fullTextBackfilling = false
    /// The JSON columns of the event being stored (buffers reused from event to event).
    let storeRow = StoreRow()
    /// Events below this `seq` are in the full-text index; `nextSeq` and above are not stored yet.
    /// Read back from the store at every use that matters (a rolled-back batch leaves it behind).
    var ftsIndexedBelow: Int64 = 1
    /// Index once this many stored events wait (`fts.batch`), or after `fts.interval` ms.
    var ftsBatch: Int64 = 2000
    var ftsIntervalMs: Int64 = 1000
    var ftsLastIndexMs: Int64 = 0
    /// After a failed step, the loop's next try (monotonic ms; `fullTextStep`): a step indexes
    /// all that waits, so a lasting failure would otherwise spend ever more of the loop on steps
    /// that roll back.
    var ftsRetryAtMs: Int64 = 0
    var ftsRetryDelayMs: Int64 = 0
    /// Events indexed per backfill transaction.
    static let backfillBatch = 5000

    public init(runtime: ServiceRuntime) throws {
        self.runtime = runtime
        let cfg = runtime.config
        try Self.setPageSize(runtime.db, bytes: try cfg.int("store.page-size", default: 16384))
        try runtime.db.migrate(component: "enrichment", Self.migrations)
        producer = try runtime.enableProducer(maxOutboxRows: try cfg.int("outbox.max-rows", default: 2_000_000),
                                                  batchStreamPrefixes: ["events.enriched."])
        let assetsFile = cfg.string("assets", default: "")
        if !assetsFile.isEmpty { try importAssetsAtStart(path: assetsFile) }
        try reloadAssets()
        try reloadUsers()
        // Without --feeds, <data>/config/feeds.json is read when it exists — also when it is
        // created later (`vigil intel reload`, `vigil demo`).
        let configuredFeeds = cfg.string("feeds", default: "")
        intel = ThreatIntel(db: runtime.db, logger: runtime.logger,
                            feedsPath: configuredFeeds.isEmpty ? cfg.dataDirectory + "/config/feeds.json" : configuredFeeds,
                            feedsOptional: configuredFeeds.isEmpty)
        intel.onChange = { [unowned self] m in self.enricher.threats = m }
        intel.count = { [unowned self] name in self.runtime.count(name) }
        try intel.start(nowMs: Clock.nowMs())
        runtime.every(ms: 250) { [unowned self] in self.intel.tick(nowMs: Clock.nowMs()) }
        intel.followsConfigService = true
        configMirror = ConfigMirror(runtime: runtime)
        followConfigFeeds()
        try startRetention()
        try installQueries()
        try startFullText()
        installEnrichmentRPCs()
        // `directory` is user-analytics' stream of directory users (topic `directory.changed`).
        try runtime.enableConsumer(topicPrefixes: ["events.parsed.", ConfigMirror.topicPrefix, Self.directoryStream], batchSize: try cfg.int("batch-size", default: 5000)) { [unowned self] batch in
            try self.process(batch)
        }
    }

    /// Event rows (raw line plus three JSON columns) are 0.8–1.2 KB. In the WITHOUT ROWID `events`
    /// table with SQLite's default 4 KiB pages, a row over about 1,000 bytes keeps only part of
    /// itself in the leaf and writes the rest to an overflow page of its own, and a leaf holds three
    /// rows; 16 KiB pages keep rows up to about 4 KB whole and cut the pages written per event.
    /// Only for a new store (before the events table exists): SQLite cannot change the page size of
    /// a WAL database, so the switch goes through rollback-journal mode and a VACUUM of the still
    /// nearly empty file. An existing store keeps its page size.
    static func setPageSize(_ db: Database, bytes: Int) throws {
        guard bytes >= 4096, bytes <= 65536, bytes & (bytes - 1) == 0 else {
            throw ConfigError(code: .badValue, key: "store.page-size", message: "\(bytes) is not a power of two between 4096 and 65536")
        }
        guard try db.scalar("SELECT 1 FROM sqlite_schema WHERE name = 'events'") == nil,
              try db.scalar("PRAGMA page_size")?.int64 != Int64(bytes) else { return }
        try db.execute("PRAGMA journal_mode=DELETE")
        try db.execute("PRAGMA page_size=\(bytes)")
        try db.execute("VACUUM")
        try db.execute("PRAGMA journal_mode=WAL")
    }

    /// Threat-intel feeds defined in config (`intel_feed` objects) join the feeds file's.
    func followConfigFeeds() {
        let feeds = ConfigObjectMirror(kinds: ["intel_feed"])
        let apply = { [unowned self] in
            var list: [FeedConfig] = []
            for o in feeds.all(kind: "intel_feed") {
                switch FeedConfig.fromConfigObject(o.json) {
                case .success(let f): list.append(f)
                case .failure(let e):
                    self.runtime.count("intel.config_errors")
                    self.runtime.logger.error("intel_feed object refused", ["id": o.id, "error": "\(e)"])
                }
            }
            self.intel.setServiceFeeds(list, nowMs: Clock.nowMs())
        }
        configMirror.onChange = { c in if feeds.apply(c) { apply() } }
        configMirror.onSnapshot = { s in feeds.load(s); apply() }
    }

    func startRetention() throws {
        let r = Retention(policy: try RetentionPolicy(runtime.config), db: runtime.db, logger: runtime.logger)
        retention = r
        runtime.every(ms: r.policy.intervalMs) { [unowned self] in
            do { try r.tick(nowMs: Clock.nowMs()) } catch {
                self.runtime.count("retention.errors")
                self.runtime.logger.error("retention failed; retried next round", ["error": "\(error)"])
            }
        }
        runtime.addMetrics { m in
            m["retention.deleted_age"] = r.deletedByAge
            m["retention.deleted_size"] = r.deletedBySize
            m["store.bytes"] = UInt64(max(0, r.storeBytes))
            m["store.event_bytes"] = UInt64(max(0, r.eventBytes))
        }
    }

    /// Takes the next `seq`; indexes what a crash left waiting for the full-text index; keeps the
    /// deferred indexing going (`fts.batch`, `fts.interval`, before every event query); and, when an
    /// upgraded store still has unindexed events, indexes them in batches on the loop (between
    /// consumer batches); until that ends, free-text searches use the substring scan so they still
    /// see every event.
    func startFullText() throws {
        let cfg = runtime.config
        ftsBatch = Int64(max(1, try cfg.int("fts.batch", default: 2000)))
        ftsIntervalMs = Int64(max(1, try cfg.int("fts.interval", default: 1000)))
        try EventFullText.prepareMessages(runtime.db)
        let waiting = try EventFullText.indexedBelow(runtime.db)
        // Never below the index's mark: the triggers take a seq under it for an indexed row.
        nextSeq = max(try EventFullText.nextSeq(runtime.db), waiting)
        if waiting < nextSeq {
            // Stored before a stop or crash, not indexed yet: indexed from their stored text.
            try runtime.db.transaction { try EventFullText.index(runtime.db, seqs: waiting..<nextSeq) }
            runtime.logger.info("indexed events stored before the restart", ["events": String(nextSeq - waiting)])
        }
        ftsIndexedBelow = nextSeq
        ftsLastIndexMs = Clock.nowMs()
        queries?.beforeQuery = { [unowned self] in try self.indexWaitingEvents() }
        runtime.afterConsumerBatch = { [unowned self] in
            guard self.nextSeq - self.ftsIndexedBelow >= self.ftsBatch, Clock.monotonicMs() >= self.ftsRetryAtMs else { return }
            self.fullTextStep("indexing", errors: "fts.index_errors") { try self.indexWaitingEvents() }
        }
        runtime.every(ms: 100) { [unowned self] in
            guard self.nextSeq > self.ftsIndexedBelow, Clock.nowMs() - self.ftsLastIndexMs >= self.ftsIntervalMs,
                  Clock.monotonicMs() >= self.ftsRetryAtMs else { return }
            self.fullTextStep("indexing", errors: "fts.index_errors") { try self.indexWaitingEvents() }
        }
        guard try EventFullText.pending(runtime.db) else { return }
        fullTextBackfilling = true
        queries?.fullTextReady = false
        runtime.logger.info("indexing stored events for full-text search", [:])
        runtime.every(ms: 20) { [unowned self] in
            guard self.fullTextBackfilling, Clock.monotonicMs() >= self.ftsRetryAtMs else { return }
            self.fullTextStep("backfill", errors: "fts.backfill_errors") {
                // Backfill hands out seqs from nextSeq on: what waits below it goes first.
                try self.indexWaitingEvents()
                let r = try EventFullText.backfill(self.runtime.db, from: self.nextSeq, limit: Self.backfillBatch)
                self.nextSeq = r.next
                self.ftsIndexedBelow = r.next
                // A short batch was the last one (the loop thread also stores new events, with seq).
                if r.indexed < Self.backfillBatch {
                    self.fullTextBackfilling = false
                    self.queries?.fullTextReady = true
                    self.runtime.logger.info("full-text index complete", [:])
                }
                self.runtime.count("fts.backfilled", UInt64(r.indexed))
            }
        }
    }

    /// Indexes every stored event still waiting for the full-text index (one statement), in the
    /// open transaction or in its own.
    func indexWaitingEvents() throws {
        let db = runtime.db
        // With the trace on: events, wall µs of the statement and of the whole step (commit
        // included when the step has its own transaction), and the thread's CPU µs meanwhile —
        // wall well above CPU means the loop waited for a core.
        let t0 = Trace.on ? Trace.nowUs() : 0, cpu0 = Trace.on ? Clock.threadCPUUs() : 0
        var t1: Int64 = 0, events: Int64 = 0
        try db.transaction {
            let from = try EventFullText.indexedBelow(db)
            events = nextSeq - from
            try EventFullText.index(db, seqs: from..<nextSeq, messagesFromMemory: true)
            if Trace.on { t1 = Trace.nowUs() }
        }
        if Trace.on && events > 0 {
            let t2 = Trace.nowUs()
            Trace.emit("fts svc=enrichment n=\(events) index=\(t1 - t0) step=\(t2 - t0) cpu=\(Clock.threadCPUUs() - cpu0) at=\(t0)")
        }
        ftsIndexedBelow = nextSeq
        ftsLastIndexMs = Clock.nowMs()
    }

    /// `--assets FILE` (CSV, or JSON by extension): unreadable is a configuration error; rows
    /// that are wrong are logged and skipped so one bad line does not stop the service.
    func importAssetsAtStart(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(code: .badFile, key: "assets", message: "cannot read \(path)")
        }
        let r = try importAssets(ImportRequest(format: path.lowercased().hasSuffix(".json") ? "json" : "csv", content: [UInt8](data), origin: path))
        for e in r.errors { runtime.logger.warning("asset row skipped", ["error": e]) }
        runtime.logger.info("assets imported", ["file": path, "count": String(r.imported), "rejected": String(r.rejected)])
    }

    func reloadAssets() throws { enricher.assets = AssetIndex(versions: try AssetStore.loadVersions(runtime.db)) }
    func reloadUsers() throws { enricher.users = UserIndex(try UserStore.loadAll(runtime.db)) }

    func installQueries() throws {
        let queries = try ListQueries(catalog: EventCatalog.catalog, db: runtime.db)
        queries.specialObjects = configMirror.specialObjects
        self.queries = queries
        queries.install(on: runtime.worker) { rows, next in
            var page = EventPage()
            page.events = rows.map(EventRows.event(from:))
            page.nextCursor = next
            return .ok(page)
        }
        runtime.worker.handle("events.get") { [unowned self] req in
            guard let get = try? GetRequest(decoding: req.payload), !get.id.isEmpty else {
                return .failure(.badRequest, "events.get takes a GetRequest with the event id")
            }
            do {
                guard let row = try self.runtime.db.query("SELECT \(EventRows.columns) FROM events WHERE id = ?", [.text(get.id)]).first else {
                    return .failure(.notFound, "no event with id '\(get.id)'")
                }
                return .ok(EventRows.event(from: row))
            } catch {
                return .failure(.internal, "\(error)")
            }
        }
    }

    static let directoryStream = "directory"

    /// The published event: the received bytes plus the `enriched` map entries, instead of
    /// encoding the whole event again (that was about 7 % of the stage's CPU). Protobuf map
    /// fields merge when messages are concatenated, so any protobuf decoder reads exactly `e`
    /// from it, and fields unknown to this version pass through. An event nothing was added to
    /// is published as received.
    ///
    /// A received event that already had `enriched` entries (rare: a resend, a reparse) gets its
    /// map replaced instead (`Event.replacingEnriched`): appending would repeat their keys, and a
    /// decoder that keeps map entries as a list (protobuf-c's, which C subscribers use) would see
    /// a key twice.
    static func enrichedPayload(_ received: [UInt8], _ e: Event, receivedEnriched: [String: String]) -> [UInt8] {
        if e.enriched == receivedEnriched { return received }
        // It was decoded once already, so replacing cannot fail; appending is the fallback anyway.
        if !receivedEnriched.isEmpty, let replaced = try? Event.replacingEnriched(in: received, with: e.enriched) { return replaced }
        var only = Event()
        only.enriched = e.enriched
        return received + only.encoded()
    }

    func process(_ batch: [StreamEnvelope]) throws {
        let now = Clock.nowMs()
        let before = enricher.counts
        var directoryChanged = false
        for env in batch {
            if configMirror.accept(env) { continue }
            if env.stream == Self.directoryStream {
                // Users synced by user-analytics join the replica the `vigil users import` path fills.
                guard let u = try? DirectoryUser(decoding: env.payload), !u.id.isEmpty else {
                    runtime.count("directory.malformed")
                    runtime.logger.warning("undecodable directory user", ["producer": env.producerId, "seq": String(env.sequence)])
                    continue
                }
                try UserStore.save(u, runtime.db)
                runtime.count("directory.users_received")
                directoryChanged = true
                continue
            }
            // The maps' JSON columns are written from the decoder's entries as they arrive
            // (StoreRow); `original` is only stored, so it is not built as a dictionary.
            let row = storeRow
            row.reset()
            guard var e = try? Event(decoding: env.payload, keepOriginal: false, entry: { row.add($0, key: $1, value: $2) }) else {
                runtime.count("malformed")
                runtime.logger.warning("undecodable event payload", ["producer": env.producerId, "stream": env.stream, "seq": String(env.sequence)])
                continue
            }
            if Self.isAgentInventory(e) { try applyAgentInventory(e, nowMs: now) }
            let enrichedBefore = e.enriched
            enricher.enrich(&e, nowMs: now)
            // A reparse may replace an event whose indexing still waits (stored earlier in this
            // batch or in an earlier one): index those first, so the update trigger finds what it
            // removes and the message kept for it is not used for the new text.
            let reparsed = e.fields["event.reparsed"] != nil
            if reparsed { try indexWaitingEvents() }
            row.finish(enriched: e.enriched)
            let inserted = try EventRows.insert(e, row: row, seq: nextSeq, into: runtime.db)
            // The full-text message column of this event, when it is not NULL (rare: a message the
            // raw line does not contain), kept until its batch is indexed (EventFullText).
            if inserted > 0, let m = e.raw.withUnsafeBytes({ raw in
                EventRows.isText(raw) ? EventFullText.message(fields: e.fields, raw: raw) : nil
            }) {
                try EventFullText.addMessage(runtime.db, seq: nextSeq, m)
            }
            // A replaced event keeps its seq (the update trigger re-indexes it); gaps are harmless.
            nextSeq += 1
            // A known id replaces the stored event only when it was unparsed and is now parsed
            // (ingest.reparse); any other repeat should be impossible with reliable streams and
            // is counted so a test or an operator would see it.
            if inserted == 0 { runtime.count("events.duplicate_ignored"); continue }
            if reparsed { runtime.count("events.reparsed") }
            let stream = "events.enriched.\(e.partition)"
            try producer.append(stream: stream, topic: stream, payloadType: Event.typeName,
                                payload: Self.enrichedPayload(env.payload, e, receivedEnriched: enrichedBefore))
        }
        // Events later in this batch were enriched with the previous replica; the next batch sees the new one.
        if directoryChanged { try reloadUsers() }
        let after = enricher.counts
        runtime.count("enriched.asset", UInt64(after.assets - before.assets))
        runtime.count("enriched.user", UInt64(after.users - before.users))
        runtime.count("enriched.threat", UInt64(after.threats - before.threats))
    }

    /// One consumer batch the way the consumer loop runs it (one transaction, then publish), minus
    /// the stream positions: bench/enrichment-bench --store measures the stage's store path with it.
    public func processCommitted(_ batch: [StreamEnvelope]) throws {
        do {
            try runtime.db.transaction { try process(batch) }
        } catch {
            producer.discardUncommitted()
            throw error
        }
        producer.publishCommitted()
        // What the loop runs after each consumer batch (ServiceRuntime.drain): stored events enter
        // the full-text index together, every `fts.batch` of them — FTS5 writes a segment per
        // statement, and fewer, larger ones cost less per event (EventFullText) — after the batch
        // that completes them is committed and published, in a transaction of their own: a step
        // takes ≈ 10–20 ms on the loop, and the batch's events (a latency probe among them, at
        // 10k events/s) no longer wait for it to be published.
        runtime.afterConsumerBatch?()
    }

    /// A full-text step the loop runs on its own (after a consumer batch, on the timer, the
    /// backfill). The events are stored either way: after a failure they wait, counted in
    /// `errors`, and the loop's steps pause `fts.interval`, doubling with each further failure up
    /// to a minute (or `fts.interval` if longer); a query still indexes first and reports its own
    /// error.
    func fullTextStep(_ what: String, errors: String, _ body: () throws -> Void) {
        do {
            try body()
            ftsRetryDelayMs = 0
        } catch {
            ftsRetryDelayMs = min(max(60_000, ftsIntervalMs), max(ftsIntervalMs, ftsRetryDelayMs * 2))
            ftsRetryAtMs = Clock.monotonicMs() + ftsRetryDelayMs
            runtime.count(errors)
            runtime.logger.error("full-text \(what) failed; tried again later", ["error": "\(error)", "retry_ms": String(ftsRetryDelayMs)])
        }
    }

    public static func main() -> Never {
        ServiceMain.run(service: "enrichment", keys: keys, defaults: defaults) { runtime in
            let service = try EnrichmentService(runtime: runtime)
            return { withExtendedLifetime(service) {} }
        }
    }
}

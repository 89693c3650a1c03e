import Foundation
import VigilBus
import VigilEvents
import VigilLog
import VigilQuery
import VigilRules
import VigilService
import VigilStore
import VigilWire

/// Detection: consumes `events.enriched.*`, runs the rule engine, stores signals and publishes
/// them on `signals.<criticality>.<tactic>` (reliable stream `signals`). Rules live in the
/// store and change through RPCs without a restart. Correlation state is checkpointed in the
/// same transaction as the stream positions and the signals, so a restart resumes exactly.
public final class DetectionService {
    public static let keys: [(String, String)] = [
        ("batch-size", "most events per SQLite transaction (default 5000; each takes a quarter of what waits, at least 250)"),
        ("outbox.max-rows", "unacknowledged signals kept before refusing input (default 2000000)"),
        ("rules.lateness", "how late (event time) an event may arrive and still count in windows (default 60s)"),
        ("rules.max-groups", "correlation groups kept per rule before the oldest are evicted (default 10000)"),
        ("rules.library", "directory of library rule files loaded at first start (default: found next to the program)"),
    ]
    public static let defaults: [String: String] = ["batch-size": "5000", "outbox.max-rows": "2000000", "rules.lateness": "60s",
                                                    "rules.max-groups": "10000", "rules.library": ""]

    let runtime: ServiceRuntime
    let producer: StreamProducer
    let engine: DetectionEngine
    let store: RuleStore
    /// Batches committed by this process; compared with the stored count to notice a rollback.
    var batches: Int64 = 0
    var signalQueries: ListQueries?
    var ruleQueries: ListQueries?
    /// Live special objects (`@name` in conditions) from the config service.
    var configMirror: ConfigMirror!
    /// The shipped library as read at start (library.* RPCs), sorted by name.
    var library: [Rule] = []

    public init(runtime: ServiceRuntime) throws {
        self.runtime = runtime
        let cfg = runtime.config
        _ = try runtime.db.migrate(component: "detection", Schema.migrations)
        var options = EngineOptions()
        let lateness = cfg.settings["rules.lateness"] ?? "60s"
        guard let l = Durations.parse(lateness) ?? Int64(lateness) else {
            throw ConfigError(code: .badValue, key: "rules.lateness", message: "'\(lateness)' is not a duration (e.g. 30s, 2m)")
        }
        options.latenessMs = l
        options.maxGroupsPerRule = max(10, try cfg.int("rules.max-groups", default: 10_000))
        engine = DetectionEngine(options: options)
        configMirror = ConfigMirror(runtime: runtime)
        engine.specialObjects = configMirror.specialObjects
        store = RuleStore(db: runtime.db)
        producer = try runtime.enableProducer(maxOutboxRows: try cfg.int("outbox.max-rows", default: 2_000_000))
        library = readLibrary(cfg.settings["rules.library"])
        try loadLibraryOnce()
        for r in try store.all() { try engine.upsert(r) }
        try restoreState()
        try installQueries()
        installRuleRPCs()
        installLibraryRPCs()
        installSignalRPCs()
        try runtime.enableConsumer(topicPrefixes: ["events.enriched.", ConfigMirror.topicPrefix], batchSize: try cfg.int("batch-size", default: 5000)) { [unowned self] batch in
            try self.process(batch)
        }
        // Absence rules also close on the wall clock, so a stream that goes quiet still fires them.
        runtime.every(ms: 1000) { [unowned self] in self.absenceTick() }
        runtime.logger.info("rules loaded", ["rules": String(engine.rules.count), "active": String(engine.activeRuleCount),
                                             "groups": String(engine.groupCount)])
    }

    /// First start only: the library goes into the store as written (inactive unless the file
    /// says active). Later starts keep what people activated, edited or deleted.
    func loadLibraryOnce() throws {
        guard try store.meta("library.loaded") == nil else { return }
        let rules = library
        try runtime.db.transaction {
            for r in rules where try store.get(r.id) == nil { try store.put(r) }
            try store.setMeta("library.loaded", String(Clock.nowMs()))
        }
    }

    /// The library directory's rules plus the built-in demo rule, sorted by name.
    func readLibrary(_ configured: String?) -> [Rule] {
        var rules: [Rule] = []
        if let dir = RuleLibrary.directory(configured: configured) {
            rules = RuleLibrary.load(dir, logger: runtime.logger)
            runtime.logger.info("rule library", ["dir": dir, "rules": String(rules.count)])
        } else {
            runtime.logger.warning("rule library not found; the library holds only the built-in demo rule (set rules.library)")
        }
        if !rules.contains(where: { $0.id == BuiltInRules.demo.id }) { rules.append(BuiltInRules.demo) }
        return rules.sorted { ($0.name, $0.id) < ($1.name, $1.id) }
    }

    /// Loads the checkpointed correlation state and event clock.
    func restoreState() throws {
        engine.resetState()
        for row in try runtime.db.query("SELECT rule_id, group_key, state FROM rule_state") {
            engine.restore(ruleId: row.string(0), groupKey: row.string(1), json: row.string(2))
        }
        if let clock = try store.meta("engine.max_event_ms").flatMap({ Int64($0) }) {
            let sources = try store.meta("engine.source_clocks").flatMap { try? JSONDecoder().decode([String: Int64].self, from: Data($0.utf8)) } ?? [:]
            engine.restoreClock(maxEventMs: clock, lastEventWallMs: try store.meta("engine.last_event_wall_ms").flatMap { Int64($0) },
                                sources: sources)
        }
        batches = try store.meta("engine.batches").flatMap { Int64($0) } ?? 0
    }

    func process(_ batch: [StreamEnvelope]) throws {
        // A batch that rolled back left the engine ahead of the store: start again from the checkpoint.
        let stored = try store.meta("engine.batches").flatMap { Int64($0) } ?? 0
        if stored != batches {
            runtime.count("rules.state_reloaded")
            runtime.logger.warning("previous batch rolled back; reloading correlation state", ["stored": String(stored), "memory": String(batches)])
            try restoreState()
        }
        batches += 1
        let now = Clock.nowMs()
        for env in batch {
            if configMirror.accept(env) { continue }
            guard let e = try? Event(decoding: env.payload) else {
                runtime.count("malformed")
                continue
            }
            runtime.count("evaluated")
            for hit in engine.process(e, source: env.stream, nowMs: now) { try raise(SignalBuilder.signal(hit, nowMs: now)) }
        }
        try checkpoint()
    }

    func raise(_ s: Signal) throws {
        let payload = s.encoded()
        let inserted = try runtime.db.run("""
            INSERT OR IGNORE INTO signals(id, rule_id, rule_name, criticality, risk, tactic, technique, entity_user,
                entity_asset, entity_ip, event_ids, created_ms, payload, criticality_name, tactic_name, technique_name,
                group_key, first_event_ms, rule_version) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
            """, [.text(s.id), .text(s.ruleId), .text(s.ruleName), .integer(Int64(s.criticality.rawValue)),
                  .integer(Int64(s.riskScore)), .text(s.mitre.tacticId), .text(s.mitre.techniqueId),
                  .text(s.entity.user), .text(s.entity.asset), .text(s.entity.ip),
                  .text(s.eventIds.joined(separator: ",")), .integer(s.createdTimeMs), .blob(payload),
                  .text(s.criticality.name), .text(s.mitre.tacticName), .text(s.mitre.techniqueName),
                  .text(s.groupKey), .integer(s.firstEventTimeMs), .integer(Int64(s.ruleVersion))])
        guard inserted == 1 else { runtime.count("signals.duplicate"); return }
        try producer.append(stream: "signals", topic: s.topic, payloadType: Signal.typeName, payload: payload)
        runtime.count("signals")
    }

    /// Fires absence rules whose window closed while no event came (engine.tick), storing the
    /// signals and the state change in one transaction like a batch.
    func absenceTick() {
        let now = Clock.nowMs()
        let hits = engine.tick(nowMs: now)
        guard !hits.isEmpty else { return }
        do {
            try runtime.db.transaction {
                for hit in hits { try raise(SignalBuilder.signal(hit, nowMs: now)) }
                try checkpoint()
            }
            producer.publishCommitted()
        } catch {
            producer.discardUncommitted()
            runtime.count("errors")
            runtime.logger.error("absence timer: signals not stored; reloading correlation state", ["error": "\(error)"])
            do { try restoreState() } catch { runtime.logger.error("state reload failed", ["error": "\(error)"]) }
        }
    }

    /// Writes what the engine changed; runs inside the consumer's transaction.
    func checkpoint() throws {
        for c in engine.takeChanges() {
            guard let key = c.groupKey else { try store.dropState(c.ruleId); continue }
            if let json = c.json {
                try runtime.db.run("INSERT OR REPLACE INTO rule_state(rule_id, group_key, state) VALUES(?,?,?)", [.text(c.ruleId), .text(key), .text(json)])
            } else {
                try runtime.db.run("DELETE FROM rule_state WHERE rule_id = ? AND group_key = ?", [.text(c.ruleId), .text(key)])
            }
        }
        if engine.maxEventMs != .min { try store.setMeta("engine.max_event_ms", String(engine.maxEventMs)) }
        if engine.lastEventWallMs != .min { try store.setMeta("engine.last_event_wall_ms", String(engine.lastEventWallMs)) }
        if let json = try? JSONEncoder().encode(engine.sourceClocks) {
            try store.setMeta("engine.source_clocks", String(decoding: json, as: UTF8.self))
        }
        try store.setMeta("engine.batches", String(batches))
        for (k, v) in engine.counters { runtime.counters["rules." + k] = v }
        runtime.counters["rules.groups"] = UInt64(engine.groupCount)
        runtime.counters["rules.active"] = UInt64(engine.activeRuleCount)
    }

    public static func main() -> Never {
        ServiceMain.run(service: "detection", keys: keys, defaults: defaults) { runtime in
            let service = try DetectionService(runtime: runtime)
            return { withExtendedLifetime(service) {} }
        }
    }
}


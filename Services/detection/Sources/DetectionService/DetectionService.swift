import Foundation
import VigilBus
import VigilLog
import VigilService
import VigilEvents
import VigilQuery
import VigilStore
import VigilWire

/// A built-in match rule of the foundation: a QQL condition over the events list, evaluated
/// in memory with the same semantics as an event search. The rule engine (threshold,
/// sequence, …) replaces this list.
struct DemoRule: Sendable {
    var id: String
    var version: UInt32
    var name: String
    var mitre: Mitre
    var criticality: Criticality
    var baseScore: UInt32
    var condition: String
}

/// Detection: consumes `events.enriched.*`, evaluates rules, stores signals and publishes
/// them on `signals.<criticality>.<tactic>` (reliable stream `signals`). A signal's id is
/// derived from rule and event, so a replayed event can never raise it twice.
public final class DetectionService {
    public static let keys: [(String, String)] = [
        ("batch-size", "events per SQLite transaction (default 5000)"),
        ("outbox.max-rows", "unacknowledged signals kept before refusing input (default 2000000)"),
    ]
    public static let defaults: [String: String] = ["batch-size": "5000", "outbox.max-rows": "2000000"]

    static let migrations: [Migration] = [
        Migration(1, "signals", """
        CREATE TABLE signals(id TEXT PRIMARY KEY, rule_id TEXT NOT NULL, rule_name TEXT NOT NULL,
            criticality INTEGER NOT NULL, risk INTEGER NOT NULL, tactic TEXT NOT NULL, technique TEXT NOT NULL,
            entity_user TEXT NOT NULL, entity_asset TEXT NOT NULL, entity_ip TEXT NOT NULL,
            event_ids TEXT NOT NULL, created_ms INTEGER NOT NULL, payload BLOB NOT NULL) WITHOUT ROWID;
        CREATE INDEX signals_created ON signals(created_ms);
        """),
    ]

    static let rules: [DemoRule] = [
        DemoRule(id: "vigil-demo-failed-login", version: 1, name: "Failed SSH or su login",
                 mitre: Mitre(tacticId: "TA0006", tacticName: "Credential Access", techniqueId: "T1110", techniqueName: "Brute Force"),
                 criticality: .medium, baseScore: 40,
                 condition: "event.category: authentication and event.outcome: failure"),
    ]

    let runtime: ServiceRuntime
    let producer: StreamProducer
    let compiled: [(DemoRule, QueryEvaluator)]

    public init(runtime: ServiceRuntime) throws {
        self.runtime = runtime
        let cfg = runtime.config
        try runtime.db.migrate(component: "detection", Self.migrations)
        compiled = try Self.rules.map { ($0, try QueryEvaluator($0.condition, catalog: EventCatalog.catalog)) }
        producer = try runtime.enableProducer(maxOutboxRows: try cfg.int("outbox.max-rows", default: 2_000_000))
        try runtime.enableConsumer(topicPrefixes: ["events.enriched."], batchSize: try cfg.int("batch-size", default: 5000)) { [unowned self] batch in
            try self.process(batch)
        }
    }

    /// Risk 0–100: the rule's base score, +20 for a high and +35 for a critical asset.
    static func risk(base: UInt32, assetCriticality: String?) -> UInt32 {
        var r = base
        switch assetCriticality?.lowercased() {
        case "critical": r += 35
        case "high": r += 20
        case "medium": r += 10
        default: break
        }
        return min(100, r)
    }

    func process(_ batch: [StreamEnvelope]) throws {
        for env in batch {
            guard let e = try? Event(decoding: env.payload) else {
                runtime.count("malformed")
                continue
            }
            runtime.count("evaluated")
            let record = EventRecord(e)
            let context = QueryContext(nowMillis: Clock.nowMs())
            for (rule, condition) in compiled where (try? condition.matches(record, context: context)) == true {
                var s = Signal()
                s.id = StableId.make(rule.id, e.id)
                s.ruleId = rule.id
                s.ruleVersion = rule.version
                s.ruleName = rule.name
                s.mitre = rule.mitre
                s.criticality = rule.criticality
                s.riskScore = Self.risk(base: rule.baseScore, assetCriticality: e.enriched["asset.criticality"])
                s.entity = Entity(user: e.fields["user.name"] ?? "", asset: e.enriched["asset.name"] ?? e.fields["host.name"] ?? "",
                                  ip: e.fields["source.ip"] ?? "")
                s.groupKey = [s.entity.user, s.entity.ip].joined(separator: "|")
                s.eventIds = [e.id]
                s.createdTimeMs = Clock.nowMs()
                s.firstEventTimeMs = e.eventTimeMs
                s.lastEventTimeMs = e.eventTimeMs
                s.description = "\(rule.name): user \(s.entity.user.isEmpty ? "?" : s.entity.user) from \(s.entity.ip.isEmpty ? "?" : s.entity.ip) on \(s.entity.asset.isEmpty ? "?" : s.entity.asset)"
                let payload = s.encoded()
                let inserted = try runtime.db.run("""
                    INSERT OR IGNORE INTO signals(id, rule_id, rule_name, criticality, risk, tactic, technique, entity_user,
                        entity_asset, entity_ip, event_ids, created_ms, payload) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)
                    """, [.text(s.id), .text(s.ruleId), .text(s.ruleName), .integer(Int64(s.criticality.rawValue)),
                          .integer(Int64(s.riskScore)), .text(s.mitre.tacticId), .text(s.mitre.techniqueId),
                          .text(s.entity.user), .text(s.entity.asset), .text(s.entity.ip),
                          .text(s.eventIds.joined(separator: ",")), .integer(s.createdTimeMs), .blob(payload)])
                guard inserted == 1 else { runtime.count("signals.duplicate"); continue }
                try producer.append(stream: "signals", topic: s.topic, payloadType: Signal.typeName, payload: payload)
                runtime.count("signals")
            }
        }
    }

    public static func main() -> Never {
        ServiceMain.run(service: "detection", keys: keys, defaults: defaults) { runtime in
            let service = try DetectionService(runtime: runtime)
            return { withExtendedLifetime(service) {} }
        }
    }
}

/// Deterministic ids: FNV-1a 64 over the parts, twice with different seeds, as 32 hex digits.
enum StableId {
    static func make(_ parts: String...) -> String {
        func fnv(_ seed: UInt64) -> UInt64 {
            var h = seed
            for p in parts { for b in p.utf8 { h ^= UInt64(b); h = h &* 1_099_511_628_211 }; h ^= 0x1f; h = h &* 1_099_511_628_211 }
            return h
        }
        let a = String(fnv(14_695_981_039_346_656_037), radix: 16), b = String(fnv(0x9E37_79B9_7F4A_7C15), radix: 16)
        return String(repeating: "0", count: 16 - a.count) + a + String(repeating: "0", count: 16 - b.count) + b
    }
}

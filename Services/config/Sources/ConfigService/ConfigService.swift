import Foundation
import VigilBus
import VigilLog
import VigilService
import VigilStore
import VigilWire
import VigilRules

/// Config: owns every setting (docs/configuration.md). Objects are validated, audited and
/// published on the reliable stream `config.changed`; `config.snapshot` gives a starting
/// service every object plus the stream head, so it can apply only later changes.
public final class ConfigService {
    public static let stream = "config.changed"
    public static let keys: [(String, String)] = [
        ("outbox.max-rows", "unacknowledged changes kept for consumers before refusing changes (default 200000)"),
    ] + AgentRegistry.keys
    public static let defaults: [String: String] = ["outbox.max-rows": "200000"]

    let runtime: ServiceRuntime
    let producer: StreamProducer
    let registry: Registry
    var lists: [ListQueries] = []

    public init(runtime: ServiceRuntime) throws {
        self.runtime = runtime
        let store = try ConfigStore(db: runtime.db)
        let producer = try runtime.enableProducer(maxOutboxRows: try runtime.config.int("outbox.max-rows", default: 200_000))
        self.producer = producer
        registry = Registry(store: store, now: { Clock.nowMs() }) { change in
            var c = change
            c.sequence = (producer.heads[Self.stream] ?? 0) + 1
            let seq = try producer.append(stream: Self.stream, topic: Self.stream, payloadType: ConfigChange.typeName, payload: c.encoded())
            return seq
        }
        let rules = RuleReferences(client: runtime.client)
        registry.ruleReferrers = { try rules.referrers(of: $0) }
        registry.templateReferrers = { try rules.templateReferrers(of: $0) }
        installRPCs()
        try installAgents()
        try installLists()
    }

    /// Publishes what the last transaction appended (changes commit inside RPC handlers).
    func committed() { producer.publishCommitted() }

    func installLists() throws {
        for catalog in ConfigCatalogs.all {
            let q = try ListQueries(catalog: catalog, db: runtime.db)
            q.install(on: runtime.worker) { [unowned self] rows, next in
                do {
                    // The last column of a search row is the id (qql_id).
                    let kind: ConfigKind = catalog.list == "sources" ? .eventSource : catalog.list == "collectors" ? .collector : .appliance
                    var items: [String] = []
                    for r in rows {
                        guard let id = r.values.last?.string, let o = try self.registry.store.get(kind, id) else { continue }
                        items.append(JSONWriter.write(try self.registry.present(o), pretty: false))
                    }
                    return .ok(ConfigReply(json: "[" + items.joined(separator: ",") + "]", nextCursor: next))
                } catch {
                    return .failure(.internal, "\(error)")
                }
            }
            lists.append(q)
        }
    }

    public static func main() -> Never {
        ServiceMain.run(service: "config", keys: keys, defaults: defaults) { runtime in
            let service = try ConfigService(runtime: runtime)
            return { withExtendedLifetime(service) {} }
        }
    }
}

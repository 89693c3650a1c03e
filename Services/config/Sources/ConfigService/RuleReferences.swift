import VigilBus
import VigilRules
import VigilWire

/// Which detection rules use a special object: asks detection for its rules (`rules.export`)
/// and scans their conditions for `@name`. A blocking call from the service loop, bounded by
/// `timeoutMs`; used only when a special object is deleted or renamed.
struct RuleReferences {
    let client: RpcClient
    var timeoutMs: Int64 = 3000

    func referrers(of name: String) throws -> [String] {
        let bundle = try client.call(service: "detection", method: "rules.export", RuleRequest(), as: RuleBundleMessage.self,
                                     timeoutMs: timeoutMs, attemptTimeoutMs: timeoutMs)
        let rules = try RuleBundle.decode(bundle.json)
        return rules.filter { rule in rule.detection.conditions.contains { References.specialNames(in: $0).contains(name) } }
            .map { "rule/\($0.id) '\($0.name)' (condition)" }
    }
}

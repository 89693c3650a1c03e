import VigilBus
import VigilRules
import VigilWire

/// Which detection rules use a special object (`@name` in a condition) or a response template
/// (its id in `responses`): asks detection for its rules (`rules.export`) and scans them. A blocking call from the service loop, bounded by
/// `timeoutMs`; used only when a special object is deleted or renamed, or a template deleted.
struct RuleReferences {
    let client: RpcClient
    var timeoutMs: Int64 = 3000

    func rules() throws -> [Rule] {
        let bundle = try client.call(service: "detection", method: "rules.export", RuleRequest(), as: RuleBundleMessage.self,
                                     timeoutMs: timeoutMs, attemptTimeoutMs: timeoutMs)
        return try RuleBundle.decode(bundle.json)
    }

    func referrers(of name: String) throws -> [String] {
        try rules().filter { rule in rule.detection.conditions.contains { References.specialNames(in: $0).contains(name) } }
            .map { "rule/\($0.id) '\($0.name)' (condition)" }
    }

    /// Rules that name the response template `id` in their `responses`.
    func templateReferrers(of id: String) throws -> [String] {
        try rules().filter { $0.responses.contains(id) }.map { "rule/\($0.id) '\($0.name)' (responses)" }
    }
}

import VigilYAML

/// Why a Sigma rule was refused: a stable reason code (the summary groups by it) and the
/// construct, named as the rule writes it, with where it is.
public struct SigmaError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: String, Sendable, CaseIterable {
        /// Not YAML, or YAML that is not a Sigma rule (missing title/detection, wrong types).
        case invalidRule = "invalid_rule"
        case unsupportedModifier = "unsupported_modifier"
        case unsupportedValue = "unsupported_value"
        case badCondition = "bad_condition"
        /// `| count() …` aggregations (deprecated Sigma 1 syntax): write a correlation rule.
        case aggregation = "aggregation"
        case unmappedLogsource = "unmapped_logsource"
        case unsupportedCorrelation = "unsupported_correlation"
        case unresolvedReference = "unresolved_reference"
        /// The native validator refused the converted rule.
        case nativeRefused = "native_refused"
    }
    public var reason: Reason
    /// The construct, e.g. `modifier |expand` or `logsource product:windows service:foo`.
    public var construct: String
    public var mark: YAMLMark?

    public init(_ reason: Reason, _ construct: String, at mark: YAMLMark? = nil) {
        self.reason = reason; self.construct = construct; self.mark = mark
    }
    public var description: String { "\(reason.rawValue): \(construct)" + (mark.map { " (\($0))" } ?? "") }
}

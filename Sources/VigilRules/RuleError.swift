/// One problem in a rule document: where (a JSON path like `$.detection.window`) and what.
public struct RuleIssue: Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        case invalidJSON = "invalid_json"
        case missingField = "missing_field"
        case unknownField = "unknown_field"
        case wrongType = "wrong_type"
        case invalidValue = "invalid_value"
        case invalidQuery = "invalid_query"
        case duplicate = "duplicate"
    }
    public var code: Code
    public var path: String
    public var message: String
    public init(_ code: Code, _ path: String, _ message: String) {
        self.code = code; self.path = path; self.message = message
    }
    public var description: String { "\(path): \(message) [\(code.rawValue)]" }
}

/// A rule (or bundle) was refused: every problem found, so the author can fix them in one go.
public struct RuleError: Error, Sendable, Equatable, CustomStringConvertible {
    public var issues: [RuleIssue]
    public init(_ issues: [RuleIssue]) { self.issues = issues }
    public init(_ code: RuleIssue.Code, _ path: String, _ message: String) { issues = [RuleIssue(code, path, message)] }
    public var code: RuleIssue.Code { issues.first?.code ?? .invalidValue }
    public var description: String {
        (issues.count == 1 ? "rule refused: " : "rule refused (\(issues.count) problems):\n") + issues.map(\.description).joined(separator: "\n")
    }
}

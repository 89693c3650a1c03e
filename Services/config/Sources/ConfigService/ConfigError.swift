/// One thing wrong with an object: the field (a JSON path such as `members[2]`) and what is wrong.
public struct FieldProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var field: String
    public var problem: String
    public init(_ field: String, _ problem: String) { self.field = field; self.problem = problem }
    public var description: String { "\(field): \(problem)" }
}

/// Why a config request was refused. `code` is stable (clients may match on it); the
/// message names the object and, for validation, every field that is wrong.
public struct ConfigFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case unknownKind = "unknown_kind"
        case invalidJSON = "invalid_json"
        case invalid = "invalid"
        case notFound = "not_found"
        case conflict = "conflict"
        case referenced = "referenced"
        case confirmationRequired = "confirmation_required"
        case unverified = "references_unverified"
    }
    public var code: Code
    public var message: String
    public var problems: [FieldProblem]

    public init(_ code: Code, _ message: String, problems: [FieldProblem] = []) {
        self.code = code; self.message = message; self.problems = problems
    }

    public var description: String {
        problems.isEmpty ? "\(code.rawValue): \(message)"
            : "\(code.rawValue): \(message): " + problems.map(\.description).joined(separator: "; ")
    }
}

/// An error a person can act on: what went wrong, where, and what was expected.
public struct QueryError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        case syntax
        case unknownToken
        case typeMismatch
        case unknownSpecialObject
        case invalidSpecialObject
        case unsupported
        case tooComplex
    }

    public var code: Code
    /// Character offset (Swift `Character` index) into `query`.
    public var position: Int
    public var message: String
    /// The query text the position refers to (empty when the error is not about a query).
    public var query: String
    /// Known tokens close to an unknown one, nearest first.
    public var suggestions: [String]

    public init(_ code: Code, at position: Int, _ message: String, query: String = "", suggestions: [String] = []) {
        self.code = code
        self.position = position
        self.message = message
        self.query = query
        self.suggestions = suggestions
    }

    /// The query echoed with a caret under the position, then the message.
    public var rendered: String {
        // Newlines and tabs would misalign the caret, so flatten them to spaces.
        let line = String(query.map { $0 == "\n" || $0 == "\t" || $0 == "\r" ? " " : $0 })
        let caretColumn = max(0, min(position, line.count))
        return line + "\n" + String(repeating: " ", count: caretColumn) + "^\n" + message
    }

    public var description: String { "\(code.rawValue) at \(position): \(message)" }

    func with(query: String) -> QueryError {
        var copy = self
        copy.query = query
        return copy
    }
}

/// A feed that could not be used, or a feeds file that is wrong: what, where, what was expected.
public struct IntelError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Code: String, Sendable {
        /// The feeds file (or one feed's definition) is invalid.
        case badConfig
        /// The feed's location could not be read (missing file, HTTP error, timeout, too large).
        case unreachable
        /// The document is not what its format says (invalid JSON, not a STIX bundle, wrong CSV columns).
        case badDocument
        /// The document was read but not one indicator in it could be used.
        case noIndicators
    }
    public var code: Code
    /// The feed name, or the feeds file path for `badConfig` of the whole file.
    public var feed: String
    public var message: String
    public init(_ code: Code, feed: String, _ message: String) { self.code = code; self.feed = feed; self.message = message }
    public var description: String { "\(code.rawValue): feed '\(feed)': \(message)" }
}

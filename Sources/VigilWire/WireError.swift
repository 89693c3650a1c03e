/// A message that could not be decoded. Carries the message type and the size so the
/// receiver can log and count it precisely.
public struct WireError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable { case malformed, tooLarge }
    public var code: Code
    public var messageType: String
    public var byteCount: Int
    public var description: String {
        switch code {
        case .malformed: return "malformed \(messageType): \(byteCount) bytes are not a valid protobuf encoding of it"
        case .tooLarge: return "\(messageType) of \(byteCount) bytes exceeds the size limit"
        }
    }
}

/// A wire message: a Swift value that encodes to and decodes from protobuf bytes.
public protocol WireMessage: Sendable {
    static var typeName: String { get }
    func encoded() -> [UInt8]
    init(decoding bytes: [UInt8]) throws
}

import VigilRules

/// A stored configuration object: its validated fields plus the metadata the service keeps.
public struct ConfigObject: Sendable, Equatable {
    public var kind: ConfigKind
    public var id: String
    public var name: String
    /// The object's own fields (id and name included), as validated.
    public var body: JSONValue
    public var createdBy = ""
    public var createdMs: Int64 = 0
    public var modifiedBy = ""
    public var modifiedMs: Int64 = 0
    /// The `config.changed` sequence of its last change.
    public var sequence: UInt64 = 0

    public init(kind: ConfigKind, id: String, name: String, body: JSONValue) {
        self.kind = kind; self.id = id; self.name = name
        self.body = Self.withId(id, body)
    }

    /// The body always starts with its id, so stored, exported and imported forms compare equal.
    static func withId(_ id: String, _ body: JSONValue) -> JSONValue {
        guard case .object(var m) = body else { return body }
        m.removeAll { $0.0 == "id" }
        m.insert(("id", .string(id)), at: 0)
        return .object(m)
    }

    /// Fields plus metadata, as clients see it.
    public var json: JSONValue {
        guard case .object(var m) = body else { return body }
        m.removeAll { $0.0 == "id" }
        m.insert(("id", .string(id)), at: 0)
        m += [("kind", .string(kind.rawValue)), ("created_by", .string(createdBy)), ("created_ms", .integer(createdMs)),
              ("modified_by", .string(modifiedBy)), ("modified_ms", .integer(modifiedMs)),
              ("sequence", .integer(Int64(sequence)))]
        return .object(m)
    }

    public var compactJSON: String { JSONWriter.write(json, pretty: false) }

    /// The members of a special object (strings only; validated on the way in).
    public var members: [String] {
        guard case .array(let items)? = body["members"] else { return [] }
        return items.compactMap { if case .string(let s) = $0 { return s }; return nil }
    }

    func string(_ field: String) -> String {
        if case .string(let s)? = body[field] { return s }
        return ""
    }
}

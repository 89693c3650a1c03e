import VigilEvents
import VigilQuery
import VigilWire

/// Reads a named field of an event for group-by and distinct: a token of the events
/// catalog when there is one (so `@timestamp`, `event.format`, aliases work), else the
/// field by that name in the event values, then the vendor fields, then the enriched ones.
public struct FieldAccess: Sendable {
    public let name: String
    let token: TokenDefinition?

    public init(_ name: String) {
        self.name = name
        token = EventCatalog.catalog.token(named: name)
    }

    public func value(_ e: Event, _ record: EventRecord) -> String? {
        if let token, let v = record.value(for: token) {
            switch v {
            case .text(let s): return s.isEmpty ? nil : s
            case .integer(let i): return String(i)
            case .real(let d): return String(d)
            }
        }
        if token == nil { return e.fields[name] ?? e.original[name] ?? e.enriched[name] }
        return nil
    }

    static func isValidName(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 128 && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || "._@-".unicodeScalars.contains($0) }
    }
}

import VigilQuery
import VigilWire

/// An Event as QQL's in-memory evaluator sees it: each token's value exactly as enrichment's
/// `events` table would return it, so a rule condition and a search agree on every event.
public struct EventRecord: QueryRecord {
    public let event: Event
    /// Shared by the conditions evaluated on this event (`QueryRecord.memo`). Building a record
    /// with a memo starts it afresh (`next()`), so a memo serves one record at a time: the
    /// newest one built with it.
    public let memo: RecordMemo?
    public init(_ event: Event, memo: RecordMemo? = nil) {
        self.event = event
        self.memo = memo
        memo?.next()
    }

    public func value(for token: TokenDefinition) -> SQLValue? {
        switch token.storage {
        case .column(let name):
            switch name {
            case "id": return .text(event.id)
            case "time_ms": return .integer(event.eventTimeMs)
            case "received_ms": return .integer(event.receivedTimeMs)
            case "source": return .text(event.source)
            case "format": return .text(event.format)
            case "parse_status": return .text(event.parseStatus == .parsed ? "parsed" : event.parseStatus == .unparsed ? "unparsed" : "")
            case "parse_error": return .text(event.parseError)
            case "raw": return .text(String(decoding: event.raw, as: UTF8.self))
            case "fields": return .text(JSONText.object(event.fields))
            case "original": return .text(JSONText.object(event.original))
            case "enriched": return .text(JSONText.object(event.enriched))
            default: return nil
            }
        case .json(let column, _):
            guard let key = token.jsonKey else { return nil }
            let map: [String: String]
            switch column {
            case "fields": map = event.fields
            case "original": map = event.original
            case "enriched": map = event.enriched
            default: return nil
            }
            return map[key].map { .text($0) }
        }
    }
}

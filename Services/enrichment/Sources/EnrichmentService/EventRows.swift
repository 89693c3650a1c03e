import VigilEvents
import VigilStore
import VigilWire

/// Rows of enrichment's `events` table as Events.
enum EventRows {
    static let columns = "id, time_ms, received_ms, source, format, status, parse_error, raw, fields, original, enriched, partition"

    /// One row (selected with `columns` first) back into an Event.
    static func event(from r: Row) -> Event {
        var e = Event()
        e.id = r.string(0)
        e.eventTimeMs = r.int(1)
        e.receivedTimeMs = r.int(2)
        e.source = r.string(3)
        e.format = r.string(4)
        e.parseStatus = ParseStatus(rawValue: Int32(r.int(5))) ?? .unspecified
        e.parseError = r.string(6)
        e.raw = r.blob(7)
        e.fields = JSONText.parseObject(r.string(8))
        e.original = JSONText.parseObject(r.string(9))
        e.enriched = JSONText.parseObject(r.string(10))
        e.partition = UInt32(truncatingIfNeeded: r.int(11))
        return e
    }
}

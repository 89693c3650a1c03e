import VigilIntel
import VigilWire

/// Adds enriched values to an event from in-memory indexes only (no I/O), so it runs at
/// event rate and the benchmark measures exactly what the service does per event.
/// Values go to `event.enriched`, never to `fields`: a reader can tell them apart.
public final class Enricher {
    public var assets = AssetIndex()
    public var users = UserIndex()
    public var threats = ThreatMatcher()
    public init() {}

    public struct Counts { public var assets = 0, users = 0, threats = 0 }
    public private(set) var counts = Counts()

    public func enrich(_ e: inout Event, nowMs: Int64) {
        // The asset the event's host name or address pointed to when the event happened.
        if let (a, _) = assets.resolve(e.fields, at: e.eventTimeMs > 0 ? e.eventTimeMs : nowMs) {
            counts.assets += 1
            e.enriched["asset.id"] = a.id
            e.enriched["asset.name"] = a.name
            e.enriched["asset.criticality"] = a.criticality
            if !a.tags.isEmpty { e.enriched["asset.tags"] = a.tags.joined(separator: ";") }
            if !a.os.isEmpty { e.enriched["asset.os"] = a.os }
            if !a.owner.isEmpty { e.enriched["asset.owner"] = a.owner }
        }
        if let u = users.resolve(e.fields) {
            counts.users += 1
            e.enriched["user.id"] = u.id
            if !u.displayName.isEmpty { e.enriched["user.full_name"] = u.displayName }
            if !u.department.isEmpty { e.enriched["user.department"] = u.department }
            if !u.title.isEmpty { e.enriched["user.title"] = u.title }
            if !u.manager.isEmpty { e.enriched["user.manager"] = u.manager }
            if !u.groups.isEmpty { e.enriched["user.groups"] = u.groups.joined(separator: ";") }
            e.enriched["user.privileged"] = u.privileged ? "true" : "false"
        }
        if let m = threats.match(e.fields, nowMs: nowMs) {
            counts.threats += 1
            e.enriched["threat.indicator.matched"] = "true"
            e.enriched["threat.indicator.type"] = m.type.rawValue
            e.enriched["threat.indicator.value"] = m.value
            e.enriched["threat.indicator.feed"] = m.feed
            e.enriched["threat.indicator.confidence"] = String(m.confidence)
            e.enriched["threat.indicator.field"] = m.field
        }
    }
}

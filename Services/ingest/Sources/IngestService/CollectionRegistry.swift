import Foundation
import VigilStore
import VigilWire

/// The data-collection registry as ingest needs it: which configured event source a sender
/// address belongs to, and whether lines from it may be ingested. Follows the config
/// service's `event_source` and `collector` objects (snapshot + `config.changed`).
///
/// Rules (docs/sources.md, "Configured sources"):
/// - a line from the address of a configured source is attributed to it (source, collector,
///   appliance) and accepted — unless the source is disabled or its collector is stopped
///   or missing, then it is refused and counted;
/// - deleting a source (or its collector, which deletes its sources) stops ingestion from
///   its address: the address is remembered in ingest's store and lines from it are refused
///   until a source with that address is configured again;
/// - lines from addresses no source names are accepted unattributed (the embedded default
///   needs no configuration).
///
/// Written by the ingest loop, read by the parse-worker threads: guarded by a lock.
final class CollectionRegistry: @unchecked Sendable {
    struct Attribution: Equatable, Sendable {
        var source: String, collector: String, appliance: String, type: String
    }

    enum Decision: Equatable {
        case accept(Attribution?)
        case refuse(reason: String, collector: String?)
    }

    /// A change to the stopped-address list, to persist in ingest's store.
    enum StopChange: Equatable {
        case stop(address: String, reason: String)
        case resume(address: String)
    }

    struct Source: Equatable {
        var id: String, address: String, collector: String, type: String, enabled: Bool, sequence: UInt64
    }

    struct Collector: Equatable {
        var id: String, appliance: String, status: String, sequence: UInt64
    }

    private struct Traffic { var events: UInt64 = 0, refused: UInt64 = 0, lastSeenMs: Int64 = 0 }

    private let lock = NSLock()
    private var sources: [String: Source] = [:]
    private var collectors: [String: Collector] = [:]
    /// Sequence of the delete, per "kind/id", so an older create/update replayed later is ignored.
    private var deletedAt: [String: UInt64] = [:]
    private var byAddress: [String: String] = [:]
    private var stopped: [String: String] = [:]
    private var traffic: [String: Traffic] = [:]
    /// Refused lines per transport ("syslog-udp", …) and per reason class, since start.
    private var refusedByTransport: [String: UInt64] = [:]
    private var refusedByReason: [String: UInt64] = [:]

    init(stopped: [String: String] = [:]) { self.stopped = stopped }

    static let kinds: Set<String> = ["event_source", "collector"]

    // MARK: reading (worker threads)

    /// What to do with a line from `sender` ("ip:port", "[v6]:port" or a bare address).
    /// Counts the line against the collector (and the refusal) as a side effect.
    func decide(sender: String, transport: String, nowMs: Int64) -> Decision {
        decide(host: Self.host(of: sender), transport: transport, nowMs: nowMs)
    }

    /// Same, for a sender already reduced to its address by `host(of:)` (the parse workers
    /// keep it per connection instead of splitting every line's sender again).
    func decide(host ip: String, transport: String, nowMs: Int64) -> Decision {
        lock.lock(); defer { lock.unlock() }
        let d = decideLocked(ip)
        switch d {
        case .accept(let a?):
            traffic[a.collector, default: Traffic()].events += 1
            traffic[a.collector, default: Traffic()].lastSeenMs = nowMs
        case .accept(nil): break
        case .refuse(let reason, let collector):
            if let c = collector { traffic[c, default: Traffic()].refused += 1 }
            refusedByTransport[transport, default: 0] += 1
            refusedByReason[Self.reasonClass(reason), default: 0] += 1
        }
        return d
    }

    private func decideLocked(_ ip: String) -> Decision {
        if let sid = byAddress[ip], let s = sources[sid] {
            if !s.enabled { return .refuse(reason: "event source '\(s.id)' is disabled", collector: s.collector) }
            guard let c = collectors[s.collector] else {
                return .refuse(reason: "collector '\(s.collector)' of event source '\(s.id)' is deleted", collector: s.collector)
            }
            if c.status == "stopped" { return .refuse(reason: "collector '\(c.id)' is stopped", collector: c.id) }
            return .accept(Attribution(source: s.id, collector: c.id, appliance: c.appliance, type: s.type))
        }
        if let reason = stopped[ip] { return .refuse(reason: reason, collector: nil) }
        return .accept(nil)
    }

    static func reasonClass(_ reason: String) -> String {
        if reason.contains("disabled") { return "source_disabled" }
        if reason.contains("stopped") { return "collector_stopped" }
        return "source_deleted"
    }

    /// "10.0.0.1:514" → "10.0.0.1", "[::1]:514" → "::1", "::1" → "::1".
    static func host(of sender: String) -> String {
        if sender.hasPrefix("["), let close = sender.firstIndex(of: "]") {
            return String(sender[sender.index(after: sender.startIndex)..<close])
        }
        let colons = sender.filter { $0 == ":" }.count
        if colons == 1, let c = sender.firstIndex(of: ":") { return String(sender[..<c]) }
        return sender
    }

    // MARK: following config (ingest loop)

    /// Applies one change; returns the stopped-address changes to persist.
    func apply(_ c: ConfigChange) -> [StopChange] {
        guard Self.kinds.contains(c.kind) else { return [] }
        lock.lock(); defer { lock.unlock() }
        let key = "\(c.kind)/\(c.id)"
        let known = max(c.kind == "event_source" ? sources[c.id]?.sequence ?? 0 : collectors[c.id]?.sequence ?? 0, deletedAt[key] ?? 0)
        guard c.sequence > known else { return [] }
        var out: [StopChange] = []
        if c.action == "deleted" {
            deletedAt[key] = c.sequence
            if c.kind == "event_source" {
                let old = sources.removeValue(forKey: c.id) ?? Self.source(c.id, c.previousJSON, c.sequence)
                if let old, !old.address.isEmpty {
                    if byAddress[old.address] == c.id { byAddress[old.address] = nil }
                    let reason = "event source '\(old.id)' (collector '\(old.collector)') was deleted by \(c.actor.isEmpty ? "an admin" : c.actor)"
                    if byAddress[old.address] == nil {
                        stopped[old.address] = reason
                        out.append(.stop(address: old.address, reason: reason))
                    }
                }
            } else {
                collectors[c.id] = nil
            }
        } else if c.kind == "event_source" {
            guard let s = Self.source(c.id, c.objectJSON, c.sequence) else { return [] }
            out += putSourceLocked(s)
        } else if let col = Self.collector(c.id, c.objectJSON, c.sequence) {
            collectors[col.id] = col
            deletedAt[key] = nil
        }
        return out
    }

    /// Loads a snapshot's sources and collectors (newer than what is known).
    func load(_ snap: ConfigSnapshot) -> [StopChange] {
        lock.lock(); defer { lock.unlock() }
        var out: [StopChange] = []
        for o in snap.objects where Self.kinds.contains(o.kind) {
            let key = "\(o.kind)/\(o.id)"
            if let d = deletedAt[key], d >= o.sequence { continue }
            if o.kind == "event_source" {
                if let known = sources[o.id], known.sequence > o.sequence { continue }
                if let s = Self.source(o.id, o.objectJSON, o.sequence) { out += putSourceLocked(s) }
            } else {
                if let known = collectors[o.id], known.sequence > o.sequence { continue }
                if let col = Self.collector(o.id, o.objectJSON, o.sequence) { collectors[col.id] = col }
            }
        }
        return out
    }

    private func putSourceLocked(_ s: Source) -> [StopChange] {
        var out: [StopChange] = []
        if let old = sources[s.id], old.address != s.address, byAddress[old.address] == s.id { byAddress[old.address] = nil }
        sources[s.id] = s
        deletedAt["event_source/\(s.id)"] = nil
        if !s.address.isEmpty {
            byAddress[s.address] = s.id
            if stopped.removeValue(forKey: s.address) != nil { out.append(.resume(address: s.address)) }
        }
        return out
    }

    static func object(_ json: String) -> [String: Any]? {
        guard !json.isEmpty else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
    }

    static func source(_ id: String, _ json: String, _ seq: UInt64) -> Source? {
        guard let o = object(json) else { return nil }
        return Source(id: id, address: o["address"] as? String ?? "", collector: o["collector"] as? String ?? "",
                      type: o["type"] as? String ?? "", enabled: o["enabled"] as? Bool ?? true, sequence: seq)
    }

    static func collector(_ id: String, _ json: String, _ seq: UInt64) -> Collector? {
        guard let o = object(json) else { return nil }
        return Collector(id: id, appliance: o["appliance"] as? String ?? "", status: o["status"] as? String ?? "", sequence: seq)
    }

    /// Marks an event with the configured source it came through (tokens `collection.*`).
    static func attribute(_ e: inout Event, _ a: Attribution) {
        e.fields["collection.source"] = a.source
        e.fields["collection.collector"] = a.collector
        if !a.appliance.isEmpty { e.fields["collection.appliance"] = a.appliance }
        if !a.type.isEmpty { e.fields["collection.source_type"] = a.type }
    }

    // MARK: status

    /// Collectors as configured, with their traffic since start, sorted by id.
    func collectorStatus(nowMs: Int64) -> [CollectorStatus] {
        lock.lock(); defer { lock.unlock() }
        var sourceCount: [String: UInt32] = [:]
        for s in sources.values { sourceCount[s.collector, default: 0] += 1 }
        return collectors.values.sorted { $0.id < $1.id }.map { c in
            let t = traffic[c.id] ?? Traffic()
            let state = c.status == "stopped" ? "stopped" : (t.lastSeenMs > 0 && nowMs - t.lastSeenMs <= 300_000 ? "receiving" : "silent")
            return CollectorStatus(collector: c.id, appliance: c.appliance, status: c.status, sources: sourceCount[c.id] ?? 0,
                                   events: t.events, refused: t.refused, lastSeenMs: t.lastSeenMs, state: state)
        }
    }

    func refused(transport: String) -> UInt64 { lock.lock(); defer { lock.unlock() }; return refusedByTransport[transport] ?? 0 }

    var refusedTransports: [String: UInt64] { lock.lock(); defer { lock.unlock() }; return refusedByTransport }

    var metrics: [String: UInt64] {
        lock.lock(); defer { lock.unlock() }
        var m: [String: UInt64] = ["collection.sources": UInt64(sources.count), "collection.collectors": UInt64(collectors.count),
                                   "collection.stopped_addresses": UInt64(stopped.count)]
        for (k, v) in refusedByReason { m["refused.\(k)"] = v }
        return m
    }
}

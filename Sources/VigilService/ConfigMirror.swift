import Foundation
import VigilBus
import VigilQuery
import VigilWire

/// The special objects of the config service, kept current in memory: loaded from the
/// `config.snapshot` RPC and updated by `config.changed` messages. Each object remembers the
/// sequence of its last change, so a snapshot and the stream can arrive in any order and the
/// newer state always wins (a change at or below what is known is ignored).
public final class SpecialObjectMirror: SpecialObjectProvider, @unchecked Sendable {
    private let lock = NSLock()
    private let objects = ConfigObjectMirror(kinds: ["special_object"]) { SpecialObjectMirror.parse($0) != nil }
    private var byName: [String: [String]] = [:]

    public init() {}

    public func values(named name: String) -> [String]? {
        lock.lock(); defer { lock.unlock() }
        return byName[name]
    }

    public var count: Int { lock.lock(); defer { lock.unlock() }; return objects.all(kind: "special_object").count }

    /// Applies one change; returns false when it is older than what is known (or not a special object).
    @discardableResult
    public func apply(_ c: ConfigChange) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard objects.apply(c) else { return false }
        rebuild()
        return true
    }

    /// Loads a snapshot: its objects (where newer than what is known), and drops objects the
    /// snapshot no longer has unless a change after its head created them.
    public func load(_ s: ConfigSnapshot) {
        lock.lock(); defer { lock.unlock() }
        objects.load(s)
        rebuild()
    }

    private func rebuild() {
        var m: [String: [String]] = [:]
        for o in objects.all(kind: "special_object") { if let (name, members) = Self.parse(o.json) { m[name] = members } }
        byName = m
    }

    static func parse(_ json: String) -> (String, [String])? {
        guard let obj = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let name = obj["name"] as? String else { return nil }
        return (name, (obj["members"] as? [Any] ?? []).compactMap { $0 as? String })
    }
}

/// The user lists of the config service (`user_list`: explicit `members` and/or a QQL `query`
/// over users), kept current like special objects: newer sequence wins, snapshot prunes.
public final class UserListMirror: @unchecked Sendable {
    public struct List: Sendable, Equatable {
        public var id: String
        public var name: String
        public var members: [String]
        public var query: String
    }
    private let lock = NSLock()
    private let objects = ConfigObjectMirror(kinds: ["user_list"]) { UserListMirror.parse(id: "", $0) != nil }

    public init() {}

    public var lists: [List] {
        lock.lock(); defer { lock.unlock() }
        return objects.all(kind: "user_list").compactMap { Self.parse(id: $0.id, $0.json) }
            .sorted { $0.name.lowercased() < $1.name.lowercased() }
    }

    @discardableResult
    public func apply(_ c: ConfigChange) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return objects.apply(c)
    }

    public func load(_ s: ConfigSnapshot) {
        lock.lock(); defer { lock.unlock() }
        objects.load(s)
    }

    static func parse(id: String, _ json: String) -> List? {
        guard let obj = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let name = obj["name"] as? String else { return nil }
        return List(id: id, name: name, members: (obj["members"] as? [Any] ?? []).compactMap { $0 as? String },
                    query: obj["query"] as? String ?? "")
    }
}

/// What a service needs to follow configuration: add `ConfigMirror.topicPrefix` to its
/// consumer's prefixes and hand every envelope to `accept` first. At start (and until it
/// succeeds) it asks the config service for a snapshot; nothing is missed between the two
/// because every object carries the sequence of its last change.
public final class ConfigMirror {
    public static let topicPrefix = "config.changed"
    public let specialObjects = SpecialObjectMirror()
    public let userLists = UserListMirror()
    public private(set) var snapshotLoaded = false
    public private(set) var changesApplied: UInt64 = 0
    /// Called with every change of any kind (inside the consumer's transaction, so a follower
    /// can write its own state atomically with the stream position), after special objects.
    public var onChange: ((ConfigChange) -> Void)?
    /// Called with every snapshot loaded (at start, until one succeeds).
    public var onSnapshot: ((ConfigSnapshot) -> Void)?
    private let runtime: ServiceRuntime
    private var requesting = false

    public init(runtime: ServiceRuntime, retryMs: Int64 = 1000) {
        self.runtime = runtime
        requestSnapshot()
        runtime.every(ms: retryMs) { [unowned self] in if !self.snapshotLoaded { self.requestSnapshot() } }
        runtime.addMetrics { [unowned self] m in
            m["config.snapshot_loaded"] = self.snapshotLoaded ? 1 : 0
            m["config.changes_applied"] = self.changesApplied
            m["config.special_objects"] = UInt64(self.specialObjects.count)
        }
    }

    private func requestSnapshot() {
        guard !requesting else { return }
        requesting = true
        runtime.client.send(service: "config", method: "config.snapshot", payload: [], timeoutMs: 3000) { [weak self] result in
            guard let self else { return }
            self.requesting = false
            guard case .success(let r) = result, r.errorCode == .ok, let s = try? ConfigSnapshot(decoding: r.payload) else { return }
            self.specialObjects.load(s)
            self.userLists.load(s)
            self.onSnapshot?(s)
            self.snapshotLoaded = true
            self.runtime.logger.info("config snapshot loaded", ["head": String(s.head), "special_objects": String(self.specialObjects.count)])
        }
    }

    /// True when the envelope was a config change (applied here); false for anything else.
    public func accept(_ env: StreamEnvelope) -> Bool {
        guard env.stream == Self.topicPrefix else { return false }
        guard let c = try? ConfigChange(decoding: env.payload) else {
            runtime.count("config.malformed")
            return true
        }
        if specialObjects.apply(c) || userLists.apply(c) { changesApplied += 1 }
        onChange?(c)
        return true
    }
}

/// The current objects of some config kinds, kept from snapshots and changes with the same
/// sequence rules as special objects (a change at or below what is known is ignored). For
/// services that act on whole objects (enrichment's `intel_feed`s) and the core of the special
/// object and user list mirrors.
public final class ConfigObjectMirror {
    public struct Object: Sendable, Equatable {
        public var kind: String, id: String, sequence: UInt64, json: String
    }
    public let kinds: Set<String>
    /// Whether an object's JSON is usable; a change or snapshot entry that is not is ignored
    /// (the previous state stays).
    private let accepts: (String) -> Bool
    private var objects: [String: Object] = [:]
    private var deleted: [String: UInt64] = [:]

    public init(kinds: Set<String>, accepts: @escaping (String) -> Bool = { _ in true }) {
        self.kinds = kinds
        self.accepts = accepts
    }

    /// Applies one change; true when it changed what is known.
    @discardableResult
    public func apply(_ c: ConfigChange) -> Bool {
        guard kinds.contains(c.kind) else { return false }
        let key = "\(c.kind)/\(c.id)"
        let known = max(objects[key]?.sequence ?? 0, deleted[key] ?? 0)
        guard c.sequence > known || known == 0 && c.sequence == 0 else { return false }
        if c.action == "deleted" {
            objects[key] = nil
            deleted[key] = c.sequence
        } else {
            guard accepts(c.objectJSON) else { return false }
            objects[key] = Object(kind: c.kind, id: c.id, sequence: c.sequence, json: c.objectJSON)
            deleted[key] = nil
        }
        return true
    }

    /// Loads a snapshot: its objects where newer, and drops objects it no longer has unless a
    /// change after its head made them.
    public func load(_ s: ConfigSnapshot) {
        var present = Set<String>()
        for o in s.objects where kinds.contains(o.kind) {
            let key = "\(o.kind)/\(o.id)"
            present.insert(key)
            let known = max(objects[key]?.sequence ?? 0, deleted[key] ?? 0)
            if o.sequence > known || objects[key] == nil && deleted[key] == nil, accepts(o.objectJSON) {
                objects[key] = Object(kind: o.kind, id: o.id, sequence: o.sequence, json: o.objectJSON)
            }
        }
        for (key, o) in objects where !present.contains(key) && o.sequence <= s.head { objects[key] = nil }
    }

    public func all(kind: String) -> [Object] { objects.values.filter { $0.kind == kind }.sorted { $0.id < $1.id } }
}

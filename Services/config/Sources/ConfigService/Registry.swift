import VigilRules
import VigilStore
import VigilWire

/// The rules of changing configuration: validation, ids, references, confirmation, the audit
/// log and the change record, applied in one transaction. `publish` appends the change to
/// `config.changed` inside that transaction and returns its sequence.
final class Registry {
    let store: ConfigStore
    let publish: (ConfigChange) throws -> UInt64
    let now: () -> Int64
    /// Rules (owned by detection) that use a special object by name: "rule/<id> '<name>' (condition)".
    /// Throws when they cannot be asked; set by the service, none in tests.
    var ruleReferrers: (String) throws -> [String] = { _ in [] }
    /// Rules naming a response template (by id) in their `responses`.
    var templateReferrers: (String) throws -> [String] = { _ in [] }

    init(store: ConfigStore, now: @escaping () -> Int64, publish: @escaping (ConfigChange) throws -> UInt64) {
        self.store = store; self.now = now; self.publish = publish
    }

    static func parse(_ text: String) throws -> JSONValue {
        do { return try JSONReader.parse(text) } catch {
            throw ConfigFailure(.invalidJSON, "\(error)")
        }
    }

    static func kind(_ s: String) throws -> ConfigKind {
        guard let k = ConfigKind(lenient: s) else {
            throw ConfigFailure(.unknownKind, s.isEmpty ? "a kind is required; kinds: \(ConfigKind.names)" : "'\(s)' is not a kind; kinds: \(ConfigKind.names)")
        }
        return k
    }

    // MARK: changes

    func create(_ kind: ConfigKind, json: String, actor: String) throws -> ConfigObject {
        let checked = try Self.checked(kind, Self.parse(json))
        let id: String
        if let given = checked.id {
            if try store.get(kind, given) != nil { throw ConfigFailure(.conflict, "\(kind.rawValue) '\(given)' already exists; use update") }
            id = given
        } else {
            id = try freeId(kind, Validator.slug(checked.name))
        }
        var o = ConfigObject(kind: kind, id: id, name: checked.name, body: checked.body)
        try checkIntegrity(o, lookup: storeLookup)
        let t = now()
        o.createdBy = actor; o.createdMs = t; o.modifiedBy = actor; o.modifiedMs = t
        try store.db.transaction { try record(o, action: "created", before: nil, actor: actor) }
        return try store.get(kind, id) ?? o
    }

    func update(_ kind: ConfigKind, id: String, json: String, actor: String) throws -> ConfigObject {
        let checked = try Self.checked(kind, Self.parse(json))
        guard let targetId = checked.id ?? (id.isEmpty ? nil : id) else {
            throw ConfigFailure(.invalid, "update needs the object's id (in the request or the JSON)")
        }
        if !id.isEmpty, let inBody = checked.id, inBody != id {
            throw ConfigFailure(.invalid, "the JSON's id '\(inBody)' differs from the requested id '\(id)'; ids do not change")
        }
        guard let before = try store.get(kind, targetId) else { throw ConfigFailure(.notFound, "no \(kind.rawValue) with id '\(targetId)'") }
        var o = before
        o.name = checked.name
        o.body = ConfigObject.withId(o.id, checked.body)
        try checkIntegrity(o, lookup: storeLookup)
        if kind == .specialObject && before.name != o.name {
            var users = try referrers(of: before)
            if users.isEmpty { users = try rulesUsing(before.name, confirmed: false) }
            if !users.isEmpty {
                throw ConfigFailure(.referenced, "special object '\(before.name)' cannot be renamed while used by: \(users.joined(separator: ", "))")
            }
        }
        o.modifiedBy = actor; o.modifiedMs = now()
        try store.db.transaction { try record(o, action: "updated", before: before, actor: actor) }
        return try store.get(kind, targetId) ?? o
    }

    /// Deleting a collector needs `confirm` (its sources stop and are deleted with it);
    /// anything still referenced is refused with the referrers named.
    func delete(_ kind: ConfigKind, id: String, confirm: Bool, actor: String) throws -> ConfigObject {
        guard let o = try store.get(kind, id) else { throw ConfigFailure(.notFound, "no \(kind.rawValue) with id '\(id)'") }
        var cascade: [ConfigObject] = []
        if kind == .collector {
            cascade = try store.all(.eventSource).filter { $0.string("collector") == id }
            if !confirm {
                let names = cascade.map { "event_source/\($0.id)" }
                throw ConfigFailure(.confirmationRequired, "deleting collector '\(id)' stops ingestion from its \(cascade.count) event source(s)"
                                    + (names.isEmpty ? "" : " (\(names.joined(separator: ", ")), deleted with it)") + "; repeat with confirm")
            }
        }
        let dropped = Set(cascade.map { "\($0.kind.rawValue)/\($0.id)" })
        var users = try referrers(of: o).filter { r in !dropped.contains(where: { r.hasPrefix($0 + " ") }) }
        for c in cascade { users += try referrers(of: c).filter { r in !dropped.contains(where: { r.hasPrefix($0 + " ") }) && !r.hasPrefix("collector/\(id) ") } }
        // Detection is asked only when no config object already refuses the delete.
        if users.isEmpty && kind == .specialObject { users = try rulesUsing(o.name, confirmed: confirm) }
        if users.isEmpty && kind == .responseTemplate {
            do { users = try templateReferrers(o.id) } catch {
                if !confirm {
                    throw ConfigFailure(.unverified, "cannot check which rules send response template '\(o.id)' (\(error)); repeat with confirm to go ahead anyway")
                }
            }
        }
        if !users.isEmpty {
            throw ConfigFailure(.referenced, "\(kind.rawValue) '\(id)' is used by: \(users.joined(separator: ", "))")
        }
        try store.db.transaction {
            for c in cascade { try record(c, action: "deleted", before: c, actor: actor, removing: true) }
            try record(o, action: "deleted", before: o, actor: actor, removing: true)
        }
        return o
    }

    /// Stores (or removes) the object, writes the audit entry and publishes the change.
    func record(_ o: ConfigObject, action: String, before: ConfigObject?, actor: String, removing: Bool = false) throws {
        var o = o
        let t = now()
        var change = ConfigChange(kind: o.kind.rawValue, id: o.id, action: action, objectJSON: "", actor: actor, timeMs: t)
        if !removing { change.objectJSON = o.compactJSON }
        change.previousJSON = before?.compactJSON ?? ""
        let seq = try publish(change)
        o.sequence = seq
        if removing { try store.remove(o.kind, o.id) } else { try store.put(o) }
        try store.audit(time: t, actor: actor, action: action, kind: o.kind, id: o.id,
                        before: before?.compactJSON ?? "", after: removing ? "" : o.compactJSON, seq: seq)
    }

    // MARK: checks

    static func checked(_ kind: ConfigKind, _ v: JSONValue) throws -> Validator.Checked {
        switch Validator.check(kind, v) {
        case .success(let c): return c
        case .failure(let e): throw e
        }
    }

    typealias Lookup = (Reference) -> Bool
    var storeLookup: Lookup {
        { [store] r in
            (try? (r.byName ? store.byName(r.kind, r.key) : store.get(r.kind, r.key))) != nil
        }
    }

    /// References must resolve; special-object names are unique.
    func checkIntegrity(_ o: ConfigObject, lookup: Lookup) throws {
        var problems: [FieldProblem] = []
        for r in References.outgoing(o.kind, o.body) where !lookup(r) {
            problems.append(FieldProblem(r.field, r.byName ? "no special object named '\(r.key)' (used as @\(r.key))" : "no \(r.kind.rawValue) with id '\(r.key)'"))
        }
        if o.kind == .specialObject, let other = try store.byName(.specialObject, o.name), other.id != o.id {
            problems.append(FieldProblem("name", "special object '\(other.id)' is already named '\(o.name)'"))
        }
        if !problems.isEmpty { throw ConfigFailure(.invalid, "\(o.kind.rawValue) '\(o.id)' is not valid", problems: problems) }
    }

    /// Rules that use `@name`. When detection cannot be asked, the change is refused unless
    /// confirmed (the rules would then silently stop matching).
    func rulesUsing(_ name: String, confirmed: Bool) throws -> [String] {
        do { return try ruleReferrers(name) } catch {
            if confirmed { return [] }
            throw ConfigFailure(.unverified, "cannot check which rules use @\(name) (\(error)); repeat with confirm to go ahead anyway")
        }
    }

    /// "kind/id (field f)" for every object that refers to `target`.
    func referrers(of target: ConfigObject) throws -> [String] {
        var out: [String] = []
        for o in try store.all() where !(o.kind == target.kind && o.id == target.id) {
            for r in References.outgoing(o.kind, o.body) where r.kind == target.kind && (r.byName ? r.key == target.name : r.key == target.id) {
                out.append("\(o.kind.rawValue)/\(o.id) (field \(r.field))")
            }
        }
        return out
    }

    func freeId(_ kind: ConfigKind, _ base: String) throws -> String {
        if try store.get(kind, base) == nil { return base }
        for n in 2...10_000 where try store.get(kind, "\(base)-\(n)") == nil { return "\(base)-\(n)" }
        throw ConfigFailure(.conflict, "no free id near '\(base)'; give one")
    }

    // MARK: presentation

    /// The object as clients see it, with counts that depend on other objects.
    func present(_ o: ConfigObject) throws -> JSONValue {
        guard case .object(var m) = o.json else { return o.json }
        func count(_ kind: ConfigKind, _ field: String) throws -> Int64 {
            try store.db.scalar("SELECT count(*) FROM objects WHERE kind = ? AND json_extract(body, ?) = ?",
                                [.text(kind.rawValue), .text("$." + field), .text(o.id)])?.int64 ?? 0
        }
        switch o.kind {
        case .sourceType: m.append(("sources", .integer(try count(.eventSource, "type"))))
        case .collector: m.append(("event_sources", .integer(try count(.eventSource, "collector"))))
        case .appliance: m.append(("collectors", .integer(try count(.collector, "appliance"))))
        default: break
        }
        return .object(m)
    }
}

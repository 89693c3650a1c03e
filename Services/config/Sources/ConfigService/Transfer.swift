import VigilRules

/// Export and import of the whole configuration. Import checks every object (fields,
/// references against the file plus what is stored, duplicate ids and names) before it
/// changes anything, then applies all of it in one transaction.
extension Registry {
    static let exportVersion: Int64 = 1

    func exportAll() throws -> JSONValue {
        var byKind: [(String, JSONValue)] = []
        for kind in ConfigKind.allCases {
            byKind.append((kind.rawValue, .array(try store.all(kind).map(\.json))))
        }
        return .object([("version", .integer(Self.exportVersion)), ("exported_ms", .integer(now())), ("objects", .object(byKind))])
    }

    struct ImportResult { var created = 0, updated = 0, unchanged = 0 }

    func importAll(_ text: String, actor: String) throws -> ImportResult {
        let doc = try Self.parse(text)
        guard case .object(let kinds)? = doc["objects"] else {
            throw ConfigFailure(.invalid, "an import is an export document: {\"version\": 1, \"objects\": {\"<kind>\": [ … ]}}")
        }
        if let v = doc["version"], v != .integer(Self.exportVersion) {
            throw ConfigFailure(.invalid, "export version \(JSONWriter.write(v, pretty: false)) is not supported (this service reads version \(Self.exportVersion))")
        }
        var problems: [FieldProblem] = []
        var incoming: [ConfigObject] = []
        var keys = Set<String>()
        for (k, list) in kinds {
            guard let kind = ConfigKind(rawValue: k) else { problems.append(FieldProblem("objects.\(k)", "not a kind; kinds: \(ConfigKind.names)")); continue }
            guard case .array(let items) = list else { problems.append(FieldProblem("objects.\(k)", "must be an array")); continue }
            for (i, item) in items.enumerated() {
                let path = "objects.\(k)[\(i)]"
                switch Validator.check(kind, item) {
                case .failure(let e):
                    problems += e.problems.isEmpty ? [FieldProblem(path, e.message)] : e.problems.map { FieldProblem("\(path).\($0.field)", $0.problem) }
                case .success(let c):
                    guard let id = c.id else { problems.append(FieldProblem("\(path).id", "required in an import")); continue }
                    guard keys.insert("\(k)/\(id)").inserted else { problems.append(FieldProblem("\(path).id", "'\(id)' appears twice")); continue }
                    var o = ConfigObject(kind: kind, id: id, name: c.name, body: c.body)
                    if case .string(let s)? = item["created_by"] { o.createdBy = s }
                    if case .integer(let t)? = item["created_ms"] { o.createdMs = t }
                    incoming.append(o)
                }
            }
        }
        // References resolve against the file first, then the store.
        let ids = Set(incoming.map { "\($0.kind.rawValue)/\($0.id)" })
        var names: [String: String] = [:]
        for o in incoming where o.kind == .specialObject {
            if let other = names[o.name] { problems.append(FieldProblem("objects.special_object.\(o.id).name", "'\(o.name)' is also the name of '\(other)'")) }
            names[o.name] = o.id
        }
        let stored = storeLookup
        for o in incoming {
            for r in References.outgoing(o.kind, o.body) {
                let found = r.byName ? names[r.key] != nil : ids.contains("\(r.kind.rawValue)/\(r.key)")
                if !found && !stored(r) {
                    problems.append(FieldProblem("objects.\(o.kind.rawValue).\(o.id).\(r.field)",
                                                 r.byName ? "no special object named '\(r.key)'" : "no \(r.kind.rawValue) with id '\(r.key)'"))
                }
            }
            if o.kind == .specialObject, let s = try store.byName(.specialObject, o.name), s.id != o.id, names[o.name] == o.id {
                problems.append(FieldProblem("objects.special_object.\(o.id).name", "stored special object '\(s.id)' is already named '\(o.name)'"))
            }
        }
        if !problems.isEmpty {
            throw ConfigFailure(.invalid, "import refused; nothing was changed (\(problems.count) problem(s))", problems: Array(problems.prefix(50)))
        }
        var result = ImportResult()
        let t = now()
        try store.db.transaction {
            for var o in incoming {
                let before = try store.get(o.kind, o.id)
                if let b = before, b.name == o.name, b.body == o.body { result.unchanged += 1; continue }
                o.createdBy = before?.createdBy ?? (o.createdBy.isEmpty ? actor : o.createdBy)
                o.createdMs = before?.createdMs ?? (o.createdMs == 0 ? t : o.createdMs)
                o.modifiedBy = actor; o.modifiedMs = t
                try record(o, action: before == nil ? "created" : "updated", before: before, actor: actor)
                if before == nil { result.created += 1 } else { result.updated += 1 }
            }
        }
        return result
    }

    /// Counts per kind and what changed in the last 24 hours.
    func overview() throws -> JSONValue {
        let since = now() - 24 * 3600 * 1000
        let rows = try store.counts(sinceMs: since)
        var areas: [(String, JSONValue)] = []
        var total: Int64 = 0, created: Int64 = 0, updated: Int64 = 0
        for kind in ConfigKind.allCases {
            let r = rows.first { $0.kind == kind.rawValue }
            total += r?.total ?? 0; created += r?.created ?? 0; updated += r?.updated ?? 0
            areas.append((kind.rawValue, .object([("total", .integer(r?.total ?? 0)), ("created_24h", .integer(r?.created ?? 0)),
                                                  ("updated_24h", .integer(r?.updated ?? 0))])))
        }
        let recent = try store.db.query("SELECT kind, id, name, modified_by, modified_ms, created_ms FROM objects WHERE modified_ms >= ? ORDER BY modified_ms DESC LIMIT 20",
                                        [.integer(since)]).map { r -> JSONValue in
            .object([("kind", .string(r.string(0))), ("id", .string(r.string(1))), ("name", .string(r.string(2))),
                     ("change", .string(r.int(5) == r.int(4) ? "created" : "updated")),
                     ("modified_by", .string(r.string(3))), ("modified_ms", .integer(r.int(4)))])
        }
        return .object([("total", .integer(total)), ("created_24h", .integer(created)), ("updated_24h", .integer(updated)),
                        ("areas", .object(areas)), ("recent", .array(recent))])
    }
}

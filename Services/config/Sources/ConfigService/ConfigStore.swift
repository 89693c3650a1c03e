import VigilRules
import VigilStore

/// The config service's tables: one row per object (kind, id, fields as JSON, metadata),
/// the audit log, and views that give sources, collectors and appliances columns for QQL.
final class ConfigStore {
    static let migrations: [Migration] = [
        Migration(1, "objects and audit log", """
        CREATE TABLE objects(kind TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
            created_by TEXT NOT NULL, created_ms INTEGER NOT NULL, modified_by TEXT NOT NULL, modified_ms INTEGER NOT NULL,
            seq INTEGER NOT NULL, PRIMARY KEY(kind, id)) WITHOUT ROWID;
        CREATE INDEX objects_name ON objects(kind, name);
        CREATE INDEX objects_modified ON objects(modified_ms);
        CREATE TABLE audit(n INTEGER PRIMARY KEY AUTOINCREMENT, time_ms INTEGER NOT NULL, actor TEXT NOT NULL,
            action TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, before TEXT NOT NULL, after TEXT NOT NULL,
            seq INTEGER NOT NULL);
        CREATE INDEX audit_object ON audit(kind, id);
        """),
        Migration(2, "QQL views for sources, collectors and appliances", """
        CREATE VIEW config_sources AS SELECT o.id AS id, o.name AS name, json_extract(o.body, '$.type') AS type,
            json_extract(o.body, '$.collector') AS collector, coalesce(json_extract(o.body, '$.address'), '') AS address,
            coalesce(json_extract(t.body, '$.format'), '') AS format, coalesce(json_extract(t.body, '$.vendor'), '') AS vendor,
            coalesce(json_extract(t.body, '$.product'), '') AS product,
            coalesce(json_extract(o.body, '$.enabled'), 1) AS enabled, o.modified_ms AS modified_ms
            FROM objects o LEFT JOIN objects t ON t.kind = 'source_type' AND t.id = json_extract(o.body, '$.type')
            WHERE o.kind = 'event_source';
        CREATE VIEW config_collectors AS SELECT o.id AS id, o.name AS name, json_extract(o.body, '$.type') AS type,
            json_extract(o.body, '$.appliance') AS appliance, coalesce(json_extract(o.body, '$.status'), 'stopped') AS status,
            coalesce(json_extract(o.body, '$.version'), '') AS version,
            (SELECT count(*) FROM objects s WHERE s.kind = 'event_source' AND json_extract(s.body, '$.collector') = o.id) AS sources,
            o.modified_ms AS modified_ms
            FROM objects o WHERE o.kind = 'collector';
        CREATE VIEW config_appliances AS SELECT o.id AS id, o.name AS name, json_extract(o.body, '$.hostname') AS hostname,
            json_extract(o.body, '$.ip') AS ip, coalesce(json_extract(o.body, '$.version'), '') AS version,
            coalesce(json_extract(o.body, '$.role'), 'all-in-one') AS role,
            coalesce(json_extract(o.body, '$.logs_received'), 0) AS logs_received,
            (SELECT count(*) FROM objects c WHERE c.kind = 'collector' AND json_extract(c.body, '$.appliance') = o.id) AS collectors,
            o.modified_ms AS modified_ms
            FROM objects o WHERE o.kind = 'appliance';
        """),
    ]

    let db: Database
    init(db: Database) throws {
        self.db = db
        _ = try db.migrate(component: "config", Self.migrations)
    }

    static let columns = "kind, id, name, body, created_by, created_ms, modified_by, modified_ms, seq"

    static func object(_ r: Row) throws -> ConfigObject {
        guard let kind = ConfigKind(rawValue: r.string(0)) else { throw ConfigFailure(.unknownKind, "stored kind '\(r.string(0))'") }
        var o = ConfigObject(kind: kind, id: r.string(1), name: r.string(2), body: try JSONReader.parse(r.string(3)))
        o.createdBy = r.string(4); o.createdMs = r.int(5); o.modifiedBy = r.string(6); o.modifiedMs = r.int(7)
        o.sequence = UInt64(max(0, r.int(8)))
        return o
    }

    func get(_ kind: ConfigKind, _ id: String) throws -> ConfigObject? {
        try db.query("SELECT \(Self.columns) FROM objects WHERE kind = ? AND id = ?", [.text(kind.rawValue), .text(id)]).first.map(Self.object)
    }

    func byName(_ kind: ConfigKind, _ name: String) throws -> ConfigObject? {
        try db.query("SELECT \(Self.columns) FROM objects WHERE kind = ? AND name = ?", [.text(kind.rawValue), .text(name)]).first.map(Self.object)
    }

    func all(_ kind: ConfigKind? = nil, limit: Int = Int.max) throws -> [ConfigObject] {
        let lim = Int64(min(limit, Int(Int64.max)))
        if let kind {
            return try db.query("SELECT \(Self.columns) FROM objects WHERE kind = ? ORDER BY id LIMIT ?", [.text(kind.rawValue), .integer(lim)]).map(Self.object)
        }
        return try db.query("SELECT \(Self.columns) FROM objects ORDER BY kind, id LIMIT ?", [.integer(lim)]).map(Self.object)
    }

    func put(_ o: ConfigObject) throws {
        try db.run("INSERT OR REPLACE INTO objects(\(Self.columns)) VALUES(?,?,?,?,?,?,?,?,?)",
                   [.text(o.kind.rawValue), .text(o.id), .text(o.name), .text(JSONWriter.write(o.body, pretty: false)),
                    .text(o.createdBy), .integer(o.createdMs), .text(o.modifiedBy), .integer(o.modifiedMs), .integer(Int64(o.sequence))])
    }

    func remove(_ kind: ConfigKind, _ id: String) throws {
        try db.run("DELETE FROM objects WHERE kind = ? AND id = ?", [.text(kind.rawValue), .text(id)])
    }

    func audit(time: Int64, actor: String, action: String, kind: ConfigKind, id: String, before: String, after: String, seq: UInt64) throws {
        try db.run("INSERT INTO audit(time_ms, actor, action, kind, id, before, after, seq) VALUES(?,?,?,?,?,?,?,?)",
                   [.integer(time), .text(actor), .text(action), .text(kind.rawValue), .text(id), .text(before), .text(after), .integer(Int64(seq))])
    }

    func auditEntries(kind: String, id: String, limit: Int) throws -> [JSONValue] {
        var sql = "SELECT n, time_ms, actor, action, kind, id, before, after, seq FROM audit"
        var args: [SQLValue] = []
        var conds: [String] = []
        if !kind.isEmpty { conds.append("kind = ?"); args.append(.text(kind)) }
        if !id.isEmpty { conds.append("id = ?"); args.append(.text(id)) }
        if !conds.isEmpty { sql += " WHERE " + conds.joined(separator: " AND ") }
        sql += " ORDER BY n DESC LIMIT ?"
        args.append(.integer(Int64(limit)))
        return try db.query(sql, args).map { r in
            func doc(_ s: String) -> JSONValue { s.isEmpty ? .null : ((try? JSONReader.parse(s)) ?? .string(s)) }
            return .object([("n", .integer(r.int(0))), ("time_ms", .integer(r.int(1))), ("actor", .string(r.string(2))),
                            ("action", .string(r.string(3))), ("kind", .string(r.string(4))), ("id", .string(r.string(5))),
                            ("before", doc(r.string(6))), ("after", doc(r.string(7))), ("sequence", .integer(r.int(8)))])
        }
    }

    func counts(sinceMs: Int64) throws -> [(kind: String, total: Int64, created: Int64, updated: Int64)] {
        try db.query("""
            SELECT kind, count(*), sum(created_ms >= ?), sum(modified_ms >= ? AND modified_ms > created_ms) FROM objects GROUP BY kind
            """, [.integer(sinceMs), .integer(sinceMs)]).map { ($0.string(0), $0.int(1), $0.int(2), $0.int(3)) }
    }
}

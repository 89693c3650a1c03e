/// A forward schema migration. Versions start at 1 and only grow; a released migration is
/// never edited, a new one is appended.
public struct Migration: Sendable {
    public var version: Int
    public var name: String
    public var sql: String
    public init(_ version: Int, _ name: String, _ sql: String) {
        self.version = version; self.name = name; self.sql = sql
    }
}

extension Database {
    /// The schema version of `component` recorded in the file. Several components (the
    /// service's own tables, the stream outbox, consumer positions) share one file and each
    /// versions its tables independently.
    public func schemaVersion(component: String) throws -> Int {
        try execute("CREATE TABLE IF NOT EXISTS vigil_schema(component TEXT PRIMARY KEY, version INTEGER NOT NULL)")
        return Int(try scalar("SELECT version FROM vigil_schema WHERE component = ?", [.text(component)])?.int64 ?? 0)
    }

    /// Applies every migration of `component` newer than the file's version, each in its own
    /// transaction, in version order. Refuses a file written by a newer schema than this code knows.
    @discardableResult
    public func migrate(component: String, _ migrations: [Migration]) throws -> [Migration] {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (i, m) in sorted.enumerated() where m.version != i + 1 {
            throw StoreError(code: .migration, message: "migration versions must be 1, 2, 3…; found \(m.version) at position \(i + 1) (\(m.name))")
        }
        let current = try schemaVersion(component: component)
        if current > sorted.count {
            throw StoreError(code: .migration, message: "\(path) has \(component) schema version \(current), newer than this program knows (\(sorted.count)); upgrade the program")
        }
        var applied: [Migration] = []
        for m in sorted where m.version > current {
            do {
                try transaction {
                    try execute(m.sql)
                    try run("INSERT INTO vigil_schema(component, version) VALUES(?, ?) ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                            [.text(component), .integer(Int64(m.version))])
                }
            } catch let e as StoreError {
                throw StoreError(code: .migration, sqliteCode: e.sqliteCode,
                                 message: "\(component) migration \(m.version) (\(m.name)) failed: \(e.message)", sql: e.sql)
            }
            applied.append(m)
        }
        return applied
    }
}

import VigilQuery
import VigilService
import VigilStore

/// An in-memory store for running compiled QQL for real: VigilStore's connection (the one
/// module that touches SQLite) with QQL's SQL helpers registered the way every service's
/// store registers them (`ListQueries.registerFunctions`).
final class SQLiteTestDB {
    let db: Database

    init(path: String = ":memory:") throws {
        db = try Database(path: path)
        try ListQueries.registerFunctions(on: db)
    }

    func exec(_ sql: String) throws { try db.execute(sql) }

    func rows(_ compiled: CompiledSQL) throws -> [[VigilQuery.SQLValue?]] {
        try rows(compiled.sql, compiled.parameters.map { Optional($0) })
    }

    func rows(_ sql: String, _ parameters: [VigilQuery.SQLValue?] = []) throws -> [[VigilQuery.SQLValue?]] {
        try db.query(sql, parameters.map { $0.map(ListQueries.toStore) ?? .null }).map { row in
            row.values.map(ListQueries.toQuery)
        }
    }

    func run(_ sql: String, _ parameters: [VigilQuery.SQLValue?]) throws {
        _ = try rows(sql, parameters)
    }
}

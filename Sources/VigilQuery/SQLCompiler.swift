import Foundation

/// Sort key for search pages.
public struct SortOrder: Sendable, Equatable {
    public var token: String
    public var descending: Bool

    public init(token: String, descending: Bool = true) {
        self.token = token
        self.descending = descending
    }
}

/// Where the previous page ended: the last row's `qql_sort` and `qql_id` columns.
public struct PageCursor: Sendable, Equatable {
    /// nil when the last row had no value for the sort token.
    public var sortValue: SQLValue?
    public var id: SQLValue

    public init(sortValue: SQLValue?, id: SQLValue) {
        self.sortValue = sortValue
        self.id = id
    }
}

public struct HistogramBucket: Sendable, Equatable {
    public var start: Int64
    public var count: Int64
}

/// A histogram query plus what is needed to lay its rows out as buckets.
public struct HistogramPlan: Sendable, Equatable {
    /// Returns rows `(bucket INTEGER, count INTEGER)`; empty buckets are absent.
    public var sql: CompiledSQL
    public var start: Int64
    public var bucketMillis: Int64
    public var bucketCount: Int

    /// All buckets in order, zero-filled.
    public func buckets(from rows: [(bucket: Int64, count: Int64)]) -> [HistogramBucket] {
        var counts = [Int64](repeating: 0, count: bucketCount)
        for row in rows where row.bucket >= 0 && row.bucket < Int64(bucketCount) {
            counts[Int(row.bucket)] += row.count
        }
        return counts.enumerated().map { HistogramBucket(start: start + Int64($0.offset) * bucketMillis, count: $0.element) }
    }
}

/// Compiles queries to SQLite SQL. Values only ever travel as bound parameters;
/// table, column and JSON path text comes from the catalog, never from the query.
///
/// The SQL calls `qql_num` and `qql_ip` (see `QQLFunctions`), which the store registers.
public struct SQLCompiler: Sendable {
    public let catalog: TokenCatalog
    /// Full-text terms filter rows but must not drive the query: `+rowidColumn IN (…)` keeps
    /// SQLite from starting at the FTS matches, so a newest-first page walks the time index and
    /// stops after a page. Right when every term is common (see `ListQueries.search`); for a
    /// rare term starting at its few matches is far faster.
    public var fullTextFiltersOnly = false

    public init(catalog: TokenCatalog) {
        self.catalog = catalog
    }

    // MARK: Entry points

    /// A boolean SQL expression for a WHERE clause (no `WHERE` keyword).
    public func filter(_ query: Query, context: QueryContext) throws -> CompiledSQL {
        var builder = SQLBuilder()
        let sql = try where_(query, context, &builder)
        return CompiledSQL(sql: sql, parameters: builder.parameters)
    }

    public func filter(_ text: String, context: QueryContext) throws -> CompiledSQL {
        try filter(QueryParser().parse(text), context: context)
    }

    /// `SELECT <columns>, <sort> AS qql_sort, <id> AS qql_id FROM … ORDER BY … LIMIT ?`,
    /// continuing after `cursor` (keyset pagination; missing sort values come
    /// first ascending and last descending, as in SQLite).
    public func search(_ query: Query, context: QueryContext, sort: SortOrder? = nil, after cursor: PageCursor? = nil,
                       limit: Int = 50, columns: [String] = ["*"]) throws -> CompiledSQL {
        let order = try resolveSort(sort, query: query.text)
        var builder = SQLBuilder()
        let id = quoteIdentifier(catalog.idColumn)
        let selected = columns.map { $0 == "*" ? "*" : quoteIdentifier($0) }.joined(separator: ", ")
        var sql = "SELECT \(selected), \(order.expression) AS qql_sort, \(id) AS qql_id FROM \(quoteIdentifier(catalog.table)) WHERE "
        var conditions = [try where_(query, context, &builder)]
        if let cursor {
            conditions.append(keyset(order.expression, id, descending: order.descending, cursor, &builder))
        }
        sql += conditions.map { "(\($0))" }.joined(separator: " AND ")
        let direction = order.descending ? "DESC" : "ASC"
        sql += " ORDER BY \(order.expression) \(direction), \(id) \(direction) LIMIT \(builder.bind(.integer(Int64(max(0, limit)))))"
        return CompiledSQL(sql: sql, parameters: builder.parameters)
    }

    /// `SELECT count(*) AS count FROM … WHERE …`.
    public func count(_ query: Query, context: QueryContext) throws -> CompiledSQL {
        var builder = SQLBuilder()
        let sql = "SELECT count(*) AS count FROM \(quoteIdentifier(catalog.table)) WHERE " + (try where_(query, context, &builder))
        return CompiledSQL(sql: sql, parameters: builder.parameters)
    }

    /// Top `limit` values of `token` among matching rows: rows `(value, count)`,
    /// most frequent first, ties by value.
    public func facet(_ query: Query, context: QueryContext, token name: String, limit: Int = 10) throws -> CompiledSQL {
        let token = try lookup(name, query: query.text)
        let value = valueExpression(token)
        var builder = SQLBuilder()
        let filter = try where_(query, context, &builder)
        let sql = "SELECT \(value) AS value, count(*) AS count FROM \(quoteIdentifier(catalog.table)) WHERE (\(filter)) AND \(value) IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 ASC LIMIT \(builder.bind(.integer(Int64(max(0, limit)))))"
        return CompiledSQL(sql: sql, parameters: builder.parameters)
    }

    /// Counts of matching rows per time bucket over `[from, to)` (ms), split into
    /// `buckets` equal buckets (the last may extend past `to` by rounding).
    public func histogram(_ query: Query, context: QueryContext, token name: String? = nil,
                          from: Int64, to: Int64, buckets: Int) throws -> HistogramPlan {
        guard let name = name ?? catalog.defaultTimeToken else {
            throw QueryError(.unsupported, at: 0, "the \(catalog.list) list has no time token for histograms", query: query.text)
        }
        let token = try lookup(name, query: query.text)
        guard token.type == .time else {
            throw QueryError(.typeMismatch, at: 0, "histograms need a time token; \(token.name) takes \(article(token.type))", query: query.text)
        }
        guard buckets > 0, buckets <= 10_000, to > from else {
            throw QueryError(.unsupported, at: 0, "a histogram needs 1…10000 buckets and a range whose end is after its start", query: query.text)
        }
        let span = to.subtractingReportingOverflow(from)
        guard !span.overflow else {
            throw QueryError(.unsupported, at: 0, "histogram range is too large", query: query.text)
        }
        let whole = span.partialValue / Int64(buckets)
        let size = max(1, span.partialValue % Int64(buckets) == 0 ? whole : whole + 1)
        let (time, guardSQL) = numericExpression(token)
        var builder = SQLBuilder()
        var sql = "SELECT CAST((\(time) - \(builder.bind(.integer(from)))) / \(builder.bind(.integer(size))) AS INTEGER) AS bucket, count(*) AS count FROM \(quoteIdentifier(catalog.table)) WHERE ("
        sql += try where_(query, context, &builder) + ") AND "
        if let guardSQL { sql += guardSQL + " AND " }
        sql += "\(time) >= \(builder.bind(.integer(from))) AND \(time) < \(builder.bind(.integer(to))) GROUP BY 1 ORDER BY 1"
        return HistogramPlan(sql: CompiledSQL(sql: sql, parameters: builder.parameters), start: from, bucketMillis: size, bucketCount: buckets)
    }

    /// The FTS5 MATCH texts the query's free text compiles to (empty without a full-text index).
    public func fullTextMatches(_ query: Query) throws -> [String] {
        guard catalog.fullText != nil else { return [] }
        var out: [String] = []
        func walk(_ c: Condition) {
            switch c {
            case .and(let parts), .or(let parts): parts.forEach(walk)
            case .not(let inner): walk(inner)
            case .fullText(let match, _): out.append(match)
            case .constant, .test, .special: break
            }
        }
        walk(try Binder(catalog: catalog).bind(query))
        return out
    }

    // MARK: Conditions

    private func where_(_ query: Query, _ context: QueryContext, _ builder: inout SQLBuilder) throws -> String {
        let condition = try Binder(catalog: catalog).bind(query)
        do {
            return try compile(condition, context, &builder)
        } catch let error as QueryError {
            throw error.with(query: query.text)
        }
    }

    private func compile(_ condition: Condition, _ context: QueryContext, _ builder: inout SQLBuilder) throws -> String {
        switch condition {
        case .constant(let value):
            return value ? "1" : "0"
        case .and(let parts):
            return try balanced(parts.map { try compile($0, context, &builder) }, "AND", empty: "1")
        case .or(let parts):
            return try balanced(parts.map { try compile($0, context, &builder) }, "OR", empty: "0")
        case .not(let inner):
            // NULL (missing field) must count as false before negating, so
            // `not x: v` matches rows without x. COALESCE commutes with AND/OR.
            return "NOT COALESCE((\(try compile(inner, context, &builder))), 0)"
        case .test(let token, let test):
            return compile(test, token, context, &builder)
        case .special(let token, let name, let position):
            let resolved = try SpecialObjectResolver.resolve(token, name: name, position: position, provider: context.specialObjects)
            return try compile(resolved, context, &builder)
        case .fullText(let match, let fallback):
            guard let index = catalog.fullText else { return try compile(fallback, context, &builder) }
            let table = quoteIdentifier(index.table)
            return "\(fullTextFiltersOnly ? "+" : "")\(quoteIdentifier(index.rowidColumn)) IN (SELECT rowid FROM \(table) WHERE \(table) MATCH \(builder.bind(.text(match))))"
        }
    }

    /// Joins as a balanced tree so SQLite's expression depth stays logarithmic.
    private func balanced(_ parts: [String], _ op: String, empty: String) -> String {
        if parts.isEmpty { return empty }
        if parts.count == 1 { return parts[0] }
        let mid = parts.count / 2
        return "(\(balanced(Array(parts[..<mid]), op, empty: empty))) \(op) (\(balanced(Array(parts[mid...]), op, empty: empty)))"
    }

    private func compile(_ test: Test, _ token: TokenDefinition, _ context: QueryContext, _ builder: inout SQLBuilder) -> String {
        let value = valueExpression(token)
        switch test {
        case .containsFolded(let needle):
            return "instr(lower(\(value)), \(builder.bind(.text(needle)))) > 0"
        case .contains(let needle):
            return "instr(\(value), \(builder.bind(.text(needle)))) > 0"
        case .equalsFolded(let members):
            if members.list.count == 1 { return "lower(\(value)) = \(builder.bind(.text(members.list[0])))" }
            return "lower(\(value)) IN (\(members.list.map { builder.bind(.text($0)) }.joined(separator: ", ")))"
        case .equals(let expected):
            return "\(value) = \(builder.bind(.text(expected)))"
        case .like(let pattern):
            return "lower(\(value)) LIKE \(builder.bind(.text(pattern.likePattern))) ESCAPE '\\'"
        case .compare(let comparison, let operand):
            let (number, guardSQL) = numericExpression(token)
            let test = "\(number) \(comparison.rawValue) \(builder.bind(operand.resolve(nowMillis: context.nowMillis).sqlValue))"
            return guardSQL.map { "\($0) AND \(test)" } ?? test
        case .between(let low, let high):
            let (number, guardSQL) = numericExpression(token)
            let test = "\(number) BETWEEN \(builder.bind(low.resolve(nowMillis: context.nowMillis).sqlValue)) AND \(builder.bind(high.resolve(nowMillis: context.nowMillis).sqlValue))"
            return guardSQL.map { "\($0) AND \(test)" } ?? test
        case .numberIn(let members):
            let (number, guardSQL) = numericExpression(token)
            let test = "\(number) IN (\(members.map { builder.bind($0.sqlValue) }.joined(separator: ", ")))"
            return guardSQL.map { "\($0) AND \(test)" } ?? test
        case .ipCompare(let comparison, let key):
            return "\(QQLFunctions.ipFunctionName)(\(value)) \(comparison.rawValue) \(builder.bind(.text(key)))"
        case .ipBetween(let low, let high):
            return "\(QQLFunctions.ipFunctionName)(\(value)) BETWEEN \(builder.bind(.text(low))) AND \(builder.bind(.text(high)))"
        case .ipIn(let keys):
            return "\(QQLFunctions.ipFunctionName)(\(value)) IN (\(keys.list.map { builder.bind(.text($0)) }.joined(separator: ", ")))"
        case .bool(let expected):
            return "(CASE lower(CAST(\(value) AS TEXT)) WHEN 'true' THEN 1 WHEN '1' THEN 1 WHEN 'false' THEN 0 WHEN '0' THEN 0 END) = \(builder.bind(.integer(expected ? 1 : 0)))"
        }
    }

    // MARK: Expressions

    /// The raw stored value of a token.
    func valueExpression(_ token: TokenDefinition) -> String {
        switch token.storage {
        case .column(let name):
            return quoteIdentifier(name)
        case .json(let column, let path):
            return "json_extract(\(quoteIdentifier(column)), \(quoteLiteral(path)))"
        }
    }

    /// The numeric value and, for columns, a guard that drops non-numeric values.
    /// Columns are compared directly so an index on them applies.
    private func numericExpression(_ token: TokenDefinition) -> (String, String?) {
        let value = valueExpression(token)
        switch token.storage {
        case .column: return (value, "typeof(\(value)) IN ('integer', 'real')")
        case .json: return ("\(QQLFunctions.numberFunctionName)(\(value))", nil)
        }
    }

    private func sortExpression(_ token: TokenDefinition) -> String {
        let value = valueExpression(token)
        guard case .json = token.storage else { return value }
        switch token.type {
        case .number, .time: return "\(QQLFunctions.numberFunctionName)(\(value))"
        case .ip: return "\(QQLFunctions.ipFunctionName)(\(value))"
        case .text, .keyword, .bool: return value
        }
    }

    private func resolveSort(_ sort: SortOrder?, query: String) throws -> (expression: String, descending: Bool) {
        if let sort {
            return (sortExpression(try lookup(sort.token, query: query)), sort.descending)
        }
        if let name = catalog.defaultTimeToken, let token = catalog.token(named: name) {
            return (sortExpression(token), true)
        }
        return (quoteIdentifier(catalog.idColumn), false)
    }

    private func keyset(_ sort: String, _ id: String, descending: Bool, _ cursor: PageCursor, _ builder: inout SQLBuilder) -> String {
        let after = descending ? "<" : ">"
        guard let value = cursor.sortValue else {
            // NULL sort values sort first ascending, last descending.
            return descending
                ? "\(sort) IS NULL AND \(id) < \(builder.bind(cursor.id))"
                : "(\(sort) IS NULL AND \(id) > \(builder.bind(cursor.id))) OR \(sort) IS NOT NULL"
        }
        var sql = "\(sort) \(after) \(builder.bind(value)) OR (\(sort) = \(builder.bind(value)) AND \(id) \(after) \(builder.bind(cursor.id)))"
        if descending { sql += " OR \(sort) IS NULL" }
        return sql
    }

    private func lookup(_ name: String, query: String) throws -> TokenDefinition {
        if let token = catalog.token(named: name) { return token }
        let near = catalog.nearest(to: name)
        throw QueryError(.unknownToken, at: 0, "unknown token '\(name)' for \(catalog.list)"
                         + (near.isEmpty ? "" : "; did you mean " + near.joined(separator: ", ") + "?"),
                         query: query, suggestions: near)
    }
}

/// Collects bound values in placeholder order.
struct SQLBuilder {
    private(set) var parameters: [SQLValue] = []

    mutating func bind(_ value: SQLValue) -> String {
        parameters.append(value)
        return "?"
    }
}

/// Identifiers come from catalogs, but quote them anyway so a name can never end the SQL.
func quoteIdentifier(_ name: String) -> String {
    if name.lowercased() == "rowid" { return "rowid" }
    return "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

func quoteLiteral(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
}

import Foundation

/// One record as the evaluator sees it: the raw value a token's storage holds,
/// shaped like SQLite would return it (`json_extract` gives TEXT for JSON strings).
public protocol QueryRecord {
    /// The value for this token, or nil when the record lacks it.
    func value(for token: TokenDefinition) -> SQLValue?
    /// A memo the conditions evaluated on this record share (nil: none). A record that many
    /// conditions are evaluated on in a row (a rule engine's event) carries one.
    var memo: RecordMemo? { get }
}

extension QueryRecord {
    public var memo: RecordMemo? { nil }
}

/// A record held as column values plus decoded JSON columns; resolves
/// `TokenStorage` the way SQLite would (simple `$."key"` / `$.key` paths).
public struct RowRecord: QueryRecord, Sendable {
    public var columns: [String: SQLValue]
    public var json: [String: [String: SQLValue]]

    public init(columns: [String: SQLValue] = [:], json: [String: [String: SQLValue]] = [:]) {
        self.columns = columns
        self.json = json
    }

    public func value(for token: TokenDefinition) -> SQLValue? {
        switch token.storage {
        case .column(let name):
            return columns[name]
        case .json(let column, _):
            guard let key = token.jsonKey else { return nil }
            return json[column]?[key]
        }
    }
}

/// Evaluates a query on in-memory records (rule conditions) with exactly the
/// semantics of the compiled SQL.
///
/// A class: rule engines hold one per condition and read it per event; copying a struct of this
/// size retained each of its references every time.
public final class QueryEvaluator: Sendable {
    public let query: Query
    public let catalog: TokenCatalog
    let condition: Condition
    let flat: FlatCondition
    private let cache = SpecialObjectCache()

    public convenience init(_ text: String, catalog: TokenCatalog) throws {
        try self.init(query: QueryParser().parse(text), catalog: catalog)
    }

    public init(query: Query, catalog: TokenCatalog) throws {
        self.query = query
        self.catalog = catalog
        condition = try Binder(catalog: catalog).bind(query)
        flat = FlatCondition(condition)
    }

    /// Special objects and `now` are taken from `context` on every call.
    public func matches(_ record: some QueryRecord, context: QueryContext) throws -> Bool {
        do {
            return try flat.evaluate(record, nowMillis: context.nowMillis) { s in
                let resolved = try cache.resolve(s.token, name: s.name, position: s.position, provider: context.specialObjects)
                return try evaluate(resolved, record, context)
            }
        } catch let error as QueryError {
            throw error.with(query: query.text)
        }
    }

    /// The tree walk, for a resolved special object's condition (the flat form handles the rest).
    private func evaluate(_ condition: Condition, _ record: some QueryRecord, _ context: QueryContext) throws -> Bool {
        switch condition {
        case .constant(let value):
            return value
        case .and(let parts):
            for part in parts where try !evaluate(part, record, context) { return false }
            return true
        case .or(let parts):
            for part in parts where try evaluate(part, record, context) { return true }
            return false
        case .not(let inner):
            return try !evaluate(inner, record, context)
        case .test(let token, let test):
            // A missing field never satisfies a test (so `not` matches it).
            guard let value = record.value(for: token) else { return false }
            return Self.check(test, token, value, nowMillis: context.nowMillis)
        case .special(let token, let name, let position):
            let resolved = try cache.resolve(token, name: name, position: position, provider: context.specialObjects)
            return try evaluate(resolved, record, context)
        case .fullText(_, let fallback):
            return try evaluate(fallback, record, context)
        }
    }

    static func check(_ test: Test, _ token: TokenDefinition, _ value: SQLValue, nowMillis: Int64) -> Bool {
        if case .json = token.storage { return check(test, jsonStored: true, value, nil, nowMillis: nowMillis) }
        return check(test, jsonStored: false, value, nil, nowMillis: nowMillis)
    }

    /// `memo`: the record's memo and the token's slot in it, so the lowered text, the number or
    /// the address key is worked out once per record however many conditions test the field.
    static func check(_ test: Test, jsonStored: Bool, _ value: SQLValue, _ memo: (RecordMemo, Int)?, nowMillis: Int64) -> Bool {
        func lowered() -> String { memo.map { $0.0.lowered($0.1, value) } ?? TextMatch.asciiLowercased(value.sqliteText) }
        func number() -> QNumber? { memo.map { $0.0.number($0.1, value, jsonStored: jsonStored) } ?? numericValue(jsonStored: jsonStored, value) }
        func ipKey() -> String? { memo.map { $0.0.ipKey($0.1, value) } ?? QQLFunctions.ipKey(value) }
        switch test {
        case .containsFolded(let needle):
            return TextMatch.contains(lowered(), needle)
        case .contains(let needle):
            return TextMatch.contains(value.sqliteText, needle)
        case .equalsFolded(let members):
            return members.contains(lowered())
        case .equals(let expected):
            // SQLite: an INTEGER/REAL never equals TEXT without column affinity.
            guard case .text(let s) = value else { return false }
            return s == expected
        case .like(let pattern):
            return pattern.matches(lowered())
        case .compare(let comparison, let operand):
            guard let n = number() else { return false }
            return comparison.holds(QNumber.compare(n, operand.resolve(nowMillis: nowMillis)))
        case .between(let low, let high):
            guard let n = number() else { return false }
            return QNumber.compare(n, low.resolve(nowMillis: nowMillis)) >= 0
                && QNumber.compare(n, high.resolve(nowMillis: nowMillis)) <= 0
        case .numberIn(let members):
            guard let n = number() else { return false }
            return members.contains { QNumber.compare(n, $0) == 0 }
        case .ipCompare(let comparison, let key):
            guard let k = ipKey() else { return false }
            return comparison.holds(k < key ? -1 : (k > key ? 1 : 0))
        case .ipBetween(let low, let high):
            guard let k = ipKey() else { return false }
            return low <= k && k <= high
        case .ipIn(let keys):
            guard let k = ipKey() else { return false }
            return keys.contains(k)
        case .bool(let expected):
            guard let b = boolValue(value) else { return false }
            return b == expected
        }
    }

    /// Column-stored numbers are used as stored (text is not a number there);
    /// JSON-stored ones go through `qql_num`, which also parses numeric text.
    static func numericValue(jsonStored: Bool, _ value: SQLValue) -> QNumber? {
        guard jsonStored else {
            switch value {
            case .integer(let i): return .integer(i)
            case .real(let d): return d.isNaN ? nil : .real(d)
            case .text: return nil
            }
        }
        return QQLFunctions.number(value)
    }

    /// Mirrors `CASE lower(CAST(x AS TEXT)) WHEN 'true' … END`.
    static func boolValue(_ value: SQLValue) -> Bool? {
        switch TextMatch.asciiLowercased(value.sqliteText) {
        case "true", "1": return true
        case "false", "0": return false
        default: return nil
        }
    }
}

/// Re-resolves a special object only when the provider's members change, so a
/// large list is not re-parsed on every evaluation.
final class SpecialObjectCache: @unchecked Sendable {
    private struct Entry {
        var members: [String]
        var condition: Condition
    }

    private let lock = NSLock()
    private var entries: [String: Entry] = [:]

    func resolve(_ token: TokenDefinition, name: String, position: Int,
                 provider: any SpecialObjectProvider) throws -> Condition {
        guard let members = provider.values(named: name) else {
            throw QueryError(.unknownSpecialObject, at: position, "unknown special object '@\(name)'; check the name in the configuration")
        }
        let key = token.name + "\u{0}" + name
        lock.lock()
        let cached = entries[key]
        lock.unlock()
        if let cached, cached.members == members { return cached.condition }
        let condition = try SpecialObjectResolver.resolve(token, name: name, position: position, members: members)
        lock.lock()
        entries[key] = Entry(members: members, condition: condition)
        lock.unlock()
        return condition
    }
}

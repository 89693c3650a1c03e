import Foundation
import VigilBus
import VigilQuery
import VigilStore
import VigilWire

/// Runs QQL against a service's own store: registers QQL's SQL helpers on the connection,
/// binds compiled parameters (never splices them), and serves the standard list RPCs
/// `<list>.search|count|facets|histogram|tokens` from one token catalog.
public final class ListQueries {
    public let catalog: TokenCatalog
    let db: Database
    /// Compiles with the catalog's full-text index while `fullTextReady`, else without it.
    var compiler: SQLCompiler { fullTextReady ? fullTextCompiler : scanCompiler }
    let fullTextCompiler: SQLCompiler
    let scanCompiler: SQLCompiler
    /// False while the store is still filling its full-text index (rows stored before it
    /// existed): free text then uses the substring scan, which sees every row.
    public var fullTextReady = true
    public var specialObjects: any SpecialObjectProvider = StaticSpecialObjects()
    /// Runs before every query the list RPCs answer: a store that defers part of its indexing
    /// (enrichment's full-text index) brings it up to date here, so answers see every stored row.
    public var beforeQuery: (() throws -> Void)?
    public static let maxLimit = 1000

    public init(catalog: TokenCatalog, db: Database) throws {
        self.catalog = catalog
        self.db = db
        fullTextCompiler = SQLCompiler(catalog: catalog)
        scanCompiler = SQLCompiler(catalog: catalog.withoutFullText)
        try Self.registerFunctions(on: db)
    }

    /// Registers QQL's SQL helpers (`qql_num`, `qql_ip`) on a connection: every store that runs
    /// compiled QQL needs them (tests with their own stores too).
    public static func registerFunctions(on db: Database) throws {
        try db.registerFunction(QQLFunctions.numberFunctionName) { v in
            switch QQLFunctions.number(Self.toQuery(v) ?? .text("")) {
            case .integer(let i)?: return .integer(i)
            case .real(let d)?: return .real(d)
            case nil: return .null
            }
        }
        try db.registerFunction(QQLFunctions.ipFunctionName) { v in
            guard let q = Self.toQuery(v), let key = QQLFunctions.ipKey(q) else { return .null }
            return .text(key)
        }
    }

    public static func toQuery(_ v: VigilStore.SQLValue) -> VigilQuery.SQLValue? {
        switch v {
        case .null: return nil
        case .integer(let i): return .integer(i)
        case .real(let d): return .real(d)
        case .text(let s): return .text(s)
        case .blob(let b): return .text(String(decoding: b, as: UTF8.self))
        }
    }

    public static func toStore(_ v: VigilQuery.SQLValue) -> VigilStore.SQLValue {
        switch v {
        case .integer(let i): return .integer(i)
        case .real(let d): return .real(d)
        case .text(let s): return .text(s)
        }
    }

    /// Runs compiled QQL SQL with its parameters bound.
    public func rows(_ c: CompiledSQL) throws -> [Row] {
        try db.query(c.sql, c.parameters.map(Self.toStore))
    }

    var context: QueryContext { QueryContext(nowMillis: VigilLog_now(), specialObjects: specialObjects) }

    /// The user's query plus the request's time range. The user's text is parsed alone first
    /// so error positions point into what the user typed.
    func query(for req: QueryRequest) throws -> Query {
        let user = try QueryParser().parse(req.query)
        guard req.fromTimeMs != 0 || req.toTimeMs != 0, let time = catalog.defaultTimeToken else { return user }
        var parts: [String] = []
        if user.root != nil { parts.append("(\(req.query))") }
        if req.fromTimeMs != 0 { parts.append("\(time) >= \(req.fromTimeMs)") }
        if req.toTimeMs != 0 { parts.append("\(time) < \(req.toTimeMs)") }
        return try QueryParser().parse(parts.joined(separator: " and "))
    }

    /// A page of matching rows (all columns) and the cursor for the next page.
    public func search(_ req: QueryRequest) throws -> (rows: [Row], next: String) {
        let q = try query(for: req)
        let limit = Int(req.limit == 0 ? 50 : min(req.limit, UInt32(Self.maxLimit)))
        let sort = SortOrder(token: req.sortToken.isEmpty ? (catalog.defaultTimeToken ?? catalog.listedTokens.first?.name ?? "") : req.sortToken,
                             descending: !req.sortAscending)
        let cursor = req.cursor.isEmpty ? nil : try Cursor.decode(req.cursor)
        var compiler = self.compiler
        compiler.fullTextFiltersOnly = try fullTextTermsAreCommon(q)
        let c = try compiler.search(q, context: context, sort: sort, after: cursor, limit: limit + 1)
        var rows = try rows(c)
        var next = ""
        if rows.count > limit {
            rows.removeLast()
            // The last two columns are qql_sort and qql_id.
            if let last = rows.last {
                let n = last.values.count
                next = Cursor.encode(PageCursor(sortValue: Self.toQuery(last[n - 2]), id: Self.toQuery(last[n - 1]) ?? .text("")))
            }
        }
        return (rows, next)
    }

    /// Matches at which a full-text term counts as common; nil: 4·√(rows), at least 1000. A page
    /// started from a term's matches costs about one lookup and sort per match, a walk down the
    /// time index about 50·rows/matches steps; they meet near matches² ≈ 16·rows.
    public var fullTextCommonThreshold: Int?

    /// Whether every full-text term of `q` has at least the threshold of matches (counted up to
    /// it, so a probe stays cheap): then a search page walks the time index instead.
    public func fullTextTermsAreCommon(_ q: Query) throws -> Bool {
        guard fullTextReady, let index = catalog.fullText else { return false }
        let terms = try fullTextCompiler.fullTextMatches(q)
        guard !terms.isEmpty else { return false }
        let threshold: Int
        if let fixed = fullTextCommonThreshold {
            threshold = fixed
        } else {
            let rows = try db.scalar("SELECT max(\(Self.quoted(index.rowidColumn))) FROM \(Self.quoted(catalog.table))")?.int64 ?? 0
            threshold = max(1000, Int(4 * Double(rows).squareRoot()))
        }
        let table = Self.quoted(index.table)
        for term in terms {
            let n = try db.scalar("SELECT count(*) FROM (SELECT 1 FROM \(table) WHERE \(table) MATCH ? LIMIT ?)",
                                  [.text(term), .integer(Int64(threshold))])?.int64 ?? 0
            if n < threshold { return false }
        }
        return true
    }

    static func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    public func count(_ req: QueryRequest) throws -> UInt64 {
        UInt64(try rows(compiler.count(query(for: req), context: context)).first?.int(0) ?? 0)
    }

    public func facets(_ req: QueryRequest) throws -> FacetResponse {
        guard !req.facetToken.isEmpty else {
            throw QueryError(.syntax, at: 0, "facets need a token (facet_token); tokens of \(catalog.list): \(catalog.listedTokens.map(\.name).joined(separator: ", "))")
        }
        let c = try compiler.facet(query(for: req), context: context, token: req.facetToken, limit: Int(req.limit == 0 ? 10 : min(req.limit, 1000)))
        var r = FacetResponse()
        r.token = req.facetToken
        r.values = try rows(c).map { .init(value: $0.string(0), count: UInt64($0.int(1))) }
        return r
    }

    public func histogram(_ req: QueryRequest) throws -> HistogramResponse {
        let now = VigilLog_now()
        let to = req.toTimeMs == 0 ? now : req.toTimeMs
        let from = req.fromTimeMs == 0 ? to - 24 * 3600 * 1000 : req.fromTimeMs
        let user = try QueryParser().parse(req.query)
        let plan = try compiler.histogram(user, context: context, from: from, to: to, buckets: Int(req.buckets == 0 ? 24 : req.buckets))
        let counted = try rows(plan.sql).map { (bucket: $0.int(0), count: $0.int(1)) }
        var r = HistogramResponse()
        r.bucketMs = plan.bucketMillis
        r.buckets = plan.buckets(from: counted).map { .init(startTimeMs: $0.start, count: UInt64($0.count)) }
        return r
    }

    public func tokens() -> TokenCatalogResponse {
        var r = TokenCatalogResponse()
        r.list = catalog.list
        r.tokens = catalog.listedTokens.map { .init(name: $0.name, type: $0.type.rawValue, description: $0.description) }
        return r
    }

    /// Installs `<list>.count|facets|histogram|tokens` and `<list>.search` (rows converted by `page`).
    public func install(on worker: RpcWorker, page: @escaping ([Row], String) -> RpcResponse) {
        let list = catalog.list
        worker.handle("\(list).search") { [unowned self] req in
            self.answer(req) { r in let (rows, next) = try self.search(r); return page(rows, next) }
        }
        worker.handle("\(list).count") { [unowned self] req in
            self.answer(req) { .ok(CountResponse(count: try self.count($0))) }
        }
        worker.handle("\(list).facets") { [unowned self] req in self.answer(req) { .ok(try self.facets($0)) } }
        worker.handle("\(list).histogram") { [unowned self] req in self.answer(req) { .ok(try self.histogram($0)) } }
        worker.handle("\(list).tokens") { [unowned self] _ in .ok(self.tokens()) }
    }

    public func answer(_ req: RpcRequest, _ body: (QueryRequest) throws -> RpcResponse) -> RpcResponse {
        do {
            let request = try QueryRequest(decoding: req.payload)
            try beforeQuery?()
            return try body(request)
        } catch var e as QueryError {
            if e.query.isEmpty, let q = try? QueryRequest(decoding: req.payload) { e.query = q.query }
            return .failure(for: e)
        } catch {
            return .failure(for: error)
        }
    }
}

extension RpcResponse {
    /// The answer to a request that failed: a bad query (with its caret) or an undecodable
    /// payload is the caller's error, anything else the service's.
    public static func failure(for error: Error) -> RpcResponse {
        switch error {
        case let e as QueryError: return .failure(.badRequest, e.rendered)
        case let e as WireError: return .failure(.badRequest, e.description)
        default: return .failure(.internal, "\(error)")
        }
    }
}

private func VigilLog_now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

/// Opaque keyset cursor: the sort value and id of the last row, typed, base64.
enum Cursor {
    static func encode(_ c: PageCursor) -> String {
        func part(_ v: VigilQuery.SQLValue?) -> String {
            switch v {
            case .integer(let i)?: return "i" + String(i)
            case .real(let d)?: return "r" + String(d.bitPattern)
            case .text(let s)?: return "t" + s
            case nil: return "n"
            }
        }
        return Data((part(c.sortValue) + "\u{1}" + part(c.id)).utf8).base64EncodedString()
    }

    static func decode(_ s: String) throws -> PageCursor {
        func bad() -> QueryError { QueryError(.syntax, at: 0, "the cursor is not one this service issued (take next_cursor from the previous page)") }
        guard let d = Data(base64Encoded: s) else { throw bad() }
        let parts = String(decoding: d, as: UTF8.self).components(separatedBy: "\u{1}")
        guard parts.count == 2 else { throw bad() }
        func value(_ p: String) throws -> VigilQuery.SQLValue? {
            guard let t = p.first else { throw bad() }
            let rest = String(p.dropFirst())
            switch t {
            case "i": guard let i = Int64(rest) else { throw bad() }; return .integer(i)
            case "r": guard let b = UInt64(rest) else { throw bad() }; return .real(Double(bitPattern: b))
            case "t": return .text(rest)
            case "n": return nil
            default: throw bad()
            }
        }
        guard let id = try value(parts[1]) else { throw bad() }
        return PageCursor(sortValue: try value(parts[0]), id: id)
    }
}

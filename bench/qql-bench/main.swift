import VigilService
import VigilStore
import Foundation
import VigilQuery

// qql-bench: in-memory evaluation rate, and search/facet/histogram latency over
// 1M events stored the way the events service stores them.

func millis(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000
}

/// Best of a few runs: the figure a warmed-up page cache gives.
func best(_ runs: Int = 5, _ body: () throws -> Void) rethrows -> Double {
    var result = Double.infinity
    for _ in 0..<runs { result = min(result, try millis(body)) }
    return result
}

struct Rng {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

let eventCount = Int(ProcessInfo.processInfo.environment["QQL_BENCH_EVENTS"] ?? "") ?? 1_000_000
let now: Int64 = 1_772_323_200_000 + 10 * 86_400_000
let span: Int64 = 10 * 86_400_000
let categories = ["authentication", "network", "process", "file", "dns"]
let outcomes = ["success", "failure", "unknown"]
let users = ["alice", "bob", "carol", "svc_backup", "admin", "root", "dave", "erin"]

func makeFields(_ rng: inout Rng) -> [String: String] {
    [
        "event.category": categories[rng.below(categories.count)],
        "event.outcome": outcomes[rng.below(outcomes.count)],
        "source.ip": "10.\(rng.below(4)).\(rng.below(256)).\(rng.below(256))",
        "destination.ip": "192.168.\(rng.below(256)).\(rng.below(256))",
        "destination.port": String([22, 53, 80, 443, 3389, 8080, 50_000][rng.below(7)]),
        "user.name": users[rng.below(users.count)],
        "host.name": String(format: "web-%04d", rng.below(5_000)),
    ]
}

func json(_ fields: [String: String]) -> String {
    // Values are plain ASCII here, so no escaping is needed.
    "{" + fields.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",") + "}"
}

let catalog = StandardCatalogs.events
let context = QueryContext(nowMillis: now)

// MARK: In-memory evaluation

let condition = "event.category: authentication and event.outcome: failure and source.ip: 10.0.0.0/8 and destination.port: [1 .. 1024] and not user.name: svc_*"
let evaluator = try QueryEvaluator(condition, catalog: catalog)
var rng = Rng(state: 1)
let records: [RowRecord] = (0..<10_000).map { _ in
    let fields = makeFields(&rng)
    return RowRecord(columns: ["time": .integer(now - Int64(rng.below(Int(span))))], json: ["fields": fields.mapValues { .text($0) }])
}
var evaluations = 0, hits = 0
let evalMs = try millis {
    while evaluations < 2_000_000 {
        for record in records where try evaluator.matches(record, context: context) { hits += 1 }
        evaluations += records.count
    }
}
let evalsPerSecond = Int(Double(evaluations) / (evalMs / 1000))
print("in-memory: \(evaluations) evaluations of a 5-clause condition in \(Int(evalMs)) ms (\(hits) matches) = \(evalsPerSecond)/s")

// MARK: SQLite store

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("qql-bench-\(ProcessInfo.processInfo.processIdentifier)")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }
// The same store code the services use: VigilStore plus the QQL SQL functions ListQueries registers.
let db = try Database(path: directory.appendingPathComponent("events.db").path)
try db.execute("PRAGMA synchronous=OFF; PRAGMA cache_size=-200000")
try db.execute("CREATE TABLE events(id TEXT, time INTEGER, raw TEXT, fields TEXT, enriched TEXT)")
let queries = try ListQueries(catalog: catalog, db: db)
let loadMs = try millis {
    try db.transaction {
        for i in 0..<eventCount {
            let fields = makeFields(&rng)
            let raw = "\(fields["user.name"]!) \(fields["event.outcome"]!) from \(fields["source.ip"]!) on \(fields["host.name"]!)"
            // Ingest order is roughly time order (up to a minute of jitter), as in a live store.
            let time = now - span + Int64(i) * span / Int64(eventCount) - Int64(rng.below(60_000))
            try db.run("INSERT INTO events(id, time, raw, fields, enriched) VALUES (?, ?, ?, ?, '{}')",
                       [.text("ev-\(i)"), .integer(time), .text(raw), .text(json(fields))])
        }
    }
}
let indexMs = try millis {
    // Time index serves ranges, histograms and newest-first paging (rowid is the tie-breaker);
    // the expression index serves exact host lookups. Both expressions match the compiler's SQL.
    try db.execute("CREATE INDEX events_time ON events(time)")
    try db.execute("CREATE INDEX events_host ON events(json_extract(\"fields\", '$.\"host.name\"'))")
    try db.execute("ANALYZE")
}
print("store: \(eventCount) events loaded in \(Int(loadMs)) ms, indexed in \(Int(indexMs)) ms")

let compiler = SQLCompiler(catalog: catalog)
let searchQuery = try QueryParser().parse("host.name: `web-0042` and @timestamp >= now-24h and not event.outcome: success")
let search = try compiler.search(searchQuery, context: context, limit: 50)
var searchRows = 0
let searchMs = try best { searchRows = try queries.rows(search).count }
print("search: `\(searchQuery.text)` -> \(searchRows) rows, \(String(format: "%.2f", searchMs)) ms")

let facetQuery = try QueryParser().parse("@timestamp >= now-24h")
let facet = try compiler.facet(facetQuery, context: context, token: "event.category", limit: 10)
var facetRows: [Row] = []
let facetMs = try best(3) { facetRows = try queries.rows(facet) }
print("facet: event.category over `\(facetQuery.text)` (~\(eventCount / 10) rows) -> \(facetRows.count) values, \(String(format: "%.1f", facetMs)) ms")

let histogramQuery = try QueryParser().parse("event.outcome: failure")
let plan = try compiler.histogram(histogramQuery, context: context, from: now - 86_400_000, to: now, buckets: 24)
var total: Int64 = 0
let histogramMs = try best(3) {
    let rows = try queries.rows(plan.sql)
    total = plan.buckets(from: rows.map { (bucket: $0.int(0), count: $0.int(1)) }).reduce(0) { $0 + $1.count }
}
print("histogram: 24 buckets over the last 24h for `\(histogramQuery.text)` -> \(total) events, \(String(format: "%.1f", histogramMs)) ms")

print("RESULT qql_evals_per_s=\(evalsPerSecond) search_ms=\(String(format: "%.2f", searchMs)) facet_ms=\(String(format: "%.1f", facetMs)) histogram_ms=\(String(format: "%.1f", histogramMs))")

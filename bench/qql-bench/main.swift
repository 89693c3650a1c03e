import BenchSupport
import EnrichmentService
import Foundation
import VigilEvents
import VigilQuery
import VigilService
import VigilStore
import VigilWire

// qql-bench: in-memory evaluation rate; the cost of the full-text index on the store's insert
// rate; search/facet/histogram and free-text latency over 1M events in enrichment's own store
// (its migrations, its insert statement, its ListQueries), free text with and without FTS5.

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

let options = BenchOptions.parse(tool: "qql-bench", summary: """
    QQL in-memory evaluation rate, the full-text index's cost on the insert rate, and search, facet,
    histogram and free-text latency over enrichment's own store.
    """, options: [BenchOption("--events", .positive, "events in the store (default 1,000,000; QQL_BENCH_EVENTS also sets it)")])
let eventCount = options.count("--events") ?? Int(ProcessInfo.processInfo.environment["QQL_BENCH_EVENTS"] ?? "") ?? 1_000_000
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

// MARK: Enrichment's store

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("qql-bench-\(ProcessInfo.processInfo.processIdentifier)")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }

let hosts = 5_000
func makeEvent(_ i: Int, count: Int, _ rng: inout Rng) -> Event {
    var fields = makeFields(&rng)
    let user = fields["user.name"]!, host = fields["host.name"]!, ip = fields["source.ip"]!
    let message: String
    switch fields["event.category"]! {
    case "authentication": message = fields["event.outcome"] == "failure" ? "Failed password for \(user) from \(ip) port 22 ssh2" : "Accepted publickey for \(user) from \(ip) port 22 ssh2"
    case "network": message = "connection from \(ip) to \(fields["destination.ip"]!):\(fields["destination.port"]!) allowed by policy rule-\(rng.below(200))"
    case "process": message = "process started by \(user): /usr/bin/job-\(rng.below(1_000)) --run \(rng.below(100_000))"
    case "file": message = "file /srv/data/report-\(rng.below(50_000)).csv opened by \(user)"
    default: message = "query A api-\(rng.below(20_000)).example.com from \(ip)"
    }
    fields["message"] = message
    var e = Event()
    e.id = String(format: "ev-%08d", i)
    // Ingest order is roughly time order (up to a minute of jitter), as in a live store.
    e.eventTimeMs = now - span + Int64(i) * span / Int64(count) - Int64(rng.below(60_000))
    e.receivedTimeMs = e.eventTimeMs
    e.source = "syslog-udp"
    e.format = "linux-auth"
    e.parseStatus = .parsed
    e.raw = Array("<38>Mar 11 09:15:00 \(host) app[\(rng.below(30_000))]: \(message)".utf8)
    e.fields = fields
    e.partition = UInt32(i % 4)
    return e
}

/// Loads `count` events in transactions of 5000 (enrichment's default batch), indexing each batch
/// as the service does, and returns events/s; building the events is not timed, only storing them.
func load(_ db: Database, count: Int, indexed: Bool = true, statement: (Event, Int64) throws -> Void) throws -> Int {
    var rng = Rng(state: 7)
    var stored = 0, ms = 0.0, seq: Int64 = 1
    while stored < count {
        let batch = (stored..<min(count, stored + 5000)).map { makeEvent($0, count: count, &rng) }
        ms += try millis {
            try db.transaction {
                let first = seq
                for e in batch { try statement(e, seq); seq += 1 }
                if indexed { try EventFullText.index(db, seqs: first..<seq) }
            }
        }
        stored += batch.count
    }
    return Int(Double(count) / (ms / 1000))
}

func openStore(_ name: String) throws -> Database {
    let db = try Database(path: directory.appendingPathComponent(name).path)
    try db.execute("PRAGMA cache_size=-200000")
    return db
}

// Insert cost: the store before the index (migrations 1–3 and the insert statement as it was)
// against the store with seq + unique index + FTS5 triggers, the same events into each.
let insertCount = Int(ProcessInfo.processInfo.environment["QQL_BENCH_INSERT"] ?? "") ?? 300_000
let before = try openStore("before.db")
_ = try before.migrate(component: "enrichment", Array(EnrichmentService.migrations.prefix(3)))
let insertBefore = try load(before, count: insertCount, indexed: false) { e, _ in
    _ = try before.run("""
        INSERT INTO events(id, time_ms, received_ms, source, format, status, parse_error, raw, fields, original, enriched, partition, parse_status)
        VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)
        ON CONFLICT(id) DO UPDATE SET time_ms = excluded.time_ms, format = excluded.format, status = excluded.status,
            parse_error = excluded.parse_error, fields = excluded.fields, original = excluded.original,
            enriched = excluded.enriched, parse_status = excluded.parse_status
            WHERE events.parse_status = 'unparsed' AND excluded.parse_status = 'parsed'
        """, [.text(e.id), .integer(e.eventTimeMs), .integer(e.receivedTimeMs), .text(e.source), .text(e.format),
              .integer(Int64(e.parseStatus.rawValue)), .text(e.parseError), .text(String(decoding: e.raw, as: UTF8.self)),
              .text(JSONText.object(e.fields)), .text(JSONText.object(e.original)), .text(JSONText.object(e.enriched)),
              .integer(Int64(e.partition)), .text("parsed")])
}
try FileManager.default.removeItem(at: directory.appendingPathComponent("before.db"))
let withIndex = try openStore("with-fts.db")
_ = try withIndex.migrate(component: "enrichment", EnrichmentService.migrations)
let insertFTS = try load(withIndex, count: insertCount) { e, seq in _ = try EventRows.insert(e, seq: seq, into: withIndex) }
try FileManager.default.removeItem(at: directory.appendingPathComponent("with-fts.db"))
print("insert: \(insertCount) events, 5000 per transaction: \(insertBefore)/s without the full-text index, \(insertFTS)/s with it (\(String(format: "%.0f", 100 * (1 - Double(insertFTS) / Double(insertBefore))))% slower)")

// The 1M-event store the searches run on.
let db = try openStore("events.db")
_ = try db.migrate(component: "enrichment", EnrichmentService.migrations)
var loadRate = 0
let loadMs = try millis { loadRate = try load(db, count: eventCount) { e, seq in _ = try EventRows.insert(e, seq: seq, into: db) } }
try db.execute("ANALYZE")
let ftsBytes = try db.scalar("SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE 'events_fts_%'")?.int64 ?? 0
let allBytes = try db.scalar("SELECT coalesce(sum(pgsize), 0) FROM dbstat")?.int64 ?? 0
print("store: \(eventCount) events loaded in \(Int(loadMs)) ms (\(loadRate)/s with FTS); full-text index \(ftsBytes >> 20) MiB of \(allBytes >> 20) MiB")

let queries = try ListQueries(catalog: EventCatalog.catalog, db: db)
func request(_ q: String, last ms: Int64? = nil, limit: UInt32 = 50) -> QueryRequest {
    var r = QueryRequest(query: q)
    if let ms { r.fromTimeMs = now - ms; r.toTimeMs = now }
    r.limit = limit
    return r
}

let selective = request("host.name: `web-0042` and not event.outcome: success", last: 86_400_000)
var searchRows = 0
let searchMs = try best { searchRows = try queries.search(selective).rows.count }
print("search: `\(selective.query)` over the last 24h -> \(searchRows) rows, \(String(format: "%.2f", searchMs)) ms")

var facetReq = request("", last: 86_400_000, limit: 10)
facetReq.facetToken = "event.category"
var facetValues = 0
let facetMs = try best(3) { facetValues = try queries.facets(facetReq).values.count }
print("facet: event.category over the last 24h (~\(eventCount / 10) events) -> \(facetValues) values, \(String(format: "%.1f", facetMs)) ms")

var histReq = request("event.outcome: failure", last: 86_400_000)
histReq.buckets = 24
var histTotal: UInt64 = 0
let histogramMs = try best(3) { histTotal = try queries.histogram(histReq).buckets.reduce(0) { $0 + $1.count } }
print("histogram: 24 buckets over the last 24h for `\(histReq.query)` -> \(histTotal) events, \(String(format: "%.1f", histogramMs)) ms")

/// A page of 50 newest matches and the count, over the whole store, with the index and with the substring scan.
func freeText(_ q: String) throws -> (ftsPage: Double, scanPage: Double, ftsCount: Double, scanCount: Double, n: UInt64) {
    var n: UInt64 = 0, m: UInt64 = 0
    queries.fullTextReady = true
    let ftsPage = try best(3) { _ = try queries.search(request(q)) }
    let ftsCount = try best(3) { n = try queries.count(request(q)) }
    queries.fullTextReady = false
    let scanPage = try best(2) { _ = try queries.search(request(q)) }
    let scanCount = try best(2) { m = try queries.count(request(q)) }
    queries.fullTextReady = true
    print("free text `\(q)`: \(n) events (substring scan: \(m)); page of 50 \(String(format: "%.1f", ftsPage)) ms with FTS, \(String(format: "%.1f", scanPage)) ms without; count \(String(format: "%.1f", ftsCount)) ms with FTS, \(String(format: "%.1f", scanCount)) ms without")
    return (ftsPage, scanPage, ftsCount, scanCount, n)
}
let rare = try freeText("report-4242")
let common = try freeText("failed")
let f2 = { (x: Double) in String(format: "%.1f", x) }

print("RESULT qql_evals_per_s=\(evalsPerSecond) search_ms=\(String(format: "%.2f", searchMs)) facet_ms=\(f2(facetMs)) histogram_ms=\(f2(histogramMs)) events=\(eventCount)")
print("RESULT freetext_rare_page_ms_fts=\(f2(rare.ftsPage)) freetext_rare_page_ms_scan=\(f2(rare.scanPage)) freetext_rare_count_ms_fts=\(f2(rare.ftsCount)) freetext_rare_count_ms_scan=\(f2(rare.scanCount)) freetext_common_page_ms_fts=\(f2(common.ftsPage)) freetext_common_page_ms_scan=\(f2(common.scanPage)) freetext_common_count_ms_fts=\(f2(common.ftsCount)) freetext_common_count_ms_scan=\(f2(common.scanCount))")
print("RESULT store_insert_per_s_without_fts=\(insertBefore) store_insert_per_s_with_fts=\(insertFTS) insert_events=\(insertCount) load_1m_per_s_with_fts=\(loadRate) fts_index_mib=\(ftsBytes >> 20) store_mib=\(allBytes >> 20)")

import Foundation
import VigilBus
import VigilLog
import VigilService
import VigilEvents
import VigilStore
import VigilWire

/// Enrichment: consumes `events.parsed.*` (the partitions this instance owns), adds asset
/// values in the event's `enriched` section, stores every event (parsed or not) in its
/// searchable store, and publishes `events.enriched.<p>`. Storing, enriching, publishing to
/// the outbox and recording the stream position happen in one transaction.
public final class EnrichmentService {
    public static let keys: [(String, String)] = [
        ("assets", "CSV file of assets loaded at start: id,name,hostname,ip,criticality (optional)"),
        ("batch-size", "events per SQLite transaction (default 5000)"),
        ("outbox.max-rows", "unacknowledged events kept before refusing input (default 2000000)"),
    ]
    public static let defaults: [String: String] = ["assets": "", "batch-size": "5000", "outbox.max-rows": "2000000"]

    static let migrations: [Migration] = [
        Migration(1, "events and assets", """
        CREATE TABLE events(id TEXT PRIMARY KEY, time_ms INTEGER NOT NULL, received_ms INTEGER NOT NULL,
            source TEXT NOT NULL, format TEXT NOT NULL, status INTEGER NOT NULL, parse_error TEXT NOT NULL,
            raw BLOB NOT NULL, fields TEXT NOT NULL, original TEXT NOT NULL, enriched TEXT NOT NULL,
            partition INTEGER NOT NULL) WITHOUT ROWID;
        CREATE INDEX events_time ON events(time_ms);
        CREATE TABLE assets(id TEXT PRIMARY KEY, name TEXT NOT NULL, hostname TEXT NOT NULL, ip TEXT NOT NULL,
            criticality TEXT NOT NULL);
        """),
        Migration(2, "searchable parse status", """
        ALTER TABLE events ADD COLUMN parse_status TEXT NOT NULL DEFAULT '';
        UPDATE events SET parse_status = CASE status WHEN 1 THEN 'parsed' WHEN 2 THEN 'unparsed' ELSE '' END;
        """),
    ]

    struct Asset { var id, name, criticality: String }

    let runtime: ServiceRuntime
    let producer: StreamProducer
    var byHost: [String: Asset] = [:]
    var byIP: [String: Asset] = [:]
    var queries: ListQueries?

    public init(runtime: ServiceRuntime) throws {
        self.runtime = runtime
        let cfg = runtime.config
        try runtime.db.migrate(component: "enrichment", Self.migrations)
        producer = try runtime.enableProducer(maxOutboxRows: try cfg.int("outbox.max-rows", default: 2_000_000))
        let assetsFile = cfg.string("assets", default: "")
        if !assetsFile.isEmpty { try importAssets(csvPath: assetsFile) }
        try loadAssets()
        try installQueries()
        try runtime.enableConsumer(topicPrefixes: ["events.parsed."], batchSize: try cfg.int("batch-size", default: 5000)) { [unowned self] batch in
            try self.process(batch)
        }
    }

    func importAssets(csvPath: String) throws {
        guard let text = try? String(contentsOfFile: csvPath, encoding: .utf8) else {
            throw ConfigError(code: .badFile, key: "assets", message: "cannot read \(csvPath)")
        }
        var n = 0
        try runtime.db.transaction {
            for (i, line) in text.split(separator: "\n").enumerated() {
                let cols = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                if i == 0 && cols.first == "id" { continue }
                guard cols.count == 5 else {
                    throw ConfigError(code: .badFile, key: "assets", message: "\(csvPath):\(i + 1): expected 5 columns id,name,hostname,ip,criticality; got \(cols.count)")
                }
                try runtime.db.run("INSERT OR REPLACE INTO assets(id, name, hostname, ip, criticality) VALUES(?,?,?,?,?)",
                                   cols.map { SQLValue.text($0) })
                n += 1
            }
        }
        runtime.logger.info("assets imported", ["file": csvPath, "count": String(n)])
    }

    func loadAssets() throws {
        for r in try runtime.db.query("SELECT id, name, hostname, ip, criticality FROM assets") {
            let a = Asset(id: r.string(0), name: r.string(1), criticality: r.string(4))
            if !r.string(2).isEmpty { byHost[r.string(2).lowercased()] = a }
            if !r.string(3).isEmpty { byIP[r.string(3)] = a }
        }
    }

    /// Raw bytes are stored as TEXT when they are valid UTF-8 (searchable with QQL, LIKE)
    /// and as a BLOB otherwise; either way they read back byte for byte.
    static func rawValue(_ raw: [UInt8]) -> SQLValue {
        String(validating: raw, as: UTF8.self).map { .text($0) } ?? .blob(raw)
    }

    func installQueries() throws {
        let queries = try ListQueries(catalog: EventCatalog.catalog, db: runtime.db)
        self.queries = queries
        queries.install(on: runtime.worker) { rows, next in
            var page = EventPage()
            page.events = rows.map(EventRows.event(from:))
            page.nextCursor = next
            return .ok(page)
        }
        runtime.worker.handle("events.get") { [unowned self] req in
            guard let get = try? GetRequest(decoding: req.payload), !get.id.isEmpty else {
                return .failure(.badRequest, "events.get takes a GetRequest with the event id")
            }
            do {
                guard let row = try self.runtime.db.query("SELECT \(EventRows.columns) FROM events WHERE id = ?", [.text(get.id)]).first else {
                    return .failure(.notFound, "no event with id '\(get.id)'")
                }
                return .ok(EventRows.event(from: row))
            } catch {
                return .failure(.internal, "\(error)")
            }
        }
    }

    func enrich(_ e: inout Event) {
        let asset = e.fields["host.name"].flatMap { byHost[$0.lowercased()] }
            ?? e.fields["destination.ip"].flatMap { byIP[$0] }
            ?? e.fields["host.ip"].flatMap { byIP[$0] }
        if let a = asset {
            e.enriched["asset.id"] = a.id
            e.enriched["asset.name"] = a.name
            e.enriched["asset.criticality"] = a.criticality
        }
    }

    func process(_ batch: [StreamEnvelope]) throws {
        for env in batch {
            guard var e = try? Event(decoding: env.payload) else {
                runtime.count("malformed")
                runtime.logger.warning("undecodable event payload", ["producer": env.producerId, "stream": env.stream, "seq": String(env.sequence)])
                continue
            }
            enrich(&e)
            let inserted = try runtime.db.run("""
                INSERT OR IGNORE INTO events(id, time_ms, received_ms, source, format, status, parse_error, raw, fields, original, enriched, partition, parse_status)
                VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)
                """, [.text(e.id), .integer(e.eventTimeMs), .integer(e.receivedTimeMs), .text(e.source), .text(e.format),
                      .integer(Int64(e.parseStatus.rawValue)), .text(e.parseError), Self.rawValue(e.raw),
                      .text(JSONText.object(e.fields)), .text(JSONText.object(e.original)), .text(JSONText.object(e.enriched)),
                      .integer(Int64(e.partition)), .text(e.parseStatus == .parsed ? "parsed" : e.parseStatus == .unparsed ? "unparsed" : "")])
            // Reliable streams should make this impossible; counted so a test or an operator would see it.
            if inserted == 0 { runtime.count("events.duplicate_ignored"); continue }
            let stream = "events.enriched.\(e.partition)"
            try producer.append(stream: stream, topic: stream, payloadType: Event.typeName, payload: e.encoded())
        }
    }

    public static func main() -> Never {
        ServiceMain.run(service: "enrichment", keys: keys, defaults: defaults) { runtime in
            let service = try EnrichmentService(runtime: runtime)
            return { withExtendedLifetime(service) {} }
        }
    }
}

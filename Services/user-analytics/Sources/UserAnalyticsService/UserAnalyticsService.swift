import Foundation
import VigilBus
import VigilLDAP
import VigilLog
import VigilQuery
import VigilService
import VigilStore
import VigilWire

/// User analytics: directory users (LDAP/Active Directory sync or CSV/JSON import, published
/// on the reliable stream `directory` as `directory.changed`), per-user risk from the
/// `signals` stream with a decaying, explainable model, and the RPCs behind the user pages.
public final class UserAnalyticsService {
    public static let keys: [(String, String)] = [
        ("ldap.url", "directory server: ldap://host:port or ldaps://host:port (no URL: no LDAP sync; use users.import)"),
        ("ldap.bind-dn", "bind DN for simple bind (empty: anonymous)"),
        ("ldap.password", "bind password (@FILE reads it from a file)"),
        ("ldap.starttls", "off, try, required (default off)"),
        ("ldap.ca-file", "CA certificate file to verify the server with"),
        ("ldap.verify", "verify the server certificate: true or false (default true)"),
        ("ldap.base-dn", "search base, e.g. DC=corp,DC=example,DC=com"),
        ("ldap.filter", "search filter (default (objectClass=user))"),
        ("ldap.page-size", "entries per page of the paged search (default 500)"),
        ("ldap.timeout", "network and operation timeout in seconds (default 10)"),
        ("ldap.changed-attribute", "attribute of changed-since syncs: whenChanged (AD) or modifyTimestamp (OpenLDAP) (default whenChanged)"),
        ("ldap.map", "attribute mapping overrides, e.g. name=uid,department=ou (fields: name upn email display_name department title manager groups sid)"),
        ("ldap.privileged-groups", "groups whose members are privileged, ';'-separated (default Domain Admins;Enterprise Admins;Schema Admins;Administrators)"),
        ("sync.full-every", "seconds between full syncs (default 86400; 0 = only on request)"),
        ("sync.changed-every", "seconds between changed-since syncs (default 900; 0 = never)"),
        ("risk.half-life", "hours for a signal's contribution to halve (default 24)"),
        ("risk.privileged-weight", "multiplier for signals of privileged users (default 1.5)"),
        ("risk.scale", "k in 100·(1−e^(−Σ/k)): the decayed sum giving 63 points (default 100)"),
        ("risk.refresh-every", "seconds between refreshes of stored scores for decay (default 60)"),
        ("retention.days", "signals kept for explanations and trends (default 90)"),
        ("batch-size", "signals per SQLite transaction (default 1000)"),
    ]
    public static let defaults: [String: String] = [
        "ldap.url": "", "ldap.starttls": "off", "ldap.filter": "(objectClass=user)", "ldap.page-size": "500", "ldap.timeout": "10",
        "ldap.changed-attribute": "whenChanged", "sync.full-every": "86400", "sync.changed-every": "900",
        "risk.half-life": "24", "risk.privileged-weight": "1.5", "risk.scale": "100", "risk.refresh-every": "60",
        "retention.days": "90", "batch-size": "1000",
    ]

    let runtime: ServiceRuntime
    let producer: StreamProducer
    public let engine: UserAnalyticsEngine
    let directory: DirectoryConfig
    let queries: ListQueries
    var configMirror: ConfigMirror!
    var lastSync: DirectorySyncReport?
    let syncSlot = SyncSlot()

    public init(runtime: ServiceRuntime) throws {
        self.runtime = runtime
        let cfg = runtime.config
        producer = try runtime.enableProducer()
        engine = try UserAnalyticsEngine(db: runtime.db, model: try Self.model(cfg))
        directory = try Self.directoryConfig(cfg)
        queries = try ListQueries(catalog: UserRiskCatalog.catalog, db: runtime.db)
        engine.count = { [unowned runtime] name, n in runtime.count(name, n) }
        engine.onDirectoryChange = { [unowned self] u in
            try self.producer.append(stream: "directory", topic: "directory.changed", payloadType: DirectoryUser.typeName, payload: u.encoded())
        }
        configMirror = ConfigMirror(runtime: runtime)
        installRPCs()
        runtime.addMetrics { [unowned self] m in
            m["users"] = UInt64(self.engine.userCount)
            m["directory.last_sync_ok"] = (self.lastSync?.ok ?? false) ? 1 : 0
            m["user_lists"] = UInt64(self.configMirror.userLists.lists.count)
        }
        let refresh = Int64(max(1, try cfg.int("risk.refresh-every", default: 60))) * 1000
        runtime.every(ms: refresh) { [unowned self] in
            do { try self.engine.refreshScores(nowMs: Clock.nowMs()) } catch { self.runtime.logger.error("risk refresh failed", ["error": "\(error)"]) }
        }
        let retentionMs = Int64(max(1, try cfg.int("retention.days", default: 90))) * 86_400_000
        runtime.every(ms: 3_600_000) { [unowned self] in
            do { _ = try self.engine.expireSignals(olderThanMs: Clock.nowMs() - retentionMs) } catch { self.runtime.logger.error("retention failed", ["error": "\(error)"]) }
        }
        runtime.every(ms: 100) { [unowned self] in self.applyFinishedSync() }
        if directory.configured {
            let full = Int64(max(0, try cfg.int("sync.full-every", default: 86_400))) * 1000
            let changed = Int64(max(0, try cfg.int("sync.changed-every", default: 900))) * 1000
            // First sync shortly after start (not in init: the loop must answer health checks first).
            var first = true
            runtime.every(ms: 2000) { [unowned self] in
                if first { first = false; self.sync(.full) }
            }
            if full > 0 { runtime.every(ms: full) { [unowned self] in self.sync(.full) } }
            if changed > 0 { runtime.every(ms: changed) { [unowned self] in self.sync(.changed) } }
        }
        // "signals" (no dot): the consumer also follows `stream.head.signals` (see ResponseService).
        try runtime.enableConsumer(topicPrefixes: ["signals", ConfigMirror.topicPrefix], batchSize: try cfg.int("batch-size", default: 1000)) { [unowned self] batch in
            try self.process(batch)
        }
    }

    static func model(_ cfg: RuntimeConfig) throws -> RiskModel {
        func number(_ key: String, _ def: String, min: Double) throws -> Double {
            let t = cfg.string(key, default: def)
            guard let v = Double(t), v >= min, v.isFinite else {
                throw ConfigError(code: .badValue, key: key, message: "expected a number ≥ \(min), got '\(t)'")
            }
            return v
        }
        let hours = try number("risk.half-life", "24", min: 0.001)
        return RiskModel(halfLifeMs: Int64(hours * 3_600_000), privilegedWeight: try number("risk.privileged-weight", "1.5", min: 0),
                         scale: try number("risk.scale", "100", min: 0.001))
    }

    static func directoryConfig(_ cfg: RuntimeConfig) throws -> DirectoryConfig {
        var d = DirectoryConfig()
        d.ldap.url = cfg.string("ldap.url", default: "")
        d.baseDN = cfg.string("ldap.base-dn", default: "")
        if !d.ldap.url.isEmpty && d.baseDN.isEmpty {
            throw ConfigError(code: .badValue, key: "ldap.base-dn", message: "ldap.url is set, so a search base is needed (e.g. DC=corp,DC=example,DC=com)")
        }
        if d.ldap.url.isEmpty { d.baseDN = "" }
        d.ldap.bindDN = cfg.string("ldap.bind-dn", default: "")
        var pw = cfg.string("ldap.password", default: "")
        if pw.hasPrefix("@") {
            guard let t = try? String(contentsOfFile: String(pw.dropFirst()), encoding: .utf8) else {
                throw ConfigError(code: .badFile, key: "ldap.password", message: "cannot read \(pw.dropFirst())")
            }
            pw = t.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        d.ldap.password = pw
        let tls = cfg.string("ldap.starttls", default: "off")
        guard let t = LDAPOptions.StartTLS(rawValue: tls) else {
            throw ConfigError(code: .badValue, key: "ldap.starttls", message: "expected off, try or required, got '\(tls)'")
        }
        d.ldap.startTLS = t
        d.ldap.caFile = cfg.string("ldap.ca-file", default: "")
        d.ldap.verifyCertificate = cfg.string("ldap.verify", default: "true") != "false"
        d.ldap.timeoutSeconds = max(1, try cfg.int("ldap.timeout", default: 10))
        d.filter = cfg.string("ldap.filter", default: d.filter)
        d.pageSize = max(1, try cfg.int("ldap.page-size", default: 500))
        d.changedAttribute = cfg.string("ldap.changed-attribute", default: d.changedAttribute)
        let map = cfg.string("ldap.map", default: "")
        for pair in map.split(separator: ",") where !pair.isEmpty {
            let kv = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, DirectoryConfig.defaultMapping[kv[0]] != nil, !kv[1].isEmpty else {
                throw ConfigError(code: .badValue, key: "ldap.map", message: "'\(pair)': expected field=attribute with field one of \(DirectoryConfig.defaultMapping.keys.sorted().joined(separator: ", "))")
            }
            d.mapping[kv[0]] = kv[1]
        }
        let groups = cfg.string("ldap.privileged-groups", default: "")
        if !groups.isEmpty { d.privilegedGroups = groups.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) } }
        return d
    }

    // MARK: signals

    func process(_ batch: [StreamEnvelope]) throws {
        var signals: [Signal] = []
        for env in batch {
            if configMirror.accept(env) { continue }
            guard env.payloadType.isEmpty || env.payloadType == Signal.typeName, let s = try? Signal(decoding: env.payload) else {
                runtime.count("malformed")
                runtime.logger.warning("undecodable signal payload", ["producer": env.producerId, "stream": env.stream, "seq": String(env.sequence)])
                continue
            }
            signals.append(s)
        }
        if !signals.isEmpty {
            runtime.count("signals.received", UInt64(signals.count))
            try engine.ingest(signals, nowMs: Clock.nowMs())
        }
    }

    // MARK: directory

    func lastSuccessfulSync() -> Int64? {
        (try? runtime.db.scalar("SELECT max(started_ms) FROM directory_syncs WHERE ok = 1"))??.int64
    }

    /// Starts a sync: the directory is read on a background thread (a large directory takes
    /// a while; the loop keeps consuming signals and answering RPCs) and applied on the loop
    /// when the read is complete. Returns the report so far: `running` while it reads, or the
    /// reason it could not start.
    @discardableResult
    func sync(_ mode: DirectorySync.Mode) -> DirectorySyncReport {
        var r = DirectorySyncReport()
        r.mode = mode.rawValue
        r.startedTimeMs = Clock.nowMs()
        guard directory.configured else {
            r.error = "no directory configured (--ldap.url and --ldap.base-dn); import users with users.import instead"
            return r
        }
        guard let started = syncSlot.start() else {
            r.running = true
            r.error = "a sync started at \(Clock.iso8601(syncSlot.startedMs)) is still running"
            return r
        }
        r.startedTimeMs = started
        r.running = true
        let config = directory, slot = syncSlot, last = lastSuccessfulSync()
        let thread = Thread {
            // Named from inside: on Linux, Foundation names only the current thread's OS thread.
            Thread.current.name = "directory-sync"
            slot.finish(DirectorySync(config: config).fetch(mode, nowMs: started, lastSuccessMs: last))
        }
        thread.start()
        return r
    }

    /// Loop side: applies a finished read.
    func applyFinishedSync() {
        guard let fetched = syncSlot.take() else { return }
        let r = DirectorySync.apply(fetched, engine: engine, nowMs: Clock.nowMs())
        if r.ok { producer.publishCommitted() } else { producer.discardUncommitted() }
        record(r)
    }

    func record(_ r: DirectorySyncReport) {
        lastSync = r
        runtime.count(r.ok ? "directory.syncs" : "directory.sync_failures")
        runtime.count("directory.rejected", r.rejected)
        runtime.count("directory.duplicates", r.duplicates)
        if r.ok {
            runtime.logger.info("directory sync", ["mode": r.mode, "fetched": String(r.fetched), "added": String(r.added), "updated": String(r.updated),
                                                   "rejected": String(r.rejected), "duplicates": String(r.duplicates), "missing": String(r.missing)])
        } else {
            runtime.logger.error("directory sync failed; users kept", ["mode": r.mode, "error": r.error])
        }
        for p in r.problems.prefix(10) { runtime.logger.warning("directory entry", ["problem": p]) }
        do {
            try runtime.db.run("""
                INSERT INTO directory_syncs(mode, started_ms, finished_ms, ok, error, fetched, added, updated, unchanged, rejected, duplicates, missing, problems, pages)
                VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                """, [.text(r.mode), .integer(r.startedTimeMs), .integer(r.finishedTimeMs), .integer(r.ok ? 1 : 0), .text(r.error),
                      .integer(Int64(r.fetched)), .integer(Int64(r.added)), .integer(Int64(r.updated)), .integer(Int64(r.unchanged)),
                      .integer(Int64(r.rejected)), .integer(Int64(r.duplicates)), .integer(Int64(r.missing)),
                      .text(r.problems.joined(separator: "\n")), .integer(Int64(r.pages))])
            // History is for operators, not an archive: the latest 1000 syncs are kept.
            try runtime.db.run("DELETE FROM directory_syncs WHERE id <= (SELECT max(id) FROM directory_syncs) - 1000")
        } catch {
            runtime.logger.error("recording the sync failed", ["error": "\(error)"])
        }
    }

    func syncHistory(limit: Int) throws -> [DirectorySyncReport] {
        try runtime.db.query("""
            SELECT mode, started_ms, finished_ms, ok, error, fetched, added, updated, unchanged, rejected, duplicates, missing, problems, pages
            FROM directory_syncs ORDER BY id DESC LIMIT ?
            """, [.integer(Int64(limit))]).map { row in
            var r = DirectorySyncReport()
            r.mode = row.string(0); r.startedTimeMs = row.int(1); r.finishedTimeMs = row.int(2); r.ok = row.int(3) != 0; r.error = row.string(4)
            r.fetched = UInt64(row.int(5)); r.added = UInt64(row.int(6)); r.updated = UInt64(row.int(7)); r.unchanged = UInt64(row.int(8))
            r.rejected = UInt64(row.int(9)); r.duplicates = UInt64(row.int(10)); r.missing = UInt64(row.int(11))
            r.problems = row.string(12).split(separator: "\n").map(String.init); r.pages = UInt32(row.int(13))
            return r
        }
    }

    /// One sync at a time: the background reader hands its result to the loop through here.
    final class SyncSlot: @unchecked Sendable {
        private let lock = NSLock()
        private var running = false
        private var result: DirectorySync.Fetched?
        private(set) var startedMs: Int64 = 0

        /// The start time, or nil when a sync is already running (or its result not yet applied).
        func start() -> Int64? {
            lock.lock(); defer { lock.unlock() }
            guard !running else { return nil }
            running = true
            startedMs = Clock.nowMs()
            return startedMs
        }
        func finish(_ f: DirectorySync.Fetched) { lock.lock(); result = f; lock.unlock() }
        func take() -> DirectorySync.Fetched? {
            lock.lock(); defer { lock.unlock() }
            guard let r = result else { return nil }
            result = nil
            running = false
            return r
        }
    }

    public static func main() -> Never {
        ServiceMain.run(service: "user-analytics", keys: keys, defaults: defaults) { runtime in
            let service = try UserAnalyticsService(runtime: runtime)
            return { withExtendedLifetime(service) {} }
        }
    }
}

import Foundation
import VigilBus
import VigilJournal
import VigilLog
import VigilService
import VigilWire
#if canImport(Glibc)
import Glibc
#endif

/// The agent's settings (flags `--key value`, VIGIL_<KEY> environment, or a JSON `--config`).
public struct AgentSettings: Sendable {
    public static let keys: [(String, String)] = [
        ("enroll-token", "enrollment token (one of the config service's agents.enroll-tokens); needed until enrolled"),
        ("hostname", "host name to report (default: the system's)"),
        ("tags", "comma-separated tags profiles may select this agent by (sent at enrollment)"),
        ("spool.max-bytes", "largest spool of unacknowledged batches; beyond it the oldest batches are dropped and counted (default 268435456)"),
        ("batch-events", "most events per batch (default 1000)"),
        ("batch-bytes", "most raw bytes read per batch (default 1048576)"),
        ("in-flight", "batches sent to ingest before waiting for acknowledgements (default 4)"),
        ("heartbeat-ms", "heartbeat (status, profile check) interval (default 5000)"),
        ("poll-ms", "how often idle sources are checked for new data (default 200)"),
        ("max-files", "most files followed; a profile naming more is refused (default 256)"),
        ("max-line-bytes", "longer lines are cut into pieces (default 65536)"),
        ("start-at", "where a file never seen before is read from: beginning or end (default beginning)"),
        ("journal", "systemd journal: 'system', a directory of journal files, or 'off' (default system)"),
        ("inventory-ms", "how often the host inventory is checked for changes (default 60000)"),
    ]

    public var token = "", hostname = "", tags: [String] = []
    public var spoolMaxBytes: Int64 = 256 << 20
    public var batchEvents = 1000, batchBytes = 1 << 20, inFlight = 4
    public var heartbeatMs: Int64 = 5000, pollMs = 200, maxFiles = 256, maxLineBytes = 65_536
    public var startAtEnd = false
    public var journal = "system"
    public var inventoryMs: Int64 = 60_000
    public var version = "0.1.0"
    public var statePath = ""

    public init() {}

    public init(_ cfg: RuntimeConfig) throws {
        token = cfg.string("enroll-token", default: "")
        hostname = cfg.string("hostname", default: "")
        tags = cfg.string("tags", default: "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        spoolMaxBytes = Int64(try cfg.int("spool.max-bytes", default: 256 << 20))
        batchEvents = try cfg.int("batch-events", default: 1000)
        batchBytes = try cfg.int("batch-bytes", default: 1 << 20)
        inFlight = try cfg.int("in-flight", default: 4)
        heartbeatMs = Int64(try cfg.int("heartbeat-ms", default: 5000))
        pollMs = try cfg.int("poll-ms", default: 200)
        maxFiles = try cfg.int("max-files", default: 256)
        maxLineBytes = try cfg.int("max-line-bytes", default: 65_536)
        inventoryMs = Int64(try cfg.int("inventory-ms", default: 60_000))
        journal = cfg.string("journal", default: "system")
        let start = cfg.string("start-at", default: "beginning")
        guard start == "beginning" || start == "end" else {
            throw ConfigError(code: .badValue, key: "start-at", message: "expected beginning or end, got '\(start)'")
        }
        startAtEnd = start == "end"
        for (k, v, lo) in [("spool.max-bytes", Int(spoolMaxBytes), 65_536), ("batch-events", batchEvents, 1), ("batch-bytes", batchBytes, 4096),
                           ("in-flight", inFlight, 1), ("heartbeat-ms", Int(heartbeatMs), 100), ("poll-ms", pollMs, 10),
                           ("max-files", maxFiles, 1), ("max-line-bytes", maxLineBytes, 256), ("inventory-ms", Int(inventoryMs), 1000)] where v < lo {
            throw ConfigError(code: .badValue, key: k, message: "must be at least \(lo), got \(v)")
        }
        statePath = cfg.dataDirectory + "/agent.db"
    }
}

/// The endpoint agent: enrolls, waits to be activated, follows what its profile names (files,
/// journal units), spools batches in SQLite and ships them to ingest's `ingest.submit`,
/// heartbeats its status to the config service. One thread owns everything (the RPC socket,
/// the SQLite state, the files); see docs/agent.md.
public final class Agent {
    let settings: AgentSettings
    let logger: Logger
    let context: ZContext
    let client: RpcClient
    public let state: AgentState

    public private(set) var agentId = ""
    private var secret = ""
    public private(set) var status = "unenrolled"
    /// Set by the first heartbeat answer since start: until then nothing is read or sent, so a
    /// deactivation made while the agent was down holds.
    private var statusConfirmed = false
    public private(set) var profile: AgentProfile?
    private var profileError = ""
    private var refusedHash = ""
    private var files: [String: TailedFile] = [:]
    private var fileOrder: [String] = []
    private var nextFile = 0
    private var journal: Journal?
    private var journalUnits: [String]?
    private var journalCursor: String?
    private var inventory = HostInventory()
    private var inventorySpooled: HostInventory?

    private var inFlight: [Int64: AgentState.Spooled] = [:]
    private var lastQueued: Int64 = 0
    private var retryAt: Int64 = 0
    private var backoff: Int64 = 100
    private var enrollAt: Int64 = 0
    /// One enrollment at a time: a second one answered later would register a second agent.
    private var enrollPending = false
    private var heartbeatAt: Int64 = 0
    private var heartbeatPending = false
    private var profilePending = false
    private var inventoryAt: Int64 = 0
    private var globAt: Int64 = 0
    private var tokens = 0.0
    private var tokensAt: Int64 = 0
    private var rateLimitedMs: Int64 = 0
    private var lastPositions: [String: FilePosition] = [:]

    public init(config: RuntimeConfig, settings: AgentSettings) throws {
        self.settings = settings
        logger = Logger(label: "agent", level: config.logLevel)
        try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
        state = try AgentState(path: settings.statePath)
        context = ZContext()
        client = try RpcClient(context: context, endpoint: config.endpoints.rpc,
                               caller: Identity(name: "agent", role: "agent"), limits: config.limits)
        agentId = try state.get("agent_id") ?? ""
        secret = try state.get("secret") ?? ""
        if !agentId.isEmpty { status = try state.get("status") ?? "pending" }
        lastPositions = try state.positions()
        journalCursor = try state.get("journal_cursor")
        inventory = HostInventory.current(hostnameOverride: settings.hostname)
        client.caller = Identity(name: agentId.isEmpty ? "agent" : "agent:\(agentId)", role: "agent")
        if let saved = try state.get("profile"), let p = try? AgentProfile.parse(saved) { try? apply(p) }
    }

    /// Runs until SIGTERM/SIGINT (or `stop`), then waits briefly for batches in flight.
    public func run() {
        logger.info("started", ["pid": String(getpid()), "state": settings.statePath, "agent": agentId.isEmpty ? "(not enrolled)" : agentId])
        while !ShutdownSignal.requested {
            let worked = step()
            _ = zpoll([client.socket], timeoutMs: worked ? 0 : settings.pollMs)
        }
        logger.info("stopping: waiting for batches in flight")
        let deadline = Clock.monotonicMs() + 2000
        while !inFlight.isEmpty && Clock.monotonicMs() < deadline {
            if zpoll([client.socket], timeoutMs: 50)[0] { client.processAvailable() }
            client.expire()
        }
        close()
    }

    public func close() {
        for f in files.values { f.close() }
        journal?.close()
        client.close()
        state.close()
        context.terminate()
        logger.info("stopped")
    }

    /// One turn of the loop; true when it did work (so the loop does not sleep).
    func step() -> Bool {
        client.processAvailable()
        client.expire()
        let now = Clock.monotonicMs()
        if agentId.isEmpty {
            if now >= enrollAt && !enrollPending { enroll(); enrollAt = now + 2000 }
            return false
        }
        if now >= heartbeatAt && !heartbeatPending { heartbeat(); heartbeatAt = now + settings.heartbeatMs }
        guard statusConfirmed, status == "active", profile != nil else { return false }
        if now >= inventoryAt {
            inventory = HostInventory.current(hostnameOverride: settings.hostname)
            inventoryAt = now + settings.inventoryMs
        }
        if now >= globAt { refreshFiles(); globAt = now + 2000 }
        let collected = collect(now: now)
        let sent = send(now: now)
        return collected || sent
    }

    // MARK: enrollment, heartbeat, profile

    private func config(_ method: String, _ body: [String: Any], completion: @escaping (Result<String, RpcError>) -> Void) {
        let data = (try? JSONSerialization.data(withJSONObject: body)) ?? Data("{}".utf8)
        let req = ConfigRequest(objectJSON: String(decoding: data, as: UTF8.self))
        client.send(service: "config", method: method, payload: req.encoded(), timeoutMs: 5000) { r in
            switch r {
            case .failure(let e): completion(.failure(e))
            case .success(let resp):
                if resp.errorCode != .ok { completion(.failure(RpcError(code: resp.errorCode, message: resp.errorMessage))); return }
                guard let reply = try? ConfigReply(decoding: resp.payload) else {
                    completion(.failure(RpcError(code: .internal, message: "config's reply is not a ConfigReply"))); return
                }
                completion(.success(reply.json))
            }
        }
    }

    static func object(_ json: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] ?? [:]
    }

    private func enroll() {
        guard !settings.token.isEmpty else {
            logger.error("not enrolled and no --enroll-token (VIGIL_ENROLL_TOKEN) given; nothing is collected")
            enrollAt = Clock.monotonicMs() + 30_000
            return
        }
        let body: [String: Any] = ["token": settings.token, "hostname": inventory.hostname, "tags": settings.tags,
                                   "version": settings.version, "inventory": inventory.json(agentId: "")]
        enrollPending = true
        config("agents.enroll", body) { [unowned self] r in
            self.enrollPending = false
            switch r {
            case .failure(let e):
                self.logger.warning("enrollment failed; retrying", ["error": e.description])
            case .success(let json):
                let o = Self.object(json)
                guard let id = o["agent_id"] as? String, let s = o["secret"] as? String else {
                    self.logger.error("enrollment reply without agent_id/secret", ["reply": json]); return
                }
                do {
                    try self.state.set("agent_id", id); try self.state.set("secret", s); try self.state.set("status", "pending")
                } catch {
                    self.logger.error("cannot save the enrollment; will enroll again", ["error": "\(error)"]); return
                }
                self.agentId = id; self.secret = s; self.status = "pending"
                self.client.caller = Identity(name: "agent:\(id)", role: "agent")
                self.heartbeatAt = 0
                self.logger.info("enrolled; waiting for an admin to activate it (vigil agents activate \(id))", ["agent": id])
            }
        }
    }

    /// Figures for `vigil agents list`.
    public func stats(now: Int64 = Clock.nowMs()) -> [String: Any] {
        let oldest = (try? state.oldestCreatedMs()) ?? nil
        var out: [String: Any] = [
            "spool_batches": state.spoolBatches, "spool_events": state.spoolEvents, "spool_bytes": state.spoolBytes,
            "lag_ms": oldest.map { max(0, now - $0) } ?? 0, "files": files.count, "rate_limited_ms": rateLimitedMs,
            "backlog_bytes": files.values.reduce(Int64(0)) { $0 + $1.backlogBytes },
        ]
        for k in ["dropped_events", "dropped_batches", "sent_events", "sent_batches", "read_events"] { out[k] = state.counters[k] ?? 0 }
        return out
    }

    private func heartbeat() {
        var body = stats()
        body["agent_id"] = agentId; body["secret"] = secret; body["version"] = settings.version
        body["profile_hash"] = profile?.hash ?? ""; body["profile_error"] = profileError
        body["inventory"] = inventory.json(agentId: agentId)
        heartbeatPending = true
        config("agents.heartbeat", body) { [unowned self] r in
            self.heartbeatPending = false
            switch r {
            case .failure(let e):
                self.logger.warning("heartbeat failed", ["error": e.description])
            case .success(let json):
                let o = Self.object(json)
                let s = o["status"] as? String ?? "pending"
                self.statusConfirmed = true
                if s != self.status {
                    self.logger.info("status changed", ["from": self.status, "to": s])
                    self.status = s
                    try? self.state.set("status", s)
                }
                let hash = o["profile_hash"] as? String ?? ""
                if s == "active" && hash != (self.profile?.hash ?? "") && hash != self.refusedHash && !self.profilePending { self.fetchProfile() }
            }
        }
    }

    private func fetchProfile() {
        profilePending = true
        config("agents.profile", ["agent_id": agentId, "secret": secret]) { [unowned self] r in
            self.profilePending = false
            switch r {
            case .failure(let e): self.logger.warning("profile request failed", ["error": e.description])
            case .success(let json):
                let hash = (Self.object(json)["profile"] as? [String: Any])?["hash"] as? String ?? ""
                do {
                    try self.apply(try AgentProfile.parse(json))
                    self.profileError = ""; self.refusedHash = ""
                    // Kept so a restart collects at once, even before config answers.
                    try? self.state.set("profile", json)
                } catch {
                    // The previous profile keeps running; the reason goes out with the next heartbeat.
                    self.profileError = "profile \(hash) refused: \(error)"
                    self.refusedHash = hash
                    self.logger.error("profile refused; keeping the previous one", ["error": "\(error)", "hash": hash])
                }
                self.heartbeatAt = 0
            }
        }
    }

    /// Applies a checked profile, or throws (leaving the running one untouched).
    func apply(_ p: AgentProfile) throws {
        let names = p.files()
        guard names.count <= settings.maxFiles else {
            throw ProfileError(field: "logs", problem: "the paths name \(names.count) files; this agent follows at most \(settings.maxFiles) (--max-files)", code: .tooManyFiles)
        }
        if !p.journal.isEmpty && journalUnits != p.journal {
            guard settings.journal != "off" else {
                throw ProfileError(field: "journal", problem: "journal units are asked for but this agent runs with --journal off", code: .journal)
            }
            do {
                let j = try journal ?? (settings.journal == "system" ? Journal.system() : Journal.directory(settings.journal))
                try j.match(units: p.journal)
                try j.seek(after: journalCursor, tail: settings.startAtEnd)
                journal = j
                journalUnits = p.journal
            } catch {
                throw ProfileError(field: "journal", problem: "\(error)", code: .journal)
            }
        } else if p.journal.isEmpty {
            journal?.close(); journal = nil; journalUnits = nil
        }
        profile = p
        refreshFiles(names)
        logger.info("profile applied", ["profiles": p.profiles.joined(separator: ","), "files": String(files.count),
                                        "journal": p.journal.joined(separator: ","), "rate_limit": String(p.rateLimit), "hash": p.hash])
    }

    private func refreshFiles(_ given: [String]? = nil) {
        guard let p = profile else { return }
        var names = given ?? p.files()
        if names.count > settings.maxFiles { names = Array(names.prefix(settings.maxFiles)) }
        let wanted = Set(names)
        for (path, f) in files where !wanted.contains(path) { f.close(); files[path] = nil }
        for path in names where files[path] == nil {
            let f = TailedFile(path: path, saved: lastPositions[path], maxLineBytes: settings.maxLineBytes)
            f.startAtEnd = settings.startAtEnd
            files[path] = f
        }
        fileOrder = names
    }

    // MARK: collection

    /// Events allowed now by the profile's rate limit (a one-second bucket).
    private func allowance(now: Int64) -> Int {
        guard let rate = profile?.rateLimit, rate > 0 else { return settings.batchEvents }
        if tokensAt == 0 { tokensAt = now; tokens = Double(rate) }
        tokens = min(Double(rate), tokens + Double(now - tokensAt) * Double(rate) / 1000)
        tokensAt = now
        // Once the bucket ran dry, wait for a tenth of a second's worth rather than spooling
        // a stream of tiny batches.
        let allowed = min(settings.batchEvents, Int(tokens))
        return allowed >= min(settings.batchEvents, max(1, rate / 10)) ? allowed : 0
    }

    /// Reads one batch from the sources and spools it with the positions it advances.
    private func collect(now: Int64) -> Bool {
        var events: [Event] = []
        var positions: [String: FilePosition] = [:]
        var cursor: String?
        // The inventory goes first, at start and whenever it changed.
        if inventorySpooled != inventory {
            var e = Event()
            e.parseStatus = .parsed
            e.format = "agent-inventory"
            e.fields = inventory.fields(agentId: agentId)
            let data = (try? JSONSerialization.data(withJSONObject: inventory.json(agentId: agentId), options: [.sortedKeys])) ?? Data()
            e.raw = Array(data)
            e.eventTimeMs = Clock.nowMs()
            events.append(e)
        }
        let allowed = allowance(now: now)
        if allowed <= 0 { rateLimitedMs += Int64(settings.pollMs) }
        if !fileOrder.isEmpty && allowed > 0 {
            var lines: [TailLine] = []
            var bytes = settings.batchBytes
            for k in 0..<fileOrder.count where lines.count < allowed && bytes > 0 {
                let path = fileOrder[(nextFile + k) % fileOrder.count]
                guard let f = files[path] else { continue }
                let before = lines.count
                f.read(maxBytes: bytes, maxLines: allowed, into: &lines)
                for l in lines[before...] { bytes -= l.bytes.count }
            }
            nextFile = (nextFile + 1) % max(1, fileOrder.count)
            let host = inventory.hostname
            for l in lines {
                var e = Event()
                e.raw = l.bytes
                e.fields = ["agent.id": agentId, "host.name": host, "log.file.path": l.path]
                events.append(e)
                positions[l.path] = l.after
            }
        }
        if let j = journal, events.count < allowed + 1 {
            j.refresh()
            var n = events.count
            while n < allowed {
                let entry: JournalEntry?
                do { entry = try j.next() } catch {
                    logger.warning("journal read failed", ["error": "\(error)"]); break
                }
                guard let en = entry else { break }
                events.append(Self.journalEvent(en, agentId: agentId, host: inventory.hostname))
                cursor = en.cursor
                n += 1
            }
        }
        guard !events.isEmpty else { return false }
        if profile?.rateLimit ?? 0 > 0 { tokens -= Double(events.count) }
        do {
            let dropped = try state.spool(agentId: agentId, events: events, positions: positions, journalCursor: cursor,
                                          maxBytes: settings.spoolMaxBytes, now: Clock.nowMs())
            if !dropped.isEmpty {
                logger.warning("spool full: oldest batches dropped (counted as dropped_events)",
                               ["batches": String(dropped.count), "first": dropped.first ?? ""])
            }
            for (p, pos) in positions { lastPositions[p] = pos }
            if let c = cursor { journalCursor = c }
            inventorySpooled = inventory
        } catch {
            // Nothing advanced: the same lines are read again next turn.
            logger.error("cannot spool a batch; sources re-read", ["error": "\(error)"])
            try? state.recount()
            for (path, f) in files { f.close(); files[path] = nil }
            refreshFiles()
            if let j = journal { try? j.seek(after: journalCursor) }
            return false
        }
        return true
    }

    /// A journal entry as a syslog line (so ingest's parsers read it like /var/log/auth.log),
    /// with its unit and the agent as context.
    static func journalEvent(_ en: JournalEntry, agentId: String, host: String) -> Event {
        let f = en.fields
        let pri = min(7, max(0, Int(f["PRIORITY"] ?? "6") ?? 6)), fac = min(23, max(0, Int(f["SYSLOG_FACILITY"] ?? "3") ?? 3))
        var t = time_t(Int(en.realtimeUs / 1_000_000))
        var tmv = tm()
        gmtime_r(&t, &tmv)
        var buf = [CChar](repeating: 0, count: 32)
        let n = strftime(&buf, buf.count, "%b %e %H:%M:%S", &tmv)
        let stamp = n > 0 ? String(cString: buf) : "Jan  1 00:00:00"
        let ident = f["SYSLOG_IDENTIFIER"] ?? f["_COMM"] ?? "journal"
        let pid = f["SYSLOG_PID"] ?? f["_PID"]
        let entryHost = f["_HOSTNAME"] ?? host
        let line = "<\(fac * 8 + pri)>\(stamp) \(entryHost) \(ident)\(pid.map { "[\($0)]" } ?? ""): \(f["MESSAGE"] ?? "")"
        var e = Event()
        e.raw = Array(line.utf8)
        var ctx = ["agent.id": agentId, "host.name": entryHost, "log.source": "journal"]
        if let u = f["_SYSTEMD_UNIT"] { ctx["systemd.unit"] = u }
        e.fields = ctx
        return e
    }

    // MARK: delivery

    /// Sends spooled batches (oldest first, a few in flight); each leaves the spool when ingest
    /// acknowledges it (after its commit). A resend after a lost reply carries the same batch
    /// id, which ingest stores once.
    private func send(now: Int64) -> Bool {
        guard now >= retryAt, inFlight.count < settings.inFlight, state.spoolBatches > inFlight.count else { return false }
        let batches: [AgentState.Spooled]
        do { batches = try state.oldest(after: lastQueued, limit: settings.inFlight - inFlight.count) } catch {
            logger.error("cannot read the spool", ["error": "\(error)"]); return false
        }
        var sent = 0
        for b in batches where inFlight[b.n] == nil {
            sent += 1
            inFlight[b.n] = b
            lastQueued = max(lastQueued, b.n)
            client.send(service: "ingest", method: "ingest.submit", payload: b.payload, timeoutMs: 10_000) { [unowned self] r in
                self.inFlight[b.n] = nil
                switch r {
                case .success(let resp) where resp.errorCode == .ok:
                    do { try self.state.acknowledged(b, accepted: true) } catch {
                        try? self.state.recount()
                        self.logger.error("acknowledged batch not removed from the spool; it will be resent (ingest keeps it once)",
                                          ["batch": b.batchId, "error": "\(error)"])
                    }
                    self.backoff = 100
                case .success(let resp) where resp.errorCode == .badRequest:
                    // Ingest will never take it: counted as rejected, kept out of the way.
                    self.logger.error("ingest refused a batch; dropped", ["batch": b.batchId, "error": resp.errorMessage])
                    try? self.state.acknowledged(b, accepted: false)
                default:
                    let why: String
                    if case .success(let resp) = r { why = "\(resp.errorCode): \(resp.errorMessage)" }
                    else if case .failure(let e) = r { why = e.description } else { why = "" }
                    if self.backoff <= 100 { self.logger.warning("ingest unreachable; batches stay in the spool", ["error": why]) }
                    self.lastQueued = min(self.lastQueued, b.n - 1)
                    self.retryAt = Clock.monotonicMs() + self.backoff
                    self.backoff = min(self.backoff * 2, 5000)
                }
            }
        }
        return sent > 0
    }

    public static func main() -> Never {
        ShutdownSignal.install()
        let config: RuntimeConfig
        let settings: AgentSettings
        do {
            config = try RuntimeConfig.load(service: "agent", serviceKeys: AgentSettings.keys)
            settings = try AgentSettings(config)
        } catch {
            exitForBadConfiguration(program: "agent", error)
        }
        if config.settings["help"] != nil || CommandLine.arguments.contains("--help") {
            var s = "usage: vigil-agent --data DIR --endpoint.rpc ENDPOINT [--enroll-token T] [--key value]…\n\n"
            for (k, d) in RuntimeConfig.commonKeys + AgentSettings.keys { s += "  --\(k.padding(toLength: 22, withPad: " ", startingAt: 0)) \(d)\n" }
            print(s)
            exit(0)
        }
        do {
            try ProcessMemory.apply(config, logger: Logger(label: "agent"), defaultMB: 0)
            let agent = try Agent(config: config, settings: settings)
            agent.run()
            exit(0)
        } catch let error as ConfigError {
            exitForBadConfiguration(program: "agent", error)
        } catch {
            Logger(label: "agent").error("fatal startup error", ["error": "\(error)"])
            exit(1)
        }
    }
}

import Foundation
import VigilBus
import VigilLog
import VigilRules
import VigilStore
import VigilWire
#if canImport(Glibc)
import Glibc
#endif

/// The agent registry (docs/agent.md): agents enroll with a configured enrollment token, wait
/// for an admin to activate them, heartbeat their status and pull the profile that applies to
/// them (the `agent_profile` objects whose `assets` or `tags` select them, merged).
///
/// RPCs (ConfigRequest.object_json carries the request, ConfigReply.json the answer):
///   agents.enroll     {token, hostname, tags, version, inventory}  → {agent_id, secret, status}
///   agents.heartbeat  {agent_id, secret, version, spool_*, lag_ms, dropped_*, sent_*, profile_hash, profile_error, inventory?}
///                                                                  → {status, profile_hash}
///   agents.profile    {agent_id, secret}                           → {status, profile: {profiles, logs, journal, rate_limit, hash}}
///   agents.list       -                                            → [agent…] (no secrets)
///   agents.get        id                                           → agent
///   agents.activate|deactivate  id (admin role)                    → agent
/// Enrollment, activation and deactivation are audited and published on `config.changed`
/// (kind "agent"); heartbeats are not (they only update the agent's row).
final class AgentRegistry {
    static let keys: [(String, String)] = [
        ("agents.enroll-tokens", "enrollment tokens agents may register with: comma-separated, or @FILE with one per line (none: enrollment refused)"),
    ]

    static let migrations: [Migration] = [
        Migration(1, "agents", """
        CREATE TABLE agents(id TEXT PRIMARY KEY, hostname TEXT NOT NULL, tags TEXT NOT NULL, status TEXT NOT NULL,
            secret TEXT NOT NULL, enrolled_ms INTEGER NOT NULL, changed_by TEXT NOT NULL, changed_ms INTEGER NOT NULL,
            last_seen_ms INTEGER NOT NULL DEFAULT 0, version TEXT NOT NULL DEFAULT '', stats TEXT NOT NULL DEFAULT '{}',
            inventory TEXT NOT NULL DEFAULT '{}', profile_hash TEXT NOT NULL DEFAULT '', profile_error TEXT NOT NULL DEFAULT '');
        """),
    ]

    /// Heartbeat counters kept as reported (numbers only).
    static let statKeys = ["spool_batches", "spool_events", "spool_bytes", "lag_ms", "dropped_events", "dropped_batches",
                           "sent_events", "sent_batches", "read_events", "rate_limited_ms", "files", "backlog_bytes"]

    let store: ConfigStore
    var db: Database { store.db }
    let tokens: [[UInt8]]
    let now: () -> Int64
    /// Appends a change to `config.changed` inside the current transaction.
    let publish: (ConfigChange) throws -> UInt64

    init(store: ConfigStore, tokens: [String], now: @escaping () -> Int64, publish: @escaping (ConfigChange) throws -> UInt64) throws {
        self.store = store
        self.tokens = tokens.filter { !$0.isEmpty }.map { Array($0.utf8) }
        self.now = now
        self.publish = publish
        _ = try store.db.migrate(component: "config-agents", Self.migrations)
    }

    /// `agents.enroll-tokens`: inline comma-separated, or `@FILE` (one per line, `#` comments).
    static func loadTokens(_ setting: String) throws -> [String] {
        if setting.hasPrefix("@") {
            let path = String(setting.dropFirst())
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigFailure(.invalid, "agents.enroll-tokens: cannot read \(path)")
            }
            return text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        }
        return setting.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Constant time in the token's content: every configured token is compared in full.
    func tokenAccepted(_ given: String) -> Bool {
        let g = Array(given.utf8)
        var ok = false
        for t in tokens {
            var diff = UInt8(truncatingIfNeeded: g.count ^ t.count)
            for i in 0..<max(g.count, t.count) {
                diff |= (i < g.count ? g[i] : 0) ^ (i < t.count ? t[i] : 0)
            }
            ok = ok || diff == 0
        }
        return ok
    }

    static func secretsEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }

    static func randomHex(_ bytes: Int) -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &g)) }.joined()
    }

    // MARK: rows

    struct AgentRow {
        var id = "", hostname = "", tags: [String] = [], status = "", secret = ""
        var enrolledMs: Int64 = 0, changedBy = "", changedMs: Int64 = 0, lastSeenMs: Int64 = 0, version = ""
        var stats: JSONValue = .object([]), inventory: JSONValue = .object([]), profileHash = "", profileError = ""
    }

    static let columns = "id, hostname, tags, status, secret, enrolled_ms, changed_by, changed_ms, last_seen_ms, version, stats, inventory, profile_hash, profile_error"

    static func row(_ r: Row) -> AgentRow {
        var a = AgentRow()
        a.id = r.string(0); a.hostname = r.string(1)
        a.tags = strings((try? JSONReader.parse(r.string(2))) ?? .array([]))
        a.status = r.string(3); a.secret = r.string(4); a.enrolledMs = r.int(5); a.changedBy = r.string(6); a.changedMs = r.int(7)
        a.lastSeenMs = r.int(8); a.version = r.string(9)
        a.stats = (try? JSONReader.parse(r.string(10))) ?? .object([])
        a.inventory = (try? JSONReader.parse(r.string(11))) ?? .object([])
        a.profileHash = r.string(12); a.profileError = r.string(13)
        return a
    }

    static func strings(_ v: JSONValue?) -> [String] {
        guard case .array(let items)? = v else { return [] }
        return items.compactMap { if case .string(let s) = $0 { return s }; return nil }
    }

    func agent(_ id: String) throws -> AgentRow? {
        try db.query("SELECT \(Self.columns) FROM agents WHERE id = ?", [.text(id)]).first.map(Self.row)
    }

    func all() throws -> [AgentRow] {
        try db.query("SELECT \(Self.columns) FROM agents ORDER BY hostname, id").map(Self.row)
    }

    /// What clients see: no secret; status, last heartbeat's figures, inventory, profile.
    func present(_ a: AgentRow) throws -> JSONValue {
        var m: [(String, JSONValue)] = [("id", .string(a.id)), ("hostname", .string(a.hostname)), ("status", .string(a.status)),
                                        ("tags", .array(a.tags.map { .string($0) })), ("version", .string(a.version)),
                                        ("enrolled_ms", .integer(a.enrolledMs)), ("changed_by", .string(a.changedBy)),
                                        ("changed_ms", .integer(a.changedMs)), ("last_seen_ms", .integer(a.lastSeenMs))]
        for k in Self.statKeys { m.append((k, a.stats[k] ?? .integer(0))) }
        for k in ["os", "ips", "macs"] { if let v = a.inventory[k] { m.append((k, v)) } }
        let p = try effectiveProfile(a)
        m.append(("profiles", p["profiles"] ?? .array([])))
        m.append(("profile_hash", .string(a.profileHash)))
        m.append(("profile_current", .bool(!a.profileHash.isEmpty && p["hash"] == .string(a.profileHash))))
        m.append(("profile_error", .string(a.profileError)))
        return .object(m)
    }

    // MARK: profiles

    /// The `agent_profile` objects that select this agent — an `assets` entry equal to its id,
    /// matching its host name (shell glob, case-insensitive; `*` is every agent) or one of its
    /// IPs, or a `tags` entry it carries — merged: logs and journal units united, the lowest
    /// rate limit. `hash` changes whenever the merged profile does.
    func effectiveProfile(_ a: AgentRow) throws -> JSONValue {
        let ips = Set(Self.strings(a.inventory["ips"]))
        var names: [String] = [], logs: [String] = [], journal: [String] = []
        var rate: Int64 = 0
        for p in try store.all(.agentProfile) {
            let assets = Self.strings(p.body["assets"]), tags = Self.strings(p.body["tags"])
            let host = a.hostname.lowercased()
            let selected = assets.contains { s in
                s == a.id || ips.contains(s) || fnmatch(s.lowercased(), host, 0) == 0
            } || tags.contains { a.tags.contains($0) }
            guard selected else { continue }
            names.append(p.id)
            for l in Self.strings(p.body["logs"]) where !logs.contains(l) { logs.append(l) }
            for u in Self.strings(p.body["journal"]) where !journal.contains(u) { journal.append(u) }
            if case .integer(let r)? = p.body["rate_limit"], r > 0 { rate = rate == 0 ? r : min(rate, r) }
        }
        let body: JSONValue = .object([("profiles", .array(names.map { .string($0) })), ("logs", .array(logs.map { .string($0) })),
                                       ("journal", .array(journal.map { .string($0) })), ("rate_limit", .integer(rate))])
        guard case .object(var m) = body else { return body }
        m.append(("hash", .string(Self.fnv1a(JSONWriter.write(body, pretty: false)))))
        return .object(m)
    }

    static func fnv1a(_ s: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return String(h, radix: 16)
    }

    // MARK: requests

    static func request(_ json: String) throws -> JSONValue {
        guard let v = try? JSONReader.parse(json), case .object = v else {
            throw ConfigFailure(.invalidJSON, "an agents request is a JSON object in object_json")
        }
        return v
    }

    static func text(_ v: JSONValue, _ key: String, max: Int = 256) throws -> String {
        guard let f = v[key] else { return "" }
        guard case .string(let s) = f, s.utf8.count <= max else { throw ConfigFailure(.invalid, "\(key): must be a string of at most \(max) bytes") }
        return s
    }

    /// The calling agent, authenticated by its id and secret (compared in constant time).
    func authenticated(_ v: JSONValue) throws -> AgentRow {
        let id = try Self.text(v, "agent_id"), secret = try Self.text(v, "secret")
        guard let a = try agent(id), Self.secretsEqual(a.secret, secret) else {
            throw AgentAuthFailure(code: .credentials, message: "unknown agent '\(id)' or wrong secret; enroll again")
        }
        return a
    }

    func enroll(_ json: String, actor: String) throws -> JSONValue {
        let v = try Self.request(json)
        guard !tokens.isEmpty else {
            throw AgentAuthFailure(code: .closed, message: "enrollment is closed: the config service has no agents.enroll-tokens (VIGIL_AGENTS_ENROLL_TOKENS)")
        }
        guard tokenAccepted(try Self.text(v, "token")) else { throw AgentAuthFailure(code: .token, message: "enrollment token not accepted") }
        let hostname = try Self.text(v, "hostname")
        guard !hostname.isEmpty else { throw ConfigFailure(.invalid, "hostname: required") }
        let tags = Self.strings(v["tags"])
        guard tags.count <= 64, tags.allSatisfy({ !$0.isEmpty && $0.count <= 64 }) else {
            throw ConfigFailure(.invalid, "tags: at most 64 non-empty strings of at most 64 characters")
        }
        var a = AgentRow()
        a.id = UUID().uuidString.lowercased()
        a.hostname = hostname; a.tags = tags; a.status = "pending"; a.secret = Self.randomHex(32)
        a.enrolledMs = now(); a.changedBy = actor; a.changedMs = a.enrolledMs; a.lastSeenMs = a.enrolledMs
        a.version = try Self.text(v, "version")
        if let inv = v["inventory"], case .object = inv { a.inventory = inv }
        try db.transaction {
            try db.run("INSERT INTO agents(\(Self.columns)) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                       [.text(a.id), .text(a.hostname), .text(JSONWriter.write(.array(tags.map { .string($0) }), pretty: false)),
                        .text(a.status), .text(a.secret), .integer(a.enrolledMs), .text(actor), .integer(a.changedMs),
                        .integer(a.lastSeenMs), .text(a.version), .text("{}"), .text(JSONWriter.write(a.inventory, pretty: false)),
                        .text(""), .text("")])
            try changed(a, action: "enrolled", actor: actor)
        }
        return .object([("agent_id", .string(a.id)), ("secret", .string(a.secret)), ("status", .string(a.status))])
    }

    func setStatus(_ id: String, active: Bool, actor: String) throws -> JSONValue {
        guard var a = try agent(id) else { throw ConfigFailure(.notFound, "no agent with id '\(id)' (see `vigil agents list`)") }
        let status = active ? "active" : "inactive"
        if a.status != status {
            a.status = status; a.changedBy = actor; a.changedMs = now()
            try db.transaction {
                try db.run("UPDATE agents SET status = ?, changed_by = ?, changed_ms = ? WHERE id = ?",
                           [.text(status), .text(actor), .integer(a.changedMs), .text(id)])
                try changed(a, action: active ? "activated" : "deactivated", actor: actor)
            }
        }
        return try present(a)
    }

    /// Audits the change and appends it to `config.changed` (kind "agent"), in the caller's transaction.
    private func changed(_ a: AgentRow, action: String, actor: String) throws {
        let json = JSONWriter.write(try present(a), pretty: false)
        let seq = try publish(ConfigChange(kind: "agent", id: a.id, action: action, objectJSON: json, actor: actor, timeMs: now()))
        try db.run("INSERT INTO audit(time_ms, actor, action, kind, id, before, after, seq) VALUES(?,?,?,?,?,?,?,?)",
                   [.integer(now()), .text(actor), .text(action), .text("agent"), .text(a.id), .text(""), .text(json), .integer(Int64(seq))])
    }

    func heartbeat(_ json: String) throws -> JSONValue {
        let v = try Self.request(json)
        var a = try authenticated(v)
        var stats: [(String, JSONValue)] = []
        for k in Self.statKeys {
            if case .integer(let n)? = v[k] { stats.append((k, .integer(n))) }
        }
        a.lastSeenMs = now()
        if let inv = v["inventory"], case .object = inv { a.inventory = inv }
        let version = try Self.text(v, "version")
        let hash = try Self.text(v, "profile_hash"), error = try Self.text(v, "profile_error", max: 4096)
        try db.run("UPDATE agents SET last_seen_ms = ?, version = ?, stats = ?, inventory = ?, profile_hash = ?, profile_error = ? WHERE id = ?",
                   [.integer(a.lastSeenMs), .text(version), .text(JSONWriter.write(.object(stats), pretty: false)),
                    .text(JSONWriter.write(a.inventory, pretty: false)), .text(hash), .text(error), .text(a.id)])
        let p = try effectiveProfile(a)
        return .object([("status", .string(a.status)), ("profile_hash", p["hash"] ?? .string(""))])
    }

    func profile(_ json: String) throws -> JSONValue {
        let a = try authenticated(try Self.request(json))
        return .object([("status", .string(a.status)), ("profile", try effectiveProfile(a))])
    }
}

/// An agent request refused for its credentials (token, id or secret).
struct AgentAuthFailure: Error, CustomStringConvertible {
    enum Code: String { case closed, token, credentials, role }
    var code: Code
    var message: String
    var description: String { (code == .role ? "forbidden: " : "unauthenticated: ") + message }
}

extension ConfigService {
    /// Installs the `agents.*` methods (called once from init).
    func installAgents() throws {
        let tokens = try AgentRegistry.loadTokens(runtime.config.string("agents.enroll-tokens", default: ""))
        let producer = self.producer
        let agents = try AgentRegistry(store: registry.store, tokens: tokens, now: { Clock.nowMs() }) { change in
            var c = change
            c.sequence = (producer.heads[Self.stream] ?? 0) + 1
            return try producer.append(stream: Self.stream, topic: Self.stream, payloadType: ConfigChange.typeName, payload: c.encoded())
        }
        let w = runtime.worker
        func answer(_ req: RpcRequest, admin: Bool = false, count: String,
                    _ body: (ConfigRequest, String) throws -> JSONValue) -> RpcResponse {
            let actor = req.caller.name.isEmpty ? "anonymous" : req.caller.name
            do {
                if admin && req.caller.role != "admin" {
                    throw AgentAuthFailure(code: .role, message: "this needs the admin role (caller '\(actor)' has '\(req.caller.role)')")
                }
                guard let r = try? ConfigRequest(decoding: req.payload) else {
                    throw ConfigFailure(.invalid, "expected a ConfigRequest (id, object_json)")
                }
                let out = try body(r, actor)
                producer.publishCommitted()
                runtime.count("agents.\(count)")
                return .ok(ConfigReply(json: JSONWriter.write(out, pretty: false)))
            } catch {
                producer.discardUncommitted()
                runtime.count("agents.\(count)_refused")
                if let e = error as? AgentAuthFailure { return .failure(.permissionDenied, e.description) }
                if let e = error as? ConfigFailure { return .failure(e.code == .notFound ? .notFound : .badRequest, e.description) }
                runtime.logger.error("agents request failed", ["error": "\(error)"])
                return .failure(.internal, "\(error)")
            }
        }
        // Anyone may try to enroll: the enrollment token decides.
        w.handle("agents.enroll", role: RpcRole.none) { req in answer(req, count: "enrolled") { r, actor in try agents.enroll(r.objectJSON, actor: actor) } }
        w.handle("agents.heartbeat", role: .agent) { req in answer(req, count: "heartbeats") { r, _ in try agents.heartbeat(r.objectJSON) } }
        w.handle("agents.profile", role: .agent) { req in answer(req, count: "profiles") { r, _ in try agents.profile(r.objectJSON) } }
        w.handle("agents.list") { req in answer(req, count: "lists") { _, _ in .array(try agents.all().map(agents.present)) } }
        w.handle("agents.get") { req in
            answer(req, count: "gets") { r, _ in
                guard let a = try agents.agent(r.id) else { throw ConfigFailure(.notFound, "no agent with id '\(r.id)'") }
                return try agents.present(a)
            }
        }
        w.handle("agents.activate") { req in answer(req, admin: true, count: "activated") { r, actor in try agents.setStatus(r.id, active: true, actor: actor) } }
        w.handle("agents.deactivate") { req in answer(req, admin: true, count: "deactivated") { r, actor in try agents.setStatus(r.id, active: false, actor: actor) } }
    }
}

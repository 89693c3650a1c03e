import Foundation
import VigilStore
import VigilWire

/// The user-analytics core without the bus: user rows and their risk state, signal intake,
/// directory apply, and the read models (overview, detail). The service calls it inside its
/// stream transactions; the bench and the unit tests call it directly.
public final class UserAnalyticsEngine {
    struct State { var key: Double; var privileged: Bool; var signals: Int64; var lastSignalMs: Int64 }

    public let db: Database
    public var model: RiskModel
    /// Every name a user is known by (lower-case account name, UPN, e-mail, upper-case SID) → user id.
    private var index: [String: String] = [:]
    private var state: [String: State] = [:]
    /// Called for every added or changed directory user, inside the caller's transaction.
    public var onDirectoryChange: (DirectoryUser) throws -> Void = { _ in }
    public var count: (String, UInt64) -> Void = { _, _ in }

    public init(db: Database, model: RiskModel = RiskModel()) throws {
        self.db = db
        self.model = model
        _ = try db.migrate(component: "user-analytics", Schema.migrations)
        for r in try db.query("SELECT \(Schema.userColumns) FROM users") {
            let u = UserRow(r)
            remember(u)
        }
    }

    public var userCount: Int { state.count }

    private func remember(_ u: UserRow) {
        for a in Self.aliases(u.user) { index[a] = u.user.id }
        state[u.user.id] = State(key: u.riskKey, privileged: u.user.privileged, signals: u.signals, lastSignalMs: u.lastSignalMs)
    }

    static func aliases(_ u: DirectoryUser) -> [String] {
        var a = [u.id.lowercased()]
        if !u.samAccountName.isEmpty { a.append(u.samAccountName.lowercased()) }
        if !u.upn.isEmpty { a.append(u.upn.lowercased()) }
        if !u.email.isEmpty { a.append(u.email.lowercased()) }
        if !u.sid.isEmpty { a.append(u.sid.uppercased()) }
        return a
    }

    /// The user a name refers to: SID, UPN/e-mail, `DOMAIN\name`, `name@domain`, or the account name.
    public func resolve(_ raw: String) -> String? {
        // Hot path (every signal): exact lower-case match first, Foundation trimming only when needed.
        if let id = index[raw] { return id }
        let s = raw.utf8.first == 32 || raw.utf8.last == 32 ? raw.trimmingCharacters(in: .whitespaces) : raw
        if s.isEmpty { return nil }
        if s.uppercased().hasPrefix("S-1-") { return index[s.uppercased()] }
        let l = s.lowercased()
        if let id = index[l] { return id }
        var name = l
        if let slash = name.lastIndex(of: "\\") { name = String(name[name.index(after: slash)...]) }
        if let at = name.firstIndex(of: "@") { name = String(name[..<at]) }
        return index[name]
    }

    /// The id a user not (yet) in the directory gets: the bare, lower-case account name.
    static func stubId(_ raw: String) -> String {
        var name = raw.trimmingCharacters(in: .whitespaces).lowercased()
        if name.uppercased().hasPrefix("S-1-") { return name.uppercased() }
        if let slash = name.lastIndex(of: "\\") { name = String(name[name.index(after: slash)...]) }
        if let at = name.firstIndex(of: "@") { name = String(name[..<at]) }
        return name
    }

    // MARK: signals

    /// Stores the signals that name a user and moves their scores; a signal already stored
    /// (a replay) changes nothing. Returns how many were new. Runs inside the caller's transaction.
    @discardableResult
    public func ingest(_ signals: [Signal], nowMs: Int64) throws -> Int {
        var added = 0
        var touched: Set<String> = []
        for s in signals {
            guard !s.entity.user.isEmpty else { count("signals.no_user", 1); continue }
            var id = resolve(s.entity.user)
            if id == nil {
                // Known only from signals until the directory brings it; never dropped.
                let stub = Self.stubId(s.entity.user)
                guard !stub.isEmpty else { count("signals.no_user", 1); continue }
                var row = UserRow()
                row.user.id = stub
                row.user.samAccountName = stub.hasPrefix("S-1-") ? "" : stub
                row.user.sid = stub.hasPrefix("S-1-") ? stub : ""
                row.origin = "signals"
                try save(row, nowMs: nowMs)
                remember(row)
                count("users.from_signals", 1)
                id = stub
            }
            guard let uid = id, var st = state[uid] else { continue }
            var t = s.lastEventTimeMs != 0 ? s.lastEventTimeMs : s.createdTimeMs
            if t == 0 || t > nowMs { t = nowMs }
            let weight = model.weight(privileged: st.privileged)
            let inserted = try db.run("""
                INSERT OR IGNORE INTO signals(id, user_id, rule_id, rule_name, tactic, technique, criticality, score, weight, time_ms, event_ids)
                VALUES(?,?,?,?,?,?,?,?,?,?,?)
                """, [.text(s.id), .text(uid), .text(s.ruleId), .text(s.ruleName),
                                   .text(s.mitre.tacticName.isEmpty ? s.mitre.tacticId : s.mitre.tacticName), .text(s.mitre.techniqueId),
                                   .integer(Int64(s.criticality.rawValue)), .integer(Int64(min(100, s.riskScore))), .real(weight),
                                   .integer(t), .text(s.eventIds.joined(separator: ","))])
            guard inserted > 0 else { count("signals.duplicate_ignored", 1); continue }
            st.key = model.adding(RiskSignal(id: s.id, score: min(100, s.riskScore), weight: weight, timeMs: t), to: st.key)
            st.signals += 1
            st.lastSignalMs = max(st.lastSignalMs, t)
            state[uid] = st
            touched.insert(uid)
            added += 1
        }
        for uid in touched {
            guard let st = state[uid] else { continue }
            try db.run("UPDATE users SET risk_key = ?, risk = ?, signals = ?, last_signal_ms = ? WHERE id = ?",
                       [.real(st.key), .real(model.score(key: st.key, atMs: nowMs)), .integer(st.signals), .integer(st.lastSignalMs), .text(uid)])
        }
        count("signals.scored", UInt64(added))
        return added
    }

    /// The decay schedule: refreshes the stored 0–100 score (what QQL filters on) of every user
    /// with risk. Ordering never needs it (keys are time-independent).
    @discardableResult
    public func refreshScores(nowMs: Int64) throws -> Int {
        var n = 0
        try db.transaction {
            let st = try db.statement("UPDATE users SET risk = ? WHERE id = ?")
            for (id, s) in state where s.key != RiskModel.noKey {
                st.reset()
                try st.bind([.real(model.score(key: s.key, atMs: nowMs)), .text(id)])
                _ = try st.step()
                n += 1
            }
        }
        return n
    }

    /// Drops stored signals older than the retention; their decayed weight is long negligible
    /// (the key keeps their sum).
    public func expireSignals(olderThanMs cutoff: Int64) throws -> Int {
        try db.run("DELETE FROM signals WHERE time_ms < ?", [.integer(cutoff)])
    }

    // MARK: directory

    func row(_ id: String) throws -> UserRow? {
        try db.query("SELECT \(Schema.userColumns) FROM users WHERE id = ?", [.text(id)]).first.map(UserRow.init)
    }

    func save(_ u: UserRow, nowMs: Int64) throws {
        // Risk columns stay as they are: the directory never resets a score.
        try db.run("""
            INSERT INTO users(id, sam, upn, email, sid, display_name, department, title, manager, groups, privileged, dn, attributes, origin, in_directory, updated_ms)
            VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
            ON CONFLICT(id) DO UPDATE SET sam = excluded.sam, upn = excluded.upn, email = excluded.email, sid = excluded.sid,
                display_name = excluded.display_name, department = excluded.department, title = excluded.title, manager = excluded.manager,
                groups = excluded.groups, privileged = excluded.privileged, dn = excluded.dn, attributes = excluded.attributes,
                origin = excluded.origin, in_directory = excluded.in_directory, updated_ms = excluded.updated_ms
            """, [.text(u.user.id), .text(u.user.samAccountName), .text(u.user.upn), .text(u.user.email), .text(u.user.sid),
                  .text(u.user.displayName), .text(u.user.department), .text(u.user.title), .text(u.user.manager),
                  .text(u.user.groups.joined(separator: ";")), .integer(u.user.privileged ? 1 : 0), .text(u.dn),
                  .text(UserRow.json(u.attributes)), .text(u.origin), .integer(u.inDirectory ? 1 : 0), .integer(nowMs)])
    }

    /// Applies directory users (a complete sync page set, or an import) in the caller's
    /// transaction: adds, updates, counts unchanged. With `fullFrom` set (a full sync from that
    /// origin), users of that origin not in `users` are marked as no longer in the directory —
    /// never deleted, and their risk stays.
    func apply(_ users: [UserRow], fullFrom origin: String?, nowMs: Int64, report: inout DirectorySyncReport) throws {
        var seen = Set<String>()
        for var u in users {
            seen.insert(u.user.id)
            let old = try row(u.user.id)
            if let o = old, o.sameDirectory(as: u) { report.unchanged += 1; continue }
            if let o = old { u.user.updatedTimeMs = nowMs; report.updated += 1; if o.user.privileged != u.user.privileged { count("users.privilege_changed", 1) } }
            else { u.user.updatedTimeMs = nowMs; report.added += 1 }
            try save(u, nowMs: nowMs)
            // Re-read: the stored row keeps the user's risk state, which `u` does not carry.
            if let stored = try row(u.user.id) { remember(stored) }
            try onDirectoryChange(u.user)
        }
        if let origin {
            for r in try db.query("SELECT id FROM users WHERE origin = ? AND in_directory = 1", [.text(origin)]) where !seen.contains(r.string(0)) {
                try db.run("UPDATE users SET in_directory = 0, updated_ms = ? WHERE id = ?", [.integer(nowMs), .text(r.string(0))])
                report.missing += 1
            }
        }
    }

    /// Adds or updates directory users (what an import or a sync applies), in one transaction.
    @discardableResult
    public func upsert(_ users: [DirectoryUser], origin: String, nowMs: Int64) throws -> DirectorySyncReport {
        var report = DirectorySyncReport()
        let rows = users.map { u -> UserRow in
            var r = UserRow()
            r.user = u
            r.origin = origin
            r.inDirectory = true
            return r
        }
        try db.transaction { try apply(rows, fullFrom: nil, nowMs: nowMs, report: &report) }
        return report
    }

    // MARK: read models

    func risk(_ u: UserRow, nowMs: Int64) -> UserRisk {
        var r = UserRisk()
        r.id = u.user.id; r.name = u.user.samAccountName; r.displayName = u.user.displayName
        r.department = u.user.department; r.title = u.user.title; r.privileged = u.user.privileged
        let key = state[u.user.id]?.key ?? u.riskKey
        r.score = model.score(key: key, atMs: nowMs)
        r.signals = UInt64(max(0, u.signals)); r.lastSignalTimeMs = u.lastSignalMs; r.inDirectory = u.inDirectory
        return r
    }

    func riskSignals(_ userId: String, untilMs: Int64, fromMs: Int64 = 0) throws -> [(RiskSignal, SignalSummary)] {
        try db.query("""
            SELECT id, rule_id, rule_name, tactic, technique, criticality, score, weight, time_ms, event_ids
            FROM signals WHERE user_id = ? AND time_ms >= ? AND time_ms <= ? ORDER BY time_ms DESC
            """, [.text(userId), .integer(fromMs), .integer(untilMs)]).map { r in
            var w = 1.0
            if case .real(let d) = r[7] { w = d }
            let rs = RiskSignal(id: r.string(0), ruleId: r.string(1), ruleName: r.string(2), tactic: r.string(3),
                                score: UInt32(r.int(6)), weight: w, timeMs: r.int(8))
            var s = SignalSummary()
            s.id = rs.id; s.ruleId = rs.ruleId; s.ruleName = rs.ruleName; s.tactic = rs.tactic; s.technique = r.string(4)
            s.criticality = UInt32(r.int(5)); s.score = rs.score; s.timeMs = rs.timeMs
            s.eventIds = r.string(9).split(separator: ",").map(String.init)
            return (rs, s)
        }
    }

    /// Highest current risk first (exact: ordered by the time-independent key), with the
    /// number of signals in the range and the rule contributing most.
    public func overview(limit: Int, fromMs: Int64, toMs: Int64, nowMs: Int64) throws -> UserRiskPage {
        let rows = try db.query("SELECT \(Schema.userColumns) FROM users WHERE risk_key IS NOT NULL ORDER BY risk_key DESC LIMIT ?",
                                [.integer(Int64(max(1, limit)))]).map(UserRow.init)
        var page = UserRiskPage()
        page.total = UInt64(try db.scalar("SELECT count(*) FROM users WHERE risk_key IS NOT NULL")?.int64 ?? 0)
        let countSignals = try db.statement("SELECT count(*) FROM signals WHERE user_id = ? AND time_ms >= ? AND time_ms < ?")
        for u in rows {
            var r = risk(u, nowMs: nowMs)
            countSignals.reset()
            try countSignals.bind([.text(u.user.id), .integer(fromMs), .integer(toMs)])
            if try countSignals.step() { r.signals = UInt64(max(0, countSignals.value(0).int64 ?? 0)) }
            r.topRule = try topRule(u.user.id, nowMs: nowMs)
            page.users.append(r)
        }
        return page
    }

    /// S"""Lite's math functions (Debian builds them in) when present: the top rule is then
    /// summed in S"""L instead of reading every signal of the user into Swift.
    private lazy var sqlMath: Bool = (try? db.scalar("SELECT pow(2.0, -1.0)")) != nil

    /// The rule contributing most to the current score.
    func topRule(_ userId: String, nowMs: Int64) throws -> String {
        if sqlMath {
            let rows = try db.query("""
                SELECT rule_name, sum(score * weight * pow(2.0, (time_ms - ?) / ?)) AS d FROM signals
                WHERE user_id = ? AND time_ms <= ? GROUP BY rule_id ORDER BY d DESC, rule_id LIMIT 1
                """, [.integer(nowMs), .real(Double(model.halfLifeMs)), .text(userId), .integer(nowMs)])
            return rows.first?.string(0) ?? ""
        }
        return model.explain(try riskSignals(userId, untilMs: nowMs).map { $0.0 }, atMs: nowMs).byRule.first?.ruleName ?? ""
    }

    /// Everything the user pages show, for the range [from, to].
    public func detail(_ req: UserRequest, nowMs: Int64, signalLimit: Int = 200) throws -> UserDetail? {
        guard let id = resolve(req.user) ?? (state[req.user] != nil ? req.user : nil), let u = try row(id) else { return nil }
        let to = req.toTimeMs == 0 ? nowMs : req.toTimeMs
        let from = req.fromTimeMs == 0 ? to - 7 * 86_400_000 : req.fromTimeMs
        var d = UserDetail()
        d.risk = risk(u, nowMs: nowMs)
        d.directory = u.user
        d.attributes = u.attributes
        if !u.dn.isEmpty { d.attributes["dn"] = u.dn }
        d.fromTimeMs = from; d.toTimeMs = to
        // Explanation of the score now (all signals up to now), independent of the range.
        let all = try riskSignals(id, untilMs: nowMs)
        let ex = model.explain(all.map { $0.0 }, atMs: nowMs)
        d.risk.score = ex.score
        d.risk.topRule = ex.byRule.first?.ruleName ?? ""
        d.bySignal = ex.bySignal.prefix(signalLimit).map { p in
            var c = RiskContribution()
            c.signalId = p.signal.id; c.ruleId = p.signal.ruleId; c.ruleName = p.signal.ruleName; c.tactic = p.signal.tactic
            c.signalScore = p.signal.score; c.weight = p.signal.weight; c.decayed = p.decayed; c.points = p.points
            c.timeMs = p.signal.timeMs; c.count = 1
            return c
        }
        d.byRule = ex.byRule.map { p in
            var c = RiskContribution()
            c.ruleId = p.ruleId; c.ruleName = p.ruleName; c.decayed = p.decayed; c.points = p.points; c.count = UInt64(p.signals)
            return c
        }
        // Range views.
        let tactic = req.tactic.lowercased()
        let inRange = all.filter { $0.0.timeMs >= from && $0.0.timeMs <= to }
        let filtered = tactic.isEmpty ? inRange : inRange.filter { $0.0.tactic.lowercased() == tactic || $0.1.tactic.lowercased().replacingOccurrences(of: " ", with: "-") == tactic }
        d.risk.signals = UInt64(inRange.count)
        var tactics: [String: UInt64] = [:]
        for (s, _) in inRange { tactics[s.tactic.isEmpty ? "(none)" : s.tactic, default: 0] += 1 }
        d.byTactic = tactics.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { CountBucket(key: $0.key, label: $0.key, count: $0.value) }
        d.signals = filtered.prefix(signalLimit).map { $0.1 }
        d.trend = model.trend(all.map { $0.0 }, fromMs: from, toMs: to).map {
            RiskPoint(timeMs: $0.timeMs, score: $0.score, delta: $0.delta, signalId: $0.signal?.id ?? "", ruleName: $0.signal?.ruleName ?? "")
        }
        let bucket = req.bucketMs > 0 ? req.bucketMs : Self.niceBucket((to - from) / 24)
        d.bucketMs = bucket
        var counts: [Int64: UInt64] = [:]
        for (s, _) in filtered { counts[(s.timeMs - from) / bucket, default: 0] += 1 }
        var b: Int64 = 0
        while from + b * bucket <= to && b < 10_000 {
            let start = from + b * bucket
            d.timeline.append(CountBucket(key: String(start), label: "", count: counts[b] ?? 0, startTimeMs: start))
            b += 1
        }
        return d
    }

    static func niceBucket(_ ms: Int64) -> Int64 {
        let steps: [Int64] = [60_000, 300_000, 900_000, 1_800_000, 3_600_000, 3 * 3_600_000, 6 * 3_600_000, 12 * 3_600_000, 86_400_000, 7 * 86_400_000]
        return steps.first { $0 >= ms } ?? 30 * 86_400_000
    }

    /// Current risk of the given users, highest first.
    func risks(ids: [String], nowMs: Int64) throws -> [UserRisk] {
        var out: [UserRisk] = []
        for id in ids { if let u = try row(id) { out.append(risk(u, nowMs: nowMs)) } }
        return out.sorted { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
    }

    func user(_ id: String) throws -> UserRow? { try row(id) }
}

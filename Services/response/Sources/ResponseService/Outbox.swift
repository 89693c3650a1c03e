import Foundation
import VigilStore
import VigilWire

/// The response service's store: templates, the delivery outbox (one row per signal ×
/// template: the idempotency key), and the attempt history. The service loop owns its
/// connection; each delivery thread records its outcomes on a connection of its own.
enum Outbox {
    static let migrations: [Migration] = [
        Migration(1, "templates, deliveries, attempts", """
        CREATE TABLE templates(id TEXT PRIMARY KEY, channel TEXT NOT NULL, json TEXT NOT NULL,
            created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE deliveries(id TEXT PRIMARY KEY, signal_id TEXT NOT NULL, template_id TEXT NOT NULL,
            template_name TEXT NOT NULL, rule_id TEXT NOT NULL, channel TEXT NOT NULL, destination TEXT NOT NULL,
            target TEXT NOT NULL, headers TEXT NOT NULL, body BLOB NOT NULL, signal BLOB NOT NULL,
            status INTEGER NOT NULL, attempts INTEGER NOT NULL, last_error TEXT NOT NULL,
            created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, next_attempt_ms INTEGER NOT NULL,
            attempt_limit INTEGER NOT NULL, UNIQUE(signal_id, template_id)) WITHOUT ROWID;
        CREATE INDEX deliveries_due ON deliveries(status, next_attempt_ms);
        CREATE INDEX deliveries_signal ON deliveries(signal_id);
        CREATE TABLE attempts(delivery_id TEXT NOT NULL, attempt INTEGER NOT NULL, time_ms INTEGER NOT NULL,
            duration_ms INTEGER NOT NULL, ok INTEGER NOT NULL, error TEXT NOT NULL, PRIMARY KEY(delivery_id, attempt)) WITHOUT ROWID;
        """),
    ]

    /// Write-ahead of each send, so a crash leaves a trace of what may have reached a receiver:
    /// a delivery thread commits `claimed_attempt` just before it sends, and the outcome the
    /// moment it has it. After a kill, a pending row with
    /// `claimed_attempt > attempts` is a send whose outcome is unknown (`recoverUnknown`).
    /// `unpublished` marks status changes the loop has not yet put on the `responses` stream.
    static let claimMigration = Migration(3, "claimed sends, redeliveries, unpublished status", """
        ALTER TABLE deliveries ADD COLUMN claimed_attempt INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE deliveries ADD COLUMN claimed_ms INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE deliveries ADD COLUMN redelivery INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE deliveries ADD COLUMN unpublished INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX deliveries_unpublished ON deliveries(id) WHERE unpublished = 1;
        """)

    /// The header an HTTP receiver sees on a send that may repeat an earlier one.
    static let redeliveryHeader = "Vigil-Redelivery"
    static let unknownOutcome = "outcome_unknown: the response service stopped while this attempt was under way; sent again with the same idempotency key"

    static func id(signal: String, template: String) -> String { "\(signal)/\(template)" }

    // MARK: templates

    static func loadTemplates(_ db: Database) throws -> [String: Template] {
        var out: [String: Template] = [:]
        for r in try db.query("SELECT json FROM templates") {
            if case .success(let t) = TemplateCodec.decode(r.string(0)) { out[t.id] = t }
        }
        return out
    }

    static func saveTemplate(_ t: Template, _ db: Database, nowMs: Int64) throws {
        try db.run("""
            INSERT INTO templates(id, channel, json, created_ms, updated_ms) VALUES(?,?,?,?,?)
            ON CONFLICT(id) DO UPDATE SET channel = excluded.channel, json = excluded.json, updated_ms = excluded.updated_ms
            """, [.text(t.id), .text(t.channel.rawValue), .text(TemplateCodec.json(TemplateCodec.object(t, includeSecret: true))),
                  .integer(nowMs), .integer(nowMs)])
    }

    // MARK: deliveries

    /// A new pending delivery; false when one exists already for this signal and template.
    static func insert(_ r: Response, message: RenderedMessage?, signal: [UInt8], attemptLimit: Int, _ db: Database) throws -> Bool {
        let headers = message.map { TemplateCodec.json($0.headers) } ?? "{}"
        return try db.run("""
            INSERT OR IGNORE INTO deliveries(id, signal_id, template_id, template_name, rule_id, channel, destination, target,
                headers, body, signal, status, attempts, last_error, created_ms, updated_ms, next_attempt_ms, attempt_limit)
            VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
            """, [.text(r.id), .text(r.signalId), .text(r.templateId), .text(r.templateName), .text(r.ruleId), .text(r.channel),
                  .text(r.destination), .text(message?.target ?? ""), .text(headers), .blob(message?.body ?? []), .blob(signal),
                  .integer(Int64(r.status.rawValue)), .integer(Int64(r.attempts)), .text(r.lastError),
                  .integer(r.createdTimeMs), .integer(r.updatedTimeMs), .integer(r.nextAttemptTimeMs), .integer(Int64(attemptLimit))]) == 1
    }

    static let responseColumns = "id, signal_id, template_id, template_name, channel, destination, status, attempts, last_error, created_ms, updated_ms, next_attempt_ms, rule_id, redelivery"

    static func response(_ row: Row) -> Response {
        var r = Response()
        r.id = row.string(0); r.signalId = row.string(1); r.templateId = row.string(2); r.templateName = row.string(3)
        r.channel = row.string(4); r.destination = row.string(5)
        r.status = DeliveryStatus(rawValue: Int32(truncatingIfNeeded: row.int(6))) ?? .unspecified
        r.attempts = UInt32(truncatingIfNeeded: row.int(7)); r.lastError = row.string(8)
        r.createdTimeMs = row.int(9); r.updatedTimeMs = row.int(10); r.nextAttemptTimeMs = row.int(11); r.ruleId = row.string(12)
        r.redelivered = row.int(13) != 0
        return r
    }

    static func get(_ id: String, _ db: Database) throws -> Response? {
        try db.query("SELECT \(responseColumns) FROM deliveries WHERE id = ?", [.text(id)]).first.map(response)
    }

    static func ofSignal(_ signalId: String, _ db: Database) throws -> [Response] {
        try db.query("SELECT \(responseColumns) FROM deliveries WHERE signal_id = ? ORDER BY created_ms, template_id", [.text(signalId)]).map(response)
    }

    /// A due delivery, ready to send.
    struct Due: Sendable {
        var id: String
        var attempts: Int
        var attemptLimit: Int
        var message: RenderedMessage
    }

    static func due(_ db: Database, nowMs: Int64, limit: Int, excluding: Set<String>) throws -> [Due] {
        let rows = try db.query("""
            SELECT id, attempts, channel, target, headers, body, attempt_limit, redelivery OR claimed_attempt > attempts FROM deliveries
            WHERE status = 1 AND next_attempt_ms <= ? ORDER BY next_attempt_ms, id LIMIT ?
            """, [.integer(nowMs), .integer(Int64(limit + excluding.count))])
        var out: [Due] = []
        for r in rows where !excluding.contains(r.string(0)) {
            guard let channel = Channel(rawValue: r.string(2)) else { continue }
            var headers = (try? JSONSerialization.jsonObject(with: Data(r.string(4).utf8))) as? [String: String] ?? [:]
            // A claim without an outcome (a kill, or an outcome that could not be recorded) means an
            // earlier send may have arrived. Mail keeps its Message-ID, which mail clients deduplicate on.
            if r.int(7) != 0 && channel != .email { headers[redeliveryHeader] = "true" }
            out.append(Due(id: r.string(0), attempts: Int(r.int(1)), attemptLimit: Int(r.int(6)),
                           message: RenderedMessage(channel: channel, target: r.string(3), headers: headers, body: r.blob(5))))
            if out.count >= limit { break }
        }
        return out
    }

    /// A delivery thread is about to send this attempt (committed on its own, before the send).
    static func claim(id: String, attempt: Int, nowMs: Int64, _ db: Database) throws {
        try db.run("UPDATE deliveries SET claimed_attempt = ?, claimed_ms = ? WHERE id = ?",
                   [.integer(Int64(attempt)), .integer(nowMs), .text(id)])
    }

    /// After a crash: every claimed send without a recorded outcome becomes an attempt whose
    /// outcome is unknown; the row stays pending, flagged as a redelivery. Returns how many.
    static func recoverUnknown(nowMs: Int64, _ db: Database) throws -> Int {
        let rows = try db.query("SELECT id, claimed_attempt, claimed_ms FROM deliveries WHERE status = 1 AND claimed_attempt > attempts")
        for r in rows {
            try recordAttempt(id: r.string(0), attempt: Int(r.int(1)), nowMs: r.int(2), durationMs: 0, ok: false, error: unknownOutcome, db)
            try db.run("""
                UPDATE deliveries SET attempts = claimed_attempt, redelivery = 1, last_error = ?, updated_ms = ?, next_attempt_ms = ?, unpublished = 1
                WHERE id = ?
                """, [.text(unknownOutcome), .integer(nowMs), .integer(nowMs), .text(r.string(0))])
        }
        return rows.count
    }

    /// One attempt's outcome → attempt history and the row's new state (caller's transaction).
    static func recordOutcome(id: String, attempt: Int, attemptLimit: Int, outcome: SendOutcome, startedMs: Int64, durationMs: Int64,
                              policy: DeliveryPolicy, nowMs: Int64, _ db: Database) throws -> DeliveryStatus {
        try recordAttempt(id: id, attempt: attempt, nowMs: startedMs, durationMs: durationMs, ok: outcome.ok, error: outcome.error, db)
        let status: DeliveryStatus
        var next: Int64 = 0
        if outcome.ok { status = .delivered }
        else if outcome.permanent || attempt >= attemptLimit { status = .dead }
        else { status = .pending; next = nowMs + policy.delayMs(afterAttempt: attempt) }
        try db.run("""
            UPDATE deliveries SET status = ?, attempts = ?, last_error = ?, next_attempt_ms = ?, updated_ms = ?, unpublished = 1
            WHERE id = ?
            """, [.integer(Int64(status.rawValue)), .integer(Int64(attempt)), .text(outcome.error), .integer(next), .integer(nowMs), .text(id)])
        return status
    }

    /// Status changes not yet on the `responses` stream, oldest change first.
    static func unpublished(_ db: Database, limit: Int) throws -> [Response] {
        try db.query("SELECT \(responseColumns) FROM deliveries WHERE unpublished = 1 ORDER BY updated_ms LIMIT ?", [.integer(Int64(limit))]).map(response)
    }

    static func hasUnpublished(_ db: Database) throws -> Bool {
        try db.scalar("SELECT EXISTS(SELECT 1 FROM deliveries WHERE unpublished = 1)")?.int64 == 1
    }

    static func markPublished(_ id: String, _ db: Database) throws {
        try db.run("UPDATE deliveries SET unpublished = 0 WHERE id = ?", [.text(id)])
    }

    static func recordAttempt(id: String, attempt: Int, nowMs: Int64, durationMs: Int64, ok: Bool, error: String, _ db: Database) throws {
        try db.run("INSERT OR REPLACE INTO attempts(delivery_id, attempt, time_ms, duration_ms, ok, error) VALUES(?,?,?,?,?,?)",
                   [.text(id), .integer(Int64(attempt)), .integer(nowMs), .integer(durationMs), .integer(ok ? 1 : 0), .text(error)])
    }

    static func stats(_ db: Database) throws -> [TemplateStats] {
        try db.query("""
            SELECT template_id, channel, sum(status = 1), sum(status = 2), sum(status = 3), sum(attempts),
                   coalesce(max(CASE WHEN status = 2 THEN updated_ms END), 0)
            FROM deliveries GROUP BY template_id, channel ORDER BY template_id
            """).map { r in
            var s = TemplateStats()
            s.templateId = r.string(0); s.channel = r.string(1)
            s.pending = UInt64(max(0, r.int(2))); s.delivered = UInt64(max(0, r.int(3))); s.dead = UInt64(max(0, r.int(4)))
            s.attempts = UInt64(max(0, r.int(5))); s.lastDeliveredTimeMs = r.int(6)
            return s
        }
    }
}

import Foundation
import VigilQuery
import VigilStore
import VigilWire

/// The user-analytics store: users (directory + risk state), the signals that involve them,
/// and the history of directory syncs.
enum Schema {
    static let migrations: [Migration] = [
        Migration(1, "users, signals, directory syncs", """
        CREATE TABLE users(id TEXT PRIMARY KEY, sam TEXT NOT NULL, upn TEXT NOT NULL, email TEXT NOT NULL, sid TEXT NOT NULL,
            display_name TEXT NOT NULL, department TEXT NOT NULL, title TEXT NOT NULL, manager TEXT NOT NULL,
            groups TEXT NOT NULL, privileged INTEGER NOT NULL, dn TEXT NOT NULL, attributes TEXT NOT NULL,
            origin TEXT NOT NULL, in_directory INTEGER NOT NULL, updated_ms INTEGER NOT NULL,
            risk_key REAL, risk REAL NOT NULL DEFAULT 0, signals INTEGER NOT NULL DEFAULT 0, last_signal_ms INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX users_risk_key ON users(risk_key) WHERE risk_key IS NOT NULL;
        CREATE TABLE signals(id TEXT PRIMARY KEY, user_id TEXT NOT NULL, rule_id TEXT NOT NULL, rule_name TEXT NOT NULL,
            tactic TEXT NOT NULL, technique TEXT NOT NULL, criticality INTEGER NOT NULL, score INTEGER NOT NULL,
            weight REAL NOT NULL, time_ms INTEGER NOT NULL, event_ids TEXT NOT NULL) WITHOUT ROWID;
        CREATE INDEX signals_user_time ON signals(user_id, time_ms);
        CREATE TABLE directory_syncs(id INTEGER PRIMARY KEY, mode TEXT NOT NULL, started_ms INTEGER NOT NULL,
            finished_ms INTEGER NOT NULL, ok INTEGER NOT NULL, error TEXT NOT NULL, fetched INTEGER NOT NULL,
            added INTEGER NOT NULL, updated INTEGER NOT NULL, unchanged INTEGER NOT NULL, rejected INTEGER NOT NULL,
            duplicates INTEGER NOT NULL, missing INTEGER NOT NULL, problems TEXT NOT NULL, pages INTEGER NOT NULL);
        """),
    ]

    static let userColumns = "id, sam, upn, email, sid, display_name, department, title, manager, groups, privileged, dn, attributes, origin, in_directory, updated_ms, risk_key, risk, signals, last_signal_ms"
}

/// QQL over the user-analytics users list (`vigil users list 'department: Finance'`).
public enum UserRiskCatalog {
    public static let catalog = TokenCatalog(
        list: "users", table: "users", idColumn: "id",
        tokens: [
            TokenDefinition.column("user.id", "id", .keyword, "user id (lower-case account name)"),
            TokenDefinition.column("user.name", "sam", .text, "account name (sAMAccountName)"),
            TokenDefinition.column("user.upn", "upn", .text, "user principal name"),
            TokenDefinition.column("user.email", "email", .text, "e-mail address"),
            TokenDefinition.column("user.sid", "sid", .keyword, "Windows SID"),
            TokenDefinition.column("user.full_name", "display_name", .text, "display name"),
            TokenDefinition.column("user.department", "department", .text, "department"),
            TokenDefinition.column("user.title", "title", .text, "job title"),
            TokenDefinition.column("user.manager", "manager", .text, "manager"),
            TokenDefinition.column("user.groups", "groups", .text, "groups, ';'-separated"),
            TokenDefinition.column("user.privileged", "privileged", .bool, "privileged account"),
            TokenDefinition.column("user.in_directory", "in_directory", .bool, "present in the last directory sync or import"),
            TokenDefinition.column("user.origin", "origin", .keyword, "ldap, import or signals (known only from signals)"),
            TokenDefinition.column("user.risk", "risk", .number, "risk score 0–100 (refreshed on every signal and on the decay schedule)"),
            TokenDefinition.column("user.signals", "signals", .number, "signals involving the user (all time)"),
            TokenDefinition.column("user.last_signal", "last_signal_ms", .time, "time of the latest signal"),
            TokenDefinition.column("user.updated", "updated_ms", .time, "last directory change"),
        ],
        freeText: ["user.name", "user.full_name", "user.email", "user.upn", "user.department"], defaultTimeToken: nil)
}

/// A user row: directory values plus risk state.
struct UserRow: Sendable {
    var user = DirectoryUser()
    var dn = ""
    var attributes: [String: String] = [:]
    var origin = ""
    var inDirectory = false
    var riskKey = RiskModel.noKey
    var signals: Int64 = 0
    var lastSignalMs: Int64 = 0

    init() {}

    init(_ r: Row) {
        user.id = r.string(0); user.samAccountName = r.string(1); user.upn = r.string(2); user.email = r.string(3); user.sid = r.string(4)
        user.displayName = r.string(5); user.department = r.string(6); user.title = r.string(7); user.manager = r.string(8)
        user.groups = r.string(9).split(separator: ";").map(String.init); user.privileged = r.int(10) != 0
        dn = r.string(11)
        attributes = (try? JSONSerialization.jsonObject(with: Data(r.string(12).utf8))) as? [String: String] ?? [:]
        origin = r.string(13); inDirectory = r.int(14) != 0; user.updatedTimeMs = r.int(15)
        if case .real(let k) = r[16] { riskKey = k } else if case .integer(let k) = r[16] { riskKey = Double(k) }
        signals = r.int(18); lastSignalMs = r.int(19)
    }

    static func json(_ m: [String: String]) -> String {
        guard let d = try? JSONSerialization.data(withJSONObject: m, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: d, as: UTF8.self)
    }

    /// Same directory content (what a sync compares to count unchanged users).
    func sameDirectory(as o: UserRow) -> Bool {
        var a = user, b = o.user
        a.updatedTimeMs = 0; b.updatedTimeMs = 0
        return a == b && dn == o.dn && attributes == o.attributes && inDirectory == o.inDirectory
    }
}

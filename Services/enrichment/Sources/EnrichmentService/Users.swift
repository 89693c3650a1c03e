import Foundation
import VigilIntel
import VigilStore
import VigilWire

/// The directory replica (imported until user-analytics publishes `directory.changed`),
/// indexed by account name, UPN, e-mail and SID.
public struct UserIndex: Sendable {
    public private(set) var users: [DirectoryUser] = []
    private var byName: [String: Int] = [:]
    private var byMail: [String: Int] = [:]
    private var bySID: [String: Int] = [:]

    public init(_ list: [DirectoryUser] = []) { for u in list { add(u) } }
    public var count: Int { users.count }

    public mutating func add(_ u: DirectoryUser) {
        let i = users.count
        users.append(u)
        if !u.samAccountName.isEmpty { byName[u.samAccountName.lowercased()] = i }
        if !u.upn.isEmpty { byMail[u.upn.lowercased()] = i }
        if !u.email.isEmpty { byMail[u.email.lowercased()] = i }
        if !u.sid.isEmpty { bySID[u.sid.uppercased()] = i }
    }

    /// The event's user: by SID (`user.id` holding S-1-…), e-mail, then `user.name`
    /// (`DOMAIN\name` and `name@domain` forms included).
    public func resolve(_ f: [String: String]) -> DirectoryUser? {
        if users.isEmpty { return nil }
        if let id = f["user.id"], id.hasPrefix("S-1-") || id.hasPrefix("s-1-"), let i = bySID[id.uppercased()] { return users[i] }
        if let m = f["user.email"], let i = byMail[ASCII.lowered(m)] { return users[i] }
        guard let raw = f["user.name"], !raw.isEmpty else { return nil }
        var name = ASCII.lowered(raw)
        if let at = name.utf8.firstIndex(of: UInt8(ascii: "@")) {
            if let i = byMail[name] { return users[i] }
            name = String(name[..<at])
        }
        if let slash = name.utf8.lastIndex(of: UInt8(ascii: "\\")) { name = String(name[name.utf8.index(after: slash)...]) }
        return byName[name].map { users[$0] }
    }
}

/// Directory-user import (CSV or JSON) and storage.
enum UserStore {
    static let aliases: [String: String] = [
        "id": "id", "userid": "id", "objectguid": "id", "guid": "id",
        "samaccountname": "sam", "sam": "sam", "name": "sam", "username": "sam", "account": "sam", "login": "sam",
        "upn": "upn", "userprincipalname": "upn", "email": "email", "mail": "email", "emailaddress": "email",
        "sid": "sid", "objectsid": "sid", "displayname": "display_name", "fullname": "display_name", "cn": "display_name",
        "department": "department", "title": "title", "jobtitle": "title", "manager": "manager",
        "groups": "groups", "memberof": "groups", "privileged": "privileged", "admin": "privileged", "isprivileged": "privileged",
    ]

    static func user(_ r: ImportRow, nowMs: Int64) -> Result<DirectoryUser, ImportProblem> {
        var u = DirectoryUser()
        u.samAccountName = r.first("sam"); u.upn = r.first("upn"); u.email = r.first("email"); u.sid = r.first("sid")
        // The id defaults to the most stable name the row has.
        u.id = r.first("id")
        if u.id.isEmpty { u.id = [u.sid, u.upn, u.samAccountName, u.email].first { !$0.isEmpty } ?? "" }
        guard !u.id.isEmpty else {
            return .failure(ImportProblem(origin: r.origin, message: "no id, sAMAccountName, UPN, e-mail or SID: nothing to match events by"))
        }
        if !u.sid.isEmpty && !u.sid.uppercased().hasPrefix("S-1-") {
            return .failure(ImportProblem(origin: r.origin, message: "sid '\(u.sid)' is not a Windows SID (S-1-…)"))
        }
        u.displayName = r.first("display_name"); u.department = r.first("department"); u.title = r.first("title")
        u.manager = r.first("manager"); u.groups = r.values["groups"] ?? []
        switch r.first("privileged").lowercased() {
        case "", "false", "no", "0", "n": u.privileged = false
        case "true", "yes", "1", "y": u.privileged = true
        case let other: return .failure(ImportProblem(origin: r.origin, message: "privileged '\(other)'; expected true or false"))
        }
        u.updatedTimeMs = nowMs
        return .success(u)
    }

    static let columns = "id, sam, upn, email, sid, display_name, department, title, manager, groups, privileged, updated_ms"

    static func save(_ u: DirectoryUser, _ db: Database) throws {
        try db.run("INSERT OR REPLACE INTO directory_users(\(columns)) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
                   [.text(u.id), .text(u.samAccountName), .text(u.upn), .text(u.email), .text(u.sid), .text(u.displayName),
                    .text(u.department), .text(u.title), .text(u.manager), .text(u.groups.joined(separator: ";")),
                    .integer(u.privileged ? 1 : 0), .integer(u.updatedTimeMs)])
    }

    static func record(_ r: Row) -> DirectoryUser {
        var u = DirectoryUser()
        u.id = r.string(0); u.samAccountName = r.string(1); u.upn = r.string(2); u.email = r.string(3); u.sid = r.string(4)
        u.displayName = r.string(5); u.department = r.string(6); u.title = r.string(7); u.manager = r.string(8)
        u.groups = ImportRecords.split(r.string(9)); u.privileged = r.int(10) != 0; u.updatedTimeMs = r.int(11)
        return u
    }

    static func loadAll(_ db: Database) throws -> [DirectoryUser] {
        try db.query("SELECT \(columns) FROM directory_users ORDER BY id").map(record)
    }
}

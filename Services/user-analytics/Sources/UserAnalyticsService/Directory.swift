import Foundation
import VigilLDAP
import VigilStore
import VigilWire

/// Where and how to read the directory (`--ldap.*` keys, docs/users.md).
public struct DirectoryConfig: Sendable, Equatable {
    public var ldap = LDAPOptions()
    public var baseDN = ""
    public var filter = "(objectClass=user)"
    public var pageSize = 500
    /// The attribute a changed-since sync filters on: whenChanged (Active Directory) or modifyTimestamp (OpenLDAP).
    public var changedAttribute = "whenChanged"
    /// Directory attribute per user field; the defaults are Active Directory's names.
    public var mapping: [String: String] = DirectoryConfig.defaultMapping
    /// Members of these groups (by CN or full DN, case-insensitive) count as privileged.
    public var privilegedGroups = ["Domain Admins", "Enterprise Admins", "Schema Admins", "Administrators"]
    public init() {}

    public static let defaultMapping: [String: String] = [
        "name": "sAMAccountName", "upn": "userPrincipalName", "email": "mail", "display_name": "displayName",
        "department": "department", "title": "title", "manager": "manager", "groups": "memberOf", "sid": "objectSid",
    ]
    public var configured: Bool { !baseDN.isEmpty }
}

/// Why a directory entry or import row was refused.
public struct DirectoryProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable { case missingAttribute = "missing_attribute", badValue = "bad_value", badFile = "bad_file" }
    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) { self.code = code; self.message = message }
    public var description: String { "\(message) [\(code.rawValue)]" }
}

/// Directory entries → user rows, with every refused or duplicate entry reported.
enum DirectoryMapping {
    static func cn(_ dn: String) -> String {
        guard let first = dn.split(separator: ",").first, first.lowercased().hasPrefix("cn=") else { return dn }
        return String(first.dropFirst(3))
    }

    static func isPrivileged(_ groups: [String], _ privileged: [String]) -> Bool {
        let want = Set(privileged.map { $0.lowercased() })
        return groups.contains { want.contains($0.lowercased()) || want.contains(cn($0).lowercased()) }
    }

    /// One entry → a row, or the reason it cannot be used.
    static func user(_ e: LDAPEntry, _ c: DirectoryConfig) -> Result<UserRow, DirectoryProblem> {
        func attr(_ field: String) -> String { c.mapping[field] ?? DirectoryConfig.defaultMapping[field] ?? field }
        var name = e.string(attr("name"))
        if name.isEmpty { name = e.string("uid") }
        guard !name.isEmpty else {
            return .failure(DirectoryProblem(.missingAttribute, "\(e.dn): no \(attr("name")) (or uid): nothing to match signals by; entry skipped"))
        }
        var r = UserRow()
        r.user.id = name.lowercased()
        r.user.samAccountName = name
        r.user.upn = e.string(attr("upn"))
        r.user.email = e.string(attr("email"))
        r.user.displayName = e.string(attr("display_name"))
        r.user.department = e.string(attr("department"))
        r.user.title = e.string(attr("title"))
        let managerDN = e.string(attr("manager"))
        r.user.manager = managerDN.isEmpty ? "" : cn(managerDN)
        let groupDNs = e.strings(attr("groups"))
        r.user.groups = groupDNs.map(cn)
        if let raw = e.values(attr("sid")).first, !raw.isEmpty {
            // Active Directory returns the binary SID; some exports carry the S-1-… text.
            if let s = LDAPConnection.sidString(raw) { r.user.sid = s }
            else {
                let text = String(decoding: raw, as: UTF8.self)
                guard text.uppercased().hasPrefix("S-1-") else {
                    return .failure(DirectoryProblem(.badValue, "\(e.dn): \(attr("sid")) is neither a binary SID nor S-1-… text; entry skipped"))
                }
                r.user.sid = text.uppercased()
            }
        }
        r.user.privileged = isPrivileged(groupDNs, c.privilegedGroups) || e.string("adminCount") == "1"
        r.dn = e.dn
        r.origin = "ldap"
        r.inDirectory = true
        var attrs: [String: String] = [:]
        for (field, a) in c.mapping.merging(DirectoryConfig.defaultMapping, uniquingKeysWith: { x, _ in x }) {
            if field == "sid" { if !r.user.sid.isEmpty { attrs[a] = r.user.sid }; continue }
            let v = e.strings(a)
            if !v.isEmpty { attrs[a] = v.joined(separator: "; ") }
        }
        r.attributes = attrs
        return .success(r)
    }

    /// Rows with duplicates removed: the first entry for an account wins; later ones are reported.
    static func dedupe(_ rows: [UserRow], report: inout DirectorySyncReport) -> [UserRow] {
        var seen: [String: String] = [:]
        var out: [UserRow] = []
        for r in rows {
            if let first = seen[r.user.id] {
                report.duplicates += 1
                problem(&report, "\(r.dn.isEmpty ? r.user.id : r.dn): duplicate account '\(r.user.samAccountName)' (already from \(first)); kept the first")
                continue
            }
            seen[r.user.id] = r.dn.isEmpty ? "an earlier row" : r.dn
            out.append(r)
        }
        return out
    }

    static func problem(_ r: inout DirectorySyncReport, _ s: String) {
        if r.problems.count < 50 { r.problems.append(s) }
    }
}

/// Full and changed-since syncs. Everything is read first; only a complete read is applied,
/// so an unreachable server or a failed page never removes or half-updates users.
public struct DirectorySync {
    public var config: DirectoryConfig
    public init(config: DirectoryConfig) { self.config = config }

    public enum Mode: String, Sendable { case full, changed }

    /// Reads the directory; `since` (ms) narrows it to entries changed since then.
    func read(sinceMs: Int64?, report: inout DirectorySyncReport) throws -> [UserRow] {
        let conn = try LDAPConnection(config.ldap)
        defer { conn.close() }
        var filter = config.filter
        if let s = sinceMs {
            filter = "(&\(filter)(\(config.changedAttribute)>=\(LDAPConnection.generalizedTime(ms: s))))"
        }
        var attrs = Array(Set(config.mapping.values).union(DirectoryConfig.defaultMapping.values))
        attrs += ["uid", "adminCount"]
        var rows: [UserRow] = []
        var r = report
        let pages = try conn.search(base: config.baseDN, filter: filter, attributes: attrs.sorted(), pageSize: config.pageSize) { page in
            for e in page {
                r.fetched += 1
                switch DirectoryMapping.user(e, config) {
                case .success(let u): rows.append(u)
                case .failure(let why):
                    r.rejected += 1
                    DirectoryMapping.problem(&r, why.description)
                }
            }
        }
        r.pages = UInt32(pages)
        report = r
        return rows
    }

    /// One sync: read, then apply in one transaction (publishing each change through the engine).
    /// What the read phase hands to the apply phase.
    public struct Fetched: Sendable {
        public var report: DirectorySyncReport
        var rows: [UserRow]?      // nil: the read failed (report.error says why); nothing is applied
        var full: Bool
    }

    /// Read phase: connects, searches, maps and de-duplicates. Touches no store, so it runs on a
    /// background thread (the LDAP connection lives and dies there).
    public func fetch(_ mode: Mode, nowMs: Int64, lastSuccessMs: Int64?) -> Fetched {
        var report = DirectorySyncReport()
        report.startedTimeMs = nowMs
        // Changed-since needs a previous successful sync; the overlap covers clock skew and
        // second-granular timestamps (re-reading an unchanged entry costs nothing).
        let effective: Mode = (mode == .changed && lastSuccessMs != nil) ? .changed : .full
        report.mode = effective.rawValue
        do {
            let since = effective == .changed ? (lastSuccessMs ?? 0) - 120_000 : nil
            let rows = DirectoryMapping.dedupe(try read(sinceMs: since, report: &report), report: &report)
            return Fetched(report: report, rows: rows, full: effective == .full)
        } catch {
            report.ok = false
            report.error = "\(error)"
            report.finishedTimeMs = Int64(Date().timeIntervalSince1970 * 1000)
            return Fetched(report: report, rows: nil, full: false)
        }
    }

    /// Apply phase (the store's owner thread): one transaction; a failed read changes nothing.
    public static func apply(_ f: Fetched, engine: UserAnalyticsEngine, nowMs: Int64) -> DirectorySyncReport {
        var report = f.report
        guard let rows = f.rows else { return report }
        do {
            try engine.db.transaction {
                try engine.apply(rows, fullFrom: f.full ? "ldap" : nil, nowMs: nowMs, report: &report)
            }
            report.ok = true
        } catch {
            report = f.report
            report.ok = false
            report.error = "applying the directory failed: \(error)"
        }
        report.finishedTimeMs = Int64(Date().timeIntervalSince1970 * 1000)
        return report
    }

    /// Both phases on the calling thread (tests, tools).
    public func run(_ mode: Mode, engine: UserAnalyticsEngine, nowMs: Int64, lastSuccessMs: Int64?) -> DirectorySyncReport {
        Self.apply(fetch(mode, nowMs: nowMs, lastSuccessMs: lastSuccessMs), engine: engine, nowMs: nowMs)
    }
}

/// CSV or JSON users (the alternative to LDAP), with the column names people use.
enum UserImport {
    static let aliases: [String: String] = [
        "samaccountname": "name", "sam": "name", "name": "name", "username": "name", "account": "name", "login": "name",
        "upn": "upn", "userprincipalname": "upn", "email": "email", "mail": "email", "emailaddress": "email",
        "sid": "sid", "objectsid": "sid", "displayname": "display_name", "display_name": "display_name", "fullname": "display_name", "cn": "display_name",
        "department": "department", "title": "title", "jobtitle": "title", "manager": "manager",
        "groups": "groups", "memberof": "groups", "privileged": "privileged", "admin": "privileged", "isprivileged": "privileged",
    ]

    /// Rows as field → values, each with its origin ("file:line" / "file:[index]") for messages.
    static func records(format: String, content: [UInt8], origin: String) -> Result<[(String, [String: [String]])], DirectoryProblem> {
        let text = String(decoding: content, as: UTF8.self)
        if format == "json" {
            guard let any = try? JSONSerialization.jsonObject(with: Data(content)) else { return .failure(DirectoryProblem(.badFile, "\(origin): not valid JSON")) }
            let list: [Any]
            if let a = any as? [Any] { list = a }
            else if let o = any as? [String: Any], let a = o["users"] as? [Any] { list = a }
            else { return .failure(DirectoryProblem(.badFile, "\(origin): expected a JSON array of users or {\"users\": [...]}")) }
            var out: [(String, [String: [String]])] = []
            for (i, item) in list.enumerated() {
                guard let o = item as? [String: Any] else { out.append(("\(origin):[\(i)]", ["__error": ["not an object"]])); continue }
                var rec: [String: [String]] = [:]
                for (k, v) in o {
                    guard let f = aliases[k.lowercased().replacingOccurrences(of: "_", with: "")] ?? aliases[k.lowercased()] else { continue }
                    if let a = v as? [Any] { rec[f] = a.map { "\($0)" } }
                    else if let b = v as? Bool { rec[f] = [b ? "true" : "false"] }
                    else { rec[f] = ["\(v)"] }
                }
                out.append(("\(origin):[\(i)]", rec))
            }
            return .success(out)
        }
        let lines = csvRows(text)
        guard let header = lines.first else { return .failure(DirectoryProblem(.badFile, "\(origin): empty file")) }
        let fields = header.map { aliases[$0.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: "_", with: "")] ?? aliases[$0.lowercased()] }
        guard fields.contains("name") || fields.contains("upn") || fields.contains("email") else {
            return .failure(DirectoryProblem(.badFile, "\(origin):1: the header has no sAMAccountName/name, upn or email column (got: \(header.joined(separator: ",")))"))
        }
        var out: [(String, [String: [String]])] = []
        for (i, cols) in lines.enumerated().dropFirst() where !(cols.count == 1 && cols[0].isEmpty) {
            var rec: [String: [String]] = [:]
            for (j, v) in cols.enumerated() where j < fields.count {
                guard let f = fields[j] else { continue }
                rec[f] = f == "groups" ? v.split(whereSeparator: { $0 == ";" || $0 == "|" }).map { String($0).trimmingCharacters(in: .whitespaces) } : [v]
            }
            out.append(("\(origin):\(i + 1)", rec))
        }
        return .success(out)
    }

    /// RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF.
    static func csvRows(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var it = Array(text.unicodeScalars)[...]
        while let ch = it.popFirst() {
            if quoted {
                if ch == "\"" { if it.first == "\"" { field.unicodeScalars.append("\""); it = it.dropFirst() } else { quoted = false } }
                else { field.unicodeScalars.append(ch) }
            } else if ch == "\"" { quoted = true }
            else if ch == "," { row.append(field); field = "" }
            else if ch == "\n" { row.append(field); rows.append(row); row = []; field = "" }
            else if ch != "\r" { field.unicodeScalars.append(ch) }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }

    static func row(_ origin: String, _ rec: [String: [String]]) -> Result<UserRow, DirectoryProblem> {
        if let e = rec["__error"]?.first { return .failure(DirectoryProblem(.badValue, "\(origin): \(e)")) }
        func first(_ f: String) -> String { (rec[f]?.first ?? "").trimmingCharacters(in: .whitespaces) }
        var name = first("name")
        if name.isEmpty { name = String((first("upn").isEmpty ? first("email") : first("upn")).split(separator: "@").first ?? "") }
        guard !name.isEmpty else { return .failure(DirectoryProblem(.missingAttribute, "\(origin): no sAMAccountName, UPN or e-mail: nothing to match signals by")) }
        var r = UserRow()
        r.user.id = name.lowercased(); r.user.samAccountName = name
        r.user.upn = first("upn"); r.user.email = first("email"); r.user.sid = first("sid").uppercased()
        if !r.user.sid.isEmpty && !r.user.sid.hasPrefix("S-1-") { return .failure(DirectoryProblem(.badValue, "\(origin): sid '\(first("sid"))' is not a Windows SID (S-1-…)")) }
        r.user.displayName = first("display_name"); r.user.department = first("department"); r.user.title = first("title")
        r.user.manager = first("manager"); r.user.groups = rec["groups"] ?? []
        switch first("privileged").lowercased() {
        case "", "false", "no", "0", "n": r.user.privileged = false
        case "true", "yes", "1", "y": r.user.privileged = true
        case let other: return .failure(DirectoryProblem(.badValue, "\(origin): privileged '\(other)'; expected true or false"))
        }
        r.origin = "import"; r.inDirectory = true
        return .success(r)
    }

    /// Imports into the engine inside one transaction; refused rows are reported, never stored.
    static func run(_ req: ImportRequest, engine: UserAnalyticsEngine, nowMs: Int64) throws -> ImportResponse {
        var resp = ImportResponse()
        let origin = req.origin.isEmpty ? "import" : req.origin
        let format = req.format.isEmpty ? "csv" : req.format.lowercased()
        guard format == "csv" || format == "json" else {
            resp.rejected = 1; resp.errors = ["\(origin): format '\(req.format)'; expected csv or json"]; return resp
        }
        switch records(format: format, content: req.content, origin: origin) {
        case .failure(let e):
            resp.rejected = 1; resp.errors = [e.description]
        case .success(let recs):
            var rows: [UserRow] = []
            for (o, rec) in recs {
                switch row(o, rec) {
                case .success(let r): rows.append(r)
                case .failure(let e): resp.rejected += 1; if resp.errors.count < 20 { resp.errors.append(e.description) }
                }
            }
            var report = DirectorySyncReport()
            rows = DirectoryMapping.dedupe(rows, report: &report)
            resp.rejected += report.duplicates
            for p in report.problems where resp.errors.count < 20 { resp.errors.append(p) }
            try engine.db.transaction { try engine.apply(rows, fullFrom: nil, nowMs: nowMs, report: &report) }
            resp.imported = UInt64(rows.count)
        }
        return resp
    }
}

/// Linux authentication / account-management messages inside syslog (sshd, sudo, su,
/// PAM, shadow-utils). Produces the generic syslog record plus auth fields; returns nil
/// for messages it does not recognise so the chain falls back to generic syslog.
public struct LinuxAuthParser: ContextParser {
    public let name = "linux-auth"
    public init() {}
    public func parse(_ line: String) -> Result<ParsedRecord, ParseFailure>? { parseLine(line, receivedAt: LineContext.now()) }
    public func parse(_ line: String, receivedAt: Int64) -> Result<ParsedRecord, ParseFailure>? { parseLine(line, receivedAt: receivedAt) }

    static let programs: Set<String> = ["sshd", "sudo", "su", "useradd", "usermod", "userdel", "groupadd", "groupdel", "groupmod", "passwd", "chpasswd", "login", "gpasswd"]

    func parse(_ ctx: LineContext) -> Result<ParsedRecord, ParseFailure>? {
        guard let h = ctx.header, let app = h.appname else { return nil }
        let msg = ctx.line.str(from: h.messageStart)
        let isPam = msg.hasPrefix("pam_")
        guard isPam || Self.programs.contains(app) else { return nil }
        var r = GenericSyslog.record(h, ctx)
        var a = AuthFields()
        let recognised: Bool
        if isPam { recognised = PAMMessage.parse(msg, &a) }
        else {
            switch app {
            case "sshd": recognised = SSHDMessage.parse(msg, &a)
            case "sudo": recognised = SudoMessage.parse(msg, &a)
            case "su": recognised = SuMessage.parse(msg, &a)
            default: recognised = AccountMessage.parse(msg, &a)
            }
        }
        guard recognised else { return nil }
        r.format = name
        for (k, v) in a.values { r.put(k, v) }
        return .success(r.record)
    }
}

/// Auth fields collected by the message matchers.
struct AuthFields {
    /// Reserved up front: growing 1 → 2 → 4 → 8 → 16 buckets rehashed every key several times.
    var values = [String: String](minimumCapacity: 12)
    subscript(_ k: String) -> String? {
        get { values[k] }
        set { values[k] = newValue }
    }
    mutating func event(_ category: String, _ action: String, _ outcome: String?, type: String? = nil) {
        // Assigning nil only removes; skip the hash when there was nothing to remove.
        let couldRemove = !values.isEmpty
        values["event.category"] = category
        values["event.action"] = action
        if outcome != nil || couldRemove { values["event.outcome"] = outcome }
        if type != nil || couldRemove { values["event.type"] = type }
    }
    mutating func source(ip: Substring?, port: Substring?) {
        if let ip {
            let text = String(ip)
            if Net.looksLikeIP(text) { values["source.ip"] = text } else if !text.isEmpty { values["source.domain"] = text }
        }
        if let port, let n = port.decimalValue { values["source.port"] = String(n) }
    }
}

/// Small helpers over Substring used by the message matchers. The search is a plain
/// UTF-8 byte scan: the generic `firstRange(of:)` from string processing is ~10x slower.
extension Substring {
    func fastRange(of marker: String) -> Range<Index>? {
        var needle = marker
        let whole = base.utf8
        let lo = whole.distance(from: whole.startIndex, to: startIndex)
        let hi = lo + utf8.count
        let found: Int?? = needle.withUTF8 { n -> Int?? in
            whole.withContiguousStorageIfAvailable { h -> Int? in
                guard let first = n.first, hi - lo >= n.count else { return nil }
                var i = lo
                let last = hi - n.count
                outer: while i <= last {
                    if h[i] == first {
                        var k = 1
                        while k < n.count { if h[i + k] != n[k] { i += 1; continue outer }; k += 1 }
                        return i
                    }
                    i += 1
                }
                return nil
            }
        }
        guard case .some(let offset) = found else {
            return firstRange(of: marker)  // non-contiguous (bridged) storage only
        }
        guard let o = offset else { return nil }
        let start = whole.index(whole.startIndex, offsetBy: o)
        return start..<whole.index(start, offsetBy: marker.utf8.count)
    }
    func has(_ marker: String) -> Bool { fastRange(of: marker) != nil }
    /// Byte-wise prefix test. Shadows the generic `starts(with:)` (Character by Character,
    /// about a tenth of an sshd line's cost); the markers are ASCII, and a log line whose
    /// marker is followed by a combining mark matching byte-wise is the better answer anyway.
    func hasPrefix(_ p: String) -> Bool { utf8.starts(with: p.utf8) }
    /// Drops `n` UTF-8 bytes (after an ASCII prefix: the same as `dropFirst(n)`, without
    /// walking Characters).
    func droppingBytes(_ n: Int) -> Substring { Substring(utf8.dropFirst(n)) }
    /// Unsigned decimal of at most 18 digits, read from the bytes.
    var decimalValue: Int? {
        var v = 0, k = 0
        for c in utf8 {
            guard isDigit(c), k < 18 else { return nil }
            v = v * 10 + Int(c - 0x30); k += 1
        }
        return k == 0 ? nil : v
    }
    /// Text after the first occurrence of `marker`.
    func after(_ marker: String) -> Substring? {
        guard let r = fastRange(of: marker) else { return nil }
        return self[r.upperBound...]
    }
    func before(_ marker: String) -> Substring? {
        guard let r = fastRange(of: marker) else { return nil }
        return self[..<r.lowerBound]
    }
    // Byte scans: " " is one byte and never part of a multi-byte sequence.
    var firstWord: Substring {
        guard let i = utf8.firstIndex(of: 0x20) else { return self }
        return self[..<i]
    }
    var trimmed: Substring {
        var u = utf8[...]
        while u.first == 0x20 { u = u.dropFirst() }
        while u.last == 0x20 { u = u.dropLast() }
        return Substring(u)
    }
}

enum SSHDMessage {
    static func parse(_ msg: String, _ a: inout AuthFields) -> Bool {
        let m = Substring(msg)
        if m.hasPrefix("Failed ") || m.hasPrefix("Accepted ") {
            // "<Failed|Accepted> <method> for [invalid user ]<user> from <ip> port <port> <proto>[: <key>]"
            let ok = m.hasPrefix("Accepted ")
            let rest = m.droppingBytes(ok ? 9 : 7)
            let method = rest.firstWord
            guard var who = rest.after(" for "), let fromPart = who.after(" from ") else { return false }
            who = who.before(" from ") ?? who
            if who.hasPrefix("invalid user ") { who = who.droppingBytes(13); a["user.exists"] = "false" }
            a.event("authentication", "ssh_login", ok ? "success" : "failure", type: "start")
            a["user.name"] = String(who)
            a["ssh.method"] = String(method)
            a.source(ip: fromPart.firstWord, port: fromPart.after(" port ")?.firstWord)
            return true
        }
        if let rest = m.after("Invalid user "), m.hasPrefix("Invalid user ") {
            // "Invalid user <user> from <ip> port <port>"
            let user = rest.before(" from ") ?? rest
            a.event("authentication", "ssh_invalid_user", "failure")
            a["user.name"] = String(user)
            a["user.exists"] = "false"
            if let from = rest.after(" from ") { a.source(ip: from.firstWord, port: from.after(" port ")?.firstWord) }
            return true
        }
        for prefix in ["Connection closed by authenticating user ", "Connection closed by invalid user ", "Disconnected from authenticating user ", "Disconnected from invalid user "] where m.hasPrefix(prefix) {
            // "... user <user> <ip> port <port> [preauth]"
            let rest = m.droppingBytes(prefix.utf8.count)
            let user = rest.firstWord
            let afterUser = rest.droppingBytes(user.utf8.count).trimmed
            a.event("authentication", "ssh_preauth_disconnect", "failure")
            a["user.name"] = String(user)
            if prefix.hasSuffix("invalid user ") { a["user.exists"] = "false" }
            a.source(ip: afterUser.firstWord, port: afterUser.after(" port ")?.firstWord)
            return true
        }
        if let rest = m.after("maximum authentication attempts exceeded for ") {
            // "error: maximum authentication attempts exceeded for [invalid user ]<user> from <ip> port <port> ssh2 [preauth]"
            var who = rest.before(" from ") ?? rest.firstWord
            if who.hasPrefix("invalid user ") { who = who.droppingBytes(13); a["user.exists"] = "false" }
            a.event("authentication", "ssh_max_auth_attempts", "failure")
            a["user.name"] = String(who)
            if let from = rest.after(" from ") { a.source(ip: from.firstWord, port: from.after(" port ")?.firstWord) }
            return true
        }
        return false
    }
}

enum SudoMessage {
    /// "<user> : [<status> ; ]TTY=… ; PWD=… ; USER=<target> ; COMMAND=<cmd>"
    static func parse(_ msg: String, _ a: inout AuthFields) -> Bool {
        let m = Substring(msg).trimmed
        guard let user = m.before(" : "), !user.has(" "), let rest = m.after(" : ") else { return false }
        // COMMAND is last and may itself contain " ; ", so split it off first.
        let command = rest.after("COMMAND=")
        let head = rest.before("COMMAND=") ?? rest
        var kv: [Substring: Substring] = [:]
        var status: Substring? = nil
        for part in head.split(separator: ";") {
            let p = part.trimmed
            if let eq = p.firstIndex(of: "="), !p[..<eq].has(" ") { kv[p[..<eq]] = p[p.index(after: eq)...] }
            else if !p.isEmpty { status = p }
        }
        guard command != nil || status != nil else { return false }
        a["user.name"] = String(user)
        if let t = kv["USER"] { a["user.target.name"] = String(t) }
        if let d = kv["PWD"] { a["process.working_directory"] = String(d) }
        if let t = kv["TTY"] { a["process.tty"] = String(t) }
        if let c = command {
            a["process.command_line"] = String(c)
            a["process.executable"] = Text.executable(ofCommand: String(c))
        }
        switch status {
        case nil:
            a.event("process", "sudo_command", "success", type: "start")
        case let s? where s.has("incorrect password attempt"):
            a.event("authentication", "sudo_auth_failure", "failure")
            if let n = s.firstWord.description.decimalValue { a["sudo.failed_attempts"] = String(n) }
        case let s? where s.has("NOT in sudoers"):
            a.event("authentication", "sudo_not_in_sudoers", "failure")
        case let s? where s.has("command not allowed"):
            a.event("authentication", "sudo_command_not_allowed", "failure")
        case let s?:
            a.event("authentication", "sudo_denied", "failure")
            a["event.reason"] = String(s)
        }
        return true
    }
}

enum SuMessage {
    static func parse(_ msg: String, _ a: inout AuthFields) -> Bool {
        let m = Substring(msg).trimmed
        // util-linux: "FAILED SU (to root) alice on pts/0" / "(to root) alice on pts/0"
        if m.hasPrefix("FAILED SU (to ") || m.hasPrefix("(to ") {
            let ok = m.hasPrefix("(to ")
            guard let target = m.after("(to ")?.before(")"), let rest = m.after(") ") else { return false }
            a.event("authentication", "su", ok ? "success" : "failure")
            a["user.target.name"] = String(target)
            a["user.name"] = String(rest.firstWord)
            if let tty = rest.after(" on ") { a["process.tty"] = String(tty.firstWord) }
            return true
        }
        // shadow-utils: "Successful su for root by alice" / "FAILED su for root by alice"
        if m.hasPrefix("Successful su for ") || m.hasPrefix("FAILED su for ") {
            let ok = m.hasPrefix("Successful")
            guard let target = m.after(" su for ")?.before(" by "), let by = m.after(" by ") else { return false }
            a.event("authentication", "su", ok ? "success" : "failure")
            a["user.target.name"] = String(target)
            a["user.name"] = String(by.firstWord)
            return true
        }
        // shadow-utils short form: "+ pts/0 alice:root" / "- pts/0 alice:root"
        if m.hasPrefix("+ ") || m.hasPrefix("- ") {
            let parts = m.split(separator: " ")
            guard parts.count == 3, let colon = parts[2].firstIndex(of: ":") else { return false }
            a.event("authentication", "su", m.hasPrefix("+") ? "success" : "failure")
            a["process.tty"] = String(parts[1])
            a["user.name"] = String(parts[2][..<colon])
            a["user.target.name"] = String(parts[2][parts[2].index(after: colon)...])
            return true
        }
        return false
    }
}

enum PAMMessage {
    /// "pam_<module>(<service>:<type>): <text>"
    static func parse(_ msg: String, _ a: inout AuthFields) -> Bool {
        let m = Substring(msg)
        guard let open = m.firstIndex(of: "("), let close = m.firstIndex(of: ")"), open < close,
              m[close...].hasPrefix("): ") else { return false }
        let module = m[..<open]
        let inner = m[m.index(after: open)..<close]
        let service = inner.before(":") ?? inner
        let text = m[m.index(close, offsetBy: 3)...]
        a["pam.module"] = String(module)
        a["pam.service"] = String(service)
        // su/sudo: "user" is the target account and ruser the one asking for it.
        let switching = service == "su" || service == "su-l" || service == "sudo" || service == "sudo-i"
        if text.hasPrefix("authentication failure") || text.has("more authentication failure") {
            var kv: [Substring: Substring] = [:]
            for tok in (text.after(";") ?? "").split(separator: " ") {
                if let eq = tok.firstIndex(of: "=") { kv[tok[..<eq]] = tok[tok.index(after: eq)...] }
            }
            a.event("authentication", "pam_auth_failure", "failure")
            if switching {
                a["user.name"] = (kv["ruser"].flatMap { $0.isEmpty ? nil : String($0) }) ?? kv["logname"].map(String.init)
                a["user.target.name"] = kv["user"].map(String.init)
            } else {
                a["user.name"] = kv["user"].map(String.init)
                a.source(ip: kv["rhost"], port: nil)
            }
            if let uid = kv["uid"] { a["user.id"] = String(uid) }
            if let tty = kv["tty"] { a["process.tty"] = String(tty) }
            return true
        }
        if let rest = text.after("session opened for user ") {
            // "session opened for user root(uid=0) by alice(uid=1000)"
            let target = rest.prefix(while: { $0 != "(" && $0 != " " })
            a.event("session", "session_opened", "success", type: "start")
            let by = rest.after(" by ")?.prefix(while: { $0 != "(" && $0 != " " })
            if switching {
                a["user.target.name"] = String(target)
                if let by, !by.isEmpty { a["user.name"] = String(by) }
            } else {
                a["user.name"] = String(target)
            }
            return true
        }
        if let rest = text.after("session closed for user ") {
            a.event("session", "session_closed", "success", type: "end")
            a[switching ? "user.target.name" : "user.name"] = String(rest.firstWord)
            return true
        }
        if let rest = text.after("password changed for ") {
            a.event("iam", "password_changed", "success", type: "change")
            a["user.target.name"] = String(rest.firstWord)
            return true
        }
        return false
    }
}

enum AccountMessage {
    /// shadow-utils account management (useradd/usermod/userdel/groupadd/groupdel/passwd).
    static func parse(_ msg: String, _ a: inout AuthFields) -> Bool {
        let m = Substring(msg).trimmed
        func kv(_ s: Substring) -> [Substring: Substring] {
            var out: [Substring: Substring] = [:]
            for part in s.split(separator: ",") {
                let p = part.trimmed
                if let eq = p.firstIndex(of: "=") { out[p[..<eq]] = p[p.index(after: eq)...] }
            }
            return out
        }
        func quoted(_ s: Substring, _ n: Int) -> String? {
            let parts = s.split(separator: "'", omittingEmptySubsequences: false)
            let idx = 2 * n + 1
            return idx < parts.count ? String(parts[idx]) : nil
        }
        if let rest = m.after("new user: "), m.hasPrefix("new user: ") {
            let f = kv(rest)
            a.event("iam", "user_created", "success", type: "creation")
            a["user.target.name"] = f["name"].map(String.init)
            a["user.target.id"] = f["UID"].map(String.init)
            a["group.id"] = f["GID"].map(String.init)
            a["user.target.home"] = f["home"].map(String.init)
            a["user.target.shell"] = f["shell"].map(String.init)
            return true
        }
        if m.hasPrefix("new group: ") || m.hasPrefix("group added to ") {
            let f = kv(m.after(": ") ?? "")
            a.event("iam", "group_created", "success", type: "creation")
            a["group.name"] = f["name"].map(String.init)
            a["group.id"] = f["GID"].map(String.init)
            return true
        }
        if m.hasPrefix("add '") && (m.has("' to group '") || m.has("' to shadow group '")) {
            a.event("iam", "user_added_to_group", "success", type: "change")
            a["user.target.name"] = quoted(m, 0)
            a["group.name"] = quoted(m, 1)
            return true
        }
        if m.hasPrefix("delete '") && m.has("' from ") {
            a.event("iam", "user_removed_from_group", "success", type: "change")
            a["user.target.name"] = quoted(m, 0)
            a["group.name"] = quoted(m, 1)
            return true
        }
        if m.hasPrefix("delete user '") {
            a.event("iam", "user_deleted", "success", type: "deletion")
            a["user.target.name"] = quoted(m, 0)
            return true
        }
        if m.hasPrefix("change user '") || m.hasPrefix("lock user '") || m.hasPrefix("unlock user '") {
            a.event("iam", "user_modified", "success", type: "change")
            a["user.target.name"] = quoted(m, 0)
            if let what = m.after("' ")?.firstWord { a["event.reason"] = String(what) }
            return true
        }
        if (m.hasPrefix("group '") && m.hasSuffix("' removed")) || m.hasPrefix("removed group '") {
            a.event("iam", "group_deleted", "success", type: "deletion")
            a["group.name"] = quoted(m, 0)
            return true
        }
        if let rest = m.after("password changed for ") {
            a.event("iam", "password_changed", "success", type: "change")
            a["user.target.name"] = String(rest.firstWord)
            return true
        }
        if m.hasPrefix("failed adding user '") {
            a.event("iam", "user_created", "failure", type: "creation")
            a["user.target.name"] = quoted(m, 0)
            return true
        }
        return false
    }
}

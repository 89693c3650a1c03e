import Foundation

/// A deliberately small syslog parser for the foundation: RFC 5424 / RFC 3164 headers and the
/// sshd/su failure lines the demo rule needs. The full parser set (VigilParsers) replaces it.
struct ThinParsed {
    var format: String
    var fields: [String: String]
    var timeMs: Int64?
}

enum ThinParser {
    static func parse(_ raw: [UInt8]) -> Result<ThinParsed, ParseFailureReason> {
        guard let line = String(validating: raw, as: UTF8.self) else {
            return .failure(ParseFailureReason("not valid UTF-8 text"))
        }
        guard line.first == "<", let close = line.firstIndex(of: ">"),
              let pri = Int(line[line.index(after: line.startIndex)..<close]), (0...191).contains(pri) else {
            return .failure(ParseFailureReason("no syslog PRI at offset 0: expected '<0-191>' at the start of the line"))
        }
        var fields: [String: String] = [
            "log.syslog.facility.code": String(pri / 8),
            "log.syslog.severity.code": String(pri % 8),
        ]
        let rest = line[line.index(after: close)...]
        var format = "syslog-rfc3164"
        var message: Substring
        if rest.hasPrefix("1 ") {
            // RFC 5424: VERSION TIMESTAMP HOST APP PROCID MSGID SD MSG
            format = "syslog-rfc5424"
            let parts = rest.split(separator: " ", maxSplits: 6, omittingEmptySubsequences: false)
            guard parts.count >= 6 else {
                return .failure(ParseFailureReason("RFC 5424 header has \(parts.count) of 6 fields (VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID)"))
            }
            if parts[2] != "-" { fields["host.name"] = String(parts[2]) }
            if parts[3] != "-" { fields["log.syslog.appname"] = String(parts[3]); fields["process.name"] = String(parts[3]) }
            if parts[4] != "-" { fields["process.pid"] = String(parts[4]) }
            var msg = parts.count > 6 ? parts[6] : ""
            if msg.hasPrefix("- ") { msg = msg.dropFirst(2) }
            else if msg.hasPrefix("["), let end = msg.range(of: "] ") { msg = msg[end.upperBound...] }
            message = msg
        } else {
            // RFC 3164: "Mmm dd hh:mm:ss host app[pid]: msg"
            var r = rest
            if r.count > 16, r[r.index(r.startIndex, offsetBy: 3)] == " ", r[r.index(r.startIndex, offsetBy: 15)] == " " {
                r = r.dropFirst(16)
            }
            let words = r.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
            if words.count >= 2, words[1].hasSuffix(":") || words[1].contains("[") {
                fields["host.name"] = String(words[0])
                var tag = words[1]
                if tag.hasSuffix(":") { tag = tag.dropLast() }
                if let lb = tag.firstIndex(of: "["), tag.hasSuffix("]") {
                    fields["process.pid"] = String(tag[tag.index(after: lb)..<tag.index(before: tag.endIndex)])
                    tag = tag[..<lb]
                }
                fields["log.syslog.appname"] = String(tag)
                fields["process.name"] = String(tag)
                message = words.count > 2 ? words[2] : ""
            } else {
                message = r
            }
        }
        fields["message"] = String(message)
        linuxAuth(String(message), app: fields["process.name"] ?? "", into: &fields)
        return .success(ThinParsed(format: fields["event.category"] != nil ? "linux-auth" : format, fields: fields, timeMs: nil))
    }

    /// sshd "Failed password for [invalid user ]NAME from IP port N" and su failures.
    static func linuxAuth(_ msg: String, app: String, into f: inout [String: String]) {
        if app == "sshd" {
            for (prefix, outcome) in [("Failed password for ", "failure"), ("Accepted password for ", "success"), ("Accepted publickey for ", "success")] {
                guard msg.hasPrefix(prefix) else { continue }
                var rest = msg.dropFirst(prefix.count)
                if rest.hasPrefix("invalid user ") { rest = rest.dropFirst("invalid user ".count) }
                let w = rest.split(separator: " ")
                if w.count >= 5, w[1] == "from", w[3] == "port" {
                    f["user.name"] = String(w[0]); f["source.ip"] = String(w[2]); f["source.port"] = String(w[4])
                }
                f["event.category"] = "authentication"; f["event.action"] = "ssh_login"; f["event.outcome"] = outcome
            }
        } else if app == "su" {
            if msg.hasPrefix("FAILED SU (to ") || msg.hasPrefix("FAILED su for ") {
                // FAILED SU (to root) alice on pts/0
                let w = msg.split(separator: " ")
                if msg.hasPrefix("FAILED SU (to "), w.count >= 5 {
                    f["user.target.name"] = String(w[3].dropLast()); f["user.name"] = String(w[4])
                }
                f["event.category"] = "authentication"; f["event.action"] = "su"; f["event.outcome"] = "failure"
            } else if msg.contains("authentication failure") {
                f["event.category"] = "authentication"; f["event.action"] = "su"; f["event.outcome"] = "failure"
                if let r = msg.range(of: " user=") { f["user.target.name"] = String(msg[r.upperBound...].prefix { $0 != " " }) }
                if let r = msg.range(of: " ruser=") { f["user.name"] = String(msg[r.upperBound...].prefix { $0 != " " }) }
            }
        }
    }
}

struct ParseFailureReason: Error {
    var reason: String
    init(_ r: String) { reason = r }
}

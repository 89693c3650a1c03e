import Foundation

/// Per-message-id decoders for Cisco ASA. Each returns nil on success or a description
/// of what did not match the documented text.
enum ASAMessages {
    static func decode(_ id: Int, _ t: Substring, _ r: inout RecordBuilder) -> String? {
        switch id {
        case 106023: return deny(t, &r)
        case 106100: return accessList(t, &r)
        case 302013, 302015: return built(t, &r)
        case 302014, 302016: return teardown(t, &r)
        case 113004, 113005, 113015: return aaa(id, t, &r)
        case 605004, 605005: return login(id, t, &r)
        case 611101, 611102: return userAuth(id, t, &r)
        default: return nil
        }
    }

    /// "<if>:<ip>[/<port>]" → sets <side>.ip/.port and the interface name.
    static func endpoint(_ e: Substring, _ side: String, _ r: inout RecordBuilder, sep: Character = ":") -> Bool {
        guard let c = e.firstIndex(of: sep) else { return false }
        let iface = e[..<c]
        var addr = e[e.index(after: c)...]
        addr = addr.prefix(while: { $0 != "(" && $0 != " " })
        let ip: Substring, port: Substring?
        if let slash = addr.lastIndex(of: "/") { ip = addr[..<slash]; port = addr[addr.index(after: slash)...] } else { ip = addr; port = nil }
        guard Net.looksLikeIP(String(ip)) else { return false }
        r.fields[side + ".ip"] = String(ip)
        r.putNumber(side + ".port", port.map(String.init))
        r.put(side == "source" ? "observer.ingress.interface.name" : "observer.egress.interface.name", String(iface))
        return true
    }

    static func deny(_ t: Substring, _ r: inout RecordBuilder) -> String? {
        // Deny tcp src outside:192.0.2.10/51234 dst inside:10.1.1.5/22 by access-group "OUTSIDE_IN" [0x0, 0x0]
        guard t.hasPrefix("Deny "), let src = t.after(" src ")?.firstWord, let dst = t.after(" dst ")?.firstWord else {
            return "expected 'Deny <proto> src <if>:<ip>/<port> dst <if>:<ip>/<port>'"
        }
        guard endpoint(src, "source", &r), endpoint(dst, "destination", &r) else { return "expected '<interface>:<ip>[/<port>]' endpoints" }
        r.put("network.transport", String(t.dropFirst(5).firstWord).lowercased())
        if let acl = t.after("access-group \"")?.before("\"") { r.put("rule.name", String(acl)) }
        r.put("event.action", "deny"); r.put("event.outcome", "failure"); r.put("event.category", "network")
        return nil
    }

    static func accessList(_ t: Substring, _ r: inout RecordBuilder) -> String? {
        // access-list OUTSIDE_IN denied tcp outside/192.0.2.10(51234) -> inside/10.1.1.5(22) hit-cnt 1 first hit [0x1, 0x0]
        let w = t.split(separator: " ", maxSplits: 6, omittingEmptySubsequences: true)
        guard w.count >= 6, w[0] == "access-list", w[4].has("/"), t.has(" -> ") else {
            return "expected 'access-list <acl> <permitted|denied> <proto> <if>/<ip>(<port>) -> <if>/<ip>(<port>)'"
        }
        guard let dst = t.after(" -> ")?.firstWord,
              endpoint(w[4].replacingParenPort, "source", &r, sep: "/"), endpoint(dst.replacingParenPort, "destination", &r, sep: "/") else {
            return "expected '<interface>/<ip>(<port>)' endpoints"
        }
        r.put("rule.name", String(w[1]))
        r.put("event.action", String(w[2]))
        r.put("event.outcome", w[2] == "denied" ? "failure" : "success")
        r.put("network.transport", String(w[3]).lowercased())
        r.put("event.category", "network")
        return nil
    }

    static func built(_ t: Substring, _ r: inout RecordBuilder) -> String? {
        // Built inbound TCP connection 123 for outside:192.0.2.10/51234 (192.0.2.10/51234) to inside:10.1.1.5/443 (203.0.113.5/443)
        let w = t.split(separator: " ", maxSplits: 5)
        guard w.count >= 5, w[0] == "Built", w[3] == "connection", let forPart = t.after(" for ")?.firstWord, let toPart = t.after(" to ")?.firstWord else {
            return "expected 'Built <inbound|outbound> <TCP|UDP> connection <id> for <if>:<ip>/<port> … to <if>:<ip>/<port>'"
        }
        // The initiator is the "for" side inbound and the "to" side outbound.
        let outbound = w[1] == "outbound"
        guard endpoint(outbound ? toPart : forPart, "source", &r), endpoint(outbound ? forPart : toPart, "destination", &r) else {
            return "expected '<interface>:<ip>/<port>' endpoints"
        }
        r.put("network.transport", String(w[2]).lowercased())
        r.put("network.direction", outbound ? "outbound" : "inbound")
        r.put("network.session_id", String(w[4]))
        r.put("event.action", "connection-built"); r.put("event.outcome", "success"); r.put("event.category", "network"); r.put("event.type", "start")
        return nil
    }

    static func teardown(_ t: Substring, _ r: inout RecordBuilder) -> String? {
        // Teardown TCP connection 123 for outside:192.0.2.10/51234 to inside:10.1.1.5/443 duration 0:00:30 bytes 1024 TCP FINs
        let w = t.split(separator: " ", maxSplits: 4)
        guard w.count >= 4, w[0] == "Teardown", w[2] == "connection", let forPart = t.after(" for ")?.firstWord, let toPart = t.after(" to ")?.firstWord else {
            return "expected 'Teardown <TCP|UDP> connection <id> for <if>:<ip>/<port> to <if>:<ip>/<port>'"
        }
        guard endpoint(forPart, "source", &r), endpoint(toPart, "destination", &r) else { return "expected '<interface>:<ip>/<port>' endpoints" }
        r.put("network.transport", String(w[1]).lowercased())
        r.put("network.session_id", String(w[3]))
        if let b = t.after(" bytes ")?.firstWord { r.putNumber("network.bytes", String(b)) }
        if let d = t.after(" duration ")?.firstWord { r.put("event.duration", durationNanos(d)) }
        if let reason = t.after(" bytes ")?.drop(while: { $0 != " " }).trimmed, !reason.isEmpty { r.put("event.reason", String(reason)) }
        r.put("event.action", "connection-teardown"); r.put("event.outcome", "success"); r.put("event.category", "network"); r.put("event.type", "end")
        return nil
    }

    /// "h:mm:ss" → ECS event.duration (nanoseconds).
    static func durationNanos(_ d: Substring) -> String? {
        let parts = d.split(separator: ":").map { String($0).decimalValue }
        guard parts.count == 3, let h = parts[0], let m = parts[1], let s = parts[2], h < 1_000_000 else { return nil }
        return String((h * 3600 + m * 60 + s) * 1_000_000_000)
    }

    static func aaa(_ id: Int, _ t: Substring, _ r: inout RecordBuilder) -> String? {
        // AAA user authentication Rejected : reason = Invalid password : local database : user = admin : user IP = 192.0.2.44
        guard t.hasPrefix("AAA user authentication ") else { return "expected 'AAA user authentication <Successful|Rejected> : …'" }
        var kv: [String: String] = [:]
        for part in t.components(separatedBy: " : ").dropFirst() {
            if let eq = part.range(of: " = ") { kv[String(part[..<eq.lowerBound])] = String(part[eq.upperBound...]) }
        }
        guard let user = kv["user"] else { return "expected ': user = <name>'" }
        r.put("user.name", user)
        r.putIP("source.ip", kv["user IP"])
        r.putIP("server.ip", kv["server"])
        r.put("event.reason", kv["reason"])
        r.put("event.category", "authentication"); r.put("event.action", "aaa-authentication")
        r.put("event.outcome", id == 113004 ? "success" : "failure")
        return nil
    }

    static func login(_ id: Int, _ t: Substring, _ r: inout RecordBuilder) -> String? {
        // Login denied from 192.0.2.44/51515 to outside:203.0.113.1/ssh for user "admin"
        guard let from = t.after(" from ")?.firstWord, let to = t.after(" to ")?.firstWord, let user = t.after("for user \"")?.before("\"") else {
            return "expected 'Login <denied|permitted> from <ip>/<port> to <if>:<ip>/<service> for user \"<name>\"'"
        }
        let ip = from.before("/") ?? from
        guard Net.looksLikeIP(String(ip)) else { return "expected source '<ip>/<port>'" }
        r.fields["source.ip"] = String(ip)
        r.putNumber("source.port", from.after("/").map(String.init))
        if let c = to.firstIndex(of: ":") {
            let addr = to[to.index(after: c)...]
            r.putIP("destination.ip", (addr.before("/") ?? addr).description)
            r.put("network.protocol", addr.after("/").map(String.init))
        }
        r.put("user.name", String(user))
        r.put("event.category", "authentication"); r.put("event.action", "device-login")
        r.put("event.outcome", id == 605005 ? "success" : "failure")
        return nil
    }

    static func userAuth(_ id: Int, _ t: Substring, _ r: inout RecordBuilder) -> String? {
        // User authentication succeeded: IP address: 10.0.0.8, Uname: netadmin
        guard t.hasPrefix("User authentication "), let user = t.after("Uname: ") else {
            return "expected 'User authentication <succeeded|failed>: [IP address: <ip>, ]Uname: <name>'"
        }
        r.put("user.name", String(user.trimmed))
        if let ip = t.after("IP address: ")?.before(",") { r.putIP("source.ip", String(ip)) }
        r.put("event.category", "authentication"); r.put("event.action", "device-login")
        r.put("event.outcome", id == 611101 ? "success" : "failure")
        return nil
    }
}

private extension Substring {
    /// "outside/192.0.2.10(51234)" → "outside/192.0.2.10/51234" so `endpoint` can split it.
    var replacingParenPort: Substring {
        guard let open = firstIndex(of: "("), let close = self[open...].firstIndex(of: ")") else { return self }
        return Substring(String(self[..<open]) + "/" + String(self[index(after: open)..<close]))
    }
}

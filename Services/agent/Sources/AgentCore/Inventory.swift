import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The host as the agent sees it: name, addresses (loopback and link-local left out), MACs,
/// OS. Sent at start and whenever it changes, as an `agent-inventory` event (enrichment turns it
/// into an asset) and in the heartbeat (`vigil agents list`).
public struct HostInventory: Sendable, Equatable {
    public var hostname = ""
    public var ips: [String] = []
    public var macs: [String] = []
    public var os = ""
    public var kernel = ""

    public static func current(hostnameOverride: String = "") -> HostInventory {
        var inv = HostInventory()
        if hostnameOverride.isEmpty {
            var buf = [CChar](repeating: 0, count: 256)
            if gethostname(&buf, buf.count - 1) == 0 { inv.hostname = String(cString: buf) }
        } else {
            inv.hostname = hostnameOverride
        }
        var u = utsname()
        if uname(&u) == 0 {
            inv.kernel = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        inv.os = Self.osName()
        var ips = Set<String>(), macs = Set<String>()
        var head: UnsafeMutablePointer<ifaddrs>?
        if getifaddrs(&head) == 0 {
            var p = head
            while let a = p {
                defer { p = a.pointee.ifa_next }
                guard let sa = a.pointee.ifa_addr else { continue }
                let family = Int32(sa.pointee.sa_family)
                if family == AF_INET || family == AF_INET6 {
                    var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
                    let len = socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
                    guard getnameinfo(sa, len, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 else { continue }
                    var s = String(cString: host)
                    if let pct = s.firstIndex(of: "%") { s = String(s[..<pct]) }
                    if s.hasPrefix("127.") || s == "::1" || s.lowercased().hasPrefix("fe80") { continue }
                    ips.insert(s)
                }
            }
            freeifaddrs(head)
        }
        // MACs from sysfs (the interfaces' hardware addresses; loopback and all-zero ones left out).
        if let names = try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net") {
            for n in names where n != "lo" {
                guard let a = try? String(contentsOfFile: "/sys/class/net/\(n)/address", encoding: .utf8) else { continue }
                let mac = a.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
                if mac.count == 17 && mac != "00:00:00:00:00:00" { macs.insert(mac) }
            }
        }
        inv.ips = ips.sorted()
        inv.macs = macs.sorted()
        return inv
    }

    /// PRETTY_NAME from /etc/os-release, else "Linux".
    static func osName() -> String {
        guard let text = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8) else { return "Linux" }
        for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            return String(line.dropFirst("PRETTY_NAME=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
        }
        return "Linux"
    }

    /// For the heartbeat and the enrollment request.
    public func json(agentId: String) -> [String: Any] {
        ["hostname": hostname, "ips": ips, "macs": macs, "os": os, "kernel": kernel, "agent_id": agentId]
    }

    /// The normalized fields of the `agent-inventory` event (`host.ip`/`host.mac`: the first;
    /// `host.ips`/`host.macs`: all, comma-separated).
    public func fields(agentId: String) -> [String: String] {
        var f: [String: String] = ["event.kind": "asset", "event.category": "host", "event.action": "agent-inventory",
                                   "host.name": hostname, "host.os.full": os, "host.os.kernel": kernel, "agent.id": agentId]
        if let ip = ips.first { f["host.ip"] = ip; f["host.ips"] = ips.joined(separator: ",") }
        if let mac = macs.first { f["host.mac"] = mac; f["host.macs"] = macs.joined(separator: ",") }
        return f
    }
}

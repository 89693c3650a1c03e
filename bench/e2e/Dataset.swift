import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Deterministic PRNG (SplitMix64) so a seed always gives the same dataset.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// What the injected attack patterns must raise, per library rule file (or the probe rule).
struct Expectation {
    var ruleFile: String   // library file name without .json, or "probe"
    var what: String
    var signals: Int
}

/// Event lines in one time-ordered file: syslog sshd, CEF firewall, Linux auth (sudo, cron, useradd),
/// Windows Security and Sysmon JSON (evtx_dump shape). Attack patterns are injected at known places:
///  - SSH brute force: `k` source addresses, each 30 failed passwords for root within 2 minutes
///  - Windows logon brute force: 4625 × 12 from one address within 36 s
///  - Sysmon encoded PowerShell (event 1, `-enc`)
///  - Firewall deny flood: 250 blocked connections from one address within 25 s
///  - Linux useradd
///  - Latency probes: sshd "Accepted password for e2e_probe" every 1,000 background events
struct Dataset {
    static let stepMs: Int64 = 20   // event time between background events

    var lines: [String] = []
    var sshLines: [String] = []     // the sshd subset (for syslog peers)
    var expectations: [Expectation] = []
    var probes = 0

    static func syslogTime(_ ms: Int64) -> String {
        var t = time_t(ms / 1000)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return String(format: "%@ %2d %02d:%02d:%02d", months[Int(tmv.tm_mon)], Int(tmv.tm_mday), Int(tmv.tm_hour), Int(tmv.tm_min), Int(tmv.tm_sec))
    }

    /// "Mar 10 2024 12:00:00" (ASA's own timestamp with the year).
    static func asaTime(_ ms: Int64) -> String {
        var t = time_t(ms / 1000)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return String(format: "%@ %02d %04d %02d:%02d:%02d", months[Int(tmv.tm_mon)], Int(tmv.tm_mday), Int(tmv.tm_year) + 1900, Int(tmv.tm_hour), Int(tmv.tm_min), Int(tmv.tm_sec))
    }

    static func isoTime(_ ms: Int64) -> String {
        var t = time_t(ms / 1000)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(tmv.tm_year) + 1900, Int(tmv.tm_mon) + 1, Int(tmv.tm_mday),
                      Int(tmv.tm_hour), Int(tmv.tm_min), Int(tmv.tm_sec), Int(ms % 1000))
    }

    static func windows(_ ms: Int64, provider: String, eventId: Int, channel: String, computer: String, data: [(String, String)]) -> String {
        func esc(_ s: String) -> String { s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") }
        let ed = data.map { "\"\($0.0)\":\"\(esc($0.1))\"" }.joined(separator: ",")
        return "{\"Event\":{\"System\":{\"Provider\":{\"#attributes\":{\"Name\":\"\(provider)\"}},\"EventID\":\(eventId),\"Channel\":\"\(channel)\",\"Computer\":\"\(computer)\",\"TimeCreated\":{\"#attributes\":{\"SystemTime\":\"\(isoTime(ms))\"}}},\"EventData\":{\(ed)}}}"
    }

    static func probeLine(_ ms: Int64, _ n: Int) -> String {
        "<38>\(syslogTime(ms)) web00 sshd[\(10000 + n % 50000)]: Accepted password for e2e_probe from 10.255.\(n / 250 % 250).\(n % 250 + 1) port \(1024 + n % 60000) ssh2"
    }

    /// One background event (no rule in the library fires on these).
    static func background(_ ms: Int64, _ i: Int, _ r: inout SplitMix64) -> (String, Bool) {
        let ts = syslogTime(ms)
        let a = r.int(250) + 1, b = r.int(250) + 1, u = r.int(500), h = r.int(40), p = 1024 + r.int(60000)
        let k = r.int(100)
        if k < 35 {
            return ("<38>\(ts) web\(String(format: "%02d", h)) sshd[\(2000 + r.int(30000))]: Accepted publickey for deploy\(u) from 10.1.\(a).\(b) port \(p) ssh2", true)
        } else if k < 65 {
            return ("<134>\(ts) fw01 CEF:0|Vigil|BenchFW|1.0|100|connection allowed|3|src=10.2.\(a).\(b) dst=172.16.\(r.int(250)).\(r.int(250) + 1) spt=\(p) dpt=443 proto=TCP act=allowed rt=\(ms)", false)
        } else if k < 72 {
            return ("<86>\(ts) db\(String(format: "%02d", h)) sudo: pam_unix(sudo:session): session opened for user root(uid=0) by alice\(u)(uid=\(1000 + u))", false)
        } else if k < 80 {
            return ("<78>\(ts) db\(String(format: "%02d", h)) CRON[\(3000 + r.int(30000))]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)", false)
        } else if k < 90 {
            return (windows(ms, provider: "Microsoft-Windows-Security-Auditing", eventId: 4624, channel: "Security", computer: "WS\(String(format: "%03d", h))",
                            data: [("TargetUserName", "user\(u)"), ("TargetDomainName", "CORP"), ("LogonType", "3"),
                                   ("IpAddress", "10.3.\(a).\(b)"), ("IpPort", "\(p)")]), false)
        } else {
            return (windows(ms, provider: "Microsoft-Windows-Sysmon", eventId: 1, channel: "Microsoft-Windows-Sysmon/Operational", computer: "WS\(String(format: "%03d", h))",
                            data: [("Image", "C:\\Windows\\System32\\notepad.exe"), ("CommandLine", "notepad.exe C:\\Users\\user\(u)\\doc\(i).txt"),
                                   ("ParentImage", "C:\\Windows\\explorer.exe"), ("User", "CORP\\user\(u)"), ("ProcessId", "\(4 + r.int(60000))")]), false)
        }
    }

    /// `events` background events starting at event time `baseMs`, plus the injected patterns.
    init(events: Int, seed: UInt64, baseMs: Int64) {
        var r = SplitMix64(seed: seed)
        let attacks = max(1, events / 20_000)
        var extra: [Int: [(String, Bool)]] = [:]
        func at(_ ms: Int64, _ line: String, ssh: Bool = false) {
            let idx = Int((ms - baseMs) / Dataset.stepMs)
            extra[idx, default: []].append((line, ssh))
        }
        let spanMs = Int64(events) * Dataset.stepMs
        // Start times spread evenly over the first 90% of the span, each attack its own address.
        func start(_ k: Int, _ of: Int, offset: Int64) -> Int64 { baseMs + offset + Int64(k) * (spanMs * 9 / 10) / Int64(of) }

        let ssh = attacks
        for k in 0..<ssh {
            let s = start(k, ssh, offset: 1000)
            for j in 0..<30 {
                at(s + Int64(j) * 4000, "<38>\(Dataset.syslogTime(s + Int64(j) * 4000)) web\(String(format: "%02d", k % 40)) sshd[\(40000 + k)]: Failed password for root from 198.51.\(100 + k / 250).\(k % 250 + 1) port \(30000 + j) ssh2", ssh: true)
            }
        }
        let win = max(1, attacks / 2)
        for k in 0..<win {
            let s = start(k, win, offset: 7000)
            for j in 0..<12 {
                let t = s + Int64(j) * 3000
                at(t, Dataset.windows(t, provider: "Microsoft-Windows-Security-Auditing", eventId: 4625, channel: "Security", computer: "DC01",
                                      data: [("TargetUserName", "administrator"), ("TargetDomainName", "CORP"), ("LogonType", "3"),
                                             ("Status", "0xc000006d"), ("SubStatus", "0xc000006a"),
                                             ("IpAddress", "203.0.\(113 + k / 250).\(k % 250 + 1)"), ("IpPort", "\(40000 + j)")]))
            }
        }
        let ps = attacks
        for k in 0..<ps {
            let t = start(k, ps, offset: 13000)
            at(t, Dataset.windows(t, provider: "Microsoft-Windows-Sysmon", eventId: 1, channel: "Microsoft-Windows-Sysmon/Operational", computer: "WS\(String(format: "%03d", k % 40))",
                                  data: [("Image", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"),
                                         ("CommandLine", "powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC\(k)"),
                                         ("ParentImage", "C:\\Windows\\explorer.exe"), ("User", "CORP\\user\(k)"), ("ProcessId", "\(5000 + k)")]))
        }
        let fw = max(1, attacks / 5)
        for k in 0..<fw {
            let s = start(k, fw, offset: 19000)
            for j in 0..<250 {
                let t = s + Int64(j) * 100
                // Cisco ASA 106023 (the CEF parser sets no event.category, so the library's deny-flood rule cannot see CEF denies).
                at(t, "<164>\(Dataset.asaTime(t)) asa-edge : %ASA-4-106023: Deny tcp src outside:192.0.\(2 + k / 250).\(k % 250 + 1)/\(20000 + j) dst inside:172.16.0.10/23 by access-group \"OUTSIDE_IN\" [0x8ed66b60, 0xf8852875]")
            }
        }
        let ua = max(1, attacks / 2)
        for k in 0..<ua {
            let t = start(k, ua, offset: 23000)
            at(t, "<86>\(Dataset.syslogTime(t)) db01 useradd[\(7000 + k)]: new user: name=svc\(k), UID=\(1500 + k), GID=\(1500 + k), home=/home/svc\(k), shell=/bin/bash")
        }

        lines.reserveCapacity(events + events / 500)
        var probeN = 0
        for i in 0..<events {
            let ms = baseMs + Int64(i) * Dataset.stepMs
            if let xs = extra[i] {
                for (l, isSsh) in xs { lines.append(l); if isSsh { sshLines.append(l) } }
            }
            if i % 1000 == 999 {
                let l = Dataset.probeLine(ms, probeN)
                probeN += 1
                lines.append(l); sshLines.append(l)
            } else {
                let (l, isSsh) = Dataset.background(ms, i, &r)
                lines.append(l)
                if isSsh { sshLines.append(l) }
            }
        }
        probes = probeN
        expectations = [
            Expectation(ruleFile: "ssh-brute-force", what: "SSH brute force: \(ssh) addresses × 30 failures in 2 min", signals: ssh),
            Expectation(ruleFile: "windows-logon-brute-force", what: "4625 brute force: \(win) addresses × 12 failures", signals: win),
            Expectation(ruleFile: "sysmon-encoded-powershell", what: "encoded PowerShell: \(ps) process starts", signals: ps),
            Expectation(ruleFile: "firewall-deny-flood", what: "firewall deny flood (Cisco ASA 106023): \(fw) addresses × 250 denies in 25 s", signals: fw),
            Expectation(ruleFile: "linux-user-created", what: "useradd: \(ua) new users", signals: ua),
            Expectation(ruleFile: "failed-login", what: "every failed login (\(ssh)×30 sshd + \(win)×12 Windows)", signals: ssh * 30 + win * 12),
            Expectation(ruleFile: "probe", what: "latency probes (sshd accepted for e2e_probe)", signals: probeN),
        ]
    }
}

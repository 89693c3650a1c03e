import BenchSupport
import VigilWire
#if canImport(Glibc)
import Glibc
#endif

// Event decode microbench: CPU ns per `Event(decoding:)` for three typical shapes (syslog/sshd,
// CEF, Windows JSON with ~40 fields), each with original and enriched maps as enrichment and
// detection see them. CPU time (CLOCK_PROCESS_CPUTIME_ID), not wall time: the machine is shared.
//   swift build -c release -j 1 --product wire-bench && .build/release/wire-bench [iterations]
// Instruction counts: valgrind --tool=callgrind .build/release/wire-bench 20000

// The iteration count may also be given alone (`wire-bench 20000`), as the callgrind runs do.
let positional = CommandLine.arguments.count == 2 && Int(CommandLine.arguments[1]) != nil
let options = BenchOptions.parse(tool: "wire-bench", summary: """
    CPU ns per Event(decoding:) for three typical shapes (sshd syslog, CEF, Windows JSON).
    """, options: [BenchOption("--iterations", .positive, "decodes per shape (default 200,000; also accepted alone: wire-bench N)")],
    arguments: positional ? ["--iterations", CommandLine.arguments[1]] : Array(CommandLine.arguments.dropFirst()))
let iterations = options.count("--iterations", default: 200_000)

func cpuNs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

func base(_ source: String, _ format: String, _ raw: String) -> Event {
    var e = Event()
    e.id = "0123456789abcdef0123456789abcdef"
    e.eventTimeMs = 1_764_839_711_000; e.receivedTimeMs = 1_764_839_711_123
    e.source = source; e.format = format; e.raw = Array(raw.utf8)
    e.parseStatus = .parsed
    e.partitionKey = "web01"; e.partition = 3; e.sender = "ingest-0"
    return e
}

var sshd = base("syslog-udp", "linux-auth",
                "<38>Dec  4 09:15:11 web01 sshd[2240]: Failed password for invalid user admin from 203.0.113.45 port 40122 ssh2")
sshd.fields = ["event.category": "authentication", "event.outcome": "failure", "user.name": "admin",
               "source.ip": "203.0.113.45", "source.port": "40122", "host.name": "web01", "process.name": "sshd",
               "process.pid": "2240", "event.action": "ssh_login", "log.syslog.priority": "38",
               "log.syslog.facility.code": "4", "log.syslog.severity.code": "6", "message": "Failed password for invalid user admin from 203.0.113.45 port 40122 ssh2",
               "user.invalid": "true", "network.protocol": "ssh2"]
sshd.original = ["hostname": "web01", "program": "sshd", "pid": "2240"]
sshd.enriched = ["source.geo.country_iso_code": "NL", "source.geo.city_name": "Amsterdam", "source.as.number": "64500",
                 "host.criticality": "high", "user.department": "", "threat.indicator.matched": "false"]

var cef = base("syslog-tcp", "cef",
               "CEF:0|Palo Alto Networks|PAN-OS|10.1|TRAFFIC|end|3|src=10.1.2.3 dst=198.51.100.7 spt=51234 dpt=443 proto=TCP act=allow suser=corp\\\\jdoe")
var cefFields: [String: String] = [:]
for (k, v) in [("observer.vendor", "Palo Alto Networks"), ("observer.product", "PAN-OS"), ("observer.version", "10.1"),
               ("event.code", "TRAFFIC"), ("event.action", "end"), ("event.severity", "3"), ("source.ip", "10.1.2.3"),
               ("destination.ip", "198.51.100.7"), ("source.port", "51234"), ("destination.port", "443"),
               ("network.transport", "tcp"), ("event.outcome", "success"), ("user.name", "jdoe"), ("user.domain", "corp"),
               ("rule.name", "allow-web"), ("network.bytes", "18234"), ("source.bytes", "2345"), ("destination.bytes", "15889"),
               ("network.packets", "42"), ("event.duration", "12000000000"), ("observer.hostname", "fw-edge-01"),
               ("source.zone", "trust"), ("destination.zone", "untrust"), ("url.domain", "example.com")] { cefFields[k] = v }
cef.fields = cefFields
cef.original = ["src": "10.1.2.3", "dst": "198.51.100.7", "spt": "51234", "dpt": "443", "proto": "TCP", "act": "allow",
                "suser": "corp\\jdoe", "cs1": "allow-web", "cs1Label": "Rule", "deviceExternalId": "0123456789"]
cef.enriched = ["destination.geo.country_iso_code": "US", "destination.as.organization.name": "Example Networks",
                "source.asset.name": "ws-0142", "source.asset.criticality": "medium", "user.department": "Finance",
                "user.title": "Accountant", "threat.indicator.matched": "false"]

var win = base("winlog-http", "windows-json",
               #"{"EventID":4625,"Channel":"Security","Computer":"DC01.corp.example.com","TargetUserName":"svc_backup","IpAddress":"198.51.100.23"}"#)
var winFields: [String: String] = [:]
for (k, v) in [("winlog.event_id", "4625"), ("winlog.channel", "Security"), ("winlog.provider_name", "Microsoft-Windows-Security-Auditing"),
               ("winlog.computer_name", "DC01.corp.example.com"), ("winlog.record_id", "9182733"), ("winlog.task", "Logon"),
               ("winlog.keywords", "Audit Failure"), ("winlog.opcode", "Info"), ("winlog.process.pid", "636"), ("winlog.process.thread.id", "4120"),
               ("winlog.event_data.SubjectUserSid", "S-1-5-18"), ("winlog.event_data.SubjectUserName", "DC01$"),
               ("winlog.event_data.SubjectDomainName", "CORP"), ("winlog.event_data.SubjectLogonId", "0x3e7"),
               ("winlog.event_data.TargetUserSid", "S-1-0-0"), ("winlog.event_data.TargetUserName", "svc_backup"),
               ("winlog.event_data.TargetDomainName", "CORP"), ("winlog.event_data.Status", "0xc000006d"),
               ("winlog.event_data.FailureReason", "%%2313"), ("winlog.event_data.SubStatus", "0xc000006a"),
               ("winlog.event_data.LogonType", "3"), ("winlog.event_data.LogonProcessName", "NtLmSsp "),
               ("winlog.event_data.AuthenticationPackageName", "NTLM"), ("winlog.event_data.WorkstationName", "WS-0142"),
               ("winlog.event_data.TransmittedServices", "-"), ("winlog.event_data.LmPackageName", "-"),
               ("winlog.event_data.KeyLength", "0"), ("winlog.event_data.ProcessId", "0x0"), ("winlog.event_data.ProcessName", "-"),
               ("winlog.event_data.IpAddress", "198.51.100.23"), ("winlog.event_data.IpPort", "53122"),
               ("event.category", "authentication"), ("event.outcome", "failure"), ("event.code", "4625"),
               ("user.name", "svc_backup"), ("user.domain", "CORP"), ("source.ip", "198.51.100.23"), ("host.name", "DC01"),
               ("event.provider", "Microsoft-Windows-Security-Auditing"), ("message", "An account failed to log on.")] { winFields[k] = v }
win.fields = winFields
win.original = ["EventID": "4625", "Channel": "Security", "Computer": "DC01.corp.example.com"]
win.enriched = ["source.geo.country_iso_code": "DE", "host.criticality": "critical", "host.asset.owner": "it-infra",
                "user.department": "IT", "user.privileged": "true", "threat.indicator.matched": "true",
                "threat.indicator.type": "ipv4-addr", "threat.feed.name": "abuse-ch"]

let shapes: [(String, [UInt8])] = [("sshd", sshd.encoded()), ("cef", cef.encoded()), ("windows", win.encoded())]
for (name, bytes) in shapes { precondition((try? Event(decoding: bytes)) != nil, "\(name) does not decode") }

var results: [(String, String)] = []
var totalNs: Int64 = 0
var sink = 0
for (name, bytes) in shapes {
    for _ in 0..<min(iterations / 10, 1000) { sink &+= (try? Event(decoding: bytes))?.fields.count ?? 0 } // warm-up
    let t0 = cpuNs()
    for _ in 0..<iterations { sink &+= (try? Event(decoding: bytes))?.fields.count ?? 0 }
    let ns = cpuNs() - t0
    totalNs += ns
    let per: Int64 = ns / Int64(iterations)
    print("\(name): \(bytes.count) bytes, \(per) ns CPU per decode")
    results.append(("\(name)_decode_ns", String(per)))
}
let meanNs: Int64 = totalNs / Int64(iterations * shapes.count)
results.insert(("event_decode_ns", String(meanNs)), at: 0)
if sink == 42 { print("") }
print("RESULT " + results.map { "\($0.0)=\($0.1)" }.joined(separator: " "))

import BenchSupport
import Foundation
import VigilBus
import VigilLog
import VigilWire
#if canImport(Glibc)
import Glibc
#endif

// Response benchmark: notifications per second delivered to a local webhook sink (in this
// process), and outbox recovery time after a SIGKILL of vigil-response. Starts the real
// broker, ingest, enrichment, detection and response binaries from the same build directory:
//   swift build -c release -j 1 --product response-bench && swift build -c release -j 1 && .build/release/response-bench [--quick]
// Phase 1: N signals wait on the `signals` stream, then vigil-response starts; figure = N over
//          the time from its first to its last delivery.
// Phase 2: N more signals; vigil-response is killed mid-delivery and restarted; recovery =
//          restart → first delivery resumed from the outbox. Every notification must arrive.

let options = BenchOptions.parse(tool: "response-bench", summary: """
    Notifications/s delivered to a local webhook sink, and outbox recovery after a SIGKILL of
    vigil-response, with the real broker, ingest, enrichment, detection and response.
    """, options: [BenchOption("--quick", .flag, "500 signals per phase instead of 2000")])
let quick = options.flag("--quick")
Interruption.install(tool: "response-bench")
let n = quick ? 500 : 2000
let binDir = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]).deletingLastPathComponent().path
let dir = "/tmp/response-bench-\(getpid())"
try FileManager.default.createDirectory(atPath: dir + "/logs", withIntermediateDirectories: true)
let endpoints = BusEndpoints.local(runDirectory: dir + "/run")

/// A minimal HTTP/1.1 sink: answers 200 to every request and records its Idempotency-Key.
final class Sink: @unchecked Sendable {
    private let lock = NSLock()
    private var keys: [String: Int] = [:]
    private var times: [String: Int64] = [:]
    private var flagged = 0
    private(set) var port: UInt16 = 0
    private var fd: Int32 = -1

    init(threads: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        guard withUnsafePointer(to: &sa, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }) == 0,
              listen(fd, 512) == 0 else { throw NSError(domain: "sink", code: 1) }
        _ = withUnsafeMutablePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        port = UInt16(bigEndian: sa.sin_port)
        for _ in 0..<threads { Thread.detachNewThread { [self] in self.serve() } }
    }

    private func serve() {
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let c = accept(fd, nil, nil)
            if c < 0 { continue }
            var data: [UInt8] = []
            var need = -1
            while true {
                let r = read(c, &buf, buf.count)
                if r <= 0 { break }
                data += buf[0..<r]
                if need < 0, let end = find(data, [13, 10, 13, 10]) {
                    let head = String(decoding: data[0..<end], as: UTF8.self).lowercased()
                    let cl = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }.flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
                    need = end + 4 + cl
                }
                if need >= 0 && data.count >= need { break }
            }
            if let end = find(data, [13, 10, 13, 10]) {
                let head = String(decoding: data[0..<end], as: UTF8.self)
                if let line = head.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("idempotency-key:") }) {
                    let key = line.dropFirst(16).trimmingCharacters(in: .whitespaces)
                    lock.lock(); keys[key, default: 0] += 1; if times[key] == nil { times[key] = Clock.monotonicMs() }; lock.unlock()
                }
                if head.lowercased().contains("\r\nvigil-redelivery: true") { lock.lock(); flagged += 1; lock.unlock() }
            }
            let answer = Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
            _ = answer.withUnsafeBytes { write(c, $0.baseAddress, $0.count) }
            close(c)
        }
    }

    private func find(_ d: [UInt8], _ p: [UInt8]) -> Int? {
        guard d.count >= p.count else { return nil }
        for i in 0...(d.count - p.count) where d[i] == p[0] && Array(d[i..<i + p.count]) == p { return i }
        return nil
    }

    var snapshot: (distinct: Int, total: Int, times: [String: Int64], flagged: Int) {
        lock.lock(); defer { lock.unlock() }
        return (keys.count, keys.values.reduce(0, +), times, flagged)
    }
}

var processes: [String: Process] = [:]
@MainActor func start(_ service: String, _ args: [String] = []) throws {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "\(binDir)/vigil-\(service)")
    p.arguments = ["--data", dir, "--log-level", "warning"] + args
    let path = "\(dir)/logs/\(service).log"
    _ = FileManager.default.createFile(atPath: path, contents: nil)
    p.standardOutput = FileHandle(forWritingAtPath: path)
    p.standardError = p.standardOutput
    try p.run()
    Interruption.track(p.processIdentifier)
    processes[service] = p
}
@MainActor func stopAll() {
    for (_, p) in processes where p.isRunning { kill(p.processIdentifier, SIGTERM) }
    for (_, p) in processes { p.waitUntilExit(); Interruption.untrack(p.processIdentifier) }
}
@MainActor func waitUntil(_ what: String, timeoutS: Double = 120, _ cond: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeoutS)
    while try !cond() {
        guard Date() < deadline else { stopAll(); throw NSError(domain: "bench", code: 2, userInfo: [NSLocalizedDescriptionKey: "timeout: \(what)"]) }
        usleep(5_000)
    }
}

let sink = try Sink(threads: 8)
try Data("""
{"templates": [{"id": "hook", "channel": "webhook", "destination": "http://127.0.0.1:\(sink.port)/hook", "body": "{{rule.name}} {{entity.user}}"}]}
""".utf8).write(to: URL(fileURLWithPath: dir + "/templates.json"))
let responseArgs = ["--templates", dir + "/templates.json", "--rate.per-destination", "0", "--delivery.threads", "8", "--retry.base", "100"]

try start("broker")
try start("ingest", ["--syslog.udp", "off", "--syslog.tcp", "off", "--json.tcp", "off"])
try start("enrichment")
try start("detection")
let ctx = ZContext()
let client = try RpcClient(context: ctx, endpoint: endpoints.rpc, caller: Identity(name: "bench", role: "admin"))
for s in ["ingest", "enrichment", "detection"] { _ = try client.call(service: s, method: "sys.health", timeoutMs: 30_000) }
_ = try client.call(service: "detection", method: "rules.create", RuleRequest(ruleJson: """
{"id": "cccccccc-0000-4000-8000-000000000001", "name": "Failed login (bench)", "status": "active", "criticality": "high", "risk_score": 70,
 "mitre": {"tactics": [{"id": "TA0006", "name": "Credential Access"}], "techniques": [{"id": "T1110", "name": "Brute Force"}]},
 "detection": {"type": "match", "condition": "event.category: authentication and event.outcome: failure", "group_by": ["user.name"]},
 "responses": ["hook"]}
"""), as: RuleDetail.self, timeoutMs: 10_000)

@MainActor func submit(_ from: Int, _ count: Int) throws {
    for b in stride(from: from, to: from + count, by: 500) {
        var batch = EventBatch()
        batch.batchId = "bench-\(b)"
        batch.agentId = "bench"
        for i in b..<min(from + count, b + 500) {
            var e = Event()
            e.id = "bench-\(i)"
            e.raw = Array("<38>Dec  4 09:15:11 web01 sshd[1]: Failed password for u\(i) from 10.9.8.7 port 4000 ssh2".utf8)
            batch.events.append(e)
        }
        _ = try client.call(service: "ingest", method: "ingest.submit", batch, as: EventBatchAck.self, timeoutMs: 30_000)
    }
}
@MainActor func detectionSignals() throws -> UInt64 {
    try client.call(service: "detection", method: "sys.metrics", MetricsResponse(), as: MetricsResponse.self, timeoutMs: 10_000).counters["signals"] ?? 0
}

// Phase 1: N signals wait in detection's outbox (2 per event: the bench rule and the demo rule).
try submit(0, n)
try waitUntil("detection raised \(2 * n) signals") { try detectionSignals() >= UInt64(2 * n) }
let spawned = Clock.monotonicMs()
try start("response", responseArgs)
try waitUntil("\(n) notifications delivered") { sink.snapshot.distinct >= n }
let times = sink.snapshot.times.values
let first = times.min() ?? spawned, last = times.max() ?? spawned
let perS = Double(n - 1) / max(0.001, Double(last - first) / 1000)
let endToEnd = Double(n) / max(0.001, Double(last - spawned) / 1000)
print(String(format: "phase 1: %d notifications, first→last %.0f/s; including start-up and catching up the stream %.0f/s", n, perS, endToEnd))

// Phase 2: N more, SIGKILL mid-delivery, restart, measure recovery from the outbox.
try submit(n, n)
try waitUntil("deliveries of the second half under way") { sink.snapshot.distinct >= n + n / 4 }
kill(processes["response"]!.processIdentifier, SIGKILL)
processes["response"]!.waitUntilExit()
Interruption.untrack(processes["response"]!.processIdentifier)
let before = sink.snapshot
let seenBefore = Set(before.times.keys)
let restarted = Clock.monotonicMs()
try start("response", responseArgs)
try waitUntil("first delivery after the restart") { sink.snapshot.times.keys.contains { !seenBefore.contains($0) } }
let recovery = (sink.snapshot.times.filter { !seenBefore.contains($0.key) }.values.min() ?? restarted) - restarted
try waitUntil("all \(2 * n) notifications delivered") { sink.snapshot.distinct >= 2 * n }
let drained = Clock.monotonicMs() - restarted
usleep(500_000)
let after = sink.snapshot
print("phase 2: killed at \(before.distinct)/\(2 * n); first resumed delivery \(recovery) ms after the restart; all delivered \(drained) ms after it; \(after.total - after.distinct) delivered twice (under way at the kill: same Idempotency-Key), \(after.flagged) sent with Vigil-Redelivery: true")
client.close()
stopAll()
ctx.terminate()
try? FileManager.default.removeItem(atPath: dir)
print("RESULT response_notifications_per_s=\(Int(perS)) recovery_ms=\(recovery) duplicates_after_kill=\(after.total - after.distinct) redeliveries_flagged=\(after.flagged)")

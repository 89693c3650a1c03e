import BenchSupport
import Foundation
import VigilBus
import VigilLog
import VigilWire
#if canImport(Glibc)
import Glibc
#endif

// agent-bench: one vigil-agent against a real broker + ingest + config (the binaries beside
// this one; build with `swift build -c release`). Phase 1: N lines already in a file, shipped
// as fast as the agent can (events/s from activation until ingest has accepted them all).
// Phase 2: a writer appends 1000 lines/s; the agent's RSS and CPU are sampled over the window.
//
//   agent-bench [--events N] [--seconds S]
//   RESULT agent_events_per_s=… agent_rss_mb_at_1k=… agent_cpu_pct_at_1k=…

let options = BenchOptions.parse(tool: "agent-bench", summary: """
    Starts broker, ingest and vigil-agent; ships N lines already in a file as fast as the agent can,
    then samples the agent's RSS and CPU while a writer appends 1000 lines/s.
    """, options: [
    BenchOption("--events", .positive, "lines in the file of phase 1 (default 200,000)"),
    BenchOption("--seconds", .positive, "length of phase 2 (default 15)", placeholder: "S"),
])
Interruption.install(tool: "agent-bench")
let events = options.count("--events", default: 200_000), seconds = options.count("--seconds", default: 15)

let binDir = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
    .deletingLastPathComponent().path
let dir = "/tmp/agent-bench-\(getpid())"
try FileManager.default.createDirectory(atPath: dir + "/logs", withIntermediateDirectories: true)
var procs: [Process] = []

@MainActor func start(_ bin: String, _ args: [String], log: String) throws -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "\(binDir)/\(bin)")
    p.arguments = args
    _ = FileManager.default.createFile(atPath: "\(dir)/logs/\(log).log", contents: nil)
    let h = FileHandle(forWritingAtPath: "\(dir)/logs/\(log).log")
    p.standardOutput = h; p.standardError = h
    try p.run()
    Interruption.track(p.processIdentifier)
    procs.append(p)
    return p
}

@MainActor func stopAll() {
    for p in procs where p.isRunning { kill(p.processIdentifier, SIGTERM) }
    for p in procs { p.waitUntilExit(); Interruption.untrack(p.processIdentifier) }
    try? FileManager.default.removeItem(atPath: dir)
}

func line(_ i: Int) -> String {
    "<38>Dec  4 09:15:11 web01 sshd[\(i % 30000)]: Failed password for user\(i % 5000) from 192.0.2.\(i % 250 + 1) port \(1024 + i % 60000) ssh2\n"
}

let ctx = ZContext()
let endpoints = BusEndpoints.local(runDirectory: dir + "/stack/run")
let client = try RpcClient(context: ctx, endpoint: endpoints.rpc, caller: Identity(name: "bench", role: "admin"))

@MainActor func config(_ method: String, _ req: ConfigRequest) throws -> String {
    try client.call(service: "config", method: method, req, as: ConfigReply.self, timeoutMs: 20_000).json
}

@MainActor func accepted() -> UInt64 {
    (try? client.call(service: "ingest", method: "sys.metrics", MetricsResponse(), as: MetricsResponse.self, timeoutMs: 5000))?.counters["accepted"] ?? 0
}

/// utime+stime ticks and VmRSS (kB) of a process.
func procStat(_ pid: Int32) -> (ticks: UInt64, rssKB: UInt64) {
    var ticks: UInt64 = 0, rss: UInt64 = 0
    if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") {
        let f = stat[stat.index(after: close)...].split(separator: " ")
        if f.count > 12 { ticks = (UInt64(f[11]) ?? 0) + (UInt64(f[12]) ?? 0) }
    }
    if let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) {
        for l in status.split(separator: "\n") where l.hasPrefix("VmRSS:") { rss = UInt64(l.split(separator: " ").dropFirst().first ?? "0") ?? 0 }
    }
    return (ticks, rss)
}

do {
    let fast = dir + "/fast.log", steady = dir + "/steady.log"
    var text = ""
    text.reserveCapacity(events * 110)
    for i in 0..<events { text += line(i) }
    _ = FileManager.default.createFile(atPath: fast, contents: Data(text.utf8))
    _ = FileManager.default.createFile(atPath: steady, contents: nil)

    let stackArgs = ["--data", dir + "/stack"]
    _ = try start("vigil-broker", stackArgs, log: "broker")
    _ = try start("vigil-ingest", stackArgs + ["--syslog.udp", "off", "--syslog.tcp", "off", "--json.tcp", "off"], log: "ingest")
    _ = try start("vigil-config", stackArgs + ["--agents.enroll-tokens", "bench"], log: "config")
    _ = try client.call(service: "ingest", method: "sys.health", timeoutMs: 20_000)
    _ = try client.call(service: "config", method: "sys.health", timeoutMs: 20_000)
    _ = try config("config.create", ConfigRequest(kind: "agent_profile",
                                                  objectJSON: #"{"id": "bench", "name": "bench", "logs": ["\#(fast)"], "assets": ["*"]}"#))
    let agent = try start("vigil-agent", ["--data", dir + "/agent", "--endpoint.rpc", endpoints.rpc, "--enroll-token", "bench",
                                          "--heartbeat-ms", "200", "--journal", "off"], log: "agent")
    var id = ""
    let enrollDeadline = Clock.monotonicMs() + 20_000
    while id.isEmpty && Clock.monotonicMs() < enrollDeadline {
        let list = (try? JSONSerialization.jsonObject(with: Data(try config("agents.list", ConfigRequest()).utf8))) as? [[String: Any]] ?? []
        id = list.first?["id"] as? String ?? ""
        if id.isEmpty { usleep(100_000) }
    }
    guard !id.isEmpty else { throw NSError(domain: "agent-bench", code: 1, userInfo: [NSLocalizedDescriptionKey: "the agent did not enroll"]) }

    // Phase 1: as fast as it can.
    let t0 = Clock.monotonicMs()
    _ = try config("agents.activate", ConfigRequest(id: id))
    let target = UInt64(events + 1) // + the inventory event
    var n: UInt64 = 0
    while n < target && Clock.monotonicMs() - t0 < 600_000 { usleep(50_000); n = accepted() }
    let elapsed = max(1, Clock.monotonicMs() - t0)
    let rate = Double(n) / (Double(elapsed) / 1000)
    print(String(format: "phase 1: %d events accepted by ingest in %.2f s", n, Double(elapsed) / 1000))

    // Phase 2: 1000 lines/s into another file, applied live by a profile change.
    _ = try config("config.update", ConfigRequest(kind: "agent_profile", objectJSON:
        #"{"id": "bench", "name": "bench", "logs": ["\#(fast)", "\#(steady)"], "assets": ["*"]}"#))
    usleep(1_000_000)
    let h = try FileHandle(forWritingTo: URL(fileURLWithPath: steady))
    let pid = agent.processIdentifier
    let clk = Double(sysconf(Int32(_SC_CLK_TCK)))
    // Warm up 2 s, then measure.
    var written = 0
    let w0 = Clock.monotonicMs()
    var s0 = procStat(pid), m0: Int64 = 0, rssMax: UInt64 = 0
    let total = Int64(seconds + 2) * 1000
    while Clock.monotonicMs() - w0 < total {
        let due = Int((Clock.monotonicMs() - w0) * 1000 / 1000)
        if due > written {
            var chunk = ""
            for i in written..<due { chunk += line(events + i) }
            h.write(Data(chunk.utf8))
            written = due
        }
        if m0 == 0 && Clock.monotonicMs() - w0 >= 2000 { s0 = procStat(pid); m0 = Clock.monotonicMs() }
        if m0 != 0 { rssMax = max(rssMax, procStat(pid).rssKB) }
        usleep(10_000)
    }
    let s1 = procStat(pid), m1 = Clock.monotonicMs()
    h.closeFile()
    let cpuPct = Double(s1.ticks - s0.ticks) / clk / (Double(m1 - m0) / 1000) * 100
    let caught = Clock.monotonicMs() + 20_000
    while accepted() < target + UInt64(written) && Clock.monotonicMs() < caught { usleep(100_000) }
    print(String(format: "phase 2: %d lines at 1000/s; ingest accepted %d of %d", written, accepted() - target, written))
    print(String(format: "RESULT agent_events_per_s=%.0f agent_rss_mb_at_1k=%.1f agent_cpu_pct_at_1k=%.1f",
                 rate, Double(rssMax) / 1024, cpuPct))
    client.close()
    stopAll()
    ctx.terminate()
} catch {
    FileHandle.standardError.write(Data("agent-bench: \(error)\n".utf8))
    client.close()
    stopAll()
    ctx.terminate()
    exit(1)
}

import BenchSupport
import Foundation
import VigilBus
import VigilImport
import VigilLog
import VigilWire
#if canImport(Glibc)
import Glibc
#endif

// Ingest benchmark: events/s committed to ingest's outbox (a) from syslog over TCP and
// (b) from file import through the same engine as `vigil import`. Starts the real broker and
// ingest binaries from the same build directory. Figures, not assertions. Build in release:
//   swift build -c release -j 1     (or --product ingest-bench, vigil-broker and vigil-ingest, one at a time)
//   .build/release/ingest-bench [--quick] [--parse-threads N] [--phase tcp|import] [--events N]
// `--parse-threads N` is passed to vigil-ingest (threads one parse worker splits a batch over).
// "Committed" is ingest's `accepted` counter, which grows only after the SQLite transaction
// holding the events has committed.

let options = BenchOptions.parse(tool: "ingest-bench", summary: """
    Events/s committed to ingest's outbox from syslog over TCP and from file import (the engine of
    `vigil import`), with the real broker and vigil-ingest.
    """, options: [
    BenchOption("--quick", .flag, "200,000 events per phase instead of 1,000,000"),
    BenchOption("--events", .positive, "events per phase"),
    BenchOption("--phase", .text, "run only that phase", placeholder: "tcp|import"),
    BenchOption("--parse-threads", .positive, "vigil-ingest's --parse-threads"),
])
let quick = options.flag("--quick")
Interruption.install(tool: "ingest-bench")
/// `--phase tcp` or `--phase import` runs only that half (for profiling one path with perf).
let phase = options.text("--phase")
if let phase, phase != "tcp", phase != "import" {
    FileHandle.standardError.write(Data("ingest-bench: --phase: expected tcp or import, got '\(phase)'\n".utf8))
    exit(2)
}
/// `--events N` overrides the events per phase (200k with --quick, else 1M).
let eventsPerPhase = options.count("--events")
    ?? (quick ? 200_000 : 1_000_000)
let binDir = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]).deletingLastPathComponent().path
let dir = "/tmp/ingest-bench-\(getpid())"
try FileManager.default.createDirectory(atPath: dir + "/run", withIntermediateDirectories: true)
let endpoints = BusEndpoints.local(runDirectory: dir + "/run")

func freePort() -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var sa = sockaddr_in()
    sa.sin_family = sa_family_t(AF_INET)
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr)
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return UInt16(bigEndian: sa.sin_port)
}

func start(_ binary: String, _ args: [String]) throws -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binDir + "/" + binary)
    p.arguments = ["--data", dir, "--log-level", "error"] + args
    try p.run()
    Interruption.track(p.processIdentifier)
    return p
}

/// Generated lines: sshd failures and CEF records, alternating, all different.
func line(_ i: Int) -> String {
    if i % 2 == 0 {
        return "<38>Mar 10 12:\(String(format: "%02d:%02d", i / 60 % 60, i % 60)) web\(i % 20) sshd[\(1000 + i % 5000)]: Failed password for invalid user u\(i % 997) from 203.0.\(i / 256 % 256).\(i % 256) port \(1024 + i % 60000) ssh2"
    }
    return "<134>Mar 10 12:00:00 fw01 CEF:0|Security|threatmanager|1.0|100|worm successfully stopped|10|src=10.0.\(i / 256 % 256).\(i % 256) dst=2.1.2.2 spt=\(1024 + i % 60000) dpt=443 act=blocked suser=u\(i % 997)"
}

let port = freePort()
let broker = try start("vigil-broker", [])
let parseThreads = options.count("--parse-threads").map { ["--parse-threads", String($0)] } ?? []
let ingest = try start("vigil-ingest", ["--syslog.tcp", "127.0.0.1:\(port)", "--syslog.udp", "off", "--json.tcp", "off",
                                        "--outbox.max-rows", "10000000"] + parseThreads)
let ctx = ZContext()
let client = try RpcClient(context: ctx, endpoint: endpoints.rpc, caller: Identity(name: "ingest-bench", role: "admin"))
_ = try client.call(service: "ingest", method: "sys.health", timeoutMs: 20_000)

func accepted(_ client: RpcClient) -> UInt64 {
    (try? client.call(service: "ingest", method: "sys.metrics", MetricsResponse(), as: MetricsResponse.self, timeoutMs: 5000))?.counters["accepted"] ?? 0
}

var results: [(String, String)] = []

/// User + system CPU seconds of a process so far (/proc/<pid>/stat, clock ticks). The
/// machine is shared, so CPU per event is the figure to compare between commits; the rates
/// are what the load left.
func cpuSeconds(_ pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return 0 }
    let f = stat[stat.index(after: close)...].split(separator: " ")
    // After "pid (comm)": state is field 3, utime 14 and stime 15 (1-based).
    guard f.count > 13, let u = Double(f[11]), let s = Double(f[12]) else { return 0 }
    return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// CPU seconds per thread of a process, keyed "tid name" (/proc/<pid>/task/*/stat), to say
/// which of ingest's threads (loop, parse workers, listeners, dispatch pool) spends the time.
func threadCPU(_ pid: Int32) -> [String: Double] {
    var out: [String: Double] = [:]
    for tid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? [] {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/stat", encoding: .utf8),
              let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { continue }
        let f = stat[stat.index(after: close)...].split(separator: " ")
        guard f.count > 13, let u = Double(f[11]), let s = Double(f[12]) else { continue }
        out["\(tid) \(stat[stat.index(after: open)..<close])"] = (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
    return out
}

/// Prints the threads that used at least 2 % of the phase's CPU, as µs per event.
func printThreads(_ before: [String: Double], _ after: [String: Double], events: UInt64) {
    let used = after.map { ($0.key, $0.value - (before[$0.key] ?? 0)) }.sorted { $0.1 > $1.1 }
    let total = used.reduce(0) { $0 + $1.1 }
    let shown = used.filter { $0.1 > total * 0.02 }
        .map { String(format: "%@ %.1f", $0.0, $0.1 * 1e6 / Double(max(1, events))) }
    print("  vigil-ingest threads, CPU µs/event: " + shown.joined(separator: ", "))
}

// 1. Syslog over TCP: one connection, newline framing, written as fast as the socket takes it.
if phase == nil || phase == "tcp" {
    let n = eventsPerPhase
    let base = accepted(client)
    // Pre-render so the sender measures ingest, not string formatting.
    let payload: [UInt8] = {
        var p: [UInt8] = []
        p.reserveCapacity(n * 130)
        for i in 0..<n { p += Array(line(i).utf8); p.append(10) }
        return p
    }()
    let sendDone = DispatchSemaphore(value: 0)
    let cpu0 = cpuSeconds(ingest.processIdentifier), threads0 = threadCPU(ingest.processIdentifier)
    let t0 = Clock.monotonicMs()
    Thread.detachNewThread {
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = port.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        _ = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var off = 0
        while off < payload.count {
            let k = min(256 * 1024, payload.count - off)
            let w = payload[off..<(off + k)].withUnsafeBytes { send(fd, $0.baseAddress, k, 0) }
            if w <= 0 { break }
            off += w
        }
        close(fd)
        sendDone.signal()
    }
    var done = base
    // The connection's thread exits when the sender closes: keep the last figures seen per thread.
    var threads1 = threads0
    while done - base < UInt64(n) && Clock.monotonicMs() - t0 < 300_000 {
        usleep(100_000)
        done = accepted(client)
        threads1.merge(threadCPU(ingest.processIdentifier)) { max($0, $1) }
    }
    sendDone.wait()
    let secs = Double(Clock.monotonicMs() - t0) / 1000
    let rate = Double(done - base) / secs
    let cpuUs = (cpuSeconds(ingest.processIdentifier) - cpu0) * 1e6 / Double(max(1, done - base))
    print(String(format: "syslog TCP: %d of %d events committed in %.2f s = %.0f events/s, vigil-ingest CPU %.1f µs/event", Int(done - base), n, secs, rate, cpuUs))
    printThreads(threads0, threads1.merging(threadCPU(ingest.processIdentifier)) { max($0, $1) }, events: done - base)
    results.append(("ingest_tcp_events_per_s", String(Int(rate))))
    results.append(("ingest_tcp_cpu_us_per_event", String(format: "%.1f", cpuUs)))
}

// 2. File import through FileImporter (the `vigil import` engine), format auto-detected per line.
if phase == nil || phase == "import" {
    let n = eventsPerPhase
    let path = dir + "/import.log"
    var text = ""
    text.reserveCapacity(n * 130)
    for i in 0..<n { text += line(i + 7_000_000); text += "\n" }
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    let importer = FileImporter(client: client, options: ImportOptions())
    let cpu0 = cpuSeconds(ingest.processIdentifier), threads0 = threadCPU(ingest.processIdentifier)
    let t0 = Clock.monotonicMs()
    let r = try importer.run(paths: [path])
    let secs = Double(Clock.monotonicMs() - t0) / 1000
    let got = r.first?.accepted ?? 0
    if let e = r.first?.error { print("import error: \(e)") }
    let rate = Double(got) / secs
    let cpuUs = (cpuSeconds(ingest.processIdentifier) - cpu0) * 1e6 / Double(max(1, got))
    print(String(format: "file import: %d of %d events committed in %.2f s = %.0f events/s (%d unparsed), vigil-ingest CPU %.1f µs/event", got, n, secs, rate, r.first?.unparsed ?? 0, cpuUs))
    printThreads(threads0, threadCPU(ingest.processIdentifier), events: UInt64(got))
    results.append(("ingest_import_events_per_s", String(Int(rate))))
    results.append(("ingest_import_cpu_us_per_event", String(format: "%.1f", cpuUs)))
}

client.close()
ctx.terminate()
kill(ingest.processIdentifier, SIGTERM); ingest.waitUntilExit(); Interruption.untrack(ingest.processIdentifier)
kill(broker.processIdentifier, SIGTERM); broker.waitUntilExit(); Interruption.untrack(broker.processIdentifier)
try? FileManager.default.removeItem(atPath: dir)
print("RESULT " + results.map { "\($0.0)=\($0.1)" }.joined(separator: " "))

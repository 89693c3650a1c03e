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
//   .build/release/ingest-bench [--quick] [--parse-threads N]
// `--parse-threads N` is passed to vigil-ingest (threads one parse worker splits a batch over).
// "Committed" is ingest's `accepted` counter, which grows only after the SQLite transaction
// holding the events has committed.

let quick = CommandLine.arguments.contains("--quick")
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
let parseThreads = CommandLine.arguments.firstIndex(of: "--parse-threads").flatMap { i in
    i + 1 < CommandLine.arguments.count ? ["--parse-threads", CommandLine.arguments[i + 1]] : nil } ?? []
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

// 1. Syslog over TCP: one connection, newline framing, written as fast as the socket takes it.
do {
    let n = quick ? 200_000 : 1_000_000
    let base = accepted(client)
    let cpu0 = cpuSeconds(ingest.processIdentifier)
    // Pre-render so the sender measures ingest, not string formatting.
    let payload: [UInt8] = {
        var p: [UInt8] = []
        p.reserveCapacity(n * 130)
        for i in 0..<n { p += Array(line(i).utf8); p.append(10) }
        return p
    }()
    let sendDone = DispatchSemaphore(value: 0)
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
    while done - base < UInt64(n) && Clock.monotonicMs() - t0 < 300_000 {
        usleep(100_000)
        done = accepted(client)
    }
    sendDone.wait()
    let secs = Double(Clock.monotonicMs() - t0) / 1000
    let rate = Double(done - base) / secs
    let cpuUs = (cpuSeconds(ingest.processIdentifier) - cpu0) * 1e6 / Double(max(1, done - base))
    print(String(format: "syslog TCP: %d of %d events committed in %.2f s = %.0f events/s, vigil-ingest CPU %.1f µs/event", Int(done - base), n, secs, rate, cpuUs))
    results.append(("ingest_tcp_events_per_s", String(Int(rate))))
    results.append(("ingest_tcp_cpu_us_per_event", String(format: "%.1f", cpuUs)))
}

// 2. File import through FileImporter (the `vigil import` engine), format auto-detected per line.
do {
    let n = quick ? 200_000 : 1_000_000
    let path = dir + "/import.log"
    var text = ""
    text.reserveCapacity(n * 130)
    for i in 0..<n { text += line(i + 7_000_000); text += "\n" }
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    let importer = FileImporter(client: client, options: ImportOptions())
    let cpu0 = cpuSeconds(ingest.processIdentifier)
    let t0 = Clock.monotonicMs()
    let r = try importer.run(paths: [path])
    let secs = Double(Clock.monotonicMs() - t0) / 1000
    let got = r.first?.accepted ?? 0
    if let e = r.first?.error { print("import error: \(e)") }
    let rate = Double(got) / secs
    let cpuUs = (cpuSeconds(ingest.processIdentifier) - cpu0) * 1e6 / Double(max(1, got))
    print(String(format: "file import: %d of %d events committed in %.2f s = %.0f events/s (%d unparsed), vigil-ingest CPU %.1f µs/event", got, n, secs, rate, r.first?.unparsed ?? 0, cpuUs))
    results.append(("ingest_import_events_per_s", String(Int(rate))))
    results.append(("ingest_import_cpu_us_per_event", String(format: "%.1f", cpuUs)))
}

client.close()
ctx.terminate()
kill(ingest.processIdentifier, SIGTERM); ingest.waitUntilExit()
kill(broker.processIdentifier, SIGTERM); broker.waitUntilExit()
try? FileManager.default.removeItem(atPath: dir)
print("RESULT " + results.map { "\($0.0)=\($0.1)" }.joined(separator: " "))

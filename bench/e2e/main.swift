import Foundation
import BenchSupport
import VigilBus
import VigilImport
import VigilLog
import VigilRules
import VigilService
import VigilWire
#if canImport(Glibc)
import Glibc
#endif

// End-to-end benchmark: starts broker, config (when built), ingest, enrichment and detection from
// this build directory in a private data dir, activates N rules (10, 100, 1000), replays a seeded
// dataset through `ingest.submit` (the `vigil import` engine) as fast as it is accepted, then at a
// fixed rate, and reports throughput per stage, event→signal latency, peak RSS and CPU per million
// events. See docs/performance.md. Build in release:
//   swift build -c release -j 1 && .build/release/e2e-bench --quick

setvbuf(stdout, nil, _IOLBF, 0)
let options = BenchOptions.parse(tool: "e2e-bench", summary: """
    Starts broker, config, ingest, enrichment and detection from this build directory, replays a seeded
    dataset as fast as it is accepted and then at a fixed rate, for each rule count, and compares with
    the peers (SEC, Sagan, pySigma-SQLite). Full run about 6 minutes here; --quick about 1.
    See docs/performance.md.
    """, options: [
    BenchOption("--quick", .flag, "short run: 50,000 events per rule count, 10 s at the fixed rate"),
    BenchOption("--events", .count, "background events in the dataset (default 50,000 quick, 1,000,000 full)"),
    BenchOption("--rules", .counts, "rule counts, one fresh stack each (default 10,100,1000)"),
    BenchOption("--rate", .positive, "events/s of the fixed-rate phase (default 10,000, or half the measured end-to-end rate when lower; --detection-only: 10,000)"),
    BenchOption("--rate-seconds", .positive, "length of the fixed-rate phase (default 10 quick, 30 full)", placeholder: "S"),
    BenchOption("--latency-rules", .count, "the rule count that gets the fixed-rate phase and heads RESULT (default 100)"),
    BenchOption("--seed", .count, "dataset seed (default 42)"),
    BenchOption("--no-peers", .flag, "skip SEC, Sagan and pySigma"),
    BenchOption("--keep", .flag, "keep /tmp/e2e-bench-<pid>: dataset, data dirs, service logs"),
    BenchOption("--enrichment-page-size", .positive, "vigil-enrichment's --store.page-size (A/B runs)", placeholder: "BYTES"),
    BenchOption("--enrichment-batch-size", .positive, "vigil-enrichment's batch-size (A/B runs)"),
    BenchOption("--service-args", .text, "settings added to every service's command line, e.g. \"--hwm 20000\"", placeholder: "\"--key value …\""),
    BenchOption("--sigma-only", .flag, "only the pySigma comparisons, without the stack"),
    BenchOption("--sigma", .text, "SigmaHQ checkout of the full-rule-set run (default ../shared/data/sigma)", placeholder: "DIR"),
    BenchOption("--sigma-rules", .counts, "rule counts of the full-rule-set table (default 13,100,500)"),
    BenchOption("--detection-cpu", .flag, "the detection engine alone in this process, per --rules count"),
    BenchOption("--detection-only", .flag, "broker and vigil-detection only, the bench plays enrichment, at --rate"),
])
let quick = options.flag("--quick")
let keep = options.flag("--keep")
let eventCount = options.count("--events", default: quick ? 50_000 : 1_000_000)
let ruleCounts = options.counts("--rules") ?? [10, 100, 1000]
let explicitRate = options.count("--rate")
let fixedSeconds = options.count("--rate-seconds", default: quick ? 10 : 30)
let seed = UInt64(options.count("--seed", default: 42))
let latencyRules = options.count("--latency-rules", default: 100)
/// Passed to vigil-enrichment as --store.page-size (A/B of the store's page size).
let enrichmentPageSize = options.count("--enrichment-page-size").map(String.init)
/// `vigil-enrichment`'s `batch-size` (events per transaction, the most a consumer batch holds), for latency A/B runs.
let enrichmentBatchSize = options.count("--enrichment-batch-size").map(String.init)
/// Extra `--key value` settings for every service (e.g. `--service-args "--hwm 20000"`), for A/B runs.
let serviceArgs = (options.text("--service-args") ?? "").split(separator: " ").map(String.init)

let binDir = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]).deletingLastPathComponent().path
let root = "/tmp/e2e-bench-\(getpid())"
try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("e2e-bench: \(message)\n".utf8))
    Interruption.stopTracked()
    Interruption.exit(1)
}

// Interrupted (Ctrl-C, kill, or a closed output pipe as in `e2e-bench | head`): stop the stack it
// started instead of leaving the services running.
Interruption.install(tool: "e2e-bench", note: "data kept in \(root)")

/// The rule library: walk up from the binary to the repository.
func libraryDirectory() -> String {
    var url = URL(fileURLWithPath: binDir)
    while url.path != "/" {
        let p = url.path + "/Services/detection/Library"
        if FileManager.default.fileExists(atPath: p) { return p }
        url = url.deletingLastPathComponent()
    }
    fail("Services/detection/Library not found above \(binDir)")
}

// MARK: - Dataset

let nowMs = Clock.nowMs()
// Event time: the dataset ends about 10 minutes before now (replay of recent history).
let baseMs = (nowMs - Int64(eventCount) * Dataset.stepMs - 600_000) / 1000 * 1000
let t0gen = Clock.monotonicMs()
let dataset = Dataset(events: eventCount, seed: seed, baseMs: baseMs)
let dataPath = root + "/dataset.log"
let sshPath = root + "/sshd.log"
let windowsPath = root + "/windows.jsonl"
do {
    var text = dataset.lines.joined(separator: "\n"); text += "\n"
    try text.write(toFile: dataPath, atomically: false, encoding: .utf8)
    var ssh = dataset.sshLines.joined(separator: "\n"); ssh += "\n"
    try ssh.write(toFile: sshPath, atomically: false, encoding: .utf8)
    var win = dataset.lines.filter { $0.hasPrefix("{") }.joined(separator: "\n"); win += "\n"
    try win.write(toFile: windowsPath, atomically: false, encoding: .utf8)
}
let total = dataset.lines.count
let bytes = (try? FileManager.default.attributesOfItem(atPath: dataPath)[.size] as? Int) ?? 0
print(String(format: "dataset: %d events (%d background, %d injected or probes), %.1f MB, seed %llu, generated in %.1f s → %@",
             total, eventCount, total - eventCount, Double(bytes) / 1e6, seed, Double(Clock.monotonicMs() - t0gen) / 1000, dataPath))
for e in dataset.expectations { print("  expect \(e.signals) signal(s) from \(e.ruleFile): \(e.what)") }

// MARK: - Rules

struct RuleSet {
    var bundle: String
    var ids: [String: String]   // rule file name (or "probe") → id
    var count: Int
    var rules: [Rule] = []
}

let libraryRules: [(file: String, rule: Rule)] = {
    let dir = libraryDirectory()
    let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
    return files.map { f in
        guard let text = try? String(contentsOfFile: dir + "/" + f, encoding: .utf8) else { fail("cannot read \(f)") }
        do { return (String(f.dropLast(5)), try RuleDecoder.decode(text)) } catch { fail("library rule \(f): \(error)") }
    }
}()

func ruleJSON(id: String, name: String, criticality: String, detection: String) -> String {
    """
    {"schema": 1, "id": "\(id)", "name": "\(name)", "status": "active", "criticality": "\(criticality)", "risk_score": 30,
     "author": "e2e-bench", "mitre": {"tactics": [{"id": "TA0007", "name": "Discovery"}]}, "detection": \(detection)}
    """
}

let probeId = "e2e0b0b0-0000-4000-8000-000000000000"

/// Synthetic rules from five templates; none matches the dataset, most share index literals with it
/// (event.category, event.code) so the engine has to evaluate them.
func syntheticRule(_ i: Int) -> String {
    let id = String(format: "e2e00000-0000-4000-8000-%012x", i)
    let det: String
    switch i % 5 {
    case 0: det = #"{"type": "match", "condition": "event.code: \#(20000 + i)"}"#
    case 1: det = #"{"type": "threshold", "condition": "event.category: authentication and user.name: e2e_nobody_\#(i)", "count": 5, "group_by": ["source.ip"], "window": "5m"}"#
    case 2: det = #"{"type": "match", "condition": "event.category: network and destination.port: \#(30000 + i) and source.ip: 10.0.0.0/8"}"#
    case 3: det = #"{"type": "match", "condition": "event.code: 1 and process.name: e2e_tool_\#(i).exe"}"#
    default: det = #"{"type": "threshold", "condition": "event.category: network and event.outcome: failure and destination.port: \#(40000 + i)", "count": 50, "group_by": ["source.ip"], "window": "1m"}"#
    }
    return ruleJSON(id: id, name: "e2e synthetic \(i)", criticality: "low", detection: det)
}

/// N active rules: the probe, the library rules the expectations need first, the rest of the
/// library, then synthetic rules. Library rules left out are imported inactive.
func ruleSet(_ n: Int) -> RuleSet {
    let wanted = dataset.expectations.map(\.ruleFile).filter { $0 != "probe" }
    var order = libraryRules.filter { wanted.contains($0.file) } + libraryRules.filter { !wanted.contains($0.file) }
    let libActive = min(order.count, max(0, n - 1))
    var rules: [Rule] = []
    var ids: [String: String] = ["probe": probeId]
    for (k, var lr) in order.enumerated() {
        lr.rule.status = k < libActive ? .active : .inactive
        rules.append(lr.rule)
        ids[lr.file] = lr.rule.id
    }
    order.removeAll()
    do {
        rules.append(try RuleDecoder.decode(ruleJSON(id: probeId, name: "e2e latency probe", criticality: "low",
                                                     detection: #"{"type": "match", "condition": "user.name: e2e_probe"}"#)))
        for i in 0..<max(0, n - 1 - libActive) { rules.append(try RuleDecoder.decode(syntheticRule(i))) }
    } catch { fail("synthetic rule: \(error)") }
    return RuleSet(bundle: RuleBundle.text(rules), ids: ids, count: rules.filter { $0.status == .active }.count, rules: rules)
}

// MARK: - Processes

struct ProcStat { var cpuTicks: UInt64; var hwmKB: UInt64 }
let clkTck = UInt64(sysconf(Int32(_SC_CLK_TCK)))

func procStat(_ pid: Int32) -> ProcStat {
    var s = ProcStat(cpuTicks: 0, hwmKB: 0)
    if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") {
        let f = stat[stat.index(after: close)...].split(separator: " ")
        // after ")": state(3) ppid(4) … utime(14) stime(15) → indexes 11 and 12
        if f.count > 12 { s.cpuTicks = (UInt64(f[11]) ?? 0) + (UInt64(f[12]) ?? 0) }
    }
    if let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) {
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            s.hwmKB = UInt64(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
    }
    return s
}


/// Per thread of a process, /proc/<pid>/task/<tid>/schedstat: nanoseconds on a CPU and
/// nanoseconds runnable but waiting for one (what other processes on the machine cost it).
typealias SchedSnapshot = [String: (cpuNs: UInt64, waitNs: UInt64)]

func schedStat(_ pid: Int32) -> SchedSnapshot {
    var out: SchedSnapshot = [:]
    let dir = "/proc/\(pid)/task"
    for t in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
        guard let s = try? String(contentsOfFile: "\(dir)/\(t)/schedstat", encoding: .utf8) else { continue }
        let f = s.split(separator: " ")
        if f.count >= 2 { out[t] = (UInt64(f[0]) ?? 0, UInt64(f[1].trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) }
    }
    return out
}

/// CPU and wait time between two snapshots, summed over the threads alive at the second (a
/// thread started in between counts from zero). Per thread, not the two sums: a thread that
/// exits in between (a dispatch worker) takes its time with it, and the second sum could be
/// the smaller one.
func schedDelta(_ a: SchedSnapshot, _ b: SchedSnapshot) -> (cpuNs: UInt64, waitNs: UInt64) {
    var cpu: UInt64 = 0, wait: UInt64 = 0
    for (tid, end) in b {
        let start = a[tid] ?? (0, 0)
        if end.cpuNs >= start.cpuNs { cpu += end.cpuNs - start.cpuNs }
        if end.waitNs >= start.waitNs { wait += end.waitNs - start.waitNs }
    }
    return (cpu, wait)
}

final class Stack {
    let dir: String
    var procs: [(name: String, process: Process)] = []
    let ctx = ZContext()
    let client: RpcClient

    init(dir: String, detectionOnly: Bool = false) throws {
        self.dir = dir
        try FileManager.default.createDirectory(atPath: dir + "/logs", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/run", withIntermediateDirectories: true)
        client = try RpcClient(context: ctx, endpoint: BusEndpoints.local(runDirectory: dir + "/run").rpc,
                               caller: Identity(name: "e2e-bench", role: "admin"))
        let limits = ["--outbox.max-rows", "20000000"]
        try start("vigil-broker", "broker", [])
        if detectionOnly {
            // The bench itself plays enrichment (DetectionLatency.swift).
            try start("vigil-detection", "detection", ["--rules.lateness", "24h"] + limits)
            do { _ = try client.call(service: "detection", method: "sys.health", timeoutMs: 30_000) } catch { fail("detection not healthy: \(error); logs in \(dir)/logs") }
            return
        }
        if FileManager.default.isExecutableFile(atPath: binDir + "/vigil-config") { try start("vigil-config", "config", []) }
        try start("vigil-ingest", "ingest", ["--syslog.udp", "off", "--syslog.tcp", "off", "--json.tcp", "off"] + limits)
        try start("vigil-enrichment", "enrichment", limits + (enrichmentPageSize.map { ["--store.page-size", $0] } ?? []) + (enrichmentBatchSize.map { ["--batch-size", $0] } ?? []))
        // A replay of history: windows must not drop events that arrive out of partition order.
        try start("vigil-detection", "detection", ["--rules.lateness", "24h"] + limits)
        for s in ["ingest", "enrichment", "detection"] {
            do { _ = try client.call(service: s, method: "sys.health", timeoutMs: 30_000) } catch { fail("\(s) not healthy: \(error); logs in \(dir)/logs") }
        }
    }

    func start(_ binary: String, _ name: String, _ extra: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binDir + "/" + binary)
        p.arguments = ["--data", dir, "--log-level", "warning"] + extra + serviceArgs
        let path = "\(dir)/logs/\(name).log"
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let fh = FileHandle(forWritingAtPath: path)
        p.standardOutput = fh
        p.standardError = fh
        try p.run()
        procs.append((name, p))
        Interruption.track(p.processIdentifier)
    }

    func pid(_ name: String) -> Int32 { procs.first { $0.name == name }?.process.processIdentifier ?? 0 }

    private var lastSeen: [String: UInt64] = [:]

    /// A counter from `sys.metrics`; when the service does not answer in time (a long batch on a
    /// loaded machine), the last value seen.
    func counter(_ service: String, _ key: String) -> UInt64 {
        let k = service + "/" + key
        if let v = (try? client.call(service: service, method: "sys.metrics", MetricsResponse(), as: MetricsResponse.self,
                                     timeoutMs: 3000, attemptTimeoutMs: 3000))?.counters[key] {
            lastSeen[k] = v
            return v
        }
        return lastSeen[k] ?? 0
    }

    func stop() {
        client.close()
        ctx.terminate()
        for (_, p) in procs.reversed() where p.isRunning { kill(p.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(15)
        for (_, p) in procs {
            while p.isRunning && Date() < deadline { usleep(20_000) }
            if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        }
        // Reaped: never signal these pids again (they may belong to someone else by now).
        for (_, p) in procs { Interruption.untrack(p.processIdentifier) }
    }
}

// MARK: - One configuration

struct RunResult {
    var configured = 0, rules = 0
    var e2eRate = 0.0, ingestRate = 0.0, enrichRate = 0.0, detectRate = 0.0
    var p50 = -1.0, p99 = -1.0, achievedRate = 0.0, latencySamples = 0
    var rssMB: [String: Double] = [:]
    var cpuPerMillion = 0.0
    var cpuByService: [String: Double] = [:]
    var checksOK = true
}

let services = ["broker", "ingest", "enrichment", "detection"]

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return -1 }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

func run(rules n: Int, latency: Bool) throws -> RunResult {
    var res = RunResult()
    res.configured = n
    let stack = try Stack(dir: root + "/rules-\(n)")
    defer { stack.stop() }
    let rs = ruleSet(n)
    let active = activeIds(rs)
    do {
        _ = try stack.client.call(service: "detection", method: "rules.import", RuleRequest(ruleJson: rs.bundle),
                                  as: RuleBundleMessage.self, timeoutMs: 60_000)
    } catch { fail("rules.import: \(error)") }
    usleep(300_000)
    print("\n== \(n) rules (\(rs.count) active in the imported bundle), data in \(stack.dir)")

    let base = (ing: stack.counter("ingest", "accepted"), enr: stack.counter("enrichment", "processed"), det: stack.counter("detection", "processed"))
    let cpu0 = Dictionary(uniqueKeysWithValues: services.map { ($0, procStat(stack.pid($0)).cpuTicks) })

    // Replay as fast as accepted, through the `vigil import` engine on its own client.
    let importClient = try RpcClient(context: stack.ctx, endpoint: BusEndpoints.local(runDirectory: stack.dir + "/run").rpc,
                                     caller: Identity(name: "e2e-bench-import", role: "admin"))
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var importResult: [FileResult] = []
    nonisolated(unsafe) var importError: String?
    let t0 = Clock.monotonicMs()
    Thread.detachNewThread {
        do { importResult = try FileImporter(client: importClient, options: ImportOptions()).run(paths: [dataPath]) }
        catch { importError = "\(error)" }
        done.signal()
    }
    var tIngest: Int64 = 0, tEnrich: Int64 = 0, tDetect: Int64 = 0
    let deadline = t0 + (quick ? 240_000 : 1_200_000)
    var lastPrint = t0
    while Clock.monotonicMs() < deadline {
        usleep(50_000)
        let now = Clock.monotonicMs()
        let i = stack.counter("ingest", "accepted") - base.ing
        let e = stack.counter("enrichment", "processed") - base.enr
        let d = stack.counter("detection", "processed") - base.det
        if tIngest == 0 && i >= UInt64(total) { tIngest = now }
        if tEnrich == 0 && e >= UInt64(total) { tEnrich = now }
        if tDetect == 0 && d >= UInt64(total) { tDetect = now; break }
        if now - lastPrint >= 2000 {
            lastPrint = now
            print(String(format: "  %5.1f s  accepted %d  enriched %d  evaluated %d", Double(now - t0) / 1000, i, e, d))
        }
        if let err = importError { fail("import: \(err)") }
    }
    done.wait()
    importClient.close()
    if let err = importError { fail("import: \(err)") }
    if let r = importResult.first, let err = r.error { print("  import error: \(err)") }
    if tDetect == 0 { print("  did not finish in time; rates below are lower bounds"); tDetect = Clock.monotonicMs() }
    if tIngest == 0 { tIngest = tDetect }
    if tEnrich == 0 { tEnrich = tDetect }
    let secs = { (t: Int64) in max(0.001, Double(t - t0) / 1000) }
    res.ingestRate = Double(total) / secs(tIngest)
    res.enrichRate = Double(total) / secs(tEnrich)
    res.detectRate = Double(total) / secs(tDetect)
    res.e2eRate = res.detectRate
    var cpuTotal = 0.0
    for s in services {
        let c = Double(procStat(stack.pid(s)).cpuTicks - cpu0[s]!) / Double(clkTck)
        res.cpuByService[s] = c
        cpuTotal += c
    }
    res.cpuPerMillion = cpuTotal / Double(total) * 1e6
    print(String(format: "  replay: %d events; accepted in %.2f s (%.0f/s), enriched+stored in %.2f s (%.0f/s), evaluated in %.2f s (%.0f/s)",
                 total, secs(tIngest), res.ingestRate, secs(tEnrich), res.enrichRate, secs(tDetect), res.detectRate))
    print("  CPU s: " + services.map { String(format: "%@ %.1f", $0, res.cpuByService[$0]!) }.joined(separator: ", ")
          + String(format: " → %.1f CPU s per million events", res.cpuPerMillion))

    // Expected signals of the injected patterns.
    usleep(500_000)
    res.rules = Int(stack.counter("detection", "rules.active"))
    // Stream repair and lateness counters: non-zero values explain slow or missing stages.
    for svc in ["enrichment", "detection"] {
        if let m = try? stack.client.call(service: svc, method: "sys.metrics", MetricsResponse(), as: MetricsResponse.self, timeoutMs: 5000) {
            let notes = m.counters.filter { k, v in v > 0 && ["gap", "replay", "duplicate", "late", "evicted", "refused"].contains { k.contains($0) } }
                .sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            if !notes.isEmpty { print("  \(svc): " + notes.joined(separator: " ")) }
        }
    }
    print("  detection reports rules.active = \(res.rules)")
    for e in dataset.expectations {
        guard let id = rs.ids[e.ruleFile] else { continue }
        let got = (try? stack.client.call(service: "detection", method: "signals.count", QueryRequest(query: "rule.id: \(id)"),
                                          as: CountResponse.self, timeoutMs: 30_000))?.count ?? 0
        let wanted = active.contains(id) ? e.signals : 0
        let ok = Int(got) == wanted
        if !ok { res.checksOK = false }
        print(String(format: "  %@ %-28@ expected %6d  got %6d", ok ? "ok  " : "FAIL", e.ruleFile, wanted, Int(got)))
    }
    let allSignals = (try? stack.client.call(service: "detection", method: "signals.count", QueryRequest(query: ""),
                                             as: CountResponse.self, timeoutMs: 30_000))?.count ?? 0
    print("  signals in all: \(allSignals)")

    // Fixed rate: latency of the probe rule, measured on signals created after this point.
    if latency {
        // 10,000 events/s, or half the measured end-to-end rate when the stack cannot sustain that here.
        let rate = explicitRate ?? max(100, min(10_000, Int(res.e2eRate / 2) / 100 * 100))
        let (p50, p99, samples, achieved) = try fixedRatePhase(stack, rate: rate, base: (stack.counter("ingest", "accepted"), stack.counter("detection", "processed")))
        res.p50 = p50; res.p99 = p99; res.latencySamples = samples; res.achievedRate = achieved
    }
    for s in services { res.rssMB[s] = Double(procStat(stack.pid(s)).hwmKB) / 1024 }
    print("  peak RSS MB: " + services.map { String(format: "%@ %.0f", $0, res.rssMB[$0]!) }.joined(separator: ", "))
    return res
}

func activeIds(_ rs: RuleSet) -> Set<String> {
    guard let rules = try? RuleBundle.decode(rs.bundle) else { return [] }
    return Set(rules.filter { $0.status == .active }.map(\.id))
}

/// Sends `fixedRate` events/s in 10 ms batches for `fixedSeconds`, one probe per 100 events, and
/// reads the probe signals back: latency = signal created − event received by ingest (the event id
/// starts with ingest's receive time in ms).
func fixedRatePhase(_ stack: Stack, rate fixedRate: Int, base: (UInt64, UInt64)) throws -> (Double, Double, Int, Double) {
    let perTick = max(1, fixedRate / 100)
    let ticks = fixedSeconds * 100
    let sent = ticks * perTick
    var r = SplitMix64(seed: seed ^ 0xABCD)
    // Pre-rendered and pre-encoded, so the sender's pace is not limited by formatting.
    let renderStart = Clock.nowMs() + 1000
    var payloads: [[UInt8]] = []
    payloads.reserveCapacity(ticks)
    var probeN = 1_000_000
    for tick in 0..<ticks {
        let evMs = renderStart + Int64(tick) * 10
        var batch = EventBatch()
        batch.batchId = "e2e-rate-\(getpid())-\(tick)"
        batch.agentId = "e2e-bench"
        for k in 0..<perTick {
            var e = Event()
            e.source = "e2e-bench"
            let line: String
            if k == 0 { line = Dataset.probeLine(evMs, probeN); probeN += 1 }
            else { line = Dataset.background(evMs, tick * perTick + k, &r).0 }
            e.raw = Array(line.utf8)
            batch.events.append(e)
        }
        payloads.append(batch.encoded())
    }
    var inFlight = 0, failed = 0
    // How late each batch left against its 10 ms slot: a late sender bursts.
    var sendLate: [Double] = []
    sendLate.reserveCapacity(ticks)
    let startWall = Clock.nowMs()
    let sched0 = Dictionary(uniqueKeysWithValues: services.map { ($0, schedStat(stack.pid($0))) })
    let self0 = schedStat(getpid())
    let written0 = Dictionary(uniqueKeysWithValues: services.map { ($0, ProcessIO.bytesWritten(pid: stack.pid($0))) })
    let t0 = Clock.monotonicMs()
    // A batch ingest refuses as busy (`resourceExhausted`: too many batches being stored) is sent
    // again 20 ms later with the same batch id, as an agent does; other failures are counted.
    var busyResent = 0
    var resend: [(at: Int64, tick: Int)] = []
    func submit(_ tick: Int) {
        inFlight += 1
        stack.client.send(service: "ingest", method: "ingest.submit", payload: payloads[tick], timeoutMs: 30_000) { res in
            inFlight -= 1
            if case .success(let resp) = res {
                if resp.errorCode == .ok { return }
                if resp.errorCode == .resourceExhausted { busyResent += 1; resend.append((Clock.monotonicMs() + 20, tick)); return }
            }
            failed += 1
        }
    }
    func resendDue() {
        let now = Clock.monotonicMs()
        while let r = resend.first, r.at <= now { resend.removeFirst(); submit(r.tick) }
    }
    for tick in 0..<ticks {
        let target = t0 + Int64(tick) * 10
        while Clock.monotonicMs() < target {
            if zpoll([stack.client.socket], timeoutMs: 1)[0] { stack.client.processAvailable() }
            resendDue()
        }
        sendLate.append(Double(Clock.monotonicMs() - target))
        submit(tick)
        stack.client.processAvailable()
        stack.client.expire()
    }
    let sendSecs = Double(Clock.monotonicMs() - t0) / 1000
    // CPU used and time spent waiting for a CPU, per service, as a share of one core over the phase.
    let sched = services.map { s -> String in
        let d = schedDelta(sched0[s] ?? [:], schedStat(stack.pid(s)))
        return String(format: "%@ %.0f%% / %.0f%%", s, Double(d.cpuNs) / 1e7 / sendSecs, Double(d.waitNs) / 1e7 / sendSecs)
    }
    // The sender shares the two cores with the stack, so its own share is printed too.
    let selfDelta = schedDelta(self0, schedStat(getpid()))
    let senderShare = String(format: "the bench's sender %.0f%% / %.0f%%", Double(selfDelta.cpuNs) / 1e7 / sendSecs, Double(selfDelta.waitNs) / 1e7 / sendSecs)
    print("  at the fixed rate, CPU / waiting for a CPU (% of a core): " + sched.joined(separator: ", ") + "; " + senderShare)
    // What each store writes per event sent (WAL frames are whole pages; checkpoints copy them again).
    let written = services.map { s -> String in
        String(format: "%@ %.1f", s, Double(ProcessIO.bytesWritten(pid: stack.pid(s)) &- (written0[s] ?? 0)) / 1024 / Double(max(1, sent)))
    }
    print("  at the fixed rate, KB written per event (WAL and checkpoints): " + written.joined(separator: ", "))
    while (inFlight > 0 || !resend.isEmpty) && Clock.monotonicMs() - t0 < Int64(fixedSeconds) * 1000 + 30_000 {
        if zpoll([stack.client.socket], timeoutMs: 5)[0] { stack.client.processAvailable() }
        resendDue()
        stack.client.expire()
    }
    failed += resend.count
    let achieved = Double(sent) / sendSecs
    // Wait until detection has evaluated everything sent.
    let waitUntil = Clock.monotonicMs() + 120_000
    while stack.counter("detection", "processed") - base.1 < UInt64(sent) && Clock.monotonicMs() < waitUntil { usleep(100_000) }
    usleep(300_000)
    var lat: [Double] = []
    var q = QueryRequest(query: "rule.id: \(probeId)")
    q.fromTimeMs = startWall - 1000
    q.toTimeMs = Clock.nowMs() + 60_000
    q.limit = 1000
    var cursorsSeen = 0
    while cursorsSeen < 1000 {
        let page = try stack.client.call(service: "detection", method: "signals.search", q, as: SignalPage.self, timeoutMs: 30_000)
        for s in page.signals {
            guard let id = s.eventIds.first, id.count >= 12, let recv = Int64(id.prefix(12), radix: 16) else { continue }
            if recv >= startWall - 1000 { lat.append(Double(s.createdTimeMs - recv)) }
        }
        if page.nextCursor.isEmpty || page.signals.isEmpty { break }
        q.cursor = page.nextCursor
        cursorsSeen += 1
    }
    lat.sort()
    sendLate.sort()
    let p50 = percentile(lat, 0.50), p99 = percentile(lat, 0.99)
    print(String(format: "  sender: batches late against their slot p50 %.0f ms, p99 %.0f ms, max %.0f ms",
                 percentile(sendLate, 0.5), percentile(sendLate, 0.99), sendLate.last ?? -1))
    print(String(format: "  fixed rate: %d events at %d/s wanted, %.0f/s sent (%d batches failed, %d refused as busy and sent again); %d probe signals of %d: p50 %.0f ms, p99 %.0f ms, max %.0f ms",
                 sent, fixedRate, achieved, failed, busyResent, lat.count, ticks, p50, p99, lat.last ?? -1))
    return (p50, p99, lat.count, achieved)
}

// MARK: - Peers

/// SEC (Debian `sec`) over the sshd subset of the same dataset with the equivalent SSH brute-force
/// rule (bench/e2e/peers/ssh-brute-force.sec), installed by bench/e2e/peers/install-sec.sh.
func secPeer(vigil: RunResult, expected: Int) -> [(String, String)] {
    let peers = URL(fileURLWithPath: libraryDirectory()).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path + "/bench/e2e/peers"
    let install = Process()
    install.executableURL = URL(fileURLWithPath: "/bin/sh")
    install.arguments = [peers + "/install-sec.sh"]
    guard (try? install.run()) != nil else { print("\nSEC: cannot run the install script; skipped"); return [] }
    install.waitUntilExit()
    guard install.terminationStatus == 0 else { print("\nSEC: `apt-get install -y sec` failed; skipped"); return [] }
    let lines = dataset.sshLines.count
    var ru0 = rusage(), ru1 = rusage()
    getrusage(RUSAGE_CHILDREN.rawValue, &ru0)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/sec")
    p.arguments = ["--conf=" + peers + "/ssh-brute-force.sec", "--input=" + sshPath, "--notail", "--fromstart", "--log=/dev/null"]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    let t0 = Clock.monotonicMs()
    guard (try? p.run()) != nil else { print("\nSEC: cannot start /usr/bin/sec; skipped"); return [] }
    Interruption.track(p.processIdentifier)
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    Interruption.untrack(p.processIdentifier)
    let secs = max(0.001, Double(Clock.monotonicMs() - t0) / 1000)
    getrusage(RUSAGE_CHILDREN.rawValue, &ru1)
    func tv(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    let cpu = tv(ru1.ru_utime) - tv(ru0.ru_utime) + tv(ru1.ru_stime) - tv(ru0.ru_stime)
    let alerts = String(decoding: data, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("ALERT") }.count
    let rate = Double(lines) / secs
    let cpuPerM = cpu / Double(lines) * 1e6
    print(String(format: "\nSEC %@: %d sshd lines, 1 rule, in %.2f s = %.0f lines/s, %.1f CPU s per million lines; alerts %d (expected %d)",
                 "2.9", lines, secs, rate, cpuPerM, alerts, expected))
    print(String(format: "  Vigil/SEC: throughput %.2f× (Vigil: all formats, %d rules, stored and enriched; SEC: sshd lines only, 1 rule, nothing stored); events per CPU second %.2f×",
                 vigil.e2eRate / rate, vigil.rules, cpuPerM / max(0.001, vigil.cpuPerMillion)))
    return [("sec_lines_per_s", String(Int(rate))), ("sec_cpu_s_per_million", String(format: "%.1f", cpuPerM)),
            ("sec_alerts", String(alerts)), ("vigil_sec_throughput_ratio", String(format: "%.2f", vigil.e2eRate / rate)),
            ("vigil_sec_cpu_ratio", String(format: "%.2f", cpuPerM / max(0.001, vigil.cpuPerMillion)))]
}

/// pySigma's SQLite backend, the Zircolite approach, over the Windows JSON of the same dataset:
/// bench/e2e/peers/sigma_sqlite.py with the Sigma equivalents of the library's Windows match rules
/// (bench/e2e/peers/sigma/*.yml), installed from PyPI by bench/e2e/peers/install-pysigma.sh.
/// `vigil` is nil with --sigma-only (no stack run: no whole-pipeline ratio).
func pySigmaPeer(vigil: RunResult?, expected: Int) -> [(String, String)] {
    let peers = repositoryRoot() + "/bench/e2e/peers"
    guard installPySigma(peers) else { return [] }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", peers + "/sigma_sqlite.py", windowsPath, peers + "/sigma"]
    let out = Pipe()
    p.standardOutput = out
    guard (try? p.run()) != nil else { print("\npySigma: cannot start python3; skipped"); return [] }
    Interruption.track(p.processIdentifier)
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    Interruption.untrack(p.processIdentifier)
    guard p.terminationStatus == 0, let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
          let events = obj["events"] as? Int, events > 0 else { print("\npySigma: the script failed; skipped"); return [] }
    func d(_ k: String) -> Double { (obj[k] as? Double) ?? Double((obj[k] as? Int) ?? 0) }
    let matches = (obj["matches"] as? [String: Any]) ?? [:]
    let enc = (matches["encoded-powershell"] as? Int) ?? -1
    let cpu = d("cpu_load_s") + d("cpu_query_s")
    let wall = d("load_s") + d("query_s")
    let cpuPerM = cpu / Double(events) * 1e6
    let rate = Double(events) / max(0.001, wall)
    print(String(format: "\npySigma-SQLite: %d Windows events, %d Sigma rules: load %.2f s + query %.3f s (convert %.2f s, not counted) = %.0f events/s, %.1f CPU s per million events; encoded-powershell matches %d (expected %d)",
                 events, (obj["rules"] as? Int) ?? 0, d("load_s"), d("query_s"), d("convert_s"), rate, cpuPerM, enc, expected))
    var kv = [("pysigma_events_per_s", String(Int(rate))), ("pysigma_cpu_s_per_million", String(format: "%.1f", cpuPerM)),
              ("pysigma_encoded_powershell", String(enc))]
    if let vigil {
        print(String(format: "  Vigil/pySigma, whole pipeline: events per CPU second %.2f× (Vigil: whole pipeline, all formats, %d rules, stored; pySigma: Windows events only, in-memory SQLite, 13 rules)",
                     cpuPerM / max(0.001, vigil.cpuPerMillion), vigil.rules))
        kv.append(("vigil_pysigma_cpu_ratio", String(format: "%.2f", cpuPerM / max(0.001, vigil.cpuPerMillion))))
    }
    return kv
}

/// The repository checkout this binary was built in.
func repositoryRoot() -> String {
    URL(fileURLWithPath: libraryDirectory()).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
}

/// bench/e2e/peers/install-pysigma.sh (pySigma, its SQLite backend, the Sysmon/Windows pipelines).
func installPySigma(_ peers: String) -> Bool {
    let install = Process()
    install.executableURL = URL(fileURLWithPath: "/bin/sh")
    install.arguments = [peers + "/install-pysigma.sh"]
    guard (try? install.run()) != nil else { print("\npySigma: cannot run the install script; skipped"); return false }
    install.waitUntilExit()
    guard install.terminationStatus == 0 else { print("\npySigma: `pip install pysigma-backend-sqlite` failed; skipped"); return false }
    return true
}

/// The SigmaHQ checkout of the full-rule-set comparison: --sigma DIR, else ../shared/data/sigma
/// beside the repository (absent on a clean clone: that comparison is then skipped).
let sigmaDir = options.text("--sigma") ?? (URL(fileURLWithPath: repositoryRoot()).deletingLastPathComponent().path + "/shared/data/sigma")
let sigmaRuleCounts = options.counts("--sigma-rules") ?? [13, 100, 500]

/// The three pySigma comparisons: the 13-rule peer, Vigil with those 13 rules, the full SigmaHQ set.
func sigmaComparisons(vigil: RunResult?) -> [(String, String)] {
    let ps = dataset.expectations.first { $0.ruleFile == "sysmon-encoded-powershell" }?.signals ?? 0
    let py = pySigmaPeer(vigil: vigil, expected: ps)
    var kv = py
    kv += vigilSameSigma(pysigmaCpuPerMillion: py.first { $0.0 == "pysigma_cpu_s_per_million" }.flatMap { Double($0.1) }, expected: ps)
    if FileManager.default.fileExists(atPath: sigmaDir + "/rules") {
        kv += sigmaFullComparison(sigmaDir: sigmaDir, quick: quick, ruleCounts: sigmaRuleCounts)
    } else {
        print("\nFull SigmaHQ Windows rule set vs pySigma: no SigmaHQ checkout at \(sigmaDir) (--sigma DIR); skipped")
    }
    return kv
}

// MARK: - Main

if options.flag("--detection-only") {
    for n in ruleCounts { try detectionOnlyLatency(rules: n, rate: explicitRate ?? 10_000, seconds: fixedSeconds) }
    if !keep { try? FileManager.default.removeItem(atPath: root) } else { print("kept \(root)") }
    exit(0)
}

// Detection's engine alone, in this process, with each rule count's bundle over the dataset.
if options.flag("--detection-cpu") {
    let kv = ruleCounts.flatMap { detectionCPU(rules: $0) }
    if !keep { try? FileManager.default.removeItem(atPath: root) } else { print("kept \(root)") }
    print("RESULT " + kv.map { "\($0.0)=\($0.1)" }.joined(separator: " "))
    exit(0)
}

// Only the Sigma comparisons (pySigma's 13 rules, the full SigmaHQ set), without the stack.
if options.flag("--sigma-only") {
    let kv = sigmaComparisons(vigil: nil)
    if !keep { try? FileManager.default.removeItem(atPath: root) } else { print("kept \(root)") }
    print("RESULT " + kv.map { "\($0.0)=\($0.1)" }.joined(separator: " "))
    exit(0)
}

var results: [RunResult] = []
var allOK = true
for n in ruleCounts {
    let r = try run(rules: n, latency: n == latencyRules || (ruleCounts.count == 1))
    results.append(r)
    allOK = allOK && r.checksOK
}

print("\nrules   e2e ev/s   ingest ev/s   enrich ev/s   detect ev/s   p50 ms   p99 ms   CPU s/M ev   RSS MB (ingest/enrich/detect/broker)")
for r in results {
    print(String(format: "%5d  %9.0f  %12.0f  %12.0f  %12.0f  %7@  %7@  %11.1f   %.0f/%.0f/%.0f/%.0f", r.rules, r.e2eRate, r.ingestRate, r.enrichRate, r.detectRate,
                 r.p50 < 0 ? "-" : String(format: "%.0f", r.p50), r.p99 < 0 ? "-" : String(format: "%.0f", r.p99),
                 r.cpuPerMillion, r.rssMB["ingest"] ?? 0, r.rssMB["enrichment"] ?? 0, r.rssMB["detection"] ?? 0, r.rssMB["broker"] ?? 0))
}
print("expected signals: \(allOK ? "all as expected" : "MISMATCH (see FAIL lines)")")

// The RESULT line: the configuration with `latencyRules` rules (else the first) for the headline
// keys, plus e2e rate per rule count.
let head = results.first { $0.configured == latencyRules } ?? results.first { $0.p50 >= 0 } ?? results[0]
var kv: [(String, String)] = [
    ("e2e_events_per_s", String(Int(head.e2eRate))),
    ("p50_latency_ms", String(Int(head.p50))),
    ("p99_latency_ms", String(Int(head.p99))),
    ("latency_rate_events_per_s", String(Int(head.achievedRate))),
    ("ingest_events_per_s", String(Int(head.ingestRate))),
    ("enrichment_events_per_s", String(Int(head.enrichRate))),
    ("detection_events_per_s", String(Int(head.detectRate))),
]
for s in ["ingest", "enrichment", "detection", "broker"] { kv.append(("rss_mb_\(s)", String(Int((head.rssMB[s] ?? 0).rounded())))) }
kv.append(("cpu_s_per_million", String(format: "%.1f", head.cpuPerMillion)))
kv.append(("rules", String(head.rules)))
for r in results { kv.append(("e2e_events_per_s_\(r.configured)_rules", String(Int(r.e2eRate)))) }
if !options.flag("--no-peers") {
    let k = dataset.expectations.first { $0.ruleFile == "ssh-brute-force" }?.signals ?? 0
    kv += secPeer(vigil: head, expected: k)
    kv += saganPeer(vigil: head, expected: k)
    kv += sigmaComparisons(vigil: head)
}
kv.append(("signals_ok", allOK ? "1" : "0"))
if !keep { try? FileManager.default.removeItem(atPath: root) } else { print("kept \(root)") }
print("RESULT " + kv.map { "\($0.0)=\($0.1)" }.joined(separator: " "))
// The whole pipeline's event→signal latency (ingest receive → signal stored) under the name of
// the rate really sent; `--detection-only` prints detection's own figure (detection_p99_…).
if head.p99 >= 0 {
    let at = head.achievedRate >= 9_500 && head.achievedRate <= 10_500 ? "10k" : "\(Int(head.achievedRate))_per_s"
    print("RESULT e2e_p99_latency_ms_at_\(at)=\(Int(head.p99)) e2e_p50_latency_ms_at_\(at)=\(Int(head.p50)) latency_rules=\(head.rules) latency_probes=\(head.latencySamples)")
}

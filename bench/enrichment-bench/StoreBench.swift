import Foundation
import EnrichmentService
import VigilLog
import VigilParsers
import VigilService
import VigilWire
#if canImport(Glibc)
import Glibc
#endif

// `enrichment-bench --store [--events N] [--batch N] [--page-size N]`: the enrichment stage's whole per-event path
// in process — EnrichmentService.process over consumer batches of `events.parsed.*` envelopes
// (decode, enrich, store in the events table with its JSON columns, FTS5 index, encode, outbox
// append, commit, publish) on a fresh data dir, as vigil-enrichment runs it in e2e-bench. The
// events are the e2e-bench mix (35 % sshd, 30 % CEF, 15 % Linux auth, 20 % Windows/Sysmon JSON)
// parsed by the real parser chain beforehand. Prints `RESULT enrichment_store_events_per_s=…
// enrichment_store_cpu_us_per_event=… enrichment_store_kb_written_per_event=…` (process CPU,
// user + system, over the timed batches, the checkpointer thread's included as in the service;
// bytes handed to write/pwrite, this bench's own output included), and the same per 100,000 events.

func storeLines(_ n: Int) -> [String] {
    var s: UInt64 = 42
    func next(_ m: Int) -> Int {
        s &+= 0x9E3779B97F4A7C15
        var z = s
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return Int((z ^ (z >> 31)) % UInt64(m))
    }
    var out: [String] = []
    out.reserveCapacity(n)
    for i in 0..<n {
        let a = next(250) + 1, b = next(250) + 1, u = next(500), h = next(40), p = 1024 + next(60000), k = next(100)
        let ts = String(format: "Dec  5 %02d:%02d:%02d", (i / 3600) % 24, (i / 60) % 60, i % 60)
        let ms = 1_796_400_000_000 + Int64(i) * 20
        switch k {
        case ..<35: out.append("<38>\(ts) web\(h) sshd[\(2000 + next(30000))]: Accepted publickey for deploy\(u) from 10.1.\(a).\(b) port \(p) ssh2")
        case ..<65: out.append("<134>\(ts) fw01 CEF:0|Vigil|BenchFW|1.0|100|connection allowed|3|src=10.2.\(a).\(b) dst=172.16.\(next(250)).\(next(250) + 1) spt=\(p) dpt=443 proto=TCP act=allowed rt=\(ms)")
        case ..<72: out.append("<86>\(ts) db\(h) sudo: pam_unix(sudo:session): session opened for user root(uid=0) by alice\(u)(uid=\(1000 + u))")
        case ..<80: out.append("<78>\(ts) db\(h) CRON[\(3000 + next(30000))]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)")
        case ..<90: out.append(##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Security-Auditing"}},"EventID":4624,"Channel":"Security","Computer":"WS\##(h)","TimeCreated":{"#attributes":{"SystemTime":"2026-12-05T01:00:00.000Z"}}},"EventData":{"TargetUserName":"user\##(u)","TargetDomainName":"CORP","LogonType":"3","IpAddress":"10.3.\##(a).\##(b)","IpPort":"\##(p)"}}}"##)
        default: out.append(##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"WS\##(h)","TimeCreated":{"#attributes":{"SystemTime":"2026-12-05T01:00:00.000Z"}}},"EventData":{"Image":"C:\\Windows\\System32\\notepad.exe","CommandLine":"notepad.exe C:\\Users\\user\##(u)\\doc\##(i).txt","ParentImage":"C:\\Windows\\explorer.exe","User":"CORP\\user\##(u)","ProcessId":"\##(4 + next(60000))"}}}"##)
        }
    }
    return out
}

func cpuSeconds() -> Double {
    var ru = rusage()
    getrusage(RUSAGE_SELF.rawValue, &ru)
    return Double(ru.ru_utime.tv_sec) + Double(ru.ru_utime.tv_usec) / 1e6 + Double(ru.ru_stime.tv_sec) + Double(ru.ru_stime.tv_usec) / 1e6
}

/// The data dir's files and their sizes in MB ("enrichment.db 812, enrichment.db-wal 33").
func fileSizes(_ dir: String) -> String {
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    return names.compactMap { name -> String? in
        guard let a = try? FileManager.default.attributesOfItem(atPath: dir + "/" + name),
              let size = a[.size] as? NSNumber, (a[.type] as? FileAttributeType) == .typeRegular else { return nil }
        return "\(name) \(size.int64Value >> 20)"
    }.joined(separator: ", ")
}

func storeBench(events n: Int, batch: Int, pageSize: Int, keep: Bool) throws {
    let dir = NSTemporaryDirectory() + "enrichment-store-bench-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { if keep { print("kept \(dir)") } else { try? FileManager.default.removeItem(atPath: dir) } }
    let cfg = try RuntimeConfig.load(service: "enrichment", serviceKeys: EnrichmentService.keys,
                                     arguments: ["--data", dir, "--log-level", "warning", "--instance", "enrichment-bench-0",
                                                 "--store.page-size", String(pageSize)], environment: [:])
    let runtime = try ServiceRuntime(config: cfg)
    let service = try EnrichmentService(runtime: runtime)
    // Checkpoints on their own thread, as in the service (before, the WAL grew to the writer's
    // 512 MB backstop and its checkpoint made every other 100,000 events cost half again more).
    runtime.startBackgroundCheckpoints()
    defer { runtime.close() }

    let chain = ParserChain.standard
    var seqs: [String: UInt64] = [:]
    var envelopes: [StreamEnvelope] = []
    envelopes.reserveCapacity(n)
    let base: Int64 = 1_796_400_000_000
    for (i, line) in storeLines(n).enumerated() {
        var e = Event()
        let recv = base + Int64(i) * 20
        e.id = String(format: "%012llx%012llx", recv, UInt64(i))
        e.raw = Array(line.utf8)
        e.receivedTimeMs = recv
        e.source = "enrichment-bench"
        switch chain.parse(line, hint: nil, receivedAt: recv) {
        case .success(let p):
            e.format = p.format; e.fields = p.fields; e.original = p.vendor; e.parseStatus = .parsed
            e.eventTimeMs = p.timestamp ?? recv
        case .failure(let f):
            e.parseStatus = .unparsed; e.parseError = f.reason; e.eventTimeMs = recv
        }
        e.partition = UInt32(i % 16)
        var env = StreamEnvelope()
        env.producerId = "ingest-0"
        env.stream = "events.parsed.\(e.partition)"
        env.topic = env.stream
        env.sequence = (seqs[env.stream] ?? 0) + 1
        seqs[env.stream] = env.sequence
        env.payloadType = Event.typeName
        env.payload = e.encoded()
        env.producedTimeMs = recv
        envelopes.append(env)
    }
    // Warm-up batch (statements prepared, caches filled), then the timed batches.
    let warm = min(batch, n / 10)
    try service.processCommitted(Array(envelopes[0..<warm]))
    let cpu0 = cpuSeconds()
    let written0 = ProcessIO.bytesWritten()
    let t0 = DispatchTime.now().uptimeNanoseconds
    var i = warm
    // Per 100,000 events: the cost of the last ones, to see whether it grows with the store.
    var stepCPU = cpu0, stepWritten = written0, stepStart = warm
    while i < n {
        try service.processCommitted(Array(envelopes[i..<min(n, i + batch)]))
        i += batch
        if i / 100_000 != (i - batch) / 100_000 || i >= n {
            let c = cpuSeconds(), w = ProcessIO.bytesWritten(), k = Double(min(i, n) - stepStart)
            print(String(format: "  %7d events stored: last %.0f at %.1f CPU µs and %.1f KB written per event; files: %@",
                         min(i, n), k, (c - stepCPU) / k * 1e6, Double(w - stepWritten) / k / 1024, fileSizes(dir)))
            stepCPU = c; stepWritten = w; stepStart = min(i, n)
        }
    }
    let secs = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    // processCommitted runs the loop's full-text step, which counts its failures instead of
    // throwing: figures with failed steps would not be the store path's.
    if let failed = runtime.counters["fts.index_errors"], failed > 0 {
        throw NSError(domain: "enrichment-bench", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(failed) full-text step(s) failed; see the log"])
    }
    let cpu = cpuSeconds() - cpu0
    let written = Double(ProcessIO.bytesWritten() - written0)
    let timed = n - warm
    print(String(format: "stored %d events (batches of %d, %d-byte pages) in %.2f s, %.2f CPU s, %.1f KB written per event",
                 timed, batch, pageSize, secs, cpu, written / Double(timed) / 1024))
    print(String(format: "RESULT enrichment_store_events_per_s=%.0f enrichment_store_cpu_us_per_event=%.1f enrichment_store_kb_written_per_event=%.1f",
                 Double(timed) / secs, cpu / Double(timed) * 1e6, written / Double(timed) / 1024))
}

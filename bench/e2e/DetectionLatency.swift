import Foundation
import VigilBus
import VigilLog
import VigilParsers
import VigilService
import VigilWire

// `e2e-bench --detection-only`: detection's own event→signal latency at a fixed rate (default
// 10,000 events/s). Only the broker and detection run; this program plays enrichment: it parses
// the dataset's lines with the real parser chain, and publishes them as a reliable stream on
// `events.enriched.<p>` (outbox, replay and acks through ServiceRuntime, like a real producer).
// One probe event per 100 matches the probe rule; latency = signal stored by detection − the
// probe's publish time. The rest of the rule set is the same as the end-to-end runs.

func detectionOnlyLatency(rules n: Int, rate: Int, seconds: Int) throws {
    let dir = root + "/detection-only-\(n)"
    let stack = try Stack(dir: dir, detectionOnly: true)
    defer { stack.stop() }
    let rs = ruleSet(n)
    _ = try stack.client.call(service: "detection", method: "rules.import", RuleRequest(ruleJson: rs.bundle), as: RuleBundleMessage.self, timeoutMs: 60_000)
    print("\n== detection only: \(rs.count) active rules, \(rate) events/s for \(seconds) s, data in \(dir)")

    let cfg = try RuntimeConfig.load(service: "bench-feed", arguments: ["--data", dir, "--instance", "bench-feed-0", "--log-level", "warning"],
                                     environment: ProcessInfo.processInfo.environment.filter { $0.key == "VIGIL_STREAM_BATCH_PUBLISH" })
    let feed = try ServiceRuntime(config: cfg)
    let producer = try feed.enableProducer(maxOutboxRows: 50_000_000, batchStreamPrefixes: ["events.enriched."])

    // Pre-parsed and pre-encoded, so the feeder's pace is not limited by parsing.
    let perTick = max(1, rate / 100)
    let ticks = seconds * 100
    var r = SplitMix64(seed: seed ^ 0x5EED)
    let startMs = Clock.nowMs() + 2000
    var payloads: [[(String, [UInt8])]] = []
    payloads.reserveCapacity(ticks)
    var probeIds: [[String]] = []
    var probeN = 2_000_000
    let chain = ParserChain.standard
    for tick in 0..<ticks {
        let evMs = startMs + Int64(tick) * 10
        var batch: [(String, [UInt8])] = []
        var probes: [String] = []
        for k in 0..<perTick {
            let line: String
            var e = Event()
            if k == 0 { line = Dataset.probeLine(evMs, probeN); e.id = "probe-\(probeN)"; probes.append(e.id); probeN += 1 }
            else { line = Dataset.background(evMs, tick * perTick + k, &r).0; e.id = "bg-\(tick)-\(k)" }
            e.raw = Array(line.utf8)
            e.receivedTimeMs = evMs
            e.source = "detection-bench"
            switch chain.parse(line, hint: nil, receivedAt: evMs) {
            case .success(let p):
                e.format = p.format; e.fields = p.fields; e.original = p.vendor; e.parseStatus = .parsed
                e.eventTimeMs = p.timestamp ?? evMs
            case .failure(let f):
                e.parseStatus = .unparsed; e.parseError = f.reason; e.eventTimeMs = evMs
            }
            let part = (tick * perTick + k) % 16
            e.partition = UInt32(part)
            batch.append(("events.enriched.\(part)", e.encoded()))
        }
        payloads.append(batch)
        probeIds.append(probes)
    }

    var sentAt: [String: Int64] = [:]
    let base = stack.counter("detection", "processed")
    let cpu0 = procStat(stack.pid("detection")).cpuTicks
    let t0 = Clock.monotonicMs()
    var tick = 0
    while tick < ticks {
        let target = t0 + Int64(tick) * 10
        while Clock.monotonicMs() < target { feed.runOnce(timeoutMs: 1) }
        // When the feeder is late (a busy machine), the ticks that are due go in one transaction
        // so the rate holds; each probe's time is taken when it is published.
        var end = tick + 1
        while end < ticks && end < tick + 10 && Clock.monotonicMs() >= t0 + Int64(end) * 10 { end += 1 }
        try feed.db.transaction {
            for t in tick..<end {
                for (stream, payload) in payloads[t] {
                    try producer.append(stream: stream, topic: stream, payloadType: Event.typeName, payload: payload)
                }
            }
        }
        producer.publishCommitted()
        let now = Clock.nowMs()
        for t in tick..<end { for id in probeIds[t] { sentAt[id] = now } }
        feed.runOnce(timeoutMs: 0)
        tick = end
    }
    let sendSecs = Double(Clock.monotonicMs() - t0) / 1000
    let sent = ticks * perTick
    let achieved = Double(sent) / sendSecs
    // Keep serving replays and acks until detection has evaluated everything.
    let until = Clock.monotonicMs() + 120_000
    var lastCheck: Int64 = 0
    while Clock.monotonicMs() < until {
        feed.runOnce(timeoutMs: 20)
        if Clock.monotonicMs() - lastCheck >= 250 {
            lastCheck = Clock.monotonicMs()
            if stack.counter("detection", "processed") - base >= UInt64(sent) { break }
        }
    }
    let cpu = Double(procStat(stack.pid("detection")).cpuTicks - cpu0) / Double(clkTck)
    for _ in 0..<25 { feed.runOnce(timeoutMs: 20) }
    var lat: [Double] = []
    var q = QueryRequest(query: "rule.id: \(probeId)")
    q.limit = 1000
    for _ in 0..<1000 {
        let page = try stack.client.call(service: "detection", method: "signals.search", q, as: SignalPage.self, timeoutMs: 30_000)
        for s in page.signals {
            guard let id = s.eventIds.first, let t = sentAt[id] else { continue }
            lat.append(Double(s.createdTimeMs - t))
        }
        if page.nextCursor.isEmpty || page.signals.isEmpty { break }
        q.cursor = page.nextCursor
    }
    feed.close()
    lat.sort()
    let p50 = percentile(lat, 0.50), p99 = percentile(lat, 0.99)
    let evaluated = stack.counter("detection", "processed") - base
    print(String(format: "  sent %d events at %.0f/s (wanted %d/s); detection evaluated %d, %.1f CPU s (%.0f%% of a core); %d probe signals of %d: p50 %.0f ms, p99 %.0f ms, max %.0f ms",
                 sent, achieved, rate, evaluated, cpu, cpu / sendSecs * 100, lat.count, probeIds.joined().count, p50, p99, lat.last ?? -1))
    let at = achieved >= Double(rate) * 0.95 && rate == 10_000 ? "10k" : "\(Int(achieved))_per_s"
    print("RESULT detection_p99_latency_ms_at_\(at)=\(Int(p99)) detection_p50_latency_ms_at_\(at)=\(Int(p50)) detection_only_rules=\(rs.count) probes=\(lat.count) of=\(probeIds.joined().count)")
}

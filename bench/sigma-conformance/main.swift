import BenchSupport
import Foundation
import VigilImport
import VigilParsers
import VigilRules
import VigilSigma
import VigilWire
import VigilYAML

// sigma-conformance [--sigma DIR] [--verbose] [--seconds N]
// Converts a SigmaHQ checkout, runs its regression_data events through the converted rules,
// then measures events/s with every importable Windows rule active. Last line: RESULT …

let options = BenchOptions.parse(tool: "sigma-conformance", summary: """
    Converts a SigmaHQ checkout, runs its regression_data events through the converted rules, then
    measures events/s with every importable Windows rule active.
    """, options: [
    BenchOption("--sigma", .text, "the SigmaHQ checkout (default ../shared/data/sigma)", placeholder: "DIR"),
    BenchOption("--verbose", .flag, "print the rules the converter refused and each regression case that passed"),
    BenchOption("--seconds", .number, "length of the throughput measurement (default 3)", placeholder: "S"),
    BenchOption("--loops", .count, "a fixed number of passes instead of --seconds"),
])
let sigmaDir = options.text("--sigma") ?? FileManager.default.currentDirectoryPath + "/../shared/data/sigma"
let verbose = options.flag("--verbose")
let seconds = options.number("--seconds") ?? 3.0
let loops = options.count("--loops", default: 0)

func fail(_ m: String) -> Never { FileHandle.standardError.write(Data("sigma-conformance: \(m)\n".utf8)); exit(1) }

let fm = FileManager.default
let ruleDirs = ["rules", "rules-emerging-threats", "rules-threat-hunting"].map { sigmaDir + "/" + $0 }.filter { fm.fileExists(atPath: $0) }
let t0 = Date()
let files: [(String, String)]
do { files = try SigmaFiles.collect(ruleDirs.isEmpty ? [sigmaDir] : ruleDirs) } catch { fail("\(error)") }
let outcomes = SigmaConverter().convert(files)
let summary = SigmaSummary(outcomes)
for l in summary.lines { print(l) }
print(String(format: "conversion: %.1f s", Date().timeIntervalSince(t0)))
if verbose { for l in summary.refusalLines() { print(l) } }

var rulesById: [String: Rule] = [:]
for o in summary.imported { if case .success(let r) = o.result { rulesById[r.id] = r } }

func event(_ record: ParsedRecord, _ n: Int) -> Event {
    var e = Event()
    e.id = "ev-\(n)"
    e.format = record.format
    e.fields = record.fields
    e.original = record.vendor
    e.eventTimeMs = record.timestamp ?? 1_767_225_600_000
    e.receivedTimeMs = e.eventTimeMs
    e.parseStatus = .parsed
    return e
}

// Regression tests.
let parser = WindowsEventParser()
var passed = 0, total = 0
var allEvents: [Event] = []
if let walker = fm.enumerator(atPath: sigmaDir + "/regression_data") {
    var infos: [String] = []
    while let rel = walker.nextObject() as? String { if rel.hasSuffix("info.yml") { infos.append(rel) } }
    for rel in infos.sorted() {
        let path = sigmaDir + "/regression_data/" + rel
        let dir = (path as NSString).deletingLastPathComponent
        guard let text = fm.contents(atPath: path).map({ String(decoding: $0, as: UTF8.self) }),
              let doc = try? YAMLReader.documents(text).first else { total += 1; print("FAIL \(rel): info.yml unreadable"); continue }
        var ruleIds: [String] = []
        if case .sequence(let metas, _)? = doc["rule_metadata"] { ruleIds = metas.compactMap { $0["id"]?.scalarText?.lowercased() } }
        var want = 1
        // info.yml without regression_tests_info (commented out upstream) declares no test.
        guard case .sequence(let tests, _)? = doc["regression_tests_info"], !tests.isEmpty else { continue }
        if let m = tests.first?["match_count"]?.scalarText, let n = Int(m) { want = n }
        for rid in ruleIds {
            total += 1
            let jsonPath = dir + "/" + rid + ".json"
            guard let jt = fm.contents(atPath: jsonPath).map({ String(decoding: $0, as: UTF8.self) }) else {
                print("FAIL \(rid): no event file"); continue
            }
            var events: [Event] = []
            for (k, obj) in RecordSplitter.records(in: Array(jt.utf8)).map({ String(decoding: $0.bytes, as: UTF8.self) }).enumerated() {
                let flat = obj.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).joined(separator: " ")
                if case .success(let r)? = parser.parse(flat, receivedAt: 0) { events.append(event(r, allEvents.count + k)) }
            }
            allEvents += events
            guard let rule = rulesById[rid] else {
                let why = outcomes.first { $0.sigmaId == rid }.map { o -> String in if case .failure(let e) = o.result { return "\(e)" }; return "?" } ?? "rule not found"
                print("FAIL \(rid): not imported (\(why))"); continue
            }
            let engine = DetectionEngine()
            do { try engine.upsert(rule, forceActive: true) } catch { print("FAIL \(rid): \(error)"); continue }
            var hits = 0
            for e in events { hits += engine.process(e, nowMs: e.eventTimeMs).count }
            if hits >= want && !events.isEmpty { passed += 1; if verbose { print("pass \(rid) \(hits)/\(want)") } } else {
                print("FAIL \(rid) (\(rule.name)): \(hits) matches of \(want) over \(events.count) events")
            }
        }
    }
}
print("regression: \(passed)/\(total) passed")

// Speed: every importable Windows rule active, the regression events on a loop.
let windowsRules = rulesById.values.filter { $0.logSources.contains("windows") }
let engine = DetectionEngine()
for r in windowsRules { try? engine.upsert(r, forceActive: true) }
var processed = 0, signals = 0
/// Order-independent digest of the signal ids raised (rule + event): the same rules must fire on
/// the same events before and after an engine change (compare with the same --loops).
var digest: UInt64 = 0
/// Over the contiguous UTF-8 (iterating `String.utf8` costs ~1,500 instructions per event here,
/// measured with the engine).
func fnv(_ s: String) -> UInt64 {
    var s = s
    return s.withUTF8 { bytes in
        var h: UInt64 = 14_695_981_039_346_656_037
        for b in bytes { h = (h ^ UInt64(b)) &* 1_099_511_628_211 }
        return h
    }
}
/// One pass over the events, as the detection service handles them before storing: the engine,
/// then the wire Signal of each hit (DetectionService.process → SignalBuilder.signal).
/// A function of its own so a profiler can be limited to it
/// (`valgrind --tool=callgrind --toggle-collect='*speedRound*'`).
@MainActor @inline(never) func speedRound(_ engine: DetectionEngine, _ events: [Event], _ time: inout Int64) {
    for var e in events {
        time += 1
        e.eventTimeMs = time
        for hit in engine.process(e, nowMs: time) {
            let s = SignalBuilder.signal(hit, nowMs: time)
            signals += 1
            digest &+= fnv(s.id)
        }
    }
}
if !allEvents.isEmpty {
    _ = engine.advance(to: 0)  // builds the index and prefilter outside the measurement
    let start = Date()
    let cpuStart = clock()
    var time: Int64 = 1_767_225_600_000
    var round = 0
    while loops > 0 ? round < loops : Date().timeIntervalSince(start) < seconds {
        round += 1
        speedRound(engine, allEvents, &time)
        processed += allEvents.count
    }
    let rate = Double(processed) / Date().timeIntervalSince(start)
    let cpuRate = Double(processed) / (Double(clock() - cpuStart) / Double(CLOCKS_PER_SEC))
    if verbose {
        var costs: [(Double, Int)] = []
        for (k, e) in allEvents.enumerated() {
            let t = Date(); for _ in 0..<5 { _ = engine.process(e, nowMs: time) }
            costs.append((Date().timeIntervalSince(t) / 5, k))
        }
        if !costs.isEmpty {
            var per: [(Double, String)] = []
            for r in windowsRules {
                let one = DetectionEngine()
                try? one.upsert(r, forceActive: true)
                _ = one.advance(to: time)
                let t = Date(); for e in allEvents { _ = one.process(e, nowMs: time) }
                per.append((Date().timeIntervalSince(t) / Double(allEvents.count), r.id + " " + r.name))
            }
            for (c, n) in per.sorted(by: { $0.0 > $1.0 }).prefix(15) { print(String(format: "slow rule %.1f µs/event %@", c * 1e6, n)) }
        }
        for (c, k) in costs.sorted(by: { $0.0 > $1.0 }).prefix(8) {
            let e = allEvents[k]
            print(String(format: "slow event %d: %.0f µs EventID %@ %d bytes", k, c * 1e6, e.original["EventID"] ?? "?", e.original.values.reduce(0) { $0 + $1.utf8.count }))
        }
    }
    print(String(format: "speed: %.0f events/s per CPU second (wall clock: %.0f events/s) with %d Windows rules active (%d events, %d signals, %.1f candidate rules/event, %.1f evaluated)",
                 cpuRate, rate, engine.activeRuleCount, processed, signals, Double(engine.counters["candidates"] ?? 0) / Double(max(processed, 1)), Double(engine.counters["evaluated"] ?? 0) / Double(max(processed, 1))))
}
if !allEvents.isEmpty { print(String(format: "signals: %.4f per event, digest %016llx (%d rounds)", Double(signals) / Double(max(processed, 1)), digest, processed / allEvents.count)) }
print("RESULT rules_found=\(summary.found) imported=\(summary.imported.count) refused=\(summary.refused.count) regression_passed=\(passed) regression_total=\(total)")
if verbose {
    for r in windowsRules {
        guard case .match(let c, _) = r.detection, let p = try? Predicate.parse(condition: c), !p.hasLiteralGuard else { continue }
        print("unguarded \(r.id) \(r.name): \(c.prefix(300))")
    }
}

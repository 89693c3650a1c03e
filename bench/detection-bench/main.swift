import BenchSupport
import Foundation
import VigilRules
import VigilWire

// Detection engine throughput with 10, 100 and 1000 active rules, in process (no bus, no
// SQLite): the cost of indexing and evaluation only. Rules look like a real library: most
// key on a literal event.code/event.action, a few (5) have no literal and run on every
// event of their log source. Prints `RESULT detection_events_per_s_<n>=…`.

let options = BenchOptions.parse(tool: "detection-bench", summary: """
    Detection engine throughput with 10, 100 and 1000 active rules, in process (no bus, no SQLite).
    """, options: [BenchOption("--events", .positive, "events evaluated per rule count (default 200,000; BENCH_EVENTS also sets it)")])

let formats = ["windows", "linux-auth", "pfsense"]

func makeRule(_ i: Int) -> Rule {
    let id = String(format: "00000000-0000-4000-8000-%012d", i)
    let code = 4000 + i
    let detection: Detection
    switch i % 4 {
    case 0: detection = .match(condition: "event.code: \(code) and user.name: adm*", groupBy: [])
    case 1: detection = .threshold(condition: "event.code: \(code) and event.outcome: failure", count: 5, groupBy: ["user.name"], windowMs: 300_000)
    case 2: detection = .distinct(condition: "event.code: \(code)", field: "destination.port", count: 10, groupBy: ["source.ip"], windowMs: 60_000)
    default: detection = .sequence(steps: [SequenceStep(condition: "event.code: \(code) and event.outcome: failure", count: 3),
                                            SequenceStep(condition: "event.code: \(code) and event.outcome: success")],
                                    groupBy: ["user.name"], windowMs: 600_000)
    }
    var r = Rule(id: id, name: "bench rule \(i)", detection: detection)
    r.status = .active
    r.logSources = [formats[i % formats.count]]
    return r
}

/// Rules without an indexable literal: evaluated on every event of their format.
func unindexed(_ i: Int) -> Rule {
    var r = Rule(id: String(format: "00000000-0000-4000-9000-%012d", i), name: "scan \(i)",
                 detection: .match(condition: "process.command_line: mimikatz\(i) or user.name: evil\(i)", groupBy: []))
    r.status = .active
    r.logSources = [formats[i % formats.count]]
    return r
}

func makeEvents(_ n: Int) -> [Event] {
    var rng = SystemRandomNumberGenerator()
    let t0: Int64 = 1_767_225_600_000
    return (0..<n).map { k in
        var e = Event()
        e.id = "e\(k)"
        e.eventTimeMs = t0 + Int64(k) * 2
        e.format = formats[Int.random(in: 0..<formats.count, using: &rng)]
        e.parseStatus = .parsed
        e.fields = ["event.code": String(4000 + Int.random(in: 0..<2000, using: &rng)),
                    "event.outcome": Bool.random(using: &rng) ? "failure" : "success",
                    "event.category": "authentication",
                    "user.name": Int.random(in: 0..<10, using: &rng) == 0 ? "admin" : "user\(Int.random(in: 0..<20, using: &rng))",
                    "source.ip": "10.0.\(Int.random(in: 0..<20, using: &rng)).\(Int.random(in: 1..<250, using: &rng))",
                    "destination.port": String(Int.random(in: 1..<1024, using: &rng)),
                    "process.command_line": "C:\\Windows\\system32\\svchost.exe -k netsvcs"]
        return e
    }
}

let eventCount = options.count("--events") ?? Int(ProcessInfo.processInfo.environment["BENCH_EVENTS"] ?? "") ?? 200_000
let events = makeEvents(eventCount)
var results: [String] = []
for n in [10, 100, 1000] {
    let engine = DetectionEngine()
    do {
        for i in 0..<(n - 5) { try engine.upsert(makeRule(i)) }
        for i in 0..<5 { try engine.upsert(unindexed(i)) }
    } catch {
        FileHandle.standardError.write(Data("rule does not compile: \(error)\n".utf8))
        exit(1)
    }
    var signals = 0
    let start = Date()
    for e in events { signals += engine.process(e, nowMs: e.eventTimeMs).count }
    let seconds = Date().timeIntervalSince(start)
    let eps = Int(Double(events.count) / seconds)
    let cand = Double(engine.counters["candidates"] ?? 0) / Double(events.count)
    print(String(format: "rules=%4d  events=%d  %.2fs  %d events/s  signals=%d  rules evaluated per event=%.2f  groups=%d",
                 n, events.count, seconds, eps, signals, cand, engine.groupCount))
    results.append("detection_events_per_s_\(n)=\(eps)")
}
print("RESULT " + results.joined(separator: " "))

import Foundation
import VigilParsers
import VigilRules
import VigilWire

/// `--detection-cpu`: the detection engine in this process with the end-to-end run's rule bundle
/// for `rules` (the same `ruleSet`), over the dataset's lines parsed by the standard parser chain.
/// Measures CPU per event for decoding the event's bytes plus evaluating (what the service's loop
/// does per event, minus the bus and SQLite), and for evaluating alone; prints how many rules
/// the index and prefilter left to evaluate per event. No stack is started.
func detectionCPU(rules n: Int) -> [(String, String)] {
    let set = ruleSet(n)
    var options = EngineOptions()
    options.latenessMs = 24 * 3_600_000
    let engine = DetectionEngine(options: options)
    for r in set.rules { try? engine.upsert(r) }
    _ = engine.advance(to: 0)   // index and prefilter built outside the measurement
    let chain = ParserChain.standard
    let start = Int64(Date().timeIntervalSince1970 * 1000) - 86_400_000
    let events = dataset.lines.enumerated().map { sigmaBenchEvent(chain, $0.element, $0.offset, start + Int64($0.offset)) }
    let encoded = events.map { $0.encoded() }
    var time = start
    var signals = 0
    // Decode + evaluate, as the service's loop does per event.
    let (decodeCPU, decodeRounds) = cpuRounds(minCPU: 1.0, maxRounds: 1000) { _ in
        for b in encoded {
            guard var e = try? Event(decoding: b) else { continue }
            time += 1
            e.eventTimeMs = time
            signals += engine.process(e, nowMs: time).count
        }
    }
    let before = engine.counters
    let (cpu, rounds) = cpuRounds(minCPU: 1.0, maxRounds: 1000) { _ in
        for var e in events {
            time += 1
            e.eventTimeMs = time
            signals += engine.process(e, nowMs: time).count
        }
    }
    let after = engine.counters
    func delta(_ k: String) -> Double { Double((after[k] ?? 0) - (before[k] ?? 0)) }
    let evaluated = delta("evaluated") / max(1, delta("events"))
    let usDecode = decodeCPU / Double(decodeRounds * encoded.count) * 1e6
    let us = cpu / Double(rounds * events.count) * 1e6
    print(String(format: "detection in process, %d active rules: %d events × %d rounds; decode + evaluate %.2f CPU µs per event, evaluate alone %.2f; %.2f rules evaluated per event; %d signals",
                 set.count, events.count, rounds, usDecode, us, evaluated, signals))
    return [("detection_cpu_us_per_event_\(n)_rules", String(format: "%.2f", usDecode)),
            ("detection_eval_cpu_us_per_event_\(n)_rules", String(format: "%.2f", us)),
            ("detection_rules_evaluated_per_event_\(n)_rules", String(format: "%.2f", evaluated))]
}

import Foundation
import VigilLog
import VigilParsers
import VigilRules
import VigilSigma
import VigilWire
#if canImport(Glibc)
import Glibc
#endif

// The pySigma peer's own rules in Vigil: the 13 Sigma files of bench/e2e/peers/sigma imported with
// VigilSigma (what `vigil rules import-sigma` does) and run by the detection engine in this process
// over the same Windows JSON lines (windows.jsonl), like bench/sigma-conformance. Counted, to match
// what pySigma's figure counts (load = parse the JSON into rows, query = run the rules): parsing each
// line with the real parser chain into an Event, and evaluating the 13 rules on it. Detection alone is
// printed too. Nothing is stored on either side.

func processCPUSeconds() -> Double {
    var ru = rusage()
    getrusage(RUSAGE_SELF.rawValue, &ru)
    return Double(ru.ru_utime.tv_sec) + Double(ru.ru_utime.tv_usec) / 1e6 + Double(ru.ru_stime.tv_sec) + Double(ru.ru_stime.tv_usec) / 1e6
}

func vigilSameSigma(pysigmaCpuPerMillion: Double?, expected: Int) -> [(String, String)] {
    let peers = URL(fileURLWithPath: libraryDirectory()).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path + "/bench/e2e/peers"
    let files: [(String, String)]
    do { files = try SigmaFiles.collect([peers + "/sigma"]) } catch { print("\nVigil with the Sigma rules: \(error); skipped"); return [] }
    var rules: [Rule] = []
    var encodedId = ""
    for o in SigmaConverter().convert(files) {
        switch o.result {
        case .success(let r):
            rules.append(r)
            if o.file.hasSuffix("encoded-powershell.yml") { encodedId = r.id }
        case .failure(let e): print("  Sigma rule \(o.file) refused: \(e)")
        }
    }
    let lines = dataset.lines.filter { $0.hasPrefix("{") }
    guard !rules.isEmpty, !lines.isEmpty else { print("\nVigil with the Sigma rules: no rules or no Windows events; skipped"); return [] }
    let chain = ParserChain.standard
    func event(_ line: String, _ n: Int, _ t: Int64) -> Event { sigmaBenchEvent(chain, line, n, t) }
    let engine = DetectionEngine()
    for r in rules { try? engine.upsert(r, forceActive: true) }
    _ = engine.advance(to: 0)   // index and prefilter built outside the measurement
    // Rounds over the same lines until at least a CPU second is counted (one round of the quick
    // dataset is a fraction of that); event times move on so windows behave as in a stream.
    var time: Int64 = Clock.nowMs()
    var encoded = 0, processed = 0, rounds = 0
    let c0 = processCPUSeconds()
    repeat {
        for (n, line) in lines.enumerated() {
            time += 1
            for h in engine.process(event(line, n, time), nowMs: time) where rounds == 0 && h.rule.id == encodedId { encoded += 1 }
        }
        processed += lines.count
        rounds += 1
    } while processCPUSeconds() - c0 < 1.0 && rounds < 1000
    let cpu = processCPUSeconds() - c0
    // Detection alone: the same events parsed beforehand.
    let events = lines.enumerated().map { event($0.element, $0.offset, 0) }
    let d0 = processCPUSeconds()
    var dProcessed = 0
    repeat {
        for var e in events { time += 1; e.eventTimeMs = time; _ = engine.process(e, nowMs: time) }
        dProcessed += events.count
    } while processCPUSeconds() - d0 < 1.0 && dProcessed < 100_000_000
    let dCpu = processCPUSeconds() - d0
    let cpuPerM = cpu / Double(processed) * 1e6
    let detectPerM = dCpu / Double(dProcessed) * 1e6
    print(String(format: "\nVigil with the same %d Sigma rules (VigilSigma import, detection engine in process): %d Windows events × %d rounds, parse + detect %.1f CPU s per million events (%.0f events per CPU second), detection alone %.1f; encoded-powershell matches %d (expected %d)",
                 rules.count, lines.count, rounds, cpuPerM, 1e6 / cpuPerM, detectPerM, encoded, expected))
    var kv: [(String, String)] = [("vigil_sigma_cpu_s_per_million", String(format: "%.1f", cpuPerM)),
                                  ("vigil_sigma_detect_cpu_s_per_million", String(format: "%.1f", detectPerM)),
                                  ("vigil_sigma_encoded_powershell", String(encoded))]
    if let py = pysigmaCpuPerMillion, py > 0 {
        print(String(format: "  Vigil/pySigma, same rules and events: events per CPU second %.2f× (parse + detect vs pySigma's load + query; nothing stored on either side)", py / cpuPerM))
        kv.append(("vigil_pysigma_same_rules_cpu_ratio", String(format: "%.2f", py / cpuPerM)))
    }
    return kv
}

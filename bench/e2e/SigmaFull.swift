import BenchSupport
import Foundation
import VigilLog
import VigilImport
import VigilParsers
import VigilRules
import VigilSigma
import VigilWire

// The realistic pySigma comparison: the whole SigmaHQ Windows rule set (what Zircolite runs), the
// same rules on both sides, the same events. Rules: the Windows rules of a SigmaHQ checkout
// (--sigma DIR, default ../shared/data/sigma next to the repository) that pySigma's SQLite backend
// converts (bench/e2e/peers/sigma_sqlite_full.py, with Zircolite's sysmon + windows-logsources
// pipelines) AND VigilSigma imports. Events: the checkout's regression events (evtx_dump JSON that
// fire its rules), repeated, plus the dataset's Windows lines — one JSONL file read by both sides.
// Counted as in the 13-rule comparison: pySigma load + query CPU (conversion printed, not counted);
// Vigil parse + detect CPU in rounds over the lines until 1 CPU s (2 in the full run) is counted, and detection
// alone. Matches are compared rule by rule on the first round.

/// The evtx_dump objects of one regression file (pretty-printed objects back to back, split as
/// `vigil import` splits them), each as one line: the text of each line trimmed and joined (a
/// JSON string cannot span lines, so this keeps every value as it is).
func regressionLines(_ data: Data) -> [String] {
    RecordSplitter.records(in: Array(data)).map { r in
        String(decoding: r.bytes, as: UTF8.self).split(whereSeparator: { $0 == "\n" || $0 == "\r" })
            .map { $0.trimmingCharacters(in: .whitespaces) }.joined()
    }
}

/// One line through the parser chain into an Event (both Sigma comparisons).
func sigmaBenchEvent(_ chain: ParserChain, _ line: String, _ n: Int, _ t: Int64) -> Event {
    var e = Event()
    e.id = "s-\(n)"
    e.raw = Array(line.utf8)
    e.receivedTimeMs = t
    switch chain.parse(line, hint: nil, receivedAt: t) {
    case .success(let p):
        e.format = p.format; e.fields = p.fields; e.original = p.vendor; e.parseStatus = .parsed
        e.eventTimeMs = p.timestamp ?? t
    case .failure(let f):
        e.parseStatus = .unparsed; e.parseError = f.reason; e.eventTimeMs = t
    }
    return e
}

/// Runs `body` in rounds until `minCPU` CPU seconds are counted; returns (CPU seconds, rounds).
func cpuRounds(minCPU: Double, maxRounds: Int = 100_000, _ body: (Int) -> Void) -> (Double, Int) {
    let c0 = processCPUSeconds()
    var rounds = 0
    repeat { body(rounds); rounds += 1 } while processCPUSeconds() - c0 < minCPU && rounds < maxRounds
    return (processCPUSeconds() - c0, rounds)
}

func sigmaFullComparison(sigmaDir: String, quick: Bool, ruleCounts: [Int]) -> [(String, String)] {
    let fm = FileManager.default
    let dirs = ["rules", "rules-emerging-threats", "rules-threat-hunting"].map { sigmaDir + "/" + $0 }.filter { fm.fileExists(atPath: $0) }
    guard !dirs.isEmpty else { print("\nFull SigmaHQ Windows rule set vs pySigma: \(sigmaDir) has no SigmaHQ rules; skipped"); return [] }
    let peers = repositoryRoot() + "/bench/e2e/peers"
    guard installPySigma(peers) else { return [] }

    // Vigil's import (what `vigil rules import-sigma` does).
    let tc = Clock.monotonicMs()
    let files: [(String, String)]
    do { files = try SigmaFiles.collect(dirs) } catch { print("\nFull SigmaHQ rule set: \(error); skipped"); return [] }
    let prefix = (sigmaDir as NSString).standardizingPath + "/"
    func rel(_ p: String) -> String { let s = (p as NSString).standardizingPath; return s.hasPrefix(prefix) ? String(s.dropFirst(prefix.count)) : s }
    var vigilRules: [String: Rule] = [:]   // relative path → rule
    for o in SigmaConverter().convert(files) {
        if case .success(let r) = o.result, r.logSources.contains("windows") { vigilRules[rel(o.file)] = r }
    }
    let vigilImportS = Double(Clock.monotonicMs() - tc) / 1000

    // Events: regression events × copies, then the dataset's Windows lines (4 per regression line).
    var regression: [String] = []
    if let walker = fm.enumerator(atPath: sigmaDir + "/regression_data") {
        var paths: [String] = []
        while let r = walker.nextObject() as? String { if r.hasSuffix(".json") { paths.append(r) } }
        for p in paths.sorted() {
            if let d = fm.contents(atPath: sigmaDir + "/regression_data/" + p) { regression += regressionLines(d) }
        }
    }
    let copies = quick ? 4 : 20
    let generated = dataset.lines.filter { $0.hasPrefix("{") }
    var lines: [String] = []
    let genWanted = regression.count * copies * 4
    var g = 0
    for _ in 0..<copies {
        lines += regression
        let n = min(generated.count - g, regression.count * 4)
        if n > 0 { lines += generated[g..<(g + n)]; g += n }
    }
    let path = root + "/sigma-full.jsonl"
    let listPath = root + "/sigma-full-vigil-rules.txt"
    // The regression events alone (the rich ones: many fields, many rules fire), measured apart.
    let regressionOnly = Array(repeating: regression, count: copies).flatMap { $0 }
    let regressionPath = root + "/sigma-full-regression.jsonl"
    do {
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        try (regressionOnly.joined(separator: "\n") + "\n").write(toFile: regressionPath, atomically: false, encoding: .utf8)
        try (vigilRules.keys.sorted().joined(separator: "\n") + "\n").write(toFile: listPath, atomically: false, encoding: .utf8)
    } catch { print("\nFull SigmaHQ rule set: cannot write \(path): \(error); skipped"); return [] }

    // pySigma.
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", peers + "/sigma_sqlite_full.py", path, sigmaDir, listPath, "--subset", regressionPath,
                   "--counts", ruleCounts.map(String.init).joined(separator: ",")]
    let out = Pipe()
    p.standardOutput = out
    let tp = Clock.monotonicMs()
    guard (try? p.run()) != nil else { print("\nFull SigmaHQ rule set: cannot start python3; skipped"); return [] }
    Interruption.track(p.processIdentifier)
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    Interruption.untrack(p.processIdentifier)
    let pyWall = Double(Clock.monotonicMs() - tp) / 1000
    guard p.terminationStatus == 0, let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
          let events = obj["events"] as? Int, events == lines.count, let perRule = obj["rules"] as? [[Any]] else {
        print("\nFull SigmaHQ rule set: sigma_sqlite_full.py failed; skipped"); return []
    }
    func d(_ k: String) -> Double { (obj[k] as? Double) ?? Double((obj[k] as? Int) ?? 0) }
    func i(_ k: String) -> Int { (obj[k] as? Int) ?? 0 }
    // Per rule, in the order pySigma ran them: (path, query CPU, matched line indexes or nil on a query error).
    var common: [(path: String, cpu: Double, rows: Set<Int>?)] = []
    for r in perRule {
        guard r.count == 3, let name = r[0] as? String else { continue }
        let cpu = (r[1] as? Double) ?? 0
        common.append((name, cpu, (r[2] as? [Int]).map(Set.init)))
    }
    let pyCPU = d("cpu_load_s") + d("cpu_query_s")
    let pyPerM = pyCPU / Double(events) * 1e6
    let rules = common.compactMap { vigilRules[$0.path] }
    guard rules.count == common.count, !rules.isEmpty else { print("\nFull SigmaHQ rule set: rule lists differ between the sides; skipped"); return [] }

    // Vigil: the same rules, the same lines.
    let chain = ParserChain.standard
    let engine = DetectionEngine()
    for r in rules { try? engine.upsert(r, forceActive: true) }
    _ = engine.advance(to: 0)   // index and prefilter built outside the measurement
    var time: Int64 = Clock.nowMs()
    var vigilRows: [String: Set<Int>] = [:]   // rule id → line indexes (first round)
    var processed = 0
    let (cpu, rounds) = cpuRounds(minCPU: quick ? 1.0 : 2.0) { round in
        for (n, line) in lines.enumerated() {
            time += 1
            let hits = engine.process(sigmaBenchEvent(chain, line, n, time), nowMs: time)
            if round == 0 { for h in hits { vigilRows[h.rule.id, default: []].insert(n) } }
        }
        processed += lines.count
    }
    let parsed = lines.enumerated().map { sigmaBenchEvent(chain, $0.element, $0.offset, 0) }
    var dProcessed = 0
    let (dCpu, _) = cpuRounds(minCPU: quick ? 1.0 : 2.0) { _ in
        for var e in parsed { time += 1; e.eventTimeMs = time; _ = engine.process(e, nowMs: time) }
        dProcessed += parsed.count
    }
    var rProcessed = 0
    let (rCpu, _) = cpuRounds(minCPU: quick ? 0.5 : 1.0) { _ in
        for (n, line) in regressionOnly.enumerated() { time += 1; _ = engine.process(sigmaBenchEvent(chain, line, n, time), nowMs: time) }
        rProcessed += regressionOnly.count
    }
    let vPerM = cpu / Double(processed) * 1e6
    let vDetectPerM = dCpu / Double(dProcessed) * 1e6
    let vRegPerM = rCpu / Double(rProcessed) * 1e6
    let ratio = pyPerM / vPerM
    var pyRegPerM: Double?
    if let sub = obj["subset"] as? [String: Any], let n = sub["events"] as? Int, n > 0 {
        pyRegPerM = (((sub["cpu_load_s"] as? Double) ?? 0) + ((sub["cpu_query_s"] as? Double) ?? 0)) / Double(n) * 1e6
    }

    print(String(format: "\nFull SigmaHQ Windows rule set, same rules and events (%@): %d Windows rules found, %d converted by pySigma (pipelines: %@; refused %@), %d imported by Vigil, %d common",
                 sigmaDir, i("found"), i("converted"), (obj["pipelines"] as? String) ?? "?",
                 ((obj["convert_errors"] as? [String: Int]) ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "),
                 i("vigil_imported_found"), common.count))
    for (k, what) in [("only_pysigma", "converted by pySigma, refused by Vigil"), ("only_vigil", "imported by Vigil, refused by pySigma")] {
        let l = (obj[k] as? [String]) ?? []
        if !l.isEmpty { print("  \(what): \(l.count) (" + l.prefix(quick ? 3 : 8).map { ($0 as NSString).lastPathComponent }.joined(separator: ", ") + (l.count > (quick ? 3 : 8) ? ", …" : "") + ")") }
    }
    print(String(format: "  events: %d lines = %d regression events × %d + %d of the dataset's Windows lines%@",
                 lines.count, regression.count, copies, g, g < genWanted ? " (all there were)" : ""))
    print(String(format: "  pySigma-SQLite: load %.2f + query %.2f CPU s (conversion %.1f CPU s, not counted; run %.0f s wall) = %.0f CPU s per million events (%.0f events per CPU second)",
                 d("cpu_load_s"), d("cpu_query_s"), d("cpu_convert_s"), pyWall, pyPerM, 1e6 / pyPerM))
    let fixed = d("cpu_fixed_s")
    let pyMarginalPerM = (pyCPU - fixed) / Double(events) * 1e6
    print(String(format: "    of which %.2f CPU s is fixed per run (every query over an empty table: preparation, empty scan); beyond it %.0f CPU s per million events",
                 fixed, pyMarginalPerM))
    print(String(format: "  Vigil (VigilSigma import %.1f s wall, detection engine in process): %d rounds, parse + detect %.1f CPU s per million events (%.0f events per CPU second), detection alone %.1f",
                 vigilImportS, rounds, vPerM, 1e6 / vPerM, vDetectPerM))
    print(String(format: "  Vigil/pySigma, full rule set: events per CPU second %.1f× (parse + detect vs load + query), %.1f× detection alone; %.1f× without pySigma's fixed part",
                 ratio, pyPerM / vDetectPerM, pyMarginalPerM / vPerM))
    if let r = pyRegPerM {
        print(String(format: "  the regression events alone (%d lines): pySigma %.0f CPU s per million (%.0f without the fixed part), Vigil parse + detect %.1f: %.1f× (%.1f×)",
                     regressionOnly.count, r, r - fixed / Double(regressionOnly.count) * 1e6, vRegPerM, r / vRegPerM, (r - fixed / Double(regressionOnly.count) * 1e6) / vRegPerM))
    }

    // Matches, rule by rule (first round of Vigil vs pySigma's one pass).
    var pyPairs = 0, vPairs = 0, both = 0, pyRules = 0, vRules = 0, queryFailed = 0
    var diffs: [(String, Int, Int, Int)] = []   // path, pySigma, Vigil, both
    for (k, c) in common.enumerated() {
        let v = vigilRows[rules[k].id] ?? []
        guard let py = c.rows else { queryFailed += 1; continue }
        pyPairs += py.count; vPairs += v.count
        let b = py.intersection(v).count
        both += b
        if !py.isEmpty { pyRules += 1 }
        if !v.isEmpty { vRules += 1 }
        if py != v { diffs.append((c.path, py.count, v.count, b)) }
    }
    print("  matches (rule, event): pySigma \(pyPairs) by \(pyRules) rules, Vigil \(vPairs) by \(vRules) rules, both \(both); rules whose matches differ: \(diffs.count)" + (queryFailed > 0 ? "; \(queryFailed) pySigma queries failed" : ""))
    for (path, py, v, b) in diffs.sorted(by: { abs($0.1 - $0.2) > abs($1.1 - $1.2) }).prefix(quick ? 6 : 12) {
        print("    \(path): pySigma \(py), Vigil \(v), both \(b)")
    }

    // Rule count: the first N common rules in a fixed pseudo-random order (FNV-1a of the path,
    // chosen by the script): pySigma ran them in a run of their own (load + query); Vigil runs an
    // engine with just those N rules over the same lines.
    var kv: [(String, String)] = [
        ("pysigma_full_rules", String(common.count)), ("pysigma_full_rules_found", String(i("found"))),
        ("pysigma_full_rules_converted", String(i("converted"))), ("vigil_full_rules_imported", String(i("vigil_imported_found"))),
        ("pysigma_full_events", String(events)),
        ("pysigma_full_cpu_s_per_million", String(format: "%.0f", pyPerM)),
        ("vigil_full_sigma_cpu_s_per_million", String(format: "%.1f", vPerM)),
        ("vigil_full_sigma_detect_cpu_s_per_million", String(format: "%.1f", vDetectPerM)),
        ("vigil_pysigma_full_rules_cpu_ratio", String(format: "%.1f", ratio)),
        ("pysigma_full_fixed_cpu_s", String(format: "%.2f", fixed)),
        ("pysigma_full_marginal_cpu_s_per_million", String(format: "%.0f", pyMarginalPerM)),
        ("vigil_full_sigma_regression_cpu_s_per_million", String(format: "%.1f", vRegPerM)),
        ("pysigma_full_matches", String(pyPairs)), ("vigil_full_matches", String(vPairs)), ("full_matches_both", String(both)),
        ("full_rules_differing", String(diffs.count)),
    ]
    if let r = pyRegPerM {
        kv.append(("pysigma_full_regression_cpu_s_per_million", String(format: "%.0f", r)))
        kv.append(("vigil_pysigma_full_rules_regression_cpu_ratio", String(format: "%.1f", r / vRegPerM)))
    }
    let index = Dictionary(common.enumerated().map { ($0.element.path, $0.offset) }, uniquingKeysWith: { a, _ in a })
    let order = ((obj["order"] as? [String]) ?? []).compactMap { index[$0] }
    let byCount = (obj["by_count"] as? [String: [String: Any]]) ?? [:]
    let counts = ruleCounts.filter { $0 < common.count && byCount[String($0)] != nil } + [common.count]
    print("  by rule count (the first N rules in a fixed pseudo-random order; pySigma: a run with those rules, load + query; Vigil: an engine with those rules, parse + detect):")
    print("    rules   pySigma CPU s/M   Vigil CPU s/M   Vigil/pySigma")
    for n in counts {
        let pick = order.prefix(n)
        let py: Double
        if n == common.count { py = pyPerM } else {
            let r = byCount[String(n)] ?? [:]
            py = (((r["cpu_load_s"] as? Double) ?? 0) + ((r["cpu_query_s"] as? Double) ?? 0)) / Double(max(1, (r["events"] as? Int) ?? 1)) * 1e6
        }
        let v: Double
        if n == common.count { v = vPerM } else {
            let e = DetectionEngine()
            for k in pick { try? e.upsert(rules[k], forceActive: true) }
            _ = e.advance(to: 0)
            var m = 0
            let (c, _) = cpuRounds(minCPU: quick ? 0.5 : 1.0) { _ in
                for (k, line) in lines.enumerated() { time += 1; _ = e.process(sigmaBenchEvent(chain, line, k, time), nowMs: time) }
                m += lines.count
            }
            v = c / Double(m) * 1e6
        }
        print(String(format: "    %5d   %15.0f   %13.1f   %12.1f×", n, py, v, py / v))
        if n != common.count { kv.append(("vigil_pysigma_cpu_ratio_\(n)_rules", String(format: "%.1f", py / v))) }
    }
    return kv
}

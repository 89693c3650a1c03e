import Foundation
import XCTest
@testable import VigilRules
import VigilWire

/// The engine decides literal tests from its shared Aho–Corasick scan (BoundPredicate); these
/// tests hold it to the plain evaluator's answers, rule by rule, over many rules in one engine.
final class BoundPredicateTests: XCTestCase {
    /// A fixed-seed generator, so a failure reproduces.
    struct Rng {
        var state: UInt64
        mutating func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        mutating func pick<T>(_ xs: [T]) -> T { xs[next(xs.count)] }
    }

    let pieces = ["cmd", "CMD.exe", "\\cmd.exe", "c:\\windows", "C:\\Windows\\", "a", "-enc", "exe", "3", "03", "powershell", " /c ", "é", "aa"]
    // Lists sharing a first name (CommandLine; Image) are scanned by one merged automaton there.
    let fieldLists = [["Image"], ["CommandLine"], ["ParentImage"], ["CommandLine", "ParentCommandLine"], ["OriginalFileName", "Image"], ["Image", "NewProcessName"]]

    func randomPredicate(_ r: inout Rng, depth: Int) -> VigilRules.Predicate {
        if depth > 0 && r.next(3) == 0 {
            let kids = (0..<(1 + r.next(3))).map { _ in randomPredicate(&r, depth: depth - 1) }
            switch r.next(3) {
            case 0: return .and(kids)
            case 1: return .or(kids)
            default: return .not(kids[0])
            }
        }
        let ops: [Matcher.Op] = [.contains, .startswith, .endswith, .equals, .glob, .contains, .equals]
        if depth < 3 && r.next(10) == 0 {
            // Keywords: any vendor value (or the message) matches one.
            return .keywords((0..<(1 + r.next(3))).map { _ in Matcher(r.pick([.contains, .equals, .startswith]), r.pick(pieces) + (r.next(2) == 0 ? r.pick(pieces) : "")) })
        }
        let ms = (0..<(1 + r.next(8))).map { _ -> Matcher in
            let op = r.pick(ops)
            let v = r.pick(pieces) + (r.next(2) == 0 ? r.pick(pieces) : "")
            return Matcher(op, op == .glob ? "*" + v + "*" : v)
        }
        return .test(FieldTest(fields: r.pick(fieldLists), matchers: ms, all: r.next(4) == 0, cased: r.next(6) == 0))
    }

    func randomEvent(_ r: inout Rng, _ n: Int) -> Event {
        var e = T.event("b\(n)", at: Int64(n), format: "windows", ["event.code": "1"])
        var original = ["EventID": "1"]
        for f in ["Image", "CommandLine", "ParentImage", "ParentCommandLine", "OriginalFileName", "NewProcessName"] where r.next(3) != 0 {
            original[f] = (0..<r.next(4)).map { _ in r.pick(pieces) }.joined()
        }
        // Some values only among the normalized fields: the scan and the evaluator read both.
        if r.next(4) == 0, let v = original.removeValue(forKey: "Image") { e.fields["Image"] = v }
        e.original = original
        return e
    }

    func testBoundPredicatesAgreeWithThePlainEvaluator() throws {
        for seed: UInt64 in [42, 7, 2026, 99] { try agree(seed: seed) }
    }

    func agree(seed: UInt64) throws {
        var r = Rng(state: seed)
        let engine = DetectionEngine()
        var evaluators: [String: PredicateEvaluator] = [:]
        for i in 0..<300 {
            let p = randomPredicate(&r, depth: 3)
            let id = String(format: "11111111-1111-4111-8111-%012d", i)
            let rule = T.rule(#"{"type": "match", "condition": \#(JSONWriter.write(.string(p.conditionText), pretty: false))}"#,
                              id: id, extra: #", "log_sources": ["windows"]"#)
            try engine.upsert(rule, forceActive: true)
            evaluators[id] = try PredicateEvaluator(p)
        }
        var fired = 0
        for n in 0..<400 {
            let e = randomEvent(&r, n)
            let got = Set(engine.process(e, nowMs: e.eventTimeMs).map(\.rule.id))
            let want = Set(evaluators.filter { $0.value.matches(e) }.keys)
            XCTAssertEqual(got, want, "seed \(seed) event \(n): \(e.original) \(e.fields)")
            fired += got.count
        }
        XCTAssertGreaterThan(fired, 400, "the generated rules and events should match often enough to test something")
        XCTAssertEqual(engine.prefilterMergedScanners, 2, "CommandLine and Image lists merged")
    }

    /// The engine evaluates a guarded rule only when the prefilter's hits reach it and one of
    /// its index lists (log source, EventID / Channel value) applies; every other rule of the
    /// event's buckets is walked. Whatever the mix, the rules that fire must be exactly those
    /// whose log source fits and whose predicate holds by the plain evaluator.
    func testCandidatesFromHitsNeverMissARule() throws {
        for seed: UInt64 in [3, 11, 2027] { try candidatesAgree(seed: seed) }
    }

    func candidatesAgree(seed: UInt64) throws {
        var r = Rng(state: seed)
        let engine = DetectionEngine()
        let codes = ["1", "3", "11", "4688"], channels = ["Security", "Microsoft-Windows-Sysmon/Operational"]
        let sourceChoices: [[String]] = [["windows"], ["windows"], ["windows", "sysmon"], [], ["linux"]]
        var expected: [String: (PredicateEvaluator, [String])] = [:]
        func equals(_ field: String, _ vs: [String]) -> VigilRules.Predicate { .test(FieldTest(fields: [field], matchers: vs.map { Matcher(.equals, $0) })) }
        for i in 0..<400 {
            let body = randomPredicate(&r, depth: 3)
            let p: VigilRules.Predicate
            switch r.next(6) {
            case 0, 1: p = .and([equals("EventID", [r.pick(codes)]), body])
            case 2: p = .and([equals("EventID", [r.pick(codes), r.pick(codes)]), body])
            case 3: p = .and([.or([equals("EventID", [r.pick(codes)]), equals("EventID", [r.pick(codes)])]), body])
            case 4: p = .and([equals("Channel", [r.pick(channels)]), body])
            default: p = body
            }
            let sources = r.pick(sourceChoices)
            let id = String(format: "33333333-1111-4111-8111-%012d", i)
            let extra = #", "log_sources": \#(JSONWriter.write(.array(sources.map { .string($0) }), pretty: false))"#
            try engine.upsert(T.rule(#"{"type": "match", "condition": \#(JSONWriter.write(.string(p.conditionText), pretty: false))}"#, id: id, extra: extra), forceActive: true)
            expected[id] = (try PredicateEvaluator(p), sources)
        }
        var fired = 0, guardedFired = 0
        for n in 0..<600 {
            var e = randomEvent(&r, n)
            e.format = r.pick(["windows", "windows", "sysmon", "linux"])
            let code = r.pick(codes)
            e.fields["event.code"] = code
            e.original["EventID"] = code
            if r.next(3) != 0 { e.original["Channel"] = r.pick(channels) }
            let got = engine.process(e, nowMs: e.eventTimeMs).map(\.rule.id)
            XCTAssertEqual(got.count, Set(got).count, "a rule fired twice on one event")
            let want = Set(expected.filter { ($0.value.1.isEmpty || $0.value.1.contains(e.format)) && $0.value.0.matches(e) }.keys)
            XCTAssertEqual(Set(got), want, "seed \(seed) event \(n): \(e.format) \(e.original) \(e.fields)")
            fired += got.count
            guardedFired += got.filter { expected[$0]!.0.predicate.hasLiteralGuard }.count
        }
        XCTAssertGreaterThan(guardedFired, 300, "rules reached from the scan's hits should fire often enough to test something")
        XCTAssertGreaterThan(fired, guardedFired, "unguarded rules should fire too")
    }

    func testAnchoredLiteralsUseWhereTheHitIs() throws {
        // startswith/endswith/equals are decided from where the scan found the needle.
        let cases: [(Matcher, String, Bool)] = [
            (Matcher(.startswith, "cmd"), "CMD.exe /c", true), (Matcher(.startswith, "cmd"), "x cmd", false),
            (Matcher(.endswith, ".exe"), "a.EXE", true), (Matcher(.endswith, ".exe"), "a.exe ", false),
            (Matcher(.equals, "cmd.exe"), "Cmd.Exe", true), (Matcher(.equals, "cmd.exe"), "cmd.exe.exe", false),
            (Matcher(.equals, "cmd.exe"), "xcmd.exe", false), (Matcher(.contains, "md.e"), "cmd.exe", true),
            // A repeated needle: the last occurrence decides endswith, the first startswith.
            (Matcher(.endswith, "ab"), "abxab", true), (Matcher(.startswith, "ab"), "xabab", false),
        ]
        let engine = DetectionEngine()
        for (i, c) in cases.enumerated() {
            let p = VigilRules.Predicate.test(FieldTest(fields: ["Image"], matchers: [c.0]))
            try engine.upsert(T.rule(#"{"type": "match", "condition": \#(JSONWriter.write(.string(p.conditionText), pretty: false))}"#,
                                     id: String(format: "22222222-1111-4111-8111-%012d", i), extra: #", "log_sources": ["windows"]"#), forceActive: true)
        }
        for (i, c) in cases.enumerated() {
            var e = T.event("a\(i)", at: Int64(i), format: "windows", ["event.code": "1"])
            e.original = ["EventID": "1", "Image": c.1]
            let fired = engine.process(e, nowMs: e.eventTimeMs).contains { $0.rule.id == String(format: "22222222-1111-4111-8111-%012d", i) }
            XCTAssertEqual(fired, c.2, "\(c.0.op) \(c.0.value) on \(c.1)")
        }
    }

    func testFieldTableFindsEveryNameAndPrefersVendorValues() {
        // Enough names for probe chains; names that share prefixes, differ in case, or are empty.
        var names = (0..<300).map { "Field\($0)" } + ["", "a", "A", "CommandLine", "commandline", "process.command_line"]
        names.append("é")
        let table = FieldTable(names)
        for (i, n) in names.enumerated() { XCTAssertEqual(table.id(n), Int32(i), n) }
        for n in ["Field300", "Field", "b", "COMMANDLINE", "e"] { XCTAssertNil(table.id(n), n) }
        var e = Event()
        e.original = ["CommandLine": "vendor", "a": "x", "NotInTable": "y"]
        e.fields = ["CommandLine": "normalized", "A": "z", "Field7": ""]
        for stamp in 1...2 {
            table.load(e, stamp: stamp)
            XCTAssertEqual(table.value(table.id("CommandLine")!), "vendor")
            XCTAssertEqual(table.value(table.id("a")!), "x")
            XCTAssertEqual(table.value(table.id("A")!), "z")
            XCTAssertEqual(table.value(table.id("Field7")!), "")
            XCTAssertNil(table.value(table.id("Field8")!))
            XCTAssertEqual(table.presentCount, 4)
        }
        // The next event's values only: nothing stays from the last one.
        table.load(Event(), stamp: 3)
        XCTAssertNil(table.value(table.id("CommandLine")!))
        XCTAssertEqual(table.presentCount, 0)
    }

    func testKeywordAutomatonAgreesWithOneSearchPerKeyword() throws {
        // Long keyword lists go through one automaton per value, short ones through a flat literal
        // list; the answer must be the plain one: any matcher on any vendor value or the message.
        func plain(_ ms: [PredicateEvaluator.Compiled], _ e: Event) -> Bool {
            for v in e.original.values { for m in ms where PredicateEvaluator.test(m, v, cased: false, e) { return true } }
            if let v = e.fields["message"] { for m in ms where PredicateEvaluator.test(m, v, cased: false, e) { return true } }
            return false
        }
        var r = Rng(state: 17)
        let ops: [Matcher.Op] = [.contains, .contains, .startswith, .endswith, .equals, .glob]
        var checked = 0, held = 0
        for _ in 0..<60 {
            let ms = try (0..<(1 + r.next(12))).map { _ -> PredicateEvaluator.Compiled in
                let op = r.pick(ops), v = r.pick(pieces) + (r.next(2) == 0 ? r.pick(pieces) : "")
                return try PredicateEvaluator.compile(Matcher(op, op == .glob ? "*" + v + "*" : v), cased: false)
            }
            let k = PredicateEvaluator.Keywords(ms)
            for n in 0..<30 {
                var e = randomEvent(&r, n)
                if r.next(3) == 0 { e.fields["message"] = (0..<r.next(4)).map { _ in r.pick(pieces) }.joined() }
                let want = plain(ms, e)
                XCTAssertEqual(k.holds(e), want, "\(ms) on \(e.original) \(e.fields)")
                checked += 1
                if want { held += 1 }
            }
        }
        XCTAssertGreaterThan(held, checked / 10)
        XCTAssertLessThan(held, checked - checked / 10)
    }

    func testRegexRunsAreFoundOnlyWhereTheyAreRequired() {
        func run(_ p: String) -> String? {
            RegexRun.required(p).map { r in
                (r.count > 0 ? "\(r.count):" + String(decoding: (0..<128).filter { r.member[$0] }.map { UInt8($0) }, as: UTF8.self) : "")
                    + (r.pairFirst.map { " pair " + String(UnicodeScalar($0)) + String(decoding: (0..<128).filter { r.pairNext[$0] }.map { UInt8($0) }, as: UTF8.self) } ?? "")
            }
        }
        XCTAssertEqual(run(#"\s[a-fA-F0-9]{64}\s[a-fA-F0-9]{16}"#), "64:0123456789ABCDEFabcdef")
        XCTAssertEqual(run(#"x\d{12,}y"#), "12:0123456789")
        XCTAssertEqual(run(#"[a-c\-_]{8,20}?"#), "8:-_abc")
        XCTAssertEqual(run(#"\\[a-zA-Z0-9]{1,32}\.[a-zA-Z0-9]{1,6}\.[ "']{1}"#), #" pair . "'"#)
        XCTAssertEqual(run(#"x[ab]+"#), " pair xab")
        XCTAssertNil(run(#"x?[ab]"#))
        XCTAssertNil(run(#"x[ab]?"#))
        XCTAssertNil(run(#"x\b[ab]"#))
        for p in [#"[a-z]{7}"#, #"(?i)[a-f]{10}"#, #"a|[0-9]{10}"#, #"([0-9]{20})"#, #"[^a]{10}"#, #"[a[b]]{10}"#,
                  #"\Q[a-z]{10}\E"#, #"[\p{L}]{10}"#, #"[0-9]*"#, #"[]a]{10}"#] {
            XCTAssertNil(run(p), p)
        }
        // Whenever the regex matches, the run check must hold (it may hold without a match).
        var r = Rng(state: 23)
        let items = [#"[a-f0-9]"#, #"\d"#, #"\w"#, #"\s"#, #"[A-Z_]"#, "x", #"\."#, "(?:ab|c)", "a", #"[ a.]"#, "[0f]", #"\b"#, "^"]
        let quants = ["{8}", "{8,}", "{9,12}", "+", "*", "", "{2}"]
        let alphabet = Array("ab09fFXZ_ .-éx\t".unicodeScalars).map(String.init)
        var matched = 0
        for _ in 0..<300 {
            let pattern = (0..<(1 + r.next(3))).map { _ in r.pick(items) + r.pick(quants) }.joined()
            guard let rx = try? NSRegularExpression(pattern: pattern) else { continue }
            let check = RegexRun.required(pattern)
            for _ in 0..<20 {
                let text = (0..<r.next(40)).map { _ in r.next(3) == 0 ? r.pick(alphabet) : r.pick(["a", "0", "f", "9"]) }.joined()
                guard rx.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil else { continue }
                matched += 1
                if let check { XCTAssertTrue(Array(text.utf8).withUnsafeBufferPointer(check.occurs), "\(pattern) on \(text)") }
            }
        }
        XCTAssertGreaterThan(matched, 200)
    }

    func testRegexLiteralRunsAreCheckedInOrderAndNeverRejectAMatch() throws {
        func runs(_ p: String) -> [String]? { RegexLiteral.runs(p)?.map { String(decoding: $0, as: UTF8.self) } }
        XCTAssertEqual(runs(#"net\s+config"#), ["net", "config"])
        XCTAssertEqual(runs(#"cmd.{0,5}(?:/c|/r).+PowerShell.+x"#), ["cmd", "powershell", "x"])
        XCTAssertEqual(runs("abx?c"), ["ab", "c"], "an optional byte splits the run")
        XCTAssertNil(runs("net|config"))
        let rx = try NSRegularExpression(pattern: #"net\s+config"#)
        let c = PredicateEvaluator.CompiledRegex(rx, literals: RegexLiteral.runs(rx.pattern) ?? [], run: nil)
        func may(_ t: String) -> Bool { Array(t.utf8).withUnsafeBufferPointer(c.mayMatch) }
        XCTAssertTrue(may("NET  Config"))
        XCTAssertFalse(may("config then net"), "both runs, wrong order")
        XCTAssertFalse(may("the config"), "a run missing")
        // Whenever the regex matches, the pre-check must hold; it should also reject most texts.
        var r = Rng(state: 31)
        let items = ["ab", "b", "ba", #"\s"#, ".", "(?:a|bb)", "c", #"\."#, "a+", "b?", "[ab]", "(?i)", "x{2}"]
        let alphabet = ["a", "b", "c", "A", "B", " ", ".", "x", "é"]
        var matched = 0, rejected = 0
        for _ in 0..<400 {
            var pattern = (0..<(1 + r.next(4))).map { _ in r.pick(items) }.joined()
            if pattern.hasSuffix("(?i)") { pattern += "a" }
            guard let rx = try? NSRegularExpression(pattern: pattern) else { continue }
            let c = PredicateEvaluator.CompiledRegex(rx, literals: RegexLiteral.runs(pattern) ?? [], run: nil)
            for _ in 0..<20 {
                let text = (0..<r.next(12)).map { _ in r.pick(alphabet) }.joined()
                let may = Array(text.utf8).withUnsafeBufferPointer(c.mayMatch)
                if rx.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil {
                    matched += 1
                    XCTAssertTrue(may, "\(pattern) matches \(text)")
                } else if !may { rejected += 1 }
            }
        }
        XCTAssertGreaterThan(matched, 300)
        XCTAssertGreaterThan(rejected, 1000)
    }

    func testContainsAgreesWithNaiveSearch() {
        // The word-at-a-time search against a byte-by-byte one: both cases, needles at the ends,
        // repeated first bytes, haystacks shorter and longer than a word.
        var r = Rng(state: 31)
        let alphabet = Array("aAbB:\\x.é".utf8)
        for _ in 0..<4000 {
            let h = (0..<r.next(40)).map { _ in r.pick(alphabet) }
            let cased = r.next(3) == 0
            var n = (0..<(1 + r.next(4))).map { _ in r.pick(alphabet) }
            if !cased { n = n.map(PredicateEvaluator.fold) }
            if r.next(3) == 0, h.count >= n.count {
                let at = r.next(h.count - n.count + 1)
                n = Array(h[at..<at + n.count]).map { cased ? $0 : PredicateEvaluator.fold($0) }
            }
            var want = false
            if h.count >= n.count {
                for s in 0...(h.count - n.count) where (0..<n.count).allSatisfy({ (cased ? h[s + $0] : PredicateEvaluator.fold(h[s + $0])) == n[$0] }) { want = true; break }
            }
            XCTAssertEqual(h.withUnsafeBufferPointer { PredicateEvaluator.contains($0, n, cased) }, want, "\(h) \(n) \(cased)")
        }
    }

    func testAhoCorasickAgreesWithNaiveSearch() {
        // A small alphabet makes shared prefixes, unique tails (kept out of the automaton and
        // compared in place), needles inside needles, and tails cut off by the end of the text.
        var r = Rng(state: 5)
        for _ in 0..<40 {
            var needles = Set<[UInt8]>()
            while needles.count < 30 { needles.insert((0..<(1 + r.next(10))).map { _ in UInt8(ascii: "a") + UInt8(r.next(3)) }) }
            let list = Array(needles)
            // DFA rows for none, some or all of the states (the rest: edges and failure links).
            let ac = AhoCorasick(list, rowStates: r.pick([0, 1, 3, 10, 1000]))
            for _ in 0..<20 {
                // Upper case folds; "d" is in no needle (byte class 0).
                let text = (0..<r.next(40)).map { _ in r.pick(Array("abcabcABd".utf8)) }
                var hits: [Int32] = [], ends: [Int32] = []
                ac.scan(String(decoding: text, as: UTF8.self), into: &hits, ends: &ends)
                var want: [String] = [], got: [String] = []
                let folded = text.map(PredicateEvaluator.fold)
                for (id, n) in list.enumerated() where n.count <= text.count {
                    for start in 0...(text.count - n.count) where Array(folded[start..<start + n.count]) == n { want.append("\(id)@\(start + n.count - 1)") }
                }
                for (k, id) in hits.enumerated() { got.append("\(id)@\(ends[k])") }
                XCTAssertEqual(got.sorted(), want.sorted(), String(decoding: text, as: UTF8.self))
            }
        }
    }

    func testAhoCorasickWithMoreStatesThanNarrowRowsHoldAgreesWithNaiveSearch() {
        // Past 32,767 states the DFA rows are 32-bit (state numbers no longer fit 15 bits).
        var r = Rng(state: 9)
        var ids: [[UInt8]: Int32] = [:], list: [[UInt8]] = []
        while list.count < 20_000 {
            let n = (0..<(5 + r.next(4))).map { _ in UInt8(ascii: "a") + UInt8(r.next(26)) }
            if ids[n] == nil { ids[n] = Int32(list.count); list.append(n) }
        }
        for rows in [nil, 30_000] as [Int?] {
            let ac = AhoCorasick(list, rowStates: rows)
            XCTAssertTrue(ac.hasWideRows, "expected more than 32,767 states")
            for k in 0..<12 {
                // Texts made partly of needles, so there are hits to find.
                var text: [UInt8] = []
                while text.count < 200 { text += k % 2 == 0 && r.next(2) == 0 ? r.pick(list) : [UInt8(ascii: "a") + UInt8(r.next(26))] }
                var hits: [Int32] = [], ends: [Int32] = []
                ac.scan(String(decoding: text, as: UTF8.self), into: &hits, ends: &ends)
                var want: [String] = [], got: [String] = []
                for start in text.indices {
                    for len in 5...8 where start + len <= text.count {
                        if let id = ids[Array(text[start..<start + len])] { want.append("\(id)@\(start + len - 1)") }
                    }
                }
                for (k, id) in hits.enumerated() { got.append("\(id)@\(ends[k])") }
                XCTAssertEqual(got.sorted(), want.sorted())
            }
        }
    }

    func testAhoCorasickQGramFilterOnLongNeedlesAgreesWithNaiveSearch() {
        // Long needles (hash values): the q-gram filter skips values that cannot hold one, and must
        // never skip one that does — at any offset, folded, or shorter than the shortest needle.
        var r = Rng(state: 13)
        let hex = Array("0123456789abcdef".utf8)
        var list: [[UInt8]] = []
        var ids: [[UInt8]: Int32] = [:]
        while list.count < 300 {
            var n = (0..<(16 + r.next(30))).map { _ in r.pick(hex) }
            if r.next(4) == 0 { n = Array("md5=".utf8) + n }
            if ids[n] == nil { ids[n] = Int32(list.count); list.append(n) }
        }
        let filtered = AhoCorasick(list), plain = AhoCorasick(list, gramFilter: false)
        XCTAssertTrue(filtered.hasGramFilter)
        XCTAssertFalse(plain.hasGramFilter)
        XCTAssertFalse(AhoCorasick([Array("short".utf8)] + list).hasGramFilter, "a short needle turns the filter off")
        var found = 0
        for k in 0..<400 {
            var text: [UInt8] = []
            let length = r.next(160)
            while text.count < length {
                if k % 3 == 0 && r.next(4) == 0 {
                    text += r.pick(list).map { $0 >= 97 && $0 <= 122 && r.next(2) == 0 ? $0 - 32 : $0 }
                } else { text.append(r.pick(hex + Array("=,SHA".utf8))) }
            }
            var want: [String] = []
            let folded = text.map(PredicateEvaluator.fold)
            for start in text.indices {
                for (id, n) in list.enumerated() where start + n.count <= text.count && Array(folded[start..<start + n.count]) == n { want.append("\(id)@\(start + n.count - 1)") }
            }
            for ac in [filtered, plain] {
                var hits: [Int32] = [], ends: [Int32] = []
                ac.scan(String(decoding: text, as: UTF8.self), into: &hits, ends: &ends)
                XCTAssertEqual(hits.indices.map { "\(hits[$0])@\(ends[$0])" }.sorted(), want.sorted(), String(decoding: text, as: UTF8.self))
            }
            found += want.count
        }
        XCTAssertGreaterThan(found, 50, "the texts should hold needles")
    }
}

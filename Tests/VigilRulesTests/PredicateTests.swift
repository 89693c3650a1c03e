import XCTest
@testable import VigilRules
import VigilWire

final class PredicateTests: XCTestCase {
    func win(_ data: [String: String], code: String = "1") -> Event {
        var e = T.event("p\(data.count)-\(data.values.joined().hashValue)", at: 0, format: "windows", ["event.code": code])
        e.original = data.merging(["EventID": code]) { a, _ in a }
        return e
    }

    func rule(_ p: VigilRules.Predicate) -> Rule {
        T.rule(#"{"type": "match", "condition": \#(JSONWriter.write(.string(p.conditionText), pretty: false))}"#, extra: #", "log_sources": ["windows"]"#)
    }

    func fires(_ p: VigilRules.Predicate, _ e: Event) throws -> Bool {
        let engine = DetectionEngine()
        try engine.upsert(rule(p), forceActive: true)
        return !engine.process(e, nowMs: e.eventTimeMs).isEmpty
    }

    func test(_ f: String, _ ms: [Matcher], all: Bool = false) -> VigilRules.Predicate { .test(FieldTest(fields: [f], matchers: ms, all: all)) }

    func testConditionTextRoundTripsThroughTheRuleDecoder() throws {
        let p = VigilRules.Predicate.and([test("EventID", [Matcher(.equals, "1")]),
                                          .or([test("Image", [Matcher(.endswith, "\\cmd.exe")]), .not(.keywords([Matcher(.contains, "x")]))])])
        XCTAssertEqual(try VigilRules.Predicate.parse(condition: p.conditionText), p)
        let r = rule(p)
        XCTAssertEqual(try RuleDecoder.decode(RuleEncoder.text(r)).detection, r.detection)
    }

    func testBadPredicatesAreRefusedWithTheReason() {
        for bad in [#"@predicate {"field": "x", "match": [["nope", "1"]]}"#, #"@predicate {"field": "x", "match": [["regex", "("]]}"#,
                    #"@predicate {"and": []}"#, #"@predicate {"field": "x", "match": [["cidr", "10.0.0.0/99"]]}"#, "@predicate {"] {
            XCTAssertThrowsError(try RuleDecoder.decode(#"{"id": "11111111-1111-4111-8111-111111111111", "name": "x", "status": "active", "criticality": "low", "risk_score": 1, "detection": {"type": "match", "condition": \#(JSONWriter.write(.string(bad), pretty: false))}}"#), bad) { e in
                XCTAssertEqual((e as? RuleError)?.code, .invalidQuery, bad)
            }
        }
    }

    func testIndexUsesEventIdFromPredicates() {
        let p = VigilRules.Predicate.and([.or([test("EventID", [Matcher(.equals, "1")]), test("EventID", [Matcher(.equals, "4688")])]), test("Image", [Matcher(.contains, "x")])])
        XCTAssertEqual(Requirement.of(p)?.token.name, "event.code")
        XCTAssertEqual(Requirement.of(p)?.values, ["1", "4688"])
        XCTAssertNil(Requirement.of(.or([test("EventID", [Matcher(.equals, "1")]), test("Image", [Matcher(.contains, "x")])])))
    }

    func testPrefilterGuardsAndUnguardedRules() throws {
        // Guarded by its literals: fires only when one occurs, and then the full predicate decides.
        let p = VigilRules.Predicate.and([test("EventID", [Matcher(.equals, "1")]), test("CommandLine", [Matcher(.contains, "mimikatz"), Matcher(.glob, "*sekurlsa*::*")])])
        XCTAssertNotNil(LiteralPrefilter.guardAtoms(p))
        XCTAssertTrue(try fires(p, win(["CommandLine": "run MIMIKATZ"])))
        XCTAssertTrue(try fires(p, win(["CommandLine": "sekurlsa::x"])))
        XCTAssertFalse(try fires(p, win(["CommandLine": "notepad"])))
        XCTAssertFalse(try fires(p, win(["CommandLine": "mimikatz"], code: "7")))
        // A top-level NOT has no guard and must still be evaluated.
        let n = VigilRules.Predicate.and([test("EventID", [Matcher(.equals, "1")]), .not(test("Image", [Matcher(.endswith, "\\explorer.exe")]))])
        XCTAssertNil(LiteralPrefilter.guardAtoms(n))
        XCTAssertTrue(try fires(n, win(["Image": "c:\\a.exe"])))
        XCTAssertFalse(try fires(n, win(["Image": "c:\\Explorer.EXE"])))
    }

    func testFieldrefComparesIgnoringAsciiCaseOnly() throws {
        let p = VigilRules.Predicate.and([test("EventID", [Matcher(.equals, "1")]), test("Image", [Matcher(.fieldref, "ParentImage")])])
        let cases: [(String, String, Bool)] = [
            ("C:\\A.exe", "c:\\a.EXE", true), ("C:\\A.exe", "C:\\A.ex", false), ("a", "b", false),
            // Non-ASCII: case is not folded, canonically equivalent spellings are equal.
            ("É", "é", false), ("caf\u{E9}", "CAFE\u{301}", true), ("", "", true),
        ]
        for (a, b, want) in cases { XCTAssertEqual(try fires(p, win(["Image": a, "ParentImage": b])), want, "\(a) vs \(b)") }
    }

    func testGuardClausesAreEveryNecessaryLiteralSet() throws {
        // AND: one clause per conjunct with literals; |all: one per matcher; OR: one merged clause.
        let img = test("Image", [Matcher(.endswith, "\\cmd.exe")])
        let cmd = test("CommandLine", [Matcher(.contains, " /c "), Matcher(.contains, "whoami")])
        var all = FieldTest(fields: ["CommandLine"], matchers: [Matcher(.contains, "-enc"), Matcher(.contains, "bypass")])
        all.all = true
        let p = VigilRules.Predicate.and([test("EventID", [Matcher(.equals, "1")]), img, .test(all), .or([cmd, img]), .not(cmd)])
        let clauses = try XCTUnwrap(LiteralPrefilter.guardClauses(p))
        XCTAssertEqual(clauses.map { $0.map { String(decoding: $0.needle, as: UTF8.self) }.sorted() },
                       [["\\cmd.exe"], ["-enc"], ["bypass"], [" /c ", "\\cmd.exe", "whoami"]])
        XCTAssertNil(LiteralPrefilter.guardClauses(.or([img, .not(cmd)])))
        // The engine needs every clause: the image alone, or with one of the two |all literals, is not enough.
        XCTAssertFalse(try fires(p, win(["Image": "c:\\cmd.exe", "CommandLine": "x -enc"])))
        XCTAssertTrue(try fires(p, win(["Image": "c:\\cmd.exe", "CommandLine": "x -enc bypass"])))
    }

    func testLongLiteralListsUseOnePass() throws {
        let needles = (0..<50).map { "tool\($0).exe" }
        let p = test("Image", needles.map { Matcher(.endswith, "\\" + $0) })
        XCTAssertTrue(try fires(p, win(["Image": "c:\\x\\TOOL42.exe"])))
        XCTAssertFalse(try fires(p, win(["Image": "c:\\x\\tool42.exe.txt"])), "endswith, not contains")
        XCTAssertFalse(try fires(p, win(["Image": "c:\\x\\tool99.exe"])))
        // An empty `contains` in a long list holds for any present value (Sigma: LIKE '%%').
        let withEmpty = test("CommandLine", ["qfe list", "diskdrive ", "csproduct ", "computersystem ", " os ", ""].map { Matcher(.contains, $0) })
        XCTAssertTrue(try fires(withEmpty, win(["CommandLine": "xyz"])))
        XCTAssertFalse(try fires(withEmpty, win(["Image": "wmic.exe"])), "absent field")
    }

    func testAhoCorasickFindsOverlappingNeedles() {
        let ac = AhoCorasick([Array("he".utf8), Array("she".utf8), Array("hers".utf8), Array("his".utf8)])
        var hits: [Int32] = []
        ac.scan("uSHErs", into: &hits)
        XCTAssertEqual(Set(hits), [0, 1, 2])
        hits = []
        ac.scan("nothing", into: &hits)
        XCTAssertEqual(hits, [])
    }

    func testRegexLiteralIsConservative() {
        XCTAssertEqual(RegexLiteral.required(#"\\windows\\temp\\[a-z]+\.exe"#).map { String(decoding: $0, as: UTF8.self) }, "\\windows\\temp\\")
        XCTAssertNil(RegexLiteral.required("abc|defgh"), "top-level alternation")
        XCTAssertEqual(RegexLiteral.required("abcdx?yz").map { String(decoding: $0, as: UTF8.self) }, "abcd", "x is optional")
        XCTAssertNil(RegexLiteral.required("(?x) a b c d"))
    }

    func testGlobAndCidrAndNumbers() throws {
        XCTAssertTrue(try fires(test("A", [Matcher(.glob, "a*b?d")]), win(["A": "AxxbXd"])))
        XCTAssertFalse(try fires(test("A", [Matcher(.glob, "a*b?d")]), win(["A": "axxbd"])))
        XCTAssertTrue(try fires(test("A", [Matcher(.glob, "a\\*b")]), win(["A": "a*b"])))
        XCTAssertTrue(try fires(test("Ip", [Matcher(.cidr, "192.168.0.0/16")]), win(["Ip": "192.168.4.4"])))
        XCTAssertFalse(try fires(test("Ip", [Matcher(.cidr, "192.168.0.0/16")]), win(["Ip": "192.169.4.4"])))
        XCTAssertTrue(try fires(test("N", [Matcher(.equals, "10")]), win(["N": "10.0"])))
        XCTAssertTrue(try fires(test("N", [Matcher(.gte, "10"), Matcher(.lt, "20")], all: true), win(["N": "15"])))
        XCTAssertFalse(try fires(test("N", [Matcher(.gte, "10"), Matcher(.lt, "20")], all: true), win(["N": "25"])))
    }
}

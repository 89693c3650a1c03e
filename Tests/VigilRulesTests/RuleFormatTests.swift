import XCTest
import VigilRules
import VigilWire

final class RuleFormatTests: XCTestCase {
    let full = """
    {
      "schema": 1,
      "id": "3F2A1B4C-5D6E-4F70-8192-A3B4C5D6E7F8",
      "name": "SSH brute force",
      "description": "Many failed SSH logins",
      "version": 3,
      "author": "Vigil team",
      "created": "2026-01-01T00:00:00Z",
      "modified": "2026-01-02T00:00:00Z",
      "status": "active",
      "mitre": {"tactics": [{"id": "TA0006", "name": "Credential Access"}], "techniques": [{"id": "T1110.001", "name": "Password Guessing"}]},
      "criticality": "high",
      "risk_score": 70,
      "log_sources": ["linux-auth"],
      "detection": {"type": "threshold", "condition": "event.category: authentication and event.outcome: failure",
                    "count": 5, "group_by": ["user.name", "source.ip"], "window": "10m"},
      "suppression": "30m",
      "responses": ["email-soc"],
      "tests": [{"name": "five failures", "expect": "fire", "signals": 1,
                 "events": [{"format": "linux-auth", "fields": {"event.category": "authentication", "event.outcome": "failure",
                             "user.name": "root", "source.ip": "192.0.2.9"}, "repeat": 5, "every": "10s"}]}]
    }
    """

    func testDecodesEveryMemberAndRoundTripsThroughExport() throws {
        let r = try RuleDecoder.decode(full)
        XCTAssertEqual(r.id, "3f2a1b4c-5d6e-4f70-8192-a3b4c5d6e7f8", "ids are stored lower-case")
        XCTAssertEqual(r.version, 3)
        XCTAssertEqual(r.status, .active)
        XCTAssertEqual(r.criticality, .high)
        XCTAssertEqual(r.techniques, [MitreRef(id: "T1110.001", name: "Password Guessing")])
        XCTAssertEqual(r.detection, .threshold(condition: "event.category: authentication and event.outcome: failure", count: 5,
                                               groupBy: ["user.name", "source.ip"], windowMs: 600_000))
        XCTAssertEqual(r.suppressionMs, 1_800_000)
        XCTAssertEqual(r.tests.first?.events.count, 5)
        XCTAssertEqual(r.tests.first?.events.last.map { $0.eventTimeMs - r.tests[0].events[0].eventTimeMs }, 40_000)
        let again = try RuleDecoder.decode(RuleEncoder.text(r))
        XCTAssertEqual(again, r)
    }

    func testUnknownMemberIsRefusedWithItsPath() {
        let text = full.replacingOccurrences(of: "\"window\": \"10m\"", with: "\"window\": \"10m\", \"windw\": \"5m\"")
        XCTAssertThrowsError(try RuleDecoder.decode(text)) { e in
            let issues = (e as? RuleError)?.issues ?? []
            XCTAssertEqual(issues.map(\.path), ["$.detection.windw"])
            XCTAssertEqual(issues.first?.code, .unknownField)
        }
    }

    func testBadQQLIsReportedWithPathAndCaret() {
        let text = full.replacingOccurrences(of: "event.outcome: failure\"", with: "event.outcom: failure\"")
        XCTAssertThrowsError(try RuleDecoder.decode(text)) { e in
            let issue = (e as? RuleError)?.issues.first
            XCTAssertEqual(issue?.path, "$.detection.condition")
            XCTAssertEqual(issue?.code, .invalidQuery)
            XCTAssertTrue(issue?.message.contains("^") == true, issue?.message ?? "")
            XCTAssertTrue(issue?.message.contains("event.outcom") == true)
        }
    }

    func testEveryProblemIsListedAndTheRuleIsRefusedWhole() {
        let text = """
        {"id": "not-a-uuid", "name": "", "criticality": "severe", "risk_score": 140, "status": "on",
         "mitre": {"tactics": [{"id": "T0006", "name": "x"}]},
         "detection": {"type": "threshold", "condition": "event.outcome: failure", "count": "5"}}
        """
        XCTAssertThrowsError(try RuleDecoder.decode(text)) { e in
            let paths = Set((e as? RuleError)?.issues.map(\.path) ?? [])
            XCTAssertEqual(paths, ["$.id", "$.name", "$.criticality", "$.risk_score", "$.status", "$.mitre.tactics[0].id",
                                   "$.detection.count", "$.detection.window"])
        }
    }

    func testJSONSyntaxErrorsAndTypeConfusionAreRefused() {
        XCTAssertThrowsError(try RuleDecoder.decode("{\"id\": ")) { e in XCTAssertEqual((e as? RuleError)?.code, .invalidJSON) }
        XCTAssertThrowsError(try RuleDecoder.decode("{\"id\": 1, \"id\": 2}")) { e in XCTAssertEqual((e as? RuleError)?.code, .invalidJSON) }
        let boolAsNumber = full.replacingOccurrences(of: "\"risk_score\": 70", with: "\"risk_score\": true")
        XCTAssertThrowsError(try RuleDecoder.decode(boolAsNumber)) { e in XCTAssertEqual((e as? RuleError)?.issues.first?.path, "$.risk_score") }
    }

    func testBundleIsAllOrNothing() throws {
        let good = RuleEncoder.text(try RuleDecoder.decode(full))
        let bad = good.replacingOccurrences(of: "3f2a1b4c-5d6e-4f70-8192-a3b4c5d6e7f8", with: "3f2a1b4c-5d6e-4f70-8192-a3b4c5d6e7f9")
            .replacingOccurrences(of: "\"count\": 5", with: "\"count\": 0")
        XCTAssertThrowsError(try RuleBundle.decode("[\(good), \(bad)]")) { e in
            XCTAssertEqual((e as? RuleError)?.issues.map(\.path), ["$[1].detection.count"])
        }
        XCTAssertThrowsError(try RuleBundle.decode("[\(good), \(good)]")) { e in
            XCTAssertEqual((e as? RuleError)?.issues.first?.code, .duplicate)
        }
        let exported = RuleBundle.text([try RuleDecoder.decode(full)])
        XCTAssertEqual(try RuleBundle.decode(exported).map(\.id), ["3f2a1b4c-5d6e-4f70-8192-a3b4c5d6e7f8"])
    }

    func testDurations() {
        XCTAssertEqual(Durations.parse("500ms"), 500)
        XCTAssertEqual(Durations.parse("30s"), 30_000)
        XCTAssertEqual(Durations.parse("10m"), 600_000)
        XCTAssertEqual(Durations.parse("2h"), 7_200_000)
        XCTAssertNil(Durations.parse("10 minutes"))
        XCTAssertNil(Durations.parse("-5m"))
        XCTAssertEqual(Durations.format(600_000), "10m")
        XCTAssertEqual(Durations.words(600_000), "10 minutes")
    }

    func testExplanationReadsAsASentence() throws {
        let r = try RuleDecoder.decode(full)
        XCTAssertEqual(Explain.text(r), "5 or more events matching `event.category: authentication and event.outcome: failure` for the same user.name and source.ip within 10 minutes. Applies to linux-auth events. At most one signal per user.name and source.ip every 30 minutes.")
    }

    func testEmbeddedTestsRun() throws {
        let r = try RuleDecoder.decode(full)
        let results = RuleTester.run(r)
        XCTAssertEqual(results.map(\.passed), [true], results.map(\.detail).joined())
        var broken = r
        broken.tests[0].signals = 2
        XCTAssertEqual(RuleTester.run(broken).map(\.passed), [false])
    }

    func testDerivedFromRoundTripsAndMustBeAUUID() throws {
        let copy = T.rule("{\"type\": \"match\", \"condition\": \"event.outcome: failure\"}", extra: ", \"derived_from\": \"17E3CB05-F38C-50ED-B395-7B9E0A673349\"")
        XCTAssertEqual(copy.derivedFrom, "17e3cb05-f38c-50ed-b395-7b9e0a673349")
        XCTAssertEqual(try RuleDecoder.decode(RuleEncoder.text(copy)).derivedFrom, copy.derivedFrom)
        XCTAssertFalse(RuleEncoder.text(T.rule("{\"type\": \"match\", \"condition\": \"event.outcome: failure\"}")).contains("derived_from"), "originals carry no derived_from")
        let text = RuleEncoder.text(copy).replacingOccurrences(of: "17e3cb05-f38c-50ed-b395-7b9e0a673349", with: "the library one")
        XCTAssertThrowsError(try RuleDecoder.decode(text)) { e in
            XCTAssertTrue("\(e)".contains("$.derived_from"), "\(e)")
        }
    }
}

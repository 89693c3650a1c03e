import XCTest
import VigilParsers
import VigilRules
import VigilWire

/// The shipped rule library (Services/detection/Library) is code: every rule must load and
/// pass its own tests.
final class LibraryTests: XCTestCase {
    func libraryRules() throws -> [(String, String)] {
        let dir = T.repoRoot.appendingPathComponent("Services/detection/Library")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") }.sorted()
        return try files.map { ($0, try String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8)) }
    }

    func testEveryLibraryRuleLoadsAndPassesItsTests() throws {
        let files = try libraryRules()
        XCTAssertGreaterThanOrEqual(files.count, 60)
        var ids = Set<String>()
        for (file, text) in files {
            let rule: Rule
            do { rule = try RuleDecoder.decode(text) } catch { XCTFail("\(file): \(error)"); continue }
            XCTAssertTrue(ids.insert(rule.id).inserted, "\(file): duplicate id")
            XCTAssertFalse(rule.tactics.isEmpty || rule.techniques.isEmpty, "\(file): MITRE mapping")
            XCTAssertTrue(rule.tests.contains { $0.expect == .fire } && rule.tests.contains { $0.expect == .noFire }, "\(file): needs fire and no_fire tests")
            for r in RuleTester.run(rule) where !r.passed { XCTFail("\(file): test '\(r.name)': \(r.detail)") }
        }
    }

    func testOnlyTheDemoRuleIsActiveByDefault() throws {
        let active = try libraryRules().compactMap { try RuleDecoder.decode($0.1) }.filter { $0.status == .active }
        XCTAssertEqual(active.map(\.name), ["Failed SSH or su login"], "other tests count signals of the default rule set")
    }

    /// Every ATT&CK tactic the shipped parsers can feed has library rules (Resource Development,
    /// TA0042, happens outside the victim's logs).
    func testLibraryCoversEveryTacticTheParsersFeed() throws {
        let rules = try libraryRules().compactMap { try RuleDecoder.decode($0.1) }
        let covered = Set(rules.flatMap { $0.tactics.map(\.id) })
        let wanted = ["TA0043", "TA0001", "TA0002", "TA0003", "TA0004", "TA0005", "TA0006", "TA0007", "TA0008", "TA0009", "TA0011", "TA0010", "TA0040"]
        XCTAssertEqual(wanted.filter { !covered.contains($0) }, [], "tactics without a library rule")
        // Every log family the parsers ship is read by some rule.
        let sources = Set(rules.flatMap(\.logSources))
        for f in ["linux-auth", "windows", "pfsense", "cisco-asa", "panos-traffic", "panos-threat", "fortigate", "cef", "leef", "json"] {
            XCTAssertTrue(sources.contains(f), "no library rule reads \(f) events")
        }
    }

    /// Test events are honest: when an event carries a raw line that the parser chain understands
    /// as the event's format, its fields and vendor fields must be exactly what the parser yields
    /// for that line (no value a real log would not produce). Most library rules are written this
    /// way; the count guards against a regression to hand-made events.
    func testLibraryEventsAreWhatTheParsersProduce() throws {
        var verifiedRules = 0
        for (file, text) in try libraryRules() {
            guard let rule = try? RuleDecoder.decode(text) else { continue }
            var all = true
            for test in rule.tests {
                for e in test.events {
                    let raw = String(decoding: e.raw, as: UTF8.self)
                    guard !raw.isEmpty, case .success(let p) = ParserChain.standard.parse(raw, hint: nil, receivedAt: T.t0), p.format == e.format else {
                        all = false; continue
                    }
                    for (k, v) in e.fields where p.fields[k] != v {
                        XCTFail("\(file) '\(test.name)' \(e.id): fields[\(k)] is '\(v)', the \(p.format) parser gives '\(p.fields[k] ?? "nothing")' for its raw line")
                    }
                    for (k, v) in e.original where p.vendor[k] != v {
                        XCTFail("\(file) '\(test.name)' \(e.id): original[\(k)] is '\(v)', the \(p.format) parser gives '\(p.vendor[k] ?? "nothing")' for its raw line")
                    }
                    if e.fields.isEmpty { XCTFail("\(file) '\(test.name)': event without fields") }
                }
            }
            if all { verifiedRules += 1 }
        }
        XCTAssertGreaterThanOrEqual(verifiedRules, 49, "library rules whose every test event is a real parsed log line")
    }
}

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

    /// Test events are honest: every test event is a real log line (`raw`) that the parser
    /// chain understands as the event's format, and its `fields` and `original` are exactly what
    /// the parser yields for that line — no value a real log would not produce. Only events
    /// that exist to carry enrichment results (threat-intel matches, asset values) may come
    /// without a line, and they must carry those `enriched` values.
    func testLibraryEventsAreWhatTheParsersProduce() throws {
        var lines = 0
        for (file, text) in try libraryRules() {
            guard let rule = try? RuleDecoder.decode(text) else { continue }
            for test in rule.tests {
                for e in test.events {
                    let raw = String(decoding: e.raw, as: UTF8.self)
                    if raw.isEmpty {
                        XCTAssertFalse(e.enriched.isEmpty, "\(file) '\(test.name)' \(e.id): a test event needs the raw log line it stands for")
                        continue
                    }
                    guard case .success(let p) = ParserChain.standard.parse(raw, hint: nil, receivedAt: T.t0) else {
                        XCTFail("\(file) '\(test.name)' \(e.id): the raw line does not parse: \(raw.prefix(120))"); continue
                    }
                    XCTAssertEqual(p.format, e.format, "\(file) '\(test.name)' \(e.id): the parser reads this line as \(p.format)")
                    for (k, v) in e.fields where p.fields[k] != v {
                        XCTFail("\(file) '\(test.name)' \(e.id): fields[\(k)] is '\(v)', the \(p.format) parser gives '\(p.fields[k] ?? "nothing")' for its raw line")
                    }
                    for (k, v) in e.original where p.vendor[k] != v {
                        XCTFail("\(file) '\(test.name)' \(e.id): original[\(k)] is '\(v)', the \(p.format) parser gives '\(p.vendor[k] ?? "nothing")' for its raw line")
                    }
                    XCTAssertEqual(e.fields.count, p.fields.count, "\(file) '\(test.name)' \(e.id): the parser's fields, all of them")
                    lines += 1
                }
            }
        }
        XCTAssertGreaterThan(lines, 400, "test events checked against the parsers")
    }
}

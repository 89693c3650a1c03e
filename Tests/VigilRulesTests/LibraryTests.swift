import XCTest
import VigilRules

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
        XCTAssertGreaterThanOrEqual(files.count, 25)
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
}

import Foundation
import XCTest
@testable import VigilParsers

/// Whole-output comparisons: every case in Fixtures/golden/cases.tsv (the lines the other
/// parser tests use, written from the vendors' documented formats, plus the Windows fixtures)
/// is parsed and its entire result — format, timestamp, every normalized field, every vendor
/// field, or the failure code and reason — must equal the reviewed line in expected.jsonl. A
/// field added, dropped or changed by a parser change fails here until the golden file is
/// regenerated (`VIGIL_UPDATE_GOLDEN=1 swift test --filter GoldenTests`) and the diff reviewed.
final class GoldenTests: XCTestCase {
    struct Case { var hint: String?; var line: String; var label: String }

    func cases() throws -> [Case] {
        try fixture("golden/cases.tsv").split(separator: "\n", omittingEmptySubsequences: true).compactMap { row -> Case? in
            guard !row.hasPrefix("#"), let tab = row.firstIndex(of: "\t") else { return nil }
            let hint = String(row[..<tab]), rest = String(row[row.index(after: tab)...])
            if rest.hasPrefix("file:") {
                return Case(hint: hint == "-" ? nil : hint, line: try fixture(String(rest.dropFirst(5))), label: rest)
            }
            return Case(hint: hint == "-" ? nil : hint, line: rest, label: String(rest.prefix(100)))
        }
    }

    static func output(_ c: Case) -> [String: Any] {
        var o: [String: Any] = ["case": c.label]
        switch ParserChain.standard.parse(c.line, hint: c.hint, receivedAt: received) {
        case .success(let r):
            o["format"] = r.format
            o["timestamp"] = r.timestamp.map { NSNumber(value: $0) } ?? NSNull()
            o["fields"] = r.fields
            o["vendor"] = r.vendor
        case .failure(let f):
            o["failure"] = ["code": f.code, "reason": f.reason]
        }
        return o
    }

    static func json(_ o: [String: Any]) -> String {
        let d = (try? JSONSerialization.data(withJSONObject: o, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: d, as: UTF8.self)
    }

    func testEveryCaseMatchesItsWholeGoldenOutput() throws {
        let all = try cases()
        XCTAssertGreaterThan(all.count, 90)
        let actual = all.map { Self.json(Self.output($0)) }
        if ProcessInfo.processInfo.environment["VIGIL_UPDATE_GOLDEN"] != nil {
            let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/golden/expected.jsonl")
            try (actual.joined(separator: "\n") + "\n").write(to: path, atomically: true, encoding: .utf8)
            print("wrote \(actual.count) golden outputs to \(path.path)")
            return
        }
        let expected = try fixture("golden/expected.jsonl").split(separator: "\n").map(String.init)
        XCTAssertEqual(expected.count, actual.count, "cases.tsv and expected.jsonl disagree in length: regenerate and review")
        for (i, (e, a)) in zip(expected, actual).enumerated() where e != a {
            let eo = (try? JSONSerialization.jsonObject(with: Data(e.utf8))) as? [String: Any] ?? [:]
            let ao = (try? JSONSerialization.jsonObject(with: Data(a.utf8))) as? [String: Any] ?? [:]
            var diff: [String] = []
            for section in ["format", "timestamp", "failure"] where "\(eo[section] ?? "nil")" != "\(ao[section] ?? "nil")" {
                diff.append("\(section): expected \(eo[section] ?? "nil"), got \(ao[section] ?? "nil")")
            }
            for section in ["fields", "vendor"] {
                let em = eo[section] as? [String: String] ?? [:], am = ao[section] as? [String: String] ?? [:]
                for k in Set(em.keys).union(am.keys).sorted() where em[k] != am[k] {
                    diff.append("\(section).\(k): expected \(em[k].map { "'\($0)'" } ?? "absent"), got \(am[k].map { "'\($0)'" } ?? "absent")")
                }
            }
            XCTFail("case \(i + 1) (\(all[i].label)):\n  " + diff.joined(separator: "\n  "))
        }
    }
}

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

    /// `parse(bytes:)` (what ingest calls: an all-ASCII line is parsed from its bytes without
    /// a String) must give exactly what `parse(String(decoding:))` gives — on every golden
    /// case, on non-ASCII text and on invalid UTF-8 (repaired the same way).
    func testBytesEntryPointEqualsStringEntryPoint() throws {
        var lines = try cases().map { ($0.hint, Array($0.line.utf8)) }
        lines.append((nil, Array("<38>Mar 10 12:00:00 web1 sshd[42]: Failed password for jürgen from 10.0.0.1 port 22 ssh2".utf8)))
        lines.append((nil, [0x3C, 0x33, 0x38, 0x3E] + Array("Mar 10 12:00:00 web1 sshd[42]: Failed password for ".utf8) + [0xFF, 0xFE, 0x41]
                          + Array(" from 10.0.0.1 port 22 ssh2".utf8)))
        lines.append((nil, Array("CEF:0|V|P|1|100|name \\| x|5|src=10.0.0.1 suser=a\\=b msg=x".utf8)))
        lines.append(("cef", [0xC3, 0x28] + Array("CEF:0|V|P|1|100|n|5|src=10.0.0.1".utf8)))
        var compared = 0
        for (hint, bytes) in lines {
            let viaString = ParserChain.standard.parse(String(decoding: bytes, as: UTF8.self), hint: hint, receivedAt: received)
            let viaBytes = ParserChain.standard.parse(bytes: bytes, hint: hint, receivedAt: received)
            XCTAssertEqual(viaString, viaBytes, "line: \(String(decoding: bytes, as: UTF8.self))")
            compared += 1
        }
        XCTAssertGreaterThan(compared, 94)
        XCTAssertTrue(ParserChain.isASCII(Array("plain".utf8)))
        XCTAssertFalse(ParserChain.isASCII([0x41, 0xC3, 0xA9]))
    }
}

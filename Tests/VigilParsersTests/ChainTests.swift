import XCTest
@testable import VigilParsers

final class ChainTests: XCTestCase {
    func testSampleCorpusSniffsEveryFormat() throws {
        let text = try fixture("samples.log")
        var seen = Set<String>()
        for raw in text.split(separator: "\n") where !raw.hasPrefix("#") {
            let parts = raw.split(separator: "\t", maxSplits: 1)
            let expected = String(parts[0]), line = String(parts[1])
            let r = parseOK(line)
            XCTAssertEqual(r.format, expected, line)
            XCTAssertNil(r.fields["error.code"], "\(line): \(r.fields["error.message"] ?? "")")
            XCTAssertFalse(r.fields.isEmpty, line)
            seen.insert(expected)
        }
        XCTAssertEqual(seen.count, 12, "every format represented: \(seen.sorted())")
    }

    func testHintSelectsParserAndReportsItsFailure() {
        // A bare CSV line is only pfSense when the operator says so.
        XCTAssertEqual(parseFail("5,,,1,igb0", hint: "cef").code, "input.unrecognized")
        let f = parseFail("CEF:0|broken", hint: "cef")
        XCTAssertEqual(f.code, "cef.header")
        // Hinted parser fails but generic syslog understands the line: record + error fields.
        let r = parseOK("<13>Mar 10 12:00:00 h app: CEF:0|V|P|1", hint: "cef")
        XCTAssertEqual(r.format, "syslog-rfc3164")
        XCTAssertEqual(r.fields["error.code"], "cef.header")
        // Hint that does not match the line is ignored and sniffing proceeds.
        XCTAssertEqual(parseOK(#"{"EventID":4624,"Channel":"Security","Hostname":"h"}"#, hint: "fortigate").format, "windows")
        // The "json" hint takes the JSON path, where Windows events are still recognised.
        XCTAssertEqual(parseOK(#"{"Event":{"System":{"EventID":4688,"Channel":"Security","Computer":"h"},"EventData":{"NewProcessName":"C:\\x.exe"}}}"#, hint: "json").format, "windows")
        XCTAssertEqual(parseOK(#"{"src":"10.0.0.1","msg":"hi"}"#, hint: "JSON").format, "json")
        XCTAssertEqual(parseFail(#"{"a":"#, hint: "json").code, "json.syntax")
        XCTAssertEqual(parseOK("Mar 10 12:00:00 h sshd[1]: Invalid user x from 1.2.3.4", hint: "unknown-hint").format, "linux-auth")
    }

    func testUnrecognizedAndEmpty() {
        XCTAssertEqual(parseFail("   \t "), ParseFailure(code: "input.empty", reason: "line is empty or whitespace only (5 bytes)"))
        let f = parseFail("hello world, nothing to see")
        XCTAssertEqual(f.code, "input.unrecognized")
        XCTAssertTrue(f.reason.hasSuffix("line starts with 'hello world, nothing to see'"), f.reason)
    }

    func testLeadingBOMAndWhitespace() {
        XCTAssertEqual(parseOK("\u{FEFF}  CEF:0|V|P|1|s|n|1|src=1.2.3.4").fields["source.ip"], "1.2.3.4")
    }

    func testPublicParsersListAndNames() {
        let names = ParserChain.standard.parsers.map(\.name)
        XCTAssertEqual(Set(names), ["windows", "cef", "leef", "panos", "fortigate", "cisco-asa", "pfsense", "linux-auth", "json", "syslog-rfc5424", "syslog-rfc3164"])
        for p in ParserChain.standard.parsers {
            XCTAssertNil(p.parse("", receivedAt: received), "\(p.name) must decline an empty line")
        }
    }

    func testTimestampHelpers() {
        XCTAssertEqual(Timestamps.flexible("1710072000"), march10noon)
        XCTAssertEqual(Timestamps.flexible("1710072000123"), march10noon + 123)
        XCTAssertEqual(Timestamps.flexible("2024/03/10 12:00:00"), march10noon)
        XCTAssertEqual(Timestamps.flexible("2024-03-10 12:00:00"), march10noon)
        XCTAssertEqual(Timestamps.flexible("2024-03-10T14:00:00+0200"), march10noon)
        XCTAssertNil(Timestamps.flexible("2024-02-30T25:00:00Z"))
        XCTAssertNil(Timestamps.flexible("99999999999999999999"))
        XCTAssertEqual(Timestamps.year(ofMs: march10noon), 2024)
        XCTAssertEqual(Timestamps.year(ofMs: 1_704_067_198_000), 2023)
    }
}

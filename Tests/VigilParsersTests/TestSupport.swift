import XCTest
@testable import VigilParsers

/// 2024-03-15T00:00:00Z: fixed receive time so year inference is deterministic.
let received: Int64 = 1_710_460_800_000
/// 2024-03-10T12:00:00Z, the time most fixtures carry.
let march10noon: Int64 = 1_710_072_000_000

/// Parses through the standard chain and fails the test (with the reason) on failure.
func parseOK(_ line: String, hint: String? = nil, file: StaticString = #filePath, lineNo: UInt = #line) -> ParsedRecord {
    switch ParserChain.standard.parse(line, hint: hint, receivedAt: received) {
    case .success(let r): return r
    case .failure(let f):
        XCTFail("unexpected failure \(f.code): \(f.reason)", file: file, line: lineNo)
        return ParsedRecord(format: "<failed>")
    }
}

func parseFail(_ line: String, hint: String? = nil, file: StaticString = #filePath, lineNo: UInt = #line) -> ParseFailure {
    switch ParserChain.standard.parse(line, hint: hint, receivedAt: received) {
    case .success(let r):
        XCTFail("expected failure, got \(r.format) \(r.fields)", file: file, line: lineNo)
        return ParseFailure(code: "<succeeded>", reason: "")
    case .failure(let f): return f
    }
}

/// Runs one parser directly and unwraps its failure.
func directFailure(_ p: some LogParser, _ line: String, file: StaticString = #filePath, lineNo: UInt = #line) -> ParseFailure {
    switch p.parse(line, receivedAt: received) {
    case .failure(let f)?: return f
    case .success(let r)?:
        XCTFail("expected failure, got \(r.fields)", file: file, line: lineNo)
    case nil:
        XCTFail("parser said 'not my format'", file: file, line: lineNo)
    }
    return ParseFailure(code: "", reason: "")
}

/// Asserts that every expected field has exactly the expected value.
func assertFields(_ r: ParsedRecord, _ expected: [String: String], file: StaticString = #filePath, line: UInt = #line) {
    for (k, v) in expected.sorted(by: { $0.key < $1.key }) {
        XCTAssertEqual(r.fields[k], v, "field \(k)", file: file, line: line)
    }
}

func fixture(_ name: String) throws -> String {
    guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures") else {
        XCTFail("fixture \(name) missing from the test bundle")
        throw CocoaError(.fileNoSuchFile)
    }
    return try String(contentsOf: url, encoding: .utf8)
}

import XCTest
@testable import VigilImport

final class RecordSplitterTests: XCTestCase {
    func split(_ text: String, chunk: Int, max: Int = 1 << 20, json: Bool = true) -> ([FileRecord], Int) {
        var s = RecordSplitter(maxRecordBytes: max, jsonObjects: json)
        let bytes = Array(text.utf8)
        var out: [FileRecord] = []
        var i = 0
        while i < bytes.count {
            out += s.feed(bytes[i..<min(bytes.count, i + chunk)])
            i += chunk
        }
        if let r = s.finish() { out.append(r) }
        return (out, s.cuts)
    }

    func strings(_ rs: [FileRecord]) -> [String] { rs.map { String(decoding: $0.bytes, as: UTF8.self) } }

    func testLinesPrettyJSONAndOffsetsDoNotDependOnChunking() {
        let text = "<13>Mar 10 12:00:00 h app: one\r\n\n{\"a\":1}\n{\n  \"Event\": {\n    \"x\": \"}{\\\"\"\n  }\n}\n{\n  \"b\": [1, {\"c\": 2}]\n}\nCEF:0|V|P|1|2|n|3|\nlast-no-newline"
        let expected = ["<13>Mar 10 12:00:00 h app: one", "{\"a\":1}", "{\n  \"Event\": {\n    \"x\": \"}{\\\"\"\n  }\n}",
                        "{\n  \"b\": [1, {\"c\": 2}]\n}", "CEF:0|V|P|1|2|n|3|", "last-no-newline"]
        let (whole, _) = split(text, chunk: 1 << 20)
        XCTAssertEqual(strings(whole), expected)
        for chunk in [1, 2, 3, 7, 64] {
            XCTAssertEqual(split(text, chunk: chunk).0, whole, "chunk \(chunk)")
        }
        // Offsets point at the record in the input.
        let bytes = Array(text.utf8)
        for r in whole { XCTAssertEqual(Array(bytes[Int(r.offset)..<Int(r.endOffset)]), r.bytes) }
        // The whole-file form gives the same records, the unterminated last one included.
        XCTAssertEqual(RecordSplitter.records(in: bytes), whole)
    }

    func testBrokenJSONDoesNotSwallowTheFile() {
        let text = "{\"a\": \"unterminated\nnext line\n{\n  \"open\": 1\n{\"ok\":true}\n"
        let (rs, _) = split(text, chunk: 5)
        XCTAssertEqual(strings(rs), ["{\"a\": \"unterminated", "next line", "{\n  \"open\": 1", "{\"ok\":true}"])
    }

    func testJSONDetectionOffKeepsLinesAndLongRecordsAreCutAndCounted() {
        let (rs, cuts) = split("{\n}\n" + String(repeating: "x", count: 25) + "\n", chunk: 4, max: 10, json: false)
        XCTAssertEqual(strings(rs), ["{", "}", "xxxxxxxxxx", "xxxxxxxxxx", "xxxxx"])
        XCTAssertEqual(cuts, 2)
    }
}

import Foundation
import XCTest
@testable import VigilEvents

final class JSONTextTests: XCTestCase {
    func testEscapingRoundTripsThroughAJSONParser() throws {
        var rng = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["a", "Z", "0", " ", "\"", "\\", "\n", "\r", "\t", "\u{1}", "\u{1f}", "é", "✓", "𝄞", "/", "{", ":"]
        for _ in 0..<2000 {
            var m: [String: String] = [:]
            for _ in 0..<Int.random(in: 0...6, using: &rng) {
                let k = String((0..<Int.random(in: 0...8, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
                let v = String((0..<Int.random(in: 0...20, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
                m[k] = v
            }
            let text = JSONText.object(m)
            let parsed = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String], text)
            XCTAssertEqual(parsed, m)
            XCTAssertEqual(JSONText.parseObject(text), m)
        }
    }

    func testKeysAreSortedAndControlCharactersEscaped() {
        XCTAssertEqual(JSONText.object(["b": "1", "a": "x\"y\\z\n\u{1}"]), #"{"a":"x\"y\\z\n\u0001","b":"1"}"#)
        XCTAssertEqual(JSONText.string(""), #""""#)
    }

    func testEscapeScanFindsEveryByteThatNeedsAnEscape() {
        for b in 0...255 {
            for pos in 0..<8 {
                var w = [UInt8](repeating: UInt8(ascii: "a"), count: 8)
                w[pos] = UInt8(b)
                let v = w.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                XCTAssertEqual(JSONText.needsEscape(v), b < 0x20 || b == 0x22 || b == 0x5C, "byte \(b) at \(pos)")
            }
        }
    }
}

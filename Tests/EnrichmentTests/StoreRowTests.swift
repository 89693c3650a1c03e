import Foundation
import XCTest
import VigilEvents
import VigilWire
@testable import EnrichmentService

/// StoreRow writes the events row's JSON columns from the decoder's entries; the text must be
/// what JSONText.object writes for the decoded dictionaries (sorted keys, the same escapes).
final class StoreRowTests: XCTestCase {
    func text(_ row: StoreRow, _ r: Range<Int>) -> String { String(decoding: row.text.bytes(r), as: UTF8.self) }

    func testWireEntriesGiveJSONTextOfTheDecodedMaps() throws {
        var rng = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["a", "Z", "0", ".", "_", " ", "\"", "\\", "\n", "\r", "\t", "\u{1}", "\u{1f}", "é", "✓", "𝄞", "/", "{", ":"]
        func word(_ n: ClosedRange<Int>) -> String {
            String((0..<Int.random(in: n, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
        }
        let row = StoreRow()
        for round in 0..<1500 {
            var e = Event()
            e.id = "e\(round)"
            // Keys sharing long prefixes (the 8-byte sort prefix ties), short keys, empty keys and values.
            for _ in 0..<Int.random(in: 0...12, using: &rng) { e.fields["event." + word(0...10)] = word(0...40) }
            for _ in 0..<Int.random(in: 0...6, using: &rng) { e.original[word(0...4)] = word(0...12) }
            if round % 3 == 0 { e.enriched["asset.id"] = word(1...6) }
            let bytes = e.encoded()
            let plain = try Event(decoding: bytes)
            row.reset()
            let d = try Event(decoding: bytes, keepOriginal: false, entry: { row.add($0, key: $1, value: $2) })
            XCTAssertEqual(d.fields, e.fields)
            XCTAssertTrue(d.original.isEmpty)
            row.finish(enriched: d.enriched)
            XCTAssertEqual(text(row, row.fields), JSONText.object(plain.fields))
            XCTAssertEqual(text(row, row.original), JSONText.object(plain.original))
            XCTAssertEqual(text(row, row.enriched), JSONText.object(plain.enriched))
            // The dictionary path (EventRows.insert for events not decoded by the service) too.
            row.reset()
            row.add(.fields, e.fields); row.add(.original, e.original); row.finish(enriched: e.enriched)
            XCTAssertEqual(text(row, row.fields), JSONText.object(e.fields))
            XCTAssertEqual(text(row, row.original), JSONText.object(e.original))
        }
    }

    func testRepeatedKeysAndInvalidUTF8AsTheDictionaryDecoderHasThem() throws {
        let row = StoreRow()
        // Two entries with one key (the later one wins, as in the decoded dictionary) and bytes
        // that are not UTF-8 (repaired as String(cString:) repairs them).
        let entries: [(EventMap, [UInt8], [UInt8])] = [
            (.fields, Array("k".utf8), Array("first".utf8)),
            (.fields, Array("bad".utf8), [0x61, 0xFF, 0x62]),
            (.original, [0xC3], Array("x".utf8)),
            (.fields, Array("k".utf8), Array("second".utf8)),
        ]
        for (m, k, v) in entries { k.withUnsafeBytes { kb in v.withUnsafeBytes { vb in row.add(m, key: kb, value: vb) } } }
        row.finish(enriched: [:])
        XCTAssertEqual(text(row, row.fields), JSONText.object(["k": "second", "bad": String(decoding: [0x61, 0xFF, 0x62] as [UInt8], as: UTF8.self)]))
        XCTAssertEqual(text(row, row.original), JSONText.object([String(decoding: [0xC3] as [UInt8], as: UTF8.self): "x"]))
        XCTAssertEqual(text(row, row.enriched), "{}")
    }
}

import XCTest
import Foundation
@testable import VigilWire

/// The Event decode path unpacks into a per-thread bump arena. These tests hold it to the
/// decode it replaced: `EventBatch` still unpacks with protobuf-c's malloc allocator, so each
/// event's bytes wrapped as a one-event batch go through the old path and must give the same
/// value — or both must be rejected.
final class EventDecodeTests: XCTestCase {
    /// `events` (field 3, length-delimited) holding `bytes`.
    func asBatch(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1a]
        var n = UInt64(bytes.count)
        while n >= 0x80 { out.append(UInt8(n & 0x7f) | 0x80); n >>= 7 }
        out.append(UInt8(n))
        return out + bytes
    }

    func reference(_ bytes: [UInt8]) -> Event? {
        guard let b = try? EventBatch(decoding: asBatch(bytes)) else { return nil }
        return b.events.first ?? Event()
    }

    func randomString(_ rng: inout SeededGenerator, maxLength: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz.ABC_0123456789 -:/\\\"{}é✓😀\u{0}ü")
        let n = Int(rng.next() % UInt64(maxLength + 1))
        return String((0..<n).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
    }

    func randomEvent(_ rng: inout SeededGenerator) -> Event {
        var e = Event()
        e.id = randomString(&rng, maxLength: 40)
        e.eventTimeMs = Int64(bitPattern: rng.next())
        e.receivedTimeMs = Int64(rng.next() % 2_000_000_000_000)
        e.source = randomString(&rng, maxLength: 12)
        e.format = ["linux-auth", "cef", "windows-json", ""][Int(rng.next() % 4)]
        e.raw = (0..<Int(rng.next() % 300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        e.parseStatus = [.unspecified, .parsed, .unparsed][Int(rng.next() % 3)]
        e.parseError = rng.next() % 4 == 0 ? randomString(&rng, maxLength: 30) : ""
        for _ in 0..<Int(rng.next() % 45) { e.fields[randomString(&rng, maxLength: 35)] = randomString(&rng, maxLength: 60) }
        for _ in 0..<Int(rng.next() % 10) { e.original[randomString(&rng, maxLength: 20)] = randomString(&rng, maxLength: 20) }
        for _ in 0..<Int(rng.next() % 10) { e.enriched[randomString(&rng, maxLength: 30)] = randomString(&rng, maxLength: 20) }
        e.partitionKey = randomString(&rng, maxLength: 16)
        e.partition = UInt32(truncatingIfNeeded: rng.next())
        e.sender = randomString(&rng, maxLength: 20)
        return e
    }

    func testVariedEventsDecodeAsBeforeAndRoundTrip() throws {
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<2000 {
            let e = randomEvent(&rng)
            let bytes = e.encoded()
            let decoded = try Event(decoding: bytes)
            XCTAssertEqual(decoded, reference(bytes))
            // Embedded NULs come back as U+FFFD (the encoder's rule); everything else as sent.
            var expected = e
            func visible(_ s: String) -> String { s.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") }
            func visible(_ m: [String: String]) -> [String: String] {
                Dictionary(m.map { (visible($0.key), visible($0.value)) }, uniquingKeysWith: { a, _ in a })
            }
            if !(e.fields.keys.contains { $0.contains("\u{0}") } || e.original.keys.contains { $0.contains("\u{0}") }
                 || e.enriched.keys.contains { $0.contains("\u{0}") }) {
                expected.id = visible(e.id); expected.source = visible(e.source); expected.parseError = visible(e.parseError)
                expected.partitionKey = visible(e.partitionKey); expected.sender = visible(e.sender)
                expected.fields = visible(e.fields); expected.original = visible(e.original); expected.enriched = visible(e.enriched)
                XCTAssertEqual(decoded, expected)
            }
        }
    }

    /// Corrupted encodings: every accept/reject decision and every accepted value matches the
    /// malloc path, and a rejection is the same precise error as before.
    func testMutatedBytesDecodeOrFailAsBefore() {
        var rng = SeededGenerator(seed: 99)
        var accepted = 0, rejected = 0
        for _ in 0..<3000 {
            var bytes = randomEvent(&rng).encoded()
            if bytes.isEmpty { continue }
            switch rng.next() % 4 {
            case 0: bytes[Int(rng.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
            case 1: bytes.removeLast(Int(rng.next() % UInt64(bytes.count)))
            case 2: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: Int(rng.next() % UInt64(bytes.count)))
            default: bytes += (0..<Int(rng.next() % 8)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            }
            let ref = reference(bytes)
            do {
                let got = try Event(decoding: bytes)
                XCTAssertEqual(got, ref, "bytes \(bytes)")
                accepted += 1
            } catch let w as WireError {
                XCTAssertNil(ref, "arena path rejected what the malloc path accepts: \(bytes)")
                XCTAssertEqual(w.code, .malformed)
                XCTAssertEqual(w.messageType, "vigil.v1.Event")
                XCTAssertEqual(w.byteCount, bytes.count)
                rejected += 1
            } catch { XCTFail("not a WireError: \(error)") }
        }
        XCTAssertGreaterThan(accepted, 100)
        XCTAssertGreaterThan(rejected, 100)
    }

    func testUnknownFieldsAndInvalidUTF8DecodeAsBefore() throws {
        // id = FF 41 (invalid UTF-8, repaired), an unknown varint field 99, unknown bytes field 100.
        let bytes: [UInt8] = [0x0a, 2, 0xff, 0x41, 0x98, 0x06, 0x05, 0xa2, 0x06, 3, 1, 2, 3, 0x2a, 3, 0x63, 0x65, 0x66]
        let e = try Event(decoding: bytes)
        XCTAssertEqual(e.id, "\u{FFFD}A")
        XCTAssertEqual(e.format, "cef")
        XCTAssertEqual(e, reference(bytes))
    }

    /// Map keys come from a per-thread cache slotted by length and first/last 8 bytes: keys
    /// equal there but different in the middle share a slot and must still come back apart.
    func testKeysSharingACacheSlotStayDistinct() throws {
        for round in 0..<3 {
            for middle in ["X", "Y", "\u{e9}", "Z"] {
                var e = Event()
                e.fields = ["aaaaaaaa\(middle)bbbbbbbb": "v\(round)", "short": middle]
                e.enriched = ["aaaaaaaa\(middle)bbbbbbbb": middle]
                XCTAssertEqual(try Event(decoding: e.encoded()), e)
            }
        }
        // Invalid UTF-8 in a key (FF) is repaired the same way on a cache hit as on a miss.
        let entry: [UInt8] = [0x0a, 3, 0x6b, 0xff, 0x6b, 0x12, 1, 0x76]
        let bytes: [UInt8] = [0x4a, UInt8(entry.count)] + entry
        for _ in 0..<3 { XCTAssertEqual(try Event(decoding: bytes).fields, ["k\u{FFFD}k": "v"]) }
    }

    /// Messages larger than the arena's chunk take overflow chunks; later small ones reuse the
    /// (grown) base. Values stay intact across both.
    func testLargeEventsBetweenSmallOnes() throws {
        var rng = SeededGenerator(seed: 3)
        var big = randomEvent(&rng)
        big.raw = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        for i in 0..<3000 { big.fields["field.\(i).name.long.enough.to.allocate"] = String(repeating: "v", count: i % 50) }
        let small = randomEvent(&rng)
        let (bigBytes, smallBytes) = (big.encoded(), small.encoded())
        for _ in 0..<3 {
            let b = try Event(decoding: bigBytes)
            XCTAssertEqual(b, reference(bigBytes))
            XCTAssertEqual(b.raw, big.raw)
            XCTAssertEqual(b.fields["field.2999.name.long.enough.to.allocate"], String(repeating: "v", count: 2999 % 50))
            XCTAssertEqual(try Event(decoding: smallBytes), reference(smallBytes))
        }
    }

    func testThreadsDecodeConcurrently() {
        var rng = SeededGenerator(seed: 11)
        let events = (0..<200).map { _ -> Event in var e = randomEvent(&rng); e.fields = e.fields.filter { !$0.key.contains("\u{0}") && !$0.value.contains("\u{0}") }; e.original = [:]; e.enriched = [:]; e.id = "x"; e.source = ""; e.parseError = ""; e.partitionKey = ""; e.sender = ""; return e }
        let encoded = events.map { $0.encoded() }
        let mismatches = Counter()
        DispatchQueue.concurrentPerform(iterations: 4) { t in
            for round in 0..<20 {
                for i in 0..<encoded.count where (i + t + round) % 2 == 0 {
                    if (try? Event(decoding: encoded[i])) != events[i] { mismatches.add() }
                }
            }
        }
        XCTAssertEqual(mismatches.value, 0)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.lock(); n += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}

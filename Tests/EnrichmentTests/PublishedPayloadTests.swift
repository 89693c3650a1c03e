import XCTest
import VigilWire
@testable import EnrichmentService

/// The enriched event is published as the received bytes plus the `enriched` entries
/// (EnrichmentService.enrichedPayload); any decoder must read exactly the enriched event.
final class PublishedPayloadTests: XCTestCase {
    func event() -> Event {
        var e = Event()
        e.id = "0190a1b2c3d4-0001"
        e.eventTimeMs = 1_733_000_000_123
        e.receivedTimeMs = 1_733_000_000_456
        e.source = "syslog-tcp"
        e.format = "linux-auth"
        e.raw = Array("<38>Dec  5 01:00:00 web01 sshd[1]: Failed password for root from 198.51.100.7 port 22 ssh2".utf8)
        e.parseStatus = .parsed
        e.fields = ["source.ip": "198.51.100.7", "user.name": "root", "message": "Failed password", "host.name": "web01"]
        e.original = ["pid": "1"]
        e.partitionKey = "198.51.100.7"
        e.partition = 7
        e.sender = "10.0.0.1:5514"
        return e
    }

    func testNotEnrichedIsPublishedAsReceived() throws {
        let e = event()
        let received = e.encoded()
        let out = EnrichmentService.enrichedPayload(received, e, receivedEnriched: [:])
        XCTAssertEqual(out, received)
        XCTAssertEqual(try Event(decoding: out), e)
    }

    func testAddedValuesDecodeAsTheEnrichedEvent() throws {
        var e = event()
        let received = e.encoded()
        e.enriched = ["asset.id": "a-1", "asset.criticality": "high", "user.full_name": "Zoë Ünïcode", "threat.indicator.confidence": "80"]
        let out = EnrichmentService.enrichedPayload(received, e, receivedEnriched: [:])
        XCTAssertNotEqual(out, received)
        XCTAssertEqual(try Event(decoding: out), e)
    }

    /// Top-level entries of the `enriched` map (field 11) on the wire, as a decoder that keeps
    /// map entries as a list sees them.
    func enrichedEntriesOnTheWire(_ b: [UInt8], field: UInt64 = 11) -> Int {
        var i = 0, n = 0
        func varint() -> UInt64 {
            var v: UInt64 = 0, shift: UInt64 = 0
            while i < b.count { let x = b[i]; i += 1; v |= UInt64(x & 0x7f) << shift; if x < 0x80 { break }; shift += 7 }
            return v
        }
        while i < b.count {
            let tag = varint()
            switch tag & 7 {
            case 0: _ = varint()
            case 1: i += 8
            case 2: let len = Int(varint()); i += len
            case 5: i += 4
            default: return -1
            }
            if tag >> 3 == field { n += 1 }
        }
        return n
    }

    func testAppendedValuesAreOnTheWireOnce() throws {
        var e = event()
        let received = e.encoded()
        e.enriched = ["asset.id": "a-1", "asset.criticality": "high"]
        XCTAssertEqual(enrichedEntriesOnTheWire(EnrichmentService.enrichedPayload(received, e, receivedEnriched: [:])), 2)
    }

    func testAnEventReceivedWithEnrichedValuesIsPublishedWithEachKeyOnce() throws {
        var e = event()
        e.enriched = ["asset.id": "old", "asset.name": "OLD"]
        let received = e.encoded()
        XCTAssertEqual(enrichedEntriesOnTheWire(received), 2)
        e.enriched["asset.id"] = "new"
        e.enriched["threat.indicator.type"] = "ip"
        // Decoded as enrichment does: without `original`.
        var stripped = e
        stripped.original = [:]
        let out = EnrichmentService.enrichedPayload(received, stripped, receivedEnriched: ["asset.id": "old", "asset.name": "OLD"])
        XCTAssertEqual(enrichedEntriesOnTheWire(out), 3, "each key once, not the received two plus three")
        XCTAssertEqual(try Event(decoding: out), e, "original kept, enriched values replaced and added")
        // Unchanged values: published as received.
        var same = try Event(decoding: received)
        same.original = [:]
        XCTAssertEqual(EnrichmentService.enrichedPayload(received, same, receivedEnriched: same.enriched), received)
    }

    func testFieldsUnknownToThisVersionPassThroughAReplacedMap() throws {
        var e = event()
        e.enriched = ["asset.id": "old"]
        // Field 99 (varint 1): a field a newer producer could add.
        let received = e.encoded() + [0x98, 0x06, 0x01]
        XCTAssertEqual(enrichedEntriesOnTheWire(received, field: 99), 1)
        e.enriched["asset.id"] = "new"
        let out = EnrichmentService.enrichedPayload(received, e, receivedEnriched: ["asset.id": "old"])
        XCTAssertEqual(enrichedEntriesOnTheWire(out, field: 99), 1)
        XCTAssertEqual(enrichedEntriesOnTheWire(out), 1)
        XCTAssertEqual(try Event(decoding: out).enriched, ["asset.id": "new"])
    }

    func testValuesThatReplaceReceivedOnesWin() throws {
        var e = event()
        e.enriched = ["asset.id": "old", "asset.name": "OLD"]
        let received = e.encoded()
        // Same keys, new values: the count does not change, the published event must.
        e.enriched["asset.id"] = "new"
        e.enriched["asset.name"] = "NEW"
        let out = EnrichmentService.enrichedPayload(received, e, receivedEnriched: ["asset.id": "old", "asset.name": "OLD"])
        let back = try Event(decoding: out)
        XCTAssertEqual(back, e)
        XCTAssertEqual(back.enriched["asset.id"], "new")
    }
}

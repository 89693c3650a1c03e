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
        let out = EnrichmentService.enrichedPayload(received, e, enrichedBefore: 0)
        XCTAssertEqual(out, received)
        XCTAssertEqual(try Event(decoding: out), e)
    }

    func testAddedValuesDecodeAsTheEnrichedEvent() throws {
        var e = event()
        let received = e.encoded()
        e.enriched = ["asset.id": "a-1", "asset.criticality": "high", "user.full_name": "Zoë Ünïcode", "threat.indicator.confidence": "80"]
        let out = EnrichmentService.enrichedPayload(received, e, enrichedBefore: 0)
        XCTAssertNotEqual(out, received)
        XCTAssertEqual(try Event(decoding: out), e)
    }

    func testValuesThatReplaceReceivedOnesWin() throws {
        var e = event()
        e.enriched = ["asset.id": "old", "asset.name": "OLD"]
        let received = e.encoded()
        // Same keys, new values: the count does not change, the published event must.
        e.enriched["asset.id"] = "new"
        e.enriched["asset.name"] = "NEW"
        let out = EnrichmentService.enrichedPayload(received, e, enrichedBefore: 2)
        let back = try Event(decoding: out)
        XCTAssertEqual(back, e)
        XCTAssertEqual(back.enriched["asset.id"], "new")
    }
}

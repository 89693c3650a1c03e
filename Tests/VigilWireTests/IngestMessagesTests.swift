import XCTest
@testable import VigilWire

final class IngestMessagesTests: XCTestCase {
    func testSourcesRoundTrip() throws {
        var r = SourcesResponse()
        r.instance = "ingest-0"
        r.sources = [
            SourceStatus(source: "file:/var/log/auth.log", events: 12, bytes: UInt64(1) << 40, unparsed: 3,
                         lastSeenMs: 1_764_000_000_123, firstSeenMs: 1_763_000_000_000),
            SourceStatus(source: "json-tcp"),
        ]
        XCTAssertEqual(try SourcesResponse(decoding: r.encoded()), r)
        XCTAssertEqual(try SourcesResponse(decoding: []), SourcesResponse())
        XCTAssertEqual(try SourcesRequest(decoding: SourcesRequest().encoded()), SourcesRequest())
    }

    func testMalformedSourcesResponseIsAPreciseError() {
        XCTAssertThrowsError(try SourcesResponse(decoding: [0x12, 50, 1])) { err in
            XCTAssertEqual((err as? WireError)?.messageType, "vigil.v1.SourcesResponse")
        }
    }
}

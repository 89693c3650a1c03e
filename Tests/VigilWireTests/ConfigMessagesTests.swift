import XCTest
@testable import VigilWire

final class ConfigMessagesTests: XCTestCase {
    func testConfigMessagesRoundTrip() throws {
        let c = ConfigChange(sequence: 42, kind: "special_object", id: "blocklist", action: "updated",
                             objectJSON: #"{"id":"blocklist","members":["10.0.0.1"]}"#, actor: "ann", timeMs: 1_764_000_000_000)
        XCTAssertEqual(try ConfigChange(decoding: c.encoded()), c)
        let r = ConfigRequest(kind: "collector", id: "c1", objectJSON: "{}", confirm: true, limit: 7)
        XCTAssertEqual(try ConfigRequest(decoding: r.encoded()), r)
        let p = ConfigReply(json: "[1, 2]", nextCursor: "abc")
        XCTAssertEqual(try ConfigReply(decoding: p.encoded()), p)
        let s = ConfigSnapshot(head: 43, objects: [c, ConfigChange(sequence: 1, kind: "user_list", id: "u", action: "snapshot")], producerId: "config-0")
        XCTAssertEqual(try ConfigSnapshot(decoding: s.encoded()), s)
        XCTAssertEqual(try ConfigSnapshot(decoding: []), ConfigSnapshot())
        XCTAssertThrowsError(try ConfigChange(decoding: [0xff, 0xff, 0xff]))
    }
}

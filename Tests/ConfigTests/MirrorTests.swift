import XCTest
import VigilService
import VigilWire

/// Snapshot and stream arriving in either order give the newest state.
final class MirrorTests: XCTestCase {
    func change(_ seq: UInt64, _ id: String, _ members: [String], action: String = "updated") -> ConfigChange {
        let list = members.map { "\"\($0)\"" }.joined(separator: ",")
        return ConfigChange(sequence: seq, kind: "special_object", id: id, action: action,
                            objectJSON: action == "deleted" ? "" : #"{"id":"\#(id)","name":"\#(id)","type":"ips","members":[\#(list)]}"#)
    }

    func testNewerStateWinsWhateverTheOrder() {
        let m = SpecialObjectMirror()
        XCTAssertTrue(m.apply(change(5, "bl", ["1.1.1.1", "2.2.2.2"])))
        // An older snapshot must not roll the list back.
        m.load(ConfigSnapshot(head: 4, objects: [change(3, "bl", ["1.1.1.1"]), change(2, "old", ["9.9.9.9"])]))
        XCTAssertEqual(m.values(named: "bl"), ["1.1.1.1", "2.2.2.2"])
        XCTAssertEqual(m.values(named: "old"), ["9.9.9.9"])
        XCTAssertFalse(m.apply(change(4, "bl", [])), "replayed older change ignored")
        XCTAssertTrue(m.apply(change(6, "old", [], action: "deleted")))
        XCTAssertNil(m.values(named: "old"))
        // A snapshot taken before the delete does not resurrect it.
        m.load(ConfigSnapshot(head: 5, objects: [change(2, "old", ["9.9.9.9"])]))
        XCTAssertNil(m.values(named: "old"))
        // Objects gone from a newer snapshot are dropped.
        m.load(ConfigSnapshot(head: 9, objects: []))
        XCTAssertNil(m.values(named: "bl"))
        XCTAssertFalse(m.apply(ConfigChange(sequence: 10, kind: "user_list", id: "u")))
    }
}

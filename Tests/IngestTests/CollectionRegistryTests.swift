import XCTest
@testable import IngestService
import VigilWire

/// The rules that decide whether a line from an address is ingested, attributed or refused.
final class CollectionRegistryTests: XCTestCase {
    func change(_ seq: UInt64, _ kind: String, _ id: String, _ action: String, _ json: String = "", previous: String = "") -> ConfigChange {
        ConfigChange(sequence: seq, kind: kind, id: id, action: action, objectJSON: json, actor: "alice", previousJSON: previous)
    }

    let collector = #"{"id":"col1","appliance":"app1","status":"running","type":"syslog"}"#
    let source = #"{"id":"s1","collector":"col1","type":"linux","address":"10.1.0.7"}"#

    func testAttributesConfiguredAddressesAndAcceptsOthers() {
        let r = CollectionRegistry()
        XCTAssertEqual(r.apply(change(1, "collector", "col1", "created", collector)), [])
        XCTAssertEqual(r.apply(change(2, "event_source", "s1", "created", source)), [])
        XCTAssertEqual(r.decide(sender: "10.1.0.7:514", transport: "syslog-udp", nowMs: 1000),
                       .accept(.init(source: "s1", collector: "col1", appliance: "app1", type: "linux")))
        XCTAssertEqual(r.decide(sender: "10.9.9.9:514", transport: "syslog-udp", nowMs: 1000), .accept(nil))
        let s = r.collectorStatus(nowMs: 2000)
        XCTAssertEqual(s.map(\.events), [1])
        XCTAssertEqual(s.map(\.sources), [1])
        XCTAssertEqual(s.map(\.state), ["receiving"])
        XCTAssertEqual(r.collectorStatus(nowMs: 1000 + 300_001).map(\.state), ["silent"])
    }

    func testDisabledSourceAndStoppedCollectorRefuse() {
        let r = CollectionRegistry()
        _ = r.apply(change(1, "collector", "col1", "created", collector))
        _ = r.apply(change(2, "event_source", "s1", "created", #"{"collector":"col1","address":"10.1.0.7","enabled":false}"#))
        guard case .refuse(let why, "col1") = r.decide(sender: "10.1.0.7:1", transport: "syslog-udp", nowMs: 0) else { return XCTFail() }
        XCTAssertTrue(why.contains("'s1' is disabled"), why)
        _ = r.apply(change(3, "event_source", "s1", "updated", source))
        _ = r.apply(change(4, "collector", "col1", "updated", #"{"appliance":"app1","status":"stopped"}"#))
        guard case .refuse(let why2, _) = r.decide(sender: "10.1.0.7:1", transport: "syslog-tcp", nowMs: 0) else { return XCTFail() }
        XCTAssertTrue(why2.contains("collector 'col1' is stopped"), why2)
        XCTAssertEqual(r.refused(transport: "syslog-udp"), 1)
        XCTAssertEqual(r.refused(transport: "syslog-tcp"), 1)
        XCTAssertEqual(r.metrics["refused.source_disabled"], 1)
        XCTAssertEqual(r.metrics["refused.collector_stopped"], 1)
        XCTAssertEqual(r.collectorStatus(nowMs: 0).first?.refused, 2)
        XCTAssertEqual(r.collectorStatus(nowMs: 0).first?.state, "stopped")
    }

    func testDeleteStopsTheAddressUntilConfiguredAgain() {
        let r = CollectionRegistry()
        _ = r.apply(change(1, "collector", "col1", "created", collector))
        _ = r.apply(change(2, "event_source", "s1", "created", source))
        let stops = r.apply(change(3, "event_source", "s1", "deleted"))
        XCTAssertEqual(stops.count, 1)
        guard case .stop("10.1.0.7", let reason)? = stops.first else { return XCTFail("\(stops)") }
        XCTAssertTrue(reason.contains("'s1'") && reason.contains("alice"), reason)
        _ = r.apply(change(4, "collector", "col1", "deleted"))
        guard case .refuse = r.decide(sender: "10.1.0.7:9", transport: "syslog-udp", nowMs: 0) else { return XCTFail() }
        // A replayed older create does not bring the source back.
        XCTAssertEqual(r.apply(change(2, "event_source", "s1", "created", source)), [])
        guard case .refuse = r.decide(sender: "10.1.0.7:9", transport: "syslog-udp", nowMs: 0) else { return XCTFail() }
        // A new source at that address resumes it.
        _ = r.apply(change(5, "collector", "col2", "created", #"{"appliance":"app1"}"#))
        XCTAssertEqual(r.apply(change(6, "event_source", "s2", "created", #"{"collector":"col2","address":"10.1.0.7"}"#)),
                       [.resume(address: "10.1.0.7")])
        XCTAssertEqual(r.decide(sender: "10.1.0.7:9", transport: "syslog-udp", nowMs: 0),
                       .accept(.init(source: "s2", collector: "col2", appliance: "app1", type: "")))
    }

    /// A follower that never saw the source (it was down when it was created and deleted)
    /// learns the address from the delete's previous_json; stopped addresses survive restarts.
    func testDeleteOfAnUnseenSourceUsesPreviousJSONAndPersistedStops() {
        let r = CollectionRegistry()
        XCTAssertEqual(r.apply(change(9, "event_source", "s1", "deleted", previous: source)).count, 1)
        let restarted = CollectionRegistry(stopped: ["10.1.0.7": "event source 's1' was deleted"])
        guard case .refuse(let why, nil) = restarted.decide(sender: "[10.1.0.7]:5", transport: "json-tcp", nowMs: 0) else { return XCTFail() }
        XCTAssertEqual(why, "event source 's1' was deleted")
    }

    func testSnapshotLoadsOnlyNewerObjects() {
        let r = CollectionRegistry()
        _ = r.apply(change(7, "collector", "col1", "updated", #"{"appliance":"app1","status":"stopped"}"#))
        var snap = ConfigSnapshot(head: 8)
        snap.objects = [change(5, "collector", "col1", "snapshot", collector), change(6, "event_source", "s1", "snapshot", source),
                        change(1, "special_object", "x", "snapshot", "{}")]
        XCTAssertEqual(r.load(snap), [])
        XCTAssertEqual(r.collectorStatus(nowMs: 0).first?.status, "stopped", "the newer change wins over the older snapshot")
        XCTAssertEqual(r.metrics["collection.sources"], 1)
    }

    func testHostOfSender() {
        XCTAssertEqual(CollectionRegistry.host(of: "10.0.0.1:514"), "10.0.0.1")
        XCTAssertEqual(CollectionRegistry.host(of: "[2001:db8::1]:514"), "2001:db8::1")
        XCTAssertEqual(CollectionRegistry.host(of: "2001:db8::1"), "2001:db8::1")
        XCTAssertEqual(CollectionRegistry.host(of: "10.0.0.1"), "10.0.0.1")
    }
}

import Foundation
import XCTest
import VigilBus
import VigilWire

/// Threat-intel feeds defined as config objects (`intel_feed`): enrichment loads them without a
/// feeds file, matches events against them, keeps them across its restart, and drops a feed's
/// indicators when the object is deleted.
final class IntelFromConfigTests: XCTestCase {
    func testIntelFeedObjectsDriveEnrichment() throws {
        let stack = try TestStack()
        defer { stack.cleanup() }
        let list = "\(stack.dir)/iocs.txt"
        try "# test feed\n198.51.100.77\nbad.example\n".write(toFile: list, atomically: true, encoding: .utf8)
        try stack.start("vigil-config", name: "config")
        try stack.startCore(ingestArgs: ["--syslog.udp", "off", "--syslog.tcp", "off"])
        let c = try stack.client()
        defer { c.close() }
        func feeds() throws -> [FeedStatus] {
            try c.call(service: "enrichment", method: "intel.feeds", IntelReloadRequest(), as: FeedStatusList.self, timeoutMs: 10_000).feeds
        }
        func lookup(_ v: String) throws -> [ThreatIndicator] {
            try c.call(service: "enrichment", method: "intel.lookup", IntelLookupRequest(value: v), as: IntelLookupResponse.self, timeoutMs: 10_000).indicators
        }
        _ = try c.call(service: "config", method: "config.create",
                       ConfigRequest(kind: "intel_feed", objectJSON: #"{"id": "f1", "name": "soc-list", "format": "plain", "location": "\#(list)", "schedule": "1h"}"#),
                       as: ConfigReply.self, timeoutMs: 10_000)
        try stack.eventually("the config-defined feed loaded") { try feeds().first { $0.name == "soc-list" }?.indicators == 2 }
        XCTAssertEqual(try lookup("198.51.100.77").map(\.feed), ["soc-list"])
        XCTAssertEqual(try lookup("www.bad.example").map(\.value), ["bad.example"], "subdomains match")

        var b = EventBatch(); b.batchId = "intel-1"
        var e = Event()
        e.raw = Array(#"<189>date=2026-12-04 time=10:00:00 devname="fw01" type="traffic" subtype="forward" srcip=10.0.1.23 srcport=5000 dstip=198.51.100.77 dstport=443 proto=6 action="accept""#.utf8)
        b.events = [e]
        _ = try c.call(service: "ingest", method: "ingest.submit", b, as: EventBatchAck.self, timeoutMs: 10_000)
        try stack.eventually("the event matched the feed") {
            try c.call(service: "enrichment", method: "events.count", QueryRequest(query: "threat.indicator.feed: soc-list"),
                       as: CountResponse.self, timeoutMs: 10_000).count == 1
        }

        // After a restart the stored set is there before config answers, and config keeps it.
        stack.kill("enrichment", signal: SIGTERM)
        try stack.start("vigil-enrichment", name: "enrichment")
        try stack.waitHealthy(["enrichment"])
        try stack.eventually("still loaded after restart") {
            try stack.metrics("enrichment").counters["config.snapshot_loaded"] == 1 && (try lookup("198.51.100.77")).count == 1
        }

        // Deleting the object removes the feed and its indicators.
        _ = try c.call(service: "config", method: "config.delete", ConfigRequest(kind: "intel_feed", id: "f1"), as: ConfigReply.self, timeoutMs: 10_000)
        try stack.eventually("the feed is gone") { try feeds().isEmpty && (try lookup("198.51.100.77")).isEmpty }
    }
}

import Foundation
import XCTest
import VigilStore
import VigilWire
@testable import EnrichmentService

/// Asset versions on a real store: imports that change an asset start a new version, and an
/// event resolves to the asset its host name or address pointed to at the event's time.
final class AssetHistoryTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("assets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func asset(_ id: String, host: String, ip: String, criticality: String = "medium", at ms: Int64) -> AssetRecord {
        var a = AssetRecord()
        a.id = id; a.name = id.uppercased(); a.hostname = host; a.ip = ip; a.criticality = criticality; a.updatedTimeMs = ms
        return a
    }

    func testChangesMakeVersionsAndEventsResolveByTheirTime() throws {
        let db = try Database(path: dir.appendingPathComponent("enrichment.db").path)
        // One asset stored before history existed: after the upgrade it has one version, valid since ever.
        _ = try db.migrate(component: "enrichment", Array(EnrichmentService.migrations.prefix(4)))
        _ = try db.run("INSERT INTO assets(id, name, hostname, ip, criticality) VALUES('legacy', 'Legacy', 'old01', '10.9.9.9', 'low')")
        _ = try db.migrate(component: "enrichment", EnrichmentService.migrations)

        try AssetStore.save(asset("a", host: "web01", ip: "10.0.0.1", at: 1000), db)
        try AssetStore.save(asset("a", host: "web01", ip: "10.0.0.1", at: 1500), db)          // same values: no new version
        try AssetStore.save(asset("a", host: "web01", ip: "10.0.0.2", criticality: "high", at: 2000), db)  // readdressed
        try AssetStore.save(asset("b", host: "db01", ip: "10.0.0.1", at: 3000), db)           // takes over the old address
        try AssetStore.save(asset("a", host: "web01", ip: "10.0.0.2", criticality: "critical", at: 4000), db)
        try AssetStore.save(asset("a", host: "web01", ip: "10.0.0.2", criticality: "low", at: 4000), db) // same ms: replaces

        let versions = try AssetStore.loadVersions(db)
        XCTAssertEqual(versions.filter { $0.asset.id == "a" }.map { [$0.fromMs, $0.toMs] }, [[1000, 2000], [2000, 4000], [4000, 0]])
        XCTAssertEqual(versions.filter { $0.asset.id == "legacy" }.map { [$0.fromMs, $0.toMs] }, [[0, 0]])
        XCTAssertEqual(try db.scalar("SELECT criticality FROM assets WHERE id = 'a'")?.string, "low", "the assets table holds the current values")

        let index = AssetIndex(versions: versions)
        XCTAssertEqual(index.count, 3)
        func at(_ f: [String: String], _ t: Int64?) -> String? { index.resolve(f, at: t).map { "\($0.0.id)/\($0.0.criticality)" } }
        let ip1 = ["destination.ip": "10.0.0.1"]
        XCTAssertEqual(at(ip1, 1200), "a/medium", "10.0.0.1 was a's address then")
        XCTAssertEqual(at(ip1, 2500), nil, "a had moved away and b had not arrived")
        XCTAssertEqual(at(ip1, 3500), "b/medium")
        XCTAssertEqual(at(ip1, nil), "b/medium")
        XCTAssertEqual(at(["host.ip": "10.0.0.2"], 2500), "a/high")
        XCTAssertEqual(at(["host.name": "WEB01.corp"], 3999), "a/high")
        XCTAssertEqual(at(["host.name": "web01"], 4000), "a/low")
        XCTAssertEqual(at(["host.name": "web01"], 10), "a/medium", "an event older than the asset's first import: its first version")
        XCTAssertEqual(at(["host.name": "old01"], 10), "legacy/low")

        // The enricher uses the event's time.
        let enricher = Enricher()
        enricher.assets = index
        var e = Event(); e.eventTimeMs = 1200; e.fields = ["destination.ip": "10.0.0.1"]
        enricher.enrich(&e, nowMs: 5000)
        XCTAssertEqual(e.enriched["asset.id"], "a")
        var later = Event(); later.eventTimeMs = 3500; later.fields = ["destination.ip": "10.0.0.1"]
        enricher.enrich(&later, nowMs: 5000)
        XCTAssertEqual(later.enriched["asset.id"], "b")
    }
}

import XCTest
@testable import VigilWire

/// Library, dashboard, signal-deletion and signal-detail messages survive protobuf-c both ways.
final class DetectionMessagesTests: XCTestCase {
    func testLibraryMessagesRoundTrip() throws {
        var e = LibraryEntry()
        e.summary.id = "r1"; e.summary.name = "Rule"; e.summary.criticality = .high; e.summary.tacticIds = ["TA0006"]; e.summary.signalCount = 3
        e.description = "why"; e.installed = true; e.installedStatus = "active"; e.installedModified = true; e.copies = 2; e.tests = 4
        XCTAssertEqual(try LibraryPage(decoding: LibraryPage(entries: [e, LibraryEntry()]).encoded()).entries, [e, LibraryEntry()])
        var d = LibraryDetail()
        d.entry = e; d.ruleJson = "{}"; d.explanation = "5 or more"
        XCTAssertEqual(try LibraryDetail(decoding: d.encoded()), d)
        XCTAssertEqual(try DeleteSignalsResponse(decoding: DeleteSignalsResponse(ruleId: "r1", deleted: 42).encoded()), DeleteSignalsResponse(ruleId: "r1", deleted: 42))
        XCTAssertThrowsError(try LibraryPage(decoding: [0xff, 0xff, 0xff]))
    }

    func testDashboardRoundTrip() throws {
        let req = DashboardRequest(fromTimeMs: 1, toTimeMs: 2, query: "user.name: alice")
        XCTAssertEqual(try DashboardRequest(decoding: req.encoded()), req)
        var d = Dashboard()
        d.fromTimeMs = 1; d.toTimeMs = 2; d.total = 7
        d.byStage = [DashboardBucket(key: "TA0043", name: "Reconnaissance", count: 0), DashboardBucket(key: "TA0006", name: "Credential Access", count: 7)]
        d.topTactics = [DashboardBucket(key: "TA0006", name: "Credential Access", count: 7)]
        d.topUsers = [DashboardBucket(key: "alice", count: 5)]
        d.topAssets = [DashboardBucket(key: "Web", count: 7)]
        d.byCriticality = [DashboardBucket(key: "high", count: 7)]
        XCTAssertEqual(try Dashboard(decoding: d.encoded()), d)
    }

    func testSignalDetailRoundTripWithAndWithoutAsset() throws {
        var d = SignalDetail()
        d.signal.id = "s1"; d.signal.eventIds = ["e1"]
        var e = Event()
        e.id = "e1"; e.raw = Array("line".utf8); e.fields = ["user.name": "bob"]; e.enriched = ["asset.id": "a-web"]
        d.events = [e]
        d.lookupError = "asset: timeout"
        XCTAssertEqual(try SignalDetail(decoding: d.encoded()), d)
        var a = AssetRecord()
        a.id = "a-web"; a.name = "Web"; a.criticality = "high"; a.tags = ["dmz"]
        d.asset = a
        XCTAssertEqual(try SignalDetail(decoding: d.encoded()), d)
    }
}

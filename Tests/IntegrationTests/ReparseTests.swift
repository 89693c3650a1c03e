import Foundation
import XCTest
import VigilBus
import VigilWire

/// `ingest.reparse` / `vigil events reparse` with the real services: events stored unparsed
/// (as an older parser left them) are parsed again, replace their stored rows with the same
/// id, and flow through detection; what still does not parse stays unparsed; repeating is safe.
final class ReparseTests: XCTestCase {
    func testReparseReplacesUnparsedEventsAndIsSafeToRepeat() throws {
        let stack = try TestStack()
        defer { stack.cleanup() }
        try stack.startCore(ingestArgs: ["--syslog.udp", "off", "--syslog.tcp", "off"])
        let c = try stack.client()
        defer { c.close() }
        // Two sshd lines an older Vigil could not parse (the sender marked them unparsed), one garbage line.
        var batch = EventBatch()
        batch.batchId = "old-parser"
        for (i, raw) in ["<38>Dec  4 09:15:11 web01 sshd[1]: Failed password for alice from 203.0.113.5 port 4000 ssh2",
                         "<38>Dec  4 09:15:12 web01 sshd[1]: Accepted password for alice from 203.0.113.5 port 4001 ssh2",
                         "\u{01}\u{02} still nothing a parser knows"].enumerated() {
            var e = Event()
            e.id = "old-\(i)"
            e.raw = Array(raw.utf8)
            e.parseStatus = .unparsed
            e.parseError = "no_parser: written before the sshd parser existed"
            batch.events.append(e)
        }
        _ = try c.call(service: "ingest", method: "ingest.submit", batch, as: EventBatchAck.self)
        func count(_ q: String) throws -> UInt64 {
            try c.call(service: "enrichment", method: "events.count", QueryRequest(query: q), as: CountResponse.self).count
        }
        try stack.eventually("three unparsed events stored") { try count("event.parse_status: unparsed") == 3 }
        try stack.eventually("detection saw them") { try stack.metrics("detection").counters["evaluated"] == 3 }

        let run = try stack.vigil(["events", "reparse", "--json"])
        XCTAssertEqual(run.status, 0, run.err)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.out.utf8)) as? [String: Any], run.out)
        XCTAssertEqual(summary["examined"] as? Int, 3)
        XCTAssertEqual(summary["reparsed"] as? Int, 2)
        XCTAssertEqual(summary["still_unparsed"] as? Int, 1)

        try stack.eventually("the two rows replaced") { try count("event.reparsed: true and user.name: alice and event.format: linux-auth") == 2 }
        XCTAssertEqual(try count("event.parse_status: unparsed"), 1)
        XCTAssertEqual(try count(""), 3, "replaced in place, not added")
        let e = try c.call(service: "enrichment", method: "events.get", GetRequest(id: "old-0"), as: Event.self)
        XCTAssertEqual(e.fields["event.outcome"], "failure")
        XCTAssertEqual(e.fields["source.ip"], "203.0.113.5")
        try stack.eventually("detection evaluated the reparsed events") { try stack.metrics("detection").counters["evaluated"] == 5 }
        XCTAssertEqual(try stack.metrics("enrichment").counters["events.reparsed"], 2)

        // Again: only the garbage line is left, and nothing changes.
        let again = try stack.vigil(["events", "reparse"])
        XCTAssertEqual(again.status, 0, again.err)
        XCTAssertTrue(again.out.contains("1 unparsed events examined: 0 now parsed"), again.out)
        // A query narrows it; a bad query is reported with the caret.
        let none = try stack.vigil(["events", "reparse", "host.name: nosuchhost"])
        XCTAssertTrue(none.out.contains("no unparsed events match"), none.out)
        let bad = try stack.vigil(["events", "reparse", "user.name: (alice"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.err.contains("bad query"), bad.err)

        // The RPC refuses a batch with events it cannot place.
        var broken = EventBatch(); var x = Event(); x.raw = Array("x".utf8); broken.events = [x]
        XCTAssertThrowsError(try c.call(service: "ingest", method: "ingest.reparse", broken, as: EventBatchAck.self)) { err in
            XCTAssertTrue("\(err)".contains("id and raw are required"), "\(err)")
        }
    }
}

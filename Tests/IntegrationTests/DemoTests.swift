import Foundation
import XCTest

/// `vigil demo` against the real services: every generated line parses, enrichment resolves
/// assets and the demo feed, the four attacks each raise their signal, and a rerun in the
/// same hour stores and raises nothing twice.
final class DemoTests: XCTestCase {
    func testDemoDayRaisesTheFourAttacksAndIsRerunSafe() throws {
        let stack = try TestStack()
        defer { stack.cleanup() }
        try stack.startCore(ingestArgs: ["--syslog.udp", "off", "--syslog.tcp", "off"])
        try stack.start("vigil-user-analytics", name: "user-analytics")
        try stack.waitHealthy(["user-analytics"])
        // One end time for every run, so an hour boundary between runs cannot change the batch ids.
        let at = String(Int64(Date().timeIntervalSince1970 * 1000))
        let run = try stack.vigil(["demo", "--json", "--at", at], timeoutS: 120)
        XCTAssertEqual(run.status, 0, run.err + run.out)
        let r = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.out.utf8)) as? [String: Any], run.out)
        let lines = try XCTUnwrap(r["lines"] as? Int)
        XCTAssertGreaterThan(lines, 1000)
        XCTAssertEqual(r["accepted"] as? Int, lines)
        XCTAssertEqual(r["unparsed"] as? Int, 0, "every demo line is in a format a parser knows")
        XCTAssertEqual(r["stored"] as? Int, lines)
        XCTAssertGreaterThan(r["threat_matches"] as? Int ?? 0, 50, "the beacon runs every 5 minutes for 9 hours")
        let signals = try XCTUnwrap(r["signals"] as? [[String: Any]])
        let rules = Set(signals.compactMap { $0["rule"] as? String })
        for attack in ["SSH brute force from one address", "SSH login succeeds after repeated failures",
                       "Office application starts a shell", "Encoded PowerShell command line",
                       "Connection to a threat-intel indicator", "Local Linux account created", "Account added to sudo or wheel group"] {
            XCTAssertTrue(rules.contains(attack), "no signal from '\(attack)'; got \(rules.sorted())")
        }
        let beacon = signals.filter { $0["rule"] as? String == "Connection to a threat-intel indicator" }
        XCTAssertTrue(beacon.allSatisfy { $0["ip"] as? String == "10.0.1.23" || $0["ip"] as? String == "198.51.100.77" }, "\(beacon)")
        XCTAssertLessThanOrEqual(beacon.count, 10, "suppression: one signal per hour of beaconing")

        let again = try stack.vigil(["demo", "--json", "--at", at], timeoutS: 120)
        XCTAssertEqual(again.status, 0, again.err)
        let r2 = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(again.out.utf8)) as? [String: Any], again.out)
        XCTAssertEqual(r2["stored"] as? Int, lines, "nothing stored twice")
        XCTAssertEqual(r2["signals_new"] as? Int, 0, "nothing raised twice")

        let text = try stack.vigil(["demo", "--at", at], timeoutS: 120)
        XCTAssertTrue(text.out.contains("four attacks"), text.out)
        XCTAssertTrue(text.out.contains("SSH brute force from one address"), text.out)
        XCTAssertTrue(text.out.contains("riskiest users"), text.out)
        XCTAssertTrue(text.out.contains("admin (privileged)"), "the brute-forced admin account is among the riskiest:\n\(text.out)")
    }

    func testDemoWithoutAStackSaysWhatToDo() throws {
        let stack = try TestStack()
        defer { stack.cleanup() }
        let r = try stack.vigil(["demo"], timeoutS: 30)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("is not answering; start it with `vigil up"), r.err)
    }
}

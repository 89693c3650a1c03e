import Foundation
import XCTest
import VigilBus
import VigilRules
import VigilSigma
import VigilWire

/// A Sigma rule converted locally, imported over `rules.import` into a real detection process,
/// fires on a Windows event that went through ingest's parser.
final class SigmaImportTests: XCTestCase {
    var stack: TestStack!
    override func setUpWithError() throws { stack = try TestStack() }
    override func tearDown() {
        if let s = stack, testRun?.hasSucceeded == false { print("--- detection log ---\n\(s.log("detection").suffix(4000))") }
        stack?.cleanup()
    }

    static let sigma = """
    title: Whoami run by an Office app (Vigil test)
    id: 7b000000-0000-4000-8000-000000000001
    status: test
    level: high
    tags: [attack.discovery, attack.t1033]
    logsource:
        product: windows
        category: process_creation
    detection:
        sel:
            Image|endswith: '\\\\whoami.exe'
            ParentImage|endswith:
                - '\\\\winword.exe'
                - '\\\\excel.exe'
        condition: sel
    """

    func testConvertedSigmaRuleFiresInDetection() throws {
        try stack.startCore(ingestArgs: ["--syslog.udp", "off", "--syslog.tcp", "off"])
        let c = try stack.client()
        defer { c.close() }
        let outcomes = SigmaConverter().convert([("t.yml", Self.sigma)])
        guard case .success(let rule)? = outcomes.first?.result else { return XCTFail("\(outcomes)") }
        let ids = try c.call(service: "detection", method: "rules.import", RuleRequest(ruleJson: RuleBundle.text([rule])), as: RuleBundleMessage.self, timeoutMs: 10_000).ids
        XCTAssertEqual(ids, [rule.id])

        func line(_ image: String, _ parent: String) -> String {
            #"{"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": "ws1", "Image": "\#(image)", "ParentImage": "\#(parent)", "CommandLine": "whoami"}"#
        }
        var batch = EventBatch()
        batch.batchId = "sigma-1"
        batch.agentId = "test"
        for (i, l) in [line(#"C:\\Windows\\System32\\WHOAMI.EXE"#, #"C:\\Office\\WINWORD.EXE"#),
                       line(#"C:\\Windows\\System32\\whoami.exe"#, #"C:\\Windows\\explorer.exe"#)].enumerated() {
            var e = Event()
            e.id = "sg-\(i)"
            e.raw = Array(l.utf8)
            batch.events.append(e)
        }
        _ = try c.call(service: "ingest", method: "ingest.submit", batch, as: EventBatchAck.self, timeoutMs: 20_000)
        var q = QueryRequest(query: "rule.name: whoami")
        q.limit = 10
        try stack.eventually("one signal from the Sigma rule") {
            try c.call(service: "detection", method: "signals.search", q, as: SignalPage.self, timeoutMs: 10_000).signals.count == 1
        }
        let sig = try XCTUnwrap(try c.call(service: "detection", method: "signals.search", q, as: SignalPage.self, timeoutMs: 10_000).signals.first)
        XCTAssertEqual(sig.eventIds.count, 1)
        // Stays at one: the explorer.exe parent does not match.
        Thread.sleep(forTimeInterval: 1)
        XCTAssertEqual(try c.call(service: "detection", method: "signals.count", QueryRequest(query: "rule.name: whoami"), as: CountResponse.self, timeoutMs: 10_000).count, 1)
    }
}

import XCTest
import VigilRules
import VigilSigma
import VigilWire

final class RefusalTests: XCTestCase {
    func refused(_ detection: String, logsource: String? = nil) -> SigmaError? {
        var y = S.rule(detection)
        if let logsource { y = y.replacingOccurrences(of: "    product: windows\n    category: process_creation", with: logsource) }
        return S.refusal(y)
    }

    func testUnsupportedConstructsAreNamed() {
        XCTAssertEqual(refused("s:\n    CommandLine|expand: '%x%'\ncondition: s")?.reason, .unsupportedModifier)
        XCTAssertEqual(refused("s:\n    CommandLine|expand: '%x%'\ncondition: s")?.construct, "modifier |expand")
        XCTAssertEqual(refused("s:\n    CommandLine|contains|startswith: 'x'\ncondition: s")?.reason, .unsupportedModifier)
        XCTAssertEqual(refused("s:\n    CommandLine: x\ncondition: s | count() by Image > 5")?.reason, .aggregation)
        XCTAssertEqual(refused("s:\n    CommandLine: x\ncondition: s and other")?.reason, .badCondition)
        XCTAssertEqual(refused("s:\n    CommandLine: x\ncondition: (s")?.reason, .badCondition)
        XCTAssertEqual(refused("s:\n    CommandLine: x\ncondition: 1 of nothing_*")?.reason, .badCondition)
        XCTAssertEqual(refused("s:\n    CommandLine|re: '(unclosed'\ncondition: s")?.reason, .nativeRefused)
        XCTAssertEqual(refused("s:\n    CommandLine|base64: 'a*b'\ncondition: s")?.reason, .unsupportedValue)
        let ls = refused("s:\n    CommandLine: x\ncondition: s", logsource: "    product: windows\n    service: no-such-service")
        XCTAssertEqual(ls?.reason, .unmappedLogsource)
        XCTAssertTrue(ls?.construct.contains("service:no-such-service") == true)
    }

    func testBrokenYAMLIsRefusedWithPosition() {
        let e = S.refusal("title: x\nid: [unclosed\n")
        XCTAssertEqual(e?.reason, .invalidRule)
        XCTAssertNotNil(e?.mark)
    }

    func testOneBadRuleDoesNotStopTheOthers() {
        let good = S.rule("s:\n    CommandLine: x\ncondition: s")
        let bad = S.rule("s:\n    CommandLine|expand: x\ncondition: s", id: "5f0c2d3e-0000-4000-8000-000000000002")
        let summary = SigmaSummary(S.convert(good + "\n---\n" + bad))
        XCTAssertEqual(summary.found, 2)
        XCTAssertEqual(summary.imported.count, 1)
        XCTAssertEqual(summary.byReason.map(\.0), ["unsupported_modifier"])
    }
}

final class CorrelationTests: XCTestCase {
    let base = """
    title: failed logon
    id: 6a000000-0000-4000-8000-000000000001
    name: failed_logon
    logsource:
        product: windows
        service: security
    detection:
        s:
            EventID: 4625
        condition: s
    ---
    title: success logon
    id: 6a000000-0000-4000-8000-000000000002
    name: success_logon
    logsource:
        product: windows
        service: security
    detection:
        s:
            EventID: 4624
        condition: s

    """

    func correlation(_ body: String) -> String {
        base + "---\ntitle: correlated\nid: 6a000000-0000-4000-8000-0000000000ff\nlevel: high\ncorrelation:\n" + body
    }

    func logon(_ id: Int, user: String, ip: String = "192.0.2.1", at s: Int64) -> Event {
        S.win(id, channel: "Security", at: s, ["TargetUserName": user, "IpAddress": ip])
    }

    func testEventCountBecomesThreshold() throws {
        let out = S.convert(correlation("    type: event_count\n    rules: [failed_logon]\n    group-by: [TargetUserName]\n    timespan: 5m\n    condition:\n        gte: 3\n"))
        // The referenced rule is not generated on its own (Sigma's default); the other base rule is.
        let rules = out.compactMap { o -> Rule? in if case .success(let r) = o.result { return r }; return nil }
        XCTAssertEqual(Set(rules.map(\.id)), ["6a000000-0000-4000-8000-000000000002", "6a000000-0000-4000-8000-0000000000ff"])
        let r = try XCTUnwrap(rules.first { $0.id.hasSuffix("ff") })
        guard case .threshold(_, 3, ["TargetUserName"], 300_000) = r.detection else { return XCTFail("\(r.detection)") }
        XCTAssertEqual(try S.fire(r, [logon(4625, user: "a", at: 0), logon(4625, user: "a", at: 10), logon(4625, user: "b", at: 20)]), 0)
        XCTAssertEqual(try S.fire(r, [logon(4625, user: "a", at: 0), logon(4625, user: "a", at: 10), logon(4625, user: "a", at: 20)]), 1)
        XCTAssertEqual(try S.fire(r, [logon(4625, user: "a", at: 0), logon(4625, user: "a", at: 10), logon(4625, user: "a", at: 400)]), 0, "outside the timespan")
    }

    func testValueCountBecomesDistinct() throws {
        let r = try XCTUnwrap(S.convert(correlation("    type: value_count\n    rules: failed_logon\n    group-by: [IpAddress]\n    timespan: 1h\n    condition:\n        gt: 2\n        field: TargetUserName\n")).compactMap { o -> Rule? in
            if case .success(let r) = o.result, r.id.hasSuffix("ff") { return r }; return nil }.first)
        guard case .distinct(_, "TargetUserName", 3, ["IpAddress"], 3_600_000) = r.detection else { return XCTFail("\(r.detection)") }
        XCTAssertEqual(try S.fire(r, [logon(4625, user: "a", at: 0), logon(4625, user: "b", at: 1), logon(4625, user: "b", at: 2)]), 0)
        XCTAssertEqual(try S.fire(r, [logon(4625, user: "a", at: 0), logon(4625, user: "b", at: 1), logon(4625, user: "c", at: 2)]), 1)
    }

    func testTemporalOrderedBecomesSequence() throws {
        let r = try XCTUnwrap(S.convert(correlation("    type: temporal_ordered\n    rules: [failed_logon, success_logon]\n    group-by: [TargetUserName]\n    timespan: 10m\n")).compactMap { o -> Rule? in
            if case .success(let r) = o.result, r.id.hasSuffix("ff") { return r }; return nil }.first)
        guard case .sequence(let steps, ["TargetUserName"], 600_000) = r.detection else { return XCTFail("\(r.detection)") }
        XCTAssertEqual(steps.count, 2)
        XCTAssertEqual(try S.fire(r, [logon(4625, user: "a", at: 0), logon(4624, user: "a", at: 30)]), 1)
        XCTAssertEqual(try S.fire(r, [logon(4624, user: "a", at: 0), logon(4625, user: "a", at: 30)]), 0, "wrong order")
    }

    func testTemporalBecomesAnyOrderTemporal() throws {
        let r = try XCTUnwrap(S.convert(correlation("    type: temporal\n    rules: [failed_logon, success_logon]\n    group-by: [TargetUserName]\n    timespan: 10m\n")).compactMap { o -> Rule? in
            if case .success(let r) = o.result, r.id.hasSuffix("ff") { return r }; return nil }.first)
        guard case .temporal(let steps, ["TargetUserName"], 600_000) = r.detection else { return XCTFail("\(r.detection)") }
        XCTAssertEqual(steps.count, 2)
        XCTAssertEqual(try RuleDecoder.decode(RuleEncoder.text(r)).detection, r.detection, "the native rule round-trips")
        XCTAssertEqual(try S.fire(r, [logon(4625, user: "a", at: 0), logon(4624, user: "a", at: 30)]), 1)
        XCTAssertEqual(try S.fire(r, [logon(4624, user: "a", at: 0), logon(4625, user: "a", at: 30)]), 1, "any order")
        XCTAssertEqual(try S.fire(r, [logon(4625, user: "a", at: 0), logon(4625, user: "a", at: 10), logon(4625, user: "a", at: 20)]), 0, "one rule only")
        XCTAssertEqual(try S.fire(r, [logon(4625, user: "a", at: 0), logon(4624, user: "b", at: 30)]), 0, "different group")
        XCTAssertEqual(try S.fire(r, [logon(4624, user: "a", at: 0), logon(4625, user: "a", at: 700)]), 0, "beyond the timespan")
        // The window slides: the old success expires, a new one completes the set again.
        XCTAssertEqual(try S.fire(r, [logon(4624, user: "a", at: 0), logon(4625, user: "a", at: 700), logon(4624, user: "a", at: 760)]), 1)
        // Once fired, the set starts over: two more events of one kind do not fire again.
        XCTAssertEqual(try S.fire(r, [logon(4624, user: "a", at: 0), logon(4625, user: "a", at: 5), logon(4625, user: "a", at: 10)]), 1)
    }

    func testWhatTheEngineCannotExpressIsRefused() {
        func reason(_ body: String) -> SigmaError.Reason? {
            for o in S.convert(correlation(body)) where o.sigmaId.hasSuffix("ff") { if case .failure(let e) = o.result { return e.reason } }
            return nil
        }
        // Temporal correlations need a group (as the native sequence and temporal types do).
        XCTAssertNotNil(reason("    type: temporal\n    rules: [failed_logon, success_logon]\n    timespan: 10m\n"))
        XCTAssertEqual(reason("    type: event_count\n    rules: [failed_logon]\n    timespan: 10m\n    condition:\n        lt: 3\n"), .unsupportedCorrelation)
        XCTAssertEqual(reason("    type: event_count\n    rules: [nope]\n    timespan: 10m\n    condition:\n        gte: 3\n"), .unresolvedReference)
        XCTAssertEqual(reason("    type: event_count\n    rules: [failed_logon]\n    timespan: soon\n    condition:\n        gte: 3\n"), .invalidRule)
    }
}

import XCTest
import VigilQuery
import VigilRules
import VigilWire

final class EngineTests: XCTestCase {
    let threshold = """
    {"type": "threshold", "condition": "event.category: authentication and event.outcome: failure",
     "count": 3, "group_by": ["user.name", "source.ip"], "window": "1m"}
    """

    func run(_ rules: [Rule], _ events: [Event], options: EngineOptions = EngineOptions()) throws -> (DetectionEngine, [RuleHit]) {
        let engine = DetectionEngine(options: options)
        for r in rules { try engine.upsert(r) }
        var hits: [RuleHit] = []
        for e in events { hits += engine.process(e) }
        return (engine, hits)
    }

    func testThresholdFiresOncePerFilledWindowAndPerGroup() throws {
        let events = (0..<7).map { T.failed("a\($0)", at: Int64($0)) } + (0..<2).map { T.failed("b\($0)", at: Int64($0), user: "bob") }
        let (_, hits) = try run([T.rule(threshold)], events)
        XCTAssertEqual(hits.map(\.eventIds), [["a0", "a1", "a2"], ["a3", "a4", "a5"]], "bob has only 2 failures; a6 waits for more")
        XCTAssertEqual(hits.first?.groupKey, "root|192.0.2.1")
        XCTAssertEqual(Set(hits.map(\.signalId)).count, 2)
    }

    func testThresholdNeedsTheEventsInsideTheWindow() throws {
        let events = [T.failed("a", at: 0), T.failed("b", at: 50), T.failed("c", at: 100), T.failed("d", at: 150)]
        let (_, hits) = try run([T.rule(threshold)], events)
        XCTAssertTrue(hits.isEmpty, "no 3 failures within 60 s")
        let (_, later) = try run([T.rule(threshold)], events + [T.failed("e", at: 155)])
        XCTAssertEqual(later.map(\.eventIds), [["c", "d", "e"]])
    }

    func testOutOfOrderEventsWithinLatenessCountAndLaterOnesDoNot() throws {
        var options = EngineOptions()
        options.latenessMs = 30_000
        let rule = T.rule(threshold)
        let (_, hits) = try run([rule], [T.failed("a", at: 100), T.failed("b", at: 80), T.failed("c", at: 90)], options: options)
        XCTAssertEqual(hits.map(\.eventIds), [["b", "c", "a"]], "ordered by event time")
        let (engine, none) = try run([rule], [T.failed("a", at: 100), T.failed("b", at: 101), T.failed("x", at: 10)], options: options)
        XCTAssertTrue(none.isEmpty)
        XCTAssertEqual(engine.counters["late_ignored"], 1)
    }

    func testEachInputKeepsItsOwnEventTimeSoAPartitionDeliveredLaterIsNotLate() throws {
        // An import: partition A delivers its whole day before partition B delivers its first
        // minute (batches go out per partition). B's failures must still count.
        let rule = T.rule(threshold)
        var options = EngineOptions()
        options.latenessMs = 30_000
        let engine = DetectionEngine(options: options)
        try engine.upsert(rule)
        let wall: Int64 = 1_000_000
        var hits: [RuleHit] = []
        for k in 0..<3 { hits += engine.process(T.failed("a\(k)", at: 80_000 + Int64(k), user: "alice"), source: "p.A", nowMs: wall) }
        for k in 0..<3 { hits += engine.process(T.failed("b\(k)", at: 10 + Int64(k), user: "bob"), source: "p.B", nowMs: wall) }
        XCTAssertEqual(hits.map(\.eventIds), [["a0", "a1", "a2"], ["b0", "b1", "b2"]])
        XCTAssertNil(engine.counters["late_ignored"])
        XCTAssertEqual(engine.maxEventMs, T.t0 + 12_000, "the clock follows the input furthest behind")
        XCTAssertEqual(engine.sourceClocks, ["p.A": T.t0 + 80_002_000, "p.B": T.t0 + 12_000])

        // An event older than the clock (here p.B's, the slowest input) minus the lateness is
        // still late (in the window of carol's two others, it would have made three).
        hits = engine.process(T.failed("b3", at: 200, user: "carol"), source: "p.B", nowMs: wall)
        hits += engine.process(T.failed("b4", at: 201, user: "carol"), source: "p.B", nowMs: wall)
        hits += engine.process(T.failed("b-old", at: 165, user: "carol"), source: "p.B", nowMs: wall)
        XCTAssertEqual(hits, [], "b-old did not count")
        XCTAssertEqual(engine.counters["late_ignored"], 1)

        // An input silent for longer than idleSourceMs (wall) stops holding the clock back.
        _ = engine.process(T.failed("a9", at: 80_010, user: "dave"), source: "p.A", nowMs: wall + 61_000)
        XCTAssertEqual(engine.maxEventMs, T.t0 + 80_010_000)
        XCTAssertEqual(Array(engine.sourceClocks.keys), ["p.A"])
    }

    func testInputClocksSurviveARestart() throws {
        let rule = T.rule(threshold)
        let first = DetectionEngine()
        try first.upsert(rule)
        _ = first.process(T.failed("a", at: 5_000, user: "alice"), source: "p.A", nowMs: 1_000)
        _ = first.process(T.failed("b", at: 100, user: "bob"), source: "p.B", nowMs: 1_000)
        let second = DetectionEngine()
        try second.upsert(rule)
        second.restoreClock(maxEventMs: first.maxEventMs, lastEventWallMs: first.lastEventWallMs, sources: first.sourceClocks)
        XCTAssertEqual(second.sourceClocks, first.sourceClocks)
        // p.A's old event is late against p.A's own restored time, as it was before the restart.
        _ = second.process(T.failed("a-old", at: 10, user: "alice"), source: "p.A", nowMs: 2_000)
        XCTAssertEqual(second.counters["late_ignored"], 1)
        XCTAssertEqual(second.maxEventMs, T.t0 + 100_000)

        // A stop longer than the idle time: p.B's restored time still holds the clock until p.B
        // has been silent that long after the restart, so p.A's first event does not move it.
        let third = DetectionEngine()
        try third.upsert(rule)
        third.restoreClock(maxEventMs: first.maxEventMs, lastEventWallMs: first.lastEventWallMs, sources: first.sourceClocks)
        _ = third.process(T.failed("a2", at: 5_001, user: "alice"), source: "p.A", nowMs: 1_000 + 600_000)
        XCTAssertEqual(third.maxEventMs, T.t0 + 100_000, "the clock stays with the slowest restored input")
        _ = third.process(T.failed("a3", at: 5_002, user: "alice"), source: "p.A", nowMs: 1_000 + 600_000 + 61_000)
        XCTAssertEqual(third.maxEventMs, T.t0 + 5_002_000, "once p.B is silent for the idle time after the restart, it stops holding it")
    }

    func testDistinctPortsPerSource() throws {
        let rule = T.rule("""
        {"type": "distinct", "condition": "event.category: network and event.outcome: failure", "field": "destination.port",
         "count": 4, "group_by": ["source.ip"], "window": "1m"}
        """)
        func deny(_ id: String, _ s: Int64, _ port: Int, ip: String = "198.51.100.7") -> Event {
            T.event(id, at: s, format: "pfsense", ["event.category": "network", "event.outcome": "failure", "source.ip": ip, "destination.port": String(port)])
        }
        let events = [deny("a", 0, 22), deny("b", 1, 22), deny("c", 2, 23), deny("d", 3, 80), deny("o", 3, 81, ip: "10.0.0.1"), deny("e", 4, 443)]
        let (_, hits) = try run([rule], events)
        XCTAssertEqual(hits.count, 1)
        XCTAssertEqual(hits.first?.eventIds, ["b", "c", "d", "e"], "the latest event of each port")
        XCTAssertEqual(hits.first?.groupKey, "198.51.100.7")
    }

    func testSequenceFailuresThenSuccessInOrderWithinTheWindow() throws {
        let rule = T.rule("""
        {"type": "sequence", "group_by": ["user.name"], "window": "5m", "steps": [
          {"name": "failures", "condition": "event.outcome: failure", "count": 3},
          {"name": "success", "condition": "event.outcome: success"}]}
        """)
        let (_, hits) = try run([rule], [T.success("s0", at: 0), T.failed("f1", at: 10), T.failed("f2", at: 20), T.failed("f3", at: 30), T.success("s1", at: 40)])
        XCTAssertEqual(hits.map(\.eventIds), [["f1", "f2", "f3", "s1"]])
        let (_, tooFew) = try run([rule], [T.failed("f1", at: 10), T.failed("f2", at: 20), T.success("s1", at: 40)])
        XCTAssertTrue(tooFew.isEmpty)
        let (_, tooSlow) = try run([rule], [T.failed("f1", at: 0), T.failed("f2", at: 20), T.failed("f3", at: 30), T.success("s1", at: 400)])
        XCTAssertTrue(tooSlow.isEmpty, "the success came after the 5 minute window")
    }

    func testTemporalNeedsEveryStepInAnyOrderWithinTheWindow() throws {
        let rule = T.rule("""
        {"type": "temporal", "group_by": ["user.name"], "window": "5m", "steps": [
          {"name": "failure", "condition": "event.outcome: failure"},
          {"name": "success", "condition": "event.outcome: success"}]}
        """)
        let (_, hits) = try run([rule], [T.success("s1", at: 0), T.failed("f1", at: 10)])
        XCTAssertEqual(hits.map(\.eventIds), [["s1", "f1"]], "success first still completes the set")
        let (_, otherUser) = try run([rule], [T.success("s1", at: 0, user: "alice"), T.failed("f1", at: 10, user: "bob")])
        XCTAssertTrue(otherUser.isEmpty)
        let (_, tooSlow) = try run([rule], [T.success("s1", at: 0), T.failed("f1", at: 400)])
        XCTAssertTrue(tooSlow.isEmpty, "5 minute window")
        XCTAssertThrowsError(try RuleDecoder.decode(#"{"id": "11111111-1111-4111-8111-111111111111", "name": "x", "status": "active", "criticality": "low", "risk_score": 1, "detection": {"type": "temporal", "group_by": ["user.name"], "window": "5m", "steps": [{"condition": "event.outcome: failure", "count": 3}, {"condition": "event.outcome: success"}]}}"#), "temporal steps match once each")
    }

    func testAbsenceFiresWhenTheSecondEventNeverComes() throws {
        var options = EngineOptions()
        options.latenessMs = 0
        let rule = T.rule("""
        {"type": "absence", "condition": "event.action: user_created", "absent": "event.action: password_changed",
         "group_by": ["user.target.name"], "window": "10m"}
        """)
        func ev(_ id: String, _ s: Int64, _ action: String, _ who: String) -> Event {
            T.event(id, at: s, ["event.category": "iam", "event.action": action, "user.target.name": who])
        }
        let (engine, hits) = try run([rule], [ev("c1", 0, "user_created", "eve"), ev("c2", 5, "user_created", "mallory"),
                                              ev("p2", 60, "password_changed", "mallory"), ev("x", 700, "other", "nobody")], options: options)
        XCTAssertEqual(hits.map(\.eventIds), [["c1"]], "eve never set a password; mallory did within 10 minutes")
        XCTAssertEqual(hits.first?.groupKey, "eve")
        XCTAssertTrue(engine.advance(to: T.t0 + 10_000_000).isEmpty, "fired once")
    }

    func testSuppressionKeepsTheSameKeyQuiet() throws {
        let rule = T.rule(threshold, extra: ", \"suppression\": \"10m\"")
        let events = (0..<9).map { T.failed("a\($0)", at: Int64($0)) } + (0..<3).map { T.failed("z\($0)", at: 700 + Int64($0)) }
        let (engine, hits) = try run([rule], events)
        XCTAssertEqual(hits.map { $0.eventIds.first! }, ["a0", "z0"])
        XCTAssertEqual(engine.counters["suppressed"], 6)
    }

    func testMatchRuleFiresPerEventWithTheFoundationsId() throws {
        let rule = T.rule("{\"type\": \"match\", \"condition\": \"event.category: authentication and event.outcome: failure\", \"group_by\": [\"user.name\", \"source.ip\"]}")
        let (_, hits) = try run([rule], [T.failed("e1", at: 0), T.success("e2", at: 1), T.failed("e3", at: 2)])
        XCTAssertEqual(hits.map(\.signalId), [StableId.make(rule.id, "e1"), StableId.make(rule.id, "e3")])
    }

    func testStableIdsKeepTheirValues() {
        // Signal ids are stored and deduplicated on replay: the formula must never change.
        // Values from the first implementation (String(radix:) and padding).
        XCTAssertEqual(StableId.make("11111111-1111-4111-8111-111111111111", "e1"), "dda5c7863af4030b633110d5cada2d1b")
        XCTAssertEqual(StableId.make("rule", "user|10.0.0.1", "é", ""), "eac4e70b984584ac90e39c19a519b85c")
        XCTAssertEqual(StableId.make([]), "cbf29ce4842223259e3779b97f4a7c15")
        XCTAssertEqual(StableId.make("r", "460"), "0f4c3766b4c0a6459f4cb3fe8bb02a35")
    }

    func testSignalDescriptionsNameTheEntity() throws {
        let rule = T.rule("{\"type\": \"match\", \"condition\": \"event.outcome: failure\"}")
        let (_, hits) = try run([rule], [T.failed("e1", at: 0, user: "alice", ip: "198.51.100.7"), T.event("e2", at: 1, ["event.outcome": "failure"])])
        XCTAssertEqual(hits.map { SignalBuilder.signal($0, nowMs: 0).description },
                       ["test rule: user alice from 198.51.100.7 on ?", "test rule: user ? from ? on ?"])
    }

    func testIndexOnlyEvaluatesRulesThatCouldMatch() throws {
        var rules: [Rule] = []
        for i in 0..<200 {
            let id = String(format: "00000000-0000-4000-8000-%012d", i)
            rules.append(T.rule("{\"type\": \"match\", \"condition\": \"event.code: \(4600 + i) and user.name: x\"}", id: id))
        }
        var windows = T.rule("{\"type\": \"match\", \"condition\": \"event.code: 4625\"}", id: "00000000-0000-4000-8000-999999999999")
        windows.logSources = ["windows"]
        rules.append(windows)
        let (engine, _) = try run(rules, [T.event("w", at: 0, format: "windows", ["event.code": "4625"]),
                                          T.event("l", at: 1, format: "linux-auth", ["event.code": "4625"])])
        // Event "w" meets rule 4625 and windows-4625; "l" only rule 4625 (the windows rule is for another log source).
        XCTAssertEqual(engine.counters["candidates"], 3)
    }

    func testRequirementsComeOnlyFromTheTopLevelAnd() throws {
        func req(_ q: String) throws -> String? {
            Requirement.of(try QueryParser().parse(q)).map { "\($0.token.name)=\($0.values.sorted().joined(separator: ","))" }
        }
        XCTAssertEqual(try req("event.category: authentication and event.outcome: Failure"), "event.category=authentication")
        XCTAssertEqual(try req("event.code: [4624, 4625] and user.name: bob"), "event.code=4624,4625")
        XCTAssertNil(try req("event.code: 4624 or user.name: bob"))
        XCTAssertNil(try req("not event.code: 4624"))
        XCTAssertNil(try req("event.code: 46*"))
        XCTAssertNil(try req("user.name: bob"), "text tokens mean contains, not equals")
    }

    func testCheckpointAndRestoreContinueWithoutMissingOrRepeating() throws {
        let rule = T.rule(threshold)
        let events = (0..<20).map { T.failed("e\($0)", at: Int64($0), user: "u\($0 % 3)") }
        let (_, expected) = try run([rule], events)
        // Run the first 10, checkpoint into a "table", then a fresh engine restores and takes the rest.
        var table: [String: String] = [:]
        let first = DetectionEngine()
        try first.upsert(rule)
        var hits: [RuleHit] = []
        for e in events.prefix(10) { hits += first.process(e) }
        for c in first.takeChanges() {
            if let k = c.groupKey { table[k] = c.json } else { table = [:] }
        }
        let second = DetectionEngine()
        try second.upsert(rule)
        for (k, v) in table { second.restore(ruleId: rule.id, groupKey: k, json: v) }
        second.restoreClock(maxEventMs: first.maxEventMs)
        for e in events.dropFirst(10) { hits += second.process(e) }
        XCTAssertEqual(hits.map(\.signalId), expected.map(\.signalId))
        XCTAssertEqual(expected.count, 6, "u0 and u1 have 7 failures, u2 6: two signals each")
    }

    func testStateIsBoundedByEvictingTheLeastRecentGroups() throws {
        var options = EngineOptions()
        options.maxGroupsPerRule = 100
        let events = (0..<1000).map { T.failed("e\($0)", at: Int64($0) / 100, user: "user\($0)") }
        let (engine, _) = try run([T.rule(threshold)], events, options: options)
        XCTAssertLessThanOrEqual(engine.groupCount, 100)
        XCTAssertGreaterThan(engine.counters["state.evicted"] ?? 0, 0)
    }

    func testDeactivationAndEditsTakeEffectAtOnce() throws {
        var rule = T.rule(threshold)
        let engine = DetectionEngine()
        try engine.upsert(rule)
        XCTAssertEqual(engine.process(T.failed("a", at: 0)).count + engine.process(T.failed("b", at: 1)).count, 0)
        rule.status = .inactive
        try engine.upsert(rule)
        XCTAssertTrue(engine.process(T.failed("c", at: 2)).isEmpty)
        XCTAssertEqual(engine.groupCount, 0, "deactivating drops the rule's windows")
        rule.status = .active
        rule.detection = .threshold(condition: "event.outcome: failure", count: 1, groupBy: ["user.name"], windowMs: 60_000)
        try engine.upsert(rule)
        XCTAssertEqual(engine.process(T.failed("d", at: 3)).map(\.eventIds), [["d"]])
        engine.remove(ruleId: rule.id)
        XCTAssertTrue(engine.process(T.failed("e", at: 4)).isEmpty)
    }
}

import XCTest
import VigilRules
import VigilWire

/// Absence rules close on the wall clock when the stream goes quiet (`DetectionEngine.tick`),
/// and the timer survives a checkpoint/restore without firing twice or missing a window.
final class AbsenceTimerTests: XCTestCase {
    let rule = T.rule("""
    {"type": "absence", "condition": "event.action: user_created", "absent": "event.action: password_changed",
     "group_by": ["user.target.name"], "window": "10m"}
    """)
    let wall0: Int64 = 1_800_000_000_000   // the wall clock is unrelated to event time (a replayed day, say)

    func ev(_ id: String, _ s: Int64, _ action: String, _ who: String) -> Event {
        T.event(id, at: s, ["event.category": "iam", "event.action": action, "user.target.name": who])
    }

    func engine() throws -> DetectionEngine {
        var o = EngineOptions()
        o.latenessMs = 30_000
        let e = DetectionEngine(options: o)
        try e.upsert(rule)
        return e
    }

    func testQuietStreamFiresAfterWindowPlusLateness() throws {
        let e = try engine()
        XCTAssertEqual(e.process(ev("c1", 0, "user_created", "eve"), nowMs: wall0), [])
        XCTAssertEqual(e.tick(nowMs: wall0 + 60_000), [], "one minute: the window is still open")
        XCTAssertEqual(e.tick(nowMs: wall0 + 600_000 + 30_000), [], "window end plus lateness not yet passed")
        let hits = e.tick(nowMs: wall0 + 600_000 + 30_000 + 1_001)
        XCTAssertEqual(hits.map(\.eventIds), [["c1"]])
        XCTAssertEqual(hits.first?.groupKey, "eve")
        XCTAssertEqual(e.tick(nowMs: wall0 + 3_600_000), [], "fires once")
        XCTAssertEqual(e.groupCount, 0)
        XCTAssertEqual(e.maxEventMs, T.t0, "the event clock is not moved by the timer")
    }

    func testExpectedEventInTimeMeansNoSignal() throws {
        let e = try engine()
        _ = e.process(ev("c1", 0, "user_created", "eve"), nowMs: wall0)
        _ = e.process(ev("p1", 120, "password_changed", "eve"), nowMs: wall0 + 120_000)
        XCTAssertEqual(e.tick(nowMs: wall0 + 7_200_000), [])
    }

    func testTimerStateSurvivesCheckpointAndRestore() throws {
        let a = try engine()
        _ = a.process(ev("c1", 0, "user_created", "eve"), nowMs: wall0)
        _ = a.process(ev("c2", 300, "user_created", "mallory"), nowMs: wall0 + 300_000)
        // Eve's window closes by the timer before the "crash"; Mallory's is still pending.
        XCTAssertEqual(a.tick(nowMs: wall0 + 300_000 + 400_000).map(\.eventIds), [["c1"]])
        let changes = a.takeChanges()
        let saved = changes.compactMap { c in c.json.map { (c.groupKey ?? "", $0) } }
        XCTAssertEqual(saved.map(\.0), ["mallory"], "only the pending group is checkpointed")

        let b = try engine()
        for (k, j) in saved { b.restore(ruleId: rule.id, groupKey: k, json: j) }
        b.restoreClock(maxEventMs: a.maxEventMs, lastEventWallMs: a.lastEventWallMs)
        XCTAssertEqual(b.tick(nowMs: wall0 + 300_000 + 500_000), [], "Mallory's window has not closed yet")
        XCTAssertEqual(b.tick(nowMs: wall0 + 300_000 + 631_001).map(\.eventIds), [["c2"]], "fires after the restart")
        XCTAssertEqual(b.tick(nowMs: wall0 + 86_400_000), [], "and nothing repeats")
    }

    func testWithoutAbsenceRulesTheTimerDoesNothing() throws {
        let e = DetectionEngine()
        try e.upsert(T.rule("{\"type\": \"match\", \"condition\": \"event.action: user_created\"}"))
        _ = e.process(ev("c1", 0, "user_created", "eve"), nowMs: wall0)
        XCTAssertEqual(e.tick(nowMs: wall0 + 86_400_000), [])
    }
}

import XCTest
import VigilStore
import VigilWire
@testable import UserAnalyticsService

final class RiskModelTests: XCTestCase {
    let hour: Int64 = 3_600_000
    let t0: Int64 = 1_800_000_000_000

    func testSignalContributionHalvesEveryHalfLife() {
        let m = RiskModel(halfLifeMs: 24 * hour, privilegedWeight: 1.5, scale: 100)
        let s = RiskSignal(id: "s1", score: 80, timeMs: t0)
        XCTAssertEqual(m.decayed(s, atMs: t0), 80, accuracy: 1e-9)
        XCTAssertEqual(m.decayed(s, atMs: t0 + 24 * hour), 40, accuracy: 1e-9)
        XCTAssertEqual(m.decayed(s, atMs: t0 + 48 * hour), 20, accuracy: 1e-9)
        // Through the key the service stores: same sum, and the score falls as it decays.
        let key = m.adding(s, to: RiskModel.noKey)
        XCTAssertEqual(m.sum(key: key, atMs: t0 + 24 * hour), 40, accuracy: 1e-6)
        XCTAssertGreaterThan(m.score(key: key, atMs: t0), m.score(key: key, atMs: t0 + 24 * hour))
    }

    func testWorkedExampleFromTheDocs() {
        // docs/users.md: a 70 now and a 40 from one half-life ago → Σ = 90 → 59.3; privileged ×1.5 → Σ = 135 → 74.1.
        let m = RiskModel()
        let a = RiskSignal(id: "a", ruleId: "r1", ruleName: "Brute force", score: 70, timeMs: t0)
        let b = RiskSignal(id: "b", ruleId: "r2", ruleName: "Odd login", score: 40, timeMs: t0 - 24 * hour)
        let e = m.explain([a, b], atMs: t0)
        XCTAssertEqual(e.sum, 90, accuracy: 1e-9)
        XCTAssertEqual(e.score, 59.34, accuracy: 0.01)
        var pa = a, pb = b
        pa.weight = 1.5; pb.weight = 1.5
        XCTAssertEqual(m.explain([pa, pb], atMs: t0).score, 74.08, accuracy: 0.01)
    }

    func testPrivilegedWeightRaisesTheScore() {
        let m = RiskModel(privilegedWeight: 2)
        XCTAssertEqual(m.weight(privileged: true), 2)
        XCTAssertEqual(m.weight(privileged: false), 1)
        let plain = m.explain([RiskSignal(id: "x", score: 50, weight: m.weight(privileged: false), timeMs: t0)], atMs: t0).score
        let priv = m.explain([RiskSignal(id: "x", score: 50, weight: m.weight(privileged: true), timeMs: t0)], atMs: t0).score
        XCTAssertGreaterThan(priv, plain)
        XCTAssertEqual(priv, 100 * (1 - exp(-1.0)), accuracy: 1e-9)
    }

    func testScoreIsBoundedZeroToHundred() {
        let m = RiskModel()
        XCTAssertEqual(m.score(sum: 0), 0)
        XCTAssertEqual(m.score(sum: -5), 0)
        var key = RiskModel.noKey
        for i in 0..<10_000 { key = m.adding(RiskSignal(id: "s\(i)", score: 100, weight: 1.5, timeMs: t0), to: key) }
        let s = m.score(key: key, atMs: t0)
        XCTAssertLessThanOrEqual(s, 100)
        XCTAssertGreaterThan(s, 99.99)
        XCTAssertEqual(m.score(key: RiskModel.noKey, atMs: t0), 0)
        // Far in the future everything has decayed away.
        XCTAssertLessThan(m.score(key: key, atMs: t0 + 2000 * hour), 0.01)
    }

    func testExplanationSumsToTheScoreBySignalAndByRule() {
        let m = RiskModel(halfLifeMs: 12 * hour)
        var signals: [RiskSignal] = []
        for i in 0..<25 {
            let w: Double = i % 5 == 0 ? 1.5 : 1
            let t: Int64 = t0 - Int64(i) * 3 * hour
            signals.append(RiskSignal(id: "s\(i)", ruleId: "r\(i % 4)", ruleName: "rule \(i % 4)", tactic: "t", score: UInt32(10 + i * 3), weight: w, timeMs: t))
        }
        let e = m.explain(signals, atMs: t0)
        XCTAssertEqual(e.bySignal.map(\.points).reduce(0, +), e.score, accuracy: 1e-9)
        XCTAssertEqual(e.byRule.map(\.points).reduce(0, +), e.score, accuracy: 1e-9)
        XCTAssertEqual(e.byRule.count, 4)
        XCTAssertEqual(e.byRule.map(\.signals).reduce(0, +), 25)
        // Largest part first; a newer signal of the same score counts more than an older one.
        XCTAssertEqual(e.bySignal.first?.points, e.bySignal.map(\.points).max())
        // The key the service keeps gives the same score as the explanation.
        var key = RiskModel.noKey
        for s in signals.shuffled() { key = m.adding(s, to: key) }
        XCTAssertEqual(m.score(key: key, atMs: t0), e.score, accuracy: 1e-6)
    }

    func testTrendMovesWithEachSignalThenDecays() {
        let m = RiskModel(halfLifeMs: 6 * hour)
        let s1 = RiskSignal(id: "a", ruleName: "A", score: 60, timeMs: t0 + hour)
        let s2 = RiskSignal(id: "b", ruleName: "B", score: 30, timeMs: t0 + 2 * hour)
        let points = m.trend([s2, s1], fromMs: t0, toMs: t0 + 24 * hour, samples: 24)
        let moves = points.filter { $0.signal != nil }
        XCTAssertEqual(moves.map { $0.signal!.id }, ["a", "b"])
        XCTAssertGreaterThan(moves[0].delta, 0)
        XCTAssertGreaterThan(moves[1].score, moves[0].score)
        XCTAssertLessThan(points.last!.score, moves[1].score, "the score decays after the last signal")
        XCTAssertEqual(points.first!.score, 0, "nothing before the first signal")
    }

    func testEngineIngestIsIdempotentAndWeightsPrivilegedUsers() throws {
        let dir = NSTemporaryDirectory() + "ua-risk-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = try Database(path: dir + "/ua.db")
        defer { db.close() }
        let engine = try UserAnalyticsEngine(db: db, model: RiskModel(privilegedWeight: 2))
        var resp = ImportResponse()
        try db.transaction {
            resp = try UserImport.run(ImportRequest(format: "csv", content: Array("""
            sAMAccountName,upn,department,privileged
            alice,alice@corp.test,Finance,false
            root,root@corp.test,IT,true
            """.utf8), origin: "u.csv"), engine: engine, nowMs: t0)
        }
        XCTAssertEqual(resp.imported, 2)
        func signal(_ id: String, _ user: String) -> Signal {
            var s = Signal()
            s.id = id; s.ruleId = "r1"; s.ruleName = "Rule one"; s.riskScore = 50; s.entity.user = user
            s.mitre.tacticName = "Credential Access"; s.createdTimeMs = t0
            return s
        }
        try db.transaction {
            XCTAssertEqual(try engine.ingest([signal("1", "CORP\\alice"), signal("2", "root@corp.test"), signal("3", "mallory")], nowMs: t0), 3)
            // The same signals again (a replay) change nothing.
            XCTAssertEqual(try engine.ingest([signal("1", "CORP\\alice"), signal("2", "root@corp.test")], nowMs: t0), 0)
        }
        let page = try engine.overview(limit: 10, fromMs: t0 - hour, toMs: t0 + hour, nowMs: t0)
        XCTAssertEqual(Set(page.users.map(\.id)), ["root", "alice", "mallory"])
        XCTAssertEqual(page.users.first?.id, "root")
        let alice = try XCTUnwrap(page.users.first { $0.id == "alice" })
        let root = try XCTUnwrap(page.users.first { $0.id == "root" })
        XCTAssertEqual(alice.score, 100 * (1 - exp(-0.5)), accuracy: 1e-6)
        XCTAssertEqual(root.score, 100 * (1 - exp(-1.0)), accuracy: 1e-6)
        XCTAssertEqual(alice.signals, 1)
        XCTAssertEqual(alice.topRule, "Rule one")
        // A user known only from signals is kept (not dropped) and marked as such.
        let mallory = try XCTUnwrap(page.users.first { $0.id == "mallory" })
        XCTAssertFalse(mallory.inDirectory)
        // Detail: explanation parts sum to the score.
        var req = UserRequest(user: "alice@corp.test")
        req.fromTimeMs = t0 - hour; req.toTimeMs = t0 + hour
        let d = try XCTUnwrap(try engine.detail(req, nowMs: t0))
        XCTAssertEqual(d.bySignal.map(\.points).reduce(0, +), d.risk.score, accuracy: 1e-9)
        XCTAssertEqual(d.byTactic.first?.key, "Credential Access")
        XCTAssertEqual(d.timeline.map(\.count).reduce(0, +), 1)
        XCTAssertEqual(d.directory.department, "Finance")
    }
}

/// Runs a rule's embedded tests: each test feeds its events, in order, to a fresh engine
/// holding only that rule (active for the test), then lets time pass so absence windows close.
public enum RuleTester {
    public struct Result: Sendable, Equatable {
        public var name: String
        public var expect: RuleTest.Expectation
        public var signals: Int
        public var passed: Bool
        public var detail: String
    }

    public static func run(_ rule: Rule, options: EngineOptions = EngineOptions()) -> [Result] {
        rule.tests.map { test in
            let engine = DetectionEngine(options: options)
            do { try engine.upsert(rule, forceActive: true) } catch {
                return Result(name: test.name, expect: test.expect, signals: 0, passed: false, detail: "rule does not compile: \(error)")
            }
            var hits: [RuleHit] = []
            for e in test.events { hits += engine.process(e, nowMs: e.eventTimeMs) }
            hits += engine.advance(to: (test.events.map(\.eventTimeMs).max() ?? 0) + rule.detection.windowMsForTests + options.latenessMs + 1)
            let n = hits.count
            var passed: Bool
            var detail: String
            switch test.expect {
            case .fire:
                passed = n >= 1
                detail = passed ? "fired \(n) time\(n == 1 ? "" : "s")" : "expected a signal, got none"
                if let want = test.signals, want != n { passed = false; detail = "expected \(want) signal\(want == 1 ? "" : "s"), got \(n)" }
            case .noFire:
                passed = n == 0
                detail = passed ? "no signal, as expected" : "expected no signal, got \(n) (events \(hits.first?.eventIds.prefix(5).joined(separator: ", ") ?? ""))"
            }
            return Result(name: test.name, expect: test.expect, signals: n, passed: passed, detail: detail)
        }
    }
}

extension Detection {
    var windowMsForTests: Int64 {
        switch self {
        case .match: return 0
        case .threshold(_, _, _, let w), .distinct(_, _, _, _, let w), .sequence(_, _, let w), .absence(_, _, _, let w), .temporal(_, _, let w): return w
        }
    }
}

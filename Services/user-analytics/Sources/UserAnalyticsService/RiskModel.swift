import Foundation

/// One signal as the risk model sees it.
public struct RiskSignal: Sendable, Equatable {
    public var id: String
    public var ruleId: String
    public var ruleName: String
    public var tactic: String
    /// The signal's risk score, 0…100.
    public var score: UInt32
    /// Privileged weight applied when the signal arrived (1 for ordinary users).
    public var weight: Double
    public var timeMs: Int64
    public init(id: String, ruleId: String = "", ruleName: String = "", tactic: String = "", score: UInt32, weight: Double = 1, timeMs: Int64) {
        self.id = id; self.ruleId = ruleId; self.ruleName = ruleName; self.tactic = tactic
        self.score = score; self.weight = weight; self.timeMs = timeMs
    }
}

/// What makes up a score at one moment.
public struct RiskExplanation: Sendable, Equatable {
    public struct Part: Sendable, Equatable {
        public var signal: RiskSignal
        /// score × weight × 0.5^(age / half-life)
        public var decayed: Double
        /// Its share of the 0…100 score: score × decayed / Σ decayed. The parts sum to the score.
        public var points: Double
    }
    public struct RulePart: Sendable, Equatable {
        public var ruleId: String
        public var ruleName: String
        public var signals: Int
        public var decayed: Double
        public var points: Double
    }
    public var atMs: Int64
    public var sum: Double
    public var score: Double
    public var bySignal: [Part]
    public var byRule: [RulePart]
}

/// The user risk model (docs/users.md):
///
///     Σ(t)     = Σ_i score_i · w_i · 0.5^((t − t_i) / halfLife)      (signals with t_i ≤ t)
///     risk(t)  = 100 · (1 − e^(−Σ(t) / k))                           bounded to [0, 100)
///
/// `w_i` is `privilegedWeight` when the user was privileged at the signal's arrival, else 1.
/// Because every user decays at the same rate, the service keeps per user only
/// `key = log2(Σ_i score_i·w_i·2^(t_i/halfLife))` — time-independent, so ordering users by it
/// is ordering them by current risk, and adding a signal (in any order) is one log-add.
public struct RiskModel: Sendable, Equatable {
    public var halfLifeMs: Int64 = 24 * 3_600_000
    public var privilegedWeight: Double = 1.5
    /// k: the decayed sum at which risk reaches 63.2 (1 − 1/e) of 100.
    public var scale: Double = 100
    public init(halfLifeMs: Int64 = 24 * 3_600_000, privilegedWeight: Double = 1.5, scale: Double = 100) {
        self.halfLifeMs = max(1, halfLifeMs); self.privilegedWeight = privilegedWeight; self.scale = max(1e-9, scale)
    }

    public static let noKey = -Double.infinity

    public func weight(privileged: Bool) -> Double { privileged ? privilegedWeight : 1 }

    /// Half-lives since the epoch: the exponent shift that makes keys time-independent.
    func halfLives(_ ms: Int64) -> Double { Double(ms) / Double(halfLifeMs) }

    /// score × weight × 0.5^(age / half-life); a signal from the future counts as age 0 only
    /// from its own time on (callers pass signals with t_i ≤ t).
    public func decayed(_ s: RiskSignal, atMs: Int64) -> Double {
        let age = max(0, atMs - s.timeMs)
        return Double(s.score) * s.weight * exp2(-halfLives(age))
    }

    /// The key after adding one signal (commutative: arrival order does not matter).
    public func adding(_ s: RiskSignal, to key: Double) -> Double {
        let c = Double(s.score) * s.weight
        guard c > 0 else { return key }
        let k = log2(c) + halfLives(s.timeMs)
        if key == Self.noKey { return k }
        // log2(2^a + 2^b) without overflow.
        let hi = max(key, k), lo = min(key, k)
        return hi + log2(1 + exp2(lo - hi))
    }

    /// Σ(t) for a key.
    public func sum(key: Double, atMs: Int64) -> Double {
        key == Self.noKey ? 0 : exp2(key - halfLives(atMs))
    }

    /// 100 · (1 − e^(−Σ/k)), in [0, 100).
    public func score(sum: Double) -> Double {
        guard sum > 0, sum.isFinite else { return sum.isInfinite && sum > 0 ? 100 : 0 }
        return min(100, max(0, 100 * (1 - exp(-sum / scale))))
    }

    public func score(key: Double, atMs: Int64) -> Double { score(sum: sum(key: key, atMs: atMs)) }

    /// The score at `atMs` from the signals up to then, with each signal's and each rule's part.
    public func explain(_ signals: [RiskSignal], atMs: Int64) -> RiskExplanation {
        var parts: [RiskExplanation.Part] = []
        var sum = 0.0
        for s in signals where s.timeMs <= atMs {
            let d = decayed(s, atMs: atMs)
            sum += d
            parts.append(.init(signal: s, decayed: d, points: 0))
        }
        let total = score(sum: sum)
        var rules: [String: RiskExplanation.RulePart] = [:]
        for i in parts.indices {
            parts[i].points = sum > 0 ? total * parts[i].decayed / sum : 0
            let s = parts[i].signal
            var r = rules[s.ruleId] ?? .init(ruleId: s.ruleId, ruleName: s.ruleName, signals: 0, decayed: 0, points: 0)
            r.signals += 1
            r.decayed += parts[i].decayed
            r.points += parts[i].points
            rules[s.ruleId] = r
        }
        parts.sort { $0.points != $1.points ? $0.points > $1.points : $0.signal.timeMs > $1.signal.timeMs }
        let byRule = rules.values.sorted { $0.points != $1.points ? $0.points > $1.points : $0.ruleId < $1.ruleId }
        return RiskExplanation(atMs: atMs, sum: sum, score: total, bySignal: parts, byRule: byRule)
    }

    /// Score after each signal (time order), with the move it caused; `samples` decay points
    /// are added between `fromMs` and `toMs` so a quiet stretch shows the decline.
    public func trend(_ signals: [RiskSignal], fromMs: Int64, toMs: Int64, samples: Int = 24) -> [(timeMs: Int64, score: Double, delta: Double, signal: RiskSignal?)] {
        let sorted = signals.sorted { $0.timeMs != $1.timeMs ? $0.timeMs < $1.timeMs : $0.id < $1.id }
        var key = Self.noKey
        var out: [(timeMs: Int64, score: Double, delta: Double, signal: RiskSignal?)] = []
        var sampleTimes: [Int64] = []
        if samples > 0 && toMs > fromMs {
            let step = max(1, (toMs - fromMs) / Int64(samples))
            var t = fromMs
            while t <= toMs { sampleTimes.append(t); t += step }
        }
        var si = 0
        var last = 0.0
        func emitSamples(upTo t: Int64) {
            while si < sampleTimes.count && sampleTimes[si] < t {
                let v = score(key: key, atMs: sampleTimes[si])
                out.append((sampleTimes[si], v, v - last, nil))
                last = v
                si += 1
            }
        }
        for s in sorted {
            if s.timeMs >= fromMs { emitSamples(upTo: s.timeMs) }
            let before = score(key: key, atMs: s.timeMs)
            key = adding(s, to: key)
            let after = score(key: key, atMs: s.timeMs)
            if s.timeMs >= fromMs && s.timeMs <= toMs {
                out.append((s.timeMs, after, after - before, s))
                last = after
            }
        }
        emitSamples(upTo: toMs + 1)
        return out
    }
}

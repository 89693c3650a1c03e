import Foundation
import VigilEvents
import VigilQuery
import VigilWire

/// A rule fired: everything a signal needs.
public struct RuleHit: Sendable, Equatable {
    public var signalId: String
    /// The rule, shared with the engine's compiled copy: a hit is made per matching event, and
    /// copying the `Rule` struct into each retained every one of its strings and arrays.
    public var rule: Rule {
        _read { yield ruleBox.rule }
        set { ruleBox = RuleBox(newValue) }
    }
    var ruleBox: RuleBox
    public var groupKey: String
    /// Group-by field → value, in the rule's order.
    public var groupValues: [(String, String)]
    public var eventIds: [String]
    public var eventCount: Int
    public var firstEventMs: Int64
    public var lastEventMs: Int64
    /// The event that completed the detection (entity and asset come from it).
    public var lastEvent: Event

    public static func == (a: RuleHit, b: RuleHit) -> Bool {
        a.signalId == b.signalId && a.groupKey == b.groupKey && a.eventIds == b.eventIds && a.rule == b.rule
    }
}

public struct EngineOptions: Sendable {
    /// Correlation groups kept per rule; beyond it the least recently touched are evicted (counted).
    public var maxGroupsPerRule = 10_000
    /// How far behind the event clock an event may arrive and still count in windows.
    public var latenessMs: Int64 = 60_000
    /// An input (partition) that delivered nothing for this long (wall clock) stops holding the
    /// event clock back.
    public var idleSourceMs: Int64 = 60_000
    /// Matched event ids kept on a signal.
    public var maxEventIdsPerSignal = 100
    /// Events kept per threshold group (a guard; a window normally holds fewer than `count`).
    public var maxHitsPerGroup = 10_000
    public init() {}
}

/// A change to checkpoint: one group's state as JSON, nil to delete it; `groupKey` nil deletes all of a rule.
public struct StateChange: Sendable, Equatable {
    public var ruleId: String
    public var groupKey: String?
    public var json: String?
}

/// The rule engine: indexed rules, correlation state bounded in memory, event time windows.
/// Not thread-safe; the detection service drives it from its one loop thread.
public final class DetectionEngine {
    public let options: EngineOptions
    public var specialObjects: any SpecialObjectProvider = StaticSpecialObjects()
    /// Counters by name; the per-event ones are plain integers (a dictionary update per event and
    /// per evaluated rule showed in profiles) merged in here.
    public var counters: [String: UInt64] {
        var c = otherCounters
        if events > 0 { for (k, v) in [("events", events), ("candidates", candidatesSeen), ("evaluated", evaluated), ("signals", signalsOut)] { c[k, default: 0] &+= v } }
        return c
    }
    private var otherCounters: [String: UInt64] = [:]
    private var events: UInt64 = 0, candidatesSeen: UInt64 = 0, evaluated: UInt64 = 0, signalsOut: UInt64 = 0

    private var slots: [CompiledRule?] = []
    /// `slots` without reference counting for the per-event loop; rebuilt with the index (every
    /// change to `slots` marks the index stale, and `process` reindexes before reading these).
    private var slotRefs: [Unmanaged<CompiledRule>?] = []
    private var slotById: [String: Int] = [:]
    private var states: [[String: GroupState]] = []
    private var index = RuleIndex([])
    private var prefilter = LiteralPrefilter([])
    var prefilterMergedScanners: Int { prefilter.mergedScanners }
    private var indexStale = false
    private var seen: [Int] = []
    /// Per-event scratch, kept to avoid an allocation per event.
    private var candidates: [Int] = []
    /// The current event's field values as its conditions worked them out (VigilQuery.RecordMemo).
    private let memo = RecordMemo()
    private var stamp = 0
    private var touch: Int64 = 0
    private var dirty: [Int: Set<String>] = [:]
    private var cleared: Set<String> = []
    /// The event clock: the newest event time of the input that is furthest behind (among those
    /// that delivered an event within `idleSourceMs`); the watermark trails it by the lateness.
    /// Per input, because partitions arrive interleaved by commit, not by time: an import's
    /// partition 3 may deliver its whole day before partition 5 delivers its first minute, and
    /// one clock over both would have judged partition 5 late.
    public private(set) var maxEventMs: Int64 = .min
    /// Per input (`process`'s `source`): its newest event time and the wall time of its last event.
    private var sources: [String: (maxMs: Int64, wallMs: Int64)] = [:]
    private var lastExpiryWatermark: Int64 = .min
    private var hasAbsence = false
    /// Wall-clock time (ms) of the last processed event: a quiet stream's event clock is taken to
    /// advance with the wall clock from here (see `tick`). Checkpointed with the event clock.
    public private(set) var lastEventWallMs: Int64 = .min

    public init(options: EngineOptions = EngineOptions()) { self.options = options }

    public var watermark: Int64 { maxEventMs == .min ? .min : maxEventMs - options.latenessMs }
    public var rules: [Rule] { slots.compactMap { $0?.rule } }
    public var activeRuleCount: Int { slots.reduce(0) { $0 + ($1?.active == true ? 1 : 0) } }
    public func rule(id: String) -> Rule? { slotById[id].flatMap { slots[$0]?.rule } }

    func count(_ k: String, _ n: UInt64 = 1) { otherCounters[k, default: 0] &+= n }

    // MARK: rules

    /// Adds or replaces a rule; takes effect on the next event. State survives only when the
    /// detection and log sources are unchanged (otherwise old windows would mean something else).
    public func upsert(_ rule: Rule, forceActive: Bool = false) throws {
        let compiled = try CompiledRule(rule, forceActive: forceActive)
        if let slot = slotById[rule.id] {
            let old = slots[slot]!.rule
            if old.detection != rule.detection || old.logSources != rule.logSources || !compiled.active {
                clearState(slot)
            }
            slots[slot] = compiled
        } else {
            slotById[rule.id] = slots.count
            slots.append(compiled)
            states.append([:])
            seen.append(0)
        }
        indexStale = true
    }

    public func remove(ruleId: String) {
        guard let slot = slotById.removeValue(forKey: ruleId) else { return }
        clearState(slot)
        slots[slot] = nil
        indexStale = true
    }

    private func clearState(_ slot: Int) {
        if let id = slots[slot]?.rule.id { cleared.insert(id) }
        states[slot] = [:]
        dirty[slot] = nil
    }

    private func reindex() {
        slotRefs = slots.map { $0.map { Unmanaged.passUnretained($0) } }
        prefilter = LiteralPrefilter(slots)
        index = RuleIndex(slots, guarded: prefilter.isGuarded)
        hasAbsence = slots.contains { if case .absence? = $0?.rule.detection, $0?.active == true { return true }; return false }
        indexStale = false
    }

    // MARK: events

    /// Evaluates one event against the rules that could match it; returns what fired. `source`
    /// names the input it came from (a partition stream): each input keeps its own event time,
    /// and the clock follows the one furthest behind.
    public func process(_ e: Event, source: String = "", nowMs: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) -> [RuleHit] {
        if indexStale { reindex() }
        events &+= 1
        let t = e.eventTimeMs != 0 ? e.eventTimeMs : e.receivedTimeMs
        lastEventWallMs = nowMs
        advanceClock(source: source, t, nowMs: nowMs)
        let late = t < watermark
        let record = EventRecord(e, memo: memo)
        let context = QueryContext(nowMillis: nowMs, specialObjects: specialObjects)
        stamp &+= 1
        candidates.removeAll(keepingCapacity: true)
        // Scan first: the guarded rules to evaluate come from its hits (a few dozen), the index
        // adds the unguarded ones of the event's buckets.
        let scanned = index.hasRules(for: e)
        if scanned { prefilter.scan(e, stamp: stamp) }
        candidatesSeen &+= UInt64(index.candidates(e, record, stamp: stamp, seen: &seen, hits: scanned ? prefilter.passedSlots : UnsafeBufferPointer(start: nil, count: 0), into: &candidates))
        var out: [RuleHit] = []
        slotRefs.withUnsafeBufferPointer { refs in
            for slot in candidates {
                guard let ref = refs[slot] else { continue }
                ref._withUnsafeGuaranteedRef { r in
                    evaluated &+= 1
                    if r.isMatch {
                        if r.matches(0, record, context, indexed: true) { matchRule(slot, r, e, t, record, &out) }
                        return
                    }
                    if late {
                        // Windows before the watermark are settled; a late event cannot reopen them.
                        if r.conditions.indices.contains(where: { r.matches($0, record, context) }) { count("late_ignored") }
                        return
                    }
                    correlate(slot, r, e, t, record, context, &out)
                }
            }
        }
        if hasAbsence && watermark >= lastExpiryWatermark &+ 1000 { out += expireAbsences(upTo: watermark) }
        signalsOut &+= UInt64(out.count)
        return out
    }

    /// Moves `source`'s event time to `t`, then the clock to the slowest input that is not idle.
    /// The minimum is recomputed only when the slowest input moved or inputs went idle (checked
    /// once a second), not for every event.
    private func advanceClock(source: String, _ t: Int64, nowMs: Int64) {
        if restoredIdleTimersPending {
            // The restored inputs' idle timers start when events flow again, not at the last
            // event before the stop: else a stop longer than `idleSourceMs` would drop them all at
            // the first event, and the clock would jump to the first input that comes back.
            restoredIdleTimersPending = false
            for i in sources.values.indices { sources.values[i].wallMs = Swift.max(sources.values[i].wallMs, nowMs) }
        }
        let old = sources[source]
        var s = old ?? (maxMs: t, wallMs: nowMs)
        s.maxMs = Swift.max(s.maxMs, t)
        s.wallMs = nowMs
        sources[source] = s
        if sources.count == 1 { maxEventMs = s.maxMs; return }
        var recompute = false
        if let old { recompute = old.maxMs == maxEventMs && s.maxMs != old.maxMs }
        else if s.maxMs < maxEventMs { maxEventMs = s.maxMs }
        if nowMs >= nextIdleCheckMs || nowMs < nextIdleCheckMs &- 1000 {
            nextIdleCheckMs = nowMs + 1000
            let idle = sources.filter { $0.value.wallMs < nowMs &- options.idleSourceMs }.keys
            for k in idle { sources[k] = nil }
            recompute = recompute || !idle.isEmpty
        }
        if recompute { maxEventMs = sources.values.lazy.map(\.maxMs).min() ?? s.maxMs }
    }
    private var nextIdleCheckMs: Int64 = .min
    private var restoredIdleTimersPending = false

    /// Treats time as having moved to `eventTimeMs` (end of a test, or a quiet stream): absence
    /// rules whose window has closed fire.
    public func advance(to eventTimeMs: Int64) -> [RuleHit] {
        if indexStale { reindex() }
        if eventTimeMs > maxEventMs {
            maxEventMs = eventTimeMs
            for i in sources.values.indices { sources.values[i].maxMs = Swift.max(sources.values[i].maxMs, eventTimeMs) }
        }
        return expireAbsences(upTo: watermark)
    }

    /// Wall-clock timer for absence rules: when no event has arrived for a while, the event
    /// clock is extrapolated (`maxEventMs` + wall time since the last event) so an absence
    /// window closes even if nothing else ever comes. The event clock itself is not moved,
    /// so a later burst of older events is judged exactly as before.
    public func tick(nowMs: Int64) -> [RuleHit] {
        if indexStale { reindex() }
        guard hasAbsence, maxEventMs != .min, lastEventWallMs != .min, nowMs > lastEventWallMs else { return [] }
        let extrapolated = maxEventMs &+ (nowMs - lastEventWallMs) - options.latenessMs
        guard extrapolated >= lastExpiryWatermark &+ 1000 else { return [] }
        let out = expireAbsences(upTo: extrapolated)
        count("absence_timer_signals", UInt64(out.count))
        return out
    }

    private func groupKey(_ r: CompiledRule, _ e: Event, _ record: EventRecord, allowMissing: Bool) -> (String, [(String, String)])? {
        if r.groupBy.isEmpty { return ("", []) }  // most rules: no arrays to build and join per hit
        var values: [(String, String)] = []
        for f in r.groupBy {
            guard let v = f.value(e, record) else {
                if allowMissing { values.append((f.name, "")); continue }
                return nil
            }
            values.append((f.name, v))
        }
        return (values.map(\.1).joined(separator: "|"), values)
    }

    private func hit(_ r: CompiledRule, key: (String, [(String, String)]), ids: [String], count n: Int, first: Int64, last: Int64, _ e: Event, signalId: String? = nil) -> RuleHit {
        RuleHit(signalId: signalId ?? StableId.make(r.rule.id, key.0, ids.first ?? e.id), ruleBox: r.ruleBox, groupKey: key.0, groupValues: key.1,
                eventIds: ids.count <= options.maxEventIdsPerSignal ? ids : Array(ids.prefix(options.maxEventIdsPerSignal)), eventCount: n, firstEventMs: first, lastEventMs: last, lastEvent: e)
    }

    private func matchRule(_ slot: Int, _ r: CompiledRule, _ e: Event, _ t: Int64, _ record: EventRecord, _ out: inout [RuleHit]) {
        guard let key = groupKey(r, e, record, allowMissing: true) else { return }
        if r.rule.suppressionMs > 0 {
            var g = states[slot][key.0] ?? GroupState()
            if t < g.quietUntil { count("suppressed"); return }
            g.quietUntil = t + r.rule.suppressionMs
            store(slot, key.0, g)
        }
        // The id is rule + event, as the foundation's demo rule had: one signal per event, ever.
        out.append(hit(r, key: key, ids: [e.id], count: 1, first: t, last: t, e, signalId: StableId.make(r.rule.id, e.id)))
    }

    private func store(_ slot: Int, _ key: String, _ g: GroupState?) {
        dirty[slot, default: []].insert(key)
        guard var g else { states[slot][key] = nil; return }
        touch += 1
        g.touched = touch
        states[slot][key] = g
        if states[slot].count > options.maxGroupsPerRule { evict(slot) }
    }

    /// Drops the least recently touched tenth, so eviction cost is amortised.
    private func evict(_ slot: Int) {
        let keep = options.maxGroupsPerRule * 9 / 10
        let victims = states[slot].sorted { $0.value.touched < $1.value.touched }.prefix(states[slot].count - keep)
        for (k, _) in victims { states[slot][k] = nil; dirty[slot, default: []].insert(k) }
        count("state.evicted", UInt64(victims.count))
    }

    private func correlate(_ slot: Int, _ r: CompiledRule, _ e: Event, _ t: Int64, _ record: EventRecord, _ context: QueryContext, _ out: inout [RuleHit]) {
        switch r.shape {
        case .match: return
        case .threshold(let n, let w):
            guard r.matches(0, record, context), let key = groupKey(r, e, record, allowMissing: false) else { return }
            var g = states[slot][key.0] ?? GroupState()
            if t < g.quietUntil { count("suppressed"); return }
            let at = g.hits.lastIndex(where: { $0.t <= t }).map { $0 + 1 } ?? 0
            g.hits.insert(.init(t: t, id: e.id), at: at)
            let horizon = watermark == .min ? Int64.min : watermark - w
            g.hits.removeAll { $0.t < horizon }
            if g.hits.count > options.maxHitsPerGroup { g.hits.removeFirst(g.hits.count - options.maxHitsPerGroup) }
            // The earliest window of length w holding n events.
            var lo = 0
            for hi in g.hits.indices {
                while g.hits[hi].t - g.hits[lo].t > w { lo += 1 }
                if hi - lo + 1 >= n {
                    let window = Array(g.hits[lo...hi])
                    out.append(hit(r, key: key, ids: window.map(\.id), count: window.count, first: window.first!.t, last: window.last!.t, e))
                    g.hits.removeFirst(hi + 1)
                    if r.suppressionMs > 0 { g.quietUntil = window.last!.t + r.suppressionMs }
                    break
                }
            }
            store(slot, key.0, g.hits.isEmpty && g.quietUntil <= t ? nil : g)
        case .distinct(let n, let w):
            guard r.matches(0, record, context), let key = groupKey(r, e, record, allowMissing: false),
                  let v = r.distinctField?.value(e, record) else { return }
            var g = states[slot][key.0] ?? GroupState()
            if t < g.quietUntil { count("suppressed"); return }
            if let old = g.values[v], old.t > t {} else { g.values[v] = .init(t: t, id: e.id) }
            let newest = g.values.values.map(\.t).max() ?? t
            let horizon = Swift.max(newest - w, watermark == .min ? Int64.min : watermark - w)
            g.values = g.values.filter { $0.value.t >= horizon }
            if g.values.count >= n {
                let hits = g.values.values.sorted { ($0.t, $0.id) < ($1.t, $1.id) }
                out.append(hit(r, key: key, ids: hits.map(\.id), count: hits.count, first: hits.first!.t, last: hits.last!.t, e))
                g.values = [:]
                if r.suppressionMs > 0 { g.quietUntil = hits.last!.t + r.suppressionMs }
            }
            store(slot, key.0, g.values.isEmpty && g.quietUntil <= t ? nil : g)
        case .sequence(let counts, let w):
            guard let key = groupKey(r, e, record, allowMissing: false) else { return }
            let original = states[slot][key.0]
            var s = original ?? GroupState()
            if t < s.quietUntil { count("suppressed"); return }
            // The window runs from the first step's first event; too old, start over.
            if !s.hits.isEmpty, t - s.hits[0].t > w { s.hits = []; s.step = 0; s.stepHits = 0 }
            if !s.hits.isEmpty {
                if t >= s.hits.last!.t, r.matches(s.step, record, context) {
                    s.hits.append(.init(t: t, id: e.id))
                    s.stepHits += 1
                    if s.stepHits == counts[s.step] { s.step += 1; s.stepHits = 0 }
                }
            } else if r.matches(0, record, context) {
                s.hits = [.init(t: t, id: e.id)]
                s.stepHits = 1
                s.step = 0
                if counts[0] == 1 { s.step = 1; s.stepHits = 0 }
            }
            if s.step == counts.count {
                out.append(hit(r, key: key, ids: s.hits.map(\.id), count: s.hits.count, first: s.hits.first!.t, last: t, e))
                s.hits = []; s.step = 0; s.stepHits = 0
                if r.suppressionMs > 0 { s.quietUntil = t + r.suppressionMs }
            }
            if s != (original ?? GroupState()) { store(slot, key.0, s.isEmpty && s.quietUntil <= t ? nil : s) }
        case .temporal(let stepCount, let w):
            // The latest event of each step (keyed by step index); fires once every step has one
            // within the window, whatever the order.
            let matched = (0..<stepCount).filter { r.matches($0, record, context) }
            guard !matched.isEmpty, let key = groupKey(r, e, record, allowMissing: false) else { return }
            var g = states[slot][key.0] ?? GroupState()
            if t < g.quietUntil { count("suppressed"); return }
            for i in matched { if let old = g.values[String(i)], old.t > t {} else { g.values[String(i)] = .init(t: t, id: e.id) } }
            let newest = g.values.values.map(\.t).max() ?? t
            let horizon = Swift.max(newest - w, watermark == .min ? Int64.min : watermark - w)
            g.values = g.values.filter { $0.value.t >= horizon }
            if g.values.count == stepCount {
                let hits = g.values.values.sorted { ($0.t, $0.id) < ($1.t, $1.id) }
                var ids: [String] = []
                for h in hits where !ids.contains(h.id) { ids.append(h.id) }
                out.append(hit(r, key: key, ids: ids, count: ids.count, first: hits.first!.t, last: hits.last!.t, e))
                g.values = [:]
                if r.suppressionMs > 0 { g.quietUntil = hits.last!.t + r.suppressionMs }
            }
            store(slot, key.0, g.values.isEmpty && g.quietUntil <= t ? nil : g)
        case .absence(let w):
            let isA = r.matches(0, record, context), isB = r.matches(1, record, context)
            guard isA || isB, let key = groupKey(r, e, record, allowMissing: false) else { return }
            var g = states[slot][key.0] ?? GroupState()
            var changed = false
            if isB, let p = g.hits.first, t >= p.t, t <= p.t + w { g.hits = []; changed = true }
            if isA, g.hits.isEmpty, t >= g.quietUntil { g.hits = [.init(t: t, id: e.id)]; changed = true }
            if changed { store(slot, key.0, g.hits.isEmpty && g.quietUntil <= t ? nil : g) }
        }
    }

    private func expireAbsences(upTo wm: Int64) -> [RuleHit] {
        lastExpiryWatermark = wm
        var out: [RuleHit] = []
        for (slot, r) in slots.enumerated() {
            guard let r, r.active, case .absence(_, _, _, let w) = r.rule.detection else { continue }
            for (key, g) in states[slot] {
                guard let p = g.hits.first, p.t + w < wm else { continue }
                var e = Event()
                e.id = p.id
                e.eventTimeMs = p.t
                let values = zip(r.groupBy.map(\.name), key.split(separator: "|", omittingEmptySubsequences: false).map(String.init)).map { ($0, $1) }
                out.append(hit(r, key: (key, values), ids: [p.id], count: 1, first: p.t, last: p.t, e))
                var n = g
                n.hits = []
                if r.rule.suppressionMs > 0 { n.quietUntil = p.t + w + r.rule.suppressionMs }
                store(slot, key, n.quietUntil > p.t + w ? n : nil)
            }
        }
        count("signals", UInt64(out.count))
        return out
    }

    // MARK: checkpoint

    /// What changed since the last call; the caller writes it in the same transaction as the
    /// stream positions and the signals.
    public func takeChanges() -> [StateChange] {
        var out: [StateChange] = cleared.sorted().map { StateChange(ruleId: $0, groupKey: nil, json: nil) }
        cleared = []
        let enc = JSONEncoder()
        for (slot, keys) in dirty {
            guard let r = slots[slot] else { continue }
            for k in keys.sorted() {
                let json = states[slot][k].flatMap { try? enc.encode($0) }.map { String(decoding: $0, as: UTF8.self) }
                out.append(StateChange(ruleId: r.rule.id, groupKey: k, json: json))
            }
        }
        dirty = [:]
        return out
    }

    /// Restores one checkpointed group (at start, after the rules are loaded). Unknown rules are ignored.
    public func restore(ruleId: String, groupKey: String, json: String) {
        guard let slot = slotById[ruleId], let g = try? JSONDecoder().decode(GroupState.self, from: Data(json.utf8)) else {
            count("state.unrestorable"); return
        }
        states[slot][groupKey] = g
        touch = Swift.max(touch, g.touched)
    }

    /// Each input's newest event time (checkpointed with the clock, so a restart judges late
    /// events as before).
    public var sourceClocks: [String: Int64] {
        sources.filter { lastEventWallMs == .min || $0.value.wallMs >= lastEventWallMs - options.idleSourceMs }.mapValues(\.maxMs)
    }

    /// Restores the clock and, when checkpointed, each input's time (their idle timers restart
    /// with the first event processed after this). Without them, the clock stands for the
    /// default input `""`.
    public func restoreClock(maxEventMs: Int64, lastEventWallMs: Int64? = nil, sources restored: [String: Int64] = [:]) {
        self.maxEventMs = maxEventMs
        self.lastEventWallMs = lastEventWallMs ?? .min
        let wall = lastEventWallMs ?? Int64(Date().timeIntervalSince1970 * 1000)
        sources = [:]
        for (k, t) in restored { sources[k] = (t, wall) }
        if let slowest = restored.values.min() { self.maxEventMs = slowest }
        if sources.isEmpty && maxEventMs != .min { sources[""] = (maxEventMs, wall) }
        nextIdleCheckMs = .min
        restoredIdleTimersPending = !sources.isEmpty
        lastExpiryWatermark = watermark
    }

    /// Forgets all correlation state (before reloading it from the checkpoint).
    public func resetState() {
        for i in states.indices { states[i] = [:] }
        dirty = [:]
        cleared = []
        maxEventMs = .min
        sources = [:]
        nextIdleCheckMs = .min
        restoredIdleTimersPending = false
        lastEventWallMs = .min
        lastExpiryWatermark = .min
    }

    public var groupCount: Int { states.reduce(0) { $0 + $1.count } }
    public func groupCount(ruleId: String) -> Int { slotById[ruleId].map { states[$0].count } ?? 0 }
}

import VigilWire

/// Turns a rule hit into the wire Signal.
public enum SignalBuilder {
    /// Risk 0–100 (docs/rules.md): the rule's base score, +10/+20/+35 when the asset is of
    /// medium/high/critical criticality, +5 per doubling of the events beyond the first, capped at 100.
    public static func risk(base: Int, assetCriticality: String?, eventCount: Int = 1) -> UInt32 {
        var r = base
        switch assetCriticality?.lowercased() {
        case "critical": r += 35
        case "high": r += 20
        case "medium": r += 10
        default: break
        }
        var n = eventCount
        while n > 1 { r += 5; n /= 2 }
        return UInt32(min(100, max(0, r)))
    }

    public static func signal(_ h: RuleHit, nowMs: Int64) -> Signal {
        let e = h.lastEvent
        func value(_ name: String) -> String? {
            h.groupValues.first { $0.0 == name && !$0.1.isEmpty }?.1 ?? e.fields[name]
        }
        var s = Signal()
        s.id = h.signalId
        s.ruleId = h.rule.id
        s.ruleVersion = UInt32(clamping: h.rule.version)
        s.ruleName = h.rule.name
        s.mitre = h.ruleBox.mitre
        s.criticality = h.rule.criticality
        s.riskScore = risk(base: h.rule.riskScore, assetCriticality: e.enriched["asset.criticality"], eventCount: h.eventCount)
        s.entity = Entity(user: value("user.name") ?? "", asset: e.enriched["asset.name"] ?? value("host.name") ?? "",
                          ip: value("source.ip") ?? "")
        s.groupKey = h.groupKey
        s.eventIds = h.eventIds
        s.createdTimeMs = nowMs
        s.firstEventTimeMs = h.firstEventMs
        s.lastEventTimeMs = h.lastEventMs
        s.responseTemplateIds = h.rule.responses
        let who = s.entity.user.isEmpty ? "?" : s.entity.user
        s.description = h.eventCount > 1
            ? "\(h.rule.name): \(h.eventCount) events for \(h.groupKey.isEmpty ? who : h.groupKey)"
            : concat(h.rule.name, ": user ", who, " from ", s.entity.ip.isEmpty ? "?" : s.entity.ip, " on ", s.entity.asset.isEmpty ? "?" : s.entity.asset)
        return s
    }

    /// The parts' UTF-8 copied into one string of the right size: this runs for every signal,
    /// and interpolation appends piece by piece, growing the buffer.
    static func concat(_ parts: String...) -> String {
        var total = 0
        for p in parts { total += p.utf8.count }
        return String(unsafeUninitializedCapacity: total) { buf in
            var at = 0
            for p in parts {
                let n = p.utf8.withContiguousStorageIfAvailable { src -> Int in
                    if let b = src.baseAddress, src.count > 0 { (buf.baseAddress! + at).update(from: b, count: src.count) }
                    return src.count
                } ?? {
                    let a = Array(p.utf8)
                    for (k, c) in a.enumerated() { buf[at + k] = c }
                    return a.count
                }()
                at += n
            }
            return at
        }
    }
}

import Foundation
import VigilWire

/// Template text: literal runs and `{{name}}` placeholders (spaces inside the braces allowed).
public enum TemplateText {
    public enum Part: Sendable, Equatable { case literal(String), field(String) }

    /// Every placeholder a template may use, with what it stands for.
    public static let placeholders: [(String, String)] = [
        ("signal.id", "signal id"), ("signal.criticality", "low, medium, high, critical"),
        ("signal.description", "one-line description"), ("signal.event_count", "matched events"),
        ("signal.group_key", "the rule's group-by values"), ("signal.time", "when it was raised (ISO 8601 UTC)"),
        ("signal.first_event_time", "first matched event (ISO 8601 UTC)"), ("signal.link", "link to the signal (link.base + id)"),
        ("rule.id", "rule id"), ("rule.name", "rule name"), ("rule.version", "rule version"),
        ("risk.score", "0–100"), ("mitre.tactic", "tactic id (TA0006)"), ("mitre.tactic_name", "tactic name"),
        ("mitre.technique", "technique id (T1110)"), ("mitre.technique_name", "technique name"),
        ("entity.user", "user involved"), ("entity.asset", "asset involved"), ("entity.ip", "address involved"),
        ("signal.event_ids", "matched event ids, comma separated"),
    ]
    static let known = Set(placeholders.map { $0.0 })

    /// Splits `text`; an unknown or unclosed placeholder is refused with its line and column.
    public static func parse(_ text: String, field: String) -> Result<[Part], TemplateError> {
        var parts: [Part] = []
        var literal = ""
        let chars = Array(text)
        var i = 0, line = 1, col = 1
        while i < chars.count {
            if chars[i] == "{" && i + 1 < chars.count && chars[i + 1] == "{" {
                let (startLine, startCol) = (line, col)
                var j = i + 2
                var name = ""
                while j + 1 < chars.count && !(chars[j] == "}" && chars[j + 1] == "}") && !chars[j].isNewline { name.append(chars[j]); j += 1 }
                guard j + 1 < chars.count, chars[j] == "}", chars[j + 1] == "}" else {
                    return .failure(TemplateError(.unclosedPlaceholder, field, "'{{' at line \(startLine), column \(startCol) is not closed by '}}' on the same line"))
                }
                let key = name.trimmingCharacters(in: .whitespaces)
                guard known.contains(key) else {
                    return .failure(TemplateError(.unknownPlaceholder, field,
                        "unknown placeholder {{\(key)}} at line \(startLine), column \(startCol) (known: \(placeholders.map(\.0).joined(separator: ", ")))"))
                }
                if !literal.isEmpty { parts.append(.literal(literal)); literal = "" }
                parts.append(.field(key))
                col += j + 2 - i
                i = j + 2
                continue
            }
            literal.append(chars[i])
            if chars[i].isNewline { line += 1; col = 1 } else { col += 1 }
            i += 1
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        return .success(parts)
    }

    /// Renders with `escape` applied to every substituted value (never to the template's own text).
    public static func render(_ text: String, values: [String: String], escape: (String) -> String = { $0 }) -> String {
        guard case .success(let parts) = parse(text, field: "") else { return text }
        var out = ""
        for p in parts {
            switch p {
            case .literal(let s): out += s
            case .field(let k): out += escape(values[k] ?? "")
            }
        }
        return out
    }

    /// The placeholder values of a signal.
    public static func values(_ s: Signal, linkBase: String) -> [String: String] {
        [
            "signal.id": s.id, "signal.criticality": s.criticality.name, "signal.description": s.description,
            "signal.event_count": String(s.eventIds.count), "signal.group_key": s.groupKey,
            "signal.time": s.createdTimeMs == 0 ? "" : iso(s.createdTimeMs),
            "signal.first_event_time": s.firstEventTimeMs == 0 ? "" : iso(s.firstEventTimeMs),
            "signal.link": linkBase + s.id, "rule.id": s.ruleId, "rule.name": s.ruleName, "rule.version": String(s.ruleVersion),
            "risk.score": String(s.riskScore), "mitre.tactic": s.mitre.tacticId, "mitre.tactic_name": s.mitre.tacticName,
            "mitre.technique": s.mitre.techniqueId, "mitre.technique_name": s.mitre.techniqueName,
            "entity.user": s.entity.user, "entity.asset": s.entity.asset, "entity.ip": s.entity.ip,
            "signal.event_ids": s.eventIds.joined(separator: ","),
        ]
    }

    static func iso(_ ms: Int64) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    /// A made-up signal for `templates.test-send`.
    public static func sampleSignal() -> Signal {
        var s = Signal()
        s.id = "test-" + UUID().uuidString.lowercased()
        s.ruleId = "00000000-0000-0000-0000-000000000000"
        s.ruleName = "Test notification from Vigil"
        s.ruleVersion = 1
        s.criticality = .medium
        s.riskScore = 50
        s.mitre = Mitre(tacticId: "TA0006", tacticName: "Credential Access", techniqueId: "T1110", techniqueName: "Brute Force")
        s.entity = Entity(user: "alice", asset: "web01", ip: "192.0.2.1")
        s.groupKey = "test"
        s.eventIds = ["test-event"]
        s.createdTimeMs = Int64(Date().timeIntervalSince1970 * 1000)
        s.firstEventTimeMs = s.createdTimeMs
        s.lastEventTimeMs = s.createdTimeMs
        s.description = "A test signal sent by templates.test-send"
        return s
    }
}

import Foundation
import VigilRules
import VigilWire
import VigilYAML

/// Sigma metadata → the native rule's id, name, description (with references, author and
/// DRL 1.1 attribution), level → criticality/risk, tags → ATT&CK.
enum SigmaMetadata {
    static let tactics: [String: (String, String)] = [
        "reconnaissance": ("TA0043", "Reconnaissance"), "resource_development": ("TA0042", "Resource Development"),
        "initial_access": ("TA0001", "Initial Access"), "execution": ("TA0002", "Execution"), "persistence": ("TA0003", "Persistence"),
        "privilege_escalation": ("TA0004", "Privilege Escalation"), "defense_evasion": ("TA0005", "Defense Evasion"),
        "credential_access": ("TA0006", "Credential Access"), "discovery": ("TA0007", "Discovery"), "lateral_movement": ("TA0008", "Lateral Movement"),
        "collection": ("TA0009", "Collection"), "command_and_control": ("TA0011", "Command and Control"), "exfiltration": ("TA0010", "Exfiltration"),
        "impact": ("TA0040", "Impact"),
    ]

    static let licence = "Detection Rule License (DRL) 1.1, https://github.com/SigmaHQ/Detection-Rule-License"

    static func text(_ doc: YAMLNode, _ key: String) -> String? {
        guard let n = doc[key] else { return nil }
        if case .scalar(let s) = n, !s.isNull { return s.text }
        return nil
    }

    static func list(_ doc: YAMLNode, _ key: String) -> [String] {
        switch doc[key] {
        case .sequence(let xs, _)?: return xs.compactMap(\.scalarText)
        case .scalar(let s)? where !s.isNull: return [s.text]
        default: return []
        }
    }

    /// Fills the native rule's metadata from the Sigma document.
    static func apply(_ doc: YAMLNode, id: String, to r: inout Rule) {
        let author = text(doc, "author") ?? ""
        r.author = String(author.prefix(200))
        var desc = text(doc, "description") ?? ""
        let refs = list(doc, "references")
        if !refs.isEmpty { desc += "\n\nReferences:\n" + refs.map { "- " + $0 }.joined(separator: "\n") }
        let fps = list(doc, "falsepositives")
        if !fps.isEmpty { desc += "\n\nFalse positives: " + fps.joined(separator: "; ") }
        desc += "\n\nSigma rule \(id)" + (author.isEmpty ? "" : " by \(author)") + (text(doc, "status").map { ", status \($0)" } ?? "") + ". Licence: \(licence)."
        r.description = desc.trimmingCharacters(in: .whitespacesAndNewlines)
        switch text(doc, "level")?.lowercased() {
        case "critical": r.criticality = .critical; r.riskScore = 95
        case "high": r.criticality = .high; r.riskScore = 75
        case "low": r.criticality = .low; r.riskScore = 25
        case "informational": r.criticality = .low; r.riskScore = 10
        default: r.criticality = .medium; r.riskScore = 50
        }
        for tag in list(doc, "tags") {
            let t = tag.lowercased()
            guard t.hasPrefix("attack.") else { continue }
            let rest = String(t.dropFirst(7))
            if let (tid, name) = tactics[rest.replacingOccurrences(of: "-", with: "_")], !r.tactics.contains(where: { $0.id == tid }) {
                r.tactics.append(MitreRef(id: tid, name: name))
            } else if rest.hasPrefix("t"), rest.dropFirst().first?.isNumber == true {
                let id = rest.uppercased()
                if RuleDecoderAccess.validTechnique(id), !r.techniques.contains(where: { $0.id == id }) { r.techniques.append(MitreRef(id: id, name: id)) }
            }
        }
        r.createdMs = date(text(doc, "date"))
        r.modifiedMs = date(text(doc, "modified"))
        if r.modifiedMs == 0 { r.modifiedMs = r.createdMs }
    }

    /// `2024-05-01` or `2024/05/01` → ms since the epoch (0 when absent or unreadable).
    static func date(_ s: String?) -> Int64 {
        guard let s else { return 0 }
        let parts = s.split(whereSeparator: { $0 == "-" || $0 == "/" }).compactMap { Int($0) }
        guard parts.count == 3 else { return 0 }
        var c = DateComponents(); c.year = parts[0]; c.month = parts[1]; c.day = parts[2]
        var cal = Calendar(identifier: .gregorian)
        if let tz = TimeZone(secondsFromGMT: 0) { cal.timeZone = tz }
        return cal.date(from: c).map { Int64($0.timeIntervalSince1970 * 1000) } ?? 0
    }
}

enum RuleDecoderAccess {
    static func validTechnique(_ s: String) -> Bool {
        let parts = s.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
        guard s.hasPrefix("T"), parts.count <= 2, parts[0].count == 4, parts[0].allSatisfy(\.isNumber) else { return false }
        return parts.count == 1 || (parts[1].count == 3 && parts[1].allSatisfy(\.isNumber))
    }
}

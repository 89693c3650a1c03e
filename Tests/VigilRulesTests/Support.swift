import Foundation
import VigilRules
import VigilWire

enum T {
    static let t0: Int64 = 1_767_225_600_000

    static func event(_ id: String, at seconds: Int64, format: String = "linux-auth", _ fields: [String: String]) -> Event {
        var e = Event()
        e.id = id
        e.eventTimeMs = t0 + seconds * 1000
        e.receivedTimeMs = e.eventTimeMs
        e.format = format
        e.parseStatus = .parsed
        e.fields = fields
        return e
    }

    static func failed(_ id: String, at s: Int64, user: String = "root", ip: String = "192.0.2.1") -> Event {
        event(id, at: s, ["event.category": "authentication", "event.outcome": "failure", "user.name": user, "source.ip": ip])
    }

    static func success(_ id: String, at s: Int64, user: String = "root", ip: String = "192.0.2.1") -> Event {
        event(id, at: s, ["event.category": "authentication", "event.outcome": "success", "user.name": user, "source.ip": ip])
    }

    static func rule(_ detection: String, id: String = "11111111-1111-4111-8111-111111111111", extra: String = "") -> Rule {
        let text = """
        {"id": "\(id)", "name": "test rule", "status": "active", "criticality": "high", "risk_score": 60,
         "mitre": {"tactics": [{"id": "TA0006", "name": "Credential Access"}], "techniques": [{"id": "T1110", "name": "Brute Force"}]},
         "detection": \(detection)\(extra)}
        """
        do { return try RuleDecoder.decode(text) } catch { fatalError("test rule does not decode: \(error)") }
    }

    /// The repository root, found from this file's path (tests read the shipped rule library).
    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}

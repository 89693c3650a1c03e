import Foundation
import VigilRules
import VigilSigma
import VigilWire

enum S {
    static let t0: Int64 = 1_767_225_600_000
    static var n = 0

    /// A Sysmon-style Windows event: vendor names in `original`, as the Windows parser leaves them.
    static func win(_ eventId: Int, channel: String = "Microsoft-Windows-Sysmon/Operational", at seconds: Int64 = 0, _ data: [String: String]) -> Event {
        n += 1
        var e = Event()
        e.id = "e\(n)"
        e.format = "windows"
        e.eventTimeMs = t0 + seconds * 1000
        e.receivedTimeMs = e.eventTimeMs
        e.parseStatus = .parsed
        e.original = data.merging(["EventID": String(eventId), "Channel": channel]) { a, _ in a }
        e.fields = ["event.code": String(eventId)]
        return e
    }

    static func proc(_ data: [String: String], at s: Int64 = 0) -> Event { win(1, at: s, data) }

    /// A process_creation rule around one detection block.
    static func rule(_ detection: String, id: String = "5f0c2d3e-0000-4000-8000-000000000001", extra: String = "") -> String {
        """
        title: test rule
        id: \(id)
        status: test
        level: high
        author: Vigil team
        tags: [attack.execution, attack.t1059.001]
        logsource:
            product: windows
            category: process_creation
        detection:

        """ + detection.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n") + "\n" + extra
    }

    static func convert(_ yaml: String, file: String = "t.yml") -> [SigmaOutcome] { SigmaConverter().convert([(file, yaml)]) }

    static func one(_ yaml: String) throws -> Rule {
        let out = convert(yaml)
        guard out.count == 1 else { throw SigmaFileError(message: "expected one outcome, got \(out.count)") }
        switch out[0].result {
        case .success(let r): return r
        case .failure(let e): throw e
        }
    }

    static func refusal(_ yaml: String) -> SigmaError? {
        for o in convert(yaml) { if case .failure(let e) = o.result { return e } }
        return nil
    }

    /// Signals a rule raises over events, in a fresh engine.
    static func fire(_ rule: Rule, _ events: [Event]) throws -> Int {
        let engine = DetectionEngine()
        try engine.upsert(rule, forceActive: true)
        return events.reduce(0) { $0 + engine.process($1, nowMs: $1.eventTimeMs).count }
    }

    static func matches(_ detection: String, _ e: Event) throws -> Bool { try fire(try one(rule(detection)), [e]) > 0 }
}

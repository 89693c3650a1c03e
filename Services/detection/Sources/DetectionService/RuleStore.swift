import Foundation
import VigilLog
import VigilRules
import VigilStore
import VigilWire

/// The rules table: one row per rule, the rule JSON plus the columns QQL searches.
struct RuleStore {
    let db: Database

    func all() throws -> [Rule] {
        try db.query("SELECT json FROM rules ORDER BY id").compactMap { try? RuleDecoder.decode($0.string(0)) }
    }

    func get(_ id: String) throws -> Rule? {
        guard let row = try db.query("SELECT json FROM rules WHERE id = ?", [.text(id.lowercased())]).first else { return nil }
        return try RuleDecoder.decode(row.string(0))
    }

    func put(_ r: Rule) throws {
        func refs(_ m: [MitreRef]) -> String { m.map { "\($0.id) \($0.name)" }.joined(separator: "; ") }
        try db.run("""
            INSERT OR REPLACE INTO rules(id, name, version, status, criticality, risk, type, tactic, technique, tactics, techniques,
                log_source, log_sources, author, description, created_ms, modified_ms, json) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
            """, [.text(r.id), .text(r.name), .integer(Int64(r.version)), .text(r.status.rawValue), .text(r.criticality.name),
                  .integer(Int64(r.riskScore)), .text(r.detection.type), .text(r.tactics.first?.id ?? ""), .text(r.techniques.first?.id ?? ""),
                  .text(refs(r.tactics)), .text(refs(r.techniques)), .text(r.logSources.first ?? ""), .text(r.logSources.joined(separator: " ")),
                  .text(r.author), .text(r.description), .integer(r.createdMs), .integer(r.modifiedMs), .text(RuleEncoder.text(r))])
    }

    func delete(_ id: String) throws -> Bool {
        try db.run("DELETE FROM rule_state WHERE rule_id = ?", [.text(id)])
        return try db.run("DELETE FROM rules WHERE id = ?", [.text(id)]) > 0
    }

    func dropState(_ id: String) throws { try db.run("DELETE FROM rule_state WHERE rule_id = ?", [.text(id)]) }

    func signalCount(_ id: String) throws -> UInt64 {
        UInt64(try db.scalar("SELECT count(*) FROM signals WHERE rule_id = ?", [.text(id)])?.int64 ?? 0)
    }

    func meta(_ key: String) throws -> String? {
        try db.scalar("SELECT value FROM detection_meta WHERE key = ?", [.text(key)])?.string
    }

    func setMeta(_ key: String, _ value: String) throws {
        try db.run("INSERT OR REPLACE INTO detection_meta(key, value) VALUES(?, ?)", [.text(key), .text(value)])
    }

    func summary(_ r: Rule) throws -> RuleSummary {
        var s = RuleSummary()
        s.id = r.id; s.name = r.name; s.version = UInt32(clamping: r.version); s.status = r.status.rawValue
        s.criticality = r.criticality; s.riskScore = UInt32(clamping: r.riskScore); s.type = r.detection.type
        s.tacticIds = r.tactics.map(\.id); s.techniqueIds = r.techniques.map(\.id); s.logSources = r.logSources
        s.modifiedTimeMs = r.modifiedMs
        s.signalCount = try signalCount(r.id)
        return s
    }
}

/// The shipped library: `Services/detection/Library/*.json`, found through `rules.library`,
/// else `<bin>/../share/vigil/rules` (images), else by walking up from the executable
/// (a build tree inside the repository).
enum RuleLibrary {
    static func directory(configured: String?) -> String? {
        let fm = FileManager.default
        if let c = configured, !c.isEmpty { return c }
        let exe = URL(fileURLWithPath: (try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        let share = exe.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("share/vigil/rules").path
        if fm.fileExists(atPath: share) { return share }
        var dir = exe.deletingLastPathComponent()
        while dir.path != "/" && !dir.path.isEmpty {
            let candidate = dir.appendingPathComponent("Services/detection/Library").path
            if fm.fileExists(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }

    /// Every rule file in the directory; a file that does not load is logged and skipped.
    static func load(_ dir: String, logger: Logger) -> [Rule] {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        return files.compactMap { f in
            do {
                return try RuleDecoder.decode(String(contentsOfFile: dir + "/" + f, encoding: .utf8))
            } catch {
                logger.error("library rule refused", ["file": f, "error": "\(error)"])
                return nil
            }
        }
    }
}

import Foundation
import VigilService
import VigilLog
import VigilStore
import VigilWire

/// Response templates defined in the config service (`response_template` objects) become
/// templates here, followed live (snapshot + `config.changed`). Config's fields map as:
/// `channel` (email, slack, pager → pagerduty, webhook), `recipients` → destination (all
/// addresses for email; the URL or routing key, the first entry, otherwise), `subject`, `body`.
/// A template that came from config is remembered (`config_templates`), so that deleting the
/// object deletes the template — and a template made here with the same id is replaced by
/// config's, the single place that owns settings.
extension ResponseService {
    static let configTemplatesMigration = Migration(2, "templates owned by the config service", """
    CREATE TABLE config_templates(id TEXT PRIMARY KEY, sequence INTEGER NOT NULL) WITHOUT ROWID;
    """)

    static func template(fromConfigObject id: String, _ json: String) -> Result<Template, TemplateProblems> {
        guard let o = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            return .failure(TemplateProblems([TemplateError(.badJSON, "", "config object is not a JSON object")]))
        }
        let channelName = o["channel"] as? String ?? ""
        guard let channel = Channel(rawValue: channelName == "pager" ? "pagerduty" : channelName) else {
            return .failure(TemplateProblems([TemplateError(.badChannel, "channel", "'\(channelName)' is not email, slack, pager or webhook")]))
        }
        let recipients = (o["recipients"] as? [Any] ?? []).compactMap { $0 as? String }
        let destination = channel == .email ? recipients.joined(separator: ", ") : recipients.first ?? ""
        let t = Template(id: id, name: o["name"] as? String ?? id, channel: channel, destination: destination,
                         subject: o["subject"] as? String ?? "", body: o["body"] as? String ?? "")
        let problems = TemplateValidator.problems(t)
        return problems.isEmpty ? .success(t) : .failure(TemplateProblems(problems))
    }

    /// One `response_template` change (inside the consumer's transaction).
    func applyConfigTemplate(_ c: ConfigChange) throws {
        guard c.kind == "response_template" else { return }
        let known = try runtime.db.scalar("SELECT sequence FROM config_templates WHERE id = ?", [.text(c.id)])?.int64 ?? -1
        guard Int64(c.sequence) > known || c.sequence == 0 else { return }
        if c.action == "deleted" {
            try runtime.db.run("DELETE FROM templates WHERE id = ?", [.text(c.id)])
            try runtime.db.run("DELETE FROM config_templates WHERE id = ?", [.text(c.id)])
            templates[c.id] = nil
            runtime.count("templates.config_deleted")
            runtime.logger.info("template deleted in config", ["id": c.id])
            return
        }
        switch Self.template(fromConfigObject: c.id, c.objectJSON) {
        case .success(let t):
            try Outbox.saveTemplate(t, runtime.db, nowMs: Clock.nowMs())
            try runtime.db.run("INSERT OR REPLACE INTO config_templates(id, sequence) VALUES(?,?)", [.text(c.id), .integer(Int64(c.sequence))])
            templates[t.id] = t
            runtime.count("templates.config_applied")
        case .failure(let problems):
            // Config validated the object, but a template needs more (e.g. an email channel with
            // a recipient that is not an address): refused here, counted and logged; the previous
            // version, if any, stays.
            runtime.count("templates.config_refused")
            runtime.logger.error("template from config refused", ["id": c.id, "problems": problems.description])
        }
    }

    /// A snapshot: every `response_template` object, and config-owned templates it no longer has go.
    func loadConfigTemplates(_ s: ConfigSnapshot) {
        do {
            try runtime.db.transaction {
                var present = Set<String>()
                for o in s.objects where o.kind == "response_template" {
                    present.insert(o.id)
                    try applyConfigTemplate(ConfigChange(sequence: o.sequence, kind: o.kind, id: o.id, action: "snapshot", objectJSON: o.objectJSON))
                }
                for r in try runtime.db.query("SELECT id, sequence FROM config_templates") where !present.contains(r.string(0)) && UInt64(max(0, r.int(1))) <= s.head {
                    try applyConfigTemplate(ConfigChange(sequence: s.head + 1, kind: "response_template", id: r.string(0), action: "deleted"))
                }
            }
        } catch {
            runtime.logger.error("templates from the config snapshot not applied", ["error": "\(error)"])
        }
    }
}

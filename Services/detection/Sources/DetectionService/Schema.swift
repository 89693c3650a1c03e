import VigilQuery
import VigilStore

/// Detection's store: forward migrations only (a released migration is never edited).
enum Schema {
    static let migrations: [Migration] = [
        Migration(1, "signals", """
        CREATE TABLE signals(id TEXT PRIMARY KEY, rule_id TEXT NOT NULL, rule_name TEXT NOT NULL,
            criticality INTEGER NOT NULL, risk INTEGER NOT NULL, tactic TEXT NOT NULL, technique TEXT NOT NULL,
            entity_user TEXT NOT NULL, entity_asset TEXT NOT NULL, entity_ip TEXT NOT NULL,
            event_ids TEXT NOT NULL, created_ms INTEGER NOT NULL, payload BLOB NOT NULL) WITHOUT ROWID;
        CREATE INDEX signals_created ON signals(created_ms);
        """),
        // Rules, correlation state checkpoints, and the signal columns QQL searches.
        Migration(2, "rules", """
        CREATE TABLE rules(id TEXT PRIMARY KEY, name TEXT NOT NULL, version INTEGER NOT NULL, status TEXT NOT NULL,
            criticality TEXT NOT NULL, risk INTEGER NOT NULL, type TEXT NOT NULL, tactic TEXT NOT NULL, technique TEXT NOT NULL,
            tactics TEXT NOT NULL, techniques TEXT NOT NULL, log_source TEXT NOT NULL, log_sources TEXT NOT NULL,
            author TEXT NOT NULL, description TEXT NOT NULL, created_ms INTEGER NOT NULL, modified_ms INTEGER NOT NULL,
            json TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE rule_state(rule_id TEXT NOT NULL, group_key TEXT NOT NULL, state TEXT NOT NULL,
            PRIMARY KEY(rule_id, group_key)) WITHOUT ROWID;
        CREATE TABLE detection_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        ALTER TABLE signals ADD COLUMN criticality_name TEXT NOT NULL DEFAULT '';
        ALTER TABLE signals ADD COLUMN tactic_name TEXT NOT NULL DEFAULT '';
        ALTER TABLE signals ADD COLUMN technique_name TEXT NOT NULL DEFAULT '';
        ALTER TABLE signals ADD COLUMN group_key TEXT NOT NULL DEFAULT '';
        ALTER TABLE signals ADD COLUMN first_event_ms INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE signals ADD COLUMN rule_version INTEGER NOT NULL DEFAULT 0;
        UPDATE signals SET criticality_name = CASE criticality WHEN 1 THEN 'low' WHEN 2 THEN 'medium' WHEN 3 THEN 'high' WHEN 4 THEN 'critical' ELSE '' END;
        CREATE INDEX signals_rule ON signals(rule_id);
        """),
        // Who did what to rules and signals (deleted signals, library activations and copies).
        Migration(3, "audit", """
        CREATE TABLE audit(id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL,
            action TEXT NOT NULL, target TEXT NOT NULL, detail TEXT NOT NULL);
        """),
    ]

    /// Column positions of `SELECT *` on the tables (ListQueries selects every column).
    enum SignalColumn { static let payload = 12 }
    enum RuleColumn { static let json = 17 }
}

/// The lists detection serves with QQL.
enum DetectionCatalogs {
    static let rules = TokenCatalog(
        list: "rules", table: "rules", idColumn: "id",
        tokens: [
            TokenDefinition("rule.id", type: .keyword, storage: .column("id"), description: "rule id (UUID)"),
            TokenDefinition("rule.name", type: .text, storage: .column("name"), description: "rule name"),
            TokenDefinition("rule.version", type: .number, storage: .column("version"), description: "rule version"),
            TokenDefinition("rule.status", type: .keyword, storage: .column("status"), description: "active or inactive", aliases: ["status"]),
            TokenDefinition("rule.criticality", type: .keyword, storage: .column("criticality"), description: "low, medium, high, critical", aliases: ["criticality"]),
            TokenDefinition("rule.risk", type: .number, storage: .column("risk"), description: "base risk score 0–100"),
            TokenDefinition("rule.type", type: .keyword, storage: .column("type"), description: "match, threshold, distinct, sequence, temporal, absence"),
            TokenDefinition("rule.tactic", type: .keyword, storage: .column("tactic"), description: "primary MITRE ATT&CK tactic id (TA0006)", aliases: ["tactic"]),
            TokenDefinition("rule.technique", type: .keyword, storage: .column("technique"), description: "primary MITRE ATT&CK technique id (T1110)", aliases: ["technique"]),
            TokenDefinition("rule.tactics", type: .text, storage: .column("tactics"), description: "every tactic, ids and names"),
            TokenDefinition("rule.techniques", type: .text, storage: .column("techniques"), description: "every technique, ids and names"),
            TokenDefinition("rule.log_source", type: .keyword, storage: .column("log_source"), description: "first log source (event.format)", aliases: ["log_source"]),
            TokenDefinition("rule.log_sources", type: .text, storage: .column("log_sources"), description: "every log source"),
            TokenDefinition("rule.author", type: .text, storage: .column("author"), description: "who wrote it"),
            TokenDefinition("rule.description", type: .text, storage: .column("description"), description: "description"),
            TokenDefinition("rule.created", type: .time, storage: .column("created_ms"), description: "created"),
            TokenDefinition("rule.modified", type: .time, storage: .column("modified_ms"), description: "last change"),
        ],
        freeText: ["rule.name", "rule.description", "rule.tactics", "rule.techniques"], defaultTimeToken: "rule.modified")

    static let signals = TokenCatalog(
        list: "signals", table: "signals", idColumn: "id",
        tokens: [
            TokenDefinition("signal.id", type: .keyword, storage: .column("id"), description: "signal id"),
            TokenDefinition("@timestamp", type: .time, storage: .column("created_ms"), description: "when the signal was raised", aliases: ["signal.time"]),
            TokenDefinition("signal.event_time", type: .time, storage: .column("first_event_ms"), description: "time of the first matched event"),
            TokenDefinition("signal.criticality", type: .keyword, storage: .column("criticality_name"), description: "low, medium, high, critical", aliases: ["criticality"]),
            TokenDefinition("risk.score", type: .number, storage: .column("risk"), description: "0–100"),
            TokenDefinition("rule.name", type: .text, storage: .column("rule_name"), description: "rule that raised it"),
            TokenDefinition("rule.id", type: .keyword, storage: .column("rule_id"), description: "its id"),
            TokenDefinition("rule.version", type: .number, storage: .column("rule_version"), description: "its version"),
            TokenDefinition("tactic", type: .keyword, storage: .column("tactic"), description: "MITRE ATT&CK tactic id", aliases: ["rule.mitre.tactic"]),
            TokenDefinition("tactic.name", type: .text, storage: .column("tactic_name"), description: "tactic name"),
            TokenDefinition("technique", type: .keyword, storage: .column("technique"), description: "MITRE ATT&CK technique id", aliases: ["rule.mitre.technique"]),
            TokenDefinition("technique.name", type: .text, storage: .column("technique_name"), description: "technique name"),
            TokenDefinition("user.name", type: .text, storage: .column("entity_user"), description: "the user involved"),
            TokenDefinition("asset.name", type: .text, storage: .column("entity_asset"), description: "the asset (or host) involved", aliases: ["host.name", "asset"]),
            TokenDefinition("source.ip", type: .ip, storage: .column("entity_ip"), description: "the address involved"),
            TokenDefinition("signal.group_key", type: .text, storage: .column("group_key"), description: "the rule's group-by values"),
            TokenDefinition("event.id", type: .text, storage: .column("event_ids"), description: "a matched event id"),
        ],
        freeText: ["rule.name", "user.name", "asset.name", "signal.group_key"], defaultTimeToken: "@timestamp")
}

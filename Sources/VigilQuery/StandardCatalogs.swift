/// Example catalogs for Vigil's lists. Each owning service may replace its own;
/// the shapes here document the expected tables.
public enum StandardCatalogs {
    private static func field(_ name: String, _ type: TokenType, _ description: String,
                              column: String = "fields", aliases: [String] = []) -> TokenDefinition {
        TokenDefinition(name, type: type, storage: .jsonField(column, name), description: description, aliases: aliases)
    }

    /// `events(id TEXT, time INTEGER /*ms*/, raw TEXT, fields TEXT /*JSON*/, enriched TEXT /*JSON*/)`.
    /// Free text searches the raw line and the fields JSON.
    public static let events = TokenCatalog(
        list: "events", table: "events", idColumn: "rowid",
        tokens: [
            TokenDefinition("event.id", type: .keyword, storage: .column("id"), description: "unique event id"),
            TokenDefinition("@timestamp", type: .time, storage: .column("time"),
                            description: "when the event happened (ms since epoch)", aliases: ["event.time"]),
            TokenDefinition("raw", type: .text, storage: .column("raw"), description: "the original log line"),
            TokenDefinition("fields", type: .text, storage: .column("fields"),
                            description: "all parsed fields as JSON text", listed: false),
            field("message", .text, "human-readable message"),
            field("event.category", .keyword, "authentication, network, process, file, …"),
            field("event.action", .keyword, "what happened (logon, connection, …)"),
            field("event.outcome", .keyword, "success, failure or unknown"),
            field("event.severity", .number, "source severity, 0–10"),
            field("event.dataset", .keyword, "source log type"),
            field("source.ip", .ip, "source address"),
            field("source.port", .number, "source port"),
            field("destination.ip", .ip, "destination address"),
            field("destination.port", .number, "destination port"),
            field("network.protocol", .keyword, "tcp, udp, …"),
            field("user.name", .text, "account name"),
            field("user.domain", .keyword, "account domain"),
            field("host.name", .text, "host the event came from"),
            field("process.name", .text, "process image name"),
            field("process.command_line", .text, "full command line"),
            field("process.pid", .number, "process id"),
            field("file.path", .text, "file path"),
            field("url.full", .text, "full URL"),
            field("source.geo.country_code", .keyword, "ISO country of the source address (enrichment)", column: "enriched"),
            field("threat.matched", .bool, "matched a threat-intel indicator (enrichment)", column: "enriched"),
        ],
        freeText: ["raw", "fields"], defaultTimeToken: "@timestamp")

    /// `signals(id TEXT, created INTEGER /*ms*/, criticality TEXT, risk_score REAL, rule_name TEXT, status TEXT, fields TEXT /*JSON*/)`.
    public static let signals = TokenCatalog(
        list: "signals", table: "signals", idColumn: "rowid",
        tokens: [
            TokenDefinition("signal.id", type: .keyword, storage: .column("id"), description: "unique signal id"),
            TokenDefinition("signal.time", type: .time, storage: .column("created"),
                            description: "when the signal was raised", aliases: ["@timestamp"]),
            TokenDefinition("signal.criticality", type: .keyword, storage: .column("criticality"),
                            description: "LOW, MEDIUM, HIGH or CRITICAL"),
            TokenDefinition("signal.status", type: .keyword, storage: .column("status"), description: "open, acknowledged, closed"),
            TokenDefinition("risk.score", type: .number, storage: .column("risk_score"), description: "0–100"),
            TokenDefinition("rule.name", type: .text, storage: .column("rule_name"), description: "rule that raised the signal"),
            field("rule.id", .keyword, "id of that rule"),
            field("rule.mitre.tactic", .keyword, "MITRE ATT&CK tactic"),
            field("rule.mitre.technique", .keyword, "MITRE ATT&CK technique id"),
            field("host.name", .text, "affected host"),
            field("user.name", .text, "affected account"),
            field("source.ip", .ip, "source address"),
            field("destination.ip", .ip, "destination address"),
            field("signal.event_count", .number, "events that contributed"),
            TokenDefinition("fields", type: .text, storage: .column("fields"), description: "all fields as JSON text", listed: false),
        ],
        freeText: ["rule.name", "fields"], defaultTimeToken: "signal.time")

    /// `rules(id TEXT, name TEXT, enabled INTEGER, severity TEXT, updated INTEGER, fields TEXT /*JSON*/)`.
    public static let rules = TokenCatalog(
        list: "rules", table: "rules", idColumn: "rowid",
        tokens: [
            TokenDefinition("rule.id", type: .keyword, storage: .column("id"), description: "rule id"),
            TokenDefinition("rule.name", type: .text, storage: .column("name"), description: "rule name"),
            TokenDefinition("rule.enabled", type: .bool, storage: .column("enabled"), description: "whether the rule runs"),
            TokenDefinition("rule.severity", type: .keyword, storage: .column("severity"), description: "LOW … CRITICAL"),
            TokenDefinition("rule.updated", type: .time, storage: .column("updated"), description: "last change"),
            field("rule.mitre.tactic", .keyword, "MITRE ATT&CK tactic"),
            field("rule.mitre.technique", .keyword, "MITRE ATT&CK technique id"),
            field("rule.author", .text, "who wrote it"),
        ],
        freeText: ["rule.name"], defaultTimeToken: "rule.updated")

    /// `sources(id TEXT, name TEXT, type TEXT, address TEXT, last_seen INTEGER, eps REAL)`.
    public static let sources = TokenCatalog(
        list: "sources", table: "sources", idColumn: "rowid",
        tokens: [
            TokenDefinition("source.id", type: .keyword, storage: .column("id"), description: "source id"),
            TokenDefinition("source.name", type: .text, storage: .column("name"), description: "display name"),
            TokenDefinition("source.type", type: .keyword, storage: .column("type"), description: "syslog, windows, cloudtrail, …"),
            TokenDefinition("source.address", type: .ip, storage: .column("address"), description: "sending address"),
            TokenDefinition("source.last_seen", type: .time, storage: .column("last_seen"), description: "last event received"),
            TokenDefinition("source.eps", type: .number, storage: .column("eps"), description: "events per second"),
        ],
        freeText: ["source.name"], defaultTimeToken: "source.last_seen")

    /// `collectors(id TEXT, name TEXT, version TEXT, status TEXT, address TEXT, last_seen INTEGER)`.
    public static let collectors = TokenCatalog(
        list: "collectors", table: "collectors", idColumn: "rowid",
        tokens: [
            TokenDefinition("collector.id", type: .keyword, storage: .column("id"), description: "collector id"),
            TokenDefinition("collector.name", type: .text, storage: .column("name"), description: "display name"),
            TokenDefinition("collector.version", type: .keyword, storage: .column("version"), description: "software version"),
            TokenDefinition("collector.status", type: .keyword, storage: .column("status"), description: "running, stopped, error"),
            TokenDefinition("collector.address", type: .ip, storage: .column("address"), description: "address"),
            TokenDefinition("collector.last_seen", type: .time, storage: .column("last_seen"), description: "last heartbeat"),
        ],
        freeText: ["collector.name"], defaultTimeToken: "collector.last_seen")

    /// `appliances(id TEXT, name TEXT, role TEXT, address TEXT, disk_used REAL, updated INTEGER)`.
    public static let appliances = TokenCatalog(
        list: "appliances", table: "appliances", idColumn: "rowid",
        tokens: [
            TokenDefinition("appliance.id", type: .keyword, storage: .column("id"), description: "appliance id"),
            TokenDefinition("appliance.name", type: .text, storage: .column("name"), description: "host name"),
            TokenDefinition("appliance.role", type: .keyword, storage: .column("role"), description: "search, ingest, all-in-one"),
            TokenDefinition("appliance.address", type: .ip, storage: .column("address"), description: "management address"),
            TokenDefinition("appliance.disk_used", type: .number, storage: .column("disk_used"), description: "percent of disk used"),
            TokenDefinition("appliance.updated", type: .time, storage: .column("updated"), description: "last status report"),
        ],
        freeText: ["appliance.name"], defaultTimeToken: "appliance.updated")

    /// `users(id TEXT, name TEXT, email TEXT, role TEXT, disabled INTEGER, last_login INTEGER)`.
    public static let users = TokenCatalog(
        list: "users", table: "users", idColumn: "rowid",
        tokens: [
            TokenDefinition("user.id", type: .keyword, storage: .column("id"), description: "user id"),
            TokenDefinition("user.name", type: .text, storage: .column("name"), description: "login name"),
            TokenDefinition("user.email", type: .text, storage: .column("email"), description: "email address"),
            TokenDefinition("user.role", type: .keyword, storage: .column("role"), description: "admin, analyst, viewer"),
            TokenDefinition("user.disabled", type: .bool, storage: .column("disabled"), description: "account disabled"),
            TokenDefinition("user.last_login", type: .time, storage: .column("last_login"), description: "last sign-in"),
        ],
        freeText: ["user.name", "user.email"], defaultTimeToken: "user.last_login")

    public static let all: [TokenCatalog] = [events, signals, rules, sources, collectors, appliances, users]
}

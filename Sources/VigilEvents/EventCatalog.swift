import VigilQuery

/// The `events` list: QQL tokens over enrichment's `events` table. Event values live in the
/// `fields` JSON (and the vendor's own names in `original`), enriched values in `enriched`,
/// so a query can say which it means.
public enum EventCatalog {
    static func field(_ name: String, _ type: TokenType, _ d: String) -> TokenDefinition {
        TokenDefinition(name, type: type, storage: .jsonField("fields", name), description: d)
    }
    static func enriched(_ name: String, _ type: TokenType, _ d: String) -> TokenDefinition {
        TokenDefinition(name, type: type, storage: .jsonField("enriched", name), description: d + " (enriched)")
    }
    static func vendor(_ name: String, _ type: TokenType, _ d: String) -> TokenDefinition {
        TokenDefinition(name, type: type, storage: .jsonField("original", name), description: d + " (original vendor field)")
    }

    public static let catalog = TokenCatalog(
        list: "events", table: "events", idColumn: "id",
        tokens: [
            TokenDefinition("event.id", type: .keyword, storage: .column("id"), description: "unique event id"),
            TokenDefinition("@timestamp", type: .time, storage: .column("time_ms"), description: "when the event happened", aliases: ["event.time"]),
            TokenDefinition("event.received", type: .time, storage: .column("received_ms"), description: "when ingest accepted it"),
            TokenDefinition("event.source", type: .keyword, storage: .column("source"), description: "syslog-udp, syslog-tcp, json-tcp, file:…, agent:…"),
            TokenDefinition("event.format", type: .keyword, storage: .column("format"), description: "parser that understood it (linux-auth, cef, windows, …)"),
            TokenDefinition("event.parse_status", type: .keyword, storage: .column("parse_status"), description: "parsed or unparsed"),
            TokenDefinition("event.parse_error", type: .text, storage: .column("parse_error"), description: "why it is unparsed"),
            TokenDefinition("raw", type: .text, storage: .column("raw"), description: "the original line"),
            TokenDefinition("fields", type: .text, storage: .column("fields"), description: "all event values as JSON text", listed: false),
            field("message", .text, "message text"),
            field("event.reparsed", .keyword, "true when the event was stored unparsed and parsed later (ingest.reparse)"),
            field("collection.source", .keyword, "configured event source it came through (config id)"),
            field("collection.collector", .keyword, "collector of that event source"),
            field("collection.appliance", .keyword, "appliance of that collector"),
            field("collection.source_type", .keyword, "source type (catalog id) of that event source"),
            field("event.category", .keyword, "authentication, network, process, file, iam, …"),
            field("event.action", .keyword, "what happened"),
            field("event.outcome", .keyword, "success, failure or unknown"),
            field("event.code", .keyword, "vendor event code (e.g. Windows event id)"),
            field("event.severity", .number, "source severity"),
            field("source.ip", .ip, "source address"),
            field("source.port", .number, "source port"),
            field("destination.ip", .ip, "destination address"),
            field("destination.port", .number, "destination port"),
            field("network.transport", .keyword, "tcp, udp, icmp"),
            field("user.name", .text, "account name"),
            field("user.domain", .keyword, "account domain"),
            field("user.target.name", .text, "account acted upon (su/sudo target, created account)"),
            field("host.name", .text, "host the event is about"),
            field("process.name", .text, "process name"),
            field("process.pid", .number, "process id"),
            field("process.executable", .text, "process image path"),
            field("process.command_line", .text, "full command line"),
            field("process.parent.executable", .text, "parent image path"),
            field("file.path", .text, "file path"),
            field("url.full", .text, "URL"),
            field("dns.question.name", .text, "DNS query name"),
            field("rule.name", .text, "firewall/IDS rule name from the source"),
            field("observer.vendor", .keyword, "device vendor"),
            field("observer.product", .keyword, "device product"),
            field("log.syslog.appname", .keyword, "syslog app name"),
            field("url.original", .text, "URL as the source logged it"),
            field("url.domain", .text, "URL host"),
            field("user.id", .keyword, "account id from the event (Windows SID, Unix uid)"),
            field("file.hash.sha256", .keyword, "file SHA-256"),
            field("process.hash.sha256", .keyword, "process image SHA-256"),
            enriched("asset.id", .keyword, "asset id"),
            enriched("asset.name", .text, "asset name"),
            enriched("asset.criticality", .keyword, "low, medium, high, critical"),
            enriched("asset.tags", .text, "asset tags, ';'-separated"),
            enriched("asset.os", .text, "asset operating system"),
            enriched("asset.owner", .text, "asset owner"),
            // The directory's user id has the same name as the event's `user.id` (SID/uid), so its token is prefixed.
            TokenDefinition("enriched.user.id", type: .keyword, storage: .jsonField("enriched", "user.id"), description: "directory user id (enriched)"),
            enriched("user.full_name", .text, "directory display name"),
            enriched("user.department", .text, "directory department"),
            enriched("user.title", .text, "directory job title"),
            enriched("user.manager", .text, "directory manager"),
            enriched("user.groups", .text, "directory groups, ';'-separated"),
            enriched("user.privileged", .bool, "privileged account in the directory"),
            enriched("threat.indicator.matched", .bool, "a threat-intel indicator matched"),
            enriched("threat.indicator.type", .keyword, "ipv4, ipv6, cidr, domain, url, md5, sha1, sha256"),
            enriched("threat.indicator.value", .text, "the indicator that matched"),
            enriched("threat.indicator.feed", .keyword, "feed the indicator came from"),
            enriched("threat.indicator.confidence", .number, "indicator confidence 0-100"),
            enriched("threat.indicator.field", .keyword, "event field that matched"),
            vendor("EventID", .number, "Windows event id"),
            vendor("Channel", .keyword, "Windows channel"),
            vendor("Image", .text, "Sysmon process image"),
            vendor("CommandLine", .text, "Sysmon/4688 command line"),
            vendor("TargetUserName", .text, "Windows target user"),
        ],
        freeText: ["raw", "fields"], defaultTimeToken: "@timestamp",
        // enrichment's FTS5 index over the raw line and the message (docs/enrichment.md, "Full-text index").
        fullText: FullTextIndex(table: "events_fts", rowidColumn: "seq"))
}

import VigilQuery

/// QQL lists the config service serves (the seed's data-collection tiles): event sources,
/// collectors and appliances, over views of the objects table (ConfigStore migration 2).
public enum ConfigCatalogs {
    static func col(_ name: String, _ column: String, _ type: TokenType, _ d: String) -> TokenDefinition {
        TokenDefinition(name, type: type, storage: .column(column), description: d)
    }

    public static let sources = TokenCatalog(
        list: "sources", table: "config_sources", idColumn: "id",
        tokens: [
            col("source.id", "id", .keyword, "event source id"),
            col("source.name", "name", .text, "display name"),
            col("source.type", "type", .keyword, "source type (catalog id)"),
            col("source.format", "format", .keyword, "log format of its type (syslog, json, …)"),
            col("source.vendor", "vendor", .text, "vendor of its type"),
            col("source.product", "product", .text, "product of its type"),
            col("source.collector", "collector", .keyword, "collector id"),
            col("source.address", "address", .ip, "sending address"),
            col("source.enabled", "enabled", .bool, "whether it is collected"),
            col("source.modified", "modified_ms", .time, "last change"),
        ],
        freeText: ["source.name", "source.vendor", "source.product"], defaultTimeToken: nil)

    public static let collectors = TokenCatalog(
        list: "collectors", table: "config_collectors", idColumn: "id",
        tokens: [
            col("collector.id", "id", .keyword, "collector id"),
            col("collector.name", "name", .text, "display name"),
            col("collector.type", "type", .keyword, "syslog, tcp-json, agent, file, api"),
            col("collector.appliance", "appliance", .keyword, "appliance id"),
            col("collector.status", "status", .keyword, "running, stopped, error"),
            col("collector.version", "version", .keyword, "software version"),
            col("collector.sources", "sources", .number, "event sources it collects"),
            col("collector.modified", "modified_ms", .time, "last change"),
        ],
        freeText: ["collector.name"], defaultTimeToken: nil)

    public static let appliances = TokenCatalog(
        list: "appliances", table: "config_appliances", idColumn: "id",
        tokens: [
            col("appliance.id", "id", .keyword, "appliance id"),
            col("appliance.name", "name", .text, "display name"),
            col("appliance.hostname", "hostname", .text, "host name"),
            col("appliance.ip", "ip", .ip, "address"),
            col("appliance.version", "version", .keyword, "software version"),
            col("appliance.role", "role", .keyword, "all-in-one, ingest, search"),
            col("appliance.logs_received", "logs_received", .number, "logs received (as reported)"),
            col("appliance.collectors", "collectors", .number, "collectors on it"),
            col("appliance.modified", "modified_ms", .time, "last change"),
        ],
        freeText: ["appliance.name", "appliance.hostname"], defaultTimeToken: nil)

    public static let all = [sources, collectors, appliances]
}

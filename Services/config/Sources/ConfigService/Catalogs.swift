import VigilQuery

/// QQL lists the config service serves (the seed's data-collection tiles): event sources,
/// collectors and appliances, over views of the objects table (ConfigStore migration 2).
public enum ConfigCatalogs {
    public static let sources = TokenCatalog(
        list: "sources", table: "config_sources", idColumn: "id",
        tokens: [
            TokenDefinition.column("source.id", "id", .keyword, "event source id"),
            TokenDefinition.column("source.name", "name", .text, "display name"),
            TokenDefinition.column("source.type", "type", .keyword, "source type (catalog id)"),
            TokenDefinition.column("source.format", "format", .keyword, "log format of its type (syslog, json, …)"),
            TokenDefinition.column("source.vendor", "vendor", .text, "vendor of its type"),
            TokenDefinition.column("source.product", "product", .text, "product of its type"),
            TokenDefinition.column("source.collector", "collector", .keyword, "collector id"),
            TokenDefinition.column("source.address", "address", .ip, "sending address"),
            TokenDefinition.column("source.enabled", "enabled", .bool, "whether it is collected"),
            TokenDefinition.column("source.modified", "modified_ms", .time, "last change"),
        ],
        freeText: ["source.name", "source.vendor", "source.product"], defaultTimeToken: nil)

    public static let collectors = TokenCatalog(
        list: "collectors", table: "config_collectors", idColumn: "id",
        tokens: [
            TokenDefinition.column("collector.id", "id", .keyword, "collector id"),
            TokenDefinition.column("collector.name", "name", .text, "display name"),
            TokenDefinition.column("collector.type", "type", .keyword, "syslog, tcp-json, agent, file, api"),
            TokenDefinition.column("collector.appliance", "appliance", .keyword, "appliance id"),
            TokenDefinition.column("collector.status", "status", .keyword, "running, stopped, error"),
            TokenDefinition.column("collector.version", "version", .keyword, "software version"),
            TokenDefinition.column("collector.sources", "sources", .number, "event sources it collects"),
            TokenDefinition.column("collector.modified", "modified_ms", .time, "last change"),
        ],
        freeText: ["collector.name"], defaultTimeToken: nil)

    public static let appliances = TokenCatalog(
        list: "appliances", table: "config_appliances", idColumn: "id",
        tokens: [
            TokenDefinition.column("appliance.id", "id", .keyword, "appliance id"),
            TokenDefinition.column("appliance.name", "name", .text, "display name"),
            TokenDefinition.column("appliance.hostname", "hostname", .text, "host name"),
            TokenDefinition.column("appliance.ip", "ip", .ip, "address"),
            TokenDefinition.column("appliance.version", "version", .keyword, "software version"),
            TokenDefinition.column("appliance.role", "role", .keyword, "all-in-one, ingest, search"),
            TokenDefinition.column("appliance.logs_received", "logs_received", .number, "logs received (as reported)"),
            TokenDefinition.column("appliance.collectors", "collectors", .number, "collectors on it"),
            TokenDefinition.column("appliance.modified", "modified_ms", .time, "last change"),
        ],
        freeText: ["appliance.name", "appliance.hostname"], defaultTimeToken: nil)

    public static let all = [sources, collectors, appliances]
}

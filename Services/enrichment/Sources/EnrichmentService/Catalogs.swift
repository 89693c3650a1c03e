import VigilQuery

/// QQL lists enrichment serves besides events: the asset inventory and the directory users.
public enum AssetCatalog {
    public static let catalog = TokenCatalog(
        list: "assets", table: "assets", idColumn: "id",
        tokens: [
            TokenDefinition.column("asset.id", "id", .keyword, "asset id"),
            TokenDefinition.column("asset.name", "name", .text, "asset name"),
            TokenDefinition.column("host.name", "hostname", .text, "host name"),
            TokenDefinition.column("host.ip", "ip", .ip, "address"),
            TokenDefinition.column("host.mac", "mac", .keyword, "MAC address (lower case, ':'-separated)"),
            TokenDefinition.column("agent.id", "agent_id", .keyword, "endpoint agent id"),
            TokenDefinition.column("asset.criticality", "criticality", .keyword, "low, medium, high, critical"),
            TokenDefinition.column("asset.tags", "tags", .text, "tags, ';'-separated"),
            TokenDefinition.column("host.os", "os", .text, "operating system"),
            TokenDefinition.column("asset.owner", "owner", .text, "owner"),
            TokenDefinition.column("asset.updated", "updated_ms", .time, "when it was last imported"),
        ],
        freeText: ["asset.name", "host.name", "asset.tags", "asset.owner"], defaultTimeToken: nil)
}

public enum UserCatalog {
    public static let catalog = TokenCatalog(
        list: "users", table: "directory_users", idColumn: "id",
        tokens: [
            TokenDefinition.column("user.id", "id", .keyword, "directory id"),
            TokenDefinition.column("user.name", "sam", .text, "account name (sAMAccountName)"),
            TokenDefinition.column("user.upn", "upn", .text, "user principal name"),
            TokenDefinition.column("user.email", "email", .text, "e-mail address"),
            TokenDefinition.column("user.sid", "sid", .keyword, "Windows SID"),
            TokenDefinition.column("user.full_name", "display_name", .text, "display name"),
            TokenDefinition.column("user.department", "department", .text, "department"),
            TokenDefinition.column("user.title", "title", .text, "job title"),
            TokenDefinition.column("user.manager", "manager", .text, "manager"),
            TokenDefinition.column("user.groups", "groups", .text, "groups, ';'-separated"),
            TokenDefinition.column("user.privileged", "privileged", .bool, "privileged account"),
            TokenDefinition.column("user.updated", "updated_ms", .time, "when it was last imported"),
        ],
        freeText: ["user.name", "user.full_name", "user.email", "user.upn"], defaultTimeToken: nil)
}

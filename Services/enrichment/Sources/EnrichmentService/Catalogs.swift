import VigilQuery

/// QQL lists enrichment serves besides events: the asset inventory and the directory users.
public enum AssetCatalog {
    static func col(_ name: String, _ column: String, _ type: TokenType, _ d: String) -> TokenDefinition {
        TokenDefinition(name, type: type, storage: .column(column), description: d)
    }
    public static let catalog = TokenCatalog(
        list: "assets", table: "assets", idColumn: "id",
        tokens: [
            col("asset.id", "id", .keyword, "asset id"),
            col("asset.name", "name", .text, "asset name"),
            col("host.name", "hostname", .text, "host name"),
            col("host.ip", "ip", .ip, "address"),
            col("host.mac", "mac", .keyword, "MAC address (lower case, ':'-separated)"),
            col("agent.id", "agent_id", .keyword, "endpoint agent id"),
            col("asset.criticality", "criticality", .keyword, "low, medium, high, critical"),
            col("asset.tags", "tags", .text, "tags, ';'-separated"),
            col("host.os", "os", .text, "operating system"),
            col("asset.owner", "owner", .text, "owner"),
            col("asset.updated", "updated_ms", .time, "when it was last imported"),
        ],
        freeText: ["asset.name", "host.name", "asset.tags", "asset.owner"], defaultTimeToken: nil)
}

public enum UserCatalog {
    static func col(_ name: String, _ column: String, _ type: TokenType, _ d: String) -> TokenDefinition {
        TokenDefinition(name, type: type, storage: .column(column), description: d)
    }
    public static let catalog = TokenCatalog(
        list: "users", table: "directory_users", idColumn: "id",
        tokens: [
            col("user.id", "id", .keyword, "directory id"),
            col("user.name", "sam", .text, "account name (sAMAccountName)"),
            col("user.upn", "upn", .text, "user principal name"),
            col("user.email", "email", .text, "e-mail address"),
            col("user.sid", "sid", .keyword, "Windows SID"),
            col("user.full_name", "display_name", .text, "display name"),
            col("user.department", "department", .text, "department"),
            col("user.title", "title", .text, "job title"),
            col("user.manager", "manager", .text, "manager"),
            col("user.groups", "groups", .text, "groups, ';'-separated"),
            col("user.privileged", "privileged", .bool, "privileged account"),
            col("user.updated", "updated_ms", .time, "when it was last imported"),
        ],
        freeText: ["user.name", "user.full_name", "user.email", "user.upn"], defaultTimeToken: nil)
}

/// The kinds of configuration objects and the fields each one takes.
public enum ConfigKind: String, Sendable, CaseIterable {
    case sourceType = "source_type"
    case appliance
    case collector
    case eventSource = "event_source"
    case specialObject = "special_object"
    case intelFeed = "intel_feed"
    case agentProfile = "agent_profile"
    case userList = "user_list"
    case responseTemplate = "response_template"

    /// Accepts the canonical name and a few spellings people type (`special-objects`, `sources`).
    public init?(lenient s: String) {
        let k = s.lowercased().replacingOccurrences(of: "-", with: "_")
        if let v = ConfigKind(rawValue: k) { self = v; return }
        let plural: [String: ConfigKind] = ["source_types": .sourceType, "catalog": .sourceType, "appliances": .appliance,
                                            "collectors": .collector, "event_sources": .eventSource, "sources": .eventSource,
                                            "special_objects": .specialObject, "intel_feeds": .intelFeed, "feeds": .intelFeed,
                                            "agent_profiles": .agentProfile, "user_lists": .userList,
                                            "response_templates": .responseTemplate, "templates": .responseTemplate]
        guard let v = plural[k] else { return nil }
        self = v
    }

    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// The fields besides id, name, description and references (common to every kind).
    var fields: [FieldSpec] {
        switch self {
        case .sourceType:
            return [.init("format", .text, required: true), .init("vendor", .text, required: true),
                    .init("product", .text, required: true), .init("collector_type", .oneOf(Self.collectorTypes), required: true),
                    .init("status", .oneOf(["supported", "requested", "in_progress"]))]
        case .appliance:
            return [.init("hostname", .hostname, required: true), .init("ip", .ip, required: true), .init("version", .text),
                    .init("role", .oneOf(["all-in-one", "ingest", "search"])), .init("logs_received", .count)]
        case .collector:
            return [.init("type", .oneOf(Self.collectorTypes), required: true), .init("appliance", .reference(.appliance), required: true),
                    .init("status", .oneOf(["running", "stopped", "error"])), .init("version", .text)]
        case .eventSource:
            return [.init("type", .reference(.sourceType), required: true), .init("collector", .reference(.collector), required: true),
                    .init("address", .ip), .init("enabled", .bool), .init("parsing", .object)]
        case .specialObject:
            return [.init("type", .oneOf(SpecialObjectType.allCases.map(\.rawValue)), required: true),
                    .init("members", .strings, required: true)]
        case .intelFeed:
            return [.init("format", .oneOf(["stix2.1", "misp", "csv", "plain"]), required: true),
                    .init("location", .location, required: true), .init("schedule", .schedule, required: true), .init("enabled", .bool)]
        case .agentProfile:
            return [.init("logs", .nonEmptyStrings, required: true), .init("assets", .nonEmptyStrings, required: true), .init("filter", .text),
                    .init("journal", .strings), .init("tags", .strings), .init("rate_limit", .count)]
        case .userList:
            // Members by name, and/or a QQL over user-analytics' users list (`user.department: Finance`).
            return [.init("members", .strings, required: true), .init("query", .text)]
        case .responseTemplate:
            return [.init("channel", .oneOf(["email", "slack", "pager", "webhook"]), required: true),
                    .init("subject", .text), .init("body", .nonEmptyText, required: true), .init("recipients", .strings)]
        }
    }

    static let collectorTypes = ["syslog", "tcp-json", "agent", "file", "api"]
    static let common = ["id", "name", "description", "references"]
    /// Kept or computed by the service; ignored when a client sends them (import keeps created_*).
    static let metadata = ["kind", "created_by", "created_ms", "modified_by", "modified_ms", "sequence", "sources", "event_sources", "collectors"]
}

/// What a special object's members are; each member is checked against it.
public enum SpecialObjectType: String, Sendable, CaseIterable {
    case ips, domains, hashes, users, strings
}

struct FieldSpec: Sendable {
    enum FieldType: Sendable {
        case text, nonEmptyText, hostname, ip, count, bool, object, strings, nonEmptyStrings, location, schedule
        case oneOf([String])
        case reference(ConfigKind)
    }
    var name: String
    var type: FieldType
    var required: Bool
    init(_ name: String, _ type: FieldType, required: Bool = false) { self.name = name; self.type = type; self.required = required }
}

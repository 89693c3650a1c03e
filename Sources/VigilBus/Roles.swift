import VigilWire

/// Who may call what (ARCHITECTURE.md: admin RPCs require an authenticated identity with a
/// role). People are viewers, analysts or admins, each allowed what the one before is;
/// `service` is what Vigil's own processes are (everything); `agent` is an endpoint agent,
/// allowed only the few methods agents need (submitting events, heartbeats, its profile).
public enum RpcRole: Int, Sendable, CaseIterable {
    case none = 0, agent, viewer, analyst, admin, service

    public init(name: String) {
        switch name.lowercased() {
        case "agent": self = .agent
        case "viewer": self = .viewer
        case "analyst": self = .analyst
        case "admin": self = .admin
        case "service": self = .service
        default: self = .none
        }
    }

    public var name: String {
        switch self {
        case .none: return "none"
        case .agent: return "agent"
        case .viewer: return "viewer"
        case .analyst: return "analyst"
        case .admin: return "admin"
        case .service: return "service"
        }
    }

    /// Whether a caller with this role may call a method that needs `need`.
    public func permits(_ need: RpcRole) -> Bool {
        switch need {
        case .none: return true
        case .agent: return [.agent, .analyst, .admin, .service].contains(self)
        case .viewer: return [.viewer, .analyst, .admin, .service].contains(self)
        case .analyst: return [.analyst, .admin, .service].contains(self)
        case .admin: return [.admin, .service].contains(self)
        case .service: return self == .service
        }
    }

    /// The roles people can hold that may call a method needing `need`, for messages:
    /// "analyst or admin", "agent, analyst or admin".
    public static func described(_ need: RpcRole) -> String {
        let names = allCases.filter { $0 != .none && $0 != .service && $0.permits(need) }.map(\.name)
        guard let last = names.last else { return need.name }
        return names.count == 1 ? last : names.dropLast().joined(separator: ", ") + " or " + last
    }

    /// Verbs (the last dot-separated part of a method) that only read.
    static let readVerbs: Set<String> = [
        "search", "count", "facets", "histogram", "tokens", "get", "list", "health", "metrics", "feeds", "lookup",
        "overview", "audit", "stats", "of-signal", "sources", "dashboard", "detail", "replay", "snapshot", "show",
        "status", "trend", "timeline", "details", "top", "events", "profile",
    ]
    /// Verbs that remove or replace data wholesale.
    static let adminVerbs: Set<String> = ["delete", "delete-signals", "import", "activate-agent", "deactivate-agent"]

    /// The role a method needs when its handler does not say (`RpcWorker.handle(_:role:_:)`):
    /// reads need `viewer`; deletes, imports and every change to configuration (`config.*`,
    /// `agents.*`), and `config.export` (it holds every setting), need `admin`; other changes
    /// (rules, templates, reparse, submitting events) need `analyst`.
    public static func required(for method: String) -> RpcRole {
        let verb = method.split(separator: ".").last.map(String.init) ?? method
        if method == "config.export" { return .admin }
        if readVerbs.contains(verb) { return .viewer }
        if adminVerbs.contains(verb) || method.hasPrefix("config.") || method.hasPrefix("agents.") { return .admin }
        return .analyst
    }
}

/// The frame the broker adds to a forwarded request when it authenticated the client:
/// "role\u{1F}name" (unit separator; names cannot contain it).
enum AuthFrame {
    static func encode(_ i: Identity) -> Frame { Array("\(i.role)\u{1F}\(i.name)".utf8) }
    static func decode(_ f: Frame) -> Identity? {
        let parts = f.utf8String.split(separator: "\u{1F}", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        return Identity(name: String(parts[1]), role: String(parts[0]))
    }
}

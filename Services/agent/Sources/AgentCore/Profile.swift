import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why the agent refused a profile: the field and what is wrong with it. The agent keeps
/// running its previous profile and reports this in its heartbeat (`vigil agents list`).
public struct ProfileError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalid                        // a field the agent cannot use
        case tooManyFiles = "too_many_files" // more files than --max-files
        case journal                        // journal units asked for but no journal to read
    }
    public var code: Code
    public var field: String
    public var problem: String
    public init(field: String, problem: String, code: Code = .invalid) { self.field = field; self.problem = problem; self.code = code }
    public var description: String { "\(field): \(problem)" }
}

/// What the agent collects: the merged `agent_profile` objects that select it (config's
/// `agents.profile`). `logs` are absolute paths or shell globs, `journal` systemd unit names
/// (empty: no journal), `rateLimit` events per second (0: no limit).
public struct AgentProfile: Sendable, Equatable {
    public var profiles: [String] = []
    public var logs: [String] = []
    public var journal: [String] = []
    public var rateLimit = 0
    public var hash = ""
    public init() {}

    /// Parses and checks the `profile` object of an `agents.profile` reply.
    public static func parse(_ json: String) throws -> AgentProfile {
        guard let obj = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any],
              let p = obj["profile"] as? [String: Any] else {
            throw ProfileError(field: "profile", problem: "the reply has no profile object")
        }
        var out = AgentProfile()
        out.profiles = p["profiles"] as? [String] ?? []
        out.hash = p["hash"] as? String ?? ""
        guard let logs = p["logs"] as? [Any], let journal = p["journal"] as? [Any] else {
            throw ProfileError(field: "logs", problem: "logs and journal must be arrays of strings")
        }
        for (i, l) in logs.enumerated() {
            guard let s = l as? String else { throw ProfileError(field: "logs[\(i)]", problem: "must be a string") }
            if let problem = pathProblem(s) { throw ProfileError(field: "logs[\(i)]", problem: "'\(s)' \(problem)") }
            out.logs.append(s)
        }
        for (i, u) in journal.enumerated() {
            guard let s = u as? String, !s.isEmpty, s.count <= 256, !s.contains("="), !s.contains(where: \.isWhitespace) else {
                throw ProfileError(field: "journal[\(i)]", problem: "must be a systemd unit name such as sshd.service")
            }
            out.journal.append(s)
        }
        let rate = (p["rate_limit"] as? NSNumber)?.intValue ?? 0
        guard rate >= 0 else { throw ProfileError(field: "rate_limit", problem: "must be ≥ 0 events per second") }
        out.rateLimit = rate
        return out
    }

    /// An absolute path, optionally a glob (`*`, `?`, `[…]` in any component).
    static func pathProblem(_ s: String) -> String? {
        guard s.hasPrefix("/") else { return "is not an absolute path (logs are absolute file paths or globs such as /var/log/*.log)" }
        guard !s.hasSuffix("/") else { return "names a directory; add a file name or glob (e.g. /var/log/nginx/*.log)" }
        var open = false
        for c in s {
            if c == "[" { if open { return "has '[' inside a bracket expression" }; open = true }
            if c == "]" { open = false }
        }
        if open { return "has an unclosed '[' in its glob" }
        if s.contains("\0") { return "contains a NUL byte" }
        return nil
    }

    /// The files the globs name now (regular files only, sorted, no duplicates).
    public func files() -> [String] {
        var out: [String] = []
        var seen = Set<String>()
        for pattern in logs {
            if !pattern.contains(where: { "*?[".contains($0) }) {
                if seen.insert(pattern).inserted { out.append(pattern) }
                continue
            }
            var g = glob_t()
            defer { globfree(&g) }
            guard glob(pattern, 0, nil, &g) == 0 else { continue }
            for i in 0..<Int(g.gl_pathc) {
                guard let c = g.gl_pathv[i] else { continue }
                let path = String(cString: c)
                if TailedFile.identity(path) != nil, seen.insert(path).inserted { out.append(path) }
            }
        }
        return out
    }
}

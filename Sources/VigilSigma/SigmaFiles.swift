import Foundation

/// Finds Sigma rule files: each path is a `.yml`/`.yaml` file or a directory searched recursively
/// (skipping `regression_data`, which holds tests, not rules).
public enum SigmaFiles {
    public static func collect(_ paths: [String]) throws -> [(String, String)] {
        var out: [(String, String)] = []
        let fm = FileManager.default
        for path in paths {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir) else { throw SigmaFileError(message: "\(path): no such file or directory") }
            if !isDir.boolValue { out.append((path, try read(path))); continue }
            guard let walker = fm.enumerator(atPath: path) else { throw SigmaFileError(message: "\(path): cannot list") }
            var found: [String] = []
            while let rel = walker.nextObject() as? String {
                if rel.split(separator: "/").contains(where: { $0 == "regression_data" || $0.hasPrefix(".") }) { continue }
                if rel.hasSuffix(".yml") || rel.hasSuffix(".yaml") { found.append(rel) }
            }
            for rel in found.sorted() { let p = path + "/" + rel; out.append((p, try read(p))) }
        }
        return out
    }

    static func read(_ p: String) throws -> String {
        guard let d = FileManager.default.contents(atPath: p) else { throw SigmaFileError(message: "\(p): cannot read") }
        return String(decoding: d, as: UTF8.self)
    }
}

public struct SigmaFileError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// Imported/refused counts and refusals grouped by reason, as the CLI and the conformance bench print them.
public struct SigmaSummary: Sendable {
    public var found = 0
    public var imported: [SigmaOutcome] = []
    public var refused: [SigmaOutcome] = []

    public init(_ outcomes: [SigmaOutcome]) {
        found = outcomes.count
        for o in outcomes { if case .success = o.result { imported.append(o) } else { refused.append(o) } }
    }

    public var byReason: [(String, Int)] {
        var m: [String: Int] = [:]
        for o in refused { if case .failure(let e) = o.result { m[e.reason.rawValue, default: 0] += 1 } }
        return m.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
    }

    public var lines: [String] {
        var l = ["rules found: \(found)", "imported: \(imported.count)", "refused: \(refused.count)"]
        for (r, n) in byReason { l.append("  \(r): \(n)") }
        return l
    }

    public func refusalLines() -> [String] {
        refused.map { o in
            guard case .failure(let e) = o.result else { return "" }
            return "refused \(o.file)\(o.sigmaId.isEmpty ? "" : " [\(o.sigmaId)]"): \(e)"
        }
    }
}

import Foundation
import VigilRules
import VigilSigma
import VigilWire

/// `vigil rules import-sigma PATH…`: converts Sigma rules locally, imports what converts through
/// detection's `rules.import` (in batches, each all or nothing), prints the summary and, per
/// refused rule, the construct that is not supported.
enum SigmaCommand {
    static let usage = """
    usage: vigil rules import-sigma PATH… [--mapping FILE] [--inactive] [--dry-run] [--quiet]
           vigil rules import-sigma --print-mapping
      PATH      Sigma .yml files or directories (searched recursively)
      --mapping logsource mapping JSON replacing the built-in one (docs/sigma.md)
      --inactive import the rules inactive (default: active)
      --dry-run convert and report only; nothing is sent to detection
      --quiet   no per-rule refusal lines
    """
    static let batch = 200

    static func run(_ args: Args, _ paths: [String]) throws -> Int32 {
        if args.flags["print-mapping"] != nil { print(DefaultLogsources.json, terminator: ""); return 0 }
        guard !paths.isEmpty else { throw CLIError(message: usage, exitCode: 2) }
        var mapping = LogsourceMapping.standard
        if let m = args.flags["mapping"] {
            do { mapping = try LogsourceMapping(json: try RulesCommand.readFile(m)) } catch let e as SigmaError { throw CLIError(message: "\(m): \(e.construct)") }
        }
        let files: [(String, String)]
        do { files = try SigmaFiles.collect(paths) } catch { throw CLIError(message: "\(error)") }
        let converter = SigmaConverter(mapping: mapping, status: args.flags["inactive"] != nil ? .inactive : .active)
        let summary = SigmaSummary(converter.convert(files))
        let rules = summary.imported.compactMap { o -> Rule? in if case .success(let r) = o.result { return r }; return nil }
        if args.flags["dry-run"] == nil && !rules.isEmpty {
            try RulesCommand.withClient(args) { call in
                var done = 0
                while done < rules.count {
                    let chunk = Array(rules[done..<min(done + batch, rules.count)])
                    _ = try call("rules.import", RuleRequest(ruleJson: RuleBundle.text(chunk)), RuleBundleMessage.self)
                    done += chunk.count
                }
            }
        }
        if args.flags["quiet"] == nil { for l in summary.refusalLines() { print(l) } }
        for l in summary.lines { print(args.flags["dry-run"] != nil && l.hasPrefix("imported") ? l.replacingOccurrences(of: "imported", with: "convertible (dry run)") : l) }
        return 0
    }
}

import Foundation
import VigilBus
import VigilService

/// What a positional argument is, so the shell can complete it.
enum ArgKind: Sendable {
    /// The rest of the line is QQL over this list (completes the list's tokens).
    case qql(String)
    /// One token of this list (e.g. `facets TOKEN`).
    case token(String)
    case ruleId, signalId, templateId, feed, service, configKind, file
    /// An object id of the config kind given in the previous argument.
    case configId
    /// A config list searchable with QQL (sources, collectors, appliances); the next argument is QQL over it.
    case configList
    case choice([String])
}

/// One command of `vigil`, the same in one-shot form and in `vigil shell`.
/// Adding a command is adding one entry to `Registry.commands`.
struct Command {
    var name: String
    /// One line for `vigil help`.
    var summary: String
    /// Long help for `vigil help NAME` and `vigil NAME --help`.
    var usage: String
    var subcommands: [String] = []
    /// Flags this command takes besides the global ones (for completion and help).
    var flags: [String] = []
    /// Positional arguments per subcommand ("" when the command has no subcommands), for completion.
    var arguments: [String: [ArgKind]] = [:]
    /// Not listed by `help` (internal).
    var hidden = false
    var run: (Args) throws -> Int32
}

enum Registry {
    static let globalFlags = ["data", "connect", "subscribe", "server-key", "key-file", "user", "role", "timeout", "width", "json", "help"]
    static let timeFlags = ["since", "from", "to"]

    static let timeHelp = """
    Time filters: --since 30m|24h|7d, or --from/--to as ISO 8601 (2026-03-01, 2026-03-01T10:00:00Z), epoch ms or now-24h.
    """

    /// Computed (cheap) so the table holds no global state.
    static var commands: [Command] { [
        Command(name: "up", summary: "start the whole stack locally (broker and every service)",
                usage: "vigil up [--data DIR] [--foreground] [--timeout S]\n  starts broker, ingest, enrichment, detection, config, response under a supervisor and waits until all are healthy",
                flags: ["foreground"], run: CLI.up),
        Command(name: "status", summary: "pid, uptime, health, messages in/out, stream lag per service",
                usage: "vigil status [--data DIR] [--json]", run: { try CLI.status($0) }),
        Command(name: "down", summary: "stop the local stack (SIGTERM, 10 s grace)", usage: "vigil down [--data DIR]", run: CLI.down),
        Command(name: "supervise", summary: "run the supervisor in the foreground (used by `vigil up`)", usage: "vigil supervise --data DIR",
                hidden: true, run: { Supervisor(data: $0.data).run() }),
        Command(name: "shell", summary: "interactive shell: every command, with line editing, history and tab completion",
                usage: Shell.usage, run: Shell.run),
        Command(name: "help", summary: "list the commands, or show one command's usage", usage: "vigil help [COMMAND]",
                arguments: ["": [.choice([])]], run: { args in
                    if args.words.count > 1 { return try Registry.help(args.words[1]) }
                    print(Registry.overview)
                    return 0
                }),
        Command(name: "dashboard", summary: "threat hunting at a glance: events and signals over time, tactics, top rules, users, assets",
                usage: DashboardCommand.usage, flags: timeFlags + ["top"], run: DashboardCommand.run),
        Command(name: "events", summary: "search events (QQL), count, facets, histogram, detail (event vs enriched values), tokens",
                usage: EventsCommand.usage, subcommands: ["search", "count", "facets", "histogram", "get", "tokens", "reparse"],
                flags: timeFlags + ["limit", "sort", "cursor", "buckets", "batch", "quiet"],
                arguments: ["search": [.qql("events")], "count": [.qql("events")], "histogram": [.qql("events")], "reparse": [.qql("events")],
                            "facets": [.token("events"), .qql("events")]],
                run: EventsCommand.run),
        Command(name: "signals", summary: "search signals (QQL), count, facets, histogram, detail, responses sent",
                usage: RulesCommand.signalsUsage, subcommands: ["search", "count", "facets", "histogram", "get", "show", "dashboard", "responses", "tokens"],
                flags: timeFlags + ["limit", "cursor", "buckets"],
                arguments: ["search": [.qql("signals")], "count": [.qql("signals")], "histogram": [.qql("signals")],
                            "facets": [.token("signals"), .qql("signals")], "get": [.signalId], "show": [.signalId], "responses": [.signalId],
                            "dashboard": [.qql("signals")]],
                run: RulesCommand.signals),
        Command(name: "rules", summary: "detection rules: library, detail, create, edit, activate, delete, export, import, Sigma, test",
                usage: RulesCommand.usage,
                subcommands: ["list", "count", "facets", "histogram", "get", "create", "update", "activate", "deactivate", "delete", "export", "import",
                              "import-sigma", "test", "tokens", "delete-signals", "library"],
                flags: timeFlags + ["limit", "out", "mapping", "inactive", "dry-run", "quiet", "print-mapping", "remote", "buckets", "confirm"],
                arguments: ["list": [.qql("rules")], "count": [.qql("rules")], "histogram": [.qql("rules")], "facets": [.token("rules"), .qql("rules")],
                            "get": [.ruleId], "activate": [.ruleId], "deactivate": [.ruleId], "delete": [.ruleId], "export": [.ruleId],
                            "delete-signals": [.ruleId], "library": [.choice(["list", "show", "activate", "copy"])],
                            "create": [.file], "update": [.file], "import": [.file], "import-sigma": [.file], "test": [.file]],
                run: RulesCommand.run),
        Command(name: "sources", summary: "per event source: events, bytes, unparsed, last seen (from ingest)",
                usage: "vigil sources [--json] [--service INSTANCE]", flags: ["service"], run: SourcesCommand.run),
        Command(name: "import", summary: "send log files to ingest (JSON lines, evtx_dump JSON, syslog, CEF); rerun-safe",
                usage: "vigil import FILE… [--format json|syslog|cef|auto] [--batch N] [--in-flight N] [--quiet]",
                flags: ["format", "batch", "in-flight", "quiet"], arguments: ["": [.file]], run: ImportCommand.run),
        Command(name: "send", summary: "send syslog lines to ingest over UDP or TCP",
                usage: "vigil send [--tcp] [--host H] [--port P] [--file F] [LINE…]   (default UDP 127.0.0.1:5514)",
                flags: ["tcp", "host", "port", "file"], run: CLI.send),
        Command(name: "tail", summary: "print signals as they are published", usage: "vigil tail signals [--topic PREFIX] [--count N] [--timeout S] [--json]",
                subcommands: ["signals"], flags: ["topic", "count"], run: CLI.tail),
        Command(name: "intel", summary: "threat intelligence: feed status, indicator lookup, reload",
                usage: EnrichmentCommands.usage, subcommands: ["feeds", "lookup", "reload"], flags: ["wait"],
                arguments: ["reload": [.feed]], run: EnrichmentCommands.intel),
        Command(name: "assets", summary: "asset inventory: import (CSV/JSON), list (QQL), count, facets, tokens",
                usage: EnrichmentCommands.usage, subcommands: ["import", "list", "count", "facets", "histogram", "tokens"], flags: timeFlags + ["format", "limit", "buckets"],
                arguments: ["import": [.file], "list": [.qql("assets")], "count": [.qql("assets")], "histogram": [.qql("assets")], "facets": [.token("assets"), .qql("assets")]],
                run: EnrichmentCommands.assets),
        Command(name: "users", summary: "user analytics: riskiest users, one user's risk explained (trend, timeline), directory sync and import, user lists",
                usage: UserCommands.usage, subcommands: ["overview", "list", "search", "show", "sync", "syncs", "import", "lists"],
                flags: timeFlags + ["tab", "limit", "mode", "wait", "format", "tactic", "bucket"],
                arguments: ["list": [.qql("users")], "search": [.qql("users")], "import": [.file],
                            "show": [.choice([])]],
                run: UserCommands.run),
        Command(name: "agents", summary: "endpoint agents: status (last seen, lag, spool, drops), activate, deactivate",
                usage: AgentCommands.usage, subcommands: ["list", "get", "activate", "deactivate"], run: AgentCommands.run),
        Command(name: "demo", summary: "replay a generated day of a small network (four attacks) into the running stack",
                usage: "vigil demo [--seed N] [--at TIME] [--json] [--timeout S]", flags: ["seed", "at"], run: DemoCommand.run),
        Command(name: "config", summary: "configuration objects: list, get, create, update, delete, search, overview, audit, export, import",
                usage: ConfigCommands.usage,
                subcommands: ["list", "get", "create", "update", "delete", "search", "count", "facets", "histogram", "tokens", "overview", "audit",
                              "export", "import", "snapshot", "kinds"],
                flags: timeFlags + ["limit", "confirm", "buckets"],
                arguments: ["list": [.configKind], "get": [.configKind, .configId], "delete": [.configKind, .configId],
                            "create": [.configKind, .file], "update": [.configKind, .file, .configId], "audit": [.configKind, .configId],
                            "search": [.configList], "count": [.configList], "facets": [.configList], "histogram": [.configList], "tokens": [.configList],
                            "import": [.file], "export": [.file]],
                run: ConfigCommands.run),
        Command(name: "responses", summary: "notifications of a signal, per-template statistics, one response, resend a dead letter",
                usage: ResponseCommands.usage, subcommands: ["of", "stats", "get", "retry"],
                arguments: ["of": [.signalId]], run: ResponseCommands.responses),
        Command(name: "templates", summary: "response templates: list, get, create, update, delete, test-send",
                usage: ResponseCommands.usage, subcommands: ["list", "get", "create", "update", "delete", "test"], flags: ["wait"],
                arguments: ["get": [.templateId], "delete": [.templateId], "test": [.templateId], "create": [.file], "update": [.file]],
                run: ResponseCommands.templates),
        Command(name: "sys", summary: "one service's health, metrics and stream lags (every service with no name)",
                usage: "vigil sys health|metrics [SERVICE] [--json]\nvigil sys lags [--json]\n  SERVICE: broker, ingest, enrichment, detection, config, response, or an instance such as ingest-0",
                subcommands: ["health", "metrics", "lags"], arguments: ["health": [.service], "metrics": [.service]], run: CLI.sys),
        Command(name: "keygen", summary: "print a new CURVE key pair (for tcp:// deployments)", usage: "vigil keygen [--json]", run: { args in
            let k = try CurveKeys.generate()
            if args.json { JSONOut.print(["public": k.publicKey, "secret": k.secretKey]) } else { print("public \(k.publicKey)\nsecret \(k.secretKey)") }
            return 0
        }),
    ] }

    static func find(_ name: String) -> Command? { commands.first { $0.name == name } }

    static var overview: String {
        let visible = commands.filter { !$0.hidden }
        let w = visible.map(\.name.count).max() ?? 0
        return """
        vigil — the Vigil XDR stack: run it locally, query and administer it (one-shot, or all of it in `vigil shell`)

        commands:
        \(visible.map { "  " + $0.name.padding(toLength: w, withPad: " ", startingAt: 0) + "  " + $0.summary }.joined(separator: "\n"))

        `vigil help COMMAND` (or COMMAND --help) shows a command's usage; docs/shell.md lists every command.
        Every command takes --json (output for scripts), --data DIR (or VIGIL_DATA) for the local stack,
        --connect tcp://HOST:PORT with --server-key KEY --key-file FILE for a remote (CURVE) broker,
        --user NAME --role admin|analyst|viewer (default $USER, admin), --timeout S, --width N.
        """
    }

    static func help(_ name: String) throws -> Int32 {
        guard let c = find(name) else { throw unknown(name) }
        print("\(c.name) — \(c.summary)\n")
        print(c.usage)
        let own = c.flags.filter { !timeFlags.contains($0) }
        if !own.isEmpty { print("\nflags: " + own.map { "--" + $0 }.joined(separator: " ")) }
        if c.flags.contains("since") { print(timeHelp) }
        return 0
    }

    static func unknown(_ name: String) -> CLIError {
        let names = commands.filter { !$0.hidden }.map(\.name)
        let near = names.filter { $0.hasPrefix(String(name.prefix(2))) || editDistance($0, name) <= 2 }
        return CLIError(message: "unknown command '\(name)'" + (near.isEmpty ? "" : "; did you mean \(near.joined(separator: ", "))?")
                        + " (`vigil help` lists the commands)", exitCode: 2)
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var prev = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var cur = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(1, b.count) where !b.isEmpty {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            prev = cur
        }
        return a.isEmpty ? b.count : prev[b.count]
    }

    /// Runs one command line (already split into words); the one entry point for argv and the shell.
    static func dispatch(_ args: Args) throws -> Int32 {
        Terminal.widthOverride = try args.flags["width"].map { v in
            guard let w = Int(v), w >= 20 else { throw CLIError(message: "--width takes a number of columns (20 or more), got '\(v)'", exitCode: 2) }
            return w
        }
        guard let name = args.words.first else {
            print(overview)
            return args.flags["help"] != nil ? 0 : 2
        }
        guard let c = find(name) else { throw unknown(name) }
        if args.flags["help"] != nil { return try help(name) }
        if !c.subcommands.isEmpty, args.words.count == 1, c.name != "responses" {
            throw CLIError(message: "\(c.name) needs a subcommand: \(c.subcommands.joined(separator: ", "))\n\n\(c.usage)", exitCode: 2)
        }
        return try c.run(args)
    }
}

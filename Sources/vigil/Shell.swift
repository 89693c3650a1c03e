import Foundation
import VigilBus
import VigilLineEdit
import VigilService
import VigilWire
#if canImport(Glibc)
import Glibc
#endif

/// `vigil shell`: every command of `vigil`, typed at a prompt. A line is split like a shell
/// command line (quotes, backslash) and dispatched exactly like argv, so both forms share one
/// grammar. Line editing, history across sessions and tab completion come from libedit.
enum Shell {
    static let usage = """
    vigil shell [--data DIR | --connect ENDPOINT …] [--user NAME --role ROLE] [--history FILE]
      Type any vigil command without the leading `vigil`, e.g.
        events search 'source.ip: 10.0.0.0/8' --since 24h
        rules list rule.status: active
      help, help COMMAND    commands and their usage
      Tab                   completes commands, subcommands, flags, rule/signal/template/config ids and QQL tokens
      Up/Down, Ctrl-R       history (kept in --history FILE, VIGIL_HISTORY or ~/.vigil_history)
      exit, quit, Ctrl-D    leave
    Flags given to `vigil shell` (connection, identity, --data, --width) apply to every line.
    """

    /// Flags of the session that every line inherits unless it gives its own.
    static let sessionFlags: Set<String> = ["data", "connect", "subscribe", "server-key", "key-file", "user", "role", "timeout", "width"]

    static func run(_ args: Args) throws -> Int32 {
        var session: [String: String] = [:]
        for (k, v) in args.flags where sessionFlags.contains(k) { session[k] = v }
        let env = ProcessInfo.processInfo.environment
        let history = args.flags["history"] ?? env["VIGIL_HISTORY"] ?? (env["HOME"].map { $0 + "/.vigil_history" })
        let completer = ShellCompleter(session: session)
        let editor = LineEditor(name: "vigil", historyFile: history) { before, word in
            let c = completer.complete(before: before, word: word)
            // Inside a quoted query the user keeps typing (": value"), so no space is added.
            return (c, Shell.scan(before).openQuote == nil)
        }
        if editor.interactive {
            let s = try Connection.settings(args)
            print("Vigil shell — \(s.identity.name) as \(s.identity.role), broker \(s.rpc)")
            print("`help` lists the commands, Tab completes, Ctrl-D leaves.")
        }
        // Ctrl-C ends a running command (`tail signals`, a wait), not the shell; at the prompt it
        // is ignored (Ctrl-U clears the line, Ctrl-D leaves).
        var status: Int32 = 0
        while true {
            if editor.interactive { signal(SIGINT, SIG_IGN) }
            guard let line = editor.readLine(prompt: "vigil> ") else { break }
            if editor.interactive { ShutdownSignal.install(); ShutdownSignal.reset() }
            editor.remember(line)
            let words: [String]
            do { words = try split(line) } catch let e as CLIError {
                Terminal.error(ErrorDisplay.text(e.message)); status = 2; continue
            }
            guard let first = words.first else { continue }
            if first == "exit" || first == "quit" { break }
            if first == "shell" { Terminal.error("vigil: already in the shell"); continue }
            do {
                var a = try Args(words)
                for (k, v) in session where a.flags[k] == nil { a.flags[k] = v }
                status = try Registry.dispatch(a)
            } catch {
                status = CLI.report(error)
            }
            fflush(nil)
        }
        if editor.interactive { print("") }
        return status
    }

    struct Split {
        var words: [String] = []
        /// The word being typed when the text does not end in a separator (possibly inside quotes).
        var partial: String?
        var openQuote: Character?
    }

    /// Shell-like splitting: whitespace separates words; '…' is literal; "…" allows \" and \\;
    /// a backslash outside quotes escapes the next character.
    static func scan(_ line: String) -> Split {
        var r = Split()
        var cur = ""
        var inWord = false
        var quote: Character?
        var it = Array(line)
        var i = 0
        while i < it.count {
            let c = it[i]
            if let q = quote {
                if c == q { quote = nil }
                else if q == "\"" && c == "\\" && i + 1 < it.count && (it[i + 1] == "\"" || it[i + 1] == "\\") { i += 1; cur.append(it[i]) }
                else { cur.append(c) }
            } else if c == " " || c == "\t" {
                if inWord { r.words.append(cur); cur = ""; inWord = false }
            } else if c == "'" || c == "\"" {
                quote = c; inWord = true
            } else if c == "\\" && i + 1 < it.count {
                i += 1; cur.append(it[i]); inWord = true
            } else {
                cur.append(c); inWord = true
            }
            i += 1
        }
        it.removeAll()
        if inWord { r.partial = cur }
        r.openQuote = quote
        return r
    }

    static func split(_ line: String) throws -> [String] {
        let s = scan(line)
        if let q = s.openQuote { throw CLIError(message: "unclosed \(q) quote in: \(line)", exitCode: 2) }
        return s.words + (s.partial.map { [$0] } ?? [])
    }
}

/// Tab completion: commands, subcommands, flags and flag values, object ids (asked from the
/// services) and QQL tokens (each list's token catalog, `<list>.tokens`, cached per session).
final class ShellCompleter {
    let session: [String: String]
    var tokens: [String: [String]] = [:]

    init(session: [String: String]) { self.session = session }

    static let keywords = ["and", "or", "not"]
    static let flagValues: [String: [String]] = [
        "since": ["30m", "1h", "24h", "7d", "30d"], "role": Connection.roles,
        "format": ["auto", "json", "syslog", "cef", "csv"], "from": ["now-24h", "now-7d"], "to": ["now"],
    ]

    func complete(before: String, word: String) -> [String] {
        let s = Shell.scan(before)
        let words = s.words
        // libedit splits at quotes too, so the word may be the tail of a quoted QQL string.
        guard let first = words.first else {
            return Registry.commands.filter { !$0.hidden && $0.name != "shell" }.map(\.name) + ["exit", "quit"]
        }
        guard let cmd = Registry.find(first) else { return [] }
        if word.hasPrefix("-") && s.openQuote == nil {
            return (cmd.flags + Registry.globalFlags + (cmd.name == "shell" ? ["history"] : [])).map { "--" + $0 }
        }
        if let last = words.last, last.hasPrefix("--"), s.partial == nil, s.openQuote == nil {
            let flag = String(last.dropFirst(2))
            if !Args.booleanFlags.contains(flag) { return Self.flagValues[flag] ?? [] }
        }
        if cmd.name == "help" { return words.count == 1 ? Registry.commands.filter { !$0.hidden }.map(\.name) : [] }
        var rest = Array(words.dropFirst())
        var sub = ""
        if !cmd.subcommands.isEmpty {
            guard !rest.isEmpty else { return cmd.subcommands }
            sub = rest.removeFirst()
        }
        // Positional words so far (flags and their values left out).
        var positional: [String] = []
        var i = 0
        while i < rest.count {
            if rest[i].hasPrefix("--") {
                let f = String(rest[i].dropFirst(2))
                if !f.contains("=") && !Args.booleanFlags.contains(f) { i += 1 }
            } else {
                positional.append(rest[i])
            }
            i += 1
        }
        let kinds = cmd.arguments[sub] ?? []
        guard let kind = positional.count < kinds.count ? kinds[positional.count]
                : kinds.last.flatMap({ if case .qql = $0 { return $0 }; if case .configList = $0 { return $0 }; return nil }) else { return [] }
        return candidates(kind, positional: positional, word: word)
    }

    func candidates(_ kind: ArgKind, positional: [String], word: String) -> [String] {
        switch kind {
        case .qql(let list):
            return word.contains(":") ? [] : tokenNames(list) + Self.keywords
        case .token(let list):
            return tokenNames(list)
        case .configList:
            if positional.isEmpty { return ["sources", "collectors", "appliances"] }
            return word.contains(":") ? [] : tokenNames(positional[0]) + Self.keywords
        case .configKind:
            return ConfigCommands.kinds
        case .configId:
            guard let kind = positional.last else { return [] }
            return ask { c, a in
                _ = a; let json = try ConfigCommands.call(c, "list", ConfigRequest(kind: kind, limit: 500))
                return (ConfigCommands.parse(json) as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            }
        case .ruleId:
            return ask { c, a in
                var q = QueryRequest(query: ""); q.limit = 1000
                return try Connection.call(c, a, service: "detection", method: "rules.list", q, RulePage.self).rules.map(\.id)
            }
        case .signalId:
            return ask { c, a in
                var q = QueryRequest(query: ""); q.limit = 50
                return try Connection.call(c, a, service: "detection", method: "signals.search", q, SignalPage.self).signals.map(\.id)
            }
        case .templateId:
            return ask { c, a in
                let d = try Connection.call(c, a, service: "response", method: "templates.list", TemplateRequest(), TemplateDocument.self)
                let obj = (try? JSONSerialization.jsonObject(with: Data(d.json.utf8))) as? [String: Any]
                return (obj?["templates"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            }
        case .feed:
            return ask { c, a in
                try Connection.call(c, a, service: "enrichment", method: "intel.feeds", IntelReloadRequest(), FeedStatusList.self).feeds.map(\.name)
            }
        case .service:
            return Supervisor.services + Supervisor.services.filter { $0 != "broker" }.map { $0 + "-0" }
        case .file:
            return files(word)
        case .choice(let c):
            return c
        }
    }

    func tokenNames(_ list: String) -> [String] {
        if let t = tokens[list] { return t }
        let service = ["events": "enrichment", "assets": "enrichment", "users": "user-analytics", "signals": "detection", "rules": "detection",
                       "sources": "config", "collectors": "config", "appliances": "config"][list] ?? list
        let names = ask { c, a in
            try Connection.call(c, a, service: service, method: "\(list).tokens", QueryRequest(), TokenCatalogResponse.self).tokens.map(\.name)
        }
        if !names.isEmpty { tokens[list] = names }
        return names
    }

    /// Asks the stack with a short timeout; completion never blocks the prompt for long.
    func ask(_ body: (RpcClient, Args) throws -> [String]) -> [String] {
        guard var a = try? Args([]) else { return [] }
        a.flags = session
        a.flags["timeout"] = "2"
        let ctx = ZContext()
        defer { ctx.terminate() }
        guard let c = try? Connection.client(a, ctx, checkBroker: false) else { return [] }
        defer { c.close() }
        return (try? body(c, a)) ?? []
    }

    func files(_ word: String) -> [String] {
        let dir = word.contains("/") ? String(word[..<word.lastIndex(of: "/")!]) + "/" : ""
        let path = dir.isEmpty ? "." : dir
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().map { name in
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: dir + name, isDirectory: &isDir)
            return dir + name + (isDir.boolValue ? "/" : "")
        }
    }
}

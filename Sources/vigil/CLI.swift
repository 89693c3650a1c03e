import Foundation
import VigilBus
import VigilLog
import VigilService
import VigilWire
#if canImport(Glibc)
import Glibc
#endif

struct CLIError: Error, CustomStringConvertible {
    var message: String
    var exitCode: Int32 = 1
    var description: String { message }
}

/// Parsed command line: positional words and --flags (a flag without a value is "true").
struct Args {
    var words: [String] = []
    var flags: [String: String] = [:]
    static let booleanFlags: Set<String> = ["json", "foreground", "tcp", "help", "quiet", "confirm", "inactive", "dry-run", "print-mapping"]

    init(_ argv: [String]) throws {
        var i = 0
        while i < argv.count {
            let a = argv[i]
            if a.hasPrefix("--") {
                var k = String(a.dropFirst(2))
                if let eq = k.firstIndex(of: "=") {
                    flags[String(k[..<eq])] = String(k[k.index(after: eq)...])
                } else if Args.booleanFlags.contains(k) {
                    flags[k] = "true"
                } else {
                    guard i + 1 < argv.count else { throw CLIError(message: "flag --\(k) needs a value", exitCode: 2) }
                    i += 1
                    flags[k] = argv[i]
                    k = ""
                }
            } else {
                words.append(a)
            }
            i += 1
        }
    }

    var data: String {
        let d = flags["data"] ?? ProcessInfo.processInfo.environment["VIGIL_DATA"] ?? "./vigil-data"
        let abs = d.hasPrefix("/") ? d : FileManager.default.currentDirectoryPath + "/" + d
        return URL(fileURLWithPath: abs).standardizedFileURL.path
    }
    var json: Bool { flags["json"] != nil }
    func int(_ k: String, _ d: Int) throws -> Int {
        guard let v = flags[k] else { return d }
        guard let i = Int(v) else { throw CLIError(message: "--\(k) takes a number, got '\(v)'", exitCode: 2) }
        return i
    }
}

enum CLI {
    static let usage = """
    vigil — the Vigil XDR stack, locally

    usage:
      vigil up [--data DIR] [--foreground]   start broker, ingest, enrichment, detection, config, response, user-analytics (default data ./vigil-data)
      vigil status [--data DIR] [--json]     pid, uptime, health, messages in/out, stream lag per service
      vigil down [--data DIR]                stop the stack (SIGTERM, 10 s grace)
      vigil tail signals [--topic PREFIX] [--count N] [--timeout S] [--json]
                                             print signals as they are published (default topic "signals.")
      vigil send [--tcp] [--host H] [--port P] [--file F] [LINE…]
                                             send syslog lines to ingest (default UDP 127.0.0.1:5514)
      vigil import FILE… [--format json|syslog|cef|auto] [--batch N] [--in-flight N] [--quiet]
                                             send files to ingest (JSON lines, evtx_dump JSON, syslog, CEF); rerun-safe
      vigil sources [--json]                 per source: events, bytes, unparsed, last seen
      vigil demo [--seed N] [--json]         replay a generated day of a small network (four attacks) into the running stack
      vigil keygen                           print a new CURVE key pair (for tcp:// deployments)
      vigil sys health|metrics SERVICE [--json]
                                             ask one service (or instance, e.g. ingest-0) directly
      vigil intel feeds|lookup VALUE|reload [FEED]
                                             threat-intel feed status, indicator lookup, reload (docs/enrichment.md)
      vigil assets import FILE|list [QQL]    asset inventory (CSV or JSON)
      vigil users overview|list [QQL]|show USER [--tab general|trend|timeline|details] [--since 24h]|sync|syncs|import FILE|lists
                                             user analytics: risk, explanations, trends, directory sync (docs/users.md)
      vigil config list|get|create|update|delete|search|overview|audit|export|import …
                                             configuration objects (docs/configuration.md; vigil config for usage)
      vigil agents list|get ID|activate ID|deactivate ID [--json]
                                             endpoint agents: status, last seen, lag, spool, drops (docs/agent.md)
      vigil responses SIGNAL_ID|stats|retry ID
                                             notifications of a signal, per-template statistics, resend a dead letter
      vigil templates list|get|create FILE|update FILE|delete|test ID
                                             response templates (docs/responses.md)

    Every command accepts --data DIR (or VIGIL_DATA) to choose the local stack.
    """

    static func run(_ argv: [String]) -> Int32 {
        do {
            let args = try Args(argv)
            guard let cmd = args.words.first, args.flags["help"] == nil else {
                print(usage)
                return args.flags["help"] != nil ? 0 : 2
            }
            switch cmd {
            case "up": return try up(args)
            case "supervise": return Supervisor(data: args.data).run()
            case "down": return try down(args)
            case "status": return try status(args)
            case "tail": return try tail(args)
            case "send": return try send(args)
            case "sys": return try sys(args)
            case "keygen":
                let k = try CurveKeys.generate()
                print("public \(k.publicKey)\nsecret \(k.secretKey)")
                return 0
            case "import": return try ImportCommand.run(args)
            case "sources": return try SourcesCommand.run(args)
            case "events": return try EventsCommand.run(args)
            case "rules": return try RulesCommand.run(args)
            case "signals": return try RulesCommand.signals(args)
            case "intel": return try EnrichmentCommands.intel(args)
            case "assets": return try EnrichmentCommands.directory(args, list: "assets")
            case "users": return try UserCommands.run(args)
            case "config": return try ConfigCommands.run(args)
            case "agents": return try AgentCommands.run(args)
            case "responses": return try ResponseCommands.responses(args)
            case "templates": return try ResponseCommands.templates(args)
            case "demo": return try DemoCommand.run(args)
            default:
                throw CLIError(message: "unknown command '\(cmd)'; commands: up, status, down, demo, tail, send, import, sources, events, rules, signals, intel, assets, users, config, responses, templates, keygen, sys (vigil --help)", exitCode: 2)
            }
        } catch let e as CLIError {
            FileHandle.standardError.write(Data("vigil: \(e.message)\n".utf8))
            return e.exitCode
        } catch {
            FileHandle.standardError.write(Data("vigil: \(error)\n".utf8))
            return 1
        }
    }

    static func supervisorPid(_ data: String) -> pid_t? {
        guard let s = try? String(contentsOfFile: Supervisor.pidFile(data), encoding: .utf8),
              let pid = pid_t(s.trimmingCharacters(in: .whitespacesAndNewlines)), Spawn.isAlive(pid) else { return nil }
        return pid
    }

    static func up(_ args: Args) throws -> Int32 {
        let data = args.data
        if let pid = supervisorPid(data) {
            print("already running (supervisor pid \(pid)); see `vigil status --data \(data)`")
            return 0
        }
        try FileManager.default.createDirectory(atPath: "\(data)/logs", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(data)/run", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if args.flags["foreground"] != nil {
            return Supervisor(data: data).run()
        }
        let me = Spawn.executableDirectory() + "/vigil"
        let pid = try Spawn.start(me, ["supervise", "--data", data], logPath: "\(data)/logs/supervisor.log", newSession: true)
        print("starting Vigil (supervisor pid \(pid), data \(data)) …")
        // Wait until every service answers its health check.
        let ctx = ZContext()
        defer { ctx.terminate() }
        let client = try RpcClient(context: ctx, endpoint: BusEndpoints.local(runDirectory: "\(data)/run").rpc,
                                   caller: Identity(name: "vigil-cli", role: "admin"))
        defer { client.close() }
        let deadline = Clock.monotonicMs() + Int64(try args.int("timeout", 60)) * 1000
        var pending = Supervisor.services
        while !pending.isEmpty && Clock.monotonicMs() < deadline {
            pending = pending.filter { s in
                (try? client.call(service: s, method: "sys.health", timeoutMs: 500)) == nil
            }
            if !Spawn.isAlive(pid) { throw CLIError(message: "supervisor exited; see \(data)/logs/supervisor.log") }
        }
        if !pending.isEmpty {
            throw CLIError(message: "not healthy after the timeout: \(pending.joined(separator: ", ")); see \(data)/logs/")
        }
        print("Vigil is up.")
        return try status(args, context: ctx)
    }

    static func down(_ args: Args) throws -> Int32 {
        let data = args.data
        guard let pid = supervisorPid(data) else {
            print("not running (no live supervisor for \(data))")
            return 0
        }
        kill(pid, SIGTERM)
        let deadline = Clock.monotonicMs() + 20_000
        while Spawn.isAlive(pid) && Clock.monotonicMs() < deadline { usleep(100_000) }
        if Spawn.isAlive(pid) { throw CLIError(message: "supervisor \(pid) did not stop within 20 s") }
        print("Vigil stopped.")
        return 0
    }

    static func status(_ args: Args, context: ZContext? = nil) throws -> Int32 {
        let data = args.data
        let ctx = context ?? ZContext()
        defer { if context == nil { ctx.terminate() } }
        let client = try RpcClient(context: ctx, endpoint: BusEndpoints.local(runDirectory: "\(data)/run").rpc,
                                   caller: Identity(name: "vigil-cli", role: "viewer"))
        defer { client.close() }
        var state: [[String: Any]] = []
        if let d = FileManager.default.contents(atPath: Supervisor.stateFile(data)),
           let obj = try? JSONSerialization.jsonObject(with: d) as? [String: Any],
           let list = obj["services"] as? [[String: Any]] {
            state = list
        }
        if state.isEmpty {
            state = Supervisor.services.map { ["name": $0 == "broker" ? "broker" : "\($0)-0", "pid": 0, "restarts": 0] }
        }
        let running = supervisorPid(data) != nil
        var rows: [[String]] = []
        var jsonRows: [[String: Any]] = []
        for s in state {
            let name = s["name"] as? String ?? "?"
            let rpcName = name
            let health = try? client.call(service: rpcName, method: "sys.health", HealthResponse(), as: HealthResponse.self, timeoutMs: 800)
            let metrics = try? client.call(service: rpcName, method: "sys.metrics", MetricsResponse(), as: MetricsResponse.self, timeoutMs: 800)
            let pid = health.map { Int($0.pid) } ?? (s["pid"] as? Int ?? 0)
            let uptime = health.map { formatDuration(Clock.nowMs() - $0.startedTimeMs) } ?? "-"
            let c = metrics?.counters ?? [:]
            let msgIn = c["in.received"] ?? c["received"] ?? c["published"] ?? 0
            let msgOut = c["out.published"] ?? c["replies"] ?? 0
            let lag = metrics?.lags.reduce(UInt64(0)) { $0 + $1.lag } ?? 0
            let restarts = s["restarts"] as? Int ?? 0
            let hs = health?.status ?? (running ? "down" : "stopped")
            rows.append([name, pid > 0 ? String(pid) : "-", uptime, hs, String(msgIn), String(msgOut),
                         metrics == nil ? "-" : String(lag), String(restarts)])
            jsonRows.append(["name": name, "pid": pid, "health": hs, "in": msgIn, "out": msgOut, "lag": lag,
                             "restarts": restarts, "counters": c])
        }
        if args.json {
            let d = try JSONSerialization.data(withJSONObject: ["running": running, "data": data, "services": jsonRows], options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: d, as: UTF8.self))
        } else {
            print(Table.render(header: ["SERVICE", "PID", "UPTIME", "HEALTH", "IN", "OUT", "LAG", "RESTARTS"], rows: rows))
            if !running { print("(no supervisor running for \(data); `vigil up` starts the stack)") }
        }
        return 0
    }

    static func formatDuration(_ ms: Int64) -> String {
        let s = max(0, ms / 1000)
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(s % 60)s" }
        return "\(s / 3600)h\((s % 3600) / 60)m"
    }

    static func tail(_ args: Args) throws -> Int32 {
        guard args.words.count >= 2, args.words[1] == "signals" else {
            throw CLIError(message: "usage: vigil tail signals [--topic PREFIX] [--count N] [--timeout S] [--json]", exitCode: 2)
        }
        let data = args.data
        let prefix = args.flags["topic"] ?? "signals."
        let maxCount = try args.int("count", 0)
        let timeout = try args.int("timeout", 0)
        ShutdownSignal.install()
        let ctx = ZContext()
        let sub = try Subscriber(context: ctx, endpoint: BusEndpoints.local(runDirectory: "\(data)/run").subscribe, prefixes: [prefix])
        defer { sub.close(); ctx.terminate() }
        if !args.json { FileHandle.standardError.write(Data("listening on \(prefix)* (Ctrl-C to stop)\n".utf8)) }
        var n = 0
        let deadline = timeout > 0 ? Clock.monotonicMs() + Int64(timeout) * 1000 : Int64.max
        while !ShutdownSignal.requested && Clock.monotonicMs() < deadline && (maxCount == 0 || n < maxCount) {
            guard let (topic, body) = sub.receive(timeoutMs: 200) else { continue }
            guard let env = try? StreamEnvelope(decoding: body), env.kind == .data,
                  let s = try? Signal(decoding: env.payload) else { continue }
            n += 1
            if args.json {
                let obj: [String: Any] = ["topic": topic, "id": s.id, "rule_id": s.ruleId, "rule_name": s.ruleName,
                                          "criticality": s.criticality.name, "risk_score": s.riskScore,
                                          "tactic": s.mitre.tacticName, "technique": s.mitre.techniqueId,
                                          "user": s.entity.user, "asset": s.entity.asset, "ip": s.entity.ip,
                                          "event_ids": s.eventIds, "created": Clock.iso8601(s.createdTimeMs)]
                let d = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
                print(String(decoding: d, as: UTF8.self))
            } else {
                print("\(Clock.iso8601(s.createdTimeMs))  \(s.criticality.name.uppercased().padding(toLength: 8, withPad: " ", startingAt: 0)) risk \(s.riskScore)  \(s.ruleName)  [\(s.mitre.techniqueId) \(s.mitre.tacticName)]  user=\(s.entity.user) asset=\(s.entity.asset) ip=\(s.entity.ip)")
            }
            fflush(nil)
        }
        if maxCount > 0 && n < maxCount {
            throw CLIError(message: "received \(n) of \(maxCount) signals before the timeout", exitCode: 3)
        }
        return 0
    }

    static func send(_ args: Args) throws -> Int32 {
        var lines = Array(args.words.dropFirst())
        if let f = args.flags["file"] {
            guard let text = try? String(contentsOfFile: f, encoding: .utf8) else { throw CLIError(message: "cannot read \(f)") }
            lines += text.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        }
        guard !lines.isEmpty else { throw CLIError(message: "nothing to send: give lines or --file FILE", exitCode: 2) }
        let host = args.flags["host"] ?? "127.0.0.1"
        let port = UInt16(try args.int("port", 5514))
        let tcp = args.flags["tcp"] != nil
        try SyslogSender.send(lines: lines, host: host, port: port, tcp: tcp)
        print("sent \(lines.count) line(s) to \(host):\(port) over \(tcp ? "TCP" : "UDP")")
        return 0
    }

    static func sys(_ args: Args) throws -> Int32 {
        guard args.words.count == 3, ["health", "metrics"].contains(args.words[1]) else {
            throw CLIError(message: "usage: vigil sys health|metrics SERVICE", exitCode: 2)
        }
        let ctx = ZContext()
        defer { ctx.terminate() }
        let client = try RpcClient(context: ctx, endpoint: BusEndpoints.local(runDirectory: "\(args.data)/run").rpc,
                                   caller: Identity(name: "vigil-cli", role: "viewer"))
        defer { client.close() }
        let svc = args.words[2]
        do {
            if args.words[1] == "health" {
                let h = try client.call(service: svc, method: "sys.health", HealthResponse(), as: HealthResponse.self, timeoutMs: 3000)
                print("\(h.instance): \(h.status), pid \(h.pid), up \(formatDuration(Clock.nowMs() - h.startedTimeMs)), version \(h.version)\(h.detail.isEmpty ? "" : ", " + h.detail)")
            } else {
                let m = try client.call(service: svc, method: "sys.metrics", MetricsResponse(), as: MetricsResponse.self, timeoutMs: 3000)
                print(Table.render(header: ["COUNTER", "VALUE"], rows: m.counters.keys.sorted().map { [$0, String(m.counters[$0]!)] }))
                if !m.lags.isEmpty {
                    print("")
                    print(Table.render(header: ["PRODUCER", "STREAM", "POSITION", "HEAD", "LAG"],
                                       rows: m.lags.map { [$0.producerId, $0.stream, String($0.position), String($0.head), String($0.lag)] }))
                }
            }
        } catch let e as RpcError {
            throw CLIError(message: "\(svc): \(e.message)")
        }
        return 0
    }
}

enum Table {
    static func render(header: [String], rows: [[String]]) -> String {
        var widths = header.map { $0.count }
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}

enum SyslogSender {
    static func send(lines: [String], host: String, port: UInt16, tcp: Bool) throws {
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &sa.sin_addr) == 1 else { throw CLIError(message: "'\(host)' is not an IPv4 address") }
        let fd = socket(AF_INET, Int32(tcp ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        let rc = withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw CLIError(message: "cannot connect to \(host):\(port): \(String(cString: strerror(errno)))") }
        for l in lines {
            let bytes = Array((tcp ? l + "\n" : l).utf8)
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 { throw CLIError(message: "send failed: \(String(cString: strerror(errno)))") }
        }
    }
}

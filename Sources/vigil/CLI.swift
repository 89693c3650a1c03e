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
    static let booleanFlags: Set<String> = ["json", "foreground", "tcp", "help", "quiet", "confirm", "inactive", "dry-run", "print-mapping",
                                            "remote"]

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
    /// `vigil ARGS…`: one command line, dispatched through `Registry` (the shell uses the same path).
    static func run(_ argv: [String]) -> Int32 {
        do {
            let args = try Args(argv == ["-h"] ? ["--help"] : argv)
            return try Registry.dispatch(args)
        } catch {
            return report(error)
        }
    }

    /// Prints an error the way every command does (one `vigil: …` line; QQL errors with their
    /// caret aligned under the query) and returns its exit status.
    @discardableResult
    static func report(_ error: Error) -> Int32 {
        switch error {
        case let e as CLIError:
            Terminal.error(ErrorDisplay.text(e.message))
            return e.exitCode
        case let e as RpcError:
            Terminal.error(ErrorDisplay.text(e.message))
            return 1
        default:
            Terminal.error("vigil: \(error)")
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
        // No broker check: status reports a stopped stack as a table, not as an error.
        let client = try Connection.client(args, ctx, checkBroker: false)
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
        let prefix = args.flags["topic"] ?? "signals."
        let maxCount = try args.int("count", 0)
        let timeout = try args.int("timeout", 0)
        ShutdownSignal.install()
        let ctx = ZContext()
        let conn = try Connection.settings(args)
        let sub = try Subscriber(context: ctx, endpoint: conn.subscribe, prefixes: [prefix], limits: conn.limits)
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
        print(args.json ? JSONOut.text(["sent": lines.count, "host": host, "port": Int(port), "transport": tcp ? "tcp" : "udp"] as [String: Any], pretty: false)
              : "sent \(lines.count) line(s) to \(host):\(port) over \(tcp ? "TCP" : "UDP")")
        return 0
    }

    /// `vigil sys health|metrics [SERVICE]`, `vigil sys lags`: any service or instance, or all of them.
    static func sys(_ args: Args) throws -> Int32 {
        let usage = "usage: vigil sys health|metrics [SERVICE] [--json] | vigil sys lags [--json]"
        guard args.words.count <= 3, args.words.count >= 2, ["health", "metrics", "lags"].contains(args.words[1]) else {
            throw CLIError(message: usage, exitCode: 2)
        }
        let ctx = ZContext()
        defer { ctx.terminate() }
        let client = try Connection.client(args, ctx)
        defer { client.close() }
        let what = args.words[1]
        let services = args.words.count == 3 ? [args.words[2]] : Supervisor.services
        let one = args.words.count == 3
        func call<R: WireMessage>(_ svc: String, _ method: String, _: R.Type) throws -> R? {
            do { return try Connection.call(client, args, service: svc, method: method, MetricsResponse(), R.self) }
            catch let e as CLIError { if one { throw e }; Terminal.error(ErrorDisplay.text(e.message)); return nil }
        }
        switch what {
        case "health":
            var rows: [[String]] = [], json: [[String: Any]] = []
            for svc in services {
                guard let h = try call(svc, "sys.health", HealthResponse.self) else {
                    rows.append([svc, "down", "-", "-", "-", ""]); json.append(["service": svc, "status": "down"]); continue
                }
                rows.append([h.instance, h.status, String(h.pid), formatDuration(Clock.nowMs() - h.startedTimeMs), h.version, h.detail])
                json.append(["service": h.service, "instance": h.instance, "status": h.status, "pid": h.pid, "started": Clock.iso8601(h.startedTimeMs),
                             "version": h.version, "detail": h.detail])
            }
            if args.json {
                if one { JSONOut.print(json[0]) } else { JSONOut.print(["services": json] as [String: Any]) }
            }
            else { print(Table.render(header: ["INSTANCE", "STATUS", "PID", "UP", "VERSION", "DETAIL"], rows: rows)) }
            return rows.contains { $0[1] != "ok" } ? 1 : 0
        case "metrics":
            var json: [String: Any] = [:]
            for svc in services {
                guard let m = try call(svc, "sys.metrics", MetricsResponse.self) else { continue }
                if args.json {
                    let lags: [[String: Any]] = m.lags.map { ["producer": $0.producerId, "stream": $0.stream, "position": $0.position, "head": $0.head, "lag": $0.lag] }
                    json[m.instance] = ["counters": m.counters, "lags": lags] as [String: Any]
                    continue
                }
                if !one { print("\(m.instance)") }
                print(Table.render(header: ["COUNTER", "VALUE"], rows: m.counters.keys.sorted().map { [$0, String(m.counters[$0] ?? 0)] }))
                if !m.lags.isEmpty {
                    print("")
                    print(Table.render(header: ["PRODUCER", "STREAM", "POSITION", "HEAD", "LAG"],
                                       rows: m.lags.map { [$0.producerId, $0.stream, String($0.position), String($0.head), String($0.lag)] }))
                }
                if !one { print("") }
            }
            if args.json {
                let out: Any = one ? (json.values.first ?? [String: Any]()) : json
                JSONOut.print(out)
            }
        default:
            var rows: [[String]] = [], json: [[String: Any]] = []
            for svc in services {
                guard let m = try call(svc, "sys.metrics", MetricsResponse.self) else { continue }
                for l in m.lags {
                    rows.append([m.instance, l.producerId, l.stream, String(l.position), String(l.head), String(l.lag)])
                    json.append(["consumer": m.instance, "producer": l.producerId, "stream": l.stream, "position": l.position, "head": l.head, "lag": l.lag])
                }
            }
            if args.json { JSONOut.print(["lags": json]); return 0 }
            print(Table.render(header: ["CONSUMER", "PRODUCER", "STREAM", "POSITION", "HEAD", "LAG"], rows: rows))
            if rows.isEmpty { print("(no stream positions reported)") }
        }
        return 0
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

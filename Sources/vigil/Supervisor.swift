import Foundation
import VigilLog
import VigilService
#if canImport(Glibc)
import Glibc
#endif

/// Keeps the local stack running: starts each service as its own process, restarts one that
/// dies (with backoff, logged), and on SIGTERM stops them in reverse order within 10 s.
final class Supervisor {
    struct Child {
        var name: String        // instance name, e.g. "ingest-0"
        var binary: String      // e.g. "vigil-ingest"
        var args: [String]
        var pid: pid_t = 0
        var startedMs: Int64 = 0
        var restarts = 0
        var nextStartMono: Int64 = 0
        var lastExit = ""
    }

    let data: String
    let logger: Logger
    var children: [Child]
    let binDir: String

    static let services = ["broker", "ingest", "enrichment", "detection", "config", "response", "user-analytics"]

    init(data: String, extraArgs: [String: [String]] = [:]) {
        self.data = data
        self.logger = Logger(label: "supervisor")
        self.binDir = Spawn.executableDirectory()
        children = Self.services.map { s in
            var args = ["--data", data]
            if s != "broker" { args += ["--instance", "\(s)-0"] }
            if s == "enrichment", FileManager.default.fileExists(atPath: "\(data)/assets.csv") {
                args += ["--assets", "\(data)/assets.csv"]
            }
            if FileManager.default.fileExists(atPath: "\(data)/config/\(s).json") {
                args += ["--config", "\(data)/config/\(s).json"]
            }
            args += extraArgs[s] ?? []
            return Child(name: s == "broker" ? "broker" : "\(s)-0", binary: "vigil-\(s)", args: args)
        }
    }

    static func pidFile(_ data: String) -> String { "\(data)/run/supervisor.pid" }
    static func stateFile(_ data: String) -> String { "\(data)/run/state.json" }

    func start(_ i: Int) {
        let c = children[i]
        do {
            let pid = try Spawn.start("\(binDir)/\(c.binary)", c.args, logPath: "\(data)/logs/\(c.name).log")
            children[i].pid = pid
            children[i].startedMs = Clock.nowMs()
            logger.info("started \(c.name)", ["pid": String(pid)])
        } catch {
            logger.error("cannot start \(c.name)", ["error": "\(error)"])
            children[i].nextStartMono = Clock.monotonicMs() + 2000
        }
        writeState()
    }

    func run() -> Int32 {
        ShutdownSignal.install()
        try? FileManager.default.createDirectory(atPath: "\(data)/logs", withIntermediateDirectories: true)
        try? FileManager.default.createDirectory(atPath: "\(data)/run", withIntermediateDirectories: true)
        try? "\(getpid())\n".write(toFile: Self.pidFile(data), atomically: true, encoding: .utf8)
        logger.info("supervisor started", ["pid": String(getpid()), "data": data])
        for i in children.indices {
            start(i)
            // The broker binds the endpoints; give it a moment so the first connects succeed quickly.
            if children[i].name == "broker" { usleep(200_000) }
        }
        while !ShutdownSignal.requested {
            usleep(100_000)
            while let (pid, how) = Spawn.reap() {
                guard let i = children.firstIndex(where: { $0.pid == pid }) else { continue }
                let up = Clock.nowMs() - children[i].startedMs
                // Quick crash loops back off up to 30 s; a service that ran a minute starts fresh.
                if up > 60_000 { children[i].restarts = 0 }
                children[i].restarts += 1
                let delay = min(30_000, 250 << min(children[i].restarts - 1, 7))
                children[i].pid = 0
                children[i].lastExit = how
                children[i].nextStartMono = Clock.monotonicMs() + Int64(delay)
                logger.warning("\(children[i].name) exited (\(how)) after \(up / 1000) s; restarting in \(delay) ms",
                               ["restart": String(children[i].restarts)])
                writeState()
            }
            let now = Clock.monotonicMs()
            for i in children.indices where children[i].pid == 0 && children[i].nextStartMono <= now {
                logger.info("restarting \(children[i].name)", ["restart": String(children[i].restarts)])
                start(i)
            }
        }
        stopAll()
        try? FileManager.default.removeItem(atPath: Self.pidFile(data))
        writeState()
        logger.info("supervisor stopped")
        return 0
    }

    func stopAll() {
        logger.info("stopping services")
        // Producers first, the broker last, so in-flight messages can still be flushed.
        for c in children.reversed() where c.pid > 0 && c.name != "broker" { kill(c.pid, SIGTERM) }
        waitFor(children.filter { $0.name != "broker" }, ms: 10_000)
        if let b = children.first(where: { $0.name == "broker" }), b.pid > 0 {
            kill(b.pid, SIGTERM)
            waitFor([b], ms: 5_000)
        }
        for i in children.indices { children[i].pid = 0 }
    }

    private func waitFor(_ list: [Child], ms: Int64) {
        let deadline = Clock.monotonicMs() + ms
        var remaining = Set(list.map { $0.pid }.filter { $0 > 0 })
        while !remaining.isEmpty && Clock.monotonicMs() < deadline {
            for p in remaining {
                var st: Int32 = 0
                if waitpid(p, &st, WNOHANG) == p || !Spawn.isAlive(p) { remaining.remove(p) }
            }
            usleep(50_000)
        }
        for p in remaining {
            logger.warning("service did not stop within \(ms / 1000) s; killing", ["pid": String(p)])
            kill(p, SIGKILL)
            var st: Int32 = 0
            waitpid(p, &st, 0)
        }
    }

    func writeState() {
        let list: [[String: Any]] = children.map {
            ["name": $0.name, "binary": $0.binary, "pid": Int($0.pid), "started_ms": $0.startedMs,
             "restarts": $0.restarts, "last_exit": $0.lastExit]
        }
        let obj: [String: Any] = ["supervisor_pid": Int(getpid()), "services": list]
        if let d = try? JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys]) {
            try? d.write(to: URL(fileURLWithPath: Self.stateFile(data)), options: .atomic)
        }
    }
}

import Foundation
import XCTest
import VigilBus
import VigilWire
#if canImport(Glibc)
import Glibc
#endif

/// `vigil-agent` against a real stack (broker, ingest, enrichment, detection, config): several
/// agents with their own data dirs, enrollment and activation, ingest killed under load,
/// rotation/truncation/restart, a refused profile, and journal files read through sd-journal.
final class AgentTests: XCTestCase {
    var stack: TestStack!
    static let token = "test-enroll-token"

    override func setUpWithError() throws { stack = try TestStack() }
    override func tearDown() {
        if let s = stack, testRun?.hasSucceeded == false {
            for n in ["config", "ingest", "a0", "a1", "a2"] { print("--- \(n) log ---\n\(s.log(n).suffix(4000))") }
        }
        stack?.cleanup()
    }

    func startStack() throws {
        try stack.start("vigil-config", name: "config", ["--agents.enroll-tokens", "other-token,\(Self.token)"])
        try stack.startCore(ingestArgs: ["--syslog.udp", "off", "--syslog.tcp", "off", "--json.tcp", "off"])
        try stack.waitHealthy(["config"])
    }

    /// Starts agent `name` with its own data dir and host name `host-<name>`.
    @discardableResult
    func startAgent(_ name: String, _ extra: [String] = []) throws -> String {
        let data = "\(stack.dir)/agent-\(name)"
        try stack.start("vigil-agent", name: name, ["--data", data, "--endpoint.rpc", stack.endpoints.rpc, "--enroll-token", Self.token,
                                                    "--hostname", "host-\(name)", "--heartbeat-ms", "300", "--poll-ms", "50",
                                                    "--journal", "off", "--batch-events", "50"] + extra)
        return data
    }

    func agents(_ c: RpcClient, _ method: String = "list", id: String = "") throws -> Any? {
        let r = try c.call(service: "config", method: "agents.\(method)", ConfigRequest(id: id), as: ConfigReply.self, timeoutMs: 10_000)
        return try JSONSerialization.jsonObject(with: Data(r.json.utf8))
    }

    func agent(_ c: RpcClient, host: String) throws -> [String: Any]? {
        (try agents(c) as? [[String: Any]] ?? []).first { $0["hostname"] as? String == host }
    }

    /// Waits for the agent on `host` to enroll and returns its id.
    func enrolled(_ c: RpcClient, host: String) throws -> String {
        var id = ""
        try stack.eventually("agent on \(host) enrolled") {
            id = try agent(c, host: host)?["id"] as? String ?? ""
            return !id.isEmpty
        }
        return id
    }

    func profile(_ c: RpcClient, _ json: String, update: Bool = false) throws {
        _ = try c.call(service: "config", method: update ? "config.update" : "config.create",
                       ConfigRequest(kind: "agent_profile", objectJSON: json), as: ConfigReply.self, timeoutMs: 10_000)
    }

    /// Events enrichment has stored from one agent (the inventory event included).
    func stored(_ c: RpcClient, agent id: String, _ extra: String = "") throws -> UInt64 {
        try c.call(service: "enrichment", method: "events.count", QueryRequest(query: "event.source: \"agent:\(id)\"" + extra),
                   as: CountResponse.self, timeoutMs: 10_000).count
    }

    func append(_ path: String, _ lines: [String]) {
        let text = lines.map { $0 + "\n" }.joined()
        if let h = FileHandle(forWritingAtPath: path) {
            h.seekToEndOfFile(); h.write(Data(text.utf8)); h.closeFile()
        } else {
            FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        }
    }

    static func appendLine(_ path: String, _ line: String) {
        guard let h = FileHandle(forWritingAtPath: path) else { return }
        h.seekToEndOfFile(); h.write(Data((line + "\n").utf8)); h.closeFile()
    }

    static func line(_ who: String, _ i: Int) -> String {
        "<38>Dec  4 09:15:11 web01 sshd[1]: Failed password for \(who)\(i) from 192.0.2.\(i % 250 + 1) port 22 ssh2"
    }

    /// Three agents write while ingest is SIGKILLed and restarted: their batches wait in the
    /// spool (reported in the heartbeat) and every line is stored exactly once afterwards. The
    /// inventory each agent sends becomes an enrichment asset.
    func testSeveralAgentsKeepEveryLineOnceAcrossAnIngestRestart() throws {
        try startStack()
        let c = try stack.client()
        defer { c.close() }
        // An imported asset for host-a0: the agent's inventory completes it instead of adding one.
        let csv = "id,name,hostname,ip,criticality,owner\nweb-1,Web one,host-a0,,high,ops\n"
        _ = try c.call(service: "enrichment", method: "assets.import", ImportRequest(format: "csv", content: Array(csv.utf8), origin: "test"),
                       as: ImportResponse.self, timeoutMs: 10_000)
        var ids: [String] = [], files: [String] = []
        for i in 0..<3 {
            let file = "\(stack.dir)/app\(i).log"
            files.append(file)
            append(file, (0..<100).map { Self.line("a\(i)-", $0) })
            try profile(c, #"{"id": "p\#(i)", "name": "agent \#(i)", "logs": ["\#(file)"], "assets": ["host-a\#(i)"]}"#)
            try startAgent("a\(i)")
        }
        for i in 0..<3 { ids.append(try enrolled(c, host: "host-a\(i)")) }
        for id in ids { _ = try agents(c, "activate", id: id) }
        for (i, id) in ids.enumerated() {
            try stack.eventually("first 100 lines of agent \(i)") { try self.stored(c, agent: id) == 101 }
        }
        // The inventory made an asset per agent.
        for id in ids {
            let n = try c.call(service: "enrichment", method: "assets.count", QueryRequest(query: "agent.id: \"\(id)\""),
                               as: CountResponse.self, timeoutMs: 10_000).count
            XCTAssertEqual(n, 1, "asset for agent \(id)")
        }
        let merged = try c.call(service: "enrichment", method: "assets.count",
                                QueryRequest(query: "agent.id: \"\(ids[0])\" and asset.id: web-1 and asset.criticality: high and asset.owner: ops"),
                                as: CountResponse.self, timeoutMs: 10_000).count
        XCTAssertEqual(merged, 1, "the imported asset got the agent id and kept its criticality and owner")
        let total = try c.call(service: "enrichment", method: "assets.count", QueryRequest(query: ""), as: CountResponse.self, timeoutMs: 10_000).count
        XCTAssertEqual(total, 3, "web-1 plus one new asset per other agent")

        // A writer keeps appending (one line per agent every 5 ms) while ingest is killed and restarted.
        let done = DispatchSemaphore(value: 0)
        let paths = files
        Thread {
            for n in 100..<500 {
                for (i, f) in paths.enumerated() { AgentTests.appendLine(f, AgentTests.line("a\(i)-", n)) }
                usleep(5000)
            }
            done.signal()
        }.start()
        usleep(300_000)
        stack.kill("ingest")
        try stack.eventually("agents report spooled batches while ingest is down") {
            try ids.allSatisfy { id in
                ((try self.agents(c, "get", id: id) as? [String: Any])?["spool_events"] as? Int ?? 0) > 0
            }
        }
        try stack.start("vigil-ingest", name: "ingest", ["--syslog.udp", "off", "--syslog.tcp", "off", "--json.tcp", "off"])
        done.wait()
        for (i, id) in ids.enumerated() {
            try stack.eventually(timeoutMs: 60_000, "all 500 lines of agent \(i)") { try self.stored(c, agent: id) >= 501 }
        }
        usleep(1_500_000)
        for (i, id) in ids.enumerated() {
            XCTAssertEqual(try stored(c, agent: id), 501, "agent \(i): every line once, plus its inventory")
            XCTAssertEqual(try stored(c, agent: id, " and user.name = \"a\(i)-499\""), 1)
            let a = try XCTUnwrap(agents(c, "get", id: id) as? [String: Any])
            XCTAssertEqual(a["dropped_events"] as? Int, 0)
            try stack.eventually("agent \(i) spool empty") {
                ((try self.agents(c, "get", id: id) as? [String: Any])?["spool_events"] as? Int) == 0
            }
        }
        XCTAssertEqual(try stack.metrics("enrichment").counters["events.duplicate_ignored"] ?? 0, 0)
    }

    /// With ingest down and a small spool, the oldest batches are dropped (the documented
    /// overflow policy), counted and reported; what the spool kept arrives once ingest is back.
    func testSpoolOverflowDropsOldestBatchesCountedAndReported() throws {
        try startStack()
        let c = try stack.client()
        defer { c.close() }
        let file = "\(stack.dir)/burst.log"
        try profile(c, #"{"id": "b", "name": "burst", "logs": ["\#(file)"], "assets": ["host-a0"]}"#)
        try startAgent("a0", ["--spool.max-bytes", "65536"])
        let id = try enrolled(c, host: "host-a0")
        _ = try agents(c, "activate", id: id)
        try stack.eventually("inventory stored") { try self.stored(c, agent: id) == 1 }
        stack.kill("ingest")
        append(file, (0..<3000).map { Self.line("burst", $0) })
        var a: [String: Any] = [:]
        try stack.eventually("every line read into the spool") {
            a = try self.agents(c, "get", id: id) as? [String: Any] ?? [:]
            return a["read_events"] as? Int == 3001
        }
        let dropped = try XCTUnwrap(a["dropped_events"] as? Int)
        XCTAssertGreaterThan(dropped, 0, "\(a)")
        XCTAssertLessThanOrEqual(a["spool_bytes"] as? Int ?? .max, 65536)
        XCTAssertEqual((a["spool_events"] as? Int ?? 0) + dropped, 3000, "spooled + dropped = read")
        XCTAssertTrue(stack.log("a0").contains("spool full: oldest batches dropped"))
        try stack.start("vigil-ingest", name: "ingest", ["--syslog.udp", "off", "--syslog.tcp", "off", "--json.tcp", "off"])
        try stack.eventually(timeoutMs: 60_000, "the kept batches arrive") { try self.stored(c, agent: id) == UInt64(3001 - dropped) }
        // The newest line was kept, the oldest dropped.
        XCTAssertEqual(try stored(c, agent: id, " and user.name = \"burst2999\""), 1)
        XCTAssertEqual(try stored(c, agent: id, " and user.name = \"burst0\""), 0)
    }

    /// An enrolled agent sends nothing until activated, and nothing again once deactivated;
    /// a wrong enrollment token is refused.
    func testInactiveAgentSendsNothing() throws {
        try startStack()
        let c = try stack.client()
        defer { c.close() }
        let file = "\(stack.dir)/quiet.log"
        append(file, (0..<20).map { Self.line("q", $0) })
        try profile(c, #"{"id": "all", "name": "all", "logs": ["\#(file)"], "assets": ["*"]}"#)
        try stack.start("vigil-agent", name: "a2", ["--data", "\(stack.dir)/agent-bad", "--endpoint.rpc", stack.endpoints.rpc,
                                                    "--enroll-token", "wrong", "--hostname", "host-bad", "--journal", "off"])
        try startAgent("a0")
        let id = try enrolled(c, host: "host-a0")
        XCTAssertEqual(try agent(c, host: "host-a0")?["status"] as? String, "pending")
        // Several heartbeats go by; nothing reaches ingest.
        try stack.eventually("heartbeats from the pending agent") {
            (try self.agent(c, host: "host-a0")?["last_seen_ms"] as? Int ?? 0) > (try self.agent(c, host: "host-a0")?["enrolled_ms"] as? Int ?? 0) + 1000
        }
        XCTAssertEqual(try stored(c, agent: id), 0)
        XCTAssertEqual(try stack.metrics("ingest").counters["accepted"] ?? 0, 0)
        XCTAssertNil(try agent(c, host: "host-bad"), "the wrong token enrolled nothing")
        XCTAssertTrue(stack.log("a2").contains("enrollment token not accepted"), stack.log("a2"))

        let activated = try stack.vigil(["agents", "activate", id])
        XCTAssertEqual(activated.status, 0, activated.err)
        XCTAssertEqual(activated.out, "agent \(id) (host-a0) is active\n")
        try stack.eventually("lines after activation") { try self.stored(c, agent: id) == 21 }
        let listed = try stack.vigil(["agents", "list"])
        XCTAssertEqual(listed.status, 0, listed.err)
        XCTAssertTrue(listed.out.contains("host-a0") && listed.out.contains("active"), listed.out)
        let json = try stack.vigil(["agents", "list", "--json"])
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [[String: Any]])
        XCTAssertEqual(rows.first { $0["id"] as? String == id }?["status"] as? String, "active")
        let missing = try stack.vigil(["agents", "activate", "no-such-agent"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.err.contains("no agent with id 'no-such-agent'"), missing.err)

        _ = try agents(c, "deactivate", id: id)
        try stack.eventually("agent saw its deactivation") { self.stack.log("a0").contains("to=inactive") }
        append(file, (20..<40).map { Self.line("q", $0) })
        usleep(1_500_000)
        XCTAssertEqual(try stored(c, agent: id), 21, "an inactive agent sends nothing")
        _ = try agents(c, "activate", id: id)
        try stack.eventually("lines written while inactive arrive after reactivation") { try self.stored(c, agent: id) == 41 }

        // Deactivated while the agent is down: after its restart it sends nothing.
        stack.kill("a0")
        _ = try agents(c, "deactivate", id: id)
        append(file, (40..<60).map { Self.line("q", $0) })
        try startAgent("a0")
        try stack.eventually("restarted agent learned it is inactive") {
            self.stack.log("a0").components(separatedBy: "to=inactive").count == 3
        }
        usleep(1_000_000)
        XCTAssertEqual(try stored(c, agent: id), 41, "a restarted agent deactivated meanwhile sends nothing")
        _ = try agents(c, "activate", id: id)
        // 20 lines plus the inventory a restarted agent sends again.
        try stack.eventually("lines after the second activation") { try self.stored(c, agent: id) == 62 }
        // Activation needs the admin role.
        let viewer = try RpcClient(context: stack.context, endpoint: stack.endpoints.rpc, caller: Identity(name: "v", role: "viewer"))
        defer { viewer.close() }
        XCTAssertThrowsError(try viewer.call(service: "config", method: "agents.deactivate", ConfigRequest(id: id), as: ConfigReply.self, timeoutMs: 5000)) {
            XCTAssertTrue("\($0)".contains("agents.deactivate needs role admin"), "\($0)")
        }
    }

    /// Rotation by rename in the middle of collection, copytruncate, and an agent SIGKILLed and
    /// restarted: every line arrives exactly once (positions are inode + offset in the state).
    func testRotationTruncationAndRestartKeepExactPositions() throws {
        try startStack()
        let c = try stack.client()
        defer { c.close() }
        let file = "\(stack.dir)/rot.log"
        append(file, (0..<50).map { Self.line("r", $0) })
        try profile(c, #"{"id": "rot", "name": "rot", "logs": ["\#(stack.dir)/rot*.log"], "assets": ["host-a0"]}"#)
        try startAgent("a0")
        let id = try enrolled(c, host: "host-a0")
        _ = try agents(c, "activate", id: id)
        try stack.eventually("first lines") { try self.stored(c, agent: id) == 51 }

        // Rotation in the middle: lines go to the old file after the rename, then to the new one.
        append(file, (50..<60).map { Self.line("r", $0) })
        try FileManager.default.moveItem(atPath: file, toPath: file + ".1")
        append(file + ".1", (60..<70).map { Self.line("r", $0) })
        append(file, (70..<90).map { Self.line("r", $0) })
        try stack.eventually("lines around the rotation") { try self.stored(c, agent: id) == 91 }

        // copytruncate: the file is emptied in place and written again from the start.
        truncate(file, 0)
        append(file, (90..<95).map { Self.line("r", $0) })
        try stack.eventually("lines after truncation") { try self.stored(c, agent: id) == 96 }

        // SIGKILL, more lines and a rotation while it is down, restart.
        stack.kill("a0")
        append(file, (95..<100).map { Self.line("r", $0) })
        try FileManager.default.moveItem(atPath: file, toPath: file + ".2")
        append(file, (100..<110).map { Self.line("r", $0) })
        try startAgent("a0")
        // The restarted agent sends its inventory again (one more event).
        try stack.eventually("lines after the restart") { try self.stored(c, agent: id) >= 111 + 1 }
        usleep(1_000_000)
        XCTAssertEqual(try stored(c, agent: id, " and not event.action: \"agent-inventory\""), 110)
        for i in [0, 55, 65, 80, 92, 97, 105] {
            XCTAssertEqual(try stored(c, agent: id, " and user.name = \"r\(i)\""), 1, "line r\(i)")
        }
    }

    /// A profile the agent cannot apply is refused with the reason (heartbeat → agents.get)
    /// while the previous one keeps collecting; config refuses a malformed one outright.
    func testBadProfileIsRefusedWhileTheOldOneKeepsRunning() throws {
        try startStack()
        let c = try stack.client()
        defer { c.close() }
        let file = "\(stack.dir)/keep.log"
        append(file, (0..<10).map { Self.line("k", $0) })
        try profile(c, #"{"id": "k", "name": "keep", "logs": ["\#(file)"], "assets": ["host-a0"]}"#)
        try startAgent("a0")
        let id = try enrolled(c, host: "host-a0")
        _ = try agents(c, "activate", id: id)
        try stack.eventually("first lines") { try self.stored(c, agent: id) == 11 }

        XCTAssertThrowsError(try profile(c, #"{"id": "k", "name": "keep", "logs": ["\#(file)"], "assets": ["host-a0"], "rate_limit": -5}"#, update: true)) {
            XCTAssertTrue("\($0)".contains("rate_limit: must be a whole number ≥ 0"), "\($0)")
        }
        try profile(c, #"{"id": "k", "name": "keep", "logs": ["relative/app.log"], "assets": ["host-a0"]}"#, update: true)
        var error = ""
        try stack.eventually("the agent reports the refusal") {
            error = (try self.agents(c, "get", id: id) as? [String: Any])?["profile_error"] as? String ?? ""
            return !error.isEmpty
        }
        XCTAssertTrue(error.contains("logs[0]: 'relative/app.log' is not an absolute path"), error)
        append(file, (10..<20).map { Self.line("k", $0) })
        try stack.eventually("the old profile still collects") { try self.stored(c, agent: id) == 21 }
        let listed = try stack.vigil(["agents", "list"])
        XCTAssertTrue(listed.out.contains("REFUSED"), listed.out)

        // A good profile again: applied, the error clears, and its rate limit holds.
        let other = "\(stack.dir)/other.log"
        append(other, (0..<5).map { Self.line("o", $0) })
        try profile(c, #"{"id": "k", "name": "keep", "logs": ["\#(file)", "\#(other)"], "assets": ["host-a0"], "rate_limit": 100}"#, update: true)
        try stack.eventually("the fixed profile applies") { try self.stored(c, agent: id) == 26 }
        try stack.eventually("error cleared") {
            ((try self.agents(c, "get", id: id) as? [String: Any])?["profile_error"] as? String) == ""
        }

        // The profile's rate limit: 20 events/s holds 100 new lines back for about 4 s.
        try profile(c, #"{"id": "k", "name": "keep", "logs": ["\#(file)", "\#(other)"], "assets": ["host-a0"], "rate_limit": 20}"#, update: true)
        try stack.eventually("rate limit applied") { self.stack.log("a0").contains("rate_limit=20") }
        usleep(1_500_000) // the bucket refills to its one-second size
        append(other, (5..<105).map { Self.line("o", $0) })
        usleep(1_000_000)
        let early = try stored(c, agent: id)
        XCTAssertLessThan(early, 26 + 100, "rate-limited: not all 100 lines after 1 s")
        try stack.eventually(timeoutMs: 30_000, "every rate-limited line arrives") { try self.stored(c, agent: id) == 126 }
        XCTAssertGreaterThan((try agents(c, "get", id: id) as? [String: Any])?["rate_limited_ms"] as? Int ?? 0, 0)
    }

    /// Journal files written by systemd-journal-remote (no journald runs here) are read through
    /// sd-journal: only the profile's units, as syslog lines ingest parses, resumed by cursor
    /// after a restart, and entries added later are picked up.
    func testJournalUnitsFromJournalFiles() throws {
        let remote = "/lib/systemd/systemd-journal-remote"
        guard FileManager.default.isExecutableFile(atPath: remote) else {
            throw TestSetupError(message: "\(remote) missing: scripts/install-deps.sh installs systemd-journal-remote")
        }
        let jdir = "\(stack.dir)/journal"
        try FileManager.default.createDirectory(atPath: jdir, withIntermediateDirectories: true)
        func write(_ file: String, _ entries: [(unit: String, msg: String)], start: Int) throws {
            var s = ""
            for (i, e) in entries.enumerated() {
                s += "__REALTIME_TIMESTAMP=\(1_733_300_000_000_000 + (start + i) * 1_000_000)\n__MONOTONIC_TIMESTAMP=\(start + i + 1)\n"
                s += "_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=jhost\n_SYSTEMD_UNIT=\(e.unit)\n"
                s += "SYSLOG_IDENTIFIER=\(e.unit.split(separator: ".")[0])\n_PID=\(100 + i)\nPRIORITY=6\nSYSLOG_FACILITY=10\nMESSAGE=\(e.msg)\n\n"
            }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: remote)
            p.arguments = ["-o", "\(jdir)/\(file)", "-"]
            let input = Pipe()
            p.standardInput = input
            p.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try p.run()
            input.fileHandleForWriting.write(Data(s.utf8))
            input.fileHandleForWriting.closeFile()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw TestSetupError(message: "systemd-journal-remote exited \(p.terminationStatus)") }
        }
        try write("a.journal", [("sshd.service", "Failed password for root from 192.0.2.7 port 22 ssh2"), ("cron.service", "cron ran"),
                                ("sshd.service", "Failed password for admin from 192.0.2.8 port 22 ssh2")], start: 0)
        try startStack()
        let c = try stack.client()
        defer { c.close() }
        try profile(c, #"{"id": "j", "name": "journal", "logs": ["\#(stack.dir)/none.log"], "journal": ["sshd.service"], "assets": ["host-a0"]}"#)
        try startAgent("a0", ["--journal", jdir])
        let id = try enrolled(c, host: "host-a0")
        _ = try agents(c, "activate", id: id)
        try stack.eventually("sshd entries from the journal") { try self.stored(c, agent: id, " and user.name: root") == 1 }
        usleep(1_000_000)
        XCTAssertEqual(try stored(c, agent: id, " and not event.action: \"agent-inventory\""), 2, "only sshd.service entries")
        XCTAssertEqual(try stored(c, agent: id, " and user.name: admin and source.ip: 192.0.2.8"), 1, "parsed like auth.log")

        // A later journal file in the directory, written while the agent runs, then a restart.
        try write("b.journal", [("sshd.service", "Failed password for carol from 192.0.2.9 port 22 ssh2")], start: 10)
        try stack.eventually("entry added later") { try self.stored(c, agent: id, " and user.name: carol") == 1 }
        stack.kill("a0")
        try write("c.journal", [("sshd.service", "Failed password for dave from 192.0.2.10 port 22 ssh2")], start: 20)
        try startAgent("a0", ["--journal", jdir])
        try stack.eventually("entry written while the agent was down") { try self.stored(c, agent: id, " and user.name: dave") == 1 }
        usleep(1_000_000)
        XCTAssertEqual(try stored(c, agent: id, " and not event.action: \"agent-inventory\""), 4, "resumed after its cursor: nothing twice")
    }
}

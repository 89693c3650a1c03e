import Foundation
import XCTest
import VigilTestSupport
import VigilBus
import VigilLog
import VigilWire
#if canImport(Glibc)
import Glibc
#endif

/// `vigil shell` and the one-shot commands as a person uses them, against real services:
/// keys typed into a real pseudo-terminal (a private tmux server), the screen read back;
/// whole outputs compared with golden files; a stopped stack or service answered in one line.
final class ShellTests: XCTestCase {
    /// A tmux server of our own (its own socket name), one 120×40 window; killed at the end.
    final class Screen {
        let socket = "vigil-shell-\(UUID().uuidString.prefix(8))"

        /// Runs a tmux client through /bin/sh, output into a file, and waits for it with waitpid.
        /// (The client that starts the server hands its descriptors to the daemon, so a pipe
        /// would never reach end of file.)
        @discardableResult
        func tmux(_ args: [String]) throws -> String {
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else {
                throw TestSetupError(message: "tmux is not installed (scripts/install-deps.sh installs it)")
            }
            let path = NSTemporaryDirectory() + "/\(socket)-\(UUID().uuidString.prefix(6)).out"
            defer { try? FileManager.default.removeItem(atPath: path) }
            func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            let line = (["/usr/bin/tmux", "-L", socket, "-f", "/dev/null"] + args).map(quote).joined(separator: " ")
                + " >\(quote(path)) 2>&1 </dev/null"
            var pid: pid_t = 0
            let argv: [UnsafeMutablePointer<CChar>?] = [String](["/bin/sh", "-c", line]).map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            guard posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ) == 0 else { throw TestSetupError(message: "cannot run /bin/sh") }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        }

        func start(_ command: String) throws { try tmux(["new-session", "-d", "-x", "120", "-y", "40", command]) }
        /// Text typed literally.
        func type(_ text: String) throws { try tmux(["send-keys", "-l", text]) }
        /// Named keys: Tab, Enter, Up, C-d …
        func press(_ keys: String...) throws { try tmux(["send-keys"] + keys) }
        func screen() throws -> String { try tmux(["capture-pane", "-p"]) }
        func clear() throws { try tmux(["send-keys", "C-l"]); try tmux(["clear-history"]) }

        /// Waits until the screen shows `text` (the shell answers asynchronously); returns the screen.
        /// capture-pane drops trailing spaces, so `text` should not end in one.
        @discardableResult
        func waitFor(_ text: String, timeoutMs: Int64 = 15_000, file: StaticString = #filePath, line: UInt = #line) throws -> String {
            let deadline = Clock.monotonicMs() + timeoutMs
            var s = ""
            while Clock.monotonicMs() < deadline {
                s = try screen()
                if s.contains(text) { return s }
                usleep(50_000)
            }
            XCTFail("the screen never showed \"\(text)\"; it shows:\n\(s)\n\(try tmux(["ls"]))", file: file, line: line)
            throw TestSetupError(message: "timed out waiting for \(text)")
        }

        func stop() { _ = try? tmux(["kill-server"]) }
    }

    func shellCommand(_ stack: TestStack, history: String) -> String {
        "env VIGIL_HISTORY=\(history) TERM=xterm \(stack.binDir)/vigil shell --data \(stack.dir) || sleep 30"
    }

    /// A session: complete a command, a subcommand, a rule id and QQL tokens with Tab; run them;
    /// see a QQL error with its caret under the query; get help; leave, come back, recall history.
    func testInteractiveSession() throws {
        let stack = try TestStack()
        defer { stack.cleanup() }
        try stack.startCore()
        let rule = stack.dir + "/rule.json"
        try DetectionTests.thresholdRule.write(toFile: rule, atomically: true, encoding: .utf8)
        XCTAssertEqual(try stack.vigil(["rules", "import", rule]).status, 0)
        try stack.sendSyslog((0..<3).map { _ in "<38>Dec  4 09:15:11 web01 sshd[1]: Failed password for carol from 10.9.8.7 port 4000 ssh2" }, tcp: true)
        try stack.eventually("3 events") { try stack.vigil(["events", "count"]).out.hasPrefix("3") }

        let term = Screen()
        defer { term.stop() }
        let history = stack.dir + "/history"
        try term.start(shellCommand(stack, history: history))
        try term.waitFor("vigil>")

        // A command and a subcommand by Tab.
        try term.type("rul")
        try term.press("Tab")
        try term.waitFor("vigil> rules")
        try term.type("ge")
        try term.press("Tab")
        try term.waitFor("vigil> rules get")
        // A rule id, asked from detection (rules.list).
        try term.type("aaaa")
        try term.press("Tab")
        try term.waitFor("rules get aaaaaaaa-0000-4000-8000-000000000001")
        try term.press("Enter")
        try term.waitFor("5 or more events matching")

        // A QQL token from the events list's catalog (events.tokens), inside a quoted query.
        try term.type("events search 'user.na")
        try term.press("Tab")
        try term.waitFor("events search 'user.name")
        try term.type(": carol'")
        try term.press("Enter")
        try term.waitFor("web01  carol  10.9.8.7")

        // A QQL error: the caret sits under the place the service points at.
        try term.type("events search 'source.ip: 10.0.0.0/8 and'")
        try term.press("Enter")
        let err = try term.waitFor("expected a clause")
        let lines = err.components(separatedBy: "\n")
        let q = try XCTUnwrap(lines.lastIndex { $0.hasSuffix("source.ip: 10.0.0.0/8 and") && !$0.contains("vigil>") }, err)
        let caret = lines[q + 1]
        XCTAssertEqual(caret.trimmingCharacters(in: .whitespaces), "^", err)
        XCTAssertEqual(caret.count - 1, lines[q].count, "the caret is under the end of the query (after 'and')\n\(err)")

        // Ctrl-C ends a running command and keeps the shell; at the prompt it is ignored.
        try term.type("tail signals")
        try term.press("Enter")
        try term.waitFor("listening on signals.*")
        try term.press("C-c")
        try term.type("xyz")
        try term.press("C-c")
        try term.press("C-u")
        try term.type("help events")
        try term.press("Enter")
        try term.waitFor("vigil events histogram")

        // Leave with Ctrl-D; a new shell recalls the last commands with Up.
        try term.press("C-d")
        let deadline = Clock.monotonicMs() + 5000
        while try Clock.monotonicMs() < deadline && term.tmux(["has-session"]).isEmpty { usleep(50_000) }
        let saved = try String(contentsOfFile: history, encoding: .utf8)
        XCTAssertTrue(saved.contains("help") && saved.contains("rules"), saved)
        try term.start(shellCommand(stack, history: history))
        try term.waitFor("vigil>")
        try term.press("Up")
        try term.waitFor("vigil> help events")
        try term.press("Up")
        try term.waitFor("vigil> tail signals")
        try term.press("Up")
        try term.waitFor("vigil> events search 'source.ip: 10.0.0.0/8 and'")
        try term.press("C-u")
        try term.type("exit")
        try term.press("Enter")
    }

    // MARK: one-shot commands against golden files

    static let goldenDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("golden").path

    /// Times and generated ids differ per run; they are replaced by placeholders of the same
    /// length so table alignment is still compared.
    static func normalize(_ s: String) -> String {
        var out = s
        let patterns: [(String, Character)] = [
            (#"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"#, "T"),
            (#"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"#, "T"),
            (#"\b[0-9a-f]{32}\b"#, "x"),
            (#"127\.0\.0\.1:\d+"#, "p"),
        ]
        for (p, c) in patterns {
            let re = try! NSRegularExpression(pattern: p)
            for m in re.matches(in: out, range: NSRange(out.startIndex..., in: out)).reversed() {
                let r = Range(m.range, in: out)!
                out.replaceSubrange(r, with: String(repeating: c, count: out[r].count))
            }
        }
        return out
    }

    func assertGolden(_ name: String, _ output: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let path = Self.goldenDir + "/" + name
        let actual = Self.normalize(output)
        if ProcessInfo.processInfo.environment["VIGIL_UPDATE_GOLDEN"] != nil {
            try FileManager.default.createDirectory(atPath: Self.goldenDir, withIntermediateDirectories: true)
            try actual.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = try? String(contentsOfFile: path, encoding: .utf8) else {
            XCTFail("no golden file \(path) (run with VIGIL_UPDATE_GOLDEN=1 to write it)", file: file, line: line)
            return
        }
        XCTAssertEqual(actual, expected, "output of \(name) differs from its golden file", file: file, line: line)
    }

    func testOneShotOutputsMatchGoldenFiles() throws {
        let stack = try TestStack()
        defer { stack.cleanup() }
        try stack.startCore()
        let rule = stack.dir + "/rule.json"
        try DetectionTests.thresholdRule.write(toFile: rule, atomically: true, encoding: .utf8)
        XCTAssertEqual(try stack.vigil(["rules", "import", rule]).status, 0)
        var lines = (0..<5).map { _ in "<38>Dec  4 09:15:11 web01 sshd[1]: Failed password for carol from 10.9.8.7 port 4000 ssh2" }
        lines += ["<38>Dec  4 09:16:00 db01 sshd[2]: Failed password for dave from 10.9.8.8 port 4001 ssh2",
                  "<38>Dec  4 09:17:00 web01 sshd[3]: Accepted password for erin from 10.9.8.9 port 4002 ssh2"]
        try stack.sendSyslog(lines, tcp: true)
        // The threshold rule fires once for carol; the library's failed-login rule once per failure.
        try stack.eventually("7 signals") { try stack.vigil(["signals", "count"]).out == "7\n" }

        func run(_ args: [String]) throws -> String {
            let r = try stack.vigil(args + ["--width", "100"])
            XCTAssertEqual(r.status, 0, "\(args): \(r.err)")
            return r.out
        }
        try assertGolden("rules-get.txt", try run(["rules", "get", "aaaaaaaa-0000-4000-8000-000000000001"]))
        try assertGolden("events-search.txt", try run(["events", "search", "host.name: web01", "--sort", "user.name:asc"]))
        try assertGolden("events-facets.txt", try run(["events", "facets", "user.name"]))
        try assertGolden("signals-facets.txt", try run(["signals", "facets", "rule.name"]))
        try assertGolden("signals-count.json", try run(["signals", "count", "user.name: carol", "--json"]))
        try assertGolden("events-search-narrow.txt", try stack.vigil(["events", "search", "user.name: dave", "--width", "60"]).out)

        // One grammar: the same lines typed into the shell (here from a script) print the same.
        let script = stack.dir + "/script.txt"
        try "events facets user.name --width 100\nrules get 'aaaaaaaa-0000-4000-8000-000000000001' --width 100\nexit\n"
            .write(toFile: script, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: stack.binDir + "/vigil")
        p.arguments = ["shell", "--data", stack.dir]
        p.standardInput = FileHandle(forReadingAtPath: script)
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let shellOut = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        XCTAssertEqual(shellOut, try run(["events", "facets", "user.name"]) + run(["rules", "get", "aaaaaaaa-0000-4000-8000-000000000001"]))
    }

    // MARK: nothing running, a service down, the wrong identity

    func testStackOrServiceDownIsOneLineNamingIt() throws {
        let stack = try TestStack()
        defer { stack.cleanup() }
        var t0 = Clock.monotonicMs()
        let noBroker = try stack.vigil(["rules", "list"])
        XCTAssertEqual(noBroker.status, 3, noBroker.err)
        XCTAssertEqual(noBroker.err.split(separator: "\n").count, 1, noBroker.err)
        XCTAssertTrue(noBroker.err.hasPrefix("vigil: broker not reachable at ipc://\(stack.dir)/run/bus-rpc.sock"), noBroker.err)
        XCTAssertLessThan(Clock.monotonicMs() - t0, 10_000, "an absent broker is reported, not waited for")

        try stack.start("vigil-broker", name: "broker")
        try stack.start("vigil-config", name: "config")
        try stack.waitHealthy(["config"])
        t0 = Clock.monotonicMs()
        let down = try stack.vigil(["rules", "list"])
        XCTAssertEqual(down.status, 3, down.err)
        XCTAssertEqual(down.err, "vigil: detection is down: no live instance is registered with the broker (rules.search)\n")
        XCTAssertLessThan(Clock.monotonicMs() - t0, 10_000, "a missing service is reported within seconds")
        let events = try stack.vigil(["events", "search", "user.name: x"])
        XCTAssertEqual(events.err, "vigil: enrichment is down: no live instance is registered with the broker (events.search)\n")
        // The service that is up answers through the same connection path.
        XCTAssertEqual(try stack.vigil(["config", "overview", "--json"]).status, 0)

        let badRole = try stack.vigil(["config", "overview", "--role", "root"])
        XCTAssertEqual(badRole.status, 2)
        XCTAssertEqual(badRole.err, "vigil: --role: 'root' is not a role (admin, analyst or viewer)\n")
        let typo = try stack.vigil(["evnts", "search"])
        XCTAssertEqual(typo.status, 2)
        XCTAssertTrue(typo.err.contains("did you mean events?"), typo.err)
    }

    /// `--connect tcp://…` with CURVE keys reaches a CURVE broker; without them it is one line.
    func testConnectOverCurve() throws {
        let stack = try TestStack()
        defer { stack.cleanup() }
        let broker = try CurveKeys.generate(), service = try CurveKeys.generate(), admin = try CurveKeys.generate()
        let allow = stack.dir + "/allowed_clients"
        try "\(service.publicKey)\n\(admin.publicKey)\n".write(toFile: allow, atomically: true, encoding: .utf8)
        try broker.secretKey.write(toFile: stack.dir + "/broker.key", atomically: true, encoding: .utf8)
        try admin.secretKey.write(toFile: stack.dir + "/admin.key", atomically: true, encoding: .utf8)
        let bind = (0..<3).map { _ in "tcp://127.0.0.1:\(FreePort.next())" }
        let eps = ["--endpoint.publish", bind[0], "--endpoint.subscribe", bind[1], "--endpoint.rpc", bind[2]]
        try stack.start("vigil-broker", name: "broker", eps + ["--curve.secret", "@" + stack.dir + "/broker.key", "--curve.allow", allow])
        try stack.start("vigil-config", name: "config", eps + ["--curve.secret", service.secretKey, "--curve.server-public", broker.publicKey])
        let ok = try stack.vigil(["config", "overview", "--connect", bind[2], "--server-key", broker.publicKey, "--key-file", stack.dir + "/admin.key"])
        XCTAssertEqual(ok.status, 0, ok.err)
        var health = try stack.vigil(["sys", "health", "config", "--json", "--connect", bind[2], "--server-key", broker.publicKey,
                                      "--key-file", stack.dir + "/admin.key"])
        let deadline = Clock.monotonicMs() + 15_000
        while health.status != 0 && Clock.monotonicMs() < deadline {
            usleep(200_000)
            health = try stack.vigil(["sys", "health", "config", "--json", "--connect", bind[2], "--server-key", broker.publicKey,
                                      "--key-file", stack.dir + "/admin.key"])
        }
        XCTAssertEqual(health.status, 0, health.err)
        XCTAssertTrue(health.out.contains("\"instance\" : \"config-0\""), health.out)
        let plain = try stack.vigil(["sys", "health", "config", "--connect", bind[2]])
        XCTAssertEqual(plain.status, 3)
        XCTAssertTrue(plain.err.hasPrefix("vigil: broker not reachable at \(bind[2])"), plain.err)
        let noServerKey = try stack.vigil(["sys", "health", "--connect", bind[2], "--key-file", stack.dir + "/admin.key"])
        XCTAssertEqual(noServerKey.status, 2)
        XCTAssertTrue(noServerKey.err.contains("--server-key"), noServerKey.err)
    }
}

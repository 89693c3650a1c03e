import Foundation
import XCTest
import VigilBus
import VigilLog
import VigilStore
import VigilWire
#if canImport(Glibc)
import Glibc
#endif

final class EndToEndTests: XCTestCase {
    var stack: TestStack!

    override func setUpWithError() throws { stack = try TestStack() }
    override func tearDown() {
        if let s = stack, testRun?.hasSucceeded == false {
            for n in ["broker", "ingest", "enrichment", "detection"] { print("--- \(n) log ---\n\(s.log(n).suffix(3000))") }
        }
        stack?.cleanup()
    }

    func receiveSignals(_ sub: Subscriber, count: Int, timeoutMs: Int64 = 20_000) -> [(String, Signal)] {
        var out: [(String, Signal)] = []
        let deadline = Clock.monotonicMs() + timeoutMs
        while out.count < count && Clock.monotonicMs() < deadline {
            guard let (topic, body) = sub.receive(timeoutMs: 100) else { continue }
            if let env = try? StreamEnvelope(decoding: body), env.kind == .data, let s = try? Signal(decoding: env.payload) {
                out.append((topic, s))
            }
        }
        return out
    }

    func testSyslogLinesOverUDPAndTCPBecomeEventsAndSignals() throws {
        try stack.startCore()
        let sub = try Subscriber(context: stack.context, endpoint: stack.endpoints.subscribe, prefixes: ["signals."])
        defer { sub.close() }
        usleep(500_000) // the subscription travels to the publishers (slow joiner)
        try stack.sendSyslog(["<38>Dec  4 09:15:11 web01 sshd[2240]: Failed password for invalid user admin from 203.0.113.45 port 40122 ssh2"], tcp: false)
        try stack.sendSyslog(["<86>Dec  4 09:20:44 db01 su[3120]: FAILED SU (to root) alice on pts/1",
                              "<38>Dec  4 09:14:02 web01 sshd[2211]: Accepted publickey for deploy from 10.0.4.7 port 51544 ssh2",
                              "no header at all"], tcp: true)
        let signals = receiveSignals(sub, count: 2)
        XCTAssertEqual(signals.count, 2, "two failed logins, two signals")
        let byUser = Dictionary(uniqueKeysWithValues: signals.map { ($0.1.entity.user, $0) })
        let ssh = try XCTUnwrap(byUser["admin"])
        XCTAssertEqual(ssh.0, "signals.medium.credential-access")
        XCTAssertEqual(ssh.1.entity.ip, "203.0.113.45")
        XCTAssertEqual(ssh.1.mitre.techniqueId, "T1110")
        XCTAssertEqual(ssh.1.eventIds.count, 1)
        XCTAssertNotNil(byUser["alice"])

        // Every line is stored by enrichment, the unparsed one with its reason.
        let db = try Database(path: stack.dir + "/enrichment-0.db")
        try stack.eventually("4 events stored") { try db.scalar("SELECT count(*) FROM events")?.int64 == 4 }
        let unparsed = try db.query("SELECT raw, parse_error FROM events WHERE status = 2")
        XCTAssertEqual(unparsed.count, 1)
        XCTAssertEqual(unparsed.first?.blob(0).utf8String, "no header at all")
        XCTAssertTrue(unparsed.first?.string(1).hasPrefix("input.unrecognized: no parser recognised the line") == true, unparsed.first?.string(1) ?? "")
        // The signal points at a stored event.
        let stored = try db.query("SELECT fields FROM events WHERE id = ?", [.text(ssh.1.eventIds[0])])
        XCTAssertTrue(stored.first?.string(0).contains("\"user.name\":\"admin\"") == true)
    }

    func testGracefulShutdownOnSIGTERMExitsZero() throws {
        try stack.startCore()
        let procs = stack.processes
        let t0 = Date()
        for (_, p) in procs { kill(p.processIdentifier, SIGTERM) }
        for (name, p) in procs {
            while p.isRunning && Date().timeIntervalSince(t0) < 10 { usleep(20_000) }
            XCTAssertFalse(p.isRunning, "\(name) still running 10 s after SIGTERM")
            if !p.isRunning { XCTAssertEqual(p.terminationStatus, 0, "\(name) exit status") }
        }
    }

    func testBadConfigurationExitsWithPreciseMessage() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: stack.binDir + "/vigil-ingest")
        p.arguments = ["--data", stack.dir, "--partitons", "8"]
        let pipe = Pipe()
        p.standardError = pipe
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 2)
        let msg = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(msg.contains("unknown flag --partitons"), msg)
        XCTAssertTrue(msg.contains("--partitions"), "suggests the near key: \(msg)")
        // A bad value found while starting exits the same way, naming the key.
        for (binary, key, value, expected) in [("vigil-ingest", "memory.keep-freed-mb", "99999", "expected 0 to 2047"),
                                               ("vigil-enrichment", "store.checkpoint", "sometimes", "expected background or inline"),
                                               ("vigil-broker", "memory.keep-freed-mb", "-1", "expected 0 to 2047"),
                                               ("vigil-detection", "rules.lateness", "soon", "is not a duration")] {
            let q = Process()
            q.executableURL = URL(fileURLWithPath: stack.binDir + "/" + binary)
            q.arguments = ["--data", stack.dir + "/bad-\(binary)", "--" + key, value]
            let err = Pipe()
            q.standardError = err
            try q.run()
            // A check that regressed would leave the service running: stop it and fail instead of hanging.
            let deadline = Date().addingTimeInterval(10)
            while q.isRunning && Date() < deadline { usleep(20_000) }
            if q.isRunning { q.terminate(); q.waitUntilExit(); XCTFail("\(binary) --\(key) \(value) did not exit"); continue }
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(q.terminationStatus, 2, "\(binary) --\(key) \(value): \(text)")
            XCTAssertTrue(text.contains(key) && text.contains(expected), "\(binary): \(text)")
        }
    }
}

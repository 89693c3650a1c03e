import Foundation
import XCTest
import VigilBus
import VigilLog
#if canImport(Glibc)
import Glibc
#endif

/// `vigil up` / `status` / `down`: the local stack as a user runs it.
final class SupervisorTests: XCTestCase {
    func vigil(_ stack: TestStack, _ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: stack.binDir + "/vigil")
        p.arguments = args + ["--data", stack.dir]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func testUpStatusRestartAndDown() throws {
        let stack = try TestStack()
        defer {
            _ = try? vigil(stack, ["down"])
            stack.cleanup()
        }
        try FileManager.default.createDirectory(atPath: stack.dir + "/config", withIntermediateDirectories: true)
        try "{\"syslog.udp\": \"127.0.0.1:\(stack.syslogPort)\", \"syslog.tcp\": \"127.0.0.1:\(stack.syslogPort)\", \"json.tcp\": \"127.0.0.1:\(stack.jsonPort)\"}"
            .write(toFile: stack.dir + "/config/ingest.json", atomically: true, encoding: .utf8)

        let (upStatus, upOut) = try vigil(stack, ["up", "--timeout", "40"])
        XCTAssertEqual(upStatus, 0, upOut)
        XCTAssertTrue(upOut.contains("Vigil is up."), upOut)
        for name in ["broker", "ingest-0", "enrichment-0", "detection-0"] {
            XCTAssertTrue(upOut.split(separator: "\n").contains { $0.hasPrefix(name) && $0.contains(" ok ") }, "\(name) healthy in:\n\(upOut)")
        }

        // Kill a service hard: the supervisor restarts it and says so.
        let (_, json) = try vigil(stack, ["status", "--json"])
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let services = try XCTUnwrap(obj["services"] as? [[String: Any]])
        let enrichment = try XCTUnwrap(services.first { $0["name"] as? String == "enrichment-0" })
        let oldPid = try XCTUnwrap(enrichment["pid"] as? Int)
        kill(pid_t(oldPid), SIGKILL)
        try stack.eventually(timeoutMs: 20_000, "enrichment restarted") {
            let (_, j) = try self.vigil(stack, ["status", "--json"])
            let o = try JSONSerialization.jsonObject(with: Data(j.utf8)) as? [String: Any]
            let e = (o?["services"] as? [[String: Any]])?.first { $0["name"] as? String == "enrichment-0" }
            return (e?["pid"] as? Int).map { $0 != oldPid && $0 > 0 } == true && e?["health"] as? String == "ok"
                && (e?["restarts"] as? Int ?? 0) >= 1
        }
        let supervisorLog = (try? String(contentsOfFile: stack.dir + "/logs/supervisor.log", encoding: .utf8)) ?? ""
        XCTAssertTrue(supervisorLog.contains("enrichment-0 exited (signal 9)"), supervisorLog)

        let (downStatus, downOut) = try vigil(stack, ["down"])
        XCTAssertEqual(downStatus, 0, downOut)
        // Nothing of this stack is left running.
        let (_, after) = try vigil(stack, ["status", "--json"])
        let a = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(after.utf8)) as? [String: Any])
        XCTAssertEqual(a["running"] as? Bool, false)
        for s in (a["services"] as? [[String: Any]]) ?? [] {
            XCTAssertNotEqual(s["health"] as? String, "ok", "\(s["name"] ?? "?") still answering after down")
        }
    }

    func testUnknownCommandIsAPreciseError() throws {
        let stack = try TestStack()
        defer { stack.cleanup() }
        let (status, out) = try vigil(stack, ["stauts"])
        XCTAssertEqual(status, 2)
        XCTAssertTrue(out.contains("unknown command 'stauts'"), out)
    }
}

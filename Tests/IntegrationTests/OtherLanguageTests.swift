import Foundation
import XCTest
import VigilBus
import VigilLog

/// The wire contract is usable from another language with only the .proto files:
/// protoc generates Python code, pyzmq subscribes through the broker and decodes a signal.
final class OtherLanguageTests: XCTestCase {
    func repoRoot() -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    func testPythonSubscriberDecodesASignal() throws {
        guard FileManager.default.fileExists(atPath: "/usr/bin/protoc"), FileManager.default.fileExists(atPath: "/usr/bin/python3") else {
            throw TestSetupError(message: "/usr/bin/protoc or /usr/bin/python3 missing: run scripts/install-deps.sh")
        }
        let stack = try TestStack()
        defer { stack.cleanup() }
        try stack.startCore()

        let gen = stack.dir + "/py"
        try FileManager.default.createDirectory(atPath: gen, withIntermediateDirectories: true)
        let protoc = Process()
        protoc.executableURL = URL(fileURLWithPath: "/usr/bin/protoc")
        let protos = try FileManager.default.contentsOfDirectory(atPath: repoRoot() + "/Protos/vigil/v1").filter { $0.hasSuffix(".proto") }
        protoc.arguments = ["--proto_path=\(repoRoot())/Protos", "--python_out=\(gen)"] + protos.map { "vigil/v1/\($0)" }
        try protoc.run()
        protoc.waitUntilExit()
        XCTAssertEqual(protoc.terminationStatus, 0, "protoc generates Python from Protos/")

        let py = Process()
        py.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        py.arguments = [repoRoot() + "/Tests/IntegrationTests/python/subscribe_signal.py", gen, stack.endpoints.subscribe, "25"]
        let out = Pipe()
        py.standardOutput = out
        try py.run()
        defer { if py.isRunning { py.terminate() } }
        // Wait for "ready", then keep sending a failed login until the subscriber has one.
        let handle = out.fileHandleForReading
        var text = ""
        let deadline = Date().addingTimeInterval(30)
        var n = 0
        while py.isRunning && Date() < deadline {
            if text.contains("ready") {
                n += 1
                try stack.sendSyslog(["<38>Dec  4 09:15:11 web01 sshd[9]: Failed password for mallory from 198.51.100.\(n) port 22 ssh2"], tcp: false)
            } else {
                text += String(decoding: handle.availableData, as: UTF8.self)
            }
            usleep(300_000)
        }
        py.waitUntilExit()
        text += String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(py.terminationStatus, 0, "python output: \(text)")
        let jsonLine = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("{") })
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(jsonLine.utf8)) as? [String: Any])
        XCTAssertEqual(obj["topic"] as? String, "signals.medium.credential-access")
        XCTAssertEqual(obj["criticality"] as? String, "CRITICALITY_MEDIUM")
        XCTAssertEqual(obj["user"] as? String, "mallory")
        XCTAssertEqual(obj["technique"] as? String, "T1110")
        XCTAssertEqual(obj["producer"] as? String, "detection-0")
        XCTAssertEqual((obj["event_ids"] as? [String])?.count, 1)
    }
}

import Foundation
import XCTest

/// compose/docker-compose.yml runs the same binaries over tcp://; no Docker engine runs here,
/// so check_compose.py parses it and compares every service, endpoint, port and volume with
/// what the binaries themselves report (`--print-config`).
final class ComposeTests: XCTestCase {
    func testComposeFileMatchesTheCode() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: "/usr/bin/python3") else { throw TestSetupError(message: "/usr/bin/python3 missing: run scripts/install-deps.sh") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = [repo + "/Tests/IntegrationTests/python/check_compose.py", "--compose", repo + "/compose/docker-compose.yml",
                       "--bin", TestStack.buildDirectory()]
        p.currentDirectoryURL = URL(fileURLWithPath: repo)
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, text)
        XCTAssertFalse(text.contains("FAIL"), text)
        XCTAssertTrue(text.contains("ok"), text)
    }
}

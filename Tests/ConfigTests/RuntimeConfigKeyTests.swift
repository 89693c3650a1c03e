import Foundation
import XCTest
import VigilService

/// CURVE keys given inline or as @FILE. '@' is also a Z85 digit, so a generated key can start
/// with it (about one key in 85): such a key must not be taken for a file name.
final class RuntimeConfigKeyTests: XCTestCase {
    func testAnInlineKeyStartingWithAtIsAKey() throws {
        let key = "@" + String(repeating: "a", count: 39), server = "@" + String(repeating: "c", count: 39)
        let cfg = try RuntimeConfig.load(service: "test", arguments: ["--curve.secret", key, "--curve.server-public", server], environment: [:])
        XCTAssertEqual(try cfg.key("curve.secret"), key)
        XCTAssertEqual(try cfg.key("curve.server-public"), server)
    }

    func testAtFileReadsTheKeyAndAMissingFileIsAPreciseError() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-keytest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = String(repeating: "b", count: 40)
        try "# secret\n\(key)\n".write(to: dir.appendingPathComponent("k"), atomically: true, encoding: .utf8)
        let server = String(repeating: "c", count: 40)
        let cfg = try RuntimeConfig.load(service: "test", arguments: ["--curve.secret", "@" + dir.appendingPathComponent("k").path,
                                                                      "--curve.server-public", server], environment: [:])
        XCTAssertEqual(try cfg.key("curve.secret"), key)
        XCTAssertThrowsError(try RuntimeConfig.load(service: "test", arguments: ["--curve.secret", "@" + dir.appendingPathComponent("nope").path,
                                                                                 "--curve.server-public", server], environment: [:])) { e in
            XCTAssertTrue("\(e)".contains("cannot read"), "\(e)")
        }
    }
}

import XCTest
import Foundation
@testable import AgentCore

/// The file follower and the profile checks, on real files in a temp dir.
final class TailerTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "tailer-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func append(_ path: String, _ text: String) {
        if let h = FileHandle(forWritingAtPath: path) { h.seekToEndOfFile(); h.write(Data(text.utf8)); h.closeFile() }
        else { _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) }
    }

    func read(_ f: TailedFile, maxLines: Int = 1000) -> [String] {
        var out: [TailLine] = []
        f.read(maxBytes: 1 << 20, maxLines: maxLines, into: &out)
        return out.map { String(decoding: $0.bytes, as: UTF8.self) }
    }

    func testCompleteLinesOnlyLongLinesCutAndPositionsExact() throws {
        let p = dir + "/a.log"
        append(p, "one\r\ntwo\n\nthr")
        let f = TailedFile(path: p, saved: nil, maxLineBytes: 8)
        XCTAssertEqual(read(f), ["one", "two"], "CR dropped, empty lines skipped, the partial line waits")
        append(p, "ee\n0123456789abc\n")
        XCTAssertEqual(read(f), ["three", "01234567", "89abc"])
        XCTAssertEqual(f.cutLines, 1)
        let size = try XCTUnwrap(TailedFile.identity(p)).2
        XCTAssertEqual(f.position?.offset, size)
        // maxLines stops early; the rest comes next time, from the exact byte.
        append(p, "a\nb\nc\n")
        XCTAssertEqual(read(f, maxLines: 2), ["a", "b"])
        XCTAssertEqual(read(f), ["c"])
    }

    func testRotationTruncationAndResumeFromSavedInode() throws {
        let p = dir + "/app.log"
        append(p, "1\n2\n")
        let f = TailedFile(path: p, saved: nil, maxLineBytes: 1024)
        XCTAssertEqual(read(f), ["1", "2"])
        try FileManager.default.moveItem(atPath: p, toPath: p + ".1")
        append(p + ".1", "3\n")
        append(p, "4\n")
        var got: [String] = []
        for _ in 0..<6 { got += read(f) }
        XCTAssertEqual(got, ["3", "4"], "the old file is finished before the new one starts")
        XCTAssertEqual(f.rotations, 1)
        // copytruncate refilled to the old size between two looks: recognized by the first bytes.
        truncate(p, 0)
        append(p, "5\n")
        XCTAssertEqual(read(f), ["5"])
        XCTAssertEqual(f.truncations, 1)
        // A new follower from a saved position whose file was rotated away meanwhile.
        let saved = try XCTUnwrap(f.position)
        f.close()
        append(p, "6\n")
        try FileManager.default.moveItem(atPath: p, toPath: p + ".2")
        append(p, "7\n")
        let g = TailedFile(path: p, saved: saved, maxLineBytes: 1024)
        got = []
        for _ in 0..<6 { got += read(g) }
        XCTAssertEqual(got, ["6", "7"])
        let fresh = TailedFile(path: p, saved: nil, maxLineBytes: 1024)
        fresh.startAtEnd = true
        XCTAssertEqual(read(fresh), [], "start-at end skips what is there")
    }

    func testProfileChecks() throws {
        func problem(_ profile: String) -> String {
            do { _ = try AgentProfile.parse(#"{"profile": \#(profile)}"#); return "" } catch { return "\(error)" }
        }
        XCTAssertEqual(problem(#"{"logs": ["/var/log/*.log"], "journal": ["sshd.service"], "rate_limit": 5}"#), "")
        XCTAssertEqual(problem(#"{"logs": ["var/log/x"], "journal": []}"#),
                       "logs[0]: 'var/log/x' is not an absolute path (logs are absolute file paths or globs such as /var/log/*.log)")
        XCTAssertEqual(problem(#"{"logs": ["/var/log/"], "journal": []}"#),
                       "logs[0]: '/var/log/' names a directory; add a file name or glob (e.g. /var/log/nginx/*.log)")
        XCTAssertEqual(problem(#"{"logs": ["/x/[ab.log"], "journal": []}"#), "logs[0]: '/x/[ab.log' has an unclosed '[' in its glob")
        XCTAssertEqual(problem(#"{"logs": [], "journal": ["a b"]}"#), "journal[0]: must be a systemd unit name such as sshd.service")
        XCTAssertEqual(problem(#"{"logs": [], "journal": [], "rate_limit": -1}"#), "rate_limit: must be ≥ 0 events per second")
        append(dir + "/x.log", "")
        append(dir + "/y.log", "")
        append(dir + "/z.txt", "")
        var p = AgentProfile()
        p.logs = [dir + "/*.log", dir + "/x.log"]
        XCTAssertEqual(p.files(), [dir + "/x.log", dir + "/y.log"])
    }
}

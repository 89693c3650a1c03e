import Foundation
import XCTest
import VigilTestSupport
import VigilHTTP
@testable import VigilIntel
#if canImport(Glibc)
import Glibc
#endif

/// `python3 -m http.server` on a free loopback port, serving a temp directory; stopped by pid.
final class PythonHTTPServer {
    let dir: String
    let port: UInt16
    let process = Process()

    init() throws {
        dir = NSTemporaryDirectory() + "vigil-http-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        port = FreePort.next()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", dir]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready when it accepts a connection.
        for _ in 0..<100 {
            if Self.accepts(port) { return }
            usleep(50_000)
        }
        stop()
        throw TestSetupError(message: "python http.server did not start on port \(port)")
    }

    func url(_ file: String) -> String { "http://127.0.0.1:\(port)/\(file)" }
    func write(_ file: String, _ text: String) throws { try text.write(toFile: "\(dir)/\(file)", atomically: true, encoding: .utf8) }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM); process.waitUntilExit() }
        try? FileManager.default.removeItem(atPath: dir)
    }

    static func accepts(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = port.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr)
        return withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
    }

}

final class HTTPTests: XCTestCase {
    func testGetConditionalGetErrorsAndLimits() throws {
        let server = try PythonHTTPServer()
        defer { server.stop() }
        try server.write("list.txt", "198.51.100.1\nevil.example\n")

        let r = try HTTPClient.get(HTTPRequest(url: server.url("list.txt")))
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(String(decoding: r.body, as: UTF8.self), "198.51.100.1\nevil.example\n")
        XCTAssertFalse(r.lastModified.isEmpty, "http.server sends Last-Modified")

        var again = HTTPRequest(url: server.url("list.txt"))
        again.lastModified = r.lastModified
        XCTAssertTrue(try HTTPClient.get(again).notModified, "If-Modified-Since gives 304")

        XCTAssertEqual(try HTTPClient.get(HTTPRequest(url: server.url("missing.txt"))).status, 404)

        var small = HTTPRequest(url: server.url("list.txt"))
        small.maxBytes = 5
        XCTAssertThrowsError(try HTTPClient.get(small)) { XCTAssertEqual(($0 as? HTTPError)?.code, .tooLarge) }

        let closed = FreePort.next()
        XCTAssertThrowsError(try HTTPClient.get(HTTPRequest(url: "http://127.0.0.1:\(closed)/x"))) {
            XCTAssertEqual(($0 as? HTTPError)?.code, .transport)
        }
        XCTAssertThrowsError(try HTTPClient.get(HTTPRequest(url: "ftp://127.0.0.1/x"))) {
            XCTAssertEqual(($0 as? HTTPError)?.code, .invalidURL)
        }
    }

    func testFeedLoaderReportsEachFailureAndParsesSuccess() throws {
        let server = try PythonHTTPServer()
        defer { server.stop() }
        try server.write("list.txt", "198.51.100.1\n")
        var f = FeedConfig(name: "web", format: .plain, location: server.url("list.txt"))
        guard case .loaded(let p, let set, let v) = FeedLoader.load(f, validators: .init(), nowMs: now) else { return XCTFail("not loaded") }
        XCTAssertEqual(p.indicators.count, 1)
        XCTAssertEqual(set.count, 1)
        guard case .notModified = FeedLoader.load(f, validators: v, nowMs: now) else { return XCTFail("expected 304") }

        f.location = server.url("gone.txt")
        guard case .failed(let e) = FeedLoader.load(f, validators: .init(), nowMs: now) else { return XCTFail("404 loaded") }
        XCTAssertEqual(e.code, .unreachable)
        XCTAssertTrue(e.message.contains("HTTP 404"), e.message)

        let missing = FeedConfig(name: "file", format: .plain, location: "/nonexistent/list.txt")
        guard case .failed(let m) = FeedLoader.load(missing, validators: .init(), nowMs: now) else { return XCTFail("missing file loaded") }
        XCTAssertEqual(m.description, "unreachable: feed 'file': file /nonexistent/list.txt does not exist")
    }
}

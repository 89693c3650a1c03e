import Foundation
import XCTest
@testable import VigilTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The ports tests give their servers: never the same one twice in a process (a repeat made
/// ingest's syslog listener and the broker's endpoint collide in CI), each bindable for TCP and UDP.
final class FreePortTests: XCTestCase {
    func testPortsAreDistinctAndBindable() {
        let ports = FreePort.next(200)
        XCTAssertFalse(ports.contains(0), "a port was found every time")
        XCTAssertEqual(Set(ports).count, ports.count, "no port handed out twice")
        for port in ports.prefix(20) {
            for kind in [SOCK_STREAM, SOCK_DGRAM] {
                let fd = socket(AF_INET, Int32(kind.rawValue), 0)
                var sa = sockaddr_in()
                sa.sin_family = sa_family_t(AF_INET)
                sa.sin_port = port.bigEndian
                inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr)
                let rc = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
                close(fd)
                XCTAssertEqual(rc, 0, "port \(port) bindable (\(kind == SOCK_STREAM ? "tcp" : "udp"))")
            }
        }
    }

    /// Another process's reservation keeps a port from being handed out here; a stale one
    /// (older than ten minutes, its process gone without cleaning up) is taken over.
    func testAPortReservedElsewhereIsNotHandedOut() throws {
        try FileManager.default.createDirectory(atPath: FreePort.reservationDirectory, withIntermediateDirectories: true)
        var port: UInt16 = 0
        for candidate in UInt16(40_000)..<UInt16(40_500) where !FileManager.default.fileExists(atPath: "\(FreePort.reservationDirectory)/\(candidate)") {
            port = candidate; break
        }
        XCTAssertNotEqual(port, 0)
        let path = "\(FreePort.reservationDirectory)/\(port)"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil), "reserved as another process would")
        defer { unlink(path) }
        XCTAssertFalse(FreePort.reserve(port), "a fresh reservation of another process holds")
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-3600)], ofItemAtPath: path)
        XCTAssertTrue(FreePort.reserve(port), "a stale reservation is taken over")
        XCTAssertFalse(FreePort.reserve(port), "and is then held by this process")
    }
}

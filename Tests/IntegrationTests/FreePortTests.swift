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

    /// Another process's claim (an exclusive flock on the port's file) keeps a port from being
    /// handed out here, and once it is let go (that process ended) the port can be claimed.
    func testAPortClaimedElsewhereIsNotHandedOut() throws {
        var port: UInt16 = 0, fd: Int32 = -1
        for candidate in UInt16(40_000)..<UInt16(40_500) {
            mkdir(FreePort.reservationDirectory, 0o777)
            let f = open("\(FreePort.reservationDirectory)/\(candidate)", O_CREAT | O_RDWR | O_CLOEXEC, 0o666)
            if f >= 0 && flock(f, LOCK_EX | LOCK_NB) == 0 { port = candidate; fd = f; break }
            if f >= 0 { close(f) }
        }
        XCTAssertNotEqual(port, 0, "a port claimed as another process would")
        XCTAssertFalse(FreePort.reserve(port), "another claim holds")
        close(fd) // as when that process ends, however it ends
        XCTAssertTrue(FreePort.reserve(port), "a claim let go can be made")
        XCTAssertFalse(FreePort.reserve(port), "and is then held by this process")
    }
}

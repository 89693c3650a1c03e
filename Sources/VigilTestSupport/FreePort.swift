import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Loopback ports for tests' servers. The kernel may give the same free port to two
/// `bind(0)` calls once the first socket is closed, so a test that picks its ports one by
/// one (a syslog listener, then the broker's three endpoints) could get one twice and fail
/// with "Address already in use". Ports are therefore handed out at most once per process,
/// and reserved across processes too (`swift test --parallel` runs each test in a process of
/// its own): an exclusive `flock` on a file per port in `reservationDirectory`, held until the
/// process ends — the kernel releases it however the process ends, so a crashed test leaves
/// no claim behind. The files are removed at a normal exit.
public enum FreePort {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var handedOut: Set<UInt16> = []
    static let reservationDirectory = "/tmp/vigil-test-ports"

    /// A port above 1024 that was free a moment ago on 127.0.0.1 for both TCP and UDP and
    /// that this process has not been given before. 0 when none could be found.
    public static func next() -> UInt16 {
        lock.lock()
        defer { lock.unlock() }
        for _ in 0..<200 {
            let port = kernelChosenTCPPort()
            guard port > 1024, !handedOut.contains(port), udpBindable(port), reserve(port) else { continue }
            handedOut.insert(port)
            return port
        }
        return 0
    }

    /// `count` distinct ports.
    public static func next(_ count: Int) -> [UInt16] { (0..<count).map { _ in next() } }

    /// Claims `port` for this process among all processes using `FreePort`. Where the claim
    /// cannot be made at all (no such directory can be written), the in-process check stands alone.
    static func reserve(_ port: UInt16) -> Bool {
        let path = "\(reservationDirectory)/\(port)"
        for _ in 0..<3 {
            if mkdir(reservationDirectory, 0o777) == 0 { chmod(reservationDirectory, 0o1777) }
            let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o666)
            if fd < 0 {
                if errno == ENOENT { continue } // another process's exit just removed the empty directory
                return true
            }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
                close(fd)
                return false
            }
            if held.isEmpty { atexit { FreePort.releaseAll() } }
            held.append((fd, path))
            return true
        }
        return true
    }

    nonisolated(unsafe) private static var held: [(fd: Int32, path: String)] = []

    /// Removes this process's claim files and lets go of them (at exit), and the directory once
    /// it is empty.
    static func releaseAll() {
        for (fd, path) in held {
            unlink(path)
            close(fd)
        }
        held.removeAll()
        rmdir(reservationDirectory) // only when no other process holds a port
    }

    private static func loopback(_ port: UInt16) -> sockaddr_in {
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = port.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr)
        return sa
    }

    private static func kernelChosenTCPPort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var sa = loopback(0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        guard bound == 0 else { return 0 }
        let named = withUnsafeMutablePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return named == 0 ? UInt16(bigEndian: sa.sin_port) : 0
    }

    private static func udpBindable(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var sa = loopback(port)
        return withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
    }
}

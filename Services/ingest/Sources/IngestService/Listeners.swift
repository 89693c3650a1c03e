import Foundation
import VigilBus
import VigilLog
import VigilService
#if canImport(Glibc)
import Glibc
#endif

/// Lines received from the network, handed to the parse workers over inproc sockets as
/// `LineBatch` messages [source, sender, lines] (each listener thread owns its own PUSH socket).
struct NetworkAddress: Sendable, CustomStringConvertible {
    var host: String
    var port: UInt16
    var description: String { "\(host):\(port)" }

    /// Parses "host:port"; "off" disables a listener.
    static func parse(_ s: String, key: String) throws -> NetworkAddress? {
        if s == "off" || s.isEmpty { return nil }
        guard let colon = s.lastIndex(of: ":"), let port = UInt16(s[s.index(after: colon)...]) else {
            throw IngestError(code: .badConfig, message: "\(key): expected host:port or off, got '\(s)'")
        }
        return NetworkAddress(host: String(s[..<colon]), port: port)
    }
}

struct IngestError: Error, CustomStringConvertible {
    enum Code: String { case badConfig, bind }
    var code: Code
    var message: String
    var description: String { "\(code.rawValue): \(message)" }
}

enum Sockets {
    static func ipv4(_ addr: NetworkAddress) throws -> sockaddr_in {
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = addr.port.bigEndian
        guard inet_pton(AF_INET, addr.host, &sa.sin_addr) == 1 else {
            throw IngestError(code: .badConfig, message: "'\(addr.host)' is not an IPv4 address")
        }
        return sa
    }

    static func bind(_ fd: Int32, _ addr: NetworkAddress) throws {
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var sa = try ipv4(addr)
        let rc = withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 {
            let e = String(cString: strerror(errno))
            close(fd)
            throw IngestError(code: .bind, message: "cannot bind \(addr): \(e)")
        }
    }

    static func setReceiveTimeout(_ fd: Int32, ms: Int) {
        var tv = timeval(tv_sec: ms / 1000, tv_usec: (ms % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    static func peer(_ sa: sockaddr_in) -> String {
        var a = sa.sin_addr
        var buf = [CChar](repeating: 0, count: 64)
        inet_ntop(AF_INET, &a, &buf, 64)
        return "\(String(cString: buf)):\(UInt16(bigEndian: sa.sin_port))"
    }
}

/// Counters the listener threads update and the service loop reads (for `sys.metrics`).
final class ListenerStats: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String: UInt64] = [:]
    func add(_ key: String, _ n: Int) {
        guard n > 0 else { return }
        lock.lock(); values[key, default: 0] += UInt64(n); lock.unlock()
    }
    var snapshot: [String: UInt64] { lock.lock(); defer { lock.unlock() }; return values }
}

/// Network listener threads: one for the UDP socket, one accepting per TCP port and one per
/// TCP connection. Each pushes `LineBatch` messages [source, sender, lines] to ONE parse worker's inproc
/// PULL socket (each thread owns its PUSH socket; threads are spread over the workers in
/// turn): one worker per connection keeps its lines in order even with several workers.
/// They stop when `ShutdownSignal`/`stop` is set (socket timeouts of 200 ms).
final class Listeners: @unchecked Sendable {
    let context: ZContext
    /// The parse workers' PULL endpoints.
    let endpoints: [String]
    let logger: Logger
    let maxLineBytes: Int
    let stats = ListenerStats()
    private let stopFlag = StopFlag()
    private let assignLock = NSLock()
    private var assigned = 0

    /// The worker endpoint for the next listener thread or connection (in turn).
    func nextEndpoint() -> String {
        assignLock.lock(); defer { assignLock.unlock() }
        assigned += 1
        return endpoints[(assigned - 1) % endpoints.count]
    }
    /// Inode of the UDP socket, to find its kernel drop counter in /proc/net/udp.
    private(set) var udpInode: UInt64?

    init(context: ZContext, logger: Logger, endpoints: [String], maxLineBytes: Int) {
        self.context = context
        self.endpoints = endpoints
        self.logger = logger
        self.maxLineBytes = maxLineBytes
    }

    func stop() { stopFlag.set() }

    func startUDP(_ addr: NetworkAddress, receiveBuffer: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        try Sockets.bind(fd, addr)
        // The kernel caps this at net.core.rmem_max (and doubles it for bookkeeping).
        var size = Int32(clamping: receiveBuffer)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        Sockets.setReceiveTimeout(fd, ms: 200)
        var st = stat()
        if fstat(fd, &st) == 0 { udpInode = UInt64(st.st_ino) }
        let ctx = context, stop = stopFlag, log = logger, stats = stats, endpoint = nextEndpoint()
        Thread.detachNewThread {
            Thread.current.name = "udp-listener"
            guard let push = try? ZSocket(ctx, .push) else { return }
            try? push.setHighWaterMarks(send: 1_000_000, receive: 1_000_000)
            try? push.connect(endpoint)
            var buf = [UInt8](repeating: 0, count: 65_536)
            let source = Array("syslog-udp".utf8)
            while !stop.isSet {
                var sa = sockaddr_in()
                var len = socklen_t(MemoryLayout<sockaddr_in>.size)
                let n = buf.withUnsafeMutableBytes { b in
                    withUnsafeMutablePointer(to: &sa) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, b.baseAddress, b.count, 0, $0, &len) }
                    }
                }
                if n <= 0 { continue }
                stats.add("udp.received", 1)
                var end = n
                while end > 0, buf[end - 1] == 10 || buf[end - 1] == 13 { end -= 1 }
                var one = LineBatch()
                one.add(buf[0..<end])
                _ = try? push.send([source, Array(Sockets.peer(sa).utf8), one.bytes])
            }
            push.close()
            close(fd)
            log.debug("udp listener stopped")
        }
        logger.info("listening", ["transport": "syslog-udp", "address": addr.description])
    }

    /// A TCP listener whose connections are framed as syslog (RFC 6587, `octetCounting`) or
    /// as plain newline-delimited lines; every message is tagged with `source`.
    func startTCP(_ addr: NetworkAddress, source: String, octetCounting: Bool) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try Sockets.bind(fd, addr)
        guard listen(fd, 128) == 0 else { throw IngestError(code: .bind, message: "listen on \(addr) failed") }
        Sockets.setReceiveTimeout(fd, ms: 200)
        let stop = stopFlag
        Thread.detachNewThread { [self] in
            Thread.current.name = "tcp-listener"
            while !stop.isSet {
                var sa = sockaddr_in()
                var len = socklen_t(MemoryLayout<sockaddr_in>.size)
                let conn = withUnsafeMutablePointer(to: &sa) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(fd, $0, &len) }
                }
                if conn < 0 { continue }
                let peer = Sockets.peer(sa)
                Thread.detachNewThread { [self] in
                    Thread.current.name = "tcp-connection"
                    self.serveTCP(conn, peer: peer, source: source, octetCounting: octetCounting)
                }
            }
            close(fd)
        }
        logger.info("listening", ["transport": source, "address": addr.description])
    }

    /// One TCP connection. Back-pressure: when the ingest loop (or the parse workers) fall
    /// behind, the inproc PUSH blocks at its high-water mark, this thread stops reading and
    /// TCP slows the sender.
    private func serveTCP(_ fd: Int32, peer: String, source: String, octetCounting: Bool) {
        defer { close(fd) }
        Sockets.setReceiveTimeout(fd, ms: 200)
        guard let push = try? ZSocket(context, .push) else { return }
        defer { push.close() }
        // Messages hold what one recv() brought (up to 64 KiB of lines). An inproc pipe holds
        // both ends' marks: 1024 here plus the parse worker's 1024, so 128 MiB at most per
        // connection before this thread stops reading and TCP pushes back.
        try? push.setHighWaterMarks(send: 1024, receive: 1024)
        try? push.connect(nextEndpoint())
        let src = Array(source.utf8), sender = Array(peer.utf8)
        var framer = LineFramer(maxLineBytes: maxLineBytes, octetCounting: octetCounting)
        var buf = [UInt8](repeating: 0, count: 65_536)
        var cutsReported = 0
        var lines = LineBatch()
        while !stopFlag.isSet {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            if n < 0 { if errno == EAGAIN || errno == EINTR { continue } else { break } }
            lines.removeAll()
            for line in framer.feed(buf[0..<n]) { lines.add(line) }
            if lines.count > 0 { _ = try? push.send([src, sender, lines.bytes]) }
            if framer.cuts > cutsReported {
                stats.add("\(source).lines_cut", framer.cuts - cutsReported)
                cutsReported = framer.cuts
            }
        }
        if let rest = framer.finish() {
            lines.removeAll()
            lines.add(rest)
            _ = try? push.send([src, sender, lines.bytes])
        }
    }
}

final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value || ShutdownSignal.requested }
}

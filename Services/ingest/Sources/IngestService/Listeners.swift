import Foundation
import VigilBus
import VigilLog
import VigilService
#if canImport(Glibc)
import Glibc
#endif

/// A line received from the network, handed to the ingest loop over an inproc socket as
/// frames [source, sender, bytes] (each listener thread owns its own PUSH socket).
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

/// Listener threads. They stop when `ShutdownSignal`/`stop` is set (socket timeouts of 200 ms).
final class SyslogListeners: @unchecked Sendable {
    static let inprocEndpoint = "inproc://ingest-lines"
    let context: ZContext
    let logger: Logger
    let maxLineBytes: Int
    private let stopFlag = StopFlag()

    init(context: ZContext, logger: Logger, maxLineBytes: Int) {
        self.context = context
        self.logger = logger
        self.maxLineBytes = maxLineBytes
    }

    func stop() { stopFlag.set() }

    func startUDP(_ addr: NetworkAddress) throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        try Sockets.bind(fd, addr)
        var size: Int32 = 8 * 1024 * 1024
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        Sockets.setReceiveTimeout(fd, ms: 200)
        let ctx = context, stop = stopFlag, log = logger
        Thread.detachNewThread {
            guard let push = try? ZSocket(ctx, .push) else { return }
            try? push.setHighWaterMarks(send: 1_000_000, receive: 1_000_000)
            try? push.connect(SyslogListeners.inprocEndpoint)
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
                var line = Array(buf[0..<n])
                while let last = line.last, last == 10 || last == 13 { line.removeLast() }
                _ = try? push.send([source, Array(Sockets.peer(sa).utf8), line])
            }
            push.close()
            close(fd)
            log.debug("udp listener stopped")
        }
        logger.info("listening", ["transport": "syslog-udp", "address": addr.description])
    }

    func startTCP(_ addr: NetworkAddress) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try Sockets.bind(fd, addr)
        guard listen(fd, 128) == 0 else { throw IngestError(code: .bind, message: "listen on \(addr) failed") }
        Sockets.setReceiveTimeout(fd, ms: 200)
        let stop = stopFlag
        Thread.detachNewThread { [self] in
            while !stop.isSet {
                var sa = sockaddr_in()
                var len = socklen_t(MemoryLayout<sockaddr_in>.size)
                let conn = withUnsafeMutablePointer(to: &sa) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(fd, $0, &len) }
                }
                if conn < 0 { continue }
                let peer = Sockets.peer(sa)
                Thread.detachNewThread { [self] in self.serveTCP(conn, peer: peer) }
            }
            close(fd)
        }
        logger.info("listening", ["transport": "syslog-tcp", "address": addr.description])
    }

    /// One TCP connection: RFC 6587 framing, octet counting ("123 <msg>") or newline-delimited.
    private func serveTCP(_ fd: Int32, peer: String) {
        defer { close(fd) }
        Sockets.setReceiveTimeout(fd, ms: 200)
        guard let push = try? ZSocket(context, .push) else { return }
        defer { push.close() }
        try? push.setHighWaterMarks(send: 1_000_000, receive: 1_000_000)
        try? push.connect(SyslogListeners.inprocEndpoint)
        let source = Array("syslog-tcp".utf8), sender = Array(peer.utf8)
        var framer = SyslogFramer(maxLineBytes: maxLineBytes)
        var buf = [UInt8](repeating: 0, count: 65_536)
        while !stopFlag.isSet {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            if n < 0 { if errno == EAGAIN || errno == EINTR { continue } else { break } }
            for line in framer.feed(buf[0..<n]) { _ = try? push.send([source, sender, line]) }
        }
        if let rest = framer.finish() { _ = try? push.send([source, sender, rest]) }
    }
}

final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value || ShutdownSignal.requested }
}

/// Splits a TCP byte stream into syslog messages (RFC 6587): octet-counted frames when a
/// message starts with digits and a space, otherwise newline-terminated lines. A line longer
/// than `maxLineBytes` is cut there (the cut is kept as its own message, not dropped).
struct SyslogFramer {
    let maxLineBytes: Int
    private var buffer: [UInt8] = []

    init(maxLineBytes: Int) { self.maxLineBytes = maxLineBytes }

    mutating func feed(_ bytes: ArraySlice<UInt8>) -> [[UInt8]] {
        buffer.append(contentsOf: bytes)
        var out: [[UInt8]] = []
        var start = 0
        while start < buffer.count {
            // Octet counting: DIGITS SP MSG
            var i = start
            while i < buffer.count, i - start < 7, buffer[i] >= 48, buffer[i] <= 57 { i += 1 }
            if i > start, i < buffer.count, buffer[i] == 32, buffer[start] != 48,
               let len = Int(String(decoding: buffer[start..<i], as: UTF8.self)), len <= maxLineBytes {
                let msgStart = i + 1
                if buffer.count - msgStart < len { break }
                out.append(trimmed(buffer[msgStart..<(msgStart + len)]))
                start = msgStart + len
                continue
            }
            if i == buffer.count && i - start < 7 { break } // could still become an octet count
            guard let nl = buffer[start...].firstIndex(of: 10) else {
                if buffer.count - start >= maxLineBytes {
                    out.append(Array(buffer[start..<(start + maxLineBytes)]))
                    start += maxLineBytes
                    continue
                }
                break
            }
            if nl - start > maxLineBytes {
                out.append(Array(buffer[start..<(start + maxLineBytes)]))
                start += maxLineBytes
                continue
            }
            let line = trimmed(buffer[start..<nl])
            if !line.isEmpty { out.append(line) }
            start = nl + 1
        }
        buffer.removeFirst(start)
        return out
    }

    mutating func finish() -> [UInt8]? {
        let rest = trimmed(buffer[...])
        buffer.removeAll()
        return rest.isEmpty ? nil : rest
    }

    private func trimmed(_ s: ArraySlice<UInt8>) -> [UInt8] {
        var e = s.endIndex
        while e > s.startIndex, s[e - 1] == 10 || s[e - 1] == 13 { e -= 1 }
        return Array(s[s.startIndex..<e])
    }
}

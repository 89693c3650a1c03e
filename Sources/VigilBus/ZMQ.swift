import CZeroMQ
#if canImport(Glibc)
import Glibc
#endif

// The one funnel for libzmq calls. Sockets are plain classes owned by one thread; the
// context is thread-safe and therefore Sendable.

public struct BusError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable { case zmq, timeout, unavailable, malformed, remote, closed }
    public var code: Code
    public var errno: Int32
    public var message: String
    public init(code: Code, errno: Int32 = 0, message: String) {
        self.code = code; self.errno = errno; self.message = message
    }
    static func zmq(_ what: String) -> BusError {
        let e = zmq_errno()
        return BusError(code: .zmq, errno: e, message: "\(what): \(String(cString: zmq_strerror(e)))")
    }
    public var description: String { "\(code.rawValue): \(message)" }
}

public final class ZContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer
    private let lock = NSLockLite()
    private var terminated = false

    public init(ioThreads: Int32 = 1) {
        handle = zmq_ctx_new()
        zmq_ctx_set(handle, ZMQ_IO_THREADS, ioThreads)
        // Enough sockets for a busy broker; the default (1023) is too low for many clients.
        zmq_ctx_set(handle, ZMQ_MAX_SOCKETS, 4096)
    }

    /// Terminates the context. Every socket must be closed first (with linger set), or this
    /// blocks; Swift never runs deinit for globals, so services call this explicitly.
    public func terminate() {
        lock.withLock {
            if terminated { return }
            terminated = true
            zmq_ctx_term(handle)
        }
    }

    public static func hasCurve() -> Bool { zmq_has("curve") != 0 }
}

/// A tiny mutex so VigilBus does not need Foundation for one lock.
final class NSLockLite: @unchecked Sendable {
    private var m = pthread_mutex_t()
    init() { pthread_mutex_init(&m, nil) }
    deinit { pthread_mutex_destroy(&m) }
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&m); defer { pthread_mutex_unlock(&m) }
        return try body()
    }
}

public enum SocketType: Sendable {
    case pub, sub, xpub, xsub, dealer, router, push, pull, pair, req, rep
    var raw: Int32 {
        switch self {
        case .pub: return ZMQ_PUB
        case .sub: return ZMQ_SUB
        case .xpub: return ZMQ_XPUB
        case .xsub: return ZMQ_XSUB
        case .dealer: return ZMQ_DEALER
        case .router: return ZMQ_ROUTER
        case .push: return ZMQ_PUSH
        case .pull: return ZMQ_PULL
        case .pair: return ZMQ_PAIR
        case .req: return ZMQ_REQ
        case .rep: return ZMQ_REP
        }
    }
}

public typealias Frame = [UInt8]

public final class ZSocket {
    var handle: UnsafeMutableRawPointer?
    public let type: SocketType

    public init(_ context: ZContext, _ type: SocketType) throws {
        guard let h = zmq_socket(context.handle, type.raw) else { throw BusError.zmq("zmq_socket") }
        handle = h
        self.type = type
        // Do not let unsent messages hold the process at exit: services close within 10 s.
        try setInt(ZMQ_LINGER, 500)
    }

    deinit { close() }

    public func close() {
        if let h = handle { zmq_close(h); handle = nil }
    }

    private func h() throws -> UnsafeMutableRawPointer {
        guard let handle else { throw BusError(code: .closed, message: "socket is closed") }
        return handle
    }

    public func setInt(_ option: Int32, _ value: Int32) throws {
        var v = value
        if zmq_setsockopt(try h(), option, &v, MemoryLayout<Int32>.size) != 0 { throw BusError.zmq("setsockopt \(option)") }
    }

    public func setInt64(_ option: Int32, _ value: Int64) throws {
        var v = value
        if zmq_setsockopt(try h(), option, &v, MemoryLayout<Int64>.size) != 0 { throw BusError.zmq("setsockopt \(option)") }
    }

    public func setBytes(_ option: Int32, _ value: [UInt8]) throws {
        let rc = value.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
        if rc != 0 { throw BusError.zmq("setsockopt \(option)") }
    }

    public func bind(_ endpoint: String) throws {
        if zmq_bind(try h(), endpoint) != 0 { throw BusError.zmq("bind \(endpoint)") }
    }

    public func connect(_ endpoint: String) throws {
        if zmq_connect(try h(), endpoint) != 0 { throw BusError.zmq("connect \(endpoint)") }
    }

    // MARK: options with names

    public func setHighWaterMarks(send: Int32, receive: Int32) throws {
        try setInt(ZMQ_SNDHWM, send)
        try setInt(ZMQ_RCVHWM, receive)
    }
    /// Peers sending a larger message are disconnected by libzmq before it is buffered.
    public func setMaxMessageSize(_ bytes: Int64) throws { try setInt64(ZMQ_MAXMSGSIZE, bytes) }
    public func setIdentity(_ id: String) throws { try setBytes(ZMQ_ROUTING_ID, Array(id.utf8)) }
    public func subscribe(_ prefix: String) throws { try setBytes(ZMQ_SUBSCRIBE, Array(prefix.utf8)) }
    public func unsubscribe(_ prefix: String) throws { try setBytes(ZMQ_UNSUBSCRIBE, Array(prefix.utf8)) }
    public func setRouterMandatory(_ on: Bool) throws { try setInt(ZMQ_ROUTER_MANDATORY, on ? 1 : 0) }
    public func setXpubNoDrop(_ on: Bool) throws { try setInt(ZMQ_XPUB_NODROP, on ? 1 : 0) }
    /// A blocking `receive` returns nil after this long without a message.
    public func setReceiveTimeout(ms: Int32) throws { try setInt(ZMQ_RCVTIMEO, ms) }
    public func setReconnectInterval(ms: Int32, maxMs: Int32) throws {
        try setInt(ZMQ_RECONNECT_IVL, ms)
        try setInt(ZMQ_RECONNECT_IVL_MAX, maxMs)
    }

    // MARK: send / receive

    /// Sends a multipart message. With `dontWait`, returns false instead of blocking when the
    /// peer's queue is full (HWM); the caller decides whether to drop, retry or count.
    @discardableResult
    public func send(_ frames: [Frame], dontWait: Bool = false) throws -> Bool {
        let hdl = try h()
        for (i, f) in frames.enumerated() {
            var flags: Int32 = dontWait ? ZMQ_DONTWAIT : 0
            if i < frames.count - 1 { flags |= ZMQ_SNDMORE }
            let rc = f.withUnsafeBytes { zmq_send(hdl, $0.baseAddress, $0.count, flags) }
            if rc < 0 {
                let e = zmq_errno()
                if e == EAGAIN && i == 0 { return false }
                // A partially sent multipart cannot be taken back; libzmq keeps it atomic
                // for the frames already queued, so report the error.
                throw BusError(code: .zmq, errno: e, message: "send: \(String(cString: zmq_strerror(e)))")
            }
        }
        return true
    }

    public func send(_ strings: [String], dontWait: Bool = false) throws -> Bool {
        try send(strings.map { Array($0.utf8) }, dontWait: dontWait)
    }

    /// Receives one multipart message; nil when `dontWait` and nothing is queued.
    public func receive(dontWait: Bool = false) throws -> [Frame]? {
        var ignored: String?
        return try receive(dontWait: dontWait, property: nil, value: &ignored)
    }

    /// Receives one multipart message and a metadata property of its frames (e.g.
    /// "User-Id": what the ZAP handler answered for the peer's CURVE key).
    public func receive(dontWait: Bool = false, property: String?, value: inout String?) throws -> [Frame]? {
        let hdl = try h()
        var frames: [Frame] = []
        var msg = zmq_msg_t()
        while true {
            zmq_msg_init(&msg)
            let rc = zmq_msg_recv(&msg, hdl, dontWait && frames.isEmpty ? ZMQ_DONTWAIT : 0)
            if rc < 0 {
                let e = zmq_errno()
                zmq_msg_close(&msg)
                if e == EAGAIN && frames.isEmpty { return nil }
                if e == EINTR && frames.isEmpty { return nil }
                throw BusError(code: .zmq, errno: e, message: "receive: \(String(cString: zmq_strerror(e)))")
            }
            // A ROUTER's first frame (the routing id) is made locally and has no metadata: take
            // the property from the first frame that carries it.
            if value == nil, let property, let v = zmq_msg_gets(&msg, property) { value = String(cString: v) }
            let size = zmq_msg_size(&msg)
            if size > 0, let data = zmq_msg_data(&msg) {
                frames.append(Array(UnsafeRawBufferPointer(start: data, count: size)))
            } else {
                frames.append([])
            }
            let more = zmq_msg_more(&msg) != 0
            zmq_msg_close(&msg)
            if !more { return frames }
        }
    }
}

extension ZSocket {
    /// Moves one whole multipart message to `target` without copying it into Swift (the
    /// broker's hot path, like zmq_proxy). Returns false when nothing was queued. When the
    /// target would block, the message is dropped (counted by the caller) instead of stalling.
    public func forward(to target: ZSocket, dropped: inout Bool) throws -> Bool {
        let src = try h()
        guard let dst = target.handle else { throw BusError(code: .closed, message: "socket is closed") }
        var msg = zmq_msg_t()
        var first = true
        dropped = false
        while true {
            zmq_msg_init(&msg)
            if zmq_msg_recv(&msg, src, first ? ZMQ_DONTWAIT : 0) < 0 {
                let e = zmq_errno()
                zmq_msg_close(&msg)
                if first && (e == EAGAIN || e == EINTR) { return false }
                throw BusError(code: .zmq, errno: e, message: "forward receive: \(String(cString: zmq_strerror(e)))")
            }
            let more = zmq_msg_more(&msg) != 0
            if !dropped {
                if zmq_msg_send(&msg, dst, (more ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) < 0 {
                    // First frame refused: drop the rest of this message too. (XPUB/PUB never
                    // refuse a later frame once the first is accepted.)
                    dropped = true
                    zmq_msg_close(&msg)
                }
            } else {
                zmq_msg_close(&msg)
            }
            first = false
            if !more { return true }
        }
    }
}

/// Polls sockets for input; returns which are readable.
public func zpoll(_ sockets: [ZSocket], timeoutMs: Int) -> [Bool] {
    var items = sockets.map { s in
        zmq_pollitem_t(socket: s.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
    }
    let rc = items.withUnsafeMutableBufferPointer { zmq_poll($0.baseAddress, Int32($0.count), timeoutMs) }
    if rc <= 0 { return Array(repeating: false, count: sockets.count) }
    return items.map { ($0.revents & Int16(ZMQ_POLLIN)) != 0 }
}

public extension Array where Element == UInt8 {
    var utf8String: String { String(decoding: self, as: UTF8.self) }
    var hexPrefix: String {
        self.prefix(16).map { let s = String($0, radix: 16); return s.count == 1 ? "0" + s : s }.joined()
    }
}

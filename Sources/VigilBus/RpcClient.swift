import VigilLog
import VigilWire
#if canImport(Glibc)
import Glibc
#endif

public struct RpcError: Error, Sendable, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String
    public init(code: ErrorCode, message: String) { self.code = code; self.message = message }
    public var description: String { "\(code): \(message)" }
}

/// The client side of request/reply through the broker. Two uses, one socket each:
/// `call` blocks (CLI, tests), `send`/`processAvailable`/`expire` suit a service loop.
public final class RpcClient {
    public typealias Completion = (Result<RpcResponse, RpcError>) -> Void

    struct Pending {
        var deadline: Int64
        var completion: Completion
        var service: String
    }

    public let socket: ZSocket
    private var pending: [String: Pending] = [:]
    private var counter: UInt64 = 0
    private let prefix: String
    public var caller: Identity
    /// When set, `call` stops retrying a service the broker reports as absent (or a broker it
    /// cannot reach) after this long instead of waiting out the whole timeout: interactive
    /// clients want "service is down" at once, services riding out a restart do not.
    public var unavailableTimeoutMs: Int64?

    public init(context: ZContext, endpoint: String, caller: Identity = Identity(name: "anonymous", role: "viewer"),
                limits: BusLimits = BusLimits()) throws {
        socket = try ZSocket(context, .dealer)
        try socket.setHighWaterMarks(send: limits.highWaterMark, receive: limits.highWaterMark)
        try socket.setMaxMessageSize(limits.maxMessageBytes)
        try socket.setReconnectInterval(ms: 100, maxMs: 1000)
        try socket.applyClientCurve(limits.curve)
        try socket.connect(endpoint)
        self.caller = caller
        prefix = String(UInt64(getpid()), radix: 36) + "-" + String(UInt64(Clock.nowMs()), radix: 36) + "-"
    }

    public func close() { socket.close() }

    public var inFlight: Int { pending.count }

    private func nextId() -> String {
        counter += 1
        return prefix + String(counter, radix: 36)
    }

    /// Sends without waiting; `completion` runs from `processAvailable` or `expire`.
    public func send(service: String, method: String, payload: [UInt8], timeoutMs: Int64 = 5000,
                     completion: @escaping Completion) {
        let id = nextId()
        let req = RpcRequest(method: method, requestId: id, caller: caller, payload: payload)
        let sent = (try? socket.send([RpcProtocol.client, Array(service.utf8), Array(id.utf8), req.encoded()], dontWait: true)) ?? false
        if !sent {
            completion(.failure(RpcError(code: .unavailable, message: "broker queue full or unreachable")))
            return
        }
        pending[id] = Pending(deadline: Clock.monotonicMs() + timeoutMs, completion: completion, service: service)
    }

    public func processAvailable(limit: Int = 10_000) {
        for _ in 0..<limit {
            guard let frames = (try? socket.receive(dontWait: true)) ?? nil else { return }
            deliver(frames)
        }
    }

    /// Fails requests whose deadline has passed.
    public func expire(now: Int64 = Clock.monotonicMs()) {
        for (id, p) in pending where p.deadline <= now {
            pending[id] = nil
            p.completion(.failure(RpcError(code: .timeout, message: "no reply from '\(p.service)' in time")))
        }
    }

    private func deliver(_ frames: [Frame]) {
        // [VC01, requestId, status, body]
        guard frames.count == 4, frames[0] == RpcProtocol.client else { return }
        let id = frames[1].utf8String
        guard let p = pending.removeValue(forKey: id) else { return } // late reply after timeout
        if frames[2] == RpcProtocol.noService {
            p.completion(.failure(RpcError(code: .unavailable, message: "no live instance of service '\(p.service)'")))
            return
        }
        do {
            let resp = try RpcResponse(decoding: frames[3])
            p.completion(.success(resp))
        } catch {
            p.completion(.failure(RpcError(code: .internal, message: "undecodable reply from '\(p.service)': \(error)")))
        }
    }

    /// Blocking call with retries: a missing service (NOSVC) or a lost reply is retried with
    /// backoff until `timeoutMs` has passed. Errors reported by the service are returned, not retried.
    public func call(service: String, method: String, payload: [UInt8] = [], timeoutMs: Int64 = 5000,
                     attemptTimeoutMs: Int64 = 1500) throws -> RpcResponse {
        let deadline = Clock.monotonicMs() + timeoutMs
        var backoff: Int64 = 50
        var unavailableSince: Int64?
        var lastError = RpcError(code: .timeout, message: "no reply from '\(service)' within \(timeoutMs) ms")
        while Clock.monotonicMs() < deadline {
            var result: Result<RpcResponse, RpcError>?
            let attemptDeadline = min(deadline, Clock.monotonicMs() + attemptTimeoutMs)
            send(service: service, method: method, payload: payload,
                 timeoutMs: attemptDeadline - Clock.monotonicMs()) { result = $0 }
            while result == nil {
                let wait = max(0, attemptDeadline - Clock.monotonicMs())
                if zpoll([socket], timeoutMs: Int(min(wait, 100)))[0] { processAvailable() }
                expire()
            }
            switch result! {
            case .success(let r):
                if r.errorCode != .ok { throw RpcError(code: r.errorCode, message: r.errorMessage) }
                return r
            case .failure(let e):
                lastError = e
                if e.code != .unavailable && e.code != .timeout { throw e }
                if e.code == .unavailable, let limit = unavailableTimeoutMs {
                    let now = Clock.monotonicMs()
                    let since = unavailableSince ?? now
                    unavailableSince = since
                    if now - since >= limit { throw e }
                }
            }
            let sleepMs = min(backoff, max(0, deadline - Clock.monotonicMs()))
            if sleepMs > 0 { usleep(UInt32(sleepMs * 1000)) }
            backoff = min(backoff * 2, 1000)
        }
        throw lastError
    }

    public func call<Req: WireMessage, Resp: WireMessage>(service: String, method: String, _ request: Req,
                                                          as: Resp.Type, timeoutMs: Int64 = 5000,
                                                          attemptTimeoutMs: Int64? = nil) throws -> Resp {
        let r = try call(service: service, method: method, payload: request.encoded(), timeoutMs: timeoutMs,
                         attemptTimeoutMs: attemptTimeoutMs ?? min(timeoutMs, 5000))
        do { return try Resp(decoding: r.payload) } catch {
            throw RpcError(code: .internal, message: "reply from \(service) is not a valid \(Resp.typeName): \(error)")
        }
    }
}

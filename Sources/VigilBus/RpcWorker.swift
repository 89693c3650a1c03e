import VigilLog
import VigilWire

/// The service side of request/reply: one DEALER connected to the broker, announcing the
/// services it answers with every heartbeat. Owned by the service loop thread.
public final class RpcWorker {
    public typealias Handler = (RpcRequest) -> RpcResponse
    /// A handler that answers later: it must call `reply` exactly once, on the thread that
    /// owns this worker (the service loop).
    public typealias DeferredHandler = (_ request: RpcRequest, _ reply: @escaping (RpcResponse) -> Void) -> Void

    public let socket: ZSocket
    public let instance: String
    private var services: [String]
    private var handlers: [String: Handler] = [:]
    private var deferredHandlers: [String: DeferredHandler] = [:]
    private var roles: [String: RpcRole] = [:]
    /// Refuse calls whose caller's role is below the method's (ERROR_CODE_PERMISSION_DENIED).
    public var enforceRoles = true
    public private(set) var denied: UInt64 = 0
    private let logger: Logger
    private var lastHeartbeat: Int64 = 0
    public var heartbeatIntervalMs: Int64 = 1000
    public private(set) var handled: UInt64 = 0
    public private(set) var malformed: UInt64 = 0

    public init(context: ZContext, endpoint: String, services: [String], instance: String,
                limits: BusLimits = BusLimits(), logger: Logger) throws {
        socket = try ZSocket(context, .dealer)
        try socket.setHighWaterMarks(send: limits.highWaterMark, receive: limits.highWaterMark)
        try socket.setMaxMessageSize(limits.maxMessageBytes)
        try socket.setReconnectInterval(ms: 100, maxMs: 1000)
        try socket.applyClientCurve(limits.curve)
        try socket.connect(endpoint)
        self.services = services
        self.instance = instance
        self.logger = logger
        heartbeat(force: true)
    }

    /// Answers `method`; callers need `role` (default: `RpcRole.required(for:)` — reads
    /// viewer, changes analyst, deletes/imports/configuration admin).
    public func handle(_ method: String, role: RpcRole? = nil, _ handler: @escaping Handler) {
        handlers[method] = handler
        roles[method] = role ?? RpcRole.required(for: method)
    }

    /// Answers `method` later (see `DeferredHandler`): the loop goes on handling other
    /// requests meanwhile, so work can be pipelined across requests. The broker forwards
    /// requests without waiting for replies, so several can be outstanding.
    public func handleDeferred(_ method: String, role: RpcRole? = nil, _ handler: @escaping DeferredHandler) {
        deferredHandlers[method] = handler
        roles[method] = role ?? RpcRole.required(for: method)
    }

    public func requiredRole(_ method: String) -> RpcRole? { roles[method] }

    public var methods: [String] { Array(Set(handlers.keys).union(deferredHandlers.keys)).sorted() }

    /// Sends a heartbeat (with the service names) when one is due.
    public func heartbeat(force: Bool = false) {
        let now = Clock.monotonicMs()
        guard force || now - lastHeartbeat >= heartbeatIntervalMs else { return }
        lastHeartbeat = now
        let frames: [Frame] = [RpcProtocol.worker, RpcProtocol.heartbeat] + services.map { Array($0.utf8) }
        _ = try? socket.send(frames, dontWait: true)
    }

    public func close() {
        _ = try? socket.send([RpcProtocol.worker, RpcProtocol.bye], dontWait: true)
        socket.close()
    }

    /// Handles every queued request (call when the socket is readable).
    public func processAvailable(limit: Int = 1000) {
        for _ in 0..<limit {
            guard let frames = (try? socket.receive(dontWait: true)) ?? nil else { return }
            process(frames)
        }
    }

    private func process(_ frames: [Frame]) {
        // From broker: [VW01, REQ, client, requestId, body] or [VW01, HB]
        guard frames.count >= 2, frames[0] == RpcProtocol.worker else {
            malformed += 1
            logger.warning("malformed frame from broker", ["frames": String(frames.count)])
            return
        }
        if frames[1] == RpcProtocol.heartbeat { return }
        // [VW01, REQ, client, requestId, body, auth?]: the broker adds `auth` when it authenticated the client.
        guard frames[1] == RpcProtocol.request, frames.count == 5 || frames.count == 6 else {
            malformed += 1
            logger.warning("malformed request from broker", ["frames": String(frames.count)])
            return
        }
        let client = frames[2], requestIdFrame = frames[3]
        var response: RpcResponse
        do {
            var request = try RpcRequest(decoding: frames[4])
            var authenticated = false
            if frames.count == 6, let who = AuthFrame.decode(frames[5]) {
                request.caller = who
                authenticated = true
            }
            let need = roles[request.method] ?? .viewer
            let has = RpcRole(name: request.caller.role)
            let known = handlers[request.method] != nil || deferredHandlers[request.method] != nil
            if known && enforceRoles && !has.permits(need) {
                denied += 1
                logger.warning("rpc refused: role too low", ["method": request.method, "caller": request.caller.name,
                                                             "role": request.caller.role, "needs": need.name])
                let stated = request.caller.role.isEmpty ? "no role" : "role " + request.caller.role
                response = RpcResponse(errorCode: .permissionDenied,
                                       errorMessage: "\(request.method) needs role \(RpcRole.described(need)); caller '\(request.caller.name)' has \(stated)\(authenticated ? " (authenticated by its CURVE key)" : "")")
            } else if let h = handlers[request.method] {
                response = h(request)
            } else if let h = deferredHandlers[request.method] {
                let requestId = request.requestId
                h(request) { [weak self] r in
                    guard let self else { return }
                    var r = r
                    r.requestId = requestId
                    self.send(r, client: client, requestIdFrame: requestIdFrame)
                }
                return
            } else {
                response = RpcResponse(errorCode: .unknownMethod,
                                       errorMessage: "unknown method '\(request.method)'; this service answers: \(methods.joined(separator: ", "))")
            }
            response.requestId = request.requestId
        } catch {
            malformed += 1
            logger.warning("undecodable rpc request", ["error": "\(error)", "bytes": String(frames[4].count)])
            response = RpcResponse(requestId: requestIdFrame.utf8String, errorCode: .badRequest,
                                   errorMessage: "request is not a valid vigil.v1.RpcRequest: \(error)")
        }
        send(response, client: client, requestIdFrame: requestIdFrame)
    }

    private func send(_ response: RpcResponse, client: Frame, requestIdFrame: Frame) {
        var response = response
        response.instance = instance
        handled += 1
        _ = try? socket.send([RpcProtocol.worker, RpcProtocol.reply, client, requestIdFrame, response.encoded()], dontWait: true)
    }
}

extension RpcResponse {
    public static func ok<M: WireMessage>(_ message: M) -> RpcResponse {
        RpcResponse(errorCode: .ok, payload: message.encoded())
    }
    public static func failure(_ code: ErrorCode, _ message: String) -> RpcResponse {
        RpcResponse(errorCode: code, errorMessage: message)
    }
}

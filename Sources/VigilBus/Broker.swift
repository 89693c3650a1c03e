#if canImport(Glibc)
import Glibc
#endif
import VigilLog
import VigilWire

/// The broker: an XSUB/XPUB proxy for topics and a Majordomo-style router for requests to
/// named services. Workers announce their services with every heartbeat, so a restarted
/// broker relearns them within one interval, and a worker that misses `heartbeatLiveness`
/// intervals is dropped so requests go to live instances only.
public final class Broker {
    public struct Options: Sendable {
        public var endpoints: BusEndpoints
        public var limits = BusLimits()
        public var heartbeatIntervalMs: Int64 = 1000
        public var heartbeatLiveness: Int64 = 3
        /// With a secret key, every endpoint requires CURVE and clients must be on `allowedClients`.
        public var curveSecretKey: String?
        public var allowedClients: Set<String> = []
        /// Who each allowed key is (role and name); requests from it are judged as this identity,
        /// whatever they state. A key without an entry is a service.
        public var clientIdentities: [String: Identity] = [:]
        public init(endpoints: BusEndpoints) { self.endpoints = endpoints }
    }

    public struct Stats: Sendable {
        public var published: UInt64 = 0
        public var subscriptions: UInt64 = 0
        public var requests: UInt64 = 0
        public var replies: UInt64 = 0
        public var noService: UInt64 = 0
        public var malformed: UInt64 = 0
        public var workersExpired: UInt64 = 0
        /// Workers dropped because their connection had closed (found when sending to them).
        public var workersGone: UInt64 = 0
        public var dropped: UInt64 = 0
        public var authRefused: UInt64 = 0
    }

    struct Worker {
        var identity: Frame
        var services: [String]
        var expiresAt: Int64
    }

    let options: Options
    let logger: Logger
    let xsub: ZSocket
    let xpub: ZSocket
    let router: ZSocket
    let zap: ZapHandler?
    public private(set) var stats = Stats()
    private var workers: [Frame: Worker] = [:]
    /// Round-robin order per service.
    private var services: [String: [Frame]] = [:]
    private var nextIndex: [String: Int] = [:]
    private var lastHeartbeat: Int64 = 0
    /// Answers requests addressed to the service name "broker" (health, metrics).
    public var localHandler: ((RpcRequest) -> RpcResponse)?

    public init(context: ZContext, options: Options, logger: Logger) throws {
        self.options = options
        self.logger = logger
        // The ZAP handler must exist before the first CURVE handshake.
        zap = try options.curveSecretKey.map { _ in try ZapHandler(context: context, allowed: options.allowedClients) }
        xsub = try ZSocket(context, .xsub)
        xpub = try ZSocket(context, .xpub)
        router = try ZSocket(context, .router)
        for s in [xsub, xpub, router] {
            try s.setHighWaterMarks(send: options.limits.highWaterMark, receive: options.limits.highWaterMark)
            try s.setMaxMessageSize(options.limits.maxMessageBytes)
        }
        if let secret = options.curveSecretKey {
            for s in [xsub, xpub, router] { try s.applyServerCurve(secretKey: secret) }
        }
        // Mandatory: a send to a peer whose connection has closed fails (EHOSTUNREACH) instead of
        // vanishing, so a request is never handed to a worker that died (SIGKILL, crash) before
        // its heartbeats run out — the broker drops that worker and picks the next one.
        try router.setRouterMandatory(true)
        try xsub.bind(options.endpoints.publish)
        try xpub.bind(options.endpoints.subscribe)
        try router.bind(options.endpoints.rpc)
    }

    public func close() {
        xsub.close(); xpub.close(); router.close(); zap?.close()
    }

    public var liveWorkers: [String: Int] { services.mapValues { $0.count } }

    /// Serves until `shouldStop` returns true (checked at least every 100 ms).
    public func run(shouldStop: () -> Bool) {
        while !shouldStop() {
            pollOnce(timeoutMs: 100)
        }
    }

    public func pollOnce(timeoutMs: Int) {
        let ready = zpoll([xsub, xpub, router] + (zap.map { [$0.socket] } ?? []), timeoutMs: timeoutMs)
        if ready.count > 3 && ready[3], let zap {
            for key in zap.processAvailable() {
                stats.authRefused += 1
                logger.warning("connection refused: client key not on the allowlist", ["key": key])
            }
        }
        // Drain in bounded bursts so one busy socket cannot starve the others.
        if ready[0] { forward(from: xsub, to: xpub, isPublish: true) }
        if ready[1] { forward(from: xpub, to: xsub, isPublish: false) }
        if ready[2] {
            for _ in 0..<10_000 {
                // With CURVE, "User-Id" is the client's public key (what the ZAP handler answered).
                var key: String?
                guard let frames = try? router.receive(dontWait: true, property: zap == nil ? nil : "User-Id", value: &key) else { break }
                handleRouter(frames, authenticated: key.flatMap(identity(forKey:)))
            }
        }
        let now = Clock.monotonicMs()
        if now - lastHeartbeat >= options.heartbeatIntervalMs {
            lastHeartbeat = now
            heartbeatWorkers(now: now)
        }
    }

    private func forward(from: ZSocket, to: ZSocket, isPublish: Bool) {
        var dropped = false
        for _ in 0..<10_000 {
            // Zero-copy: frames go from socket to socket as zmq messages. XPUB drops for a slow
            // subscriber at its HWM (reliable streams replay); the broker never blocks here.
            guard (try? from.forward(to: to, dropped: &dropped)) == true else { return }
            if isPublish { stats.published += 1 } else { stats.subscriptions += 1 }
            if dropped { stats.dropped += 1 }
        }
    }

    private func identity(forKey key: String) -> Identity? {
        guard !key.isEmpty else { return nil }
        return options.clientIdentities[key] ?? Identity(name: "key:" + key.prefix(8), role: "service")
    }

    private func handleRouter(_ frames: [Frame], authenticated: Identity?) {
        guard frames.count >= 2 else { return malformed(frames, "fewer than 2 frames") }
        let sender = frames[0]
        if frames[1] == RpcProtocol.client {
            // [sender, VC01, service, requestId, body]
            guard frames.count == 5 else { return malformed(frames, "client message needs 5 frames, got \(frames.count)") }
            stats.requests += 1
            let service = frames[2].utf8String
            if service == "broker", let local = localHandler {
                let resp: RpcResponse
                if var req = try? RpcRequest(decoding: frames[4]) {
                    if let who = authenticated { req.caller = who }
                    var r = local(req)
                    r.requestId = req.requestId
                    resp = r
                } else {
                    stats.malformed += 1
                    resp = RpcResponse(requestId: frames[3].utf8String, errorCode: .badRequest, errorMessage: "request is not a valid vigil.v1.RpcRequest")
                }
                _ = try? router.send([sender, RpcProtocol.client, frames[3], RpcProtocol.ok, resp.encoded()], dontWait: true)
            } else if forward(request: frames, from: sender, to: service, authenticated: authenticated) {
            } else {
                stats.noService += 1
                _ = try? router.send([sender, RpcProtocol.client, frames[3], RpcProtocol.noService, []], dontWait: true)
            }
        } else if frames[1] == RpcProtocol.worker {
            guard frames.count >= 3 else { return malformed(frames, "worker message needs a command frame") }
            let now = Clock.monotonicMs()
            let command = frames[2]
            if command == RpcProtocol.reply {
                // [sender, VW01, REP, client, requestId, body]
                guard frames.count == 6 else { return malformed(frames, "worker reply needs 6 frames, got \(frames.count)") }
                stats.replies += 1
                touch(sender, now: now)
                _ = try? router.send([frames[3], RpcProtocol.client, frames[4], RpcProtocol.ok, frames[5]], dontWait: true)
            } else if command == RpcProtocol.ready || command == RpcProtocol.heartbeat {
                let names = frames.dropFirst(3).map { $0.utf8String }.filter { !$0.isEmpty }
                register(sender, services: names, now: now)
            } else if command == RpcProtocol.bye {
                remove(sender)
            } else {
                malformed(frames, "unknown worker command '\(command.utf8String)'")
            }
        } else {
            malformed(frames, "unknown protocol marker '\(Array(frames[1].prefix(8)).utf8String)'")
        }
    }

    /// Hands a client request to a live worker of `service`; false when there is none.
    private func forward(request frames: [Frame], from sender: Frame, to service: String, authenticated: Identity?) -> Bool {
        // An authenticated client's identity travels as a sixth frame; the worker judges by it.
        let auth: [Frame] = authenticated.map { [AuthFrame.encode($0)] } ?? []
        while let worker = pickWorker(service) {
            do {
                // false: the worker's queue is full (HWM); dropped like any full queue, the client times out.
                if try !router.send([worker, RpcProtocol.worker, RpcProtocol.request, sender, frames[3], frames[4]] + auth, dontWait: true) {
                    stats.dropped += 1
                }
                return true
            } catch let e as BusError where e.errno == EHOSTUNREACH {
                workerGone(worker)
            } catch {
                stats.dropped += 1
                return true
            }
        }
        return false
    }

    /// The worker's connection closed (the process died or stopped without `bye`).
    private func workerGone(_ identity: Frame) {
        guard let w = workers[identity] else { return }
        stats.workersGone += 1
        logger.warning("worker gone: connection closed", ["worker": identity.hexPrefix, "services": w.services.joined(separator: ",")])
        remove(identity)
    }

    private func malformed(_ frames: [Frame], _ why: String) {
        stats.malformed += 1
        logger.warning("malformed rpc message", ["sender": frames.first?.hexPrefix ?? "?", "reason": why])
    }

    private func register(_ identity: Frame, services names: [String], now: Int64) {
        let expires = now + options.heartbeatIntervalMs * options.heartbeatLiveness
        if var w = workers[identity] {
            w.expiresAt = expires
            if Set(w.services) != Set(names) && !names.isEmpty {
                remove(identity)
                workers[identity] = Worker(identity: identity, services: names, expiresAt: expires)
                for n in names { services[n, default: []].append(identity) }
            } else {
                workers[identity] = w
            }
            return
        }
        guard !names.isEmpty else { return }
        workers[identity] = Worker(identity: identity, services: names, expiresAt: expires)
        for n in names { services[n, default: []].append(identity) }
        logger.info("worker ready", ["worker": identity.hexPrefix, "services": names.joined(separator: ",")])
    }

    private func touch(_ identity: Frame, now: Int64) {
        workers[identity]?.expiresAt = now + options.heartbeatIntervalMs * options.heartbeatLiveness
    }

    private func remove(_ identity: Frame) {
        guard let w = workers.removeValue(forKey: identity) else { return }
        for n in w.services {
            services[n]?.removeAll { $0 == identity }
            if services[n]?.isEmpty == true { services[n] = nil }
        }
    }

    private func pickWorker(_ service: String) -> Frame? {
        guard let list = services[service], !list.isEmpty else { return nil }
        let i = (nextIndex[service] ?? 0) % list.count
        nextIndex[service] = i + 1
        return list[i]
    }

    private func heartbeatWorkers(now: Int64) {
        for (id, w) in workers where w.expiresAt < now {
            logger.warning("worker expired: no heartbeat", ["worker": id.hexPrefix, "services": w.services.joined(separator: ",")])
            stats.workersExpired += 1
            remove(id)
        }
        for id in Array(workers.keys) {
            do { _ = try router.send([id, RpcProtocol.worker, RpcProtocol.heartbeat], dontWait: true) }
            catch let e as BusError where e.errno == EHOSTUNREACH { workerGone(id) }
            catch {}
        }
    }
}

import Foundation
import VigilBus
import VigilLog
import VigilService
import VigilWire

/// The broker process: binds the three bus endpoints and forwards. It owns no store.
public enum BrokerService {
    public static func main() -> Never {
        ShutdownSignal.install()
        let config: RuntimeConfig
        do {
            config = try RuntimeConfig.load(service: "broker")
        } catch {
            exitForBadConfiguration(program: "broker", error)
        }
        if config.settings["help"] != nil {
            var s = "usage: vigil-broker [--key value]…\n\nThe broker binds the three endpoints every other service connects to.\n\n"
            for (k, d) in RuntimeConfig.commonKeys where !["instance", "index", "count", "partitions"].contains(k) {
                s += "  --\(k.padding(toLength: 22, withPad: " ", startingAt: 0)) \(d)\n"
            }
            print(s)
            exit(0)
        }
        if config.settings["print-config"] != nil { print(config.json(broker: true)); exit(0) }
        let logger = Logger(label: "broker", level: config.logLevel)
        do {
            try ProcessMemory.apply(config, logger: logger)
            try FileManager.default.createDirectory(atPath: config.dataDirectory + "/run", withIntermediateDirectories: true)
            // Only the account running Vigil may connect to the ipc:// sockets (roles stated on ipc are trusted).
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: config.dataDirectory + "/run")
            // A stale ipc socket file from a killed broker would make bind fail.
            for ep in [config.endpoints.publish, config.endpoints.subscribe, config.endpoints.rpc] where ep.hasPrefix("ipc://") {
                try? FileManager.default.removeItem(atPath: String(ep.dropFirst(6)))
            }
            let context = ZContext()
            var opts = Broker.Options(endpoints: config.endpoints)
            opts.limits = config.limits
            opts.limits.curve = nil
            if let secret = try config.key("curve.secret") {
                opts.curveSecretKey = secret
                opts.clientIdentities = try config.allowedClients()
                opts.allowedClients = Set(opts.clientIdentities.keys)
                if opts.allowedClients.isEmpty {
                    throw ConfigError(code: .missingValue, key: "curve.allow", message: "CURVE without an allowlist would admit any key; give a file of allowed client public keys")
                }
                logger.info("CURVE enabled", ["public": try CurveKeys.publicKey(forSecret: secret), "allowed_clients": String(opts.allowedClients.count)])
            }
            let broker = try Broker(context: context, options: opts, logger: logger)
            let started = Clock.nowMs()
            broker.localHandler = { [unowned broker] req in
                switch req.method {
                case "sys.health":
                    var h = HealthResponse()
                    h.service = "broker"; h.instance = "broker"; h.status = "ok"
                    h.startedTimeMs = started; h.pid = UInt32(getpid()); h.version = "0.1.0"
                    h.detail = broker.liveWorkers.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                    return .ok(h)
                case "sys.metrics":
                    var m = MetricsResponse()
                    m.service = "broker"; m.instance = "broker"
                    let s = broker.stats
                    m.counters = ["published": s.published, "subscriptions": s.subscriptions, "requests": s.requests,
                                  "replies": s.replies, "no_service": s.noService, "malformed": s.malformed,
                                  "workers_expired": s.workersExpired, "workers_gone": s.workersGone, "dropped": s.dropped, "auth_refused": s.authRefused]
                    return .ok(m)
                default:
                    return .failure(.unknownMethod, "broker answers sys.health and sys.metrics; got '\(req.method)'")
                }
            }
            logger.info("started", ["pid": String(getpid()), "publish": config.endpoints.publish,
                                    "subscribe": config.endpoints.subscribe, "rpc": config.endpoints.rpc])
            broker.run { ShutdownSignal.requested }
            let s = broker.stats
            logger.info("stopping", ["published": String(s.published), "requests": String(s.requests), "malformed": String(s.malformed)])
            broker.close()
            context.terminate()
            exit(0)
        } catch let error as ConfigError {
            exitForBadConfiguration(program: "broker", error)
        } catch {
            logger.error("fatal startup error", ["error": "\(error)"])
            exit(1)
        }
    }
}

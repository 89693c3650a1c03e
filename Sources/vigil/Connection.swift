import Foundation
import VigilBus
import VigilService
import VigilWire

/// How the CLI reaches the stack: the broker's RPC endpoint (ipc:// under --data by default,
/// `--connect tcp://host:port` for a remote one), CURVE keys when configured, and the caller's
/// identity, which services use for role checks.
///
/// Flags (every command, and `vigil shell` for the whole session):
///   --connect ENDPOINT   broker RPC endpoint (or VIGIL_ENDPOINT_RPC)
///   --subscribe ENDPOINT broker XPUB endpoint for `tail` (or VIGIL_ENDPOINT_SUBSCRIBE)
///   --server-key KEY     the broker's CURVE public key, Z85 or @FILE (or VIGIL_CURVE_SERVER_PUBLIC)
///   --key-file FILE      this client's CURVE secret key (or VIGIL_CURVE_SECRET, Z85 or @FILE)
///   --user NAME --role admin|analyst|viewer   (or VIGIL_USER / $USER, VIGIL_ROLE; default role admin)
///   --timeout S          how long to wait for a reply (default 30)
enum Connection {
    static let roles = ["admin", "analyst", "viewer"]
    /// A service the broker does not know is reported down after this long (it may be restarting).
    static let downAfterMs: Int64 = 2500
    /// How long the broker has to answer before it is reported unreachable.
    static let brokerTimeoutMs: Int64 = 2000

    struct Settings {
        var rpc: String
        var subscribe: String
        var limits: BusLimits
        var identity: Identity
        var timeoutMs: Int64
    }

    static func settings(_ args: Args) throws -> Settings {
        var argv = ["--data", args.data]
        if let c = args.flags["connect"] { argv += ["--endpoint.rpc", c] }
        if let s = args.flags["subscribe"] { argv += ["--endpoint.subscribe", s] }
        if let k = args.flags["server-key"] { argv += ["--curve.server-public", k] }
        if let f = args.flags["key-file"] { argv += ["--curve.secret", "@" + f] }
        var env = ProcessInfo.processInfo.environment
        // A services' config file (VIGIL_CONFIG) is not the CLI's.
        env["VIGIL_CONFIG"] = nil
        let cfg: RuntimeConfig
        do { cfg = try RuntimeConfig.load(service: "vigil-cli", arguments: argv, environment: env) }
        catch let e as ConfigError {
            let flag = ["curve.secret": "--key-file/VIGIL_CURVE_SECRET", "curve.server-public": "--server-key/VIGIL_CURVE_SERVER_PUBLIC",
                        "endpoint.rpc": "--connect"][e.key] ?? e.key
            throw CLIError(message: "\(flag): \(e.message)", exitCode: 2)
        }
        for ep in [cfg.endpoints.rpc] where !(ep.hasPrefix("ipc://") || ep.hasPrefix("tcp://")) {
            throw CLIError(message: "--connect: '\(ep)' is not an endpoint (ipc:///path or tcp://host:port)", exitCode: 2)
        }
        if let curve = cfg.limits.curve, curve.serverPublicKey == nil {
            throw CLIError(message: "a CURVE secret key is set but not the broker's public key (--server-key KEY or VIGIL_CURVE_SERVER_PUBLIC)", exitCode: 2)
        }
        let env2 = ProcessInfo.processInfo.environment
        let user = args.flags["user"] ?? env2["VIGIL_USER"] ?? env2["USER"] ?? "vigil-cli"
        let role = args.flags["role"] ?? env2["VIGIL_ROLE"] ?? "admin"
        guard roles.contains(role) else {
            throw CLIError(message: "--role: '\(role)' is not a role (admin, analyst or viewer)", exitCode: 2)
        }
        let timeout = try args.int("timeout", 30)
        guard timeout > 0 else { throw CLIError(message: "--timeout takes a positive number of seconds", exitCode: 2) }
        return Settings(rpc: cfg.endpoints.rpc, subscribe: cfg.endpoints.subscribe, limits: cfg.limits,
                        identity: Identity(name: user, role: role), timeoutMs: Int64(timeout) * 1000)
    }

    /// An RPC client for the command. By default the broker is asked first, so a stack that is
    /// not running is one clear line within two seconds rather than a wait for the timeout.
    static func client(_ args: Args, _ ctx: ZContext, checkBroker: Bool = true) throws -> RpcClient {
        let s = try settings(args)
        let c = try RpcClient(context: ctx, endpoint: s.rpc, caller: s.identity, limits: s.limits)
        c.unavailableTimeoutMs = downAfterMs
        if checkBroker {
            do {
                _ = try c.call(service: "broker", method: "sys.health", timeoutMs: brokerTimeoutMs, attemptTimeoutMs: brokerTimeoutMs)
            } catch {
                c.close()
                let hint = s.rpc.hasPrefix("ipc://") ? " (is the stack up? `vigil up --data \(args.data)`)"
                    : s.limits.curve == nil ? " (a CURVE broker needs --server-key and --key-file)" : " (check --server-key and that this key is on the broker's allowlist)"
                throw CLIError(message: "broker not reachable at \(s.rpc) within \(brokerTimeoutMs / 1000) s\(hint)", exitCode: 3)
            }
        }
        return c
    }

    /// One blocking call with the CLI's error wording: a service that is down is named in one line.
    static func call<R: WireMessage>(_ c: RpcClient, _ args: Args, service: String, method: String,
                                     _ req: some WireMessage, _: R.Type) throws -> R {
        let timeout = (try? settings(args).timeoutMs) ?? 30_000
        do { return try c.call(service: service, method: method, req, as: R.self, timeoutMs: timeout) }
        catch let e as RpcError { throw describe(e, service: service, method: method) }
    }

    /// RPC errors as CLI errors: down and timeout name the service; refusals keep the service's text.
    static func describe(_ e: RpcError, service: String, method: String) -> CLIError {
        switch e.code {
        case .unavailable:
            return CLIError(message: "\(service) is down: no live instance is registered with the broker (\(method))", exitCode: 3)
        case .timeout:
            return CLIError(message: "\(service) did not answer \(method) in time", exitCode: 3)
        case .badRequest:
            return CLIError(message: "\(method): \(e.message)")
        default:
            return CLIError(message: "\(service) \(method): \(e.message)")
        }
    }
}

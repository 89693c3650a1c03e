import Foundation
import VigilBus
import VigilWire
import VigilLog

public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable { case unknownKey, badValue, missingValue, badFile }
    public var code: Code
    public var key: String
    public var message: String
    public init(code: Code, key: String, message: String) { self.code = code; self.key = key; self.message = message }
    public var description: String { "configuration error (\(code.rawValue)) for '\(key)': \(message)" }
}

/// A bad configuration stops a process the same way wherever it is found (loading, or a value
/// checked while starting): `vigil-<program>: <error>` on stderr, exit status 2 (docs/operations.md).
public func exitForBadConfiguration(program: String, _ error: any Error) -> Never {
    FileHandle.standardError.write(Data("vigil-\(program): \(error)\n".utf8))
    exit(2)
}

/// A service's effective configuration: documented defaults, overridden by a JSON file
/// (`--config FILE` or VIGIL_CONFIG), then environment variables (VIGIL_<KEY>, dots and dashes
/// as underscores), then command-line flags (`--key value` or `--key=value`).
public struct RuntimeConfig: Sendable {
    public var service: String
    /// Unique per running instance; also the producer id of its streams and an RPC service name.
    public var instance: String
    public var dataDirectory: String = "./vigil-data"
    public var endpoints: BusEndpoints
    /// Event streams are split into this many partitions (stable hash of the entity key).
    public var partitions: Int = 16
    /// This instance owns partitions p with p % instanceCount == instanceIndex.
    public var instanceIndex: Int = 0
    public var instanceCount: Int = 1
    public var logLevel: Logger.Level = .info
    public var limits = BusLimits()
    /// Every key given, including service-specific ones (see each service's settings).
    public var settings: [String: String] = [:]

    public var storePath: String { "\(dataDirectory)/\(instance).db" }

    public func owns(partition: Int) -> Bool { partition % max(1, instanceCount) == instanceIndex }

    public func string(_ key: String, default d: String) -> String { settings[key] ?? d }

    /// A CURVE key given inline or as `@FILE` (first non-comment line), validated.
    public func key(_ name: String) throws -> String? {
        guard var v = settings[name], !v.isEmpty else { return nil }
        // '@' is a Z85 digit: a valid inline key that starts with it is a key, not a file name.
        if v.hasPrefix("@") && !CurveKeys.isValid(v) {
            let path = String(v.dropFirst())
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigError(code: .badFile, key: name, message: "cannot read \(path)")
            }
            // Z85 keys may contain '#', so a line is a key when its first word is one.
            v = text.split(separator: "\n").compactMap { Self.firstWord($0) }.first { CurveKeys.isValid($0) } ?? ""
        }
        guard CurveKeys.isValid(v) else {
            throw ConfigError(code: .badValue, key: name, message: "expected a 40-character Z85 CURVE key (see `vigil keygen`)")
        }
        return v
    }

    static func firstWord(_ line: Substring) -> String? {
        let words = line.split(whereSeparator: { (c: Character) in c == " " || c == "\t" || c == "\r" })
        return words.first.map { String($0) }
    }

    /// The broker's allowlist: one Z85 public key per line, `#` comments.
    public func allowedKeys() throws -> Set<String> { Set(try allowedClients().keys) }

    /// The allowlist with who each key is: `KEY [ROLE [NAME]] [# comment]`. ROLE is admin,
    /// analyst, viewer or service; a key without one is a service key (Vigil's own processes,
    /// full rights). NAME defaults to `key:<first 8 characters>`.
    public func allowedClients() throws -> [String: Identity] {
        guard let path = settings["curve.allow"], !path.isEmpty else { return [:] }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigError(code: .badFile, key: "curve.allow", message: "cannot read \(path)")
        }
        var out: [String: Identity] = [:]
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            // Z85 keys may contain '#': a line is a key when its first word is a valid key,
            // a comment when it starts with '#' otherwise.
            let words = raw.split(whereSeparator: { (c: Character) in c == " " || c == "\t" || c == "\r" }).map(String.init)
            guard let word = words.first else { continue }
            if CurveKeys.isValid(word) {
                let rest = words.dropFirst().prefix { !$0.hasPrefix("#") }
                var who = Identity(name: "key:" + word.prefix(8), role: "service")
                if let role = rest.first {
                    guard ["admin", "analyst", "viewer", "service"].contains(role) else {
                        throw ConfigError(code: .badFile, key: "curve.allow",
                                          message: "\(path):\(i + 1): '\(role)' after the key is not a role (admin, analyst, viewer, service) or a # comment")
                    }
                    who.role = role
                }
                if rest.count > 1 { who.name = rest.dropFirst().joined(separator: " ") }
                out[word] = who
                continue
            }
            if word.hasPrefix("#") { continue }
            throw ConfigError(code: .badFile, key: "curve.allow", message: "\(path):\(i + 1): not a 40-character Z85 public key")
        }
        return out
    }

    public func int(_ key: String, default d: Int) throws -> Int {
        guard let v = settings[key] else { return d }
        guard let i = Int(v) else { throw ConfigError(code: .badValue, key: key, message: "expected an integer, got '\(v)'") }
        return i
    }

    public func bool(_ key: String, default d: Bool) throws -> Bool {
        guard let v = settings[key] else { return d }
        switch v.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw ConfigError(code: .badValue, key: key, message: "expected true or false, got '\(v)'")
        }
    }

    public static let commonKeys: [(String, String)] = [
        ("config", "JSON file with any of these keys"),
        ("data", "data directory (default ./vigil-data)"),
        ("instance", "instance id (default <service>-<index>)"),
        ("index", "instance index for partition ownership (default 0)"),
        ("count", "number of instances sharing the partitions (default 1)"),
        ("partitions", "number of stream partitions (default 16)"),
        ("log-level", "debug, info, warning, error (default info)"),
        ("endpoint.publish", "broker XSUB endpoint (default ipc://<data>/run/bus-pub.sock)"),
        ("endpoint.subscribe", "broker XPUB endpoint (default ipc://<data>/run/bus-sub.sock)"),
        ("endpoint.rpc", "broker ROUTER endpoint (default ipc://<data>/run/bus-rpc.sock)"),
        ("max-message-bytes", "largest accepted message (default 16777216)"),
        ("hwm", "ZeroMQ high-water mark per peer (default 200000)"),
        ("curve.secret", "this process's CURVE secret key (Z85, or @FILE); enables CURVE on every bus socket"),
        ("curve.server-public", "the broker's CURVE public key (Z85, or @FILE); services only"),
        ("curve.allow", "broker only: file of client public keys allowed to connect, one per line: KEY [ROLE [NAME]]"),
        ("stream.batch-publish", "true (default): event streams go out as BATCH envelopes, one bus message per commit and partition; false: one DATA envelope per event"),
        ("store.checkpoint", "background (default: WAL checkpoints on a thread of their own, off the service loop) or inline (SQLite's automatic checkpoint inside the commit)"),
        ("memory.keep-freed-mb", "MB of freed memory malloc keeps for reuse instead of returning it to the system page by page (default 64; vigil-agent 0; 0: glibc's defaults)"),
        ("print-config", "print the effective configuration as JSON and exit"),
    ]

    /// Loads the configuration for `service`. `serviceKeys` are the service's own settings.
    public static func load(service: String, serviceKeys: [(String, String)] = [],
                            arguments: [String] = Array(CommandLine.arguments.dropFirst()),
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws -> RuntimeConfig {
        let known = Set((commonKeys + serviceKeys).map { $0.0 })
        var values: [String: String] = [:]

        // Flags first parsed so --config is known; applied last.
        var flags: [String: String] = [:]
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            guard a.hasPrefix("--") else {
                throw ConfigError(code: .unknownKey, key: a, message: "unexpected argument; flags look like --key value")
            }
            var key = String(a.dropFirst(2))
            var value: String
            if let eq = key.firstIndex(of: "=") {
                value = String(key[key.index(after: eq)...])
                key = String(key[..<eq])
            } else if key == "print-config" || key == "help" {
                value = "true"
            } else {
                guard i + 1 < arguments.count else {
                    throw ConfigError(code: .missingValue, key: key, message: "flag --\(key) needs a value")
                }
                i += 1
                value = arguments[i]
            }
            if key == "help" { flags["help"] = "true"; i += 1; continue }
            guard known.contains(key) else {
                let near = known.sorted().filter { $0.hasPrefix(String(key.prefix(3))) }
                throw ConfigError(code: .unknownKey, key: key,
                                  message: "unknown flag --\(key)" + (near.isEmpty ? "" : "; did you mean \(near.map { "--" + $0 }.joined(separator: ", "))?"))
            }
            flags[key] = value
            i += 1
        }

        var envValues: [String: String] = [:]
        for k in known {
            let envName = "VIGIL_" + k.uppercased().replacingOccurrences(of: ".", with: "_").replacingOccurrences(of: "-", with: "_")
            if let v = environment[envName] { envValues[k] = v }
        }

        if let file = flags["config"] ?? envValues["config"] {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ConfigError(code: .badFile, key: "config", message: "cannot read \(file)")
            }
            guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                throw ConfigError(code: .badFile, key: "config", message: "\(file) is not a JSON object of key: value")
            }
            for (k, v) in obj {
                guard known.contains(k) else {
                    throw ConfigError(code: .unknownKey, key: k, message: "unknown key in \(file)")
                }
                values[k] = "\(v)"
            }
        }
        values.merge(envValues) { $1 }
        values.merge(flags) { $1 }

        let data = values["data"] ?? "./vigil-data"
        let absData = data.hasPrefix("/") ? data : FileManager.default.currentDirectoryPath + "/" + data
        let local = BusEndpoints.local(runDirectory: standardize(absData) + "/run")
        var cfg = RuntimeConfig(service: service, instance: "",
                                dataDirectory: standardize(absData),
                                endpoints: BusEndpoints(publish: values["endpoint.publish"] ?? local.publish,
                                                        subscribe: values["endpoint.subscribe"] ?? local.subscribe,
                                                        rpc: values["endpoint.rpc"] ?? local.rpc))
        cfg.settings = values
        cfg.instanceIndex = try cfg.int("index", default: 0)
        cfg.instanceCount = try cfg.int("count", default: 1)
        cfg.partitions = try cfg.int("partitions", default: 16)
        guard cfg.instanceCount >= 1, cfg.instanceIndex >= 0, cfg.instanceIndex < cfg.instanceCount else {
            throw ConfigError(code: .badValue, key: "index", message: "index must be in 0..<count (index \(cfg.instanceIndex), count \(cfg.instanceCount))")
        }
        guard (1...4096).contains(cfg.partitions) else {
            throw ConfigError(code: .badValue, key: "partitions", message: "must be 1…4096, got \(cfg.partitions)")
        }
        cfg.instance = values["instance"] ?? "\(service)-\(cfg.instanceIndex)"
        if let l = values["log-level"] {
            guard let lvl = Logger.Level(name: l) else {
                throw ConfigError(code: .badValue, key: "log-level", message: "expected debug, info, warning or error; got '\(l)'")
            }
            cfg.logLevel = lvl
        }
        cfg.limits.maxMessageBytes = Int64(try cfg.int("max-message-bytes", default: Int(cfg.limits.maxMessageBytes)))
        cfg.limits.highWaterMark = Int32(try cfg.int("hwm", default: Int(cfg.limits.highWaterMark)))
        if let secret = try cfg.key("curve.secret") {
            let server = try cfg.key("curve.server-public")
            let pub: String
            do { pub = try CurveKeys.publicKey(forSecret: secret) } catch {
                throw ConfigError(code: .badValue, key: "curve.secret", message: "not a CURVE secret key (40 Z85 characters): \(error)")
            }
            if service != "broker" && server == nil {
                throw ConfigError(code: .missingValue, key: "curve.server-public", message: "with curve.secret set, the broker's public key is needed too")
            }
            cfg.limits.curve = CurveKeys(publicKey: pub, secretKey: secret, serverPublicKey: server)
        }
        return cfg
    }

    static func standardize(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// The effective configuration as JSON (for `--print-config` and the compose check).
    public func json(serviceDefaults: [String: String] = [:], broker: Bool = false) -> String {
        var obj: [String: Any] = [
            "service": service, "instance": instance, "data": dataDirectory,
            "endpoint.publish": endpoints.publish, "endpoint.subscribe": endpoints.subscribe,
            "endpoint.rpc": endpoints.rpc, "partitions": partitions, "index": instanceIndex,
            "count": instanceCount, "log-level": logLevel.name, "store": storePath,
        ]
        for (k, v) in serviceDefaults { obj[k] = settings[k] ?? v }
        if broker {
            // The broker owns no store and answers RPC as "broker".
            obj["instance"] = "broker"
            obj["store"] = nil
            for k in ["partitions", "index", "count"] { obj[k] = nil }
        }
        let data = (try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .prettyPrinted])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

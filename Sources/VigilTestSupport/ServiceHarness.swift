import Foundation
import VigilService

/// What an in-process test of one service needs: a data directory of its own and a runtime
/// configured as the service's `main` would configure it (the real store, sockets and loop
/// pieces; nothing started until the test drives it). For tests only.
public final class ServiceHarness {
    public let directory: String
    public let service: String
    public let keys: [(String, String)]

    /// Creates a fresh directory under the system's temporary directory.
    public init(service: String, keys: [(String, String)]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(service)-test-\(UUID().uuidString)").path
        self.service = service
        self.keys = keys
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// A runtime on the directory, as instance `<service>-test-0`, with `arguments` added
    /// (`--key value`, checked against the service's keys like a command line).
    public func runtime(_ arguments: [String] = []) throws -> ServiceRuntime {
        let cfg = try RuntimeConfig.load(service: service, serviceKeys: keys,
                                         arguments: ["--data", directory, "--log-level", "error", "--instance", "\(service)-test-0"] + arguments,
                                         environment: [:])
        return try ServiceRuntime(config: cfg)
    }

    /// Removes the directory and everything in it.
    public func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

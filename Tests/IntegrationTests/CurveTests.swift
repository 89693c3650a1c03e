import Foundation
import XCTest
import VigilBus
import VigilLog
import VigilWire

/// Invariant 6: with CURVE, the broker talks only to clients whose key is on its allowlist,
/// and every byte on the wire is encrypted. Real broker and service processes over tcp://.
final class CurveTests: XCTestCase {
    func testOnlyAllowedKeysGetThrough() throws {
        let stack = try TestStack()
        defer { stack.cleanup() }
        let broker = try CurveKeys.generate(), service = try CurveKeys.generate()
        let admin = try CurveKeys.generate(), stranger = try CurveKeys.generate()
        let allow = stack.dir + "/allowed_clients"
        try "# ingest\n\(service.publicKey)\n\(admin.publicKey)  # admin shell\n".write(toFile: allow, atomically: true, encoding: .utf8)
        try broker.secretKey.write(toFile: stack.dir + "/broker.key", atomically: true, encoding: .utf8)
        let ports = (0..<3).map { _ in TestStack.freePort() }
        let bind = ports.map { "tcp://127.0.0.1:\($0)" }
        try stack.start("vigil-broker", name: "broker", ["--endpoint.publish", bind[0], "--endpoint.subscribe", bind[1], "--endpoint.rpc", bind[2],
                                                          "--curve.secret", "@" + stack.dir + "/broker.key", "--curve.allow", allow])
        try stack.start("vigil-ingest", name: "ingest", ["--endpoint.publish", bind[0], "--endpoint.subscribe", bind[1], "--endpoint.rpc", bind[2],
                                                          "--curve.secret", service.secretKey, "--curve.server-public", broker.publicKey])
        func client(_ keys: CurveKeys?) throws -> RpcClient {
            var limits = BusLimits()
            limits.curve = keys
            return try RpcClient(context: stack.context, endpoint: bind[2], limits: limits)
        }
        var allowed = admin
        allowed.serverPublicKey = broker.publicKey
        let good = try client(allowed)
        defer { good.close() }
        let h = try good.call(service: "ingest", method: "sys.health", HealthResponse(), as: HealthResponse.self, timeoutMs: 15_000)
        XCTAssertEqual(h.instance, "ingest-0", "an allowed client reaches a service that itself authenticated")

        var unknown = stranger
        unknown.serverPublicKey = broker.publicKey
        let bad = try client(unknown)
        defer { bad.close() }
        XCTAssertThrowsError(try bad.call(service: "ingest", method: "sys.health", timeoutMs: 2000), "a key not on the allowlist is refused")
        let plain = try client(nil)
        defer { plain.close() }
        XCTAssertThrowsError(try plain.call(service: "ingest", method: "sys.health", timeoutMs: 2000), "plaintext is refused")
        let m = try good.call(service: "broker", method: "sys.metrics", MetricsResponse(), as: MetricsResponse.self)
        XCTAssertGreaterThanOrEqual(m.counters["auth_refused"] ?? 0, 1)
        XCTAssertTrue(stack.log("broker").contains("client key not on the allowlist"))
    }

    func testCurveWithoutAllowlistIsRefusedAtStart() throws {
        let stack = try TestStack()
        defer { stack.cleanup() }
        let k = try CurveKeys.generate()
        let p = try stack.start("vigil-broker", name: "broker", ["--curve.secret", k.secretKey])
        p.waitUntilExit()
        XCTAssertNotEqual(p.terminationStatus, 0)
        XCTAssertTrue(stack.log("broker").contains("curve.allow"), stack.log("broker"))
    }
}

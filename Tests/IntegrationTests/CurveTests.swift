import Foundation
import XCTest
import VigilTestSupport
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
        let ports = (0..<3).map { _ in FreePort.next() }
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

    /// Roles: over CURVE the broker judges a request by the key's role on the allowlist, not by
    /// what the caller states; locally (ipc) by the stated role. Reads need viewer, changes analyst.
    func testRolesComeFromTheAllowlistOverCurve() throws {
        let stack = try TestStack()
        defer { stack.cleanup() }
        let broker = try CurveKeys.generate(), service = try CurveKeys.generate()
        let viewer = try CurveKeys.generate(), analyst = try CurveKeys.generate()
        let allow = stack.dir + "/allowed_clients"
        try "\(service.publicKey)   # ingest: no role, a service\n\(viewer.publicKey) viewer alice  # read only\n\(analyst.publicKey) analyst bob\n"
            .write(toFile: allow, atomically: true, encoding: .utf8)
        let bind = (0..<3).map { _ in "tcp://127.0.0.1:\(FreePort.next())" }
        try stack.start("vigil-broker", name: "broker", ["--endpoint.publish", bind[0], "--endpoint.subscribe", bind[1], "--endpoint.rpc", bind[2],
                                                          "--curve.secret", broker.secretKey, "--curve.allow", allow])
        try stack.start("vigil-ingest", name: "ingest", ["--endpoint.publish", bind[0], "--endpoint.subscribe", bind[1], "--endpoint.rpc", bind[2],
                                                          "--curve.secret", service.secretKey, "--curve.server-public", broker.publicKey,
                                                          "--syslog.udp", "off", "--syslog.tcp", "off", "--json.tcp", "off"])
        func client(_ k: CurveKeys) throws -> RpcClient {
            var keys = k
            keys.serverPublicKey = broker.publicKey
            var limits = BusLimits()
            limits.curve = keys
            // Both claim to be admins; the allowlist decides.
            return try RpcClient(context: stack.context, endpoint: bind[2], caller: Identity(name: "mallory", role: "admin"), limits: limits)
        }
        let alice = try client(viewer), bob = try client(analyst)
        defer { alice.close(); bob.close() }
        var empty = EventBatch(); empty.batchId = "roles"
        _ = try alice.call(service: "ingest", method: "ingest.sources", SourcesRequest(), as: SourcesResponse.self, timeoutMs: 15_000)
        XCTAssertThrowsError(try alice.call(service: "ingest", method: "ingest.reparse", empty, as: EventBatchAck.self, timeoutMs: 5000)) { e in
            let err = e as? RpcError
            XCTAssertEqual(err?.code, .permissionDenied)
            XCTAssertEqual(err?.message, "ingest.reparse needs role analyst or admin; caller 'alice' has role viewer (authenticated by its CURVE key)")
        }
        let ack = try bob.call(service: "ingest", method: "ingest.reparse", empty, as: EventBatchAck.self, timeoutMs: 5000)
        XCTAssertEqual(ack.accepted, 0)
    }

    /// ipc:// (the default, one host): the stated role is checked; the run directory admits
    /// only its owner, so a stated identity is as trustworthy as the account that runs Vigil.
    func testStatedRolesAreCheckedLocally() throws {
        let stack = try TestStack()
        defer { stack.cleanup() }
        try stack.start("vigil-broker", name: "broker")
        try stack.start("vigil-ingest", name: "ingest", ["--syslog.udp", "off", "--syslog.tcp", "off", "--json.tcp", "off"])
        try stack.waitHealthy(["ingest"])
        let c = try RpcClient(context: stack.context, endpoint: stack.endpoints.rpc, caller: Identity(name: "carol", role: "viewer"))
        defer { c.close() }
        _ = try c.call(service: "ingest", method: "ingest.sources", SourcesRequest(), as: SourcesResponse.self, timeoutMs: 5000)
        var b = EventBatch(); b.batchId = "x"
        XCTAssertThrowsError(try c.call(service: "ingest", method: "ingest.submit", b, as: EventBatchAck.self, timeoutMs: 5000)) { e in
            XCTAssertEqual((e as? RpcError)?.message, "ingest.submit needs role agent, analyst or admin; caller 'carol' has role viewer")
        }
        XCTAssertEqual(try stack.metrics("ingest").counters["rpc.denied"], 1)
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

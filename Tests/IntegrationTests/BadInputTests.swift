import Foundation
import XCTest
import VigilBus
import VigilLog
import VigilStore
import VigilWire
#if canImport(Glibc)
import Glibc
#endif

/// Invariant 3: garbage on every endpoint is counted and logged, never crashes a service and
/// never stops it serving others.
final class BadInputTests: XCTestCase {
    var stack: TestStack!

    override func setUpWithError() throws { stack = try TestStack() }
    override func tearDown() {
        if let s = stack, testRun?.hasSucceeded == false {
            for n in ["broker", "ingest", "enrichment", "detection"] { print("--- \(n) log ---\n\(s.log(n).suffix(3000))") }
        }
        stack?.cleanup()
    }

    func testGarbageOnEveryEndpointIsCountedAndServicesStayUp() throws {
        try stack.start("vigil-broker", name: "broker", ["--max-message-bytes", "65536"])
        try stack.start("vigil-ingest", name: "ingest", ["--max-message-bytes", "65536"])
        try stack.start("vigil-enrichment", name: "enrichment")
        try stack.start("vigil-detection", name: "detection")
        try stack.waitHealthy(["ingest", "enrichment", "detection"])
        let ctx = stack.context

        // 1. Broker RPC endpoint: frames that follow no protocol, and an oversized message.
        let raw = try ZSocket(ctx, .dealer)
        try raw.connect(stack.endpoints.rpc)
        try raw.send([[0xde, 0xad, 0xbe, 0xef]])
        try raw.send([Array("VC01".utf8), Array("ingest".utf8)])
        try raw.send([Array("XX99".utf8), [1], [2]])
        try raw.send([Array(repeating: 0x41, count: 200_000)])
        // 2. A well-framed request whose RpcRequest is garbage, and a valid request with a garbage payload.
        try raw.send([Array("VC01".utf8), Array("ingest".utf8), Array("g1".utf8), [0x0a, 0xff, 0xff, 0x01]])
        let badSubmit = RpcRequest(method: "ingest.submit", requestId: "g2", caller: Identity(name: "fuzzer", role: "analyst"), payload: [0x1a, 0x7f, 0x00])
        try raw.send([Array("VC01".utf8), Array("ingest".utf8), Array("g2".utf8), badSubmit.encoded()])
        var codes: [String: ErrorCode] = [:]
        let deadline = Clock.monotonicMs() + 5000
        while codes.count < 2 && Clock.monotonicMs() < deadline {
            guard zpoll([raw], timeoutMs: 200)[0], let f = try raw.receive(), f.count == 4 else { continue }
            codes[f[1].utf8String] = (try? RpcResponse(decoding: f[3]))?.errorCode
        }
        XCTAssertEqual(codes["g1"], .badRequest)
        XCTAssertEqual(codes["g2"], .badRequest)
        raw.close()

        // 3. Published garbage on the topics services consume.
        let pub = try Publisher(context: ctx, endpoint: stack.endpoints.publish)
        usleep(300_000)
        var badPayload = StreamEnvelope()
        badPayload.producerId = "intruder"; badPayload.stream = "events.enriched.0"; badPayload.sequence = 1
        badPayload.kind = .data; badPayload.topic = "events.enriched.0"; badPayload.payload = [0x0a, 0x50]
        for _ in 0..<3 {
            pub.publish(topic: "events.parsed.1", body: [0xff, 0xfe, 0xfd])
            pub.publish(topic: "events.enriched.0", body: badPayload.encoded())
            usleep(100_000)
        }
        pub.close()

        // 4. Binary garbage and an over-long line on the syslog listeners.
        stack.sendRaw([0x00, 0xff, 0xfe, 0x80, 0x81, 0x0a], tcp: false)
        stack.sendRaw([0x00, 0xff, 0x0a] + Array(repeating: 0x42, count: 300_000) + [0x0a], tcp: true)

        try stack.eventually("broker counts malformed frames") { (try self.stack.metrics("broker").counters["malformed"] ?? 0) >= 2 }
        try stack.eventually("enrichment counts undecodable stream messages") { (try self.stack.metrics("enrichment").counters["in.malformed"] ?? 0) >= 1 }
        try stack.eventually("detection counts the undecodable event") { (try self.stack.metrics("detection").counters["malformed"] ?? 0) >= 1 }
        try stack.eventually("ingest counts malformed requests") { (try self.stack.metrics("ingest").counters["malformed"] ?? 0) >= 1 }
        try stack.eventually("garbage lines are stored as unparsed events") { (try self.stack.metrics("ingest").counters["unparsed"] ?? 0) >= 2 }

        // Everyone is still up and the pipeline still works end to end.
        for (name, p) in stack.processes { XCTAssertTrue(p.isRunning, "\(name) died") }
        let sub = try Subscriber(context: ctx, endpoint: stack.endpoints.subscribe, prefixes: ["signals."])
        defer { sub.close() }
        usleep(400_000)
        try stack.sendSyslog(["<38>Dec  4 09:15:11 web01 sshd[1]: Failed password for root from 192.0.2.1 port 1 ssh2"], tcp: false)
        var got = false
        let d2 = Clock.monotonicMs() + 15_000
        while !got && Clock.monotonicMs() < d2 { got = sub.receive(timeoutMs: 100) != nil }
        XCTAssertTrue(got, "a signal still comes through after the garbage")
        XCTAssertTrue(stack.log("broker").contains("malformed rpc message"), "broker logs the malformed frames")
    }
}

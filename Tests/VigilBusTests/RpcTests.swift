import Foundation
import XCTest
@testable import VigilBus
import VigilLog
import VigilWire

/// Runs an RpcWorker on its own thread answering `echo` with its instance name.
final class WorkerThread: @unchecked Sendable {
    private let stop = Flag()
    private let done = DispatchSemaphore(value: 0)

    init(context: ZContext, endpoint: String, service: String, instance: String) {
        let ready = DispatchSemaphore(value: 0)
        let stop = stop, done = done
        Thread.detachNewThread {
            let w = try! RpcWorker(context: context, endpoint: endpoint, services: [service, instance], instance: instance,
                                   logger: Logger(label: instance, level: .error))
            w.heartbeatIntervalMs = 200
            w.handle("echo", role: .viewer) { req in RpcResponse(payload: req.payload + Array(instance.utf8)) }
            ready.signal()
            while !stop.isSet {
                if zpoll([w.socket], timeoutMs: 50)[0] { w.processAvailable() }
                w.heartbeat()
            }
            // No goodbye: the socket just goes away, like a process killed with SIGKILL.
            w.socket.close()
            done.signal()
        }
        ready.wait()
    }

    /// Stops without saying goodbye, like a killed process.
    func kill() { stop.set(); done.wait() }
}

final class RpcTests: XCTestCase {
    var broker: InProcessBroker!

    override func setUpWithError() throws { broker = try InProcessBroker() }
    override func tearDown() { broker.shutdown() }

    func testRequestReplyAndUnknownMethod() throws {
        let w = WorkerThread(context: broker.context, endpoint: broker.endpoints.rpc, service: "svc", instance: "svc-a")
        defer { w.kill() }
        let client = try RpcClient(context: broker.context, endpoint: broker.endpoints.rpc)
        defer { client.close() }
        let r = try client.call(service: "svc", method: "echo", payload: Array("hi-".utf8), timeoutMs: 5000)
        XCTAssertEqual(r.payload.utf8String, "hi-svc-a")
        XCTAssertEqual(r.instance, "svc-a")
        XCTAssertThrowsError(try client.call(service: "svc", method: "nope", timeoutMs: 2000)) { e in
            XCTAssertEqual((e as? RpcError)?.code, .unknownMethod)
            XCTAssertTrue("\(e)".contains("echo"), "error should list the known methods: \(e)")
        }
    }

    func testMissingServiceTimesOutAsUnavailable() throws {
        let client = try RpcClient(context: broker.context, endpoint: broker.endpoints.rpc)
        defer { client.close() }
        let t0 = Clock.monotonicMs()
        XCTAssertThrowsError(try client.call(service: "ghost", method: "echo", timeoutMs: 600)) { e in
            XCTAssertEqual((e as? RpcError)?.code, .unavailable)
        }
        XCTAssertLessThan(Clock.monotonicMs() - t0, 3000)
    }

    /// Round robin over two instances; when one dies (its connection closes, like a killed
    /// process) no request is handed to it any more, long before its heartbeats run out.
    func testTwoInstancesShareLoadAndSurviveOneDying() throws {
        let a = WorkerThread(context: broker.context, endpoint: broker.endpoints.rpc, service: "svc", instance: "svc-a")
        let b = WorkerThread(context: broker.context, endpoint: broker.endpoints.rpc, service: "svc", instance: "svc-b")
        defer { b.kill() }
        let client = try RpcClient(context: broker.context, endpoint: broker.endpoints.rpc)
        defer { client.close() }
        var seen = Set<String>()
        for _ in 0..<20 { seen.insert(try client.call(service: "svc", method: "echo", timeoutMs: 3000).instance) }
        XCTAssertEqual(seen, ["svc-a", "svc-b"], "round robin should reach both instances")
        a.kill()
        usleep(100_000) // the broker's I/O thread notices the closed connection
        let t0 = Clock.monotonicMs()
        for _ in 0..<20 {
            // One attempt only: a request handed to the dead worker would fail this call.
            XCTAssertEqual(try client.call(service: "svc", method: "echo", timeoutMs: 2000, attemptTimeoutMs: 2000).instance, "svc-b")
        }
        // Well within one heartbeat expiry (3 × 1 s), which is how long requests were lost before.
        XCTAssertLessThan(Clock.monotonicMs() - t0, 2000)
        // Addressing an instance by its own name reaches exactly that one.
        XCTAssertEqual(try client.call(service: "svc-b", method: "echo", timeoutMs: 3000).instance, "svc-b")
    }

    func testGarbageFramesAreCountedAndBrokerKeepsServing() throws {
        let w = WorkerThread(context: broker.context, endpoint: broker.endpoints.rpc, service: "svc", instance: "svc-a")
        defer { w.kill() }
        let raw = try ZSocket(broker.context, .dealer)
        try raw.connect(broker.endpoints.rpc)
        try raw.send([[0xff, 0x00]])
        try raw.send([Array("VC01".utf8), Array("svc".utf8)])
        try raw.send([Array("VW01".utf8), Array("WHAT".utf8)])
        // A well-framed request whose body is not protobuf: the worker answers BAD_REQUEST.
        try raw.send([Array("VC01".utf8), Array("svc".utf8), Array("r1".utf8), [0x0a, 0xff, 0x01]])
        XCTAssertTrue(zpoll([raw], timeoutMs: 3000)[0])
        let reply = try XCTUnwrap(try raw.receive())
        XCTAssertEqual(reply.count, 4)
        XCTAssertEqual(reply[1].utf8String, "r1")
        let resp = try RpcResponse(decoding: reply[3])
        XCTAssertEqual(resp.errorCode, .badRequest)
        raw.close()
        let client = try RpcClient(context: broker.context, endpoint: broker.endpoints.rpc)
        defer { client.close() }
        let m = try client.call(service: "svc", method: "echo", payload: [], timeoutMs: 3000)
        XCTAssertEqual(m.instance, "svc-a")
    }

    func testDeferredRepliesCanComeLaterAndOutOfOrder() throws {
        // The worker answers `later` only once it holds three requests, last one first.
        let stop = Flag(), ready = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        let context = broker.context, endpoint = broker.endpoints.rpc
        Thread.detachNewThread {
            let w = try! RpcWorker(context: context, endpoint: endpoint, services: ["svc"], instance: "svc-a",
                                   logger: Logger(label: "svc-a", level: .error))
            var held: [(RpcRequest, (RpcResponse) -> Void)] = []
            w.handleDeferred("later", role: .viewer) { req, reply in held.append((req, reply)) }
            ready.signal()
            while !stop.isSet {
                if zpoll([w.socket], timeoutMs: 20)[0] { w.processAvailable() }
                if held.count == 3 {
                    for (req, reply) in held.reversed() { reply(RpcResponse(payload: req.payload + Array("-done".utf8))) }
                    held.removeAll()
                }
                w.heartbeat()
            }
            w.close()
            done.signal()
        }
        ready.wait()
        defer { stop.set(); done.wait() }
        let client = try RpcClient(context: broker.context, endpoint: broker.endpoints.rpc)
        defer { client.close() }
        var answers: [String: String] = [:]
        for name in ["a", "b", "c"] {
            client.send(service: "svc", method: "later", payload: Array(name.utf8), timeoutMs: 5000) { r in
                if case .success(let resp) = r { answers[name] = resp.payload.utf8String }
            }
        }
        let deadline = Clock.monotonicMs() + 5000
        while answers.count < 3 && Clock.monotonicMs() < deadline {
            if zpoll([client.socket], timeoutMs: 50)[0] { client.processAvailable() }
            client.expire()
        }
        XCTAssertEqual(answers, ["a": "a-done", "b": "b-done", "c": "c-done"])
    }
}

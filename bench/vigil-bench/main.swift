import BenchSupport
import Foundation
import VigilBus
import VigilLog
import VigilStore
import VigilWire
#if canImport(Glibc)
import Glibc
#endif

// Bus benchmark: pub/sub through the broker, reliable streams with the SQLite outbox and
// consumer commits, and RPC round trips (lock-step and pipelined). Starts the real broker
// binary from the same build directory. Build in release mode:
//   swift build -c release --product vigil-bench --product vigil-broker && .build/release/vigil-bench [--quick]

let options = BenchOptions.parse(tool: "vigil-bench", summary: """
    The bus through the real broker: pub/sub, reliable streams with the SQLite outbox, RPC round trips.
    """, options: [BenchOption("--quick", .flag, "fewer messages per measurement")])
let quick = options.flag("--quick")
Interruption.install(tool: "vigil-bench")
let logger = Logger(label: "bench", level: .error)
let binDir = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]).deletingLastPathComponent().path
let dir = "/tmp/vigil-bench-\(getpid())"
try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
let endpoints = BusEndpoints.local(runDirectory: dir)

final class Flag: @unchecked Sendable {
    private let lock = NSLock(); private var v = false
    func set() { lock.lock(); v = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return v }
}

func seconds(_ t0: Int64) -> Double { Double(Clock.monotonicMs() - t0) / 1000 }

let broker = Process()
broker.executableURL = URL(fileURLWithPath: binDir + "/vigil-broker")
broker.arguments = ["--data", dir, "--endpoint.publish", endpoints.publish, "--endpoint.subscribe", endpoints.subscribe,
                    "--endpoint.rpc", endpoints.rpc, "--log-level", "error", "--hwm", "1000000"]
try broker.run()
Interruption.track(broker.processIdentifier)
usleep(300_000)
let ctx = ZContext()
var results: [(String, String)] = []

// 1. Pub/sub through the broker, 400-byte bodies.
do {
    let n = quick ? 300_000 : 1_000_000
    let limits: BusLimits = { var l = BusLimits(); l.highWaterMark = 1_000_000; return l }()
    let sub = try Subscriber(context: ctx, endpoint: endpoints.subscribe, prefixes: ["bench."], limits: limits)
    let body = [UInt8](repeating: 0x61, count: 400)
    let done = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
        // The publisher belongs to this thread (sockets have one owner).
        guard let pub = try? Publisher(context: ctx, endpoint: endpoints.publish, limits: limits) else { return }
        usleep(500_000)
        for _ in 0..<n { pub.publish(topic: "bench.x", body: body) }
        pub.close()
        done.signal()
    }
    var got = 0
    var t0: Int64 = 0
    var last = Clock.monotonicMs()
    while got < n {
        if sub.receive(timeoutMs: 200) != nil {
            if t0 == 0 { t0 = Clock.monotonicMs() }
            got += 1
            while got < n, (try? sub.socket.receive(dontWait: true)) ?? nil != nil { got += 1 }
            last = Clock.monotonicMs()
        } else if Clock.monotonicMs() - last > 3000 {
            break // nothing more is coming: the rest was dropped at an HWM
        }
    }
    if t0 == 0 { t0 = last }
    done.wait()
    let secs = Double(last - t0) / 1000
    let rate = Double(got) / secs
    print(String(format: "pub/sub via broker: %d of %d messages (400 B) in %.2f s = %.0f msg/s", got, n, secs, rate))
    results.append(("pubsub_msgs_per_s", String(Int(rate))))
    results.append(("pubsub_delivered_pct", String(format: "%.1f", Double(got) * 100 / Double(n))))
    sub.close()
}

// 2. Reliable stream: producer appends to its SQLite outbox (5k per transaction) and
// publishes; consumer commits rows + positions per batch; replay fills any drop.
do {
    let n = quick ? 100_000 : 500_000
    let producerDone = Flag()
    let stop = Flag()
    let producerThread = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
        do {
            let db = try Database(path: dir + "/producer.db")
            let pub = try Publisher(context: ctx, endpoint: endpoints.publish)
            let p = try StreamProducer(db: db, publisher: pub, options: StreamProducer.Options(producerId: "bench-producer"), logger: logger)
            let w = try RpcWorker(context: ctx, endpoint: endpoints.rpc, services: ["bench-producer"], instance: "bench-producer", logger: logger)
            w.handle("stream.replay") { req in (try? p.replay(try ReplayRequest(decoding: req.payload))).map { .ok($0) } ?? .failure(.badRequest, "bad") }
            w.handle("stream.ack") { req in try? p.acknowledge(try AckRequest(decoding: req.payload)); return RpcResponse() }
            usleep(500_000)
            var e = Event()
            e.id = "0123456789abcdef0123456789abcdef"; e.source = "syslog-udp"; e.format = "linux-auth"
            e.raw = Array("<38>Dec  4 09:15:11 web01 sshd[2240]: Failed password for invalid user admin from 203.0.113.45 port 40122 ssh2".utf8)
            e.fields = ["event.category": "authentication", "event.outcome": "failure", "user.name": "admin",
                        "source.ip": "203.0.113.45", "host.name": "web01", "process.name": "sshd"]
            let payload = e.encoded()
            var sent = 0
            while sent < n {
                let k = min(5000, n - sent)
                try db.transaction {
                    for i in 0..<k {
                        let s = "bench.stream.\((sent + i) % 16)"
                        try p.append(stream: s, topic: s, payloadType: Event.typeName, payload: payload)
                    }
                }
                p.publishCommitted()
                sent += k
                w.processAvailable()
                w.heartbeat()
            }
            producerDone.set()
            while !stop.isSet {
                if zpoll([w.socket], timeoutMs: 20)[0] { w.processAvailable() }
                w.heartbeat()
                p.announceHeads()
            }
            w.close(); pub.close(); db.close()
        } catch { print("producer failed: \(error)") }
        producerThread.signal()
    }
    let cdb = try Database(path: dir + "/consumer.db")
    try cdb.execute("CREATE TABLE got(stream TEXT, seq INTEGER, payload BLOB, PRIMARY KEY(stream, seq)) WITHOUT ROWID")
    let client = try RpcClient(context: ctx, endpoint: endpoints.rpc)
    let consumer = try StreamConsumer(context: ctx, endpoints: endpoints, db: cdb, rpc: client,
                                      options: StreamConsumer.Options(consumerId: "bench-consumer", topicPrefixes: ["bench.stream."]), logger: logger)
    var committed = 0
    var t0: Int64 = 0
    let deadline = Clock.monotonicMs() + 300_000
    while committed < n && Clock.monotonicMs() < deadline {
        if zpoll([consumer.socket, client.socket], timeoutMs: 10).contains(true) {
            consumer.receiveAvailable()
            client.processAvailable()
        }
        client.expire()
        consumer.sendAcks()
        while consumer.hasReady {
            if t0 == 0 { t0 = Clock.monotonicMs() }
            let batch = consumer.takeReady(max: 5000)
            try cdb.transaction {
                for env in batch {
                    try cdb.run("INSERT INTO got(stream, seq, payload) VALUES(?,?,?)", [.text(env.stream), .integer(Int64(env.sequence)), .blob(env.payload)])
                }
                try consumer.commitPositions(batch)
            }
            consumer.didCommit()
            committed += batch.count
        }
    }
    let secs = seconds(t0)
    stop.set()
    producerThread.wait()
    let c = consumer.counters
    let rate = Double(committed) / secs
    print(String(format: "reliable stream: %d events produced (outbox, 5k/txn) and consumed (commit + position) in %.2f s = %.0f events/s; gaps %d, replayed %d, duplicates %d",
                 committed, secs, rate, c.gaps, c.replayed, c.duplicates))
    results.append(("stream_events_per_s", String(Int(rate))))
    consumer.close(); client.close(); cdb.close()
}

// 3. RPC through the broker to a worker thread: lock-step and 100 in flight.
do {
    let stop = Flag()
    let workerDone = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
        let w = try! RpcWorker(context: ctx, endpoint: endpoints.rpc, services: ["bench-echo"], instance: "bench-echo-0", logger: logger)
        w.handle("echo") { req in RpcResponse(payload: req.payload) }
        while !stop.isSet {
            if zpoll([w.socket], timeoutMs: 20)[0] { w.processAvailable(limit: 100_000) }
            w.heartbeat()
        }
        w.close()
        workerDone.signal()
    }
    let client = try RpcClient(context: ctx, endpoint: endpoints.rpc)
    _ = try client.call(service: "bench-echo", method: "echo", timeoutMs: 5000)
    let lockN = quick ? 5_000 : 20_000
    var t0 = Clock.monotonicMs()
    for _ in 0..<lockN { _ = try client.call(service: "bench-echo", method: "echo", payload: [1, 2, 3], timeoutMs: 5000) }
    let lockRate = Double(lockN) / seconds(t0)
    let pipeN = quick ? 100_000 : 300_000
    var done = 0, sent = 0, failed = 0
    t0 = Clock.monotonicMs()
    while done < pipeN {
        while sent < pipeN && sent - done < 100 {
            sent += 1
            client.send(service: "bench-echo", method: "echo", payload: [1, 2, 3], timeoutMs: 10_000) { r in
                done += 1
                if case .failure = r { failed += 1 }
            }
        }
        if zpoll([client.socket], timeoutMs: 100)[0] { client.processAvailable() }
        client.expire()
    }
    let pipeRate = Double(pipeN) / seconds(t0)
    print(String(format: "rpc via broker: lock-step %.0f round trips/s; pipelined (100 in flight) %.0f/s (%d failed)", lockRate, pipeRate, failed))
    results.append(("rpc_lockstep_per_s", String(Int(lockRate))))
    results.append(("rpc_pipelined_per_s", String(Int(pipeRate))))
    stop.set()
    workerDone.wait()
    client.close()
}

ctx.terminate()
kill(broker.processIdentifier, SIGTERM)
broker.waitUntilExit()
Interruption.untrack(broker.processIdentifier)
try? FileManager.default.removeItem(atPath: dir)
print("RESULT " + results.map { "\($0.0)=\($0.1)" }.joined(separator: " "))

import Foundation
import VigilBus
import VigilLog
import VigilParsers
import VigilWire

/// Builds normalized, partitioned events from raw lines. Each thread that builds events owns
/// one (its own `EventIdGenerator`, so ids stay unique without sharing state).
struct EventBuilder {
    var ids = EventIdGenerator()
    let parsers = ParserChain.standard
    let partitions: Int

    init(partitions: Int) { self.partitions = partitions }

    /// The normalized event for one raw line.
    /// `hint` names the format the sender declared (ParserChain hint names; nil = sniff).
    mutating func makeEvent(raw: [UInt8], source: String, sender: String, now: Int64, hint: String? = nil) -> Event {
        var e = Event()
        e.id = ids.next(now: now)
        e.receivedTimeMs = now
        e.eventTimeMs = now
        e.source = source
        e.sender = sender
        e.raw = raw
        // Invalid UTF-8 is decoded with replacement characters so the line still parses
        // (ParserChain.parse(bytes:)); the raw bytes are kept unchanged.
        switch parsers.parse(bytes: raw, hint: hint, receivedAt: now) {
        case .success(let p):
            e.parseStatus = .parsed
            e.format = p.format
            e.fields = p.fields
            e.original = p.vendor
            if let t = p.timestamp { e.eventTimeMs = t }
        case .failure(let f):
            e.parseStatus = .unparsed
            e.parseError = "\(f.code): \(f.reason)"
        }
        return e
    }

    /// Sets the partition key (unless given) and the partition. The partition is always
    /// derived here: a client's value is never trusted.
    func partition(_ e: inout Event) {
        let key = !e.partitionKey.isEmpty ? e.partitionKey
            : e.fields["host.name"] ?? e.fields["source.ip"] ?? String(e.sender.split(separator: ":").first ?? "")
        e.partitionKey = key
        e.partition = Partitioner.partition(of: key, count: partitions)
    }
}

/// Little-endian fixed-width integers in the inproc hand-off messages.
enum LE {
    @inline(__always) static func put(_ v: UInt64, _ n: Int, into b: inout [UInt8]) {
        for k in 0..<n { b.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(k)))) }
    }
    @inline(__always) static func get(_ b: UnsafeRawBufferPointer, _ at: Int, _ n: Int) -> UInt64 {
        var v: UInt64 = 0
        for k in 0..<n { v |= UInt64(b[at + k]) << (8 * UInt64(k)) }
        return v
    }
}

/// Lines as the listeners hand them to a parse worker: frames [source, sender, lines], where
/// lines is each line's length (u32) then its bytes. A TCP connection sends what one recv()
/// brought in one message (hundreds of lines): a message per line cost more in ZeroMQ than
/// the framing itself.
struct LineBatch {
    private(set) var bytes: [UInt8] = []
    private(set) var count = 0

    mutating func add<C: Collection>(_ line: C) where C.Element == UInt8 {
        LE.put(UInt64(UInt32(clamping: line.count)), 4, into: &bytes)
        bytes.append(contentsOf: line)
        count += 1
    }

    mutating func removeAll() { bytes.removeAll(keepingCapacity: true); count = 0 }

    /// Calls `body` with each line; false when the frame is not a whole number of lines.
    static func forEachLine(in frame: [UInt8], _ body: ([UInt8]) -> Void) -> Bool {
        frame.withUnsafeBytes { b in
            var i = 0
            while i < b.count {
                guard b.count - i >= 4 else { return false }
                let n = Int(LE.get(b, i, 4))
                i += 4
                guard b.count - i >= n else { return false }
                body(Array(b[i..<(i + n)]))
                i += n
            }
            return true
        }
    }
}

/// One built event as the ingest loop commits it.
struct BuiltEvent {
    var source: String
    var payload: [UInt8]
    var partition: Int
    var unparsed: Bool
    var rawBytes: Int
    var receivedTimeMs: Int64
}

/// Built events as a parse worker hands them to the ingest loop: one message per run of
/// events from one source, frames [source, records]; a record is partition (u32), unparsed
/// (u8), raw bytes (u32), received time (i64), payload length (u32), little-endian, then the
/// encoded Event. One message per batch instead of three frames per event.
struct BuiltBatch {
    static let recordHeader = 21
    private(set) var bytes: [UInt8] = []
    private(set) var count = 0

    mutating func add(_ e: Event, payload: [UInt8]) {
        LE.put(UInt64(e.partition), 4, into: &bytes)
        bytes.append(e.parseStatus == .unparsed ? 1 : 0)
        LE.put(UInt64(UInt32(clamping: e.raw.count)), 4, into: &bytes)
        LE.put(UInt64(bitPattern: e.receivedTimeMs), 8, into: &bytes)
        LE.put(UInt64(UInt32(clamping: payload.count)), 4, into: &bytes)
        bytes.append(contentsOf: payload)
        count += 1
    }

    mutating func removeAll() { bytes.removeAll(keepingCapacity: true); count = 0 }

    /// Appends the frame's events to `out`; false when the frame is not a whole number of
    /// records (what was read before the damage is kept).
    static func decode(_ frame: [UInt8], source: String, into out: inout [BuiltEvent]) -> Bool {
        frame.withUnsafeBytes { b in
            var i = 0
            while i < b.count {
                guard b.count - i >= recordHeader else { return false }
                let n = Int(LE.get(b, i + 17, 4))
                guard b.count - i - recordHeader >= n else { return false }
                let start = i + recordHeader
                out.append(BuiltEvent(source: source, payload: Array(b[start..<(start + n)]), partition: Int(LE.get(b, i, 4)),
                                      unparsed: b[i + 4] != 0, rawBytes: Int(LE.get(b, i + 5, 4)),
                                      receivedTimeMs: Int64(bitPattern: LE.get(b, i + 9, 8))))
                i = start + n
            }
            return true
        }
    }
}

/// Parse workers: threads between the listeners and the ingest loop. Listener threads push
/// `LineBatch` messages to the workers' inproc PULL sockets (each connection to one worker);
/// each worker builds the events (id, times, parse, partition), encodes them and pushes
/// `BuiltBatch` messages to the loop, which only appends to the outbox and commits. The
/// high-water marks give back-pressure end to end (loop → workers → listeners → TCP).
final class ParseWorkers: @unchecked Sendable {
    static func linesEndpoint(_ k: Int) -> String { "inproc://ingest-lines.\(k)" }
    static let eventsEndpoint = "inproc://ingest-events"

    let count: Int
    private let stopLock = NSLock()
    private var stopping = false
    private var running = 0

    var endpoints: [String] { (0..<count).map(Self.linesEndpoint) }

    /// Starts `count` workers; returns when their sockets are bound.
    init(context: ZContext, count: Int, threads: Int = 1, partitions: Int, hints: [String: String], registry: CollectionRegistry,
         logger: Logger) throws {
        self.count = max(1, count)
        let ready = DispatchSemaphore(value: 0)
        let failure = ErrorBox()
        for k in 0..<self.count {
            stopLock.lock(); running += 1; stopLock.unlock()
            Thread.detachNewThread { [self] in
                Thread.current.name = "parse-\(k)"
                defer { stopLock.lock(); running -= 1; stopLock.unlock() }
                let pull: ZSocket, push: ZSocket
                do {
                    pull = try ZSocket(context, .pull)
                    // Messages are batches now (a TCP recv() of lines; a UDP datagram is one line):
                    // the UDP listener's own send queue (1M) absorbs datagram bursts.
                    try pull.setHighWaterMarks(send: 1024, receive: 1024)
                    try pull.setReceiveTimeout(ms: 100)
                    try pull.bind(Self.linesEndpoint(k))
                    push = try ZSocket(context, .push)
                    // Up to `maxBatch` events per message.
                    try push.setHighWaterMarks(send: Self.eventsHighWaterMark, receive: Self.eventsHighWaterMark)
                    try push.connect(Self.eventsEndpoint)
                } catch {
                    failure.set(error)
                    ready.signal()
                    return
                }
                ready.signal()
                defer { pull.close(); push.close() }
                // One builder per chunk of a fanned-out batch (each has its own id generator).
                var builders = (0..<max(1, threads)).map { _ in EventBuilder(partitions: partitions) }
                var lastSource: [UInt8] = [], sourceName = "", hint: String?
                // A TCP connection sends many lines from one sender: decode and split it once.
                var lastSender: [UInt8] = [], sender = "", senderHost = ""
                var jobs: [Job] = []
                jobs.reserveCapacity(Self.maxBatch)
                var batch = BuiltBatch()
                while true {
                    let stop = isStopping
                    // After stop: take what is queued without waiting, then exit.
                    let received: [Frame]?
                    do { received = try pull.receive(dontWait: stop) } catch {
                        if stop { return }
                        usleep(1000)
                        continue
                    }
                    guard let first = received else {
                        if stop { return }
                        continue
                    }
                    // Take what is already queued behind it (never waiting for more), so a busy
                    // connection is parsed in batches that can be split over `parse-threads` threads.
                    jobs.removeAll(keepingCapacity: true)
                    var next: [Frame]? = first
                    while let f = next {
                        if f.count != 3 { logger.warning("malformed line message dropped") } else {
                            if f[0] != lastSource {
                                lastSource = f[0]; sourceName = f[0].utf8String; hint = hints[sourceName]
                            }
                            if f[1] != lastSender {
                                lastSender = f[1]; sender = f[1].utf8String; senderHost = CollectionRegistry.host(of: sender)
                            }
                            let now = Clock.nowMs()
                            let whole = LineBatch.forEachLine(in: f[2]) { raw in
                                // A refused line (its configured source or collector stopped) is counted by the registry.
                                if case .accept(let attribution) = registry.decide(host: senderHost, transport: sourceName, nowMs: now) {
                                    jobs.append(Job(raw: raw, source: sourceName, sender: sender, hint: hint, now: now, attribution: attribution))
                                }
                            }
                            if !whole { logger.warning("malformed line message: its tail was dropped") }
                        }
                        next = jobs.count < Self.maxBatch ? ((try? pull.receive(dontWait: true)) ?? nil) : nil
                    }
                    if jobs.isEmpty { continue }
                    // Built in parallel chunks (each writes only its own slots), sent in order:
                    // the order of every connection's lines is kept.
                    let out = Self.build(jobs, builders: &builders)
                    // One message per run of one source (in practice the whole batch). The buffer
                    // is kept between batches (send copies it) instead of growing a fresh ~1 MB one.
                    var start = 0
                    while start < out.count {
                        var end = start + 1
                        while end < out.count && jobs[end].source == jobs[start].source { end += 1 }
                        batch.removeAll()
                        for i in start..<end { batch.add(out[i].event, payload: out[i].payload) }
                        _ = try? push.send([Array(jobs[start].source.utf8), batch.bytes])
                        start = end
                    }
                }
            }
        }
        for _ in 0..<self.count { ready.wait() }
        if let e = failure.error { stop(); throw e }
    }

    /// A worker splits a batch over its `threads` builders; batches smaller than this stay on
    /// the worker's own thread (a hand-off costs more than parsing a few lines).
    static let fanoutMinimum = 64
    static let maxBatch = 1024
    /// Built-event messages queued per worker (each up to about `maxBatch` events).
    static let eventsHighWaterMark: Int32 = 32

    /// One accepted line waiting to be built.
    struct Job: Sendable {
        var raw: [UInt8], source: String, sender: String, hint: String?, now: Int64
        var attribution: CollectionRegistry.Attribution?
    }

    /// One built event and its encoding (the event is kept for its partition and status).
    struct Built: Sendable {
        var event = Event()
        var payload: [UInt8] = []
    }

    /// Builds, partitions and encodes the jobs; result i belongs to job i.
    static func build(_ jobs: [Job], builders: inout [EventBuilder]) -> [Built] {
        let n = jobs.count
        var out = [Built](repeating: Built(), count: n)
        let k = n >= fanoutMinimum ? builders.count : 1
        out.withUnsafeMutableBufferPointer { obuf in
            builders.withUnsafeMutableBufferPointer { bbuf in
                let shared = WorkerChunks(frames: obuf, builders: bbuf)
                let work: @Sendable (Int) -> Void = { c in
                    for i in (n * c / k)..<(n * (c + 1) / k) {
                        let j = jobs[i]
                        var e = shared.builders[c].makeEvent(raw: j.raw, source: j.source, sender: j.sender, now: j.now, hint: j.hint)
                        if let a = j.attribution { CollectionRegistry.attribute(&e, a) }
                        shared.builders[c].partition(&e)
                        let payload = e.encoded()
                        // Only what the loop needs travels on: the fields are in the payload.
                        e.fields = [:]; e.original = [:]
                        shared.frames[i] = Built(event: e, payload: payload)
                    }
                }
                if k == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: k, execute: work) }
            }
        }
        return out
    }

    private var isStopping: Bool { stopLock.lock(); defer { stopLock.unlock() }; return stopping }

    /// Asks the workers to finish what is queued for them and exit.
    func stop() { stopLock.lock(); stopping = true; stopLock.unlock() }

    var allStopped: Bool { stopLock.lock(); defer { stopLock.unlock() }; return running == 0 }
}

final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Error?
    func set(_ e: Error) { lock.lock(); if value == nil { value = e }; lock.unlock() }
    var error: Error? { lock.lock(); defer { lock.unlock() }; return value }
}

/// The buffers `ParseWorkers.build` fills in parallel: each chunk touches only its own index
/// range and its own builder, which is what makes sharing them across threads sound.
private struct WorkerChunks: @unchecked Sendable {
    let frames: UnsafeMutableBufferPointer<ParseWorkers.Built>
    let builders: UnsafeMutableBufferPointer<EventBuilder>
}

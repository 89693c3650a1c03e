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

/// One built event as the parse workers hand it to the ingest loop: frames
/// [source, encoded Event, meta], meta = partition (u32), unparsed (u8), raw bytes (u32),
/// received time (i64), little-endian.
struct BuiltEvent {
    var source: String
    var payload: [UInt8]
    var partition: Int
    var unparsed: Bool
    var rawBytes: Int
    var receivedTimeMs: Int64

    static let metaSize = 17

    static func frames(_ e: Event, payload: [UInt8]) -> [Frame] {
        var meta = [UInt8](repeating: 0, count: metaSize)
        func put(_ v: UInt64, _ at: Int, _ n: Int) { for k in 0..<n { meta[at + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) } }
        put(UInt64(e.partition), 0, 4)
        meta[4] = e.parseStatus == .unparsed ? 1 : 0
        put(UInt64(UInt32(clamping: e.raw.count)), 5, 4)
        put(UInt64(bitPattern: e.receivedTimeMs), 9, 8)
        return [Array(e.source.utf8), payload, meta]
    }

    /// nil when the frames are not a worker's message.
    init?(frames f: [Frame], source: String) {
        guard f.count == 3, f[2].count == Self.metaSize else { return nil }
        let m = f[2]
        func get(_ at: Int, _ n: Int) -> UInt64 { var v: UInt64 = 0; for k in 0..<n { v |= UInt64(m[at + k]) << (8 * UInt64(k)) }; return v }
        self.source = source
        payload = f[1]
        partition = Int(get(0, 4))
        unparsed = m[4] != 0
        rawBytes = Int(get(5, 4))
        receivedTimeMs = Int64(bitPattern: get(9, 8))
    }
}

/// Parse workers: threads between the listeners and the ingest loop. Listener threads push
/// raw lines [source, sender, bytes] round-robin to the workers' inproc PULL sockets; each
/// worker builds the event (id, times, parse, partition), encodes it and pushes
/// `BuiltEvent` frames to the loop, which only appends to the outbox and commits. The
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
                defer { stopLock.lock(); running -= 1; stopLock.unlock() }
                let pull: ZSocket, push: ZSocket
                do {
                    pull = try ZSocket(context, .pull)
                    try pull.setHighWaterMarks(send: 100_000, receive: 100_000)
                    try pull.setReceiveTimeout(ms: 100)
                    try pull.bind(Self.linesEndpoint(k))
                    push = try ZSocket(context, .push)
                    try push.setHighWaterMarks(send: 50_000, receive: 50_000)
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
                            // A refused line (its configured source or collector stopped) is counted by the registry.
                            if case .accept(let attribution) = registry.decide(host: senderHost, transport: sourceName, nowMs: now) {
                                jobs.append(Job(raw: f[2], source: sourceName, sender: sender, hint: hint, now: now, attribution: attribution))
                            }
                        }
                        next = jobs.count < Self.maxBatch ? ((try? pull.receive(dontWait: true)) ?? nil) : nil
                    }
                    if jobs.isEmpty { continue }
                    // Built in parallel chunks (each writes only its own slots), sent in order:
                    // the order of every connection's lines is kept.
                    let out = Self.build(jobs, builders: &builders)
                    for frames in out { _ = try? push.send(frames) }
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

    /// One accepted line waiting to be built.
    struct Job: Sendable {
        var raw: [UInt8], source: String, sender: String, hint: String?, now: Int64
        var attribution: CollectionRegistry.Attribution?
    }

    /// Builds, partitions and encodes the jobs; result i belongs to job i.
    static func build(_ jobs: [Job], builders: inout [EventBuilder]) -> [[Frame]] {
        let n = jobs.count
        var out = [[Frame]](repeating: [], count: n)
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
                        shared.frames[i] = BuiltEvent.frames(e, payload: e.encoded())
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
    let frames: UnsafeMutableBufferPointer<[Frame]>
    let builders: UnsafeMutableBufferPointer<EventBuilder>
}

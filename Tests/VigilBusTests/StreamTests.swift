import Foundation
import XCTest
@testable import VigilBus
import VigilLog
import VigilStore
import VigilWire

/// Producer and consumer in one thread, talking through a real broker: the consumer must end
/// with every message exactly once and in order, whatever pub/sub dropped.
final class StreamTests: XCTestCase {
    var broker: InProcessBroker!
    var dir: String!
    let logger = Logger(label: "test", level: .error)

    override func setUpWithError() throws {
        broker = try InProcessBroker()
        dir = broker.dir
    }
    override func tearDown() { broker.shutdown() }

    struct ProducerSide {
        var db: Database
        var producer: StreamProducer
        var worker: RpcWorker
        var publisher: Publisher
        func close() { worker.close(); publisher.close(); db.close() }
    }

    func makeProducer(id: String = "prod-1", maxRows: Int = 1_000_000, batched: [String] = [],
                      maxBatchMessages: Int = 64) throws -> ProducerSide {
        let db = try Database(path: "\(dir!)/\(id).db")
        let pub = try Publisher(context: broker.context, endpoint: broker.endpoints.publish)
        var opts = StreamProducer.Options(producerId: id)
        opts.maxOutboxRows = maxRows
        opts.batchStreamPrefixes = batched
        opts.maxBatchMessages = maxBatchMessages
        opts.headIntervalMs = 100
        let p = try StreamProducer(db: db, publisher: pub, options: opts, logger: logger)
        let w = try RpcWorker(context: broker.context, endpoint: broker.endpoints.rpc, services: [id], instance: id, logger: logger)
        w.heartbeatIntervalMs = 200
        w.handle("stream.replay") { req in .ok(try! p.replay(try! ReplayRequest(decoding: req.payload))) }
        w.handle("stream.ack", role: .viewer) { req in try? p.acknowledge(try AckRequest(decoding: req.payload)); return RpcResponse() }
        return ProducerSide(db: db, producer: p, worker: w, publisher: pub)
    }

    final class ConsumerSide {
        let db: Database
        let consumer: StreamConsumer
        let client: RpcClient
        init(_ t: StreamTests, name: String = "cons", maxReplaysInFlight: Int = 4, replayBatch: UInt32 = 5000) throws {
            db = try Database(path: "\(t.dir!)/\(name).db")
            try db.execute("CREATE TABLE IF NOT EXISTS got(stream TEXT, seq INTEGER, body TEXT, PRIMARY KEY(stream, seq))")
            client = try RpcClient(context: t.broker.context, endpoint: t.broker.endpoints.rpc)
            var o = StreamConsumer.Options(consumerId: name, topicPrefixes: ["test."])
            o.ackIntervalMs = 100
            o.maxReplaysInFlight = maxReplaysInFlight
            o.replayBatch = replayBatch
            consumer = try StreamConsumer(context: t.broker.context, endpoints: t.broker.endpoints, db: db, rpc: client, options: o, logger: t.logger)
        }
        /// One loop step: receive, replay replies, commit ready messages (a duplicate would violate the primary key).
        func step() throws {
            if zpoll([consumer.socket, client.socket], timeoutMs: 5).contains(true) {
                consumer.receiveAvailable()
                client.processAvailable()
            }
            client.expire()
            consumer.sendAcks()
            while consumer.hasReady {
                let batch = consumer.takeReady(max: 500)
                try db.transaction {
                    for env in batch {
                        try db.run("INSERT INTO got(stream, seq, body) VALUES(?,?,?)", [.text(env.stream), .integer(Int64(env.sequence)), .text(env.payload.utf8String)])
                    }
                    try consumer.commitPositions(batch)
                }
                consumer.didCommit()
            }
        }
        func count() throws -> Int64 { try db.scalar("SELECT count(*) FROM got")?.int64 ?? 0 }
        func close() { consumer.close(); client.close(); db.close() }
    }

    /// A producer and a consumer whose subscription has reached the broker (pub/sub drops what
    /// is published before that).
    func connectedPair(batched: [String] = [], maxBatchMessages: Int = 64) throws -> (ProducerSide, ConsumerSide) {
        let p = try makeProducer(batched: batched, maxBatchMessages: maxBatchMessages)
        let c = try ConsumerSide(self)
        try pump(p, c, until: { true })
        usleep(300_000)
        return (p, c)
    }

    func pump(_ p: ProducerSide, _ c: ConsumerSide, until done: () throws -> Bool, timeoutMs: Int64 = 20_000) throws {
        let deadline = Clock.monotonicMs() + timeoutMs
        while try !done() {
            XCTAssertLessThan(Clock.monotonicMs(), deadline, "timed out")
            if Clock.monotonicMs() >= deadline { return }
            p.worker.processAvailable()
            p.worker.heartbeat()
            p.producer.announceHeads()
            try c.step()
        }
    }

    func append(_ p: ProducerSide, streams: [String], count: Int, from: Int = 0) throws {
        try p.db.transaction {
            for i in from..<(from + count) {
                let s = streams[i % streams.count]
                try p.producer.append(stream: s, topic: s, payloadType: "text", payload: Array("m\(i)".utf8))
            }
        }
        p.producer.publishCommitted()
    }

    func testGapsAreReplayedExactlyOnceInOrder() throws {
        try gapsAreReplayedExactlyOnceInOrder(batched: [])
    }

    func testGapsInBatchedStreamsAreReplayedExactlyOnceInOrder() throws {
        // Every third message lost: the batches are cut around each loss, so they arrive as
        // runs of two with gaps between them.
        let c = try gapsAreReplayedExactlyOnceInOrder(batched: ["test."])
        XCTAssertGreaterThan(c.consumer.counters.batches, 500)
    }

    @discardableResult
    func gapsAreReplayedExactlyOnceInOrder(batched: [String]) throws -> ConsumerSide {
        let (p, c) = try connectedPair(batched: batched)
        defer { c.close(); p.close() }
        // Lose every third message and the tail.
        var n = 0
        p.producer.dropForTesting = { _ in n += 1; return n % 3 == 0 || n > 2900 }
        let streams = ["test.a", "test.b"]
        for k in 0..<3 { try append(p, streams: streams, count: 1000, from: k * 1000) }
        try pump(p, c, until: { try c.count() == 3000 })
        XCTAssertEqual(try c.count(), 3000)
        for s in streams {
            let rows = try c.db.query("SELECT seq FROM got WHERE stream = ? ORDER BY seq", [.text(s)])
            XCTAssertEqual(rows.map { $0.int(0) }, Array(1...1500).map(Int64.init), "gap-free and in order for \(s)")
        }
        XCTAssertGreaterThan(c.consumer.counters.gaps + c.consumer.counters.replayRequests, 0)
        XCTAssertGreaterThan(c.consumer.counters.replayed, 900)
        return c
    }

    // MARK: batched publishing

    func testABatchedStreamPublishesEachCommitsRunAsOneBusMessage() throws {
        let (p, c) = try connectedPair(batched: ["test.batched."], maxBatchMessages: 100)
        defer { c.close(); p.close() }
        // One transaction: 250 messages on each of two batched streams, 10 on a plain one.
        try p.db.transaction {
            for i in 0..<500 {
                let s = i % 2 == 0 ? "test.batched.0" : "test.batched.1"
                try p.producer.append(stream: s, topic: s, payloadType: "text", payload: Array("m\(i)".utf8), now: 5000 + Int64(i))
            }
            for i in 0..<10 { try p.producer.append(stream: "test.plain", topic: "test.plain", payloadType: "text", payload: Array("x\(i)".utf8)) }
        }
        let sentBefore = p.publisher.sent
        p.producer.publishCommitted()
        // 250 per stream at 100 per batch: 3 batches each; the plain stream: 10 DATA messages.
        XCTAssertEqual(p.producer.publishedBatches, 6)
        XCTAssertEqual(p.publisher.sent - sentBefore, 16)
        XCTAssertEqual(p.producer.published, 510)
        try pump(p, c, until: { try c.count() == 510 })
        XCTAssertEqual(c.consumer.counters.batches, 6)
        XCTAssertEqual(c.consumer.counters.received, 510)
        XCTAssertEqual(c.consumer.counters.gaps, 0)
        XCTAssertEqual(c.consumer.counters.replayRequests, 0, "nothing lost, nothing replayed")
        for s in ["test.batched.0", "test.batched.1"] {
            let rows = try c.db.query("SELECT seq FROM got WHERE stream = ? ORDER BY seq", [.text(s)])
            XCTAssertEqual(rows.map { $0.int(0) }, Array(1...250).map(Int64.init), s)
        }
        let bodies = try c.db.query("SELECT body FROM got WHERE stream = 'test.batched.1' ORDER BY seq LIMIT 2").map { $0.string(0) }
        XCTAssertEqual(bodies, ["m1", "m3"], "each message keeps its own payload")
    }

    func testOneReceiveIsBoundedByMessagesNotByBusMessages() throws {
        let (p, c) = try connectedPair(batched: ["test."], maxBatchMessages: 64)
        defer { c.close(); p.close() }
        try append(p, streams: ["test.a"], count: 640)
        XCTAssertEqual(p.producer.publishedBatches, 10)
        usleep(300_000)
        c.consumer.receiveAvailable(limit: 100)
        XCTAssertEqual(c.consumer.readyCount, 128, "stops after the batch that reaches the limit, not after 100 batches")
        c.consumer.receiveAvailable(limit: 1000)
        XCTAssertEqual(c.consumer.readyCount, 640)
    }

    func testAMalformedBatchIsCountedAndItsStreamRecoversByReplay() throws {
        let (p, c) = try connectedPair(batched: ["test."])
        defer { c.close(); p.close() }
        // The real messages are lost on the way; a batch with a time missing arrives instead.
        p.producer.dropForTesting = { _ in true }
        try append(p, streams: ["test.a"], count: 3)
        var bad = StreamEnvelope(batch: try p.producer.replay(ReplayRequest(stream: "test.a", fromSequence: 1)).messages)
        bad.producedTimesMs.removeLast()
        p.publisher.publish(topic: "test.a", body: bad.encoded())
        try pump(p, c, until: { c.consumer.counters.malformed == 1 })
        XCTAssertEqual(try c.count(), 0, "nothing of a malformed batch is taken")
        // The head announcement reveals the missing messages; the replay brings them.
        try pump(p, c, until: { try c.count() == 3 })
        XCTAssertEqual(c.consumer.counters.malformed, 1)
    }

    func testConsumerRestartResumesWithoutDuplicates() throws {
        let p = try makeProducer()
        var c = try ConsumerSide(self)
        defer { p.close() }
        try append(p, streams: ["test.a"], count: 500)
        try pump(p, c, until: { try c.count() == 500 })
        c.close()
        // While the consumer is down the producer keeps going.
        try append(p, streams: ["test.a"], count: 700, from: 500)
        c = try ConsumerSide(self)
        defer { c.close() }
        try pump(p, c, until: { try c.count() == 1200 })
        XCTAssertEqual(try c.db.scalar("SELECT count(DISTINCT seq) FROM got")?.int64, 1200)
        XCTAssertEqual(try c.db.scalar("SELECT max(seq) FROM got")?.int64, 1200)
    }

    func testAConsumerBehindOnManyStreamsCatchesUpThroughFewReplaySlots() throws {
        let p = try makeProducer()
        defer { p.close() }
        var c = try ConsumerSide(self, maxReplaysInFlight: 2, replayBatch: 100)
        let streams = (0..<8).map { "test.s\($0)" }
        try append(p, streams: streams, count: 80)
        try pump(p, c, until: { try c.count() == 80 })
        c.close()
        // Missed while down: 8 streams × 300 messages, replayed 100 at a time, 2 requests at once.
        try append(p, streams: streams, count: 2400, from: 80)
        c = try ConsumerSide(self, maxReplaysInFlight: 2, replayBatch: 100)
        defer { c.close() }
        var most = 0
        try pump(p, c, until: { most = max(most, c.consumer.replaysInFlight); return try c.count() == 2480 })
        XCTAssertEqual(most, 2, "never more than 2 replay requests at once, and the slots were used")
        for s in streams {
            XCTAssertEqual(try c.db.scalar("SELECT count(*) FROM got WHERE stream = ?", [.text(s)])?.int64, 310, s)
            XCTAssertEqual(try c.db.scalar("SELECT max(seq) FROM got WHERE stream = ?", [.text(s)])?.int64, 310, s)
        }
        XCTAssertGreaterThanOrEqual(c.consumer.counters.replayRequests, 24, "at least 3 replies of 100 per stream")
    }

    func testAcknowledgedMessagesAreTruncatedAndNumberingContinues() throws {
        var p = try makeProducer()
        let c = try ConsumerSide(self)
        defer { c.close() }
        try append(p, streams: ["test.a"], count: 300)
        try pump(p, c, until: { try c.count() == 300 })
        // Wait for the consumer's ack to be stored, then truncate.
        try pump(p, c, until: { (try p.db.scalar("SELECT seq FROM stream_acks WHERE consumer = 'cons'")?.int64 ?? 0) == 300 })
        try p.producer.truncateAcknowledged()
        XCTAssertEqual(p.producer.outboxRows, 0)
        XCTAssertEqual(try p.db.scalar("SELECT count(*) FROM stream_outbox")?.int64, 0)
        p.close()
        p = try makeProducer()
        defer { p.close() }
        XCTAssertEqual(p.producer.heads["test.a"], 300, "head survives truncation and restart")
        try append(p, streams: ["test.a"], count: 10)
        XCTAssertEqual(p.producer.heads["test.a"], 310)
        try pump(p, c, until: { try c.count() == 310 })
    }

    func testTruncationDoesNotWriteTheDeletedPayloadsAgain() throws {
        let p = try makeProducer()
        defer { p.close() }
        // WAL frames so far (the WAL is never checkpointed here: nothing else runs on the file).
        func walFrames() throws -> Int64 {
            let r = try p.db.query("PRAGMA wal_checkpoint(PASSIVE)")
            return r.first?.int(1) ?? 0
        }
        let secureBefore = try p.db.scalar("PRAGMA secure_delete")?.int64
        try p.db.execute("PRAGMA wal_autocheckpoint=0")
        try p.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        let payload = [UInt8](repeating: 0x5A, count: 8000)  // two 4 KiB overflow pages each
        for _ in 0..<10 {
            try p.db.transaction { for _ in 0..<50 { try p.producer.append(stream: "test.a", topic: "test.a", payloadType: "t", payload: payload) } }
            p.producer.publishCommitted()
        }
        try p.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        let appended = try walFrames()
        try p.producer.acknowledge(AckRequest(consumerId: "c1", stream: "test.a", sequence: 500))
        try p.producer.truncateAcknowledged()
        XCTAssertEqual(p.producer.outboxRows, 0)
        let truncation = try walFrames() - appended
        // Zeroing the freed pages (SQLite's secure_delete, on in Debian's build) would write
        // about 1,000 of them; the B-tree and freelist pages the delete changes are a few dozen.
        XCTAssertLessThan(truncation, 100, "truncation wrote \(truncation) WAL frames")
        XCTAssertEqual(try p.db.scalar("PRAGMA secure_delete")?.int64, secureBefore, "the connection's setting is restored")
    }

    func testTruncationOnABudgetGoesInBoundedStepsAndKeepsWhatIsNotAcknowledged() throws {
        let p = try makeProducer()
        defer { p.close() }
        // Rows of 100 messages (one transaction each) in test.a, a short stream beside it.
        for k in 0..<30 { try append(p, streams: ["test.a"], count: 100, from: k * 100) }
        try append(p, streams: ["test.b"], count: 50)
        try p.producer.acknowledge(AckRequest(consumerId: "c1", stream: "test.a", sequence: 2500))
        try p.producer.acknowledge(AckRequest(consumerId: "c1", stream: "test.b", sequence: 50))
        XCTAssertEqual(p.producer.outboxRows, 3050)
        // No time at all: still one chunk of one stream per call, so it always progresses.
        let more = try p.producer.truncateAcknowledged(budgetMs: 0)
        XCTAssertTrue(more)
        let deleted = 3050 - p.producer.outboxRows
        XCTAssertGreaterThan(deleted, 0)
        XCTAssertLessThanOrEqual(deleted, StreamProducer.truncateChunkMessages, "one step deletes at most one chunk")
        var steps = 1
        while try p.producer.truncateAcknowledged(budgetMs: 0) {
            steps += 1
            guard steps < 100 else { return XCTFail("truncation never reports that it is done") }
        }
        XCTAssertGreaterThan(steps, 2, "2,550 acknowledged messages take several bounded steps")
        XCTAssertEqual(p.producer.outboxRows, 500, "everything acknowledged is gone, nothing else")
        XCTAssertEqual(try p.db.scalar("SELECT min(seq - n + 1) FROM stream_outbox WHERE stream = 'test.a'")?.int64, 2501)
        XCTAssertEqual(try p.db.scalar("SELECT count(*) FROM stream_outbox WHERE stream = 'test.b'")?.int64, 0)
        let r = try p.producer.replay(ReplayRequest(stream: "test.a", fromSequence: 2501, maxMessages: 1000))
        XCTAssertEqual(r.messages.map(\.sequence), Array(2501...3000))
    }

    func testOutboxBoundRefusesWithClearError() throws {
        let p = try makeProducer(maxRows: 10)
        defer { p.close() }
        try append(p, streams: ["test.a"], count: 10)
        XCTAssertThrowsError(try append(p, streams: ["test.a"], count: 1)) { e in
            XCTAssertEqual((e as? StreamError)?.code, .outboxFull)
            XCTAssertTrue("\(e)".contains("limit 10"), "\(e)")
        }
        p.producer.discardUncommitted()
        XCTAssertEqual(p.producer.heads["test.a"], 10)
    }

    func testReplayRepliesAreBoundedByBytes() throws {
        let p = try makeProducer()
        defer { p.close() }
        let big = [UInt8](repeating: 0x42, count: 1_000_000)
        try p.db.transaction { for _ in 0..<10 { try p.producer.append(stream: "test.a", topic: "test.a", payloadType: "t", payload: big) } }
        p.producer.publishCommitted()
        let r = try p.producer.replay(ReplayRequest(stream: "test.a", fromSequence: 1, maxMessages: 100))
        XCTAssertEqual(r.messages.count, 4, "4 MiB budget: four 1 MB messages, not ten")
        XCTAssertEqual(r.head, 10)
        XCTAssertEqual(r.messages.map(\.sequence), [1, 2, 3, 4])
    }

    func testStreamsNobodyAcknowledgesAreKeptOnlyForTheRetention() throws {
        let p = try makeProducer()
        defer { p.close() }
        try append(p, streams: ["test.nobody"], count: 20)
        try p.producer.truncateAcknowledged(now: Clock.nowMs())
        XCTAssertEqual(p.producer.outboxRows, 20, "recent messages are kept for a consumer that may still come")
        try p.producer.truncateAcknowledged(now: Clock.nowMs() + 25 * 3600 * 1000)
        XCTAssertEqual(p.producer.outboxRows, 0, "after the retention they go")
        XCTAssertEqual(try p.db.scalar("SELECT seq FROM stream_heads WHERE stream = 'test.nobody'")?.int64, 20)
    }

    func testAppendOutsideTransactionIsRefused() throws {
        let p = try makeProducer()
        defer { p.close() }
        XCTAssertThrowsError(try p.producer.append(stream: "test.a", topic: "test.a", payloadType: "t", payload: [])) { e in
            XCTAssertEqual((e as? StreamError)?.code, .notInTransaction)
        }
    }

    // MARK: several messages per outbox row

    func testOneTransactionWritesARowPerStreamAndReplayRecoversEachMessage() throws {
        let p = try makeProducer()
        defer { p.close() }
        try p.db.transaction {
            for i in 0..<10 {
                let s = i % 2 == 0 ? "test.a" : "test.b"
                try p.producer.append(stream: s, topic: s, payloadType: "text", payload: Array("m\(i)".utf8), now: 1000 + Int64(i))
            }
        }
        p.producer.publishCommitted()
        XCTAssertEqual(try p.db.scalar("SELECT count(*) FROM stream_outbox")?.int64, 2, "one row per stream")
        XCTAssertEqual(try p.db.scalar("SELECT sum(n) FROM stream_outbox")?.int64, 10)
        // From the middle of a row: exactly the later messages, with their own times.
        let r = try p.producer.replay(ReplayRequest(stream: "test.b", fromSequence: 3, maxMessages: 100))
        XCTAssertEqual(r.messages.map(\.sequence), [3, 4, 5])
        XCTAssertEqual(r.messages.map { String(decoding: $0.payload, as: UTF8.self) }, ["m5", "m7", "m9"])
        XCTAssertEqual(r.messages.map(\.producedTimeMs), [1005, 1007, 1009])
        XCTAssertEqual(r.firstRetained, 1)
        XCTAssertEqual(r.head, 5)
        // The message limit cuts inside a row.
        let two = try p.producer.replay(ReplayRequest(stream: "test.a", fromSequence: 2, maxMessages: 2))
        XCTAssertEqual(two.messages.map { String(decoding: $0.payload, as: UTF8.self) }, ["m2", "m4"])
    }

    func testATopicChangeStartsANewRowAndKeepsEachMessagesTopic() throws {
        let p = try makeProducer()
        defer { p.close() }
        try p.db.transaction {
            for (i, t) in ["test.x.email", "test.x.email", "test.x.slack", "test.x.email"].enumerated() {
                try p.producer.append(stream: "test.x", topic: t, payloadType: "text", payload: Array("r\(i)".utf8))
            }
        }
        p.producer.publishCommitted()
        let r = try p.producer.replay(ReplayRequest(stream: "test.x", fromSequence: 1, maxMessages: 10))
        XCTAssertEqual(r.messages.map(\.topic), ["test.x.email", "test.x.email", "test.x.slack", "test.x.email"])
        XCTAssertEqual(r.messages.map(\.sequence), [1, 2, 3, 4])
    }

    func testRolledBackAppendsLeaveNoRowsAndNumberingResumes() throws {
        let p = try makeProducer()
        defer { p.close() }
        struct Boom: Error {}
        XCTAssertThrowsError(try p.db.transaction {
            for i in 0..<5 { try p.producer.append(stream: "test.a", topic: "test.a", payloadType: "text", payload: [UInt8(i)]) }
            throw Boom()
        })
        p.producer.discardUncommitted()
        XCTAssertEqual(try p.db.scalar("SELECT count(*) FROM stream_outbox")?.int64, 0)
        XCTAssertEqual(p.producer.outboxRows, 0)
        try append(p, streams: ["test.a"], count: 3)
        XCTAssertEqual(p.producer.heads["test.a"], 3)
        XCTAssertEqual(try p.producer.replay(ReplayRequest(stream: "test.a", fromSequence: 1)).messages.map(\.sequence), [1, 2, 3])
    }

    func testAPartlyAcknowledgedRowIsKeptUntilAllItsMessagesAre() throws {
        let p = try makeProducer()
        defer { p.close() }
        try append(p, streams: ["test.a"], count: 10)
        try append(p, streams: ["test.a"], count: 10, from: 10)
        try p.producer.acknowledge(AckRequest(consumerId: "c1", stream: "test.a", sequence: 15))
        try p.producer.truncateAcknowledged()
        XCTAssertEqual(p.producer.outboxRows, 10, "the first row (1…10) went, the second (11…20) holds unacknowledged 16…20")
        XCTAssertEqual(p.producer.truncated, 10)
        let r = try p.producer.replay(ReplayRequest(stream: "test.a", fromSequence: 16))
        XCTAssertEqual(r.messages.map(\.sequence), [16, 17, 18, 19, 20])
        XCTAssertEqual(r.firstRetained, 11)
    }

    func testRowsOfTheOneMessageSchemaAreReadAfterTheMigration() throws {
        // A store written before several messages per row existed: schema version 2, one row each.
        let path = "\(dir!)/old.db"
        do {
            let db = try Database(path: path)
            try db.migrate(component: "stream.producer", Array(StreamProducer.migrations.prefix(2)))
            for seq in 1...3 {
                try db.run("INSERT INTO stream_outbox(stream, seq, topic, payload_type, payload, time_ms) VALUES('test.a', ?, 'test.a', 'text', ?, ?)",
                           [.integer(Int64(seq)), .blob(Array("old\(seq)".utf8)), .integer(500 + Int64(seq))])
            }
            db.close()
        }
        let db = try Database(path: path)
        defer { db.close() }
        let pub = try Publisher(context: broker.context, endpoint: broker.endpoints.publish)
        defer { pub.close() }
        let p = try StreamProducer(db: db, publisher: pub, options: .init(producerId: "old"), logger: logger)
        XCTAssertEqual(p.heads["test.a"], 3)
        XCTAssertEqual(p.outboxRows, 3)
        try db.transaction { for i in 0..<2 { try p.append(stream: "test.a", topic: "test.a", payloadType: "text", payload: Array("new\(i)".utf8)) } }
        p.publishCommitted()
        let r = try p.replay(ReplayRequest(stream: "test.a", fromSequence: 2))
        XCTAssertEqual(r.messages.map { String(decoding: $0.payload, as: UTF8.self) }, ["old2", "old3", "new0", "new1"])
        XCTAssertEqual(r.messages.map(\.sequence), [2, 3, 4, 5])
        XCTAssertEqual(r.messages.first?.producedTimeMs, 502)
    }

    func testLargeRunsAreSplitIntoBoundedRows() throws {
        let p = try makeProducer()
        defer { p.close() }
        try append(p, streams: ["test.a"], count: StreamProducer.rowMaxMessages * 2 + 1)
        XCTAssertEqual(try p.db.scalar("SELECT count(*) FROM stream_outbox")?.int64, 3)
        XCTAssertEqual(try p.db.scalar("SELECT max(n) FROM stream_outbox")?.int64, Int64(StreamProducer.rowMaxMessages))
        let r = try p.producer.replay(ReplayRequest(stream: "test.a", fromSequence: UInt64(StreamProducer.rowMaxMessages), maxMessages: 3))
        XCTAssertEqual(r.messages.map(\.sequence), (StreamProducer.rowMaxMessages...(StreamProducer.rowMaxMessages + 2)).map(UInt64.init))
    }

    func testACorruptRowIsSkippedByReplaysCountedOnceAndReportedAsNotRetained() throws {
        let p = try makeProducer()
        defer { p.close() }
        // Three rows of three messages (one transaction each).
        for t in 0..<3 {
            try p.db.transaction {
                for i in 0..<3 { try p.producer.append(stream: "test.a", topic: "test.a", payloadType: "text", payload: Array("m\(t * 3 + i + 1)".utf8), now: 1000) }
            }
        }
        p.producer.publishCommitted()
        XCTAssertEqual(try p.db.scalar("SELECT count(*) FROM stream_outbox")?.int64, 3)
        // Damage the middle row (messages 4–6): its frames no longer hold 3 messages.
        try p.db.run("UPDATE stream_outbox SET payload = substr(payload, 1, 5) WHERE seq = 6")
        // A reply that reaches it after other messages ends there.
        let before = try p.producer.replay(ReplayRequest(stream: "test.a", fromSequence: 1, maxMessages: 100))
        XCTAssertEqual(before.messages.map(\.sequence), [1, 2, 3])
        XCTAssertEqual(p.producer.corruptSkipped, 3)
        // A reply that starts in it reports it as no longer retained and goes on after it.
        for from: UInt64 in [4, 5] {
            let r = try p.producer.replay(ReplayRequest(stream: "test.a", fromSequence: from, maxMessages: 100))
            XCTAssertEqual(r.firstRetained, 7)
            XCTAssertEqual(r.messages.map(\.sequence), [7, 8, 9])
            XCTAssertEqual(r.messages.map { String(decoding: $0.payload, as: UTF8.self) }, ["m7", "m8", "m9"])
        }
        XCTAssertEqual(p.producer.corruptSkipped, 3, "counted once per row, not per replay")
    }

    /// A caller whose work fails after its COMMIT (and so calls `discardUncommitted`) must not
    /// rewind numbering the outbox already holds: the committed messages stay, are published by
    /// the next `publishCommitted`, and the next append continues after them.
    func testDiscardAfterACommitKeepsWhatTheCommitHolds() throws {
        let p = try makeProducer()
        defer { p.close() }
        try p.db.transaction {
            for i in 0..<3 { try p.producer.append(stream: "test.a", topic: "test.a", payloadType: "text", payload: Array("c\(i)".utf8)) }
        }
        p.producer.discardUncommitted()
        XCTAssertEqual(p.producer.heads["test.a"], 3)
        XCTAssertEqual(p.producer.outboxRows, 3)
        try append(p, streams: ["test.a"], count: 1)
        XCTAssertEqual(p.producer.published, 4, "the committed three are published with the next")
        let r = try p.producer.replay(ReplayRequest(stream: "test.a", fromSequence: 1))
        XCTAssertEqual(r.messages.map(\.sequence), [1, 2, 3, 4])
        XCTAssertEqual(r.messages.map { String(decoding: $0.payload, as: UTF8.self) }, ["c0", "c1", "c2", "m0"])
    }

    /// The outbox index lives in memory (OutboxIndex): random appends over three streams, some
    /// rolled back after their rows were written, acknowledgements, truncations with and without a
    /// budget, and restarts (the index rebuilt from the table) must leave replay, the first retained
    /// sequence and the message count exactly as a plain model says.
    func testTheOutboxIndexAgreesWithAModelThroughRollbacksTruncationsAndRestarts() throws {
        struct Abort: Error {}
        // Fails the next COMMIT after the producer's own hook has written its rows (hooks run in order).
        var abortNextCommit = false
        func open() throws -> ProducerSide {
            let p = try makeProducer(id: "model")
            p.db.addBeforeCommit { if abortNextCommit { abortNextCommit = false; throw Abort() } }
            return p
        }
        var p = try open()
        defer { p.close() }
        var rng = SystemRandomNumberGenerator()
        let streams = ["test.a", "test.b", "test.c"]
        var kept: [String: [(seq: UInt64, body: String)]] = [:]   // messages the outbox must hold
        var heads: [String: UInt64] = [:]
        var acked: [String: UInt64] = [:]
        var n = 0
        for step in 0..<300 {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<5:
                let count = Int.random(in: 1...40, using: &rng)
                let rollBack = Int.random(in: 0..<5, using: &rng) == 0
                var added: [(String, UInt64, String)] = []
                do {
                    try p.db.transaction {
                        for _ in 0..<count {
                            let st = streams.randomElement(using: &rng)!
                            let body = "m\(n)"; n += 1
                            let seq = try p.producer.append(stream: st, topic: st, payloadType: "text", payload: Array(body.utf8))
                            added.append((st, seq, body))
                        }
                        abortNextCommit = rollBack
                    }
                    p.producer.publishCommitted()
                    for (st, seq, body) in added { kept[st, default: []].append((seq, body)); heads[st] = seq }
                } catch is Abort {
                    p.producer.discardUncommitted()
                }
            case 5..<7:
                let st = streams.randomElement(using: &rng)!
                guard let h = heads[st] else { continue }
                let upTo = UInt64.random(in: (acked[st] ?? 0)...h, using: &rng)
                acked[st] = upTo
                try p.producer.acknowledge(AckRequest(consumerId: "c", stream: st, sequence: upTo))
            case 7..<9:
                if Bool.random(using: &rng) {
                    while try p.producer.truncateAcknowledged(budgetMs: 0) {}
                } else {
                    try p.producer.truncateAcknowledged()
                }
                // A row goes when its last message is acknowledged: the model keeps whole rows, so
                // compare what must remain (everything after the acknowledged sequence) below.
            default:
                p.close()
                p = try open()
            }
            for st in streams {
                let expected = (kept[st] ?? []).filter { $0.seq > (acked[st] ?? 0) }
                let from = UInt64.random(in: 1...((heads[st] ?? 0) + 1), using: &rng)
                let r = try p.producer.replay(ReplayRequest(stream: st, fromSequence: from, maxMessages: 5000))
                let want = (kept[st] ?? []).filter { $0.seq >= from && $0.seq >= r.firstRetained }
                XCTAssertEqual(r.messages.map(\.sequence), want.map(\.seq), "step \(step), \(st) from \(from)")
                XCTAssertEqual(r.messages.map { String(decoding: $0.payload, as: UTF8.self) }, want.map(\.body), "step \(step)")
                XCTAssertEqual(r.head, heads[st] ?? 0, "step \(step)")
                // Nothing unacknowledged is ever truncated, and the first retained is a real message.
                XCTAssertLessThanOrEqual(r.firstRetained, expected.first?.seq ?? ((heads[st] ?? 0) + 1), "step \(step), \(st)")
            }
            let inTable = try p.db.scalar("SELECT coalesce(sum(n), 0) FROM stream_outbox")?.int64 ?? -1
            XCTAssertEqual(Int64(p.producer.outboxRows), inTable, "step \(step): the count follows the table")
            if testRun?.failureCount ?? 0 > 0 { break }
        }
        XCTAssertGreaterThan(n, 1000)
    }

    func testFramesOfACorruptRowAreRefused() {
        var f = OutboxFrames(capacity: 0)
        f.add([1, 2, 3], timeMs: 7)
        f.add([], timeMs: 8)
        XCTAssertEqual(OutboxFrames.split(f.bytes)?.map(\.payload), [[1, 2, 3], []])
        XCTAssertNil(OutboxFrames.split(Array(f.bytes.dropLast())))
    }
}

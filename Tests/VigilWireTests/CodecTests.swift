import XCTest
@testable import VigilWire

final class CodecTests: XCTestCase {
    func sampleEvent() -> Event {
        var e = Event()
        e.id = "01a2b3"
        e.eventTimeMs = 1_764_000_000_123
        e.receivedTimeMs = 1_764_000_000_456
        e.source = "syslog-udp"
        e.format = "linux-auth"
        e.raw = Array("<38>raw line with bytes \u{00}\u{ff}".utf8) + [0, 255, 10]
        e.parseStatus = .parsed
        e.fields = ["user.name": "bob", "source.ip": "10.1.2.3", "message": "naïve ünïcode ✓"]
        e.original = ["TargetUserName": "bob", "EventID": "4625"]
        e.enriched = ["asset.name": "web01"]
        e.partitionKey = "web01"
        e.partition = 13
        e.sender = "127.0.0.1:5555"
        return e
    }

    func testEventRoundTrip() throws {
        let e = sampleEvent()
        let decoded = try Event(decoding: e.encoded())
        XCTAssertEqual(decoded, e)
    }

    /// `Event.encoded()` packs into a buffer sized by its own upper bound instead of
    /// protobuf-c's size pass: the bytes must be exactly protobuf-c's, for small, large,
    /// negative, NUL-holding and empty values alike (debug builds also assert the bound).
    func testEventEncodingMatchesProtobufCsExactSizePacking() throws {
        var big = sampleEvent()
        big.eventTimeMs = -1
        big.receivedTimeMs = Int64.min
        big.partition = UInt32.max
        big.parseStatus = .unparsed
        big.parseError = "x\u{0}y"
        big.raw = [UInt8](repeating: 7, count: 70_000)
        for i in 0..<300 { big.fields["k\(i)"] = String(repeating: "v", count: i) }
        big.original[""] = ""
        big.enriched["e\u{0}"] = String(repeating: "é", count: 200)
        for e in [Event(), sampleEvent(), big] {
            let exact = e.encodedWithSizePass()
            XCTAssertEqual(e.encoded(), exact)
            XCTAssertEqual(try Event(decoding: e.encoded()), try Event(decoding: exact))
        }
    }

    func testEmptyBytesDecodeToDefaults() throws {
        XCTAssertEqual(try Event(decoding: []), Event())
        XCTAssertEqual(try Signal(decoding: []), Signal())
    }

    func testSignalRoundTripAndTopic() throws {
        var s = Signal()
        s.id = "sig1"; s.ruleId = "r1"; s.ruleVersion = 3; s.ruleName = "Brute force"
        s.mitre = Mitre(tacticId: "TA0006", tacticName: "Credential Access", techniqueId: "T1110", techniqueName: "Brute Force")
        s.criticality = .high; s.riskScore = 77
        s.entity = Entity(user: "bob", asset: "web01", ip: "10.0.0.1")
        s.groupKey = "bob|10.0.0.1"; s.eventIds = ["e1", "e2", "e3"]
        s.createdTimeMs = 5; s.firstEventTimeMs = 1; s.lastEventTimeMs = 4; s.description = "five failures"
        XCTAssertEqual(try Signal(decoding: s.encoded()), s)
        XCTAssertEqual(s.topic, "signals.high.credential-access")
        s.mitre.tacticName = ""
        XCTAssertEqual(s.topic, "signals.high.none")
    }

    func testBatchAndReplayNesting() throws {
        var b = EventBatch()
        b.batchId = "b-1"; b.agentId = "agent-7"
        b.events = [sampleEvent(), Event(), sampleEvent()]
        XCTAssertEqual(try EventBatch(decoding: b.encoded()), b)

        var env = StreamEnvelope()
        env.producerId = "ingest-0"; env.stream = "events.parsed.3"; env.sequence = 42; env.kind = .data
        env.topic = "events.parsed.3"; env.payloadType = Event.typeName; env.payload = sampleEvent().encoded(); env.producedTimeMs = 9
        var r = ReplayResponse()
        r.messages = [env, env]; r.head = 99; r.firstRetained = 40
        let back = try ReplayResponse(decoding: r.encoded())
        XCTAssertEqual(back, r)
        XCTAssertEqual(try Event(decoding: back.messages[1].payload), sampleEvent())
    }

    func testABatchEnvelopeRoundTripsAndExpandsToConsecutiveMessages() throws {
        var data = StreamEnvelope()
        data.producerId = "ingest-0"; data.stream = "events.parsed.3"; data.kind = .data
        data.topic = "events.parsed.3"; data.payloadType = Event.typeName
        let messages: [StreamEnvelope] = (0..<3).map { i in
            var m = data
            m.sequence = 7 + UInt64(i); m.payload = Array("p\(i)".utf8); m.producedTimeMs = 100 + Int64(i)
            return m
        }
        let batch = StreamEnvelope(batch: messages)
        XCTAssertEqual(batch.kind, .batch)
        XCTAssertEqual(batch.sequence, 7)
        XCTAssertEqual(batch.producedTimeMs, 102, "a batch's own time is its last message's")
        let back = try StreamEnvelope(decoding: batch.encoded())
        XCTAssertEqual(back, batch)
        XCTAssertEqual(back.messages(), messages, "expands to the DATA envelopes it was built from")
        XCTAssertEqual(data.messages(), [data], "DATA and HEAD are themselves")

        var unmatched = batch
        unmatched.producedTimesMs.removeLast()
        XCTAssertNil(try StreamEnvelope(decoding: unmatched.encoded()).messages(), "one time per payload, or malformed")
        var empty = batch
        empty.payloads = []; empty.producedTimesMs = []
        XCTAssertNil(empty.messages(), "an empty batch is malformed")
        var overflow = batch
        overflow.sequence = UInt64.max - 1
        XCTAssertNil(overflow.messages(), "sequences past the end of the range are malformed")
    }

    func testRpcAndMetrics() throws {
        let req = RpcRequest(method: "sys.health", requestId: "x1", caller: Identity(name: "cli", role: "admin"), payload: [1, 2, 3])
        XCTAssertEqual(try RpcRequest(decoding: req.encoded()), req)
        let resp = RpcResponse(requestId: "x1", errorCode: .resourceExhausted, errorMessage: "full", payload: [], instance: "ingest-0")
        XCTAssertEqual(try RpcResponse(decoding: resp.encoded()), resp)
        var m = MetricsResponse()
        m.service = "enrichment"; m.counters = ["a": 1, "b": UInt64.max]
        m.lags = [StreamLag(producerId: "p", stream: "s", position: 3, head: 10)]
        let mb = try MetricsResponse(decoding: m.encoded())
        XCTAssertEqual(mb, m)
        XCTAssertEqual(mb.lags[0].lag, 7)
    }

    func testMalformedBytesThrowPreciseError() {
        // A field header announcing 100 bytes of string with only 3 present.
        let bad: [UInt8] = [0x0a, 100, 1, 2, 3]
        XCTAssertThrowsError(try Event(decoding: bad)) { err in
            guard let w = err as? WireError else { return XCTFail("not a WireError: \(err)") }
            XCTAssertEqual(w.code, .malformed)
            XCTAssertEqual(w.messageType, "vigil.v1.Event")
            XCTAssertEqual(w.byteCount, 5)
        }
    }

    func testRandomGarbageNeverCrashes() {
        var rng = SeededGenerator(seed: 42)
        var failures = 0
        for _ in 0..<5000 {
            let n = Int(rng.next() % 200)
            let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if (try? StreamEnvelope(decoding: bytes)) == nil { failures += 1 }
            _ = try? Signal(decoding: bytes)
            _ = try? EventBatch(decoding: bytes)
        }
        XCTAssertGreaterThan(failures, 0, "random bytes should mostly be rejected")
    }

    func testEmbeddedNulIsKeptVisible() throws {
        var e = Event()
        e.fields = ["k": "a\u{0}b"]
        let back = try Event(decoding: e.encoded())
        XCTAssertEqual(back.fields["k"], "a\u{FFFD}b")
    }
}

struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

final class RuleMessageTests: XCTestCase {
    func testRuleMessagesRoundTrip() throws {
        var s = RuleSummary()
        s.id = "r1"; s.name = "SSH brute force"; s.version = 2; s.status = "active"; s.criticality = .high; s.riskScore = 60
        s.type = "threshold"; s.tacticIds = ["TA0006"]; s.techniqueIds = ["T1110", "T1110.001"]; s.logSources = ["linux-auth"]
        s.modifiedTimeMs = 1_767_225_600_000; s.signalCount = 7
        var page = RulePage(); page.rules = [s, RuleSummary()]; page.nextCursor = "c"
        XCTAssertEqual(try RulePage(decoding: page.encoded()), page)
        var d = RuleDetail(); d.summary = s; d.ruleJson = "{\"id\": \"r1\"}"; d.explanation = "5 or more …"; d.stateGroups = 3
        XCTAssertEqual(try RuleDetail(decoding: d.encoded()), d)
        let req = RuleRequest(id: "r1", ruleJson: "{}")
        XCTAssertEqual(try RuleRequest(decoding: req.encoded()), req)
        let b = RuleBundleMessage(json: "{\"rules\": []}", ids: ["a", "b"])
        XCTAssertEqual(try RuleBundleMessage(decoding: b.encoded()), b)
        var t = RuleTestResponse(); t.ruleId = "r1"; t.passed = true
        t.results = [.init(name: "fires", expect: "fire", signals: 1, passed: true, detail: "fired 1 time")]
        XCTAssertEqual(try RuleTestResponse(decoding: t.encoded()), t)
        var sig = Signal(); sig.id = "s1"; sig.eventIds = ["e1", "e2"]; sig.mitre.tacticId = "TA0006"; sig.criticality = .medium
        var sp = SignalPage(); sp.signals = [sig, Signal()]; sp.nextCursor = "n"
        XCTAssertEqual(try SignalPage(decoding: sp.encoded()), sp)
        XCTAssertThrowsError(try RulePage(decoding: [0xFF, 0xFF, 0xFF]))
    }
}

import Foundation
import XCTest
import VigilBus
import VigilLog
import VigilWire
#if canImport(Glibc)
import Glibc
#endif

/// Ingest's other front doors with real processes: JSON lines over TCP, `vigil import`,
/// per-source counters (`ingest.sources`, `vigil sources`) and counted UDP drops.
/// Ingest runs with one partition so every event is in stream `events.parsed.0`.
final class IngestSourcesTests: XCTestCase {
    var stack: TestStack!

    override func setUpWithError() throws { stack = try TestStack() }
    override func tearDown() {
        if let s = stack, testRun?.hasSucceeded == false {
            for n in ["broker", "ingest"] { print("--- \(n) log ---\n\(s.log(n).suffix(3000))") }
        }
        stack?.cleanup()
    }

    func startIngest(_ args: [String] = []) throws {
        try stack.start("vigil-broker", name: "broker")
        try stack.start("vigil-ingest", name: "ingest", ["--partitions", "1"] + args)
        try stack.waitHealthy(["ingest"])
    }

    static let evtxLine = ##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"ws01","TimeCreated":{"#attributes":{"SystemTime":"2026-04-17T05:24:53.092051Z"}}},"EventData":{"Image":"C:\\Windows\\System32\\cmd.exe","CommandLine":"cmd /c whoami","User":"CORP\\bob"}}}"##

    /// `ingest.submit` is prepared off the loop while earlier batches commit: batches sent
    /// without waiting are stored in arrival order, and copies of a batch that arrive while
    /// the first is still being prepared are answered as duplicates, not stored again.
    func testPipelinedSubmitsKeepArrivalOrderAndStoreAResentBatchOnce() throws {
        try startIngest(["--syslog.udp", "off", "--syslog.tcp", "off", "--json.tcp", "off"])
        let client = try stack.client()
        defer { client.close() }
        func batch(_ id: String, _ n: Int) -> EventBatch {
            var b = EventBatch()
            b.batchId = id
            b.agentId = "agent-1"
            // 300 events: large enough to be split over the preparer's threads.
            for i in 0..<n { var e = Event(); e.raw = Array("<13>Dec  4 10:00:00 h app: \(id) line \(i)".utf8); b.events.append(e) }
            return b
        }
        let sent = [batch("b1", 300), batch("b2", 300), batch("b1", 300), batch("b3", 5), batch("b1", 300)]
        var acks: [Int: EventBatchAck] = [:]
        for (k, b) in sent.enumerated() {
            client.send(service: "ingest", method: "ingest.submit", payload: b.encoded(), timeoutMs: 20_000) { r in
                if case .success(let resp) = r, let ack = try? EventBatchAck(decoding: resp.payload) { acks[k] = ack }
            }
        }
        let deadline = Clock.monotonicMs() + 20_000
        while acks.count < sent.count && Clock.monotonicMs() < deadline {
            if zpoll([client.socket], timeoutMs: 50)[0] { client.processAvailable() }
            client.expire()
        }
        XCTAssertEqual(acks.count, sent.count)
        XCTAssertEqual(acks.keys.sorted().map { acks[$0]!.duplicate }, [false, false, true, false, true])
        XCTAssertEqual(acks.keys.sorted().map { acks[$0]!.accepted }, [300, 300, 300, 5, 300])
        let stored = try stack.events().map { String(decoding: $0.raw, as: UTF8.self) }
        XCTAssertEqual(stored.count, 605)
        XCTAssertEqual(stored, (sent[0].events + sent[1].events + sent[3].events).map { String(decoding: $0.raw, as: UTF8.self) })
    }

    func testJSONLinesOverTCPAreParsedCutAndCounted() throws {
        try startIngest(["--max-line-bytes", "4096"])
        let flat = #"{"src_ip":"10.0.0.5","user":"alice","action":"login","outcome":"failure"}"#
        let broken = #"{"user":"x","#
        let long = #"{"pad":""# + String(repeating: "a", count: 5000) + #""}"#
        let payload = [Self.evtxLine, flat, broken, long].joined(separator: "\n") + "\n"
        try sendTCP(Array(payload.utf8), port: stack.jsonPort)

        // 3 lines + the long one cut into 2 pieces = 5 events.
        try stack.eventually("five json-tcp events stored") { (try self.stack.sources()["json-tcp"]?.events ?? 0) == 5 }
        let events = try stack.events().filter { $0.source == "json-tcp" }
        XCTAssertEqual(events.count, 5)
        XCTAssertEqual(events[0].format, "windows", "evtx_dump JSON is recognised on the JSON listener")
        XCTAssertEqual(events[0].original["CommandLine"], "cmd /c whoami")
        XCTAssertEqual(events[0].fields["host.name"], "ws01")
        XCTAssertEqual(events[1].format, "json")
        XCTAssertEqual(events[1].fields["source.ip"], "10.0.0.5")
        XCTAssertEqual(events[1].fields["user.name"], "alice")
        XCTAssertEqual(events[2].parseStatus, .unparsed)
        XCTAssertTrue(events[2].parseError.hasPrefix("json.syntax"), events[2].parseError)
        XCTAssertEqual(events[3].raw.count, 4096, "the cut piece is kept, not dropped")
        XCTAssertEqual(events[3].raw.count + events[4].raw.count, long.utf8.count)

        let s = try XCTUnwrap(stack.sources()["json-tcp"])
        XCTAssertEqual(s.bytes, UInt64(Self.evtxLine.utf8.count + flat.utf8.count + broken.utf8.count + long.utf8.count))
        XCTAssertEqual(s.unparsed, 3, "the broken line and both pieces of the cut line")
        XCTAssertGreaterThan(s.lastSeenMs, 0)
        XCTAssertEqual(try stack.metrics("ingest").counters["json-tcp.lines_cut"], 1)
    }

    /// Two parse workers, each splitting its batches over two threads, and two connections
    /// sending at once: every line is stored, and each connection's lines keep their order
    /// (a connection is served by one worker, which sends its batch's events in order).
    func testSyslogTCPKeepsEachConnectionsOrderWithSeveralParseThreads() throws {
        try startIngest(["--parse-workers", "2", "--parse-threads", "2"])
        let n = 3000
        func payload(_ conn: Int) -> [UInt8] {
            var p: [UInt8] = []
            for i in 0..<n {
                p += Array("<38>Mar 10 12:00:00 web\(conn) sshd[42]: Failed password for u\(i) from 10.0.\(conn).1 port \(1000 + i) ssh2\n".utf8)
            }
            return p
        }
        let group = DispatchGroup()
        let errors = ErrorList()
        for conn in 0..<2 {
            let bytes = payload(conn)
            DispatchQueue.global().async(group: group) {
                do { try self.sendTCP(bytes, port: self.stack.syslogPort) } catch { errors.add(error) }
            }
        }
        group.wait()
        XCTAssertTrue(errors.all.isEmpty, "\(errors.all)")
        try stack.eventually("both connections' lines stored") { (try self.stack.sources()["syslog-tcp"]?.events ?? 0) == UInt64(2 * n) }
        let events = try stack.events().filter { $0.source == "syslog-tcp" }
        XCTAssertEqual(events.count, 2 * n)
        for conn in 0..<2 {
            let ports = events.filter { $0.fields["source.ip"] == "10.0.\(conn).1" }.compactMap { $0.fields["source.port"].flatMap { Int($0) } }
            XCTAssertEqual(ports.count, n, "connection \(conn): every line parsed as sshd")
            XCTAssertEqual(ports, (0..<n).map { 1000 + $0 }, "connection \(conn): lines in the order they were sent")
        }
        XCTAssertEqual(Set(events.map(\.id)).count, 2 * n, "event ids are unique across workers and threads")
    }

    func testImportFilesThenRerunStoresNothingTwice() throws {
        try startIngest()
        let files = stack.dir + "/import"
        try FileManager.default.createDirectory(atPath: files + "/adir", withIntermediateDirectories: true)
        // evtx_dump style: pretty-printed objects back to back, plus a JSON line.
        let pretty = """
        {
          "Event": {
            "System": {
              "EventID": 4625,
              "Channel": "Security",
              "Computer": "dc01",
              "TimeCreated": { "#attributes": { "SystemTime": "2026-04-17T05:24:53Z" } }
            },
            "EventData": { "TargetUserName": "admin", "IpAddress": "203.0.113.9" }
          }
        }
        {
          "Event": {
            "System": { "EventID": 4624, "Channel": "Security", "Computer": "dc01" },
            "EventData": { "TargetUserName": "bob" }
          }
        }
        \(Self.evtxLine)
        """
        try pretty.write(toFile: files + "/win.json", atomically: true, encoding: .utf8)
        var syslog = ""
        for i in 0..<2500 { syslog += "<38>Mar 10 12:00:\(String(format: "%02d", i % 60)) web01 sshd[\(i)]: Failed password for root from 192.0.2.\(i % 250) port \(1000 + i) ssh2\n" }
        syslog += "this is not syslog at all\n"
        try syslog.write(toFile: files + "/auth.log", atomically: true, encoding: .utf8)
        let cef = "CEF:0|Trend|Deep Security|1|100|Port scan|6|src=198.51.100.7 dst=10.0.0.1 spt=5555 dpt=22\n"
        try cef.write(toFile: files + "/fw.cef", atomically: true, encoding: .utf8)

        let paths = [files + "/win.json", files + "/auth.log", files + "/missing.log", files + "/adir"]
        let first = try stack.vigil(["import"] + paths + ["--batch", "500"])
        XCTAssertEqual(first.status, 1, "a missing file makes the exit status nonzero: \(first.err)")
        XCTAssertTrue(first.err.contains("\(files)/missing.log: no such file"), first.err)
        XCTAssertTrue(first.err.contains("\(files)/adir: is a directory"), first.err)
        XCTAssertTrue(first.out.contains("2 imported, 2 failed"), first.out)
        XCTAssertTrue(first.out.contains("2504 events (1 unparsed)"), first.out)
        XCTAssertTrue(first.out.contains("0 batches (0 events) already imported"), first.out)
        XCTAssertTrue(first.err.contains("import: "), "plain progress lines when stderr is not a terminal: \(first.err)")

        let cefRun = try stack.vigil(["import", "--format", "cef", files + "/fw.cef"])
        XCTAssertEqual(cefRun.status, 0, cefRun.err)

        // Rerun: every batch is recognised by its id; nothing is stored again.
        let again = try stack.vigil(["import", files + "/win.json", files + "/auth.log", "--batch", "500"])
        XCTAssertEqual(again.status, 0, again.err)
        XCTAssertTrue(again.out.contains("0 events (0 unparsed)"), again.out)
        XCTAssertTrue(again.out.contains("7 batches (2504 events) already imported"), again.out)

        let src = try stack.sources()
        XCTAssertEqual(src["file:\(files)/win.json"]?.events, 3)
        XCTAssertEqual(src["file:\(files)/auth.log"]?.events, 2501)
        XCTAssertEqual(src["file:\(files)/auth.log"]?.unparsed, 1)
        XCTAssertEqual(src["file:\(files)/auth.log"]?.bytes, UInt64(syslog.utf8.count - 2501), "raw bytes without newlines")
        XCTAssertEqual(src["file:\(files)/fw.cef"]?.events, 1)

        let events = try stack.events()
        XCTAssertEqual(events.count, 2505)
        let win = events.filter { $0.source == "file:\(files)/win.json" }
        XCTAssertEqual(win.map(\.format), ["windows", "windows", "windows"])
        XCTAssertEqual(win[0].original["TargetUserName"], "admin")
        XCTAssertEqual(events.first { $0.source.hasSuffix("fw.cef") }?.format, "cef")
        XCTAssertEqual(events.filter { $0.format == "linux-auth" }.count, 2500)

        // `vigil sources` shows the same counters.
        let table = try stack.vigil(["sources"])
        XCTAssertEqual(table.status, 0, table.err)
        XCTAssertTrue(table.out.contains("file:\(files)/auth.log"), table.out)
        let json = try stack.vigil(["sources", "--json"])
        let obj = try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any]
        let rows = obj?["sources"] as? [[String: Any]] ?? []
        XCTAssertEqual(rows.first { ($0["source"] as? String) == "file:\(files)/win.json" }?["events"] as? Int, 3)
    }

    /// The kernel counts datagrams it discards for a full receive buffer (`sk_drops`,
    /// /proc/net/udp "drops"); ingest reports it as `udp.dropped`. With a tiny buffer and a
    /// flood, received + dropped must equal sent exactly, and every received datagram is stored.
    func testUDPFloodDropsAreCountedExactly() throws {
        try startIngest(["--udp.receive-buffer", "4096"])
        let sent = 30_000
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = stack.syslogPort.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr)
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var ok = 0
        for i in 0..<sent {
            let line = Array("<38>Mar 10 12:00:00 web01 sshd[1]: Failed password for root from 192.0.2.1 port \(i) ssh2".utf8)
            let n = line.withUnsafeBytes { b in
                withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            }
            if n == line.count { ok += 1 }
        }
        XCTAssertEqual(ok, sent, "every datagram left the sender")
        var last: (UInt64, UInt64, UInt64) = (0, 0, 0)
        try stack.eventually("received + dropped reaches sent and everything received is stored") {
            let c = try self.stack.metrics("ingest").counters
            let stored = try self.stack.sources()["syslog-udp"]?.events ?? 0
            last = (c["udp.received"] ?? 0, c["udp.dropped"] ?? 0, stored)
            return last.0 + last.1 == UInt64(sent) && last.2 == last.0
        }
        print("udp flood: sent \(sent), received \(last.0), dropped \(last.1), stored \(last.2)")
        XCTAssertGreaterThan(last.1, 0, "a 4 KiB buffer cannot absorb a flood; drops must be visible")
    }

    func sendTCP(_ bytes: [UInt8], port: UInt16) throws {
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = port.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        let rc = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        XCTAssertEqual(rc, 0, "connect to \(port)")
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { return XCTFail("send failed") }
            off += n
        }
    }
}

final class ErrorList: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [Error] = []
    func add(_ e: Error) { lock.lock(); errors.append(e); lock.unlock() }
    var all: [Error] { lock.lock(); defer { lock.unlock() }; return errors }
}

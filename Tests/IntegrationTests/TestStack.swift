import Foundation
import XCTest
import VigilBus
import VigilLog
import VigilWire
import VigilTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Starts real Vigil processes (from the build directory) on ipc endpoints in a private temp
/// dir and free loopback ports; stops every one of them by pid.
final class TestStack {
    let dir: String
    let binDir: String
    let endpoints: BusEndpoints
    let context = ZContext()
    private(set) var processes: [String: Process] = [:]
    let syslogPort: UInt16
    let jsonPort: UInt16

    init(file: StaticString = #filePath) throws {
        dir = "/tmp/vit-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir + "/logs", withIntermediateDirectories: true)
        endpoints = BusEndpoints.local(runDirectory: dir + "/run")
        binDir = TestStack.buildDirectory()
        syslogPort = FreePort.next()
        jsonPort = FreePort.next()
    }

    /// The directory of the running test binary holds the product executables too.
    static func buildDirectory() -> String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        var url = URL(fileURLWithPath: exe).deletingLastPathComponent()
        while !url.path.isEmpty && url.path != "/" {
            if FileManager.default.fileExists(atPath: url.path + "/vigil-broker") { return url.path }
            url = url.deletingLastPathComponent()
        }
        return FileManager.default.currentDirectoryPath + "/.build/debug"
    }

    @discardableResult
    func start(_ binary: String, name: String? = nil, _ args: [String] = []) throws -> Process {
        let name = name ?? binary
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "\(binDir)/\(binary)")
        var full = ["--data", dir]
        if binary == "vigil-ingest" && !args.contains("--syslog.udp") {
            full += ["--syslog.udp", "127.0.0.1:\(syslogPort)", "--syslog.tcp", "127.0.0.1:\(syslogPort)"]
        }
        if binary == "vigil-ingest" && !args.contains("--json.tcp") {
            full += ["--json.tcp", "127.0.0.1:\(jsonPort)"]
        }
        p.arguments = full + args
        let log = FileHandle(forWritingAtPath: "\(dir)/logs/\(name).log") ?? {
            _ = FileManager.default.createFile(atPath: "\(dir)/logs/\(name).log", contents: nil)
            return FileHandle(forWritingAtPath: "\(dir)/logs/\(name).log")!
        }()
        log.seekToEndOfFile()
        p.standardOutput = log
        p.standardError = log
        try p.run()
        processes[name] = p
        return p
    }

    func startCore(ingestArgs: [String] = []) throws {
        try start("vigil-broker", name: "broker")
        try start("vigil-ingest", name: "ingest", ingestArgs)
        try start("vigil-enrichment", name: "enrichment")
        try start("vigil-detection", name: "detection")
        try waitHealthy(["ingest", "enrichment", "detection"])
    }

    /// The response service (docs/responses.md), after startCore; `args` add to the defaults.
    func startResponse(_ args: [String] = []) throws {
        try start("vigil-response", name: "response", args)
        try waitHealthy(["response"])
    }

    /// A Python helper from Tests/IntegrationTests/python, started with `args`; returns after it
    /// prints its first line ("listening"). Stopped with the stack.
    @discardableResult
    func startPython(_ script: String, name: String, _ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path
        p.arguments = ["\(root)/python/\(script)"] + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        processes[name] = p
        let first = out.fileHandleForReading.availableData
        guard String(decoding: first, as: UTF8.self).contains("listening") else {
            throw NSError(domain: "TestStack", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(script) did not start"])
        }
        return p
    }

    func client() throws -> RpcClient {
        try RpcClient(context: context, endpoint: endpoints.rpc, caller: Identity(name: "test", role: "admin"))
    }

    func waitHealthy(_ services: [String], timeoutMs: Int64 = 20_000) throws {
        let c = try client()
        defer { c.close() }
        for s in services {
            _ = try c.call(service: s, method: "sys.health", timeoutMs: timeoutMs)
        }
    }

    /// Raw lines as one `ingest.submit` batch (agent "test"), event ids `<idPrefix>-<i>`.
    func submit(_ c: RpcClient, batchId: String, idPrefix: String, lines: [String], timeoutMs: Int64 = 20_000) throws {
        var batch = EventBatch()
        batch.batchId = batchId
        batch.agentId = "test"
        for (i, line) in lines.enumerated() {
            var e = Event()
            e.id = "\(idPrefix)-\(i)"
            e.raw = Array(line.utf8)
            batch.events.append(e)
        }
        _ = try c.call(service: "ingest", method: "ingest.submit", batch, as: EventBatchAck.self, timeoutMs: timeoutMs)
    }

    func metrics(_ service: String) throws -> MetricsResponse {
        let c = try client()
        defer { c.close() }
        return try c.call(service: service, method: "sys.metrics", MetricsResponse(), as: MetricsResponse.self, timeoutMs: 5000)
    }

    func kill(_ name: String, signal sig: Int32 = SIGKILL) {
        guard let p = processes[name] else { return }
        Glibc.kill(p.processIdentifier, sig)
        p.waitUntilExit()
        processes[name] = nil
    }

    /// Stops everything: SIGTERM, then SIGKILL after 10 s.
    func stopAll() {
        for (_, p) in processes where p.isRunning { Glibc.kill(p.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(10)
        for (_, p) in processes {
            while p.isRunning && Date() < deadline { usleep(20_000) }
            if p.isRunning { Glibc.kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        }
        processes.removeAll()
    }

    func log(_ name: String) -> String {
        (try? String(contentsOfFile: "\(dir)/logs/\(name).log", encoding: .utf8)) ?? ""
    }

    func cleanup() {
        stopAll()
        context.terminate()
        // The dir goes when the test has finished and passed. A failed test (an assertion, or an
        // error thrown after this ran) keeps it and prints the end of every service log, so a
        // failure seen once in CI can be read afterwards. VIGIL_KEEP_TEST_DIRS=1 keeps every dir.
        if ProcessInfo.processInfo.environment["VIGIL_KEEP_TEST_DIRS"] == nil { FailureWatch.shared.removeIfPassed(dir) }
    }

    func sendSyslog(_ lines: [String], tcp: Bool) throws {
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = syslogPort.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr)
        let fd = socket(AF_INET, Int32(tcp ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        let rc = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { throw TestSetupError(message: "cannot connect to ingest on 127.0.0.1:\(syslogPort)") }
        for l in lines {
            let b = Array((tcp ? l + "\n" : l).utf8)
            _ = b.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        }
    }

    /// Runs `vigil ARGS… --data <dir>` to completion; returns exit status, stdout, stderr.
    func vigil(_ args: [String], timeoutS: Double = 60) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "\(binDir)/vigil")
        p.arguments = args + ["--data", dir]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Read before waiting so a full pipe cannot block the child.
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    func sources() throws -> [String: SourceStatus] {
        let c = try client()
        defer { c.close() }
        let r = try c.call(service: "ingest", method: "ingest.sources", SourcesRequest(), as: SourcesResponse.self, timeoutMs: 5000)
        return Dictionary(uniqueKeysWithValues: r.sources.map { ($0.source, $0) })
    }

    /// Every event ingest has in stream `stream` (from its outbox, via `stream.replay`).
    func events(stream: String = "events.parsed.0") throws -> [Event] {
        let c = try client()
        defer { c.close() }
        var out: [Event] = []
        var from: UInt64 = 1
        while true {
            let r = try c.call(service: "ingest-0", method: "stream.replay", ReplayRequest(stream: stream, fromSequence: from, maxMessages: 5000),
                               as: ReplayResponse.self, timeoutMs: 5000)
            if r.messages.isEmpty { return out }
            for m in r.messages { out.append(try Event(decoding: m.payload)) }
            from = r.messages.last!.sequence + 1
        }
    }

    func sendRaw(_ bytes: [UInt8], tcp: Bool) {
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = syslogPort.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr)
        let fd = socket(AF_INET, Int32(tcp ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        _ = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    }

    /// Polls `condition` every 100 ms until it holds or the timeout passes.
    func eventually(timeoutMs: Int64 = 20_000, _ what: String, _ condition: () throws -> Bool) throws {
        let deadline = Clock.monotonicMs() + timeoutMs
        while Clock.monotonicMs() < deadline {
            if (try? condition()) == true { return }
            usleep(100_000)
        }
        throw TimedOut(what: what)
    }
}

struct TimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for: \(what)" }
}

/// The test's own setup failed (a tool missing, a helper server that did not start): the test
/// fails with this reason instead of being skipped, since CI installs everything it needs.
struct TestSetupError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Removes finished tests' stack dirs when the test passed; prints the service logs of a failed one.
final class FailureWatch: NSObject, XCTestObservation, @unchecked Sendable {
    static let shared: FailureWatch = {
        let w = FailureWatch()
        XCTestObservationCenter.shared.addTestObserver(w)
        return w
    }()
    private let lock = NSLock()
    private var pending: [String] = []

    func removeIfPassed(_ dir: String) { lock.lock(); pending.append(dir); lock.unlock() }

    func testCaseDidFinish(_ testCase: XCTestCase) {
        lock.lock(); let dirs = pending; pending = []; lock.unlock()
        let failed = (testCase.testRun?.totalFailureCount ?? 0) > 0
        for dir in dirs {
            if failed { Self.printLogTails(dir) } else { try? FileManager.default.removeItem(atPath: dir) }
        }
    }

    static func printLogTails(_ dir: String, lines: Int = 40) {
        let logs = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/logs"))?.sorted() ?? []
        print("test failed: data and service logs kept in \(dir)")
        for name in logs {
            guard let text = try? String(contentsOfFile: dir + "/logs/" + name, encoding: .utf8) else { continue }
            print("--- \(name), last \(lines) lines")
            print(text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n"))
        }
    }
}

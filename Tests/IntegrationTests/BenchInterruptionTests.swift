import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A benchmark that is killed, or whose output is closed (`bench | head`), stops the services
/// it started and exits, instead of running on (a killed e2e-bench once ran 13 minutes at 90 %
/// CPU). Exercised with the real vigil-bench, which starts the real broker.
final class BenchInterruptionTests: XCTestCase {
    func children(of pid: Int32) -> [Int32] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.flatMap { tid in
            ((try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/children", encoding: .utf8)) ?? "")
                .split(separator: " ").compactMap { Int32($0) }
        }
    }

    func alive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        return !stat.contains(") Z ") // a zombie has stopped
    }

    /// Starts vigil-bench with its output on a pipe; returns it and the broker it started.
    /// `ignoringHangUp`: started as `nohup` would, with SIGHUP ignored (through sh's `trap`).
    func startBench(ignoringHangUp: Bool = false) throws -> (Process, Pipe, Int32) {
        let bench = Process()
        let path = TestStack.buildDirectory() + "/vigil-bench"
        if ignoringHangUp {
            bench.executableURL = URL(fileURLWithPath: "/bin/sh")
            bench.arguments = ["-c", "trap '' HUP; exec '\(path)'"]
        } else {
            bench.executableURL = URL(fileURLWithPath: path)
        }
        let out = Pipe()
        bench.standardOutput = out
        bench.standardError = FileHandle.nullDevice
        try bench.run()
        var broker: Int32 = 0
        for _ in 0..<200 where broker == 0 {
            broker = children(of: bench.processIdentifier).first ?? 0
            if broker == 0 { usleep(25_000) }
        }
        XCTAssertNotEqual(broker, 0, "vigil-bench started the broker")
        usleep(500_000) // past the bench's start-up, into its measurements
        return (bench, out, broker)
    }

    func waitGone(_ pid: Int32, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline { if !alive(pid) { return true }; usleep(50_000) }
        return !alive(pid)
    }

    func testSIGTERMStopsTheBenchAndTheServicesItStarted() throws {
        let (bench, _, broker) = try startBench()
        defer { try? FileManager.default.removeItem(atPath: "/tmp/vigil-bench-\(bench.processIdentifier)") }
        kill(bench.processIdentifier, SIGTERM)
        bench.waitUntilExit()
        XCTAssertEqual(bench.terminationStatus, 128 + SIGTERM)
        XCTAssertFalse(alive(broker), "the broker had stopped when the bench exited")
        if alive(broker) { kill(broker, SIGKILL) }
    }

    func testClosedOutputStopsTheBenchAndTheServicesItStarted() throws {
        let (bench, out, broker) = try startBench()
        defer { try? FileManager.default.removeItem(atPath: "/tmp/vigil-bench-\(bench.processIdentifier)") }
        try out.fileHandleForReading.close() // as `vigil-bench | head` once head has its lines
        let stopped = waitGone(bench.processIdentifier, seconds: 10)
        if !stopped { kill(bench.processIdentifier, SIGKILL) }
        bench.waitUntilExit()
        XCTAssertTrue(stopped, "the bench noticed its output was closed")
        XCTAssertEqual(bench.terminationStatus, 128 + SIGPIPE)
        XCTAssertTrue(waitGone(broker, seconds: 10), "the broker was stopped")
        if alive(broker) { kill(broker, SIGKILL) }
    }

    func testASignalIgnoredAtStartStaysIgnored() throws {
        let (bench, _, broker) = try startBench(ignoringHangUp: true)
        defer { try? FileManager.default.removeItem(atPath: "/tmp/vigil-bench-\(bench.processIdentifier)") }
        kill(bench.processIdentifier, SIGHUP)
        usleep(500_000)
        XCTAssertTrue(alive(bench.processIdentifier) && alive(broker), "SIGHUP, ignored as under nohup, did not stop the run")
        kill(bench.processIdentifier, SIGTERM)
        bench.waitUntilExit()
        XCTAssertEqual(bench.terminationStatus, 128 + SIGTERM)
        XCTAssertTrue(waitGone(broker, seconds: 10), "the broker was stopped")
        if alive(broker) { kill(broker, SIGKILL) }
    }
}

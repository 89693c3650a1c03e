#if canImport(Glibc)
import Glibc
#endif

/// Per-batch timing lines for finding where event latency goes (`VIGIL_TRACE=1` in a service's
/// environment; off by default, and then each call site costs one branch). Each line is
/// `TRACE <kind> key=value …` on stderr with wall-clock microseconds, so the lines of several
/// processes on one host can be joined: `bench/e2e/latency-trace.py` does that for an
/// `e2e-bench --keep` run (docs/performance.md, "p99 at 10,000 events/s").
public enum Trace {
    public static let on: Bool = getenv("VIGIL_TRACE") != nil

    /// Wall-clock microseconds (CLOCK_REALTIME, comparable across processes).
    public static func nowUs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }

    /// Writes one line with one write(2) (unbuffered, so a killed process loses none).
    public static func emit(_ s: String) {
        var line = Array(("TRACE " + s + "\n").utf8)
        _ = line.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }
}

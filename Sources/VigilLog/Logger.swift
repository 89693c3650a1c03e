#if canImport(Glibc)
import Glibc
#endif

/// Structured log lines (logfmt: `ts=… level=… service=… msg="…" key=value`) on stderr.
/// Value type; libraries take one so the caller decides the label and level.
public struct Logger: Sendable {
    public enum Level: Int, Sendable, Comparable, CaseIterable {
        case debug = 0, info, warning, error
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        public var name: String { ["debug", "info", "warning", "error"][rawValue] }
        public init?(name: String) {
            guard let l = Level.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
            self = l
        }
    }

    public var label: String
    public var level: Level
    public var metadata: [(String, String)] = []

    public init(label: String, level: Level = .info) {
        self.label = label
        self.level = level
    }

    public func with(_ key: String, _ value: String) -> Logger {
        var l = self
        l.metadata.append((key, value))
        return l
    }

    public func debug(_ msg: @autoclosure () -> String, _ kv: KeyValuePairs<String, String> = [:]) { log(.debug, msg(), kv) }
    public func info(_ msg: @autoclosure () -> String, _ kv: KeyValuePairs<String, String> = [:]) { log(.info, msg(), kv) }
    public func warning(_ msg: @autoclosure () -> String, _ kv: KeyValuePairs<String, String> = [:]) { log(.warning, msg(), kv) }
    public func error(_ msg: @autoclosure () -> String, _ kv: KeyValuePairs<String, String> = [:]) { log(.error, msg(), kv) }

    public func log(_ lvl: Level, _ msg: String, _ kv: KeyValuePairs<String, String>) {
        guard lvl >= level else { return }
        var line = "ts=\(Clock.iso8601(Clock.nowMs())) level=\(lvl.name) service=\(label)"
        for (k, v) in metadata { line += " \(k)=\(Logger.quote(v))" }
        line += " msg=\(Logger.quote(msg))"
        for (k, v) in kv { line += " \(k)=\(Logger.quote(v))" }
        line += "\n"
        // One write per line so concurrent writers do not interleave within a line.
        _ = line.withCString { write(2, $0, strlen($0)) }
    }

    static func quote(_ v: String) -> String {
        let needs = v.isEmpty || v.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\n" || $0 == "\\" })
        if !needs { return v }
        var out = "\""
        for c in v {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out + "\""
    }
}

public enum Clock {
    public static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Monotonic milliseconds, for timers and timeouts (immune to wall-clock changes).
    public static func monotonicMs() -> Int64 { Int64(monotonicNs() / 1_000_000) }

    /// Monotonic nanoseconds, for short waits (a store connection's busy wait).
    public static func monotonicNs() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// CPU microseconds the calling thread has used (for traces: wall time well above it means
    /// the thread waited for a core).
    public static func threadCPUUs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }

    public static func iso8601(_ ms: Int64) -> String {
        var t = time_t(ms / 1000)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        func p(_ v: Int32, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        return "\(p(tmv.tm_year + 1900, 4))-\(p(tmv.tm_mon + 1, 2))-\(p(tmv.tm_mday, 2))T\(p(tmv.tm_hour, 2)):\(p(tmv.tm_min, 2)):\(p(tmv.tm_sec, 2)).\(p(Int32(ms % 1000), 3))Z"
    }
}

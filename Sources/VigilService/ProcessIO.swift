import Foundation

/// What a process has written, from the kernel's count (benches compare services by it).
public enum ProcessIO {
    /// Bytes the process (`pid`, or this one when nil) has handed to write()/pwrite() so far:
    /// `wchar` in /proc/<pid>/io — for a service, its WAL appends and checkpoint copies. 0 when
    /// the file cannot be read (the process is gone, or no /proc).
    public static func bytesWritten(pid: Int32? = nil) -> UInt64 {
        let path = pid.map { "/proc/\($0)/io" } ?? "/proc/self/io"
        guard let s = try? String(contentsOfFile: path, encoding: .utf8) else { return 0 }
        for line in s.split(separator: "\n") where line.hasPrefix("wchar:") {
            return UInt64(line.dropFirst(6).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        return 0
    }
}

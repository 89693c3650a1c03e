import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Stops a benchmark's services when the benchmark is interrupted (Ctrl-C, `kill`, a hang-up)
/// or its output is closed (`e2e-bench | head`), instead of leaving them running.
///
/// Why not a dispatch signal source: libdispatch reads signals through a signalfd, which only
/// sees signals that are blocked; a signal set to SIG_IGN and not blocked in the main thread is
/// discarded, and one pending on the main thread alone keeps the signalfd readable so the
/// dispatch manager thread spins (both seen: a killed e2e-bench ran on for 13 minutes at 90 % CPU).
/// Here a plain handler writes the signal number to a pipe a thread waits on. Handled signals
/// are reset to the default in the programs the bench starts (exec); SIGPIPE, ignored here, stays
/// ignored in them (Vigil's services ignore it anyway). A signal the bench was started with
/// ignored (`nohup`, `&` in a script) stays ignored.
public enum Interruption {
    nonisolated(unsafe) private static var pipeWrite: Int32 = -1

    /// `stop` runs once, on a thread of its own, with the signal number (SIGPIPE when standard
    /// output was closed); the process then exits with 128 + that number.
    public static func install(_ stop: @escaping @Sendable (Int32) -> Void) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        // The handler must never block: a full pipe only means a stop is already on its way.
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
        pipeWrite = fds[1]
        let handler: @convention(c) (Int32) -> Void = { sig in
            let saved = errno
            var byte = UInt8(truncatingIfNeeded: sig)
            _ = write(Interruption.pipeWrite, &byte, 1)
            errno = saved
        }
        for sig in [SIGINT, SIGTERM, SIGHUP] where !ignored(sig) { signal(sig, handler) }
        // A write to a closed pipe fails with EPIPE instead of killing the bench before it has
        // stopped what it started; the watcher below notices the closed reader.
        signal(SIGPIPE, SIG_IGN)
        let readFd = fds[0]
        Thread.detachNewThread {
            var byte: UInt8 = 0
            while read(readFd, &byte, 1) < 0 && errno == EINTR {}
            finish(Int32(byte), stop)
        }
        if outputIsPipeOrSocket() {
            Thread.detachNewThread {
                var p = pollfd(fd: STDOUT_FILENO, events: 0, revents: 0)
                // With no events asked, poll returns only when the reader is gone (POLLERR/POLLHUP).
                while true {
                    let n = poll(&p, 1, -1)
                    if n > 0 && p.revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 { break }
                    if n < 0 && errno != EINTR { return }
                }
                var byte = UInt8(SIGPIPE)
                _ = write(pipeWrite, &byte, 1)
            }
        }
    }

    /// Set to ignore by whoever started the bench (`nohup`: SIGHUP; `&` in a script: SIGINT).
    private static func ignored(_ sig: Int32) -> Bool {
        var current = sigaction()
        guard sigaction(sig, nil, &current) == 0 else { return false }
        return unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
    }

    private static let finishing = NSLock()
    private static func finish(_ sig: Int32, _ stop: @Sendable (Int32) -> Void) -> Never {
        finishing.lock() // never unlocked: one stop, then exit
        trackedLock.lock(); stopping = true; trackedLock.unlock()
        stop(sig)
        // What the bench printed must not be lost: flush every stdio stream (each is locked by
        // stdio while flushed, so the main thread's own printing is not torn).
        fflush(nil)
        // _exit, not exit: the main thread is still running (ZeroMQ, SQLite, stdio), and exit's
        // atexit handlers and destructors must not run under it.
        _exit(128 + sig)
    }

    private static func outputIsPipeOrSocket() -> Bool {
        var st = stat()
        guard fstat(STDOUT_FILENO, &st) == 0 else { return false }
        let type = st.st_mode & S_IFMT
        return type == S_IFIFO || type == S_IFSOCK
    }

    private static let trackedLock = NSLock()
    nonisolated(unsafe) private static var tracked: [Int32] = []
    nonisolated(unsafe) private static var stopping = false

    /// A process the bench started, to be stopped (SIGTERM) by `stopTracked`. One started while
    /// a stop is under way (the main thread runs on meanwhile) is sent SIGTERM at once.
    public static func track(_ pid: Int32) {
        trackedLock.lock(); defer { trackedLock.unlock() }
        tracked.append(pid)
        if stopping { kill(pid, SIGTERM) }
    }

    /// Exits with `code` (the bench's own failure), unless an interruption's stop is under way:
    /// then waits for it to end the process, so its exit status and its stop are the ones seen.
    public static func exit(_ code: Int32) -> Never {
        finishing.lock()
        Glibc.exit(code)
    }

    /// A tracked process that has exited and been waited for: its pid may be reused by another.
    public static func untrack(_ pid: Int32) {
        trackedLock.lock(); defer { trackedLock.unlock() }
        tracked.removeAll { $0 == pid }
    }

    /// The tracked processes, last started first.
    private static func trackedProcesses() -> [Int32] {
        trackedLock.lock(); defer { trackedLock.unlock() }
        return tracked.reversed()
    }

    /// Sends SIGTERM to every tracked process still running (last started first), waits up to
    /// `graceSeconds` for them to exit (a service finishes its batch and commits), then SIGKILLs
    /// the rest. Returns how many were signalled and how many had to be killed.
    @discardableResult
    public static func stopTracked(graceSeconds: Double = 10) -> (signalled: Int, killed: Int) {
        var signalled = Set<Int32>()
        let deadline = Date().addingTimeInterval(graceSeconds)
        // The registry is read again each round: the main thread may start one more meanwhile.
        while true {
            let running = trackedProcesses().filter(isOurRunningChild)
            for pid in running where !signalled.contains(pid) { kill(pid, SIGTERM); signalled.insert(pid) }
            if running.isEmpty || Date() >= deadline { break }
            usleep(20_000)
        }
        let stuck = trackedProcesses().filter(isOurRunningChild)
        for pid in stuck { kill(pid, SIGKILL) }
        let killedBy = Date().addingTimeInterval(2)
        while Date() < killedBy && stuck.contains(where: isOurRunningChild) { usleep(20_000) }
        return (signalled.count, stuck.count)
    }

    /// Still running and still ours: the pid is this process's child (not a stranger that got a
    /// reaped child's pid) and not a zombie (exited, not yet reaped by Foundation).
    private static func isOurRunningChild(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        // After the command name: ") <state> <ppid> …"
        let rest = stat[stat.index(after: close)...].split(separator: " ")
        guard rest.count > 1, rest[0] != "Z", Int32(rest[1]) == getpid() else { return false }
        return true
    }

    /// Installs a stop that stops every tracked process (`stopTracked`) and says so on standard
    /// error, with `note` (e.g. where the data was kept) after it.
    public static func install(tool: String, note: String = "") {
        install { sig in
            let (signalled, killed) = stopTracked()
            report("\(tool): stopped by \(sig == SIGPIPE ? "its output closing" : "signal \(sig)"); \(signalled) started process(es) stopped"
                   + (killed > 0 ? " (\(killed) killed after 10 s)" : "") + (note.isEmpty ? "" : "; " + note) + "\n")
        }
    }

    /// Writes to standard error without Foundation (which may trap on a closed pipe); errors ignored.
    public static func report(_ message: String) {
        var bytes = Array(message.utf8)
        _ = bytes.withUnsafeMutableBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}

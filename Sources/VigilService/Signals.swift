import Synchronization
#if canImport(Glibc)
import Glibc
#endif

private let stopRequested = Atomic<Bool>(false)

/// SIGTERM/SIGINT request a graceful stop: loops finish their batch, commit and exit 0.
public enum ShutdownSignal {
    public static func install() {
        signal(SIGPIPE, SIG_IGN)
        let handler: @convention(c) (Int32) -> Void = { _ in stopRequested.store(true, ordering: .relaxed) }
        signal(SIGTERM, handler)
        signal(SIGINT, handler)
    }
    public static var requested: Bool { stopRequested.load(ordering: .relaxed) }
    public static func request() { stopRequested.store(true, ordering: .relaxed) }
    /// Clears a request (the interactive shell: Ctrl-C stops the running command, not the shell).
    public static func reset() { stopRequested.store(false, ordering: .relaxed) }
}

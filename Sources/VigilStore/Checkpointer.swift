import Foundation
import VigilLog

/// Moves WAL checkpoints off the thread that writes. SQLite's automatic checkpoint runs inside
/// the COMMIT that crosses `wal_autocheckpoint`: copying 8,192 pages back into the database file
/// and syncing it takes ~100 ms here, a stall of the service loop every few MB of writes (and
/// the largest part of an event's p99 latency). This thread, on its own connection, runs a
/// PASSIVE checkpoint every `intervalMs` — it copies pages while the writer goes on — and once
/// the WAL holds `restartBytes` and that pass copied all of it, a RESTART checkpoint, which then
/// has nothing to copy while it holds the write lock and lets the writer start the WAL file over
/// (else it would only grow under a steady load).
/// The writer keeps an automatic checkpoint as a backstop (`StoreOptions.backgroundCheckpoint`).
public final class Checkpointer: @unchecked Sendable {
    public struct Stats: Sendable {
        public var checkpoints: UInt64 = 0
        public var restarts: UInt64 = 0
        /// RESTARTs that found a reader still on the old WAL (a backup, a long query) and gave up.
        public var restartsBusy: UInt64 = 0
        public var pages: UInt64 = 0
        public var failures: UInt64 = 0
        /// The longest single checkpoint, in ms (what the writer no longer waits for).
        public var maxMs: UInt64 = 0
        public var lastError = ""
    }

    private let cond = NSCondition()
    private var stopping = false
    private var finished = false
    private var stats = Stats()
    // The pragma reports totals for the current WAL file generation; the WAL header's salt
    // changes each time the writer starts the file over, so a pass can tell what it copied.
    private var lastSalt: [UInt8] = []
    private var lastCopied: Int64 = 0

    /// Starts the thread; it opens `path` itself (a connection belongs to one thread).
    public init(path: String, intervalMs: Int = 200, restartBytes: Int = 32 << 20) {
        let t = Thread { [self] in
            // Named from inside: Foundation names the OS thread only for the current thread, and
            // Linux keeps 15 bytes of a name (`top -H`, `perf`, /proc/<pid>/task/*/comm show it).
            Thread.current.name = "checkpointer"
            var options = StoreOptions()
            options.cacheSizeKiB = 2048
            options.mmapSizeBytes = 0
            options.backgroundCheckpoint = false
            // A RESTART waiting for a long reader (an online backup, a big query) holds off new
            // writers meanwhile: give up soon and try again next turn rather than stall them.
            options.busyTimeoutMs = 50
            var db: Database?
            do { db = try Database(path: path, options: options) } catch { record { $0.failures += 1; $0.lastError = "\(error)" } }
            var pageSize = 4096
            if let db, let v = try? db.scalar("PRAGMA page_size")?.int64 { pageSize = Int(v) }
            let restartPages = max(1, restartBytes / max(512, pageSize))
            while let db, !waitOrStop(ms: intervalMs) {
                checkpoint(db, wal: path + "-wal", restartPages: restartPages)
            }
            db?.close()
            cond.lock(); finished = true; cond.broadcast(); cond.unlock()
        }
        t.start()
    }

    public var current: Stats { cond.lock(); defer { cond.unlock() }; return stats }

    /// Stops after the checkpoint under way (if any); returns when the thread has closed its connection.
    public func stop() {
        cond.lock()
        stopping = true
        cond.broadcast()
        while !finished { cond.wait() }
        cond.unlock()
    }

    /// True when asked to stop.
    private func waitOrStop(ms: Int) -> Bool {
        cond.lock(); defer { cond.unlock() }
        if !stopping { _ = cond.wait(until: Date(timeIntervalSinceNow: Double(ms) / 1000)) }
        return stopping
    }

    private func record(_ change: (inout Stats) -> Void) {
        cond.lock(); change(&stats); cond.unlock()
    }

    /// Bytes 16–23 of the WAL header (salt-1, salt-2).
    private func walSalt(_ wal: String) -> [UInt8] {
        guard let h = FileHandle(forReadingAtPath: wal) else { return [] }
        defer { try? h.close() }
        guard let head = try? h.read(upToCount: 24), head.count == 24 else { return [] }
        return Array(head[16..<24])
    }

    private func checkpoint(_ db: Database, wal: String, restartPages: Int) {
        let start = DispatchTime.now().uptimeNanoseconds
        let t0 = Trace.on ? Trace.nowUs() : 0
        let salt = walSalt(wal)
        do {
            // (busy, frames in the WAL, frames copied into the database file)
            guard let r = try db.query("PRAGMA wal_checkpoint(PASSIVE)").first else { return }
            var copied = r.int(2)
            let frames = r.int(1)
            var restarted = false, attempted = false, busy = false
            let t1 = Trace.on ? Trace.nowUs() : 0
            if frames >= Int64(restartPages) && copied == frames {
                attempted = true
                if let r2 = try db.query("PRAGMA wal_checkpoint(RESTART)").first {
                    if r2.int(0) == 0 { copied = max(copied, r2.int(2)); restarted = true } else { busy = true; record { $0.restartsBusy += 1 } }
                }
            }
            if Trace.on {
                // A RESTART holds off the store's writer once it has the write lock (its time
                // here includes waiting for that lock): a loop's wait. busy=1: it gave up, either
                // never getting the write lock (the writer was not held off) or waiting for
                // readers while holding it (the writer was).
                let t2 = Trace.nowUs()
                Trace.emit("ckpt db=\((wal as NSString).lastPathComponent) frames=\(frames) copied=\(copied) passive=\(t1 - t0) restart=\(attempted ? t2 - t1 : 0) busy=\(busy ? 1 : 0) at=\(t0)")
            }
            // A new WAL generation since the last pass: all it copied is new.
            let fresh = salt != lastSalt || copied < lastCopied ? copied : copied - lastCopied
            lastSalt = salt
            lastCopied = restarted ? 0 : copied
            guard fresh > 0 else { return }
            let ms = (DispatchTime.now().uptimeNanoseconds - start) / 1_000_000
            record {
                $0.checkpoints += 1
                $0.pages += UInt64(fresh)
                if restarted { $0.restarts += 1 }
                $0.maxMs = max($0.maxMs, ms)
            }
        } catch {
            // Busy or I/O: the next turn tries again; the writer's own checkpoint is the backstop.
            record { $0.failures += 1; $0.lastError = "\(error)" }
        }
    }
}

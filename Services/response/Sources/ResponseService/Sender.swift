import Foundation
import VigilBus
import VigilHTTP
import VigilLog
import VigilStore
import VigilWire

/// How a rendered message leaves the process (libcurl through VigilHTTP).
public struct SenderConfig: Sendable {
    public var smtp = SMTPServer(url: "smtp://127.0.0.1:25")
    public var mailFrom = "vigil@localhost"
    public var httpTimeoutMs = 10_000
    public init() {}
}

/// The result of one attempt.
public struct SendOutcome: Sendable, Equatable {
    public var ok: Bool
    /// Not worth retrying (e.g. HTTP 400/401/403/404/410, bad address): dead-lettered at once.
    public var permanent: Bool
    public var error: String
    public static let delivered = SendOutcome(ok: true, permanent: false, error: "")
}

public enum Sender {
    public static func send(_ m: RenderedMessage, _ config: SenderConfig) -> SendOutcome {
        switch m.channel {
        case .email:
            var s = config.smtp
            s.timeoutMs = config.httpTimeoutMs
            let rcpts = m.target.split(separator: ",").map(String.init)
            do {
                try HTTPClient.sendMail(SMTPMessage(from: config.mailFrom, recipients: rcpts, data: m.body), via: s)
                return .delivered
            } catch let e as SMTPError {
                return SendOutcome(ok: false, permanent: e.code == .invalidAddress || e.code == .invalidURL, error: e.description)
            } catch {
                return SendOutcome(ok: false, permanent: false, error: "\(error)")
            }
        case .slack, .pagerduty, .webhook:
            var p = HTTPPost(url: m.target, headers: m.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, body: m.body)
            p.timeoutMs = config.httpTimeoutMs
            do {
                let r = try HTTPClient.post(p)
                if (200..<300).contains(r.status) { return .delivered }
                let excerpt = String(decoding: r.body.prefix(200), as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
                let permanent = [400, 401, 403, 404, 405, 410, 413, 422].contains(r.status)
                return SendOutcome(ok: false, permanent: permanent, error: "status: HTTP \(r.status) from \(m.target)\(excerpt.isEmpty ? "" : ": " + excerpt)")
            } catch let e as HTTPError {
                return SendOutcome(ok: false, permanent: e.code == .invalidURL, error: e.description)
            } catch {
                return SendOutcome(ok: false, permanent: false, error: "\(error)")
            }
        }
    }
}

/// Retry timing and per-destination rate limits.
public struct DeliveryPolicy: Sendable {
    public var maxAttempts = 8
    public var baseDelayMs: Int64 = 1000
    public var maxDelayMs: Int64 = 300_000
    /// Sends per second to one destination (URL or mail server + recipients); 0 = unlimited.
    public var ratePerDestination: Double = 20
    public init() {}

    /// Exponential backoff with "equal jitter": half fixed, half random, so retries of many
    /// deliveries that failed together spread out instead of hammering the destination at once.
    public func delayMs(afterAttempt n: Int, random: Double = Double.random(in: 0..<1)) -> Int64 {
        let exp = min(Double(maxDelayMs), Double(baseDelayMs) * pow(2, Double(max(0, n - 1))))
        return Int64(exp / 2 + exp / 2 * random)
    }
}

/// Token buckets keyed by destination.
struct RateLimiter {
    var rate: Double
    private var buckets: [String: (tokens: Double, atMs: Int64)] = [:]
    init(rate: Double) { self.rate = rate }

    mutating func take(_ key: String, nowMs: Int64) -> Bool {
        guard rate > 0 else { return true }
        let burst = max(1, rate)
        var b = buckets[key] ?? (burst, nowMs)
        b.tokens = min(burst, b.tokens + Double(nowMs - b.atMs) / 1000 * rate)
        b.atMs = nowMs
        guard b.tokens >= 1 else { buckets[key] = b; return false }
        b.tokens -= 1
        buckets[key] = b
        return true
    }
}

/// Threads that perform deliveries (libcurl calls block) while the service loop keeps the
/// outbox. On its own store connection each thread commits a claim before it sends (so after a
/// kill the sends under way are known) and the outcome the moment it has it (so a kill after
/// that never repeats the send), then hands the outcome to the loop (which
/// publishes the status and counts it) and pokes the loop through its own inproc PUSH socket.
/// When a thread cannot record (no store, or a failed commit), the loop records the outcome.
final class DeliveryWorkers: @unchecked Sendable {
    struct Job: Sendable { var id: String; var attempt: Int; var attemptLimit: Int; var message: RenderedMessage }
    struct Done: Sendable {
        var job: Job; var outcome: SendOutcome; var startedMs: Int64; var durationMs: Int64
        /// Set when the thread committed the outcome; nil: the loop must record it.
        var recorded: DeliveryStatus?
        var recordError: String = ""
    }

    private let cond = NSCondition()
    private var jobs: [Job] = []
    private var done: [Done] = []
    private var stopping = false
    private var threads: [Thread] = []
    let config: SenderConfig
    let policy: DeliveryPolicy
    /// Test hook (and the bench): replaces the real send.
    let send: @Sendable (RenderedMessage, SenderConfig) -> SendOutcome

    /// `storePath`: the service's store, opened once per thread; nil leaves recording to the loop.
    init(count: Int, config: SenderConfig, policy: DeliveryPolicy, storePath: String?, context: ZContext, wakeEndpoint: String,
         send: @escaping @Sendable (RenderedMessage, SenderConfig) -> SendOutcome = { Sender.send($0, $1) }) {
        self.config = config
        self.policy = policy
        self.send = send
        for i in 0..<max(1, count) {
            let t = Thread { [unowned self] in
                // Named from inside: on Linux, Foundation names only the current thread's OS thread.
                Thread.current.name = "delivery-\(i)"
                // One socket and one connection per thread (neither may be shared), closed before the thread ends.
                let wake = try? ZSocket(context, .push)
                try? wake?.connect(wakeEndpoint)
                var options = StoreOptions()
                options.cacheSizeKiB = 2048
                options.mmapSizeBytes = 0
                // The service's checkpoint thread checkpoints this file too; this connection's
                // own automatic checkpoint is only the backstop, as on the loop's.
                options.backgroundCheckpoint = true
                let db = storePath.flatMap { try? Database(path: $0, options: options) }
                self.loop(wake, db)
                db?.close()
                wake?.close()
            }
            threads.append(t)
            t.start()
        }
    }

    func submit(_ j: Job) {
        cond.lock(); jobs.append(j); cond.signal(); cond.unlock()
    }

    func takeDone() -> [Done] {
        cond.lock(); defer { cond.unlock() }
        let d = done
        done.removeAll()
        return d
    }

    /// Stops the threads after their current send; jobs never started stay pending in the
    /// outbox (they were not claimed).
    func stop() {
        cond.lock(); stopping = true; jobs.removeAll(); cond.broadcast(); cond.unlock()
    }

    private func loop(_ wake: ZSocket?, _ db: Database?) {
        while true {
            cond.lock()
            while jobs.isEmpty && !stopping { cond.wait() }
            if stopping { cond.unlock(); return }
            let j = jobs.removeFirst()
            cond.unlock()
            let start = Int64(Date().timeIntervalSince1970 * 1000)
            // Committed before the send: after a kill, this row is known to have been under way.
            var claimError = ""
            if let db {
                do { try Outbox.claim(id: j.id, attempt: j.attempt, nowMs: start, db) } catch { claimError = "claim: \(error)" }
            }
            let mono = DispatchTime.now().uptimeNanoseconds
            // No send without its claim on record: a kill could then repeat it unflagged. A
            // store that cannot take the claim fails the attempt (retried later, like a 5xx).
            let outcome = claimError.isEmpty ? send(j.message, config)
                : SendOutcome(ok: false, permanent: false, error: "store: not sent, the attempt could not be recorded first (\(claimError))")
            let ms = Int64((DispatchTime.now().uptimeNanoseconds - mono) / 1_000_000)
            var d = Done(job: j, outcome: outcome, startedMs: start, durationMs: ms, recordError: claimError)
            if let db {
                do {
                    d.recorded = try db.transaction {
                        try Outbox.recordOutcome(id: j.id, attempt: j.attempt, attemptLimit: j.attemptLimit, outcome: outcome,
                                                 startedMs: start, durationMs: ms, policy: policy, nowMs: Clock.nowMs(), db)
                    }
                } catch {
                    d.recordError = "\(error)"
                }
            }
            cond.lock(); done.append(d); cond.unlock()
            _ = try? wake?.send([[1]] as [Frame], dontWait: true)
        }
    }
}

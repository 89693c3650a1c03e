import Foundation
import VigilBus
import VigilLog
import VigilWire
#if canImport(Glibc)
import Glibc
#endif

public struct ImportOptions: Sendable {
    /// Parser hint sent with every event ("json", "cef", "syslog", …); nil = ingest sniffs each line.
    public var format: String?
    public var batchEvents = 2000
    /// Keeps each request far below the bus's 16 MiB message limit.
    public var batchBytes = 4 << 20
    /// Batches sent before the first acknowledgement is awaited.
    public var inFlight = 8
    public var maxRecordBytes = 1 << 20
    public var service = "ingest"
    public var requestTimeoutMs: Int64 = 30_000
    /// Give up when ingest has acknowledged nothing for this long (down, or refusing input).
    public var stallTimeoutMs: Int64 = 60_000
    public var chunkBytes = 1 << 20
    public init() {}
}

public struct FileResult: Sendable {
    public var path: String
    public var error: String?
    public var records = 0
    public var accepted = 0
    public var unparsed = 0
    public var duplicateBatches = 0
    public var duplicateEvents = 0
    public var cuts = 0
}

public struct ImportProgress: Sendable {
    public var bytesDone: Int64
    public var bytesTotal: Int64
    public var events: Int
    public var elapsedMs: Int64
    public var file: String
}

public struct ImportError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// `vigil import`'s engine (also used by bench/ingest-bench): reads files into records,
/// groups them into EventBatches and submits them to `ingest.submit` with several batches in
/// flight. A batch id is derived from the file path, the batch's byte range and a hash of its
/// bytes, so importing the same file again (after a crash, or by mistake) is acknowledged as
/// duplicate batches instead of storing events twice, while a different file at the same path
/// gets new ids. A batch that fails for a transient reason (timeout, no ingest, outbox full)
/// is resent with the same id, which is safe for the same reason.
public final class FileImporter {
    let client: RpcClient
    let options: ImportOptions
    public var onProgress: ((ImportProgress) -> Void)?
    public var progressIntervalMs: Int64 = 200

    private struct Batch {
        var id: String
        var events: [Event]
        var bytes: Int64
        var attempts = 0
        var notBefore: Int64 = 0
    }

    private var startMs: Int64 = 0
    private var bytesTotal: Int64 = 0
    private var bytesDoneBefore: Int64 = 0
    private var eventsDone = 0
    private var lastProgress: Int64 = 0

    public init(client: RpcClient, options: ImportOptions = ImportOptions()) {
        self.client = client
        self.options = options
    }

    /// Checks that `path` is a readable regular file; the message says precisely what is wrong.
    public static func check(_ path: String) -> String? {
        var st = stat()
        if stat(path, &st) != 0 {
            return errno == ENOENT ? "\(path): no such file" : "\(path): \(String(cString: strerror(errno)))"
        }
        if (st.st_mode & S_IFMT) == S_IFDIR { return "\(path): is a directory (import the files in it, e.g. \(path)/*.log)" }
        if (st.st_mode & S_IFMT) != S_IFREG { return "\(path): not a regular file" }
        let fd = open(path, O_RDONLY)
        if fd < 0 { return "\(path): cannot read: \(String(cString: strerror(errno)))" }
        close(fd)
        return nil
    }

    /// Imports every file; a file that cannot be read is reported in its result and the
    /// others are still imported. Throws only when ingest cannot be reached at all.
    public func run(paths: [String]) throws -> [FileResult] {
        startMs = Clock.monotonicMs()
        let absolute = paths.map { $0.hasPrefix("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 }
            .map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        bytesTotal = absolute.reduce(0) { t, p in
            t + ((try? FileManager.default.attributesOfItem(atPath: p)[.size] as? NSNumber)?.int64Value ?? 0)
        }
        var results: [FileResult] = []
        for (i, path) in absolute.enumerated() {
            var r = FileResult(path: paths[i])
            if let problem = Self.check(path) {
                r.error = problem.replacingOccurrences(of: path, with: paths[i])
            } else {
                try importFile(path, &r)
            }
            results.append(r)
            bytesDoneBefore += (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
        }
        report(file: "", force: true)
        return results
    }

    /// Per-file state shared with the RPC completions (which run inside `processAvailable`).
    private final class FileState {
        var result: FileResult
        var queue: [Batch] = []
        var inFlight = 0
        var bytesAcked: Int64 = 0
        var failure: String?
        var fatal = false
        var lastAckMs = Clock.monotonicMs()
        init(_ r: FileResult) { result = r }
    }

    private func importFile(_ path: String, _ result: inout FileResult) throws {
        guard let fh = FileHandle(forReadingAtPath: path) else {
            result.error = "\(result.path): cannot open for reading"
            return
        }
        defer { try? fh.close() }
        let st = FileState(result)
        // Only JSON input can hold multi-line records; syslog/CEF lines are split at newlines.
        let jsonObjects = options.format == nil || options.format == "json"
        var splitter = RecordSplitter(maxRecordBytes: options.maxRecordBytes, jsonObjects: jsonObjects)
        let source = "file:\(path)"
        var current: [FileRecord] = []
        var currentBytes = 0
        var eof = false

        func makeBatch() {
            guard let first = current.first, let last = current.last else { return }
            var h = FNV64()
            var events: [Event] = []
            events.reserveCapacity(current.count)
            for r in current {
                h.add(r.bytes); h.add([0x0A])
                var e = Event()
                e.source = source
                e.raw = r.bytes
                e.format = options.format ?? ""
                events.append(e)
            }
            st.queue.append(Batch(id: "file:\(path)@\(first.offset)-\(last.endOffset)#\(h.hex)", events: events,
                                  bytes: last.endOffset - first.offset))
            current.removeAll(keepingCapacity: true)
            currentBytes = 0
        }

        var chunk = [UInt8](repeating: 0, count: options.chunkBytes)
        let fd = fh.fileDescriptor
        while st.failure == nil {
            // Read ahead only as far as the pipeline needs: memory stays bounded by
            // about 2 × inFlight batches whatever the file size.
            while !eof && st.queue.count < options.inFlight {
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 {
                    st.failure = "\(result.path): read failed: \(String(cString: strerror(errno)))"
                    break
                }
                var records = n == 0 ? [] : splitter.feed(chunk[0..<n])
                if n == 0 {
                    eof = true
                    if let last = splitter.finish() { records.append(last) }
                }
                for r in records {
                    current.append(r)
                    currentBytes += r.bytes.count
                    if current.count >= options.batchEvents || currentBytes >= options.batchBytes { makeBatch() }
                }
                if eof { makeBatch() }
            }
            let now = Clock.monotonicMs()
            while st.failure == nil && st.inFlight < options.inFlight,
                  let i = st.queue.firstIndex(where: { $0.notBefore <= now }) {
                send(st.queue.remove(at: i), st)
            }
            if st.inFlight == 0 && st.queue.isEmpty && eof { break }
            if zpoll([client.socket], timeoutMs: 20)[0] { client.processAvailable() }
            client.expire()
            report(file: result.path, bytesInFile: st.bytesAcked)
        }
        // Let answers to batches already sent arrive, so the counts are right.
        let drainUntil = Clock.monotonicMs() + options.requestTimeoutMs
        while st.inFlight > 0 && Clock.monotonicMs() < drainUntil {
            if zpoll([client.socket], timeoutMs: 50)[0] { client.processAvailable() }
            client.expire()
        }
        result = st.result
        result.records = result.accepted + result.duplicateEvents
        result.cuts = splitter.cuts
        if let f = st.failure {
            result.error = f
            if st.fatal { throw ImportError(message: f) }
        }
    }

    private func send(_ b: Batch, _ st: FileState) {
        var batch = EventBatch()
        batch.batchId = b.id
        batch.agentId = "vigil-import"
        batch.events = b.events
        st.inFlight += 1
        client.send(service: options.service, method: "ingest.submit", payload: batch.encoded(),
                    timeoutMs: options.requestTimeoutMs) { [self] res in
            st.inFlight -= 1
            switch res {
            case .success(let resp) where resp.errorCode == .ok:
                st.lastAckMs = Clock.monotonicMs()
                guard let ack = try? EventBatchAck(decoding: resp.payload) else {
                    st.failure = "ingest answered batch \(b.id) with an undecodable acknowledgement"
                    return
                }
                if ack.duplicate { st.result.duplicateBatches += 1; st.result.duplicateEvents += Int(ack.accepted) }
                else { st.result.accepted += Int(ack.accepted); st.result.unparsed += Int(ack.unparsed) }
                st.bytesAcked += b.bytes
                eventsDone += b.events.count
            case .success(let resp) where resp.errorCode == .badRequest:
                st.failure = "ingest refused batch \(b.id): \(resp.errorMessage)"
            case .success(let resp):
                retry(b, st, "\(resp.errorCode): \(resp.errorMessage)")
            case .failure(let e):
                retry(b, st, e.description)
            }
        }
    }

    /// Resends later with the same batch id: ingest stores it at most once whatever happened
    /// to the first attempt (lost reply, timeout, outbox full).
    private func retry(_ b: Batch, _ st: FileState, _ why: String) {
        if Clock.monotonicMs() - st.lastAckMs > options.stallTimeoutMs {
            st.failure = "ingest acknowledged nothing for \(options.stallTimeoutMs / 1000) s; last error: \(why)"
            st.fatal = true
            return
        }
        var again = b
        again.attempts += 1
        again.notBefore = Clock.monotonicMs() + Int64(min(2000, 50 << min(again.attempts, 6)))
        st.queue.insert(again, at: 0)
    }

    private func report(file: String, bytesInFile: Int64 = 0, force: Bool = false) {
        guard let cb = onProgress else { return }
        let now = Clock.monotonicMs()
        guard force || now - lastProgress >= progressIntervalMs else { return }
        lastProgress = now
        cb(ImportProgress(bytesDone: min(bytesTotal, bytesDoneBefore + bytesInFile), bytesTotal: bytesTotal,
                          events: eventsDone, elapsedMs: now - startMs, file: file))
    }
}

/// FNV-1a 64-bit: a cheap, stable fingerprint of a batch's bytes for its id (not security).
struct FNV64 {
    var value: UInt64 = 0xcbf2_9ce4_8422_2325
    mutating func add(_ bytes: [UInt8]) {
        for b in bytes { value = (value ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
    }
    var hex: String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}

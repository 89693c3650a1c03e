import Foundation
import VigilBus
import VigilImport
import VigilLog
import VigilWire
#if canImport(Glibc)
import Glibc
#endif

/// `vigil import FILE… [--format json|syslog|cef|auto]`: sends files to ingest (see
/// VigilImport.FileImporter), shows progress on stderr and prints a summary.
enum ImportCommand {
    static let usage = "usage: vigil import FILE… [--format json|syslog|cef|auto] [--batch N] [--in-flight N] [--quiet] [--data DIR]"
    static let formats = ["json", "syslog", "cef", "auto"]

    static func run(_ args: Args) throws -> Int32 {
        let files = Array(args.words.dropFirst())
        guard !files.isEmpty else { throw CLIError(message: "nothing to import\n\(usage)", exitCode: 2) }
        let format = (args.flags["format"] ?? "auto").lowercased()
        guard formats.contains(format) else {
            throw CLIError(message: "--format must be one of \(formats.joined(separator: ", ")); got '\(format)'", exitCode: 2)
        }
        var opts = ImportOptions()
        opts.format = format == "auto" ? nil : format
        opts.batchEvents = try args.int("batch", opts.batchEvents)
        opts.inFlight = try args.int("in-flight", opts.inFlight)
        guard opts.batchEvents > 0, opts.inFlight > 0 else { throw CLIError(message: "--batch and --in-flight must be positive", exitCode: 2) }

        let ctx = ZContext()
        defer { ctx.terminate() }
        let client = try Connection.client(args, ctx)
        defer { client.close() }
        // Fail fast with a clear message when the stack is not running.
        do { _ = try client.call(service: opts.service, method: "sys.health", timeoutMs: 5000) } catch let e as RpcError {
            throw CLIError(message: "ingest is not reachable on \(args.data)/run (\(e.message)); start the stack with `vigil up`")
        }

        let importer = FileImporter(client: client, options: opts)
        let bar = ProgressDisplay(quiet: args.flags["quiet"] != nil)
        importer.progressIntervalMs = bar.isTerminal ? 200 : 2000
        importer.onProgress = { bar.show($0) }
        let t0 = Clock.monotonicMs()
        var fatal: String?
        var results: [FileResult] = []
        do { results = try importer.run(paths: files) } catch { fatal = "\(error)" }
        bar.finish()
        let elapsed = Double(Clock.monotonicMs() - t0) / 1000

        for r in results where r.error != nil { FileHandle.standardError.write(Data("vigil: \(r.error!)\n".utf8)) }
        let ok = results.filter { $0.error == nil }
        let accepted = results.reduce(0) { $0 + $1.accepted }
        let unparsed = results.reduce(0) { $0 + $1.unparsed }
        let dupBatches = results.reduce(0) { $0 + $1.duplicateBatches }
        let dupEvents = results.reduce(0) { $0 + $1.duplicateEvents }
        let cuts = results.reduce(0) { $0 + $1.cuts }
        let rate = elapsed > 0 ? Double(accepted + dupEvents) / elapsed : 0
        print(Table.render(header: ["IMPORT", "RESULT"], rows: [
            ["files", "\(ok.count) imported, \(files.count - ok.count) failed"],
            ["accepted", "\(accepted) events (\(unparsed) unparsed)"],
            ["duplicates", "\(dupBatches) batches (\(dupEvents) events) already imported, not stored again"],
        ] + (cuts > 0 ? [["cut", "\(cuts) records longer than \(opts.maxRecordBytes) bytes were cut into pieces"]] : []) + [
            ["elapsed", String(format: "%.2f s, %.0f events/s", elapsed, rate)],
        ]))
        if let f = fatal { throw CLIError(message: f) }
        return ok.count == files.count ? 0 : 1
    }
}

/// Progress on stderr: a redrawn bar on a terminal, a plain line every few seconds otherwise
/// (logs and CI output stay readable).
final class ProgressDisplay {
    let isTerminal = isatty(STDERR_FILENO) == 1
    let quiet: Bool
    private var drawn = false

    init(quiet: Bool) { self.quiet = quiet }

    func show(_ p: ImportProgress) {
        guard !quiet else { return }
        let secs = Double(p.elapsedMs) / 1000
        let rate = secs > 0 ? Double(p.events) / secs : 0
        let frac = p.bytesTotal > 0 ? Double(p.bytesDone) / Double(p.bytesTotal) : 1
        let bytesRate = secs > 0 ? Double(p.bytesDone) / secs : 0
        let eta = bytesRate > 0 ? Double(p.bytesTotal - p.bytesDone) / bytesRate : 0
        let sizes = "\(Self.size(p.bytesDone))/\(Self.size(p.bytesTotal))"
        if isTerminal {
            let width = 30
            let filled = Int(frac * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            let line = String(format: "[%@] %3.0f%%  %@  %.0f ev/s  ETA %@", bar, frac * 100, sizes, rate, Self.clock(eta))
            FileHandle.standardError.write(Data("\r\u{1B}[2K\(line)".utf8))
            drawn = true
        } else {
            let line = String(format: "import: %@ (%.0f%%), %d events, %.0f events/s, ETA %@", sizes, frac * 100, p.events, rate, Self.clock(eta))
            FileHandle.standardError.write(Data("\(line)\n".utf8))
        }
    }

    func finish() {
        if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    static func size(_ b: Int64) -> String {
        if b < 1024 { return "\(b) B" }
        if b < 1 << 20 { return String(format: "%.1f KiB", Double(b) / 1024) }
        if b < 1 << 30 { return String(format: "%.1f MiB", Double(b) / 1048576) }
        return String(format: "%.2f GiB", Double(b) / 1073741824)
    }

    static func clock(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }
}

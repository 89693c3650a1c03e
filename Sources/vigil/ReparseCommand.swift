import Foundation
import VigilBus
import VigilLog
import VigilWire
#if canImport(Glibc)
import Glibc
#endif

/// `vigil events reparse [QQL] [time flags] [--limit N] [--json]`: runs the parsers again over
/// stored unparsed events (after a parser was added or fixed). Pages through enrichment's
/// unparsed events matching QQL, hands them to ingest (`ingest.reparse`) in batches, and
/// reports how many now parse. Progress goes to stderr; safe to repeat.
enum ReparseCommand {
    static func run(_ args: Args, query: String) throws -> Int32 {
        let ctx = ZContext()
        defer { ctx.terminate() }
        let client = try Connection.client(args, ctx)
        defer { client.close() }
        let unparsed = "event.parse_status: unparsed"
        var req = try EventsCommand.request(args, query: query.isEmpty ? unparsed : "\(unparsed) and (\(query))")
        req.limit = UInt32(max(1, min(2000, try args.int("batch", 500))))
        req.sortToken = "@timestamp"
        req.sortAscending = true
        let limit = try args.int("limit", Int.max)
        let total: UInt64
        do {
            total = try client.call(service: "enrichment", method: "events.count", req, as: CountResponse.self, timeoutMs: 30_000).count
        } catch let e as RpcError {
            throw CLIError(message: e.code == .badRequest ? "bad query:\n\(e.message)" : "enrichment: \(e.message)")
        }
        let planned = min(UInt64(limit), total)
        let started = Clock.monotonicMs()
        let terminal = isatty(STDERR_FILENO) == 1 && args.flags["quiet"] == nil
        var examined = 0, parsed = 0, batchNo = 0
        var lastReport = started
        while examined < limit {
            let page: EventPage
            do { page = try client.call(service: "enrichment", method: "events.search", req, as: EventPage.self, timeoutMs: 30_000) }
            catch let e as RpcError { throw CLIError(message: "enrichment: \(e.message)") }
            let events = Array(page.events.prefix(limit - examined))
            if events.isEmpty { break }
            batchNo += 1
            var batch = EventBatch()
            batch.batchId = "reparse-\(started)-\(batchNo)"
            batch.events = events
            let ack: EventBatchAck
            do { ack = try client.call(service: "ingest", method: "ingest.reparse", batch, as: EventBatchAck.self, timeoutMs: 60_000) }
            catch let e as RpcError {
                throw CLIError(message: "ingest: \(e.message) (after \(examined) events examined, \(parsed) reparsed)")
            }
            examined += events.count
            parsed += Int(ack.accepted)
            let now = Clock.monotonicMs()
            if terminal {
                let frac = planned > 0 ? Double(examined) / Double(planned) : 1
                FileHandle.standardError.write(Data(String(format: "\r\u{1B}[2Kreparse: %d/%llu (%3.0f%%), %d now parsed",
                                                           examined, planned, frac * 100, parsed).utf8))
            } else if now - lastReport >= 2000 && args.flags["quiet"] == nil {
                FileHandle.standardError.write(Data("reparse: \(examined)/\(planned), \(parsed) now parsed\n".utf8))
                lastReport = now
            }
            if page.nextCursor.isEmpty { break }
            req.cursor = page.nextCursor
        }
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
        let secs = Double(Clock.monotonicMs() - started) / 1000
        if args.json {
            print("{\"examined\":\(examined),\"reparsed\":\(parsed),\"still_unparsed\":\(examined - parsed),\"seconds\":\(String(format: "%.2f", secs))}")
        } else if examined == 0 {
            print("no unparsed events match")
        } else {
            print("\(examined) unparsed events examined: \(parsed) now parsed (sent through enrichment and detection again), \(examined - parsed) still unparsed, \(String(format: "%.1f", secs)) s")
        }
        return 0
    }
}

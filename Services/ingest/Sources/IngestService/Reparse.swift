import Foundation
import VigilBus
import VigilLog
import VigilWire

/// RPC `ingest.reparse`: runs the parsers again over events that were stored unparsed (after
/// a parser was added or fixed). Takes an EventBatch of the stored events (id, raw, source,
/// sender, received time, partition — as `events.search` returns them); each one that now
/// parses is appended to `events.parsed.<its partition>` with its original id, received time
/// and partition, so the enrichment instance that stored it replaces the unparsed row and
/// detection evaluates it. Events that still do not parse are not re-sent. The reply is an
/// EventBatchAck: `accepted` = now parsed, `unparsed` = still unparsed. Safe to repeat:
/// enrichment replaces only rows that are still unparsed.
extension IngestService {
    func reparse(_ req: RpcRequest) -> RpcResponse {
        let batch: EventBatch
        do { batch = try EventBatch(decoding: req.payload) } catch {
            runtime.count("malformed")
            return .failure(.badRequest, "ingest.reparse takes an EventBatch of stored events: \(error)")
        }
        var builder = submitBuilders[0]
        defer { submitBuilders[0] = builder }
        var parsed: [Event] = []
        var problems: [String] = []
        for (i, old) in batch.events.enumerated() {
            guard !old.id.isEmpty, !old.raw.isEmpty else { problems.append("events[\(i)]: id and raw are required"); continue }
            guard Int(old.partition) < streamNames.count else {
                problems.append("events[\(i)] (\(old.id)): partition \(old.partition) is not below the partition count \(streamNames.count)")
                continue
            }
            let received = old.receivedTimeMs > 0 ? old.receivedTimeMs : Clock.nowMs()
            // Parsed as it was when received: year-less timestamps resolve against the receive time.
            var e = builder.makeEvent(raw: old.raw, source: old.source, sender: old.sender, now: received,
                                      hint: Self.sourceHints[old.source])
            guard e.parseStatus == .parsed else { continue }
            for (k, v) in old.fields where k.hasPrefix("collection.") { e.fields[k] = v }
            e.id = old.id
            e.fields["event.reparsed"] = "true"
            e.receivedTimeMs = received
            builder.partition(&e)
            // The event stays in the partition (and so the enrichment store) that holds it.
            e.partition = old.partition
            parsed.append(e)
        }
        if !problems.isEmpty {
            runtime.count("reparse.refused", UInt64(problems.count))
            return .failure(.badRequest, "ingest.reparse refused the batch:\n" + problems.prefix(20).joined(separator: "\n"))
        }
        do {
            try runtime.db.transaction {
                for e in parsed {
                    let stream = streamNames[Int(e.partition)]
                    try producer.append(stream: stream, topic: stream, payloadType: Event.typeName, payload: e.encoded(),
                                        now: e.receivedTimeMs)
                }
            }
            producer.publishCommitted()
        } catch let e as StreamError where e.code == .outboxFull {
            producer.discardUncommitted()
            return .failure(.resourceExhausted, e.message)
        } catch {
            producer.discardUncommitted()
            runtime.count("errors")
            return .failure(.internal, "reparsed events not stored: \(error)")
        }
        runtime.count("reparse.examined", UInt64(batch.events.count))
        runtime.count("reparse.parsed", UInt64(parsed.count))
        var ack = EventBatchAck()
        ack.batchId = batch.batchId
        ack.accepted = UInt32(parsed.count)
        ack.unparsed = UInt32(batch.events.count - parsed.count)
        return .ok(ack)
    }
}

/// Where each stream's outbox rows are: per stream, the rows still in the table in sequence
/// order (which is also their id order), with the last sequence and the number of messages of
/// each. It lives in memory and is rebuilt from the table when the producer starts.
///
/// Why not an SQLite index on (stream, seq): every transaction appends one row per stream it
/// touched, so with 16 partitions each commit put 16 entries on 16 different index pages, and
/// SQLite writes every dirty page whole to the WAL (and again at the checkpoint). At 50 events
/// per transaction those index pages were about half of what the enrichment stage wrote.
struct OutboxIndex {
    struct Entry: Equatable, Sendable {
        /// The row's id in `stream_outbox`.
        var id: Int64
        /// The sequence of the row's last message; its first is `lastSeq - n + 1`.
        var lastSeq: UInt64
        var n: Int
        /// The newest produced time among its messages (for unacknowledged retention).
        var timeMs: Int64
        var firstSeq: UInt64 { lastSeq - UInt64(n) + 1 }
    }

    /// Rows of one stream; those before `start` are gone (truncation takes from the front, and
    /// the array is compacted now and then instead of shifting it on every removal).
    private struct Rows {
        var entries: [Entry] = []
        var start = 0
        var live: ArraySlice<Entry> { entries[start...] }
    }

    private var streams: [String: Rows] = [:]
    /// Messages in all rows.
    private(set) var messages = 0

    /// Appends a row committed after every row already here (ids and sequences only grow).
    mutating func append(stream: String, _ e: Entry) {
        streams[stream, default: Rows()].entries.append(e)
        messages += e.n
    }

    /// The stream's rows, oldest first.
    func rows(_ stream: String) -> ArraySlice<Entry> { streams[stream]?.live ?? [] }

    /// The last sequence of each stream that has rows.
    var lastSequences: [String: UInt64] {
        var out: [String: UInt64] = [:]
        for (s, r) in streams { if let last = r.live.last { out[s] = last.lastSeq } }
        return out
    }

    /// Position (in `rows(stream)`) of the first row holding `seq` or a later message.
    func firstRow(_ stream: String, atOrAfter seq: UInt64) -> Int? {
        let rows = self.rows(stream)
        var lo = rows.startIndex, hi = rows.endIndex
        while lo < hi {
            let mid = (lo + hi) / 2
            if rows[mid].lastSeq < seq { lo = mid + 1 } else { hi = mid }
        }
        return lo < rows.endIndex ? lo : nil
    }

    /// Forgets the stream's `count` oldest rows (after their DELETE committed).
    mutating func removeFirst(_ stream: String, _ count: Int) {
        guard count > 0, var r = streams[stream] else { return }
        let end = min(r.entries.count, r.start + count)
        for e in r.entries[r.start..<end] { messages -= e.n }
        r.start = end
        if r.start == r.entries.count {
            streams[stream] = nil
            return
        }
        // Compact once the dead prefix is large, so memory follows what is retained.
        if r.start >= 1024 && r.start * 2 >= r.entries.count {
            r.entries.removeFirst(r.start)
            r.start = 0
        }
        streams[stream] = r
    }
}

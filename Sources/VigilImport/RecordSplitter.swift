/// One record of a file: its bytes and where it was in the file.
public struct FileRecord: Sendable, Equatable {
    public var offset: Int64
    public var bytes: [UInt8]
    public var endOffset: Int64 { offset + Int64(bytes.count) }
}

/// Splits a file's bytes, fed in chunks of any size, into records: one per line, except that
/// a record starting with `{` or `[` (when `jsonObjects` is on) runs until its brackets
/// balance, so pretty-printed JSON objects written back to back (evtx_dump output) are one
/// record each. The split does not depend on how the input is chunked, which makes record
/// offsets, and therefore import batch ids, stable across runs.
///
/// Broken JSON must not swallow the rest of a file, so a JSON record also ends at a newline
/// inside a string (JSON strings cannot hold raw newlines) and before a line that starts with
/// `{` or `[` in column 0 while brackets are still open (continuation lines of pretty-printed
/// JSON are indented or start with a closing bracket). A record longer than `maxRecordBytes`
/// is cut there; each piece is kept and `cuts` counts the cuts. Blank lines are skipped.
public struct RecordSplitter {
    public let maxRecordBytes: Int
    public let jsonObjects: Bool
    public private(set) var cuts = 0

    private enum Mode { case between, line, json }
    private var mode = Mode.between
    private var buffer: [UInt8] = []
    private var bufferOffset: Int64 = 0   // file offset of buffer[0]
    private var scanned = 0               // next index of buffer to look at
    private var recordStart = 0           // index in buffer of the current record
    private var depth = 0, inString = false, escaped = false, atLineStart = false

    public init(maxRecordBytes: Int = 1 << 20, jsonObjects: Bool = true) {
        self.maxRecordBytes = max(1, maxRecordBytes)
        self.jsonObjects = jsonObjects
    }

    public mutating func feed(_ chunk: ArraySlice<UInt8>) -> [FileRecord] {
        buffer.append(contentsOf: chunk)
        var out: [FileRecord] = []
        var i = scanned
        while i < buffer.count {
            let b = buffer[i]
            switch mode {
            case .between:
                if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { i += 1; continue }
                recordStart = i
                if jsonObjects && (b == 0x7B || b == 0x5B) {
                    mode = .json; depth = 1; inString = false; escaped = false; atLineStart = false
                } else {
                    mode = .line
                }
            case .line:
                if b == 0x0A { emit(&out, end: i); mode = .between }
            case .json:
                if atLineStart && depth > 0 && (b == 0x7B || b == 0x5B) {
                    // A new top-level record in column 0: the previous one never closed.
                    emit(&out, end: i)
                    mode = .between
                    continue
                }
                atLineStart = false
                if inString {
                    if escaped { escaped = false }
                    else if b == 0x5C { escaped = true }
                    else if b == 0x22 { inString = false }
                    else if b == 0x0A { emit(&out, end: i); mode = .between }
                } else if b == 0x22 {
                    inString = true
                } else if b == 0x7B || b == 0x5B {
                    depth += 1
                } else if b == 0x7D || b == 0x5D {
                    depth -= 1
                    if depth == 0 { emit(&out, end: i + 1); mode = .between }
                } else if b == 0x0A {
                    atLineStart = true
                }
            }
            i += 1
            if mode != .between && i - recordStart >= maxRecordBytes {
                emit(&out, end: i)
                cuts += 1
                mode = .between
            }
        }
        scanned = i
        compact()
        return out
    }

    /// Every record of a whole file held in memory (what `feed` then `finish` give).
    public static func records(in bytes: [UInt8], maxRecordBytes: Int = 1 << 20) -> [FileRecord] {
        var s = RecordSplitter(maxRecordBytes: maxRecordBytes)
        var out = s.feed(bytes[...])
        if let last = s.finish() { out.append(last) }
        return out
    }

    /// The unterminated last record, if any.
    public mutating func finish() -> FileRecord? {
        defer { buffer.removeAll(); scanned = 0; recordStart = 0; mode = .between }
        guard mode != .between else { return nil }
        var out: [FileRecord] = []
        emit(&out, end: buffer.count)
        return out.first
    }

    private mutating func emit(_ out: inout [FileRecord], end: Int) {
        var e = end
        while e > recordStart, buffer[e - 1] == 0x0D || buffer[e - 1] == 0x0A { e -= 1 }
        guard e > recordStart else { return }
        out.append(FileRecord(offset: bufferOffset + Int64(recordStart), bytes: Array(buffer[recordStart..<e])))
    }

    /// Drops bytes no record needs any more, so memory stays bounded by one record.
    private mutating func compact() {
        let keepFrom = mode == .between ? scanned : recordStart
        guard keepFrom > 0 else { return }
        buffer.removeFirst(keepFrom)
        bufferOffset += Int64(keepFrom)
        scanned -= keepFrom
        recordStart -= keepFrom
        if recordStart < 0 { recordStart = 0 }
    }
}

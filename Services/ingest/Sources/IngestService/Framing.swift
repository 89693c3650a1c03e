/// Splits a TCP byte stream into messages. Syslog (RFC 6587) uses octet-counted frames when
/// a message starts with digits and a space, otherwise newline-terminated lines; JSON lines
/// are newline-terminated only (`octetCounting: false`), because a JSON text never starts
/// with a length prefix. A line longer than `maxLineBytes` is cut there: each piece is kept
/// as its own message (never dropped) and `cuts` counts how often that happened.
struct LineFramer {
    let maxLineBytes: Int
    let octetCounting: Bool
    private(set) var cuts = 0
    private var buffer: [UInt8] = []

    init(maxLineBytes: Int, octetCounting: Bool = true) {
        self.maxLineBytes = max(1, maxLineBytes)
        self.octetCounting = octetCounting
    }

    mutating func feed(_ bytes: ArraySlice<UInt8>) -> [[UInt8]] {
        buffer.append(contentsOf: bytes)
        var out: [[UInt8]] = []
        var start = 0
        while start < buffer.count {
            if octetCounting {
                // Octet counting: DIGITS SP MSG
                var i = start
                while i < buffer.count, i - start < 7, buffer[i] >= 48, buffer[i] <= 57 { i += 1 }
                if i > start, i < buffer.count, buffer[i] == 32, buffer[start] != 48,
                   let len = Int(String(decoding: buffer[start..<i], as: UTF8.self)), len <= maxLineBytes {
                    let msgStart = i + 1
                    if buffer.count - msgStart < len { break }
                    out.append(trimmed(buffer[msgStart..<(msgStart + len)]))
                    start = msgStart + len
                    continue
                }
                if i == buffer.count && i - start < 7 { break } // could still become an octet count
            }
            guard let nl = buffer[start...].firstIndex(of: 10) else {
                if buffer.count - start >= maxLineBytes {
                    out.append(Array(buffer[start..<(start + maxLineBytes)]))
                    start += maxLineBytes
                    cuts += 1
                    continue
                }
                break
            }
            if nl - start > maxLineBytes {
                out.append(Array(buffer[start..<(start + maxLineBytes)]))
                start += maxLineBytes
                cuts += 1
                continue
            }
            let line = trimmed(buffer[start..<nl])
            if !line.isEmpty { out.append(line) }
            start = nl + 1
        }
        buffer.removeFirst(start)
        return out
    }

    /// What is left when the peer closes: an unterminated last line is still a message.
    mutating func finish() -> [UInt8]? {
        let rest = trimmed(buffer[...])
        buffer.removeAll()
        return rest.isEmpty ? nil : rest
    }

    private func trimmed(_ s: ArraySlice<UInt8>) -> [UInt8] {
        var e = s.endIndex
        while e > s.startIndex, s[e - 1] == 10 || s[e - 1] == 13 { e -= 1 }
        return Array(s[s.startIndex..<e])
    }
}

/// Comma-separated fields with RFC 4180 quoting ("a ""b""",c) as PAN-OS and pfSense emit.
enum CSV {
    static func split(_ line: Line, from s: Int, code: String) -> Result<[String], ParseFailure> {
        let b = line.b
        var out: [String] = []
        out.reserveCapacity(64)
        var i = s
        while true {
            if i < b.count, b[i] == 0x22 {
                let open = i
                var buf: [UInt8] = []
                i += 1
                while true {
                    guard i < b.count else {
                        return .failure(ParseFailure(code: code, reason: "unterminated quoted field \(out.count + 1) starting at offset \(open)"))
                    }
                    if b[i] == 0x22 {
                        if i + 1 < b.count, b[i + 1] == 0x22 { buf.append(0x22); i += 2; continue }
                        i += 1; break
                    }
                    buf.append(b[i]); i += 1
                }
                out.append(String(decoding: buf, as: UTF8.self))
                guard i >= b.count || b[i] == 0x2C else {
                    return .failure(ParseFailure(code: code, reason: "expected ',' after quoted field \(out.count) at offset \(i), found \(line.describe(i))"))
                }
            } else {
                let start = i
                while i < b.count, b[i] != 0x2C { i += 1 }
                var end = i
                while end > start, b[end - 1] == 0x0D || b[end - 1] == 0x0A { end -= 1 }
                out.append(line.str(start..<end))
            }
            if i >= b.count { return .success(out) }
            i += 1  // skip ','
        }
    }
}

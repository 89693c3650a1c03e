/// Space-separated key=value pairs with optional double-quoted values (FortiOS style:
/// `date=2024-03-10 devname="FGT 1" msg="a \"quoted\" word"`).
enum KeyValue {
    static func parse(_ line: Line, from s: Int, code: String) -> Result<[(String, String)], ParseFailure> {
        let b = line.b
        var out: [(String, String)] = []
        var i = line.skipSpaces(s)
        while i < b.count {
            let ks = i
            while i < b.count, b[i] != 0x3D, b[i] != 0x20 { i += 1 }
            guard i < b.count, b[i] == 0x3D, i > ks else {
                return .failure(ParseFailure(code: code, reason: "expected key=value at offset \(ks), found '\(line.str(ks..<min(i, ks + 32)))' without '='"))
            }
            let key = line.str(ks..<i)
            i += 1
            if i < b.count, b[i] == 0x22 {
                let open = i
                i += 1
                var buf: [UInt8] = []
                var closed = false
                while i < b.count {
                    if b[i] == 0x5C, i + 1 < b.count, b[i + 1] == 0x22 || b[i + 1] == 0x5C { buf.append(b[i + 1]); i += 2; continue }
                    if b[i] == 0x22 { closed = true; i += 1; break }
                    buf.append(b[i]); i += 1
                }
                guard closed else {
                    return .failure(ParseFailure(code: code, reason: "unterminated quoted value for key '\(key)' starting at offset \(open)"))
                }
                out.append((key, String(decoding: buf, as: UTF8.self)))
            } else {
                let vs = i
                while i < b.count, b[i] != 0x20 { i += 1 }
                out.append((key, line.str(vs..<i)))
            }
            i = line.skipSpaces(i)
        }
        return .success(out)
    }
}

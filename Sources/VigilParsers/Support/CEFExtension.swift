/// CEF extension tokenizer: "key=value key2=value with spaces". A key starts after a
/// space and ends at an unescaped '='; a '=' not preceded by " key" (e.g. inside a URL
/// query) stays part of the value, which is how real senders that forget `\=` still parse.
enum CEFExtension {
    @inline(__always) static func isKeyChar(_ c: UInt8) -> Bool {
        isAlpha(c) || isDigit(c) || c == 0x5F || c == 0x2E || c == 0x2D || c == 0x5B || c == 0x5D
    }

    /// Index of the next '=' at or after i not preceded by a backslash escape.
    static func nextEquals(_ b: [UInt8], _ i: Int, _ end: Int) -> Int? {
        var j = i
        while j < end {
            if b[j] == 0x5C { j += 2; continue }
            if b[j] == 0x3D { return j }
            j += 1
        }
        return nil
    }

    static func unescape(_ b: [UInt8], _ r: Range<Int>) -> String {
        guard b[r].contains(0x5C) else { return String(decoding: b[r], as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(r.count)
        var j = r.lowerBound
        while j < r.upperBound {
            let c = b[j]
            if c == 0x5C, j + 1 < r.upperBound {
                switch b[j + 1] {
                case 0x6E: out.append(0x0A)
                case 0x72: out.append(0x0D)
                case 0x74: out.append(0x09)
                case 0x3D, 0x5C, 0x7C: out.append(b[j + 1])
                default: out.append(c); out.append(b[j + 1])
                }
                j += 2
            } else { out.append(c); j += 1 }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func parse(_ line: Line, from s: Int, to e: Int, code: String) -> Result<[(String, String)], ParseFailure> {
        let b = line.b
        var out: [(String, String)] = []
        out.reserveCapacity(16)
        var ks = line.skipSpaces(s)
        guard ks < e else { return .success(out) }
        guard let firstEq = nextEquals(b, ks, e) else {
            return .failure(ParseFailure(code: code, reason: "expected key=value at offset \(ks), found no '=' in the extension"))
        }
        var eq = firstEq
        while true {
            var keyEnd = eq
            while keyEnd > ks, b[keyEnd - 1] == 0x20 { keyEnd -= 1 }
            guard keyEnd > ks, (ks..<keyEnd).allSatisfy({ isKeyChar(b[$0]) }) else {
                return .failure(ParseFailure(code: code, reason: "invalid extension key '\(line.str(ks..<keyEnd))' at offset \(ks); expected [A-Za-z0-9_.-] before '='"))
            }
            let key = line.str(ks..<keyEnd)
            let vs = eq + 1
            var search = vs
            var next: (valueEnd: Int, keyStart: Int, eq: Int)? = nil
            while let p = nextEquals(b, search, e) {
                var k = p
                while k > vs, isKeyChar(b[k - 1]) { k -= 1 }
                if k < p, k > vs, b[k - 1] == 0x20 { next = (k - 1, k, p); break }
                search = p + 1
            }
            var ve = next?.valueEnd ?? e
            while ve > vs, b[ve - 1] == 0x20 || b[ve - 1] == 0x0D || b[ve - 1] == 0x0A { ve -= 1 }
            out.append((key, unescape(b, vs..<ve)))
            guard let n = next else { break }
            ks = n.keyStart
            eq = n.eq
        }
        return .success(out)
    }
}

/// Splits a CEF/LEEF header on unescaped '|' (escapes `\|`, `\\`), stopping after `count` fields.
enum PipeHeader {
    /// Returns the unescaped fields and the offset just after the last consumed pipe.
    static func split(_ line: Line, from s: Int, fields count: Int) -> (fields: [String], rest: Int) {
        var fields: [String] = []
        fields.reserveCapacity(count)
        var cur: [UInt8] = []
        var i = s
        let b = line.b
        while i < b.count, fields.count < count {
            // Fast path: a field without escapes is decoded straight from the line.
            var j = i
            while j < b.count, b[j] != 0x7C, b[j] != 0x5C { j += 1 }
            if j < b.count, b[j] == 0x7C, cur.isEmpty {
                fields.append(String(decoding: b[i..<j], as: UTF8.self))
                i = j + 1
                continue
            }
            cur.append(contentsOf: b[i..<j])
            i = j
            guard i < b.count else { break }
            let c = b[i]
            if c == 0x5C, i + 1 < b.count, b[i + 1] == 0x7C || b[i + 1] == 0x5C {
                cur.append(b[i + 1]); i += 2; continue
            }
            if c == 0x7C {
                fields.append(String(decoding: cur, as: UTF8.self)); cur.removeAll(keepingCapacity: true)
            } else { cur.append(c) }
            i += 1
        }
        return (fields, i)
    }
}

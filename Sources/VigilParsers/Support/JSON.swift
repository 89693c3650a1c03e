/// Minimal JSON reader. Own implementation rather than JSONSerialization because we
/// need (a) exact byte offsets in failure reasons, (b) numbers kept as their original
/// text (EventRecordIDs exceed Double precision), (c) a depth limit so hostile input
/// cannot overflow the stack, and (d) speed.
enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    static func == (l: JSONValue, r: JSONValue) -> Bool {
        switch (l, r) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(a), .number(b)), let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    subscript(key: String) -> JSONValue? {
        if case let .object(members) = self {
            for (k, v) in members where k == key { return v }
        }
        return nil
    }

    var objectMembers: [(String, JSONValue)]? {
        if case let .object(m) = self { return m }
        return nil
    }

    /// Scalar rendered as text (numbers verbatim, bools "true"/"false"); nil for null/containers.
    var scalarText: String? {
        switch self {
        case let .string(s), let .number(s): return s
        case let .bool(b): return b ? "true" : "false"
        default: return nil
        }
    }

    var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

struct JSONReader {
    static let maxDepth = 64
    private let line: Line
    private var i: Int

    private init(_ line: Line, _ start: Int) { self.line = line; self.i = start }

    /// Parses exactly one JSON value spanning the line from `start` (trailing whitespace allowed).
    static func parse(_ line: Line, from start: Int = 0) -> Result<JSONValue, ParseFailure> {
        var r = JSONReader(line, start)
        do {
            r.skipWS()
            let v = try r.value(depth: 0)
            r.skipWS()
            if r.i < line.count {
                throw r.fail("unexpected \(line.describe(r.i)) at offset \(r.i) after the end of the JSON value")
            }
            return .success(v)
        } catch let f as ParseFailure {
            return .failure(f)
        } catch {
            return .failure(ParseFailure(code: "json.syntax", reason: "\(error)"))
        }
    }

    private func fail(_ reason: String) -> ParseFailure { ParseFailure(code: "json.syntax", reason: reason) }

    private mutating func skipWS() {
        while let c = line.at(i), c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1 }
    }

    private mutating func value(depth: Int) throws -> JSONValue {
        guard depth < Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth) levels at offset \(i)") }
        guard let c = line.at(i) else { throw fail("expected a JSON value at offset \(i), found end of line") }
        switch c {
        case 0x7B: return try object(depth: depth)
        case 0x5B: return try array(depth: depth)
        case 0x22: return .string(try string())
        case 0x74: try literal("true"); return .bool(true)
        case 0x66: try literal("false"); return .bool(false)
        case 0x6E: try literal("null"); return .null
        case 0x2D, 0x30...0x39: return try number()
        default: throw fail("expected a JSON value at offset \(i), found \(line.describe(i))")
        }
    }

    private mutating func literal(_ word: String) throws {
        let w = Array(word.utf8)
        guard line.hasPrefix(w, at: i) else { throw fail("invalid literal at offset \(i), expected '\(word)'") }
        i += w.count
    }

    private mutating func number() throws -> JSONValue {
        let start = i
        if line.at(i) == 0x2D { i += 1 }
        guard let d = line.at(i), isDigit(d) else { throw fail("expected digit at offset \(i) in number starting at offset \(start)") }
        while let c = line.at(i), isDigit(c) { i += 1 }
        if line.at(i) == 0x2E {
            i += 1
            guard let c = line.at(i), isDigit(c) else { throw fail("expected digit after '.' at offset \(i)") }
            while let c = line.at(i), isDigit(c) { i += 1 }
        }
        if let e = line.at(i), e == 0x65 || e == 0x45 {
            i += 1
            if let s = line.at(i), s == 0x2B || s == 0x2D { i += 1 }
            guard let c = line.at(i), isDigit(c) else { throw fail("expected exponent digit at offset \(i)") }
            while let c = line.at(i), isDigit(c) { i += 1 }
        }
        return .number(line.str(start..<i))
    }

    private mutating func string() throws -> String {
        let open = i
        i += 1
        var runStart = i
        var out: [UInt8] = []
        var escaped = false
        while true {
            guard let c = line.at(i) else { throw fail("unterminated string starting at offset \(open)") }
            if c == 0x22 {
                let s: String
                if escaped {
                    out.append(contentsOf: line.b[runStart..<i])
                    s = String(decoding: out, as: UTF8.self)
                } else {
                    s = line.str(runStart..<i)
                }
                i += 1
                return s
            }
            if c < 0x20 { throw fail("unescaped control character \(line.describe(i)) in string at offset \(i)") }
            if c != 0x5C { i += 1; continue }
            escaped = true
            out.append(contentsOf: line.b[runStart..<i])
            guard let e = line.at(i + 1) else { throw fail("unterminated escape at offset \(i)") }
            i += 2
            switch e {
            case 0x22, 0x5C, 0x2F: out.append(e)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                var scalar = try hex4(at: i)
                i += 4
                if (0xD800...0xDBFF).contains(scalar), line.at(i) == 0x5C, line.at(i + 1) == 0x75,
                   let low = try? hex4(at: i + 2), (0xDC00...0xDFFF).contains(low) {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                // Lone surrogates are not valid scalars: substitute U+FFFD rather than fail.
                let u = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                throw fail("invalid escape '\\\(Character(Unicode.Scalar(e)))' at offset \(i - 2)")
            }
            runStart = i
        }
    }

    private func hex4(at p: Int) throws -> UInt32 {
        var v: UInt32 = 0
        for k in 0..<4 {
            guard let c = line.at(p + k) else { throw fail("expected 4 hex digits after \\u at offset \(p)") }
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x37)
            case 0x61...0x66: d = UInt32(c - 0x57)
            default: throw fail("expected 4 hex digits after \\u at offset \(p)")
            }
            v = v << 4 | d
        }
        return v
    }

    private mutating func array(depth: Int) throws -> JSONValue {
        i += 1
        var items: [JSONValue] = []
        skipWS()
        if line.at(i) == 0x5D { i += 1; return .array(items) }
        while true {
            skipWS()
            items.append(try value(depth: depth + 1))
            skipWS()
            guard let c = line.at(i) else { throw fail("unterminated array: expected ',' or ']' at offset \(i), found end of line") }
            i += 1
            if c == 0x5D { return .array(items) }
            guard c == 0x2C else { throw fail("expected ',' or ']' at offset \(i - 1), found \(line.describe(i - 1))") }
        }
    }

    private mutating func object(depth: Int) throws -> JSONValue {
        i += 1
        var members: [(String, JSONValue)] = []
        skipWS()
        if line.at(i) == 0x7D { i += 1; return .object(members) }
        while true {
            skipWS()
            guard line.at(i) == 0x22 else { throw fail("expected '\"' to start an object key at offset \(i), found \(line.describe(i))") }
            let key = try string()
            skipWS()
            guard line.at(i) == 0x3A else { throw fail("expected ':' after key \"\(key)\" at offset \(i), found \(line.describe(i))") }
            i += 1
            skipWS()
            members.append((key, try value(depth: depth + 1)))
            skipWS()
            guard let c = line.at(i) else { throw fail("unterminated object: expected ',' or '}' at offset \(i), found end of line") }
            i += 1
            if c == 0x7D { return .object(members) }
            guard c == 0x2C else { throw fail("expected ',' or '}' at offset \(i - 1), found \(line.describe(i - 1))") }
        }
    }
}

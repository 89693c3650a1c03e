import Foundation

/// The part of the STIX 2.1 patterning language that maps to indicator lookups: observation
/// expressions `[object:path = 'value']`, comparisons joined by OR inside or between
/// brackets, over ipv4-addr/ipv6-addr/domain-name/url values and file hashes. Everything else
/// (AND, other operators, qualifiers, other objects) is refused with the reason, because a
/// partial reading would turn "A and B" into "A" and raise false matches.
public enum StixPattern {
    public struct Term: Sendable, Equatable {
        public var type: IndicatorType
        public var value: String
    }

    public static func parse(_ pattern: String) -> Result<[Term], IndicatorValue.Invalid> {
        var lexer = Lexer(Array(pattern.utf8))
        var terms: [Term] = []
        do {
            try expression(&lexer, &terms, depth: 0)
            guard lexer.peek() == nil else { throw fail("unexpected \(lexer.describe()) after the pattern") }
        } catch let e as IndicatorValue.Invalid {
            return .failure(e)
        } catch {
            return .failure(IndicatorValue.Invalid(reason: "\(error)"))
        }
        return terms.isEmpty ? .failure(IndicatorValue.Invalid(reason: "empty pattern")) : .success(terms)
    }

    static func fail(_ m: String) -> IndicatorValue.Invalid { IndicatorValue.Invalid(reason: m) }

    enum Token: Equatable { case open, close, lparen, rparen, word(String), string(String), op(String) }

    struct Lexer {
        let b: [UInt8]
        var i = 0
        init(_ b: [UInt8]) { self.b = b }

        mutating func skipSpace() { while i < b.count, b[i] == 32 || b[i] == 9 || b[i] == 10 || b[i] == 13 { i += 1 } }

        mutating func peek() -> Token? {
            let save = i
            defer { i = save }
            return try? next()
        }

        func describe() -> String {
            var j = i
            while j < b.count, b[j] == 32 { j += 1 }
            return j >= b.count ? "end of pattern" : "'\(String(decoding: b[j..<min(b.count, j + 20)], as: UTF8.self))' at offset \(j)"
        }

        mutating func next() throws -> Token? {
            skipSpace()
            guard i < b.count else { return nil }
            let c = b[i]
            switch c {
            case UInt8(ascii: "["): i += 1; return .open
            case UInt8(ascii: "]"): i += 1; return .close
            case UInt8(ascii: "("): i += 1; return .lparen
            case UInt8(ascii: ")"): i += 1; return .rparen
            case UInt8(ascii: "'"):
                var out: [UInt8] = []
                i += 1
                while i < b.count {
                    if b[i] == UInt8(ascii: "\\"), i + 1 < b.count { out.append(b[i + 1]); i += 2; continue }
                    if b[i] == UInt8(ascii: "'") { i += 1; return .string(String(decoding: out, as: UTF8.self)) }
                    out.append(b[i]); i += 1
                }
                throw StixPattern.fail("unterminated string literal")
            case UInt8(ascii: "="), UInt8(ascii: "!"), UInt8(ascii: "<"), UInt8(ascii: ">"):
                let s = i
                while i < b.count, "=!<>".utf8.contains(b[i]) { i += 1 }
                return .op(String(decoding: b[s..<i], as: UTF8.self))
            default:
                let s = i
                // A path may quote a key: file:hashes.'SHA-256'.
                while i < b.count, !" \t\r\n[]()=!<>".utf8.contains(b[i]) {
                    if b[i] == UInt8(ascii: "'") {
                        i += 1
                        while i < b.count, b[i] != UInt8(ascii: "'") { i += 1 }
                    }
                    i += 1
                }
                i = min(i, b.count)
                return .word(String(decoding: b[s..<i], as: UTF8.self))
            }
        }
    }

    /// expression := observation (OR observation)*
    static func expression(_ l: inout Lexer, _ terms: inout [Term], depth: Int) throws {
        guard depth < 32 else { throw fail("nested too deeply") }
        try observation(&l, &terms, depth: depth)
        while let t = l.peek() {
            guard case .word(let w) = t else { return }
            switch w.uppercased() {
            case "OR": _ = try l.next(); try observation(&l, &terms, depth: depth)
            case "AND": throw fail("AND between observations is not supported (only OR can be matched one value at a time)")
            case "FOLLOWEDBY": throw fail("FOLLOWEDBY is not supported")
            case "WITHIN", "START", "STOP", "REPEATS": throw fail("qualifier \(w.uppercased()) is not supported")
            default: throw fail("unexpected '\(w)'")
            }
        }
    }

    /// observation := '[' comparison (OR comparison)* ']' | '(' expression ')'
    static func observation(_ l: inout Lexer, _ terms: inout [Term], depth: Int) throws {
        switch try l.next() {
        case .open?:
            try comparison(&l, &terms)
            while true {
                switch try l.next() {
                case .close?: return
                case .word(let w)? where w.uppercased() == "OR": try comparison(&l, &terms)
                case .word(let w)? where w.uppercased() == "AND": throw fail("AND inside an observation is not supported")
                default: throw fail("expected OR or ']' at \(l.describe())")
                }
            }
        case .lparen?:
            try expression(&l, &terms, depth: depth + 1)
            guard try l.next() == .rparen else { throw fail("expected ')' at \(l.describe())") }
        default:
            throw fail("expected '[' to start an observation expression")
        }
    }

    /// comparison := object:path '=' 'value'
    static func comparison(_ l: inout Lexer, _ terms: inout [Term]) throws {
        var negated = false
        guard case .word(var path)? = try l.next() else { throw fail("expected object:path at \(l.describe())") }
        if path.uppercased() == "NOT" {
            negated = true
            guard case .word(let p)? = try l.next() else { throw fail("expected object:path after NOT") }
            path = p
        }
        guard let type = pathType(path) else {
            throw fail("'\(path)' is not supported; use ipv4-addr:value, ipv6-addr:value, domain-name:value, url:value or file:hashes.(MD5|'SHA-1'|'SHA-256')")
        }
        let op = try l.next()
        if case .word(let w)? = op { throw fail("operator \(w.uppercased()) is not supported (only =)") }
        guard case .op(let o)? = op, o == "=" else { throw fail("operator \(opText(op)) is not supported (only =)") }
        if negated { throw fail("NOT is not supported") }
        guard case .string(let v)? = try l.next() else { throw fail("expected a quoted value after = at \(l.describe())") }
        terms.append(Term(type: type, value: v))
    }

    static func opText(_ t: Token?) -> String {
        switch t { case .op(let o)?: return o; case .word(let w)?: return w; case nil: return "(none)"; default: return "\(t!)" }
    }

    static func pathType(_ path: String) -> IndicatorType? {
        let p = path.lowercased().replacingOccurrences(of: "'", with: "")
        switch p {
        case "ipv4-addr:value": return .ipv4
        case "ipv6-addr:value": return .ipv6
        case "domain-name:value": return .domain
        case "url:value": return .url
        case "file:hashes.md5": return .md5
        case "file:hashes.sha-1", "file:hashes.sha1": return .sha1
        case "file:hashes.sha-256", "file:hashes.sha256": return .sha256
        default: return nil
        }
    }
}

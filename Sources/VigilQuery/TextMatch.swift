/// Text comparisons that behave exactly like SQLite's built-ins (no ICU):
/// `lower()` folds ASCII only, `instr()` finds bytes, LIKE's `_` is one code point.
enum TextMatch {
    static func asciiLowercased(_ s: String) -> String {
        var needsWork = false
        for b in s.utf8 where b >= 0x41 && b <= 0x5a { needsWork = true; break }
        guard needsWork else { return s }
        return String(decoding: s.utf8.map { $0 >= 0x41 && $0 <= 0x5a ? $0 + 32 : $0 }, as: UTF8.self)
    }

    /// Byte-wise substring search, like `instr(h, n) > 0`.
    static func contains(_ haystack: String, _ needle: String) -> Bool {
        if needle.isEmpty { return true }
        var h = haystack, n = needle
        return h.withUTF8 { hb in
            n.withUTF8 { nb in
                guard nb.count <= hb.count else { return false }
                let first = nb[0]
                var i = 0
                let last = hb.count - nb.count
                while i <= last {
                    if hb[i] == first {
                        var k = 1
                        while k < nb.count, hb[i + k] == nb[k] { k += 1 }
                        if k == nb.count { return true }
                    }
                    i += 1
                }
                return false
            }
        }
    }
}

/// A `*`/`?` wildcard pattern, kept as parts so the SQL LIKE text and the
/// in-memory matcher come from the same structure.
struct WildcardPattern: Sendable, Hashable {
    enum Part: Sendable, Hashable {
        case literal(String)
        case anyRun
        case anyOne
    }

    var parts: [Part]

    /// Parses a bare word; the text is folded to ASCII lower case first.
    init(word: String, anywhere: Bool) {
        var parts: [Part] = anywhere ? [.anyRun] : []
        var literal = String.UnicodeScalarView()
        // Scalars, not Characters: a combining mark must not hide a '*' or '%'.
        for ch in TextMatch.asciiLowercased(word).unicodeScalars {
            if ch == "*" || ch == "?" {
                if !literal.isEmpty { parts.append(.literal(String(literal))); literal = String.UnicodeScalarView() }
                parts.append(ch == "*" ? .anyRun : .anyOne)
            } else {
                literal.append(ch)
            }
        }
        if !literal.isEmpty { parts.append(.literal(String(literal))) }
        if anywhere { parts.append(.anyRun) }
        self.parts = parts
    }

    /// LIKE text for `lower(x) LIKE ? ESCAPE '\'`.
    var likePattern: String {
        var out = ""
        for part in parts {
            switch part {
            case .anyRun: out.append("%")
            case .anyOne: out.append("_")
            case .literal(let text):
                for ch in text.unicodeScalars {
                    if ch == "%" || ch == "_" || ch == "\\" { out.unicodeScalars.append("\\") }
                    out.unicodeScalars.append(ch)
                }
            }
        }
        return out
    }

    /// Matches already-lowered text, by Unicode scalar like SQLite's LIKE.
    func matches(_ loweredText: String) -> Bool {
        var pattern: [UInt32] = []   // 0xFFFF_FFFF = any run, 0xFFFF_FFFE = any one
        for part in parts {
            switch part {
            case .anyRun: pattern.append(0xFFFF_FFFF)
            case .anyOne: pattern.append(0xFFFF_FFFE)
            case .literal(let t): pattern += t.unicodeScalars.map(\.value)
            }
        }
        let text = loweredText.unicodeScalars.map(\.value)
        // Classic greedy matcher with single backtrack point: O(n*m) worst case.
        var t = 0, p = 0, starP = -1, starT = 0
        while t < text.count {
            if p < pattern.count, pattern[p] == 0xFFFF_FFFE || pattern[p] == text[t] {
                t += 1; p += 1
            } else if p < pattern.count, pattern[p] == 0xFFFF_FFFF {
                starP = p; starT = t; p += 1
            } else if starP >= 0 {
                p = starP + 1; starT += 1; t = starT
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == 0xFFFF_FFFF { p += 1 }
        return p == pattern.count
    }
}

import Foundation
import VigilRules
import VigilYAML

/// One Sigma string value as pieces: literal text and the `*` / `?` wildcards (pySigma's escape
/// rules: a backslash escapes `*`, `?` and `\`; before anything else it is a plain backslash).
struct SigmaString: Equatable {
    enum Piece: Equatable { case text(String), star, one }
    var pieces: [Piece]

    init(_ s: String) {
        var out: [Piece] = [], buf = ""
        let it = Array(s)
        var i = 0
        func flush() { if !buf.isEmpty { out.append(.text(buf)); buf = "" } }
        while i < it.count {
            let c = it[i]
            if c == "\\", i + 1 < it.count, "*?\\".contains(it[i + 1]) { buf.append(it[i + 1]); i += 2; continue }
            if c == "*" { flush(); out.append(.star) } else if c == "?" { flush(); out.append(.one) } else { buf.append(c) }
            i += 1
        }
        flush()
        pieces = out
    }
    init(text: String) { pieces = text.isEmpty ? [] : [.text(text)] }

    var hasWildcards: Bool { pieces.contains { $0 == .star || $0 == .one } }
    /// The text when there are no wildcards.
    var plain: String? {
        guard !hasWildcards else { return nil }
        return pieces.map { if case .text(let t) = $0 { return t }; return "" }.joined()
    }
    /// The evaluator's glob syntax (`*`, `?`, backslash escapes).
    var glob: String {
        pieces.map {
            switch $0 {
            case .star: return "*"
            case .one: return "?"
            case .text(let t):
                var o = ""
                for ch in t { if "*?\\".contains(ch) { o.append("\\") }; o.append(ch) }
                return o
            }
        }.joined()
    }
}

/// A detection value as the YAML gave it.
enum SigmaValue: Equatable {
    case string(String, quoted: Bool)
    case number(String)
    case bool(Bool)
    case null

    init(_ node: YAMLNode) throws {
        guard case .scalar(let s) = node else { throw SigmaError(.unsupportedValue, "\(node.kindName) as a value", at: node.mark) }
        if s.isNull { self = .null; return }
        if s.style == .plain {
            if let b = s.bool { self = .bool(b); return }
            if s.number != nil { self = .number(s.text); return }
        }
        self = .string(s.text, quoted: s.style != .plain)
    }

    var text: String {
        switch self {
        case .string(let s, _): return s
        case .number(let n): return n
        case .bool(let b): return b ? "true" : "false"
        case .null: return ""
        }
    }
}

/// One lexical unit of QQL with its character offset.
struct Lexeme: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case word(String)
        case phrase(String)
        case exact(String)
        case leftParen, rightParen, leftBracket, rightBracket, comma, dotDot
        case op(ClauseOperator)
        case end
    }

    var kind: Kind
    var position: Int

    var describe: String {
        switch kind {
        case .word(let w): return "'\(w)'"
        case .phrase(let p): return "\"\(p)\""
        case .exact(let e): return "`\(e)`"
        case .leftParen: return "'('"
        case .rightParen: return "')'"
        case .leftBracket: return "'['"
        case .rightBracket: return "']'"
        case .comma: return "','"
        case .dotDot: return "'..'"
        case .op(let o): return "'\(o.rawValue)'"
        case .end: return "the end of the query"
        }
    }
}

/// Scanner driven by the parser: what counts as a word depends on where we are,
/// because values (ISO times, IPv6) contain ':' which is the operator elsewhere.
struct Lexer: Sendable {
    enum Mode: Sendable {
        /// Start of a clause: words stop at operators so `a:b` splits.
        case clause
        /// A value after an operator: ':' '<' '>' '=' are part of the word.
        case value
        /// A value inside [ ] or ( ): like `value`, but '..' ends the word.
        case rangeValue
    }

    let chars: [Character]
    var position: Int = 0

    init(_ text: String) {
        chars = Array(text)
    }

    mutating func skipSpace() {
        while position < chars.count, chars[position].isWhitespace { position += 1 }
    }

    /// Looks at the next lexeme without consuming it.
    func peek(_ mode: Mode) throws -> Lexeme {
        var copy = self
        return try copy.next(mode)
    }

    mutating func next(_ mode: Mode) throws -> Lexeme {
        skipSpace()
        let start = position
        guard position < chars.count else { return Lexeme(kind: .end, position: start) }
        let c = chars[position]
        switch c {
        case "(": position += 1; return Lexeme(kind: .leftParen, position: start)
        case ")": position += 1; return Lexeme(kind: .rightParen, position: start)
        case "[": position += 1; return Lexeme(kind: .leftBracket, position: start)
        case "]": position += 1; return Lexeme(kind: .rightBracket, position: start)
        case ",": position += 1; return Lexeme(kind: .comma, position: start)
        case "\"": return Lexeme(kind: .phrase(try quoted(closing: "\"", what: "phrase")), position: start)
        case "`": return Lexeme(kind: .exact(try quoted(closing: "`", what: "exact value")), position: start)
        default: break
        }
        if mode == .rangeValue, c == ".", at(position + 1) == "." {
            position += 2
            return Lexeme(kind: .dotDot, position: start)
        }
        if mode == .clause, let op = scanOperator() {
            return Lexeme(kind: .op(op), position: start)
        }
        var word = ""
        while position < chars.count {
            let ch = chars[position]
            if ch.isWhitespace || "()[],\"`".contains(ch) { break }
            if mode == .clause, ":<>=".contains(ch) { break }
            if mode == .rangeValue, ch == ".", at(position + 1) == "." { break }
            word.append(ch)
            position += 1
        }
        return Lexeme(kind: .word(word), position: start)
    }

    private func at(_ index: Int) -> Character? {
        index < chars.count ? chars[index] : nil
    }

    private mutating func scanOperator() -> ClauseOperator? {
        switch chars[position] {
        case ":": position += 1; return .colon
        case "=": position += 1; return .equal
        case ">":
            if at(position + 1) == "=" { position += 2; return .greaterOrEqual }
            position += 1; return .greater
        case "<":
            if at(position + 1) == "=" { position += 2; return .lessOrEqual }
            position += 1; return .less
        default: return nil
        }
    }

    /// Reads a quoted run; a backslash escapes the next character.
    private mutating func quoted(closing: Character, what: String) throws -> String {
        let start = position
        position += 1
        var text = ""
        while position < chars.count {
            let ch = chars[position]
            if ch == "\\", position + 1 < chars.count {
                text.append(chars[position + 1])
                position += 2
                continue
            }
            if ch == closing {
                position += 1
                return text
            }
            text.append(ch)
            position += 1
        }
        throw QueryError(.syntax, at: start, "unterminated \(what): expected a closing \(closing)")
    }
}

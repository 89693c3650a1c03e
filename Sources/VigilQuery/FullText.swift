/// A full-text (SQLite FTS5) index over some of a list's text, opt-in per catalog.
///
/// The list's table keeps an INTEGER column (`rowidColumn`) whose value is the row's rowid in
/// the FTS5 table `table`; the owning service keeps the two consistent (enrichment does it with
/// triggers). Free-text terms the index can answer compile to
/// `rowidColumn IN (SELECT rowid FROM table WHERE table MATCH ?)`; the others keep the
/// substring scan over the catalog's free-text tokens (see `FullTextMatch.expression`).
public struct FullTextIndex: Sendable, Equatable {
    /// The FTS5 table.
    public var table: String
    /// The list table's column holding the FTS rowid (NULL while a row is not indexed yet).
    public var rowidColumn: String

    public init(table: String, rowidColumn: String) {
        self.table = table
        self.rowidColumn = rowidColumn
    }
}

/// Turns a free-text literal into an FTS5 MATCH expression.
///
/// - bare word `fail` → `"fail"`: the word as a token (or, with punctuation inside like
///   `web-01` or `10.0.0.1`, as the phrase of its tokens), case-insensitive;
/// - bare word with one trailing `*` (`fail*`) → `"fail"*`: its last token as a prefix;
/// - phrase `"failed password"` → `"failed password"`: the tokens in sequence.
///
/// nil (the index cannot answer; the substring scan stays) for exact values (`` `Fail` ``,
/// case-sensitive), other wildcards (`*fail`, `f?il`, `fa*l`) and text without any token
/// character (`--`, `::`).
public enum FullTextMatch {
    public static func expression(_ literal: ValueLiteral) -> String? {
        switch literal.kind {
        case .exact:
            return nil
        case .phrase:
            return hasTokenCharacter(literal.text) ? quoted(literal.text) : nil
        case .bare:
            let text = literal.text
            if text.contains("?") { return nil }
            guard let star = text.firstIndex(of: "*") else {
                return hasTokenCharacter(text) ? quoted(text) : nil
            }
            let body = text[..<star]
            guard text.index(after: star) == text.endIndex, hasTokenCharacter(body),
                  let last = body.unicodeScalars.last, isTokenCharacter(last) else { return nil }
            return quoted(String(body)) + "*"
        }
    }

    /// An FTS5 string: everything inside double quotes is text, `""` is a quote. Works on
    /// scalars: a quote followed by a combining mark is one Swift Character that String
    /// replacement would not see, but FTS5 reads its bytes.
    static func quoted(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        out.append("\"")
        for scalar in text.unicodeScalars {
            out.append(scalar)
            if scalar == "\"" { out.append("\"") }
        }
        out.append("\"")
        return String(out)
    }

    static func hasTokenCharacter(_ text: some StringProtocol) -> Bool {
        text.unicodeScalars.contains(where: isTokenCharacter)
    }

    /// What FTS5's default `unicode61` tokenizer keeps in tokens: letters, numbers and
    /// private-use characters; everything else separates tokens.
    static func isTokenCharacter(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .decimalNumber, .letterNumber, .otherNumber, .privateUse:
            return true
        default:
            return false
        }
    }
}

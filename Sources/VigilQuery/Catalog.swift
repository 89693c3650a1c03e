/// What kind of value a token holds; decides how `:` and ranges behave.
public enum TokenType: String, Sendable, Equatable, CaseIterable {
    /// Free-form text: `:` means contains (ASCII case-insensitive).
    case text
    /// An enumerated word: `:` means equals (ASCII case-insensitive).
    case keyword
    case number
    /// Integer milliseconds since the Unix epoch.
    case time
    /// IPv4 or IPv6 address, compared numerically.
    case ip
    case bool
}

/// Where a token's value lives in the service's table. Names come from the
/// catalog (trusted code), never from the query.
public enum TokenStorage: Sendable, Hashable {
    /// A column holding the value natively (INTEGER ms for times, numbers for numbers).
    case column(String)
    /// A member of a JSON object column, read with `json_extract(column, path)`.
    case json(column: String, path: String)

    /// `$."key"` — a top-level member whose name may contain dots.
    public static func jsonField(_ column: String, _ key: String) -> TokenStorage {
        .json(column: column, path: "$.\"\(key)\"")
    }

    /// The top-level JSON key a simple path names (`$."a.b"` or `$.a`), for in-memory records.
    public var jsonKey: String? {
        guard case .json(_, let path) = self else { return nil }
        if path.hasPrefix("$.\""), path.hasSuffix("\""), path.count >= 4 {
            return String(path.dropFirst(3).dropLast())
        }
        if path.hasPrefix("$."), !path.dropFirst(2).contains(where: { ".[\"".contains($0) }) {
            return String(path.dropFirst(2))
        }
        return nil
    }
}

public struct TokenDefinition: Sendable, Hashable {
    public var name: String
    public var type: TokenType
    public var storage: TokenStorage
    public var description: String
    /// Other names that resolve to this token (e.g. `event.time` for `@timestamp`).
    public var aliases: [String]
    /// Hidden tokens back free text but are not offered in completion or help.
    public var listed: Bool
    /// `storage.jsonKey`, worked out once: in-memory records look it up per evaluation.
    public let jsonKey: String?

    public init(_ name: String, type: TokenType, storage: TokenStorage, description: String,
                aliases: [String] = [], listed: Bool = true) {
        self.name = name
        self.type = type
        self.storage = storage
        self.description = description
        self.aliases = aliases
        self.listed = listed
        jsonKey = storage.jsonKey
    }

}

/// The tokens of one list (events, signals, …), declared once by the owning service.
public struct TokenCatalog: Sendable {
    public var list: String
    /// The SQLite table the list is stored in.
    public var table: String
    /// A unique, sortable row key used as the pagination tie-breaker (`id` or `rowid`).
    public var idColumn: String
    /// Names of the text tokens a value without a token searches (OR over them).
    public var freeTextTokens: [String]
    /// Time token used by histograms when none is given.
    public var defaultTimeToken: String?
    /// An FTS5 index the SQL compiler may answer free-text terms from (nil: substring scans only).
    public var fullText: FullTextIndex?
    public private(set) var tokens: [TokenDefinition]
    private var byName: [String: Int]

    public init(list: String, table: String, idColumn: String = "rowid", tokens: [TokenDefinition],
                freeText: [String], defaultTimeToken: String? = nil, fullText: FullTextIndex? = nil) {
        self.list = list
        self.fullText = fullText
        self.table = table
        self.idColumn = idColumn
        self.tokens = tokens
        self.freeTextTokens = freeText
        self.defaultTimeToken = defaultTimeToken
        var index: [String: Int] = [:]
        for (i, token) in tokens.enumerated() {
            index[token.name.lowercased()] = i
            for alias in token.aliases { index[alias.lowercased()] = i }
        }
        byName = index
    }

    /// The same catalog without its full-text index: free text compiles to substring scans
    /// (used while a store is still building its index).
    public var withoutFullText: TokenCatalog {
        var copy = self
        copy.fullText = nil
        return copy
    }

    /// Token names are matched case-insensitively; aliases resolve to their token.
    public func token(named name: String) -> TokenDefinition? {
        byName[name.lowercased()].map { tokens[$0] }
    }

    /// Tokens offered to people (completion, `help tokens`), sorted by name.
    public var listedTokens: [TokenDefinition] {
        tokens.filter(\.listed).sorted { $0.name < $1.name }
    }

    /// Names starting with `prefix`, for shell completion.
    public func completions(prefix: String) -> [String] {
        let p = prefix.lowercased()
        return listedTokens.map(\.name).filter { $0.lowercased().hasPrefix(p) }
    }

    /// One line per token: `name  type  description`.
    public func helpText() -> String {
        let width = listedTokens.map(\.name.count).max() ?? 0
        return listedTokens.map { token in
            token.name.padding(toLength: width, withPad: " ", startingAt: 0)
                + "  " + token.type.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)
                + "  " + token.description
        }.joined(separator: "\n")
    }

    var freeTextDefinitions: [TokenDefinition] {
        freeTextTokens.compactMap { token(named: $0) }
    }

    /// Known tokens closest to a misspelt name: prefix/substring matches and
    /// small edit distances, nearest first.
    public func nearest(to name: String, limit: Int = 5) -> [String] {
        let target = name.lowercased()
        var scored: [(String, Int)] = []
        for token in listedTokens {
            let candidate = token.name.lowercased()
            let distance = editDistance(target, candidate)
            let threshold = max(2, target.count / 3)
            if distance <= threshold {
                scored.append((token.name, distance))
            } else if !target.isEmpty, candidate.hasPrefix(target) || target.hasPrefix(candidate)
                        || (target.count >= 3 && candidate.contains(target)) {
                scored.append((token.name, threshold + 1))
            } else if let leaf = target.split(separator: ".").last, leaf.count >= 3,
                      candidate.split(separator: ".").last.map(String.init) == String(leaf) {
                scored.append((token.name, threshold + 2))
            }
        }
        scored.sort { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }
        return scored.prefix(limit).map(\.0)
    }
}

/// Levenshtein distance over characters, two rows of memory; capped input size
/// keeps it cheap for hostile input.
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a.prefix(64)), y = Array(b.prefix(64))
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var previous = Array(0...y.count)
    var current = Array(repeating: 0, count: y.count + 1)
    for i in 1...x.count {
        current[0] = i
        for j in 1...y.count {
            let cost = x[i - 1] == y[j - 1] ? 0 : 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        }
        swap(&previous, &current)
    }
    return previous[y.count]
}

extension TokenDefinition {
    /// A token stored natively in one column of the list's table.
    public static func column(_ name: String, _ column: String, _ type: TokenType, _ description: String) -> TokenDefinition {
        TokenDefinition(name, type: type, storage: .column(column), description: description)
    }
}

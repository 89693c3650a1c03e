import VigilRules

/// Sigma `logsource` → native log sources (`event.format` values), a predicate constraining
/// Windows Channel/EventID, and field aliases. Loaded from a JSON mapping (DefaultLogsources).
public struct LogsourceMapping: Sendable {
    public struct Product: Sendable { public var formats: [String]; public var strict: Bool }
    public struct Source: Sendable {
        public var product: String?, category: String?, service: String?
        /// Alternatives: each a Channel and optional EventIDs.
        public var any: [(channel: String?, eventIds: [String])]
        public var aliases: [String: [String]]
        /// Also try `SourceName` as `Source Name` (Defender's EventData names have spaces).
        public var splitCamelCase: Bool
    }
    public struct Resolved: Sendable {
        public var formats: [String]
        public var constraint: Predicate?
        public var aliases: [String: [String]]
        public var splitCamelCase = false

        /// Other names the field may have in events of this source.
        public func aliases(of field: String) -> [String] {
            var out = aliases[field] ?? []
            if splitCamelCase && !["EventID", "Channel", "Provider_Name", "Computer"].contains(field) {
                var spaced = ""
                var prev: Character?
                for ch in field {
                    if ch.isUppercase, let p = prev, p.isLowercase { spaced.append(" ") }
                    spaced.append(ch); prev = ch
                }
                if spaced != field && !out.contains(spaced) { out.append(spaced) }
            }
            return out
        }
    }

    public var products: [String: Product] = [:]
    public var defaultFormats: [String] = []
    public var sources: [Source] = []

    public static let standard: LogsourceMapping = (try? LogsourceMapping(json: DefaultLogsources.json)) ?? LogsourceMapping()

    public init() {}

    public init(json text: String) throws {
        let v: JSONValue
        do { v = try JSONReader.parse(text) } catch { throw SigmaError(.invalidRule, "mapping JSON: \(error)") }
        guard case .object = v else { throw SigmaError(.invalidRule, "mapping must be a JSON object") }
        if case .object(let ps)? = v["products"] {
            for (name, p) in ps {
                products[name] = Product(formats: Self.strings(p["formats"]), strict: p["strict"] == .bool(true))
            }
        }
        defaultFormats = Self.strings(v["default_formats"])
        if case .array(let xs)? = v["sources"] {
            for (n, x) in xs.enumerated() {
                var alts: [(String?, [String])] = []
                if case .array(let as_)? = x["any"] {
                    for a in as_ {
                        var ids: [String] = []
                        if case .array(let is_)? = a["EventID"] {
                            for i in is_ { if case .integer(let k) = i { ids.append(String(k)) } else if case .string(let s) = i { ids.append(s) } }
                        }
                        var ch: String?
                        if case .string(let c)? = a["Channel"] { ch = c }
                        guard ch != nil || !ids.isEmpty else { throw SigmaError(.invalidRule, "mapping sources[\(n)].any: each item needs Channel or EventID") }
                        alts.append((ch, ids))
                    }
                }
                var aliases: [String: [String]] = [:]
                if case .object(let al)? = x["aliases"] { for (k, a) in al { aliases[k] = Self.strings(a) } }
                func s(_ k: String) -> String? { if case .string(let t)? = x[k] { return t }; return nil }
                sources.append(Source(product: s("product"), category: s("category"), service: s("service"), any: alts, aliases: aliases,
                                     splitCamelCase: x["split_camel_case"] == .bool(true)))
            }
        }
    }

    static func strings(_ v: JSONValue?) -> [String] {
        guard case .array(let xs)? = v else { return [] }
        return xs.compactMap { if case .string(let s) = $0 { return s }; return nil }
    }

    /// The mapping for a rule's logsource, or a refusal naming it.
    public func resolve(product: String?, category: String?, service: String?) throws -> Resolved {
        let p = product?.lowercased(), c = category?.lowercased(), s = service?.lowercased()
        let named = "logsource" + (p.map { " product:\($0)" } ?? "") + (c.map { " category:\($0)" } ?? "") + (s.map { " service:\($0)" } ?? "")
        let formats = p.flatMap { products[$0]?.formats } ?? defaultFormats
        if let src = sources.first(where: { $0.product?.lowercased() == p && $0.category?.lowercased() == c && $0.service?.lowercased() == s }) {
            let alts: [Predicate] = src.any.map { a in
                var parts: [Predicate] = []
                if let ch = a.channel { parts.append(.test(FieldTest(fields: ["Channel"], matchers: [Matcher(.equals, ch)]))) }
                if !a.eventIds.isEmpty { parts.append(.test(FieldTest(fields: ["EventID"], matchers: a.eventIds.map { Matcher(.equals, $0) }))) }
                return parts.count == 1 ? parts[0] : .and(parts)
            }
            let constraint: Predicate? = alts.isEmpty ? nil : alts.count == 1 ? alts[0] : .or(alts)
            return Resolved(formats: formats, constraint: constraint, aliases: src.aliases, splitCamelCase: src.splitCamelCase)
        }
        if let p, products[p]?.strict == true { throw SigmaError(.unmappedLogsource, named + " (not in the mapping)") }
        if p == nil && c == nil && s == nil { throw SigmaError(.unmappedLogsource, "logsource is empty") }
        return Resolved(formats: formats, constraint: nil, aliases: [:])
    }
}

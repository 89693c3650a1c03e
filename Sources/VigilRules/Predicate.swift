/// A field predicate tree: the condition form Sigma rules compile to. Evaluated directly over an
/// event's vendor fields (`original`, any name) and normalized fields, with Sigma semantics
/// (case-insensitive by default, wildcards, numeric comparison). In a rule document it is a
/// condition string `@predicate <JSON>` (see docs/sigma.md), so rules stay plain JSON.
public indirect enum Predicate: Sendable, Equatable {
    case and([Predicate])
    case or([Predicate])
    case not(Predicate)
    case test(FieldTest)
    /// Any value of the event (vendor fields, then message) satisfies one matcher.
    case keywords([Matcher])
    case constant(Bool)

    public static let prefix = "@predicate "
}

public struct Matcher: Sendable, Equatable {
    public enum Op: String, Sendable, CaseIterable {
        /// Whole value equal (as numbers when both sides are numbers).
        case equals, contains, startswith, endswith
        /// `*` and `?` wildcards over the whole value (escapes already resolved: `\*` is written `\*` here too).
        case glob
        case regex
        case cidr
        case gt, gte, lt, lte
        /// The field is present (value "true") or absent ("false").
        case exists
        /// Absent or empty.
        case null
        /// Equal to the value of the field named by the matcher's value.
        case fieldref
    }
    public var op: Op
    public var value: String
    public init(_ op: Op, _ value: String) { self.op = op; self.value = value }
}

public struct FieldTest: Sendable, Equatable {
    /// The field and its aliases; the first one present in the event is tested.
    public var fields: [String]
    public var matchers: [Matcher]
    /// Every matcher must hold (Sigma `|all`); otherwise one is enough.
    public var all: Bool
    /// Case-sensitive (Sigma `|cased`); regex case is the pattern's own business.
    public var cased: Bool
    public init(fields: [String], matchers: [Matcher], all: Bool = false, cased: Bool = false) {
        self.fields = fields; self.matchers = matchers; self.all = all; self.cased = cased
    }
}

extension Predicate {
    public var json: JSONValue {
        switch self {
        case .and(let ps): return .object([("and", .array(ps.map(\.json)))])
        case .or(let ps): return .object([("or", .array(ps.map(\.json)))])
        case .not(let p): return .object([("not", p.json)])
        case .constant(let b): return .bool(b)
        case .keywords(let ms): return .object([("keywords", .array(ms.map(\.json)))])
        case .test(let t):
            var m: [(String, JSONValue)] = [("field", t.fields.count == 1 ? .string(t.fields[0]) : .array(t.fields.map { .string($0) })),
                                            ("match", .array(t.matchers.map(\.json)))]
            if t.all { m.append(("all", .bool(true))) }
            if t.cased { m.append(("cased", .bool(true))) }
            return .object(m)
        }
    }

    /// The condition string a rule carries.
    public var conditionText: String { Predicate.prefix + JSONWriter.write(json, pretty: false) }

    public static func parse(condition text: String) throws -> Predicate {
        guard text.hasPrefix(prefix) else { throw PredicateError("a predicate condition starts with '\(prefix)'") }
        let v: JSONValue
        do { v = try JSONReader.parse(String(text.dropFirst(prefix.count))) } catch { throw PredicateError("predicate JSON: \(error)") }
        return try Predicate(json: v, path: "$")
    }

    public init(json v: JSONValue, path: String) throws {
        switch v {
        case .bool(let b): self = .constant(b)
        case .object(let m) where m.count == 1 && ["and", "or", "not", "keywords"].contains(m[0].0):
            let (k, body) = m[0]
            switch k {
            case "not": self = .not(try Predicate(json: body, path: path + ".not"))
            case "keywords":
                guard case .array(let xs) = body, !xs.isEmpty else { throw PredicateError("\(path).keywords: a non-empty list of matchers") }
                self = .keywords(try xs.enumerated().map { try Matcher(json: $1, path: "\(path).keywords[\($0)]") })
            default:
                guard case .array(let xs) = body, !xs.isEmpty else { throw PredicateError("\(path).\(k): a non-empty list of predicates") }
                let ps = try xs.enumerated().map { try Predicate(json: $1, path: "\(path).\(k)[\($0)]") }
                self = k == "and" ? .and(ps) : .or(ps)
            }
        case .object(let m):
            var fields: [String] = [], matchers: [Matcher] = [], all = false, cased = false
            for (k, x) in m {
                switch (k, x) {
                case ("field", .string(let s)): fields = [s]
                case ("field", .array(let xs)): fields = xs.compactMap { if case .string(let s) = $0 { return s }; return nil }
                case ("match", .array(let xs)): matchers = try xs.enumerated().map { try Matcher(json: $1, path: "\(path).match[\($0)]") }
                case ("all", .bool(let b)): all = b
                case ("cased", .bool(let b)): cased = b
                default: throw PredicateError("\(path).\(k): unknown key or wrong type")
                }
            }
            guard !fields.isEmpty, fields.allSatisfy({ !$0.isEmpty }) else { throw PredicateError("\(path).field: a field name or list of names") }
            guard !matchers.isEmpty else { throw PredicateError("\(path).match: a non-empty list of [op, value]") }
            self = .test(FieldTest(fields: fields, matchers: matchers, all: all, cased: cased))
        default: throw PredicateError("\(path): expected a predicate object or a boolean, found \(v.typeName)")
        }
    }
}

extension Matcher {
    var json: JSONValue { .array([.string(op.rawValue), .string(value)]) }
    init(json v: JSONValue, path: String) throws {
        guard case .array(let xs) = v, xs.count == 2, case .string(let o) = xs[0], case .string(let s) = xs[1] else {
            throw PredicateError("\(path): a matcher is [op, value] (two strings)")
        }
        guard let op = Op(rawValue: o) else { throw PredicateError("\(path): unknown op '\(o)' (\(Op.allCases.map(\.rawValue).joined(separator: ", ")))") }
        self.init(op, s)
    }
}

public struct PredicateError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ m: String) { message = m }
    public var description: String { message }
}

/// A YAML document as a value tree: mappings keep their key order, scalars keep their tag
/// and quoting style (so `"123"` stays text while plain `123` may be read as a number).
public indirect enum YAMLNode: Sendable, Equatable {
    case scalar(YAMLScalar)
    case sequence([YAMLNode], YAMLMark)
    case mapping([YAMLPair], YAMLMark)

    public var mark: YAMLMark {
        switch self {
        case .scalar(let s): return s.mark
        case .sequence(_, let m), .mapping(_, let m): return m
        }
    }

    /// The value of `key` when this is a mapping (first match).
    public subscript(key: String) -> YAMLNode? {
        guard case .mapping(let pairs, _) = self else { return nil }
        return pairs.first { $0.key == key }?.value
    }

    public var scalarText: String? { if case .scalar(let s) = self { return s.text }; return nil }
    public var kindName: String {
        switch self {
        case .scalar(let s): return s.isNull ? "null" : "a scalar"
        case .sequence: return "a list"
        case .mapping: return "a map"
        }
    }
}

public struct YAMLPair: Sendable, Equatable {
    public var key: String
    public var keyMark: YAMLMark
    public var value: YAMLNode
}

/// 1-based line and column.
public struct YAMLMark: Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) { self.line = line; self.column = column }
    public var description: String { "line \(line), column \(column)" }
}

public struct YAMLScalar: Sendable, Equatable {
    public enum Style: String, Sendable { case plain, singleQuoted, doubleQuoted, literal, folded }
    public var text: String
    public var tag: String?
    public var style: Style
    public var mark: YAMLMark

    /// A plain `null`, `~`, `Null`, `NULL` or empty scalar (YAML 1.1 core schema), or an explicit `!!null`.
    public var isNull: Bool {
        if tag == "tag:yaml.org,2002:null" { return true }
        guard style == .plain, tag == nil else { return false }
        return text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL"
    }

    /// A plain integer (decimal, optionally signed) or an explicit `!!int`.
    public var integer: Int64? {
        guard style == .plain || tag == "tag:yaml.org,2002:int" else { return nil }
        return Int64(text.hasPrefix("+") ? String(text.dropFirst()) : text)
    }

    /// A plain number (integer or decimal fraction).
    public var number: Double? {
        guard style == .plain, !text.isEmpty, text.allSatisfy({ $0.isNumber || $0 == "." || $0 == "-" || $0 == "+" || $0 == "e" || $0 == "E" }) else { return nil }
        return Double(text)
    }

    public var bool: Bool? {
        guard style == .plain else { return nil }
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: return nil
        }
    }
}

public struct YAMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable key: yaml.syntax, yaml.complex_key, yaml.alias, yaml.duplicate_key, yaml.encoding.
    public var code: String
    public var message: String
    public var mark: YAMLMark?
    public init(code: String, message: String, mark: YAMLMark?) { self.code = code; self.message = message; self.mark = mark }
    public var description: String { mark.map { "\($0): \(message) [\(code)]" } ?? "\(message) [\(code)]" }
}

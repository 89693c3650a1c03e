import Foundation
import VigilRules
import VigilYAML

/// A field's modifier chain (`CommandLine|base64offset|contains|all`) turned into matchers.
struct ModifierChain {
    enum Transform: Equatable { case wide, utf16be, utf16, base64, base64offset, windash }
    enum Kind: String { case equals, contains, startswith, endswith, re, cidr, gt, gte, lt, lte, exists, fieldref }

    var transforms: [Transform] = []
    var kind: Kind = .equals
    var all = false
    var cased = false
    var reFlags = ""

    init(_ names: [String], at mark: YAMLMark) throws {
        var kindSet = false
        for raw in names {
            let m = raw.lowercased()
            switch m {
            case "all": all = true
            case "cased": cased = true
            case "wide", "utf16le": transforms.append(.wide)
            case "utf16be": transforms.append(.utf16be)
            case "utf16": transforms.append(.utf16)
            case "base64": transforms.append(.base64)
            case "base64offset": transforms.append(.base64offset)
            case "windash": transforms.append(.windash)
            case "i", "m", "s":
                guard kind == .re else { throw SigmaError(.unsupportedModifier, "modifier |\(raw) without |re", at: mark) }
                reFlags.append(m)
            default:
                guard let k = Kind(rawValue: m), k != .equals else { throw SigmaError(.unsupportedModifier, "modifier |\(raw)", at: mark) }
                guard !kindSet else { throw SigmaError(.unsupportedModifier, "modifiers |\(kind.rawValue) and |\(raw) together", at: mark) }
                kind = k; kindSet = true
            }
        }
        if !transforms.isEmpty, ![.equals, .contains, .startswith, .endswith].contains(kind) {
            throw SigmaError(.unsupportedModifier, "modifier |\(kind.rawValue) after an encoding modifier", at: mark)
        }
    }

    /// Matchers for one value (a transform may make several alternatives, any of which counts).
    func matchers(_ v: SigmaValue, at mark: YAMLMark) throws -> [Matcher] {
        switch kind {
        case .exists:
            guard case .bool(let b) = v else { throw SigmaError(.unsupportedValue, "|exists needs true or false, got '\(v.text)'", at: mark) }
            return [Matcher(.exists, b ? "true" : "false")]
        case .fieldref: return [Matcher(.fieldref, v.text)]
        case .gt, .gte, .lt, .lte:
            guard Double(v.text) != nil else { throw SigmaError(.unsupportedValue, "|\(kind.rawValue) needs a number, got '\(v.text)'", at: mark) }
            return [Matcher(Matcher.Op(rawValue: kind.rawValue)!, v.text)]
        case .cidr:
            return [Matcher(.cidr, v.text)]
        case .re:
            let flags = reFlags.isEmpty ? "" : "(?\(reFlags))"
            return [Matcher(.regex, flags + v.text)]
        case .equals, .contains, .startswith, .endswith:
            if v == .null {
                guard transforms.isEmpty, kind == .equals else { throw SigmaError(.unsupportedValue, "null with |\(kind.rawValue)", at: mark) }
                return [Matcher(.null, "")]
            }
            let s: SigmaString
            if case .string(let t, _) = v { s = SigmaString(t) } else { s = SigmaString(text: v.text) }
            var alternatives = [s]
            for t in transforms { alternatives = try alternatives.flatMap { try apply(t, $0, at: mark) } }
            var out: [Matcher] = []
            for a in alternatives {
                let m = Self.matcher(kind, a)
                if !out.contains(m) { out.append(m) }
            }
            return out
        }
    }

    /// A wildcard-free value uses the direct op; otherwise a glob anchored as the op says.
    static func matcher(_ kind: Kind, _ s: SigmaString) -> Matcher {
        if let p = s.plain {
            switch kind {
            case .contains: return Matcher(.contains, p)
            case .startswith: return Matcher(.startswith, p)
            case .endswith: return Matcher(.endswith, p)
            default: return Matcher(.equals, p)
            }
        }
        let g = s.glob
        switch kind {
        case .contains: return Matcher(.glob, "*" + g + "*")
        case .startswith: return Matcher(.glob, g + "*")
        case .endswith: return Matcher(.glob, "*" + g)
        default: return Matcher(.glob, g)
        }
    }

    func apply(_ t: Transform, _ s: SigmaString, at mark: YAMLMark) throws -> [SigmaString] {
        if t == .windash { return Self.windash(s) }
        guard let text = s.plain else { throw SigmaError(.unsupportedValue, "wildcards with an encoding modifier", at: mark) }
        switch t {
        case .wide: return [SigmaString(text: Self.bytesText(Array(text.utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }))]
        case .utf16be: return [SigmaString(text: Self.bytesText(Array(text.utf16).flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }))]
        case .utf16: return [SigmaString(text: Self.bytesText([0xFF, 0xFE] + Array(text.utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }))]
        case .base64: return [SigmaString(text: Data(Self.textBytes(text)).base64EncodedString())]
        case .base64offset: return Self.base64offsets(Self.textBytes(text)).map { SigmaString(text: $0) }
        case .windash: return [s]
        }
    }

    /// Bytes of a transformed value kept one Unicode scalar per byte, so a later base64 sees the same bytes.
    static func bytesText(_ b: [UInt8]) -> String { String(String.UnicodeScalarView(b.map { Unicode.Scalar($0) })) }
    static func textBytes(_ s: String) -> [UInt8] {
        if s.unicodeScalars.allSatisfy({ $0.value < 256 }) && s.unicodeScalars.contains(where: { $0.value == 0 }) {
            return s.unicodeScalars.map { UInt8($0.value) }
        }
        return Array(s.utf8)
    }

    /// Sigma's base64offset: the value at byte offsets 0, 1, 2, with the unstable edge characters cut.
    static func base64offsets(_ v: [UInt8]) -> [String] {
        let starts = [0, 2, 3], ends = [0, -3, -2]
        return (0..<3).map { i in
            let enc = Array(Data(Array(repeating: UInt8(ascii: " "), count: i) + v).base64EncodedString())
            let end = ends[(v.count + i) % 3]
            let hi = end == 0 ? enc.count : enc.count + end
            return hi > starts[i] ? String(enc[starts[i]..<hi]) : ""
        }
    }

    /// `-` or `/` starting a word, as each of `-`, `/`, en dash, em dash, horizontal bar.
    static func windash(_ s: SigmaString) -> [SigmaString] {
        let dashes: [Character] = ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"]
        var results: [[SigmaString.Piece]] = [[]]
        var prevIsBoundary = true
        for p in s.pieces {
            guard case .text(let t) = p else { results = results.map { $0 + [p] }; prevIsBoundary = true; continue }
            var variants: [String] = [""]
            for ch in t {
                if (ch == "-" || ch == "/") && prevIsBoundary {
                    variants = variants.count > 64 ? variants.map { $0 + String(ch) } : variants.flatMap { v in dashes.map { v + String($0) } }
                } else { variants = variants.map { $0 + String(ch) } }
                prevIsBoundary = ch == " " || ch == "\t"
            }
            results = results.flatMap { r in variants.map { r + [.text($0)] } }
        }
        return results.map { SigmaString(pieces: $0) }
    }
}

extension SigmaString {
    init(pieces: [Piece]) { self.pieces = pieces }
}

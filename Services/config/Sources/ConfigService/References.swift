import VigilRules

/// A reference from one object to another: by id through a typed field (`collector`),
/// declared in `references`, or by name for special objects written `@name` in any text.
struct Reference: Sendable, Equatable, Hashable {
    var kind: ConfigKind
    /// The target's id, or its name when `byName` (special objects).
    var key: String
    var byName: Bool
    var field: String
}

enum References {
    /// `references: [{"kind": "special_object", "id": "blocklist"}, …]`.
    static func declared(_ v: JSONValue) -> Result<[Reference], FieldProblem> {
        guard case .array(let items) = v else { return .failure(FieldProblem("references", "must be an array of {\"kind\", \"id\"} objects")) }
        var out: [Reference] = []
        for (i, item) in items.enumerated() {
            guard case .string(let k)? = item["kind"], let kind = ConfigKind(rawValue: k) else {
                return .failure(FieldProblem("references[\(i)].kind", "must be one of: \(ConfigKind.names)"))
            }
            guard case .string(let id)? = item["id"], !id.isEmpty else {
                return .failure(FieldProblem("references[\(i)].id", "must be the id of the referenced \(kind.rawValue)"))
            }
            out.append(Reference(kind: kind, key: id, byName: false, field: "references[\(i)]"))
        }
        return .success(out)
    }

    /// Everything `body` (an object of `kind`) refers to.
    static func outgoing(_ kind: ConfigKind, _ body: JSONValue) -> [Reference] {
        var out: [Reference] = []
        for spec in kind.fields {
            if case .reference(let target) = spec.type, case .string(let id)? = body[spec.name] {
                out.append(Reference(kind: target, key: id, byName: false, field: spec.name))
            }
        }
        if let r = body["references"], case .success(let refs) = declared(r) { out += refs }
        if case .object(let members) = body {
            for (k, v) in members where k != "references" && !(kind == .specialObject && k == "members") {
                scanNames(v, path: k, into: &out)
            }
        }
        return out
    }

    /// `@name` inside strings (a QQL filter, a template body) names a special object.
    private static func scanNames(_ v: JSONValue, path: String, into out: inout [Reference]) {
        switch v {
        case .string(let s):
            for name in specialNames(in: s) { out.append(Reference(kind: .specialObject, key: name, byName: true, field: path)) }
        case .array(let items):
            for (i, x) in items.enumerated() { scanNames(x, path: "\(path)[\(i)]", into: &out) }
        case .object(let members):
            for (k, x) in members { scanNames(x, path: "\(path).\(k)", into: &out) }
        default: break
        }
    }

    static func specialNames(in s: String) -> [String] {
        var names: [String] = []
        var chars = Array(s.unicodeScalars)[...]
        while let at = chars.firstIndex(of: "@") {
            var end = chars.index(after: at)
            while end < chars.endIndex, chars[end].isASCII, chars[end].properties.isAlphabetic || ("0"..."9").contains(chars[end]) || chars[end] == "_" {
                end += 1
            }
            let name = String(String.UnicodeScalarView(chars[chars.index(after: at)..<end]))
            if Validator.isValidListName(name) { names.append(name) }
            chars = chars[end...]
        }
        return names
    }
}

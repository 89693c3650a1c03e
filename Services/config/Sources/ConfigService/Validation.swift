import Foundation
import VigilQuery
import VigilRules

/// Checks an object's JSON against its kind: every problem is reported (field and what is
/// wrong), unknown fields are refused, service-kept metadata is dropped. The result keeps
/// the fields in the order the kind declares them.
enum Validator {
    static let maxMembers = 100_000
    static let maxNameLength = 200

    struct Checked: Sendable {
        var id: String?
        var name: String
        var body: JSONValue
    }

    static func check(_ kind: ConfigKind, _ value: JSONValue) -> Result<Checked, ConfigFailure> {
        guard case .object(let members) = value else {
            return .failure(ConfigFailure(.invalid, "a \(kind.rawValue) is a JSON object, not \(describe(value))"))
        }
        var problems: [FieldProblem] = []
        let specs = kind.fields
        let known = Set(ConfigKind.common + specs.map(\.name) + ConfigKind.metadata)
        for (k, _) in members where !known.contains(k) {
            problems.append(FieldProblem(k, "unknown field; a \(kind.rawValue) takes: \((ConfigKind.common + specs.map(\.name)).joined(separator: ", "))"))
        }
        var out: [(String, JSONValue)] = []
        var id: String?
        if let v = value["id"] {
            if case .string(let s) = v, isValidId(s) { id = s; out.append(("id", v)) }
            else { problems.append(FieldProblem("id", "must be 1–64 characters of a-z, A-Z, 0-9, '.', '_' or '-'")) }
        }
        var name = ""
        switch value["name"] {
        case .string(let s)? where !s.trimmingCharacters(in: .whitespaces).isEmpty && s.count <= maxNameLength:
            name = s
            if kind == .specialObject && !isValidListName(s) {
                problems.append(FieldProblem("name", "a special object's name is how rules use it (@name): letters, digits and '_', not starting with a digit"))
            }
        case nil: problems.append(FieldProblem("name", "required"))
        default: problems.append(FieldProblem("name", "must be a non-empty string of at most \(maxNameLength) characters"))
        }
        out.append(("name", .string(name)))
        if let d = value["description"] {
            if case .string = d { out.append(("description", d)) } else { problems.append(FieldProblem("description", "must be a string")) }
        }
        for spec in specs {
            guard let v = value[spec.name], v != .null else {
                if spec.required { problems.append(FieldProblem(spec.name, "required")) }
                continue
            }
            if let p = checkField(spec, v) { problems.append(FieldProblem(spec.name, p)) } else { out.append((spec.name, v)) }
        }
        if kind == .specialObject, case .string(let t)? = value["type"], let type = SpecialObjectType(rawValue: t),
           case .array(let items)? = value["members"] {
            problems += MemberCheck.check(items, type: type)
        }
        if let r = value["references"] {
            switch References.declared(r) {
            case .success: out.append(("references", r))
            case .failure(let p): problems.append(p)
            }
        }
        if !problems.isEmpty {
            return .failure(ConfigFailure(.invalid, "\(kind.rawValue) '\(id ?? name)' is not valid", problems: problems))
        }
        return .success(Checked(id: id, name: name, body: .object(out)))
    }

    static func checkField(_ spec: FieldSpec, _ v: JSONValue) -> String? {
        switch spec.type {
        case .text:
            guard case .string = v else { return "must be a string, not \(describe(v))" }
        case .nonEmptyText:
            guard case .string(let s) = v, !s.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return "must be a non-empty string" }
        case .hostname:
            guard case .string(let s) = v, isHostname(s) else { return "must be a host name (letters, digits, '-' and '.')" }
        case .ip:
            guard case .string(let s) = v, IPAddress(s) != nil else { return "must be an IPv4 or IPv6 address" }
        case .count:
            guard case .integer(let n) = v, n >= 0 else { return "must be a whole number ≥ 0" }
        case .bool:
            guard case .bool = v else { return "must be true or false" }
        case .object:
            guard case .object = v else { return "must be a JSON object" }
        case .strings, .nonEmptyStrings:
            guard case .array(let items) = v else { return "must be an array of strings" }
            if case .nonEmptyStrings = spec.type, items.isEmpty { return "must list at least one value" }
            if items.count > maxMembers { return "has \(items.count) entries; at most \(maxMembers)" }
            for (i, x) in items.enumerated() {
                guard case .string = x else { return "entry \(i) must be a string, not \(describe(x))" }
            }
        case .location:
            guard case .string(let s) = v, s.hasPrefix("https://") || s.hasPrefix("http://") || s.hasPrefix("/") else {
                return "must be an http(s) URL or an absolute file path"
            }
        case .schedule:
            guard case .string(let s) = v, s == "manual" || scheduleSeconds(s) != nil else {
                return "must be 'manual' or an interval such as 30m, 1h, 1d (at least 1m)"
            }
        case .oneOf(let allowed):
            guard case .string(let s) = v, allowed.contains(s) else { return "must be one of: \(allowed.joined(separator: ", "))" }
        case .reference(let kind):
            guard case .string(let s) = v, !s.isEmpty else { return "must be the id of a \(kind.rawValue)" }
        }
        return nil
    }

    /// `30m`, `1h`, `2d`, `90s` → seconds; at least one minute.
    static func scheduleSeconds(_ s: String) -> Int64? {
        guard let unit = s.last, let n = Int64(s.dropLast()), n > 0 else { return nil }
        let mult: Int64
        switch unit {
        case "s": mult = 1
        case "m": mult = 60
        case "h": mult = 3600
        case "d": mult = 86400
        default: return nil
        }
        let (secs, overflow) = n.multipliedReportingOverflow(by: mult)
        return !overflow && secs >= 60 ? secs : nil
    }

    static func isValidId(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 64 && s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "._-".unicodeScalars.contains($0) }
    }

    static func isValidListName(_ s: String) -> Bool {
        guard let f = s.unicodeScalars.first, !CharacterSet.decimalDigits.contains(f) else { return false }
        return s.unicodeScalars.allSatisfy { ($0.isASCII && CharacterSet.alphanumerics.contains($0)) || $0 == "_" }
    }

    static func isHostname(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 253 && s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy { ($0.isASCII && CharacterSet.alphanumerics.contains($0)) || $0 == "-" }
        }
    }

    /// An id made from a name: lower case, runs of other characters become '-'.
    static func slug(_ name: String) -> String {
        var out = ""
        for u in name.lowercased().unicodeScalars {
            if u.isASCII && CharacterSet.alphanumerics.contains(u) { out.unicodeScalars.append(u) }
            else if !out.hasSuffix("-") { out += "-" }
        }
        let trimmed = out.trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        return String((trimmed.isEmpty ? "object" : trimmed).prefix(56))
    }

    static func describe(_ v: JSONValue) -> String {
        switch v {
        case .null: return "null"
        case .bool: return "a boolean"
        case .integer, .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// Members of a special object checked against its type (first problems only, so a huge
/// list does not produce a huge error).
enum MemberCheck {
    static let maxReported = 10

    static func check(_ items: [JSONValue], type: SpecialObjectType) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        var seen = Set<String>()
        for (i, item) in items.enumerated() {
            guard problems.count < maxReported else { break }
            guard case .string(let s) = item else { continue }
            if let p = problem(s, type) { problems.append(FieldProblem("members[\(i)]", "'\(s)' \(p)")) }
            else if !seen.insert(s.lowercased()).inserted { problems.append(FieldProblem("members[\(i)]", "'\(s)' is listed twice")) }
        }
        return problems
    }

    static func problem(_ s: String, _ type: SpecialObjectType) -> String? {
        if s.isEmpty { return "is empty" }
        switch type {
        case .ips:
            if s.contains("/") { return CIDRBlock(s) == nil ? "is not a CIDR block (e.g. 10.0.0.0/8)" : nil }
            return IPAddress(s) == nil ? "is not an IP address or CIDR block" : nil
        case .domains:
            let d = s.hasPrefix("*.") ? String(s.dropFirst(2)) : s
            return Validator.isHostname(d) && d.contains(".") ? nil : "is not a domain name (e.g. example.com or *.example.com)"
        case .hashes:
            let hex = s.unicodeScalars.allSatisfy { CharacterSet(charactersIn: "0123456789abcdefABCDEF").contains($0) }
            return hex && [32, 40, 64, 128].contains(s.count) ? nil : "is not an MD5, SHA-1, SHA-256 or SHA-512 hex digest"
        case .users:
            return s.contains(where: { $0.isWhitespace && $0 != " " }) || s.count > 256 ? "is not a user name" : nil
        case .strings:
            return s.count > 4096 ? "is longer than 4096 characters" : nil
        }
    }
}

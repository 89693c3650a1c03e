import Foundation
import VigilIntel

/// One record of an asset or user import, whatever the file format: canonical key → values
/// (lists for tags and groups), and where it came from for error messages.
struct ImportRow {
    var origin: String
    var values: [String: [String]]
    func first(_ k: String) -> String { values[k]?.first?.trimmingCharacters(in: .whitespaces) ?? "" }
}

struct ImportProblem: Error, CustomStringConvertible {
    var origin: String
    var message: String
    var description: String { "\(origin): \(message)" }
}

/// Reads CSV (header row) or JSON (an array of objects, or {"<list>": [...]}) into rows with
/// canonical keys. Header and JSON keys are compared without case and punctuation, so
/// `sAMAccountName`, `sam_account_name` and `SamAccountName` are the same column.
enum ImportRecords {
    static func canonical(_ k: String) -> String { String(k.lowercased().filter { $0.isLetter || $0.isNumber }) }

    /// `aliases` maps canonical spellings to the key used in rows; `positional` is the column
    /// order of a CSV without header row (nil: a header is required).
    static func read(_ content: [UInt8], format: String, origin: String, list: String,
                     aliases: [String: String], positional: [String]?) -> Result<[ImportRow], ImportProblem> {
        switch format.lowercased() {
        case "csv": return csv(content, origin: origin, aliases: aliases, positional: positional)
        case "json": return json(content, origin: origin, list: list, aliases: aliases)
        default: return .failure(ImportProblem(origin: origin, message: "unknown format '\(format)'; expected csv or json"))
        }
    }

    static func split(_ s: String) -> [String] {
        s.split(whereSeparator: { $0 == ";" || $0 == "|" }).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    static func csv(_ content: [UInt8], origin: String, aliases: [String: String], positional: [String]?) -> Result<[ImportRow], ImportProblem> {
        let records: [(line: Int, fields: [String])]
        switch CSVText.records(content) {
        case .success(let r): records = r
        case .failure(let e): return .failure(ImportProblem(origin: "\(origin):\(e.line)", message: e.reason))
        }
        guard let first = records.first else { return .success([]) }
        let headerKeys = first.fields.map { aliases[canonical($0)] }
        var columns: [String?]
        var body = records[...]
        if headerKeys.contains(where: { $0 != nil }) {
            if let unknown = zip(first.fields, headerKeys).first(where: { $0.1 == nil && !$0.0.isEmpty }) {
                return .failure(ImportProblem(origin: "\(origin):\(first.line)",
                    message: "unknown column '\(unknown.0)'; known: \(Set(aliases.values).sorted().joined(separator: ", "))"))
            }
            columns = headerKeys
            body = records.dropFirst()
        } else if let positional {
            columns = positional
        } else {
            return .failure(ImportProblem(origin: "\(origin):\(first.line)",
                message: "expected a header row naming columns (\(Set(aliases.values).sorted().joined(separator: ", ")))"))
        }
        var rows: [ImportRow] = []
        for r in body {
            var v: [String: [String]] = [:]
            if r.fields.count > columns.count {
                return .failure(ImportProblem(origin: "\(origin):\(r.line)", message: "\(r.fields.count) columns; the header has \(columns.count)"))
            }
            for (i, f) in r.fields.enumerated() { if let k = columns[i], !f.isEmpty { v[k] = listKeys.contains(k) ? split(f) : [f] } }
            rows.append(ImportRow(origin: "\(origin):\(r.line)", values: v))
        }
        return .success(rows)
    }

    /// Keys whose CSV cells hold several values separated by ';' or '|'.
    static let listKeys: Set<String> = ["tags", "groups"]

    static func json(_ content: [UInt8], origin: String, list: String, aliases: [String: String]) -> Result<[ImportRow], ImportProblem> {
        guard let j = try? JSONSerialization.jsonObject(with: Data(content)) else {
            return .failure(ImportProblem(origin: origin, message: "not valid JSON; expected an array of objects or {\"\(list)\": [...]}"))
        }
        guard let items = (j as? [Any]) ?? ((j as? [String: Any])?[list] as? [Any]) else {
            return .failure(ImportProblem(origin: origin, message: "expected an array of objects or {\"\(list)\": [...]}"))
        }
        var rows: [ImportRow] = []
        for (i, item) in items.enumerated() {
            let where_ = "\(origin)[\(i)]"
            guard let o = item as? [String: Any] else { return .failure(ImportProblem(origin: where_, message: "not an object")) }
            var v: [String: [String]] = [:]
            for (key, value) in o {
                guard let k = aliases[canonical(key)] else {
                    return .failure(ImportProblem(origin: where_, message: "unknown key '\(key)'; known: \(Set(aliases.values).sorted().joined(separator: ", "))"))
                }
                switch value {
                case let s as String: v[k] = listKeys.contains(k) ? split(s) : [s]
                case let a as [Any]: v[k] = a.map { "\($0)" }
                case is NSNull: break
                case let n as NSNumber:
                    // JSON true/false arrive as NSNumber ("1"/"0" or "true"/"false"); readers accept both.
                    v[k] = [n.stringValue]
                default: v[k] = ["\(value)"]
                }
            }
            rows.append(ImportRow(origin: where_, values: v))
        }
        return .success(rows)
    }
}

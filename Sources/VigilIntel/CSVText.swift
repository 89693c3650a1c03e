import Foundation

/// CSV records with RFC 4180 quoting ("a ""b""", newlines inside quotes), one delimiter byte.
/// Shared by CSV feeds and the asset and user imports.
public enum CSVText {
    public struct Invalid: Error, Sendable { public var line: Int; public var reason: String }

    /// Records with the 1-based line each starts on; blank lines are skipped.
    public static func records(_ bytes: [UInt8], delimiter: UInt8 = UInt8(ascii: ",")) -> Result<[(line: Int, fields: [String])], Invalid> {
        var out: [(Int, [String])] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var i = 0, line = 1, start = 1
        var quoted = false, wasQuoted = false
        // A UTF-8 byte order mark (spreadsheet exports) is not part of the first column name.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }
        func endField() {
            let s = String(decoding: field, as: UTF8.self)
            fields.append(wasQuoted ? s : s.trimmingCharacters(in: .whitespaces))
            field.removeAll(keepingCapacity: true); wasQuoted = false
        }
        func endRecord() {
            endField()
            if !(fields.count == 1 && fields[0].isEmpty) { out.append((start, fields)) }
            fields.removeAll(keepingCapacity: true)
        }
        while i < bytes.count {
            let c = bytes[i]
            if quoted {
                if c == 0x22 {
                    if i + 1 < bytes.count, bytes[i + 1] == 0x22 { field.append(0x22); i += 2; continue }
                    quoted = false
                } else {
                    if c == 0x0A { line += 1 }
                    field.append(c)
                }
            } else if c == 0x22 && field.allSatisfy({ $0 == 0x20 }) {
                field.removeAll(); quoted = true; wasQuoted = true
            } else if c == delimiter {
                endField()
            } else if c == 0x0A {
                endRecord(); line += 1; start = line
            } else if c != 0x0D {
                field.append(c)
            }
            i += 1
        }
        if quoted { return .failure(Invalid(line: start, reason: "unterminated quoted field")) }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return .success(out)
    }
}

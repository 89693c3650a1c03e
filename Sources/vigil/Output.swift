import Foundation
import VigilLog
#if canImport(Glibc)
import Glibc
#endif

/// Where output goes and how wide it may be.
enum Terminal {
    /// `--width N` (set per command by the dispatcher); wins over everything else.
    nonisolated(unsafe) static var widthOverride: Int?

    /// Columns available for a table: --width, the terminal's (TIOCGWINSZ) when stdout is one,
    /// else $COLUMNS; nil (no limit) when output goes to a pipe or file without either, so
    /// scripts never get truncated cells.
    static var width: Int? {
        if let w = widthOverride { return w }
        var ws = winsize()
        if isatty(1) == 1, ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 { return Int(ws.ws_col) }
        if let c = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), c > 0 { return c }
        return nil
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }
}

enum Table {
    /// A time for a table cell: "2026-03-01 10:00:00" (UTC).
    static func time(_ ms: Int64) -> String {
        ms == 0 ? "-" : String(Clock.iso8601(ms).prefix(19)).replacingOccurrences(of: "T", with: " ")
    }

    /// Columns separated by two spaces. When the rows are wider than the terminal, the widest
    /// columns give way first (never below 4 characters) and cut cells end with "…". Id columns
    /// (header ID or … ID) are never cut: people copy them into the next command.
    static func render(header: [String], rows: [[String]], width: Int? = Terminal.width) -> String {
        let fixed = Set(header.indices.filter { header[$0] == "ID" || header[$0].hasSuffix(" ID") || header[$0] == "TIME" })
        var widths = header.map { $0.count }
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        if let limit = width {
            let gaps = 2 * max(0, widths.count - 1)
            while widths.reduce(0, +) + gaps > limit {
                guard let widest = widths.indices.filter({ !fixed.contains($0) }).max(by: { widths[$0] < widths[$1] }),
                      widths[widest] > 4 else { break }
                let others = widths.reduce(0, +) - widths[widest] + gaps
                widths[widest] = max(4, min(widths[widest] - 1, limit - others))
            }
        }
        func line(_ cells: [String]) -> String {
            widths.indices.map { i in
                fit(i < cells.count ? cells[i] : "", widths[i])
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }

    /// Exactly `width` characters: padded, or cut with "…".
    static func fit(_ s: String, _ width: Int) -> String {
        let flat = s.contains("\n") ? s.replacingOccurrences(of: "\n", with: " ") : s
        if flat.count <= width { return flat + String(repeating: " ", count: width - flat.count) }
        return String(flat.prefix(max(0, width - 1))) + "…"
    }

    /// "key   value" lines for one object.
    static func pairs(_ items: [(String, String)]) -> String {
        let w = items.map(\.0.count).max() ?? 0
        return items.map { $0.0.padding(toLength: w, withPad: " ", startingAt: 0) + "  " + $0.1 }.joined(separator: "\n")
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}

/// Pictures for numbers people would rather look at than read.
enum Chart {
    static let sparks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// One character per value, scaled to the largest (all zero: a flat line).
    static func sparkline(_ values: [UInt64]) -> String {
        let top = values.max() ?? 0
        return String(values.map { v -> Character in
            guard top > 0 else { return sparks[0] }
            return sparks[min(7, Int((Double(v) / Double(top) * 7).rounded()))]
        })
    }

    /// A horizontal bar of `fraction` × `width` cells, in eighths.
    static func bar(_ fraction: Double, width: Int) -> String {
        let eighths = Int((max(0, min(1, fraction)) * Double(width * 8)).rounded())
        let blocks = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        return String(repeating: "█", count: eighths / 8) + blocks[eighths % 8]
    }

    /// Labelled bars ("label  ████▌ 42"), the bar width taken from the terminal.
    static func bars(_ items: [(label: String, count: UInt64)], maxBar: Int = 40) -> String {
        guard !items.isEmpty else { return "  (none)" }
        let labelWidth = min(36, items.map(\.label.count).max() ?? 0)
        let countWidth = items.map { String($0.count).count }.max() ?? 1
        let room = (Terminal.width ?? 120) - labelWidth - countWidth - 6
        let barWidth = max(5, min(maxBar, room))
        let top = items.map(\.count).max() ?? 1
        return items.map { i in
            "  " + Table.fit(i.label, labelWidth) + "  " + String(i.count).leftPadded(countWidth) + " "
                + bar(top == 0 ? 0 : Double(i.count) / Double(top), width: barWidth)
        }.joined(separator: "\n")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

/// Errors as the user sees them: "vigil: …" on one line; a QQL error (the service returns the
/// query, a line with a caret under the bad spot, then the message) is shown as an indented
/// block so the caret stays under the query whatever prefix the message had.
enum ErrorDisplay {
    static func text(_ message: String) -> String {
        let lines = message.components(separatedBy: "\n")
        guard let caret = lines.firstIndex(where: isCaretLine), caret > 0 else { return "vigil: " + message }
        let queryLine = caret - 1
        var out: [String]
        if queryLine == 0 {
            out = ["vigil: bad query:"]
        } else {
            out = ["vigil: " + lines[0]] + lines[1..<queryLine]
        }
        out.append("  " + lines[queryLine])
        out.append("  " + lines[caret])
        out += lines[(caret + 1)...].map { $0.isEmpty ? $0 : "  " + $0 }
        return out.joined(separator: "\n")
    }

    static func isCaretLine(_ l: String) -> Bool {
        l.hasSuffix("^") && l.dropLast().allSatisfy { $0 == " " }
    }
}

enum JSONOut {
    /// Pretty, sorted JSON of a Foundation value (dictionaries, arrays, strings, numbers).
    static func text(_ obj: Any, pretty: Bool = true) -> String {
        var opts: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        if pretty { opts.insert(.prettyPrinted) }
        guard JSONSerialization.isValidJSONObject(obj), let d = try? JSONSerialization.data(withJSONObject: obj, options: opts) else {
            return "null"
        }
        return String(decoding: d, as: UTF8.self)
    }

    static func print(_ obj: Any) { Swift.print(text(obj)) }
}

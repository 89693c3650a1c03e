import Foundation

/// What a benchmark's option takes after its name.
public enum BenchValue: Sendable, Equatable {
    /// No value: present or not.
    case flag
    /// A whole number ≥ 0 (`_` allowed as a digit separator: `1_000_000`).
    case count
    /// A whole number ≥ 1 (sizes, rates, batch sizes: 0 would divide by zero or never end).
    case positive
    /// A comma-separated list of counts (`10,100,1000`).
    case counts
    /// A decimal number ≥ 0.
    case number
    /// Any text (a path, a list of settings).
    case text
}

/// One option a benchmark accepts.
public struct BenchOption: Sendable {
    public let name: String
    public let value: BenchValue
    public let help: String
    /// What the usage shows for the value (`DIR`); by default one for its kind (`N`).
    public let placeholder: String?
    public init(_ name: String, _ value: BenchValue, _ help: String, placeholder: String? = nil) {
        self.name = name
        self.value = value
        self.help = help
        self.placeholder = placeholder
    }
}

/// A command-line error: which option, what was given, what was expected.
public struct BenchOptionError: Error, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable { case unknownOption = "unknown_option", missingValue = "missing_value", badValue = "bad_value" }
    public let code: Code
    public let description: String
}

/// The command line of a benchmark, checked against the options it declares. Benchmarks run
/// for minutes and start services, so a typo or `--help` must not start a default run:
/// `--help` prints the usage, anything undeclared or malformed is an error naming it.
public struct BenchOptions: Sendable {
    public let tool: String
    public let summary: String
    public let options: [BenchOption]
    private var values: [String: String] = [:]

    /// Parses `arguments` (without the program name).
    public init(tool: String, summary: String, options: [BenchOption], arguments: [String]) throws {
        self.tool = tool
        self.summary = summary
        self.options = options
        var rest = arguments[...]
        while let name = rest.popFirst() {
            guard let option = options.first(where: { $0.name == name }) else {
                throw BenchOptionError(code: .unknownOption, description: "unknown option '\(name)'")
            }
            if option.value == .flag {
                values[name] = ""
                continue
            }
            guard let value = rest.popFirst() else {
                throw BenchOptionError(code: .missingValue, description: "\(name): expected \(Self.expected(option.value)) after it")
            }
            guard Self.valid(value, option.value) else {
                throw BenchOptionError(code: .badValue, description: "\(name): expected \(Self.expected(option.value)), got '\(value)'")
            }
            values[name] = value
        }
    }

    /// Parses the process's command line: `--help` (or `-h`) prints the usage and exits 0; an
    /// error is printed with a pointer to `--help` and exits 2.
    public static func parse(tool: String, summary: String, options: [BenchOption],
                             arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> BenchOptions {
        if helpRequested(arguments, options) {
            print(usage(tool: tool, summary: summary, options: options))
            exit(0)
        }
        do {
            return try BenchOptions(tool: tool, summary: summary, options: options, arguments: arguments)
        } catch {
            FileHandle.standardError.write(Data("\(tool): \(error)\nrun '\(tool) --help' for the options\n".utf8))
            exit(2)
        }
    }

    /// `--help` or `-h` where an option name goes (not as another option's value).
    static func helpRequested(_ arguments: [String], _ options: [BenchOption]) -> Bool {
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if a == "--help" || a == "-h" { return true }
            let takesValue = options.first { $0.name == a }.map { $0.value != .flag } ?? false
            i += takesValue ? 2 : 1
        }
        return false
    }

    public static func usage(tool: String, summary: String, options: [BenchOption]) -> String {
        let shown = options.map { o in (o.value == .flag ? o.name : "\(o.name) \(o.placeholder ?? placeholder(o.value))", o.help) }
        let width = max("--help".count, min(30, shown.map(\.0.count).max() ?? 0))
        var lines = ["usage: \(tool) [options]", "", summary, "", "options:"]
        for (left, help) in shown {
            lines.append(left.count <= width ? "  " + left.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + help
                                             : "  " + left + "\n  " + String(repeating: " ", count: width + 2) + help)
        }
        lines.append("  " + "--help".padding(toLength: width, withPad: " ", startingAt: 0) + "  this text")
        return lines.joined(separator: "\n")
    }

    public func flag(_ name: String) -> Bool { text(name) != nil }
    public func text(_ name: String) -> String? {
        // Asking for an undeclared option is the benchmark's bug, not the user's.
        precondition(options.contains { $0.name == name }, "\(tool): option \(name) read but not declared")
        return values[name]
    }
    /// A `.count` or `.positive` option's value.
    public func count(_ name: String) -> Int? { text(name).flatMap { Self.countValue($0) } }
    public func count(_ name: String, default d: Int) -> Int { count(name) ?? d }
    public func counts(_ name: String) -> [Int]? { text(name).map { $0.split(separator: ",").compactMap { Self.countValue(String($0)) } } }
    public func number(_ name: String) -> Double? { text(name).flatMap(Double.init) }


    private static func countValue(_ s: String) -> Int? {
        let digits = s.replacingOccurrences(of: "_", with: "")
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let n = Int(digits), n >= 0 else { return nil }
        return n
    }

    private static func valid(_ s: String, _ kind: BenchValue) -> Bool {
        switch kind {
        case .flag, .text: return true
        case .count: return countValue(s) != nil
        case .positive: return (countValue(s) ?? 0) >= 1
        case .counts:
            let parts = s.split(separator: ",", omittingEmptySubsequences: false)
            return !parts.isEmpty && parts.allSatisfy { countValue(String($0)) != nil }
        case .number: return Double(s).map { $0 >= 0 && $0.isFinite } ?? false
        }
    }

    private static func expected(_ kind: BenchValue) -> String {
        switch kind {
        case .flag: return "nothing"
        case .count: return "a whole number ≥ 0"
        case .positive: return "a whole number ≥ 1"
        case .counts: return "whole numbers separated by commas (e.g. 10,100)"
        case .number: return "a number ≥ 0"
        case .text: return "a value"
        }
    }

    private static func placeholder(_ kind: BenchValue) -> String {
        switch kind {
        case .flag: return ""
        case .count, .positive: return "N"
        case .counts: return "N,N,…"
        case .number: return "X"
        case .text: return "TEXT"
        }
    }
}

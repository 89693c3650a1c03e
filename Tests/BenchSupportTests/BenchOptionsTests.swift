import XCTest
@testable import BenchSupport

/// A benchmark's command line: declared options only, values checked, errors that name the option.
final class BenchOptionsTests: XCTestCase {
    let declared = [
        BenchOption("--quick", .flag, "short run"),
        BenchOption("--events", .count, "events"),
        BenchOption("--rules", .counts, "rule counts"),
        BenchOption("--seconds", .number, "seconds"),
        BenchOption("--batch", .positive, "batch size"),
        BenchOption("--service-args", .text, "settings", placeholder: "\"--key value\""),
    ]

    func parse(_ args: [String]) throws -> BenchOptions {
        try BenchOptions(tool: "t", summary: "s", options: declared, arguments: args)
    }

    func testValuesAreReadByKind() throws {
        let o = try parse(["--quick", "--events", "1_000_000", "--rules", "10,100", "--seconds", "2.5", "--service-args", "--hwm 20000"])
        XCTAssertTrue(o.flag("--quick"))
        XCTAssertEqual(o.count("--events"), 1_000_000)
        XCTAssertEqual(o.counts("--rules"), [10, 100])
        XCTAssertEqual(o.number("--seconds"), 2.5)
        XCTAssertEqual(o.text("--service-args"), "--hwm 20000", "a value may itself start with --")
    }

    func testAbsentOptionsGiveTheDefault() throws {
        let o = try parse([])
        XCTAssertFalse(o.flag("--quick"))
        XCTAssertNil(o.count("--events"))
        XCTAssertEqual(o.count("--events", default: 7), 7)
        XCTAssertNil(o.counts("--rules"))
    }

    func testUnknownOptionsAndHelpLikeTyposAreRefused() {
        for bad in [["--qiuck"], ["--events=5"], ["5"], ["--events", "5", "--rule", "10"]] {
            XCTAssertThrowsError(try parse(bad), "\(bad)") { error in
                XCTAssertEqual((error as? BenchOptionError)?.code, .unknownOption, "\(bad)")
            }
        }
        XCTAssertThrowsError(try parse(["--qiuck"])) { XCTAssertEqual("\($0)", "unknown option '--qiuck'") }
    }

    func testBadAndMissingValuesNameTheOptionAndWhatWasExpected() {
        let cases: [([String], BenchOptionError.Code, String)] = [
            (["--events", "1e5"], .badValue, "--events: expected a whole number ≥ 0, got '1e5'"),
            (["--events", "-3"], .badValue, "--events: expected a whole number ≥ 0, got '-3'"),
            (["--rules", "10,,100"], .badValue, "--rules: expected whole numbers separated by commas (e.g. 10,100), got '10,,100'"),
            (["--seconds", "soon"], .badValue, "--seconds: expected a number ≥ 0, got 'soon'"),
            (["--events"], .missingValue, "--events: expected a whole number ≥ 0 after it"),
            (["--batch", "0"], .badValue, "--batch: expected a whole number ≥ 1, got '0'"),
        ]
        for (args, code, message) in cases {
            XCTAssertThrowsError(try parse(args), "\(args)") { error in
                XCTAssertEqual((error as? BenchOptionError)?.code, code, "\(args)")
                XCTAssertEqual("\(error)", message)
            }
        }
    }

    func testUsageListsEveryOptionWithItsValue() {
        let text = BenchOptions.usage(tool: "t", summary: "what it does", options: declared)
        XCTAssertTrue(text.hasPrefix("usage: t [options]"))
        XCTAssertTrue(text.contains("what it does"))
        for line in ["--quick", "--events N", "--rules N,N,…", "--seconds X", "--service-args \"--key value\"", "--help"] {
            XCTAssertTrue(text.contains(line), "usage shows \(line):\n\(text)")
        }
    }

    func testHelpIsAskedOnlyWhereAnOptionNameGoes() {
        XCTAssertTrue(BenchOptions.helpRequested(["--help"], declared))
        XCTAssertTrue(BenchOptions.helpRequested(["--events", "5", "-h"], declared))
        XCTAssertTrue(BenchOptions.helpRequested(["--bogus", "--help"], declared), "help wins over an unknown option")
        XCTAssertFalse(BenchOptions.helpRequested(["--service-args", "-h"], declared), "a value, not a request for help")
        XCTAssertFalse(BenchOptions.helpRequested(["--quick"], declared))
    }

    func testUsageOfABenchWithoutOptionsStillNamesHelp() {
        let text = BenchOptions.usage(tool: "t", summary: "s", options: [])
        XCTAssertTrue(text.contains("  --help  this text"), text)
    }
}

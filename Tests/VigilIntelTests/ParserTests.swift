import XCTest
@testable import VigilIntel

final class ParserTests: XCTestCase {
    func testStixBundleKeepsWhatItCanExpressAndRefusesTheRest() throws {
        let p = try XCTUnwrap(FeedParsers.parse(try fixture("bundle.json"), feed: feed(.stix, confidence: 40), nowMs: now).value)
        let got = Set(p.indicators.map { "\($0.type.rawValue) \($0.value) \($0.confidence)" })
        XCTAssertEqual(got, [
            "ipv4 198.51.100.7 85",
            "cidr 203.0.113.0/24 40", "cidr 2001:db8::/32 40",
            "domain evil.example 90",
            "url http://bad.example.net/dl/payload.exe 40",
            "sha256 aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f 40",
            "md5 44d88612fea8a8f36de82e1278abb02f 40",
        ])
        // AND, LIKE, process:name, WITHIN, sigma; the expired and revoked ones are skipped silently.
        XCTAssertEqual(p.refusedCount, 5)
        let reasons = p.refusedSamples.map(\.reason).joined(separator: "\n")
        XCTAssertTrue(reasons.contains("AND between observations is not supported"), reasons)
        XCTAssertTrue(reasons.contains("operator LIKE is not supported"), reasons)
        XCTAssertTrue(reasons.contains("'process:name' is not supported"), reasons)
        XCTAssertTrue(reasons.contains("qualifier WITHIN"), reasons)
        XCTAssertTrue(reasons.contains("pattern_type 'sigma'"), reasons)
    }

    func testStixPatternGrammar() {
        XCTAssertEqual(StixPattern.parse("([ipv4-addr:value = '1.2.3.4']) OR [url:value = 'http://a.b/it\\'s']").value?.map(\.value),
                       ["1.2.3.4", "http://a.b/it's"])
        XCTAssertNotNil(StixPattern.parse("[ipv4-addr:value = '1.2.3.4'").error, "unclosed bracket")
        XCTAssertNotNil(StixPattern.parse("[ipv4-addr:value != '1.2.3.4']").error)
        XCTAssertNotNil(StixPattern.parse("[ipv4-addr:value = '1.2.3.4] ").error, "unterminated string")
        XCTAssertNotNil(StixPattern.parse("").error)
        XCTAssertNotNil(StixPattern.parse(String(repeating: "(", count: 100)).error, "deep nesting is refused, not a stack overflow")
    }

    func testInvalidStixDocumentsAreFeedErrors() throws {
        let notBundle = FeedParsers.parse(try fixture("not-a-bundle.json"), feed: feed(.stix), nowMs: now).error
        XCTAssertEqual(notBundle?.code, .badDocument)
        XCTAssertTrue(notBundle?.message.contains("\"type\": \"bundle\"") ?? false, "\(String(describing: notBundle))")
        let truncated = FeedParsers.parse(try fixture("truncated.json"), feed: feed(.stix), nowMs: now).error
        XCTAssertEqual(truncated?.code, .badDocument)
        XCTAssertTrue(truncated?.message.contains("not valid JSON") ?? false)
        // A bundle where nothing is usable must not replace a good set with an empty one.
        let none = #"{"type":"bundle","objects":[{"type":"indicator","pattern":"[process:name = 'x']"}]}"#
        XCTAssertEqual(FeedParsers.parse(Array(none.utf8), feed: feed(.stix), nowMs: now).error?.code, .noIndicators)
    }

    func testMispEventAttributesAndObjects() throws {
        let p = try XCTUnwrap(FeedParsers.parse(try fixture("misp-event.json"), feed: feed(.misp, confidence: 60), nowMs: now).value)
        XCTAssertEqual(Set(p.indicators.map { "\($0.type.rawValue) \($0.value)" }), [
            "ipv4 198.51.100.20", "domain phish.example", "ipv4 198.51.100.21", "url https://phish.example/login",
            "sha1 3395856ce81f2b7382dee72602f798b642f14140", "md5 d41d8cd98f00b204e9800998ecf8427e",
        ])
        XCTAssertTrue(p.indicators.allSatisfy { $0.confidence == 60 })
        XCTAssertEqual(p.refusedCount, 1, "email-src is refused; to_ids=false is context, skipped")
        XCTAssertTrue(p.refusedSamples.first?.reason.contains("'email-src'") ?? false)
        XCTAssertEqual(FeedParsers.parse(Array(#"{"events": []}"#.utf8), feed: feed(.misp), nowMs: now).error?.code, .badDocument)
    }

    func testCSVWithHeaderMapping() throws {
        var f = feed(.csv, confidence: 55)
        f.csv.value = "indicator"; f.csv.type = "kind"; f.csv.confidence = "score"
        let p = try XCTUnwrap(FeedParsers.parse(try fixture("feed.csv"), feed: f, nowMs: now).value)
        XCTAssertEqual(p.indicators.map { "\($0.type.rawValue) \($0.value) \($0.confidence)" }, [
            "ipv4 198.51.100.30 70", "domain bad.example.org 55",
            "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 95", "ipv4 198.51.100.31 40",
        ])
        XCTAssertEqual(p.refusedCount, 1)
        XCTAssertEqual(p.refusedSamples.first?.entry, "not an ioc")
    }

    func testCSVWrongColumnsIsAFeedError() throws {
        var f = feed(.csv)
        f.csv.value = "indicator"
        let e = FeedParsers.parse(try fixture("wrong-columns.csv"), feed: f, nowMs: now).error
        XCTAssertEqual(e?.code, .badDocument)
        XCTAssertEqual(e?.message, "wrong CSV columns: no column 'indicator' in the header (found: ip, note)")
    }

    func testPlainListSniffsTypes() throws {
        let p = try XCTUnwrap(FeedParsers.parse(try fixture("list.txt"), feed: feed(.plain), nowMs: now).value)
        XCTAssertEqual(p.indicators.map { "\($0.type.rawValue) \($0.value)" }, [
            "ipv4 198.51.100.40", "cidr 198.51.100.0/28", "ipv6 2001:db8:dead::1", "domain malware.example.com",
            "url http://x.example/a", "md5 0123456789abcdef0123456789abcdef",
        ])
        XCTAssertEqual(p.refusedCount, 1, "'what' is not an indicator")
        XCTAssertEqual(FeedParsers.parse([0, 1, 2], feed: feed(.plain), nowMs: now).error?.code, .badDocument)
    }

    func testExpiryComesFromTheFeed() throws {
        var f = feed(.plain)
        f.expirySeconds = 3600
        let p = try XCTUnwrap(FeedParsers.parse(Array("198.51.100.1\n".utf8), feed: f, nowMs: now).value)
        XCTAssertEqual(p.indicators.first?.expiresMs, now + 3_600_000)
    }

    func testFeedsFile() throws {
        let good = """
        {"feeds": [
          {"name": "stix-file", "format": "stix2.1", "location": "intel/bundle.json", "refresh": "15m", "confidence": 80, "expiry": "7d"},
          {"name": "csv-web", "format": "csv", "location": "https://ti.example/feed.csv", "columns": {"value": "ioc", "type": "kind"}, "refresh": 600}
        ]}
        """
        let feeds = try FeedsFile.parse(Data(good.utf8), origin: "feeds.json", baseDirectory: "/etc/vigil")
        XCTAssertEqual(feeds.map(\.name), ["stix-file", "csv-web"])
        XCTAssertEqual(feeds[0].location, "/etc/vigil/intel/bundle.json")
        XCTAssertEqual(feeds[0].refreshSeconds, 900)
        XCTAssertEqual(feeds[0].expirySeconds, 7 * 86400)
        XCTAssertEqual(feeds[1].csv.value, "ioc")
        XCTAssertTrue(feeds[1].isHTTP)

        func error(_ text: String) -> String {
            do { _ = try FeedsFile.parse(Data(text.utf8), origin: "f.json", baseDirectory: "/"); return "" }
            catch { return "\(error)" }
        }
        XCTAssertTrue(error(#"{"feeds": [{"name": "a", "format": "yaml", "location": "x"}]}"#).contains("\"format\" must be one of stix2.1, misp, csv, plain"))
        XCTAssertTrue(error(#"{"feeds": [{"name": "a", "format": "csv"}]}"#).contains("\"location\""))
        XCTAssertTrue(error(#"{"feeds": [{"name": "a", "format": "csv", "location": "x", "refesh": "1h"}]}"#).contains("unknown key \"refesh\""))
        XCTAssertTrue(error(#"{"feeds": [{"name": "a", "format": "csv", "location": "x", "confidence": 400}]}"#).contains("0…100"))
        XCTAssertTrue(error(#"{"feeds": [{"name": "a", "format": "csv", "location": "ftp://x"}]}"#).contains("only file paths and http(s) URLs"))
        XCTAssertTrue(error(#"{"feeds": [{"name": "a", "format": "csv", "location": "x"}, {"name": "a", "format": "csv", "location": "y"}]}"#).contains("defined twice"))
        XCTAssertTrue(error("[oops").contains("not valid JSON"))
    }
}

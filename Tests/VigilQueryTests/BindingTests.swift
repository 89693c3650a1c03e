import XCTest
@testable import VigilQuery

/// Catalog-dependent checks: unknown tokens, wrong types, suggestions, catalogs.
final class BindingTests: XCTestCase {
    private func error(_ text: String, _ catalog: TokenCatalog = StandardCatalogs.signals) -> QueryError? {
        do { _ = try QueryEvaluator(text, catalog: catalog); return nil } catch { return error as? QueryError }
    }

    func testUnknownTokenSuggestsNearestTokensOfThatList() {
        let e = error("risk.scor >= 70")
        XCTAssertEqual(e?.code, .unknownToken)
        XCTAssertEqual(e?.position, 0)
        XCTAssertEqual(e?.suggestions.first, "risk.score")
        XCTAssertTrue(e?.message.contains("did you mean risk.score") ?? false, e?.message ?? "")

        let events = error("rule.name: x", StandardCatalogs.events)
        XCTAssertEqual(events?.code, .unknownToken)
        XCTAssertFalse(events?.suggestions.contains("rule.name") ?? true, "suggestions come from the events list only")

        XCTAssertEqual(StandardCatalogs.events.nearest(to: "usr.name").first, "user.name")
        XCTAssertTrue(StandardCatalogs.events.nearest(to: "command_line").contains("process.command_line"))
        XCTAssertEqual(StandardCatalogs.events.nearest(to: "zzzzzzzzzzzz"), [])
    }

    func testWrongTypeSaysWhichTypeTheTokenTakes() {
        let e = error("risk.score: abc")
        XCTAssertEqual(e?.code, .typeMismatch)
        XCTAssertEqual(e?.position, 12)
        XCTAssertEqual(e?.message, "risk.score takes a number; got 'abc'")
        XCTAssertTrue(error("source.ip: 10.0.0.300", StandardCatalogs.events)?.message.contains("source.ip takes an ip address") ?? false)
        XCTAssertTrue(error("source.ip: 10.0.0.0/33", StandardCatalogs.events)?.message.contains("CIDR") ?? false)
        XCTAssertTrue(error("@timestamp > yesterday", StandardCatalogs.events)?.message.contains("takes a time") ?? false)
        XCTAssertEqual(error("rule.name > 5")?.code, .typeMismatch)
        XCTAssertEqual(error("rule.name: [a .. b]")?.code, .typeMismatch)
        XCTAssertEqual(error("risk.score: 5*")?.code, .typeMismatch)
        XCTAssertEqual(error("threat.matched: maybe", StandardCatalogs.events)?.code, .typeMismatch)
    }

    func testTokensAreCaseInsensitiveAndAliasesResolve() throws {
        XCTAssertNotNil(StandardCatalogs.events.token(named: "EVENT.TIME"))
        XCTAssertEqual(StandardCatalogs.events.token(named: "event.time")?.name, "@timestamp")
        XCTAssertNoThrow(try QueryEvaluator("User.Name: x", catalog: StandardCatalogs.events))
    }

    func testCatalogListingForCompletionAndHelp() {
        let catalog = StandardCatalogs.events
        XCTAssertEqual(catalog.completions(prefix: "dest"), ["destination.ip", "destination.port"])
        XCTAssertFalse(catalog.listedTokens.contains { $0.name == "fields" }, "hidden tokens are not offered")
        let help = catalog.helpText()
        XCTAssertTrue(help.contains("source.ip") && help.contains("ip"))
        for list in StandardCatalogs.all {
            XCTAssertFalse(list.listedTokens.isEmpty, list.list)
            XCTAssertEqual(Set(list.tokens.map(\.name)).count, list.tokens.count, "duplicate token in \(list.list)")
            for name in list.freeTextTokens { XCTAssertNotNil(list.token(named: name), "\(list.list): \(name)") }
        }
    }

    func testTimeValues() {
        XCTAssertEqual(TimeValue.parse("2026-03-01"), .absolute(baseMillis, day: true))
        XCTAssertEqual(TimeValue.parse("2026-03-01T10:00:00Z"), .absolute(baseMillis + 36_000_000, day: false))
        XCTAssertEqual(TimeValue.parse("2026-03-01T12:00:00+02:00"), .absolute(baseMillis + 36_000_000, day: false))
        XCTAssertEqual(TimeValue.parse("2026-03-01T10:00:00.250Z"), .absolute(baseMillis + 36_000_250, day: false))
        XCTAssertEqual(TimeValue.parse("now-24h"), .relative(-86_400_000))
        XCTAssertEqual(TimeValue.parse("now-7d"), .relative(-7 * 86_400_000))
        XCTAssertEqual(TimeValue.parse("now-30m"), .relative(-1_800_000))
        XCTAssertEqual(TimeValue.parse("NOW"), .relative(0))
        XCTAssertNil(TimeValue.parse("2026-02-30"))
        XCTAssertNil(TimeValue.parse("now-5y"))
        XCTAssertNil(TimeValue.parse("now-99999999999999999999d"))
        XCTAssertNil(TimeValue.parse("2026-03-01T25:00"))
        XCTAssertEqual(TimeValue.parse("2024-02-29"), .absolute(1_709_164_800_000, day: true))
    }

    func testIPAddressesAndCIDR() {
        XCTAssertTrue(QQLFunctions.cidrContains(ip: "10.1.2.3", cidr: "10.0.0.0/8"))
        XCTAssertFalse(QQLFunctions.cidrContains(ip: "11.0.0.1", cidr: "10.0.0.0/8"))
        XCTAssertTrue(QQLFunctions.cidrContains(ip: "2001:db8::1", cidr: "2001:db8::/32"))
        XCTAssertFalse(QQLFunctions.cidrContains(ip: "2001:db9::1", cidr: "2001:db8::/32"))
        XCTAssertTrue(QQLFunctions.cidrContains(ip: "::ffff:10.0.0.1", cidr: "10.0.0.0/24"), "mapped IPv4 is the same address")
        XCTAssertTrue(QQLFunctions.cidrContains(ip: "192.168.1.1", cidr: "0.0.0.0/0"))
        XCTAssertFalse(QQLFunctions.cidrContains(ip: "::1", cidr: "0.0.0.0/0"), "IPv4 /0 covers only IPv4")
        XCTAssertEqual(IPAddress("2001:db8::5")?.key, IPAddress("2001:0db8:0:0:0:0:0:5")?.key)
        XCTAssertNil(IPAddress("1.2.3"))
        XCTAssertNil(IPAddress("1:2:3:4:5:6:7:8:9"))
        XCTAssertNil(IPAddress("::1::2"))
        XCTAssertLessThan(IPAddress("9.255.255.255")!.key, IPAddress("10.0.0.0")!.key)
    }
}

import XCTest
@testable import VigilIntel

final class MatchingTests: XCTestCase {
    func set(_ name: String, _ items: [(IndicatorType, String, Int)], expires: Int64 = 0) -> IndicatorSet {
        var p = ParsedFeed()
        for (t, v, c) in items { p.add(t, v, confidence: c, expiresMs: expires) }
        XCTAssertEqual(p.refusedCount, 0, "\(p.refusedSamples)")
        return IndicatorSet(feed: name, indicators: p.indicators)
    }

    func testAddressesExactAndByBlock() {
        let s = set("a", [(.ipv4, "198.51.100.7", 50), (.cidr, "10.0.0.0/8", 30), (.cidr, "10.1.0.0/16", 60),
                          (.ipv6, "2001:DB8::1", 70), (.cidr, "2001:db8:aa::/48", 40), (.ipv4, "192.0.2.0/32", 20)])
        XCTAssertEqual(s.match(ip: IP.parse("198.51.100.7")!, nowMs: now)?.value, "198.51.100.7")
        XCTAssertNil(s.match(ip: IP.parse("198.51.100.8")!, nowMs: now))
        XCTAssertEqual(s.match(ip: IP.parse("10.200.0.1")!, nowMs: now)?.value, "10.0.0.0/8")
        XCTAssertEqual(s.match(ip: IP.parse("10.1.2.3")!, nowMs: now)?.value, "10.1.0.0/16", "the more confident of two containing blocks")
        XCTAssertNil(s.match(ip: IP.parse("11.0.0.1")!, nowMs: now))
        XCTAssertEqual(s.match(ip: IP.parse("2001:db8:0:0::1")!, nowMs: now)?.value, "2001:db8::1")
        XCTAssertEqual(s.match(ip: IP.parse("2001:db8:aa:1::9")!, nowMs: now)?.value, "2001:db8:aa::/48")
        XCTAssertEqual(s.match(ip: IP.parse("::ffff:10.9.9.9")!, nowMs: now)?.value, "10.0.0.0/8", "IPv4-mapped IPv6 is IPv4")
        XCTAssertEqual(s.match(ip: IP.parse("192.0.2.0")!, nowMs: now)?.type, .ipv4, "a /32 is an exact address")
    }

    func testDomainsMatchTheirSubdomainsOnly() {
        let s = set("d", [(.domain, "evil.com", 50), (.domain, "very.bad.org", 50)])
        XCTAssertEqual(s.match(domain: "evil.com", nowMs: now)?.value, "evil.com")
        XCTAssertEqual(s.match(domain: "a.b.evil.com", nowMs: now)?.value, "evil.com")
        XCTAssertNil(s.match(domain: "notevil.com", nowMs: now), "suffix on a label boundary only")
        XCTAssertNil(s.match(domain: "bad.org", nowMs: now), "a parent of an indicator is not a match")
        XCTAssertEqual(s.match(domain: "x.very.bad.org", nowMs: now)?.value, "very.bad.org")
    }

    func testExpiredIndicatorsDoNotMatch() {
        let s = set("e", [(.ipv4, "198.51.100.9", 50), (.domain, "old.example", 50)], expires: now - 1)
        XCTAssertNil(s.match(ip: IP.parse("198.51.100.9")!, nowMs: now))
        XCTAssertNil(s.match(domain: "old.example", nowMs: now))
        XCTAssertNotNil(s.match(domain: "old.example", nowMs: now - 10))
    }

    func testMatcherPicksTheMostConfidentMatchAndNamesTheField() {
        let low = set("low", [(.ipv4, "203.0.113.5", 30), (.domain, "evil.example", 30)])
        let high = set("high", [(.domain, "evil.example", 90), (.sha256, String(repeating: "ab", count: 32), 60),
                                (.url, "http://dl.example/x.exe", 70)])
        let m = ThreatMatcher(sets: [low, high])
        let hit = m.match(["source.ip": "203.0.113.5", "dns.question.name": "Cdn.Evil.Example."], nowMs: now)
        XCTAssertEqual(hit, ThreatMatch(type: .domain, value: "evil.example", feed: "high", confidence: 90, field: "dns.question.name"))
        XCTAssertEqual(m.match(["destination.ip": "203.0.113.5"], nowMs: now)?.field, "destination.ip")
        XCTAssertEqual(m.match(["process.hash.sha256": String(repeating: "AB", count: 32)], nowMs: now)?.feed, "high")
        XCTAssertEqual(m.match(["url.original": "HTTP://DL.example/x.exe"], nowMs: now)?.type, .url)
        XCTAssertEqual(m.match(["url.full": "https://a.evil.example/login?x=1"], nowMs: now)?.value, "evil.example",
                       "a URL's host is matched as a domain")
        XCTAssertNil(m.match(["source.ip": "not-an-ip", "user.name": "evil.example"], nowMs: now))
        XCTAssertEqual(m.lookup("www.evil.example", nowMs: now).map(\.feed), ["high", "low"])
    }

    func testNormalization() {
        XCTAssertEqual(IndicatorValue.url("HTTPS://User@Example.COM:8443?q=1#top"), "https://example.com:8443/?q=1")
        XCTAssertEqual(IndicatorValue.domain("*.Example.ORG."), "example.org")
        XCTAssertNil(IndicatorValue.domain("com"), "a top-level domain alone would match everything under it")
        XCTAssertNil(IndicatorValue.domain("1.2.3.4"))
        XCTAssertEqual(IP.parse("2001:0db8:0000::0001")?.text, "2001:db8::1")
        XCTAssertNil(IP.parse("256.1.1.1"))
        XCTAssertNil(IP.parse("1.2.3"))
        XCTAssertEqual(CIDR.parse("198.51.100.77/24")?.text, "198.51.100.0/24", "host bits are cleared")
        XCTAssertNil(CIDR.parse("198.51.100.0/33"))
    }
}

import XCTest
import VigilIntel
import VigilWire
@testable import EnrichmentService

final class ImportAndResolveTests: XCTestCase {
    func assets(_ text: String, format: String = "csv") -> Result<[AssetRecord], ImportProblem> {
        ImportRecords.read(Array(text.utf8), format: format, origin: "a.\(format)", list: "assets",
                           aliases: AssetStore.aliases, positional: AssetStore.positional)
            .flatMap { rows in
                var out: [AssetRecord] = []
                for r in rows {
                    switch AssetStore.asset(r, nowMs: 1) { case .success(let a): out.append(a); case .failure(let e): return .failure(e) }
                }
                return .success(out)
            }
    }

    func testTheOriginalAssetsCSVStillImportsAndExtraColumnsAreOptional() throws {
        let original = "id,name,hostname,ip,criticality\nasset-web01,Public web server,web01,10.0.0.10,high\n"
        XCTAssertEqual(try assets(original).get().map(\.id), ["asset-web01"])
        let headerless = "asset-db01,Customer database,db01,10.0.0.20,critical,AA-BB-CC-00-11-22,agent-7,db;pci,Debian 12,dba team\n"
        let a = try XCTUnwrap(try assets(headerless).get().first)
        XCTAssertEqual(a.mac, "aa:bb:cc:00:11:22")
        XCTAssertEqual(a.tags, ["db", "pci"])
        XCTAssertEqual(a.owner, "dba team")
        let extended = "id,hostname,ip,Agent ID,OS,tags\nx1,ws1,10.1.1.1,ag-1,Windows 11,\"laptop|vip\"\n"
        XCTAssertEqual(try assets(extended).get().first?.agentId, "ag-1")
        XCTAssertEqual(try assets(extended).get().first?.criticality, "medium", "criticality defaults to medium")
    }

    func testImportErrorsSayWhereAndWhatWasExpected() {
        XCTAssertEqual(assets("id,name,colour\nx,y,blue\n").error?.description.hasPrefix("a.csv:1: unknown column 'colour'; known: "), true)
        XCTAssertEqual(assets("id,criticality\nx,urgent\n").error?.description, "a.csv:2: criticality 'urgent'; expected low, medium, high or critical")
        XCTAssertEqual(assets(#"{"assets": [{"id": "x", "ip": "10.0.0.300"}]}"#, format: "json").error?.description,
                       "a.json[0]: ip '10.0.0.300' is not an IPv4 or IPv6 address")
        XCTAssertEqual(assets("[1,", format: "json").error?.description.contains("not valid JSON"), true)
    }

    func testEnricherResolvesAssetsUsersAndThreats() throws {
        let enricher = Enricher()
        var web = AssetRecord(); web.id = "a1"; web.name = "Web"; web.hostname = "web01.corp.example"; web.ip = "10.0.0.10"; web.criticality = "high"
        var laptop = AssetRecord(); laptop.id = "a2"; laptop.name = "Laptop"; laptop.agentId = "agent-9"; laptop.criticality = "low"
        enricher.assets = AssetIndex([web, laptop])
        var alice = DirectoryUser(); alice.id = "u1"; alice.samAccountName = "alice"; alice.upn = "alice@corp.example"
        alice.sid = "S-1-5-21-1-2-3-1104"; alice.displayName = "Alice"; alice.privileged = true
        enricher.users = UserIndex([alice])
        var p = ParsedFeed()
        p.add(.domain, "evil.example", confidence: 80)
        enricher.threats = ThreatMatcher(sets: [IndicatorSet(feed: "f", indicators: p.indicators)])

        func enrich(_ fields: [String: String]) -> [String: String] {
            var e = Event(); e.fields = fields
            enricher.enrich(&e, nowMs: 1)
            return e.enriched
        }
        XCTAssertEqual(enrich(["host.name": "WEB01"])["asset.id"], "a1", "short host name matches the FQDN's first label")
        XCTAssertEqual(enrich(["host.name": "web01.other"])["asset.id"], "a1")
        XCTAssertEqual(enrich(["agent.id": "agent-9"])["asset.id"], "a2")
        XCTAssertEqual(enrich(["destination.ip": "10.0.0.10"])["asset.criticality"], "high")
        XCTAssertNil(enrich(["source.ip": "10.0.0.10"])["asset.id"], "the source of a connection is not the event's asset")
        XCTAssertEqual(enrich(["user.id": "s-1-5-21-1-2-3-1104"])["user.id"], "u1")
        XCTAssertEqual(enrich(["user.name": "ALICE@corp.example"])["user.full_name"], "Alice")
        XCTAssertEqual(enrich(["user.name": "CORP\\alice"])["user.privileged"], "true")
        XCTAssertNil(enrich(["user.name": "mallory"])["user.id"])
        let t = enrich(["dns.question.name": "x.evil.example"])
        XCTAssertEqual(t["threat.indicator.matched"], "true")
        XCTAssertEqual(t["threat.indicator.field"], "dns.question.name")
        XCTAssertEqual(t["threat.indicator.confidence"], "80")
        XCTAssertEqual(enricher.counts.threats, 1)
    }

    func testUserImportRequiresSomethingToMatchBy() throws {
        let rows = try ImportRecords.read(Array("displayName,department\nNobody,IT\n".utf8), format: "csv", origin: "u.csv", list: "users",
                                          aliases: UserStore.aliases, positional: nil).get()
        XCTAssertEqual(UserStore.user(rows[0], nowMs: 1).error?.description, "u.csv:2: no id, sAMAccountName, UPN, e-mail or SID: nothing to match events by")
        let json = #"[{"userPrincipalName": "bob@corp.example", "memberOf": ["A", "B"], "privileged": false}]"#
        let u = try UserStore.user(try ImportRecords.read(Array(json.utf8), format: "json", origin: "u.json", list: "users",
                                                          aliases: UserStore.aliases, positional: nil).get()[0], nowMs: 1).get()
        XCTAssertEqual(u.id, "bob@corp.example")
        XCTAssertEqual(u.groups, ["A", "B"])
        XCTAssertFalse(u.privileged)
    }
}

extension Result {
    var error: Failure? { if case .failure(let e) = self { return e }; return nil }
}

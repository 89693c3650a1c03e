import XCTest
import VigilLDAP
import VigilLog
import VigilStore
import VigilWire
@testable import UserAnalyticsService

/// Directory sync against a real slapd started by the test (TestSlapd).
final class DirectorySyncTests: XCTestCase {
    var dir = ""
    var db: Database!
    var engine: UserAnalyticsEngine!
    var published: [DirectoryUser] = []

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "ua-sync-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        db = try Database(path: dir + "/ua.db")
        engine = try UserAnalyticsEngine(db: db)
        published = []
        engine.onDirectoryChange = { [unowned self] u in self.published.append(u) }
    }

    override func tearDown() {
        db?.close()
        try? FileManager.default.removeItem(atPath: dir)
    }

    static let fixture: String = {
        var entries: [String] = []
        entries.append(TestSlapd.user("alice", sam: "alice", department: "Finance", title: "Accountant", manager: "carol", rid: 1101))
        entries.append(TestSlapd.user("bob", sam: "bob", department: "IT", title: "Admin", groups: ["Domain Admins", "IT Staff"], rid: 1102))
        entries.append(TestSlapd.user("carol", sam: "carol", department: "Finance", title: "CFO", rid: 1103))
        entries.append(TestSlapd.user("dan", sam: "dan", department: "Sales", rid: 1104))
        // Bad data: no account name, and a second entry for alice's account.
        entries.append(TestSlapd.user("nobody", sam: nil, department: "Sales"))
        entries.append(TestSlapd.user("alice2", ou: "contractors", sam: "ALICE", department: "Contractors"))
        return entries.joined()
    }()

    func config(_ s: TestSlapd) -> DirectoryConfig {
        var c = DirectoryConfig()
        c.ldap = s.options()
        c.baseDN = s.baseDN
        c.pageSize = 2   // several pages for six entries: exercises the paged results cookie
        c.changedAttribute = "modifyTimestamp"
        return c
    }

    func users() throws -> [String: UserRow] {
        var m: [String: UserRow] = [:]
        for r in try db.query("SELECT \(Schema.userColumns) FROM users") { let u = UserRow(r); m[u.user.id] = u }
        return m
    }

    func testFullSyncMapsAttributesPagesAndReportsBadEntries() throws {
        let slapd = try TestSlapd(entries: Self.fixture)
        let r = DirectorySync(config: config(slapd)).run(.full, engine: engine, nowMs: Clock.nowMs(), lastSuccessMs: nil)
        XCTAssertTrue(r.ok, r.error)
        XCTAssertEqual(r.mode, "full")
        XCTAssertEqual(r.fetched, 6)
        XCTAssertGreaterThanOrEqual(r.pages, 3, "page size 2 over 6 entries")
        XCTAssertEqual(r.added, 4)
        XCTAssertEqual(r.rejected, 1)
        XCTAssertEqual(r.duplicates, 1)
        XCTAssertTrue(r.problems.contains { $0.contains("cn=nobody") && $0.contains("no sAMAccountName") && $0.contains("[missing_attribute]") }, "\(r.problems)")
        XCTAssertTrue(r.problems.contains { $0.contains("duplicate account 'ALICE'") }, "\(r.problems)")
        let u = try users()
        XCTAssertEqual(Set(u.keys), ["alice", "bob", "carol", "dan"])
        let alice = try XCTUnwrap(u["alice"])
        XCTAssertEqual(alice.user.upn, "alice@corp.test")
        XCTAssertEqual(alice.user.email, "alice@corp.test")
        XCTAssertEqual(alice.user.displayName, "Alice Example")
        XCTAssertEqual(alice.user.department, "Finance")
        XCTAssertEqual(alice.user.title, "Accountant")
        XCTAssertEqual(alice.user.manager, "carol")
        XCTAssertEqual(alice.user.sid, TestSlapd.sid(rid: 1101).text)
        XCTAssertEqual(alice.dn, "cn=alice,ou=people,dc=corp,dc=test", "the first entry for the account is kept")
        XCTAssertFalse(alice.user.privileged)
        let bob = try XCTUnwrap(u["bob"])
        XCTAssertTrue(bob.user.privileged, "member of Domain Admins")
        XCTAssertEqual(bob.user.groups, ["Domain Admins", "IT Staff"])
        XCTAssertEqual(bob.attributes["memberOf"], "cn=Domain Admins,ou=groups,dc=corp,dc=test; cn=IT Staff,ou=groups,dc=corp,dc=test")
        // Every added user went out on directory.changed, and resolves by every name.
        XCTAssertEqual(Set(published.map(\.id)), ["alice", "bob", "carol", "dan"])
        XCTAssertEqual(engine.resolve("CORP\\bob"), "bob")
        XCTAssertEqual(engine.resolve(TestSlapd.sid(rid: 1103).text), "carol")
        // A second full sync with nothing changed: all unchanged, nothing published.
        published = []
        let again = DirectorySync(config: config(slapd)).run(.full, engine: engine, nowMs: Clock.nowMs(), lastSuccessMs: r.startedTimeMs)
        XCTAssertTrue(again.ok, again.error)
        XCTAssertEqual(again.unchanged, 4)
        XCTAssertEqual(again.added + again.updated, 0)
        XCTAssertTrue(published.isEmpty)
    }

    func testChangedSinceSyncReadsOnlyChangedEntriesAndFullSyncKeepsRemovedUsers() throws {
        let slapd = try TestSlapd(entries: Self.fixture)
        let sync = DirectorySync(config: config(slapd))
        let full = sync.run(.full, engine: engine, nowMs: Clock.nowMs(), lastSuccessMs: nil)
        XCTAssertTrue(full.ok, full.error)
        try slapd.modify("""
        dn: cn=carol,ou=people,dc=corp,dc=test
        changetype: modify
        replace: title
        title: Chief Financial Officer
        -
        add: memberOf
        memberOf: cn=Enterprise Admins,ou=groups,dc=corp,dc=test

        """)
        published = []
        let changed = sync.run(.changed, engine: engine, nowMs: Clock.nowMs(), lastSuccessMs: full.startedTimeMs)
        XCTAssertTrue(changed.ok, changed.error)
        XCTAssertEqual(changed.mode, "changed")
        XCTAssertEqual(changed.fetched, 1, "only carol changed since the full sync (fixtures are stamped 2020)")
        XCTAssertEqual(changed.updated, 1)
        XCTAssertEqual(changed.missing, 0, "a changed-since sync never marks users missing")
        XCTAssertEqual(published.map(\.id), ["carol"])
        let carol = try XCTUnwrap(try users()["carol"])
        XCTAssertEqual(carol.user.title, "Chief Financial Officer")
        XCTAssertTrue(carol.user.privileged, "Enterprise Admins is a privileged group")
        // Without an earlier successful sync, "changed" falls back to a full sync.
        XCTAssertEqual(sync.run(.changed, engine: try UserAnalyticsEngine(db: db), nowMs: Clock.nowMs(), lastSuccessMs: nil).mode, "full")

        // dan leaves the directory: a full sync marks him, never deletes him.
        try slapd.modify("dn: cn=dan,ou=people,dc=corp,dc=test\nchangetype: delete\n\n")
        let after = sync.run(.full, engine: engine, nowMs: Clock.nowMs(), lastSuccessMs: changed.startedTimeMs)
        XCTAssertTrue(after.ok, after.error)
        XCTAssertEqual(after.missing, 1)
        let dan = try XCTUnwrap(try users()["dan"])
        XCTAssertFalse(dan.inDirectory)
        XCTAssertEqual(dan.user.department, "Sales")
    }

    func testUnreachableServerOrRefusedBindKeepsUsers() throws {
        let slapd = try TestSlapd(entries: Self.fixture)
        let first = DirectorySync(config: config(slapd)).run(.full, engine: engine, nowMs: Clock.nowMs(), lastSuccessMs: nil)
        XCTAssertTrue(first.ok, first.error)
        // Someone had signals: risk must survive failed syncs too.
        var s = Signal(); s.id = "sig-1"; s.ruleId = "r"; s.riskScore = 60; s.entity.user = "alice"; s.createdTimeMs = Clock.nowMs()
        try db.transaction { _ = try engine.ingest([s], nowMs: Clock.nowMs()) }
        let before = try users()

        var badPassword = config(slapd)
        badPassword.ldap.password = "wrong"
        let refused = DirectorySync(config: badPassword).run(.full, engine: engine, nowMs: Clock.nowMs(), lastSuccessMs: nil)
        XCTAssertFalse(refused.ok)
        XCTAssertTrue(refused.error.contains("ldap bind failed"), refused.error)

        slapd.stop()
        let down = DirectorySync(config: config(slapd)).run(.full, engine: engine, nowMs: Clock.nowMs(), lastSuccessMs: nil)
        XCTAssertFalse(down.ok)
        XCTAssertTrue(down.error.contains("ldap connect failed") || down.error.contains("Can't contact"), down.error)
        XCTAssertEqual(down.added + down.updated + down.missing, 0)

        let after = try users()
        XCTAssertEqual(Set(after.keys), Set(before.keys))
        XCTAssertTrue(after.values.allSatisfy { $0.inDirectory })
        XCTAssertGreaterThan(after["alice"]?.signals ?? 0, 0)
        XCTAssertGreaterThan(try engine.overview(limit: 5, fromMs: 0, toMs: Clock.nowMs() + 1, nowMs: Clock.nowMs()).users.first?.score ?? 0, 0)
    }

    func testStartTLS() throws {
        let slapd = try TestSlapd(entries: Self.fixture, tls: true)
        var o = slapd.options()
        o.startTLS = .required
        o.verifyCertificate = false
        let c = try LDAPConnection(o)
        XCTAssertTrue(c.tlsActive)
        XCTAssertEqual(try c.searchAll(base: slapd.baseDN, filter: "(cn=bob)", attributes: ["department"]).first?.string("department"), "IT")
        // Verifying against the CA file: the self-signed certificate is its own CA.
        o.verifyCertificate = true
        o.caFile = slapd.dir + "/cert.pem"
        XCTAssertTrue(try LDAPConnection(o).tlsActive)
    }

    func testStartTLSRequiredFailsWithoutTLSAndTryFallsBack() throws {
        let slapd = try TestSlapd(entries: Self.fixture)
        var o = slapd.options()
        o.startTLS = .required
        XCTAssertThrowsError(try LDAPConnection(o)) { e in
            XCTAssertEqual((e as? LDAPError)?.code, .startTLS, "\(e)")
        }
        o.startTLS = .try
        let c = try LDAPConnection(o)
        XCTAssertFalse(c.tlsActive)
        XCTAssertEqual(try c.searchAll(base: slapd.baseDN, filter: "(objectClass=user)", attributes: ["cn"]).count, 6)
    }

    func testImportCSVAndJSONReportsBadRows() throws {
        var r = try UserImport.run(ImportRequest(format: "csv", content: Array("""
        sAMAccountName,mail,department,privileged,sid
        erin,erin@corp.test,HR,no,S-1-5-21-1-2-3-500
        ,,,,
        frank,frank@corp.test,HR,maybe,
        erin,erin2@corp.test,HR,no,
        gina,gina@corp.test,HR,yes,not-a-sid
        """.utf8), origin: "people.csv"), engine: engine, nowMs: Clock.nowMs())
        XCTAssertEqual(r.imported, 1)
        XCTAssertEqual(r.rejected, 4)
        XCTAssertTrue(r.errors.contains { $0.hasPrefix("people.csv:3:") && $0.contains("nothing to match") }, "\(r.errors)")
        XCTAssertTrue(r.errors.contains { $0.hasPrefix("people.csv:4:") && $0.contains("privileged 'maybe'") }, "\(r.errors)")
        XCTAssertTrue(r.errors.contains { $0.contains("duplicate account 'erin'") }, "\(r.errors)")
        XCTAssertTrue(r.errors.contains { $0.hasPrefix("people.csv:6:") && $0.contains("not a Windows SID") }, "\(r.errors)")
        r = try UserImport.run(ImportRequest(format: "json", content: Array(#"{"users": [{"sAMAccountName": "hank", "department": "Legal", "groups": ["a", "b"], "privileged": true}, 5]}"#.utf8), origin: "u.json"),
                               engine: engine, nowMs: Clock.nowMs())
        XCTAssertEqual(r.imported, 1)
        XCTAssertEqual(r.rejected, 1)
        let hank = try XCTUnwrap(try users()["hank"])
        XCTAssertTrue(hank.user.privileged)
        XCTAssertEqual(hank.user.groups, ["a", "b"])
        r = try UserImport.run(ImportRequest(format: "json", content: Array("[oops".utf8), origin: "bad.json"), engine: engine, nowMs: Clock.nowMs())
        XCTAssertEqual(r.imported, 0)
        XCTAssertEqual(r.errors, ["bad.json: not valid JSON [bad_file]"])
        XCTAssertEqual(Set(try users().keys), ["erin", "hank"], "a refused file changes nothing")
    }
}

import XCTest
import Foundation
import VigilRules
import VigilStore
import VigilWire
@testable import ConfigService

/// The registry against a real SQLite file, with changes captured instead of published.
final class RegistryTests: XCTestCase {
    var path = ""
    var db: Database!
    var registry: Registry!
    var changes: [ConfigChange] = []

    override func setUpWithError() throws {
        path = NSTemporaryDirectory() + "config-\(UUID().uuidString).db"
        db = try Database(path: path)
        changes = []
        registry = Registry(store: try ConfigStore(db: db), now: { 1_000_000 }) { [unowned self] c in
            var c = c
            c.sequence = UInt64(self.changes.count + 1)
            self.changes.append(c)
            return c.sequence
        }
    }

    override func tearDown() {
        db?.close()
        try? FileManager.default.removeItem(atPath: path)
    }

    func failure(_ body: () throws -> Any) -> ConfigFailure? {
        do { _ = try body(); return nil } catch { return error as? ConfigFailure }
    }

    func testCreateAssignsIdsAuditsAndPublishes() throws {
        let a = try registry.create(.specialObject, json: #"{"name": "blocklist", "type": "ips", "members": ["10.0.0.1"]}"#, actor: "ann")
        XCTAssertEqual(a.id, "blocklist")
        XCTAssertEqual(a.createdBy, "ann")
        XCTAssertEqual(a.sequence, 1)
        let b = try registry.create(.userList, json: #"{"name": "Block List", "members": []}"#, actor: "ann")
        XCTAssertEqual(b.id, "block-list")
        let c = try registry.create(.userList, json: #"{"name": "block list", "members": []}"#, actor: "ann")
        XCTAssertEqual(c.id, "block-list-2")
        XCTAssertEqual(changes.map(\.action), ["created", "created", "created"])
        XCTAssertEqual(failure { try self.registry.create(.userList, json: #"{"id": "block-list", "name": "x", "members": []}"#, actor: "ann") }?.code, .conflict)
        XCTAssertEqual(failure { try self.registry.create(.specialObject, json: #"{"name": "blocklist", "type": "strings", "members": []}"#, actor: "ann") }?.problems,
                       [FieldProblem("name", "special object 'blocklist' is already named 'blocklist'")])
        XCTAssertEqual(changes.count, 3, "refused changes publish nothing")
        XCTAssertEqual(try registry.store.auditEntries(kind: "", id: "", limit: 10).count, 3)
    }

    func testReferencesAreCheckedAndProtectDeletes() throws {
        _ = try registry.create(.specialObject, json: #"{"name": "tor", "type": "ips", "members": []}"#, actor: "a")
        XCTAssertEqual(failure { try self.registry.create(.agentProfile, json: #"{"name": "p", "logs": ["x"], "assets": ["y"], "filter": "source.ip: @tour"}"#, actor: "a") }?.problems,
                       [FieldProblem("filter", "no special object named 'tour' (used as @tour)")])
        _ = try registry.create(.responseTemplate, json: #"{"id": "t1", "name": "Mail", "channel": "email", "body": "hi", "references": [{"kind": "special_object", "id": "tor"}]}"#, actor: "a")
        _ = try registry.create(.agentProfile, json: #"{"id": "p1", "name": "p", "logs": ["x"], "assets": ["y"], "filter": "source.ip: @tor"}"#, actor: "a")
        let refused = failure { try self.registry.delete(.specialObject, id: "tor", confirm: true, actor: "a") }
        XCTAssertEqual(refused?.code, .referenced)
        XCTAssertEqual(refused?.message, "special_object 'tor' is used by: agent_profile/p1 (field filter), response_template/t1 (field references[0])")
        XCTAssertEqual(failure { try self.registry.update(.specialObject, id: "tor", json: #"{"name": "tor2", "type": "ips", "members": []}"#, actor: "a") }?.code, .referenced)
        _ = try registry.delete(.agentProfile, id: "p1", confirm: false, actor: "a")
        _ = try registry.delete(.responseTemplate, id: "t1", confirm: false, actor: "a")
        _ = try registry.delete(.specialObject, id: "tor", confirm: false, actor: "a")
        XCTAssertEqual(changes.last?.action, "deleted")
        XCTAssertEqual(changes.last?.objectJSON, "")
    }

    func testCollectorDeleteNeedsConfirmAndTakesItsSources() throws {
        _ = try registry.create(.appliance, json: #"{"id": "ap", "name": "ap", "hostname": "ap", "ip": "10.0.0.1"}"#, actor: "a")
        _ = try registry.create(.collector, json: #"{"id": "c", "name": "c", "type": "syslog", "appliance": "ap"}"#, actor: "a")
        _ = try registry.create(.sourceType, json: #"{"id": "t", "name": "t", "format": "syslog", "vendor": "v", "product": "p", "collector_type": "syslog"}"#, actor: "a")
        _ = try registry.create(.eventSource, json: #"{"id": "s", "name": "s", "type": "t", "collector": "c"}"#, actor: "a")
        XCTAssertEqual(failure { try self.registry.delete(.collector, id: "c", confirm: false, actor: "a") }?.code, .confirmationRequired)
        XCTAssertNotNil(try registry.store.get(.eventSource, "s"))
        _ = try registry.delete(.collector, id: "c", confirm: true, actor: "a")
        XCTAssertNil(try registry.store.get(.eventSource, "s"))
        XCTAssertEqual(changes.suffix(2).map { "\($0.action) \($0.kind)/\($0.id)" }, ["deleted event_source/s", "deleted collector/c"])
    }

    func testImportIsAllOrNothing() throws {
        _ = try registry.create(.specialObject, json: #"{"name": "keep", "type": "strings", "members": ["a"]}"#, actor: "a")
        let bad = #"{"version": 1, "objects": {"user_list": [{"id": "u1", "name": "u", "members": []}], "collector": [{"id": "c", "name": "c", "type": "syslog", "appliance": "missing"}]}}"#
        let f = failure { try self.registry.importAll(bad, actor: "b") }
        XCTAssertEqual(f?.problems, [FieldProblem("objects.collector.c.appliance", "no appliance with id 'missing'")])
        XCTAssertNil(try registry.store.get(.userList, "u1"))
        let exported = JSONWriter.write(try registry.exportAll())
        _ = try registry.delete(.specialObject, id: "keep", confirm: false, actor: "a")
        let r = try registry.importAll(exported, actor: "b")
        XCTAssertEqual(r.created, 1)
        XCTAssertEqual(try registry.store.get(.specialObject, "keep")?.members, ["a"])
        XCTAssertEqual(try registry.importAll(exported, actor: "b").unchanged, 1)
    }

    struct Down: Error {}

    func testRulesUsingASpecialObjectBlockItsDeleteAndUnknownNeedsConfirm() throws {
        _ = try registry.create(.specialObject, json: #"{"name": "tor", "type": "ips", "members": []}"#, actor: "a")
        registry.ruleReferrers = { name in name == "tor" ? ["rule/r1 'Tor logins' (condition)"] : [] }
        XCTAssertEqual(failure { try self.registry.delete(.specialObject, id: "tor", confirm: true, actor: "a") }?.message,
                       "special_object 'tor' is used by: rule/r1 'Tor logins' (condition)")
        registry.ruleReferrers = { _ in throw Down() }
        XCTAssertEqual(failure { try self.registry.delete(.specialObject, id: "tor", confirm: false, actor: "a") }?.code, .unverified)
        XCTAssertNotNil(try registry.store.get(.specialObject, "tor"))
        _ = try registry.delete(.specialObject, id: "tor", confirm: true, actor: "a")
        XCTAssertNil(try registry.store.get(.specialObject, "tor"))
    }
}

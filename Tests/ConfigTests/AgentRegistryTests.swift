import XCTest
import Foundation
import VigilRules
import VigilStore
import VigilWire
@testable import ConfigService

/// The agent registry against a real SQLite file: tokens, secrets, activation changes, and
/// which profiles select an agent and how they merge.
final class AgentRegistryTests: XCTestCase {
    var path = ""
    var db: Database!
    var registry: Registry!
    var agents: AgentRegistry!
    var changes: [ConfigChange] = []

    override func setUpWithError() throws {
        path = NSTemporaryDirectory() + "agents-\(UUID().uuidString).db"
        db = try Database(path: path)
        changes = []
        let publish: (ConfigChange) throws -> UInt64 = { [unowned self] c in
            var c = c
            c.sequence = UInt64(self.changes.count + 1)
            self.changes.append(c)
            return c.sequence
        }
        let store = try ConfigStore(db: db)
        registry = Registry(store: store, now: { 1_000_000 }, publish: publish)
        agents = try AgentRegistry(store: store, tokens: ["alpha", "beta-token"], now: { 1_000_000 }, publish: publish)
    }

    override func tearDown() {
        db?.close()
        try? FileManager.default.removeItem(atPath: path)
    }

    func json(_ v: JSONValue) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(JSONWriter.write(v, pretty: false).utf8))) as? [String: Any] ?? [:]
    }

    func testTokensAndSecrets() throws {
        XCTAssertTrue(agents.tokenAccepted("alpha"))
        XCTAssertTrue(agents.tokenAccepted("beta-token"))
        for bad in ["", "alph", "alphaa", "beta-toke", "ALPHA"] { XCTAssertFalse(agents.tokenAccepted(bad), bad) }
        XCTAssertThrowsError(try agents.enroll(#"{"token": "nope", "hostname": "h"}"#, actor: "a")) {
            XCTAssertEqual("\($0)", "unauthenticated: enrollment token not accepted")
        }
        XCTAssertThrowsError(try agents.enroll(#"{"token": "alpha"}"#, actor: "a")) { XCTAssertEqual("\($0)", "invalid: hostname: required") }
        let r = json(try agents.enroll(#"{"token": "alpha", "hostname": "web01", "tags": ["prod"]}"#, actor: "agent"))
        let id = try XCTUnwrap(r["agent_id"] as? String), secret = try XCTUnwrap(r["secret"] as? String)
        XCTAssertEqual(r["status"] as? String, "pending")
        XCTAssertEqual(secret.count, 64)
        XCTAssertEqual(changes.last?.kind, "agent")
        XCTAssertEqual(changes.last?.action, "enrolled")
        XCTAssertFalse(changes.last!.objectJSON.contains(secret), "the secret is never published")
        XCTAssertThrowsError(try agents.heartbeat(#"{"agent_id": "\#(id)", "secret": "x"}"#)) {
            XCTAssertTrue("\($0)".contains("wrong secret"), "\($0)")
        }
        let hb = json(try agents.heartbeat(#"{"agent_id": "\#(id)", "secret": "\#(secret)", "spool_events": 7, "version": "9"}"#))
        XCTAssertEqual(hb["status"] as? String, "pending")
        let a = json(try agents.present(try XCTUnwrap(agents.agent(id))))
        XCTAssertEqual(a["spool_events"] as? Int, 7)
        XCTAssertEqual(a["version"] as? String, "9")
        XCTAssertNil(a["secret"])
        XCTAssertEqual(json(try agents.setStatus(id, active: true, actor: "admin"))["status"] as? String, "active")
        XCTAssertEqual(changes.last?.action, "activated")
        XCTAssertThrowsError(try agents.setStatus("missing", active: true, actor: "admin"))
    }

    func testProfilesSelectByHostGlobIdIpOrTagAndMerge() throws {
        let r = json(try agents.enroll(#"{"token": "alpha", "hostname": "Web01.corp", "tags": ["prod"], "inventory": {"ips": ["10.0.0.5"]}}"#, actor: "a"))
        let id = r["agent_id"] as! String
        _ = try registry.create(.agentProfile, json: #"{"id": "glob", "name": "g", "logs": ["/a.log"], "assets": ["web*"], "rate_limit": 500}"#, actor: "x")
        _ = try registry.create(.agentProfile, json: #"{"id": "ip", "name": "i", "logs": ["/a.log", "/b.log"], "assets": ["10.0.0.5"], "journal": ["sshd.service"]}"#, actor: "x")
        _ = try registry.create(.agentProfile, json: #"{"id": "tag", "name": "t", "logs": ["/c.log"], "assets": ["none"], "tags": ["prod"], "rate_limit": 200}"#, actor: "x")
        _ = try registry.create(.agentProfile, json: #"{"id": "other", "name": "o", "logs": ["/d.log"], "assets": ["db*", "\#(id)x"]}"#, actor: "x")
        let a = try XCTUnwrap(agents.agent(id))
        let p = json(try agents.effectiveProfile(a))
        XCTAssertEqual(p["profiles"] as? [String], ["glob", "ip", "tag"])
        XCTAssertEqual(p["logs"] as? [String], ["/a.log", "/b.log", "/c.log"])
        XCTAssertEqual(p["journal"] as? [String], ["sshd.service"])
        XCTAssertEqual(p["rate_limit"] as? Int, 200)
        let hash = try XCTUnwrap(p["hash"] as? String)
        _ = try registry.create(.agentProfile, json: #"{"id": "byid", "name": "b", "logs": ["/e.log"], "assets": ["\#(id)"]}"#, actor: "x")
        let p2 = json(try agents.effectiveProfile(a))
        XCTAssertEqual((p2["profiles"] as? [String])?.contains("byid"), true)
        XCTAssertNotEqual(p2["hash"] as? String, hash, "the hash follows the merged profile")
        XCTAssertThrowsError(try registry.create(.agentProfile, json: #"{"name": "bad", "logs": ["/x"], "assets": ["*"], "rate_limit": -1}"#, actor: "x")) {
            XCTAssertTrue("\($0)".contains("rate_limit: must be a whole number ≥ 0"), "\($0)")
        }
    }
}

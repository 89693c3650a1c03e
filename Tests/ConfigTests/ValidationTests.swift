import XCTest
import VigilRules
@testable import ConfigService

final class ValidationTests: XCTestCase {
    func check(_ kind: ConfigKind, _ json: String) throws -> Result<Validator.Checked, ConfigFailure> {
        Validator.check(kind, try JSONReader.parse(json))
    }

    func problems(_ kind: ConfigKind, _ json: String) throws -> [String] {
        guard case .failure(let e) = try check(kind, json) else { return [] }
        return e.problems.map(\.description)
    }

    func testSpecialObjectMembersAreCheckedByType() throws {
        XCTAssertEqual(try problems(.specialObject, #"{"name": "bl", "type": "ips", "members": ["10.0.0.1", "10.0.0.0/8", "::1", "10.0.0.300", "10.0.0.0/40"]}"#),
                       ["members[3]: '10.0.0.300' is not an IP address or CIDR block", "members[4]: '10.0.0.0/40' is not a CIDR block (e.g. 10.0.0.0/8)"])
        XCTAssertEqual(try problems(.specialObject, #"{"name": "d", "type": "domains", "members": ["example.com", "*.evil.org", "nodot", "bad_domain.com"]}"#),
                       ["members[2]: 'nodot' is not a domain name (e.g. example.com or *.example.com)",
                        "members[3]: 'bad_domain.com' is not a domain name (e.g. example.com or *.example.com)"])
        XCTAssertEqual(try problems(.specialObject, #"{"name": "h", "type": "hashes", "members": ["d41d8cd98f00b204e9800998ecf8427e", "xyz", "D41D8CD98F00B204E9800998ECF8427E"]}"#),
                       ["members[1]: 'xyz' is not an MD5, SHA-1, SHA-256 or SHA-512 hex digest",
                        "members[2]: 'D41D8CD98F00B204E9800998ECF8427E' is listed twice"])
        XCTAssertEqual(try problems(.specialObject, #"{"name": "1bad", "type": "colours", "members": [1]}"#),
                       ["name: a special object's name is how rules use it (@name): letters, digits and '_', not starting with a digit",
                        "type: must be one of: ips, domains, hashes, users, strings", "members: entry 0 must be a string, not a number"])
    }

    func testUnknownMissingAndWrongFieldsAreAllReported() throws {
        XCTAssertEqual(try problems(.intelFeed, #"{"name": "f", "format": "xml", "location": "ftp://x", "schedule": "10s", "extra": true}"#), [
            "extra: unknown field; a intel_feed takes: id, name, description, references, format, location, schedule, enabled",
            "format: must be one of: stix2.1, misp, csv, plain",
            "location: must be an http(s) URL or an absolute file path",
            "schedule: must be 'manual' or an interval such as 30m, 1h, 1d (at least 1m)",
        ])
        XCTAssertEqual(try problems(.responseTemplate, #"{"id": "a b", "channel": "email", "body": "  "}"#),
                       ["id: must be 1–64 characters of a-z, A-Z, 0-9, '.', '_' or '-'", "name: required", "body: must be a non-empty string"])
        XCTAssertEqual(try problems(.agentProfile, #"{"name": "p", "logs": [], "assets": ["a"], "references": [{"kind": "nope", "id": "x"}]}"#),
                       ["logs: must list at least one value", "references[0].kind: must be one of: \(ConfigKind.names)"])
        XCTAssertEqual(try problems(.intelFeed, #"{"name": "f", "format": "csv", "location": "https://x/feed.csv", "schedule": "1h", "created_by": "x"}"#), [])
    }

    func testBodyKeepsDeclaredOrderAndDropsMetadata() throws {
        guard case .success(let c) = try check(.userList, #"{"modified_by": "x", "members": ["a"], "name": "admins", "id": "adm"}"#) else {
            return XCTFail("refused")
        }
        XCTAssertEqual(c.id, "adm")
        XCTAssertEqual(JSONWriter.write(c.body, pretty: false), #"{"id":"adm","name":"admins","members":["a"]}"#)
    }

    func testSpecialNamesInText() {
        XCTAssertEqual(References.specialNames(in: "source.ip: @blocklist or user.name: @vip_users and x: a@b"), ["blocklist", "vip_users", "b"])
        XCTAssertEqual(Validator.slug("VIP Users (EMEA)"), "vip-users-emea")
        XCTAssertEqual(Validator.scheduleSeconds("2h"), 7200)
        XCTAssertNil(Validator.scheduleSeconds("30s"))
    }
}

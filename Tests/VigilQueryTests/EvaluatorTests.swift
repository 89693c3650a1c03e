import XCTest
@testable import VigilQuery

/// A provider whose lists change between evaluations, like config reloads.
final class MutableSpecialObjects: SpecialObjectProvider, @unchecked Sendable {
    private let lock = NSLock()
    private var lists: [String: [String]]
    init(_ lists: [String: [String]]) { self.lists = lists }
    func set(_ name: String, _ values: [String]) { lock.lock(); lists[name] = values; lock.unlock() }
    func values(named name: String) -> [String]? { lock.lock(); defer { lock.unlock() }; return lists[name] }
}

final class EvaluatorTests: XCTestCase {
    let catalog = StandardCatalogs.events

    private func event(_ fields: [String: String], time: Int64? = baseMillis, raw: String = "") -> RowRecord {
        EventFixture(id: "x", time: time, raw: raw, fields: fields, enriched: [:]).record
    }

    private func matches(_ text: String, _ record: RowRecord, now: Int64 = testNow) throws -> Bool {
        try QueryEvaluator(text, catalog: catalog).matches(record, context: QueryContext(nowMillis: now, specialObjects: testSpecialObjects))
    }

    func testTextOperators() throws {
        let r = event(["user.name": "Administrator", "host.name": "dc01.corp.local", "process.command_line": "powershell -enc JAB..."])
        XCTAssertTrue(try matches("user.name: admin", r), "contains, case-insensitive")
        XCTAssertFalse(try matches("user.name: `admin`", r), "exact")
        XCTAssertTrue(try matches("host.name: `dc01.corp.local`", r))
        XCTAssertFalse(try matches("host.name: `DC01.corp.local`", r), "exact is case-sensitive")
        XCTAssertTrue(try matches("process.command_line: \"-ENC jab\"", r))
        XCTAssertFalse(try matches("process.command_line: \"jab -enc\"", r), "phrase keeps word order")
        XCTAssertTrue(try matches("host.name: dc??.corp.*", r))
        XCTAssertFalse(try matches("host.name: corp*", r), "wildcards match the whole value")
        XCTAssertTrue(try matches("host.name: *corp*", r))
    }

    func testKeywordMeansWholeValueIgnoringCase() throws {
        let r = event(["event.category": "Authentication"])
        XCTAssertTrue(try matches("event.category: authentication", r))
        XCTAssertFalse(try matches("event.category: auth", r))
        XCTAssertTrue(try matches("event.category: [network, AUTHENTICATION]", r))
    }

    func testNumbersTimesAndRanges() throws {
        let r = event(["destination.port": "443"], time: baseMillis + 86_400_000 + 5)
        XCTAssertTrue(try matches("destination.port: [1 .. 1024]", r))
        XCTAssertFalse(try matches("destination.port: (443 .. 1024)", r), "exclusive")
        XCTAssertTrue(try matches("destination.port >= 443 and destination.port < 444.5", r))
        XCTAssertTrue(try matches("@timestamp: 2026-03-02", r), "a bare date covers its day")
        XCTAssertFalse(try matches("@timestamp: 2026-03-01", r))
        XCTAssertTrue(try matches("@timestamp > 2026-03-01", r), "after the whole day")
        XCTAssertTrue(try matches("@timestamp <= 2026-03-02", r))
        XCTAssertTrue(try matches("@timestamp: [2026-03-01 .. 2026-03-02]", r), "inclusive end day")
        XCTAssertFalse(try matches("@timestamp: [2026-03-01 .. 2026-03-02T00:00:00Z]", r))
        XCTAssertTrue(try matches("event.time >= 2026-03-02T00:00:00.005Z", r))
    }

    func testRelativeTimesSlideWithNow() throws {
        let r = event([:], time: baseMillis)
        let evaluator = try QueryEvaluator("@timestamp >= now-24h", catalog: catalog)
        XCTAssertTrue(try evaluator.matches(r, context: QueryContext(nowMillis: baseMillis + 3_600_000)))
        XCTAssertFalse(try evaluator.matches(r, context: QueryContext(nowMillis: baseMillis + 2 * 86_400_000)), "same prepared condition, later now")
    }

    func testIPs() throws {
        let r = event(["source.ip": "192.168.4.20", "destination.ip": "2001:db8::17"])
        XCTAssertTrue(try matches("source.ip: 192.168.0.0/16", r))
        XCTAssertFalse(try matches("source.ip: 192.168.5.0/24", r))
        XCTAssertTrue(try matches("source.ip: [192.168.4.2 .. 192.168.4.100]", r), "numeric, not text, order")
        XCTAssertTrue(try matches("destination.ip: 2001:db8::/32", r))
        XCTAssertTrue(try matches("destination.ip: 2001:0db8:0:0::17", r), "equal addresses in another spelling")
        XCTAssertTrue(try matches("source.ip: 192.168.*", r))
    }

    func testFreeTextSearchesRawAndFields() throws {
        let r = event(["user.name": "svc_backup"], raw: "Accepted password for root")
        XCTAssertTrue(try matches("accepted", r))
        XCTAssertTrue(try matches("svc_backup", r), "field values are part of the text")
        XCTAssertTrue(try matches("\"password for\"", r))
        XCTAssertFalse(try matches("`accepted`", r), "backticks are case-sensitive")
        XCTAssertTrue(try matches("acc*word", r))
        XCTAssertFalse(try matches("denied", r))
    }

    func testSpecialObjectChangesTakeEffectOnNextEvaluation() throws {
        let provider = MutableSpecialObjects(["tor_exit_nodes": ["1.2.3.4"]])
        let evaluator = try QueryEvaluator("source.ip: @tor_exit_nodes", catalog: catalog)
        let r = event(["source.ip": "5.6.7.8"])
        let context = QueryContext(nowMillis: 0, specialObjects: provider)
        XCTAssertFalse(try evaluator.matches(r, context: context))
        provider.set("tor_exit_nodes", ["1.2.3.4", "5.6.7.0/24"])
        XCTAssertTrue(try evaluator.matches(r, context: context))
        provider.set("tor_exit_nodes", [])
        XCTAssertFalse(try evaluator.matches(r, context: context))
        XCTAssertThrowsError(try QueryEvaluator("source.ip: @missing", catalog: catalog).matches(r, context: context)) { error in
            XCTAssertEqual((error as? QueryError)?.code, .unknownSpecialObject)
            XCTAssertTrue((error as? QueryError)?.rendered.contains("^") ?? false)
        }
        let users = try QueryEvaluator("user.name: @admins", catalog: catalog)
        XCTAssertTrue(try users.matches(event(["user.name": "Administrator"]), context: QueryContext(nowMillis: 0, specialObjects: testSpecialObjects)))
        XCTAssertFalse(try users.matches(event(["user.name": "admin2"]), context: QueryContext(nowMillis: 0, specialObjects: testSpecialObjects)))
    }

    func testEmptyQueryMatchesEverything() throws {
        XCTAssertTrue(try matches("", event([:])))
    }
}

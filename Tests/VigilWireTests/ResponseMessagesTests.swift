import XCTest
@testable import VigilWire

final class ResponseMessagesTests: XCTestCase {
    func testSignalCarriesResponseTemplateIds() throws {
        var s = Signal()
        s.id = "s1"
        s.responseTemplateIds = ["soc-mail", "pager"]
        XCTAssertEqual(try Signal(decoding: s.encoded()).responseTemplateIds, ["soc-mail", "pager"])
        // A signal without templates encodes as before (field 15 absent).
        var old = s
        old.responseTemplateIds = []
        XCTAssertEqual(try Signal(decoding: old.encoded()), old)
    }

    func testResponseMessagesRoundTrip() throws {
        var r = Response()
        r.id = "s1/hook"; r.signalId = "s1"; r.templateId = "hook"; r.templateName = "Hook"; r.channel = "webhook"
        r.destination = "http://x/y"; r.status = .dead; r.attempts = 8; r.lastError = "status: HTTP 500"
        r.createdTimeMs = 1; r.updatedTimeMs = 2; r.nextAttemptTimeMs = 3; r.ruleId = "rule"
        XCTAssertEqual(try Response(decoding: r.encoded()), r)
        XCTAssertEqual(try ResponseList(decoding: ResponseList(responses: [r, r]).encoded()).responses, [r, r])
        var t = TemplateStats()
        t.templateId = "hook"; t.channel = "webhook"; t.pending = 1; t.delivered = 2; t.dead = 3; t.attempts = 9; t.lastDeliveredTimeMs = 7
        XCTAssertEqual(try ResponseStatsList(decoding: ResponseStatsList(templates: [t]).encoded()).templates, [t])
        XCTAssertEqual(try TemplateRequest(decoding: TemplateRequest(id: "a", templateJson: "{}").encoded()), TemplateRequest(id: "a", templateJson: "{}"))
        XCTAssertEqual(try ResponseRequest(decoding: ResponseRequest(signalId: "s", responseId: "r").encoded()), ResponseRequest(signalId: "s", responseId: "r"))
        XCTAssertEqual(try TemplateDocument(decoding: TemplateDocument(json: "{\"a\":1}").encoded()).json, "{\"a\":1}")
        XCTAssertThrowsError(try Response(decoding: [0xff, 0xff, 0xff]))
    }
}

import Foundation
import XCTest
@testable import ResponseService
import VigilWire

final class TemplateTests: XCTestCase {
    func signal() -> Signal {
        var s = TemplateText.sampleSignal()
        s.id = "sig-1"
        s.ruleName = "Evil \"rule\" <b>&\r\nBcc: victim@example.com"
        s.entity.user = "bob\"}\n"
        return s
    }

    func testUnknownPlaceholderIsRefusedWithPosition() {
        let r = TemplateCodec.decode(#"{"id":"t1","channel":"email","destination":"soc@example.com","body":"hello\n  {{rule.nmae}} x"}"#)
        guard case .failure(let e) = r else { return XCTFail("accepted") }
        XCTAssertEqual(e.first?.code, .unknownPlaceholder)
        XCTAssertTrue(e.first?.description.contains("line 2, column 3") ?? false, e.first?.description ?? "")
        // CRLF templates count lines the same way.
        guard case .failure(let c) = TemplateCodec.decode(#"{"id":"t1","channel":"email","destination":"soc@example.com","body":"a\r\nb\r\n {{x}}"}"#) else { return XCTFail("accepted") }
        XCTAssertTrue(c.first?.description.contains("line 3, column 2") ?? false, c.first?.description ?? "")
    }

    func testBadChannelURLAndAddressAreRefused() {
        for (json, code) in [
            (#"{"id":"t","channel":"fax","destination":"x"}"#, TemplateError.Code.badChannel),
            (#"{"id":"t","channel":"slack","destination":"ftp://x/y"}"#, .badURL),
            (#"{"id":"t","channel":"webhook","destination":"not a url"}"#, .badURL),
            (#"{"id":"t","channel":"email","destination":"a@b.com\r\nBcc: c@d.com"}"#, .badAddress),
            (#"{"id":"t","channel":"email","destination":"nobody"}"#, .badAddress),
            (#"{"id":"t","channel":"pagerduty","destination":"key with spaces"}"#, .badAddress),
            (#"{"id":"t","channel":"email","destination":"a@b.com","subject":"{{rule.name"}"#, .unclosedPlaceholder),
            (#"{"channel":"email","destination":"a@b.com"}"#, .missingField),
        ] {
            guard case .failure(let p) = TemplateCodec.decode(json) else { XCTFail("accepted \(json)"); continue }; let e = p.all
            XCTAssertTrue(e.contains { $0.code == code }, "\(json): \(e)")
        }
    }

    func testMailHeadersCannotBeInjected() {
        let t = Template(id: "m", channel: .email, destination: "soc@example.com", subject: "[{{signal.criticality}}] {{rule.name}}", body: "user {{entity.user}}")
        let m = Payloads.render(t, signal(), responseId: "sig-1/m", options: PayloadOptions(), nowMs: 0)
        let text = String(decoding: m.body, as: UTF8.self)
        let headers = text.components(separatedBy: "\r\n\r\n")[0]
        XCTAssertFalse(headers.contains("\r\nBcc:"), headers)
        XCTAssertTrue(headers.contains("Subject: [medium] Evil \"rule\" <b>&  Bcc: victim@example.com"), headers)
        XCTAssertEqual(m.target, "soc@example.com")
    }

    func testNonASCIISubjectIsEncoded() {
        let t = Template(id: "m", channel: .email, destination: "soc@example.com", subject: "Ärger: {{rule.name}}")
        var s = signal(); s.ruleName = "x"
        let text = String(decoding: Payloads.render(t, s, responseId: "r", options: PayloadOptions(), nowMs: 0).body, as: UTF8.self)
        XCTAssertTrue(text.contains("Subject: =?UTF-8?B?" + Data("Ärger: x".utf8).base64EncodedString() + "?="), text)
    }

    func testSlackAndWebhookPayloadsAreValidJSONWithValuesEscaped() throws {
        let slack = Template(id: "s", channel: .slack, destination: "https://hooks.example/x", body: "{{rule.name}} by {{entity.user}}")
        let m = Payloads.render(slack, signal(), responseId: "r", options: PayloadOptions(), nowMs: 0)
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(m.body)) as? [String: Any])
        XCTAssertEqual(o["text"] as? String, "Evil \"rule\" &lt;b&gt;&amp;\r\nBcc: victim@example.com by bob\"}\n")
        let hook = Template(id: "w", channel: .webhook, destination: "http://127.0.0.1/x", body: "{{entity.user}}", secret: "k")
        let w = Payloads.render(hook, signal(), responseId: "sig-1/w", options: PayloadOptions(), nowMs: 0)
        let wo = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(w.body)) as? [String: Any])
        XCTAssertEqual(wo["text"] as? String, "bob\"}\n")
        XCTAssertEqual((wo["signal"] as? [String: Any])?["id"] as? String, "sig-1")
        XCTAssertEqual(w.headers["Idempotency-Key"], "sig-1/w")
        XCTAssertEqual(w.headers["X-Vigil-Signature"], "sha256=" + HMAC.sha256Hex(key: Array("k".utf8), message: w.body))
    }

    func testPagerDutyUsesGroupKeyAsDedupKey() throws {
        var s = signal(); s.groupKey = "root@192.0.2.1"; s.ruleId = "r1"; s.criticality = .critical
        var opts = PayloadOptions(); opts.pagerDutyURL = "http://127.0.0.1:9/pd"
        let m = Payloads.render(Template(id: "p", channel: .pagerduty, destination: "abc123"), s, responseId: "x", options: opts, nowMs: 0)
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(m.body)) as? [String: Any])
        XCTAssertEqual(m.target, "http://127.0.0.1:9/pd")
        XCTAssertEqual(o["dedup_key"] as? String, "r1:root@192.0.2.1")
        XCTAssertEqual(o["event_action"] as? String, "trigger")
        XCTAssertEqual((o["payload"] as? [String: Any])?["severity"] as? String, "critical")
    }

    func testHMACSHA256MatchesRFC4231() {
        // RFC 4231 test case 2.
        XCTAssertEqual(HMAC.sha256Hex(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8)),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // Key longer than the block size (test case 6).
        XCTAssertEqual(HMAC.sha256Hex(key: [UInt8](repeating: 0xaa, count: 131), message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)),
                       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        XCTAssertEqual(HMAC.sha256([]).map { String(format: "%02x", $0) }.joined(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    func testBackoffDoublesWithJitterAndCaps() {
        var p = DeliveryPolicy(); p.baseDelayMs = 100; p.maxDelayMs = 1000
        XCTAssertEqual(p.delayMs(afterAttempt: 1, random: 0), 50)
        XCTAssertEqual(p.delayMs(afterAttempt: 1, random: 0.999), 99)
        XCTAssertEqual(p.delayMs(afterAttempt: 3, random: 0), 200)
        XCTAssertEqual(p.delayMs(afterAttempt: 10, random: 0), 500)
    }

    func testRateLimiterAllowsBurstThenRate() {
        var r = RateLimiter(rate: 2)
        XCTAssertTrue(r.take("a", nowMs: 0)); XCTAssertTrue(r.take("a", nowMs: 0)); XCTAssertFalse(r.take("a", nowMs: 0))
        XCTAssertTrue(r.take("b", nowMs: 0))
        XCTAssertTrue(r.take("a", nowMs: 500)); XCTAssertFalse(r.take("a", nowMs: 500))
    }

    func testTemplatesFileReportsEveryProblem() {
        let file = #"{"templates":[{"id":"ok","channel":"webhook","destination":"http://127.0.0.1/x"},{"id":"bad","channel":"slack","destination":"x","body":"{{nope}}"}]}"#
        guard case .failure(let p) = TemplateCodec.decodeFile(Data(file.utf8)) else { return XCTFail("accepted") }; let e = p.all
        XCTAssertEqual(e.map(\.code), [.badURL, .unknownPlaceholder])
        XCTAssertTrue(e[0].field.hasPrefix("templates[1]"))
    }
}

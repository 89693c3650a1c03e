import XCTest
@testable import VigilParsers

final class JSONTests: XCTestCase {
    func testGenericJSONFlattenAndAliases() {
        let r = parseOK(#"{"ts":"2024-03-10T12:00:00Z","src_ip":"10.0.0.1","dst_port":8443,"user":"carol","action":"login","outcome":"failure","meta":{"tags":["a","b"],"ok":true,"none":null},"big":12345678901234567890}"#)
        XCTAssertEqual(r.format, "json")
        XCTAssertEqual(r.timestamp, march10noon)
        assertFields(r, ["source.ip": "10.0.0.1", "destination.port": "8443", "user.name": "carol", "event.action": "login", "event.outcome": "failure"])
        XCTAssertEqual(r.vendor["meta.tags.0"], "a")
        XCTAssertEqual(r.vendor["meta.tags.1"], "b")
        XCTAssertEqual(r.vendor["meta.ok"], "true")
        XCTAssertNil(r.vendor["meta.none"])
        XCTAssertEqual(r.vendor["big"], "12345678901234567890", "numbers keep their original text")
    }

    func testECSShapedJSONIsCopied() {
        let r = parseOK(#"{"@timestamp":"2024-03-10T12:00:00.000Z","source":{"ip":"10.1.1.1","port":5353},"host":{"name":"k8s-node-3"},"event":{"action":"dns-query"},"message":"q"}"#)
        assertFields(r, ["source.ip": "10.1.1.1", "source.port": "5353", "host.name": "k8s-node-3", "event.action": "dns-query", "message": "q"])
    }

    func testUnicodeEscapesAndSurrogates() {
        let r = parseOK(#"{"msg":"caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \n end","lone":"\ud800x"}"#)
        XCTAssertEqual(r.fields["message"], "café 😀 \"q\" \\ / \n end")
        XCTAssertEqual(r.vendor["lone"], "\u{FFFD}x")
    }

    func testJSONInsideSyslog() {
        let r = parseOK(#"<14>1 2024-03-10T12:00:00Z k8s app 1 - - {"level":"warn","msg":"disk 91%","host":"node-7"}"#)
        XCTAssertEqual(r.format, "json")
        assertFields(r, ["message": "disk 91%", "host.name": "node-7", "log.syslog.hostname": "k8s"])
        XCTAssertEqual(r.timestamp, march10noon)
    }

    func testJSONSyntaxFailures() {
        XCTAssertEqual(parseFail(#"{"a":1,}"#), ParseFailure(code: "json.syntax", reason: "expected '\"' to start an object key at offset 7, found '}'"))
        XCTAssertEqual(parseFail(#"{"a" 1}"#).reason, "expected ':' after key \"a\" at offset 5, found '1'")
        XCTAssertEqual(parseFail(#"{"a":tru}"#).reason, "invalid literal at offset 5, expected 'true'")
        XCTAssertEqual(parseFail(#"{"a":"x\q"}"#).reason, "invalid escape '\\q' at offset 7")
        XCTAssertEqual(parseFail(#"{"a":1} trailing"#).reason, "unexpected 't' at offset 8 after the end of the JSON value")
        XCTAssertEqual(parseFail(#"{"a":-}"#).reason, "expected digit at offset 6 in number starting at offset 5")
        XCTAssertEqual(parseFail("{\"a\":\"x\u{01}\"}").reason, "unescaped control character byte 0x1 in string at offset 7")
        XCTAssertEqual(parseFail("[1,2]"), ParseFailure(code: "json.shape", reason: "expected a JSON object at the top level, found array"))
    }

    func testDeepNestingIsRejectedNotCrashing() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let f = parseFail("{\"a\":" + deep + "}")
        XCTAssertEqual(f.code, "json.syntax")
        XCTAssertTrue(f.reason.hasPrefix("nesting deeper than 64 levels at offset"), f.reason)
    }
}

import XCTest
@testable import VigilParsers

final class CEFLEEFTests: XCTestCase {
    func testCEFHeaderEscapesAndExtension() {
        let line = #"CEF:0|Security|threat\|manager|1.0|100|worm successfully stopped|10|src=10.0.0.1 dst=2.1.2.2 spt=1232 dpt=80 proto=TCP act=blocked outcome=Success suser=jdoe duser=svc\=web msg=Detected a threat. No action needed rt=1710072000000 cs1Label=Policy cs1=Default Policy\\Strict"#
        let r = parseOK(line)
        XCTAssertEqual(r.format, "cef")
        XCTAssertEqual(r.timestamp, march10noon)
        assertFields(r, ["observer.vendor": "Security", "observer.product": "threat|manager", "observer.version": "1.0", "event.code": "100",
                         "event.severity": "10", "source.ip": "10.0.0.1", "destination.ip": "2.1.2.2", "source.port": "1232", "destination.port": "80",
                         "network.transport": "tcp", "event.action": "blocked", "event.outcome": "success", "user.name": "jdoe",
                         "user.target.name": "svc=web", "message": "Detected a threat. No action needed"])
        XCTAssertEqual(r.vendor["cs1"], #"Default Policy\Strict"#)
        XCTAssertEqual(r.vendor["cs1Label"], "Policy")
        XCTAssertEqual(r.vendor["deviceEventClassId"], "100")
        XCTAssertEqual(r.vendor["name"], "worm successfully stopped")
    }

    /// A firewall deny sent as CEF without `outcome=`: the verdict comes from `act`, and a
    /// record between two addresses is network activity (what the firewall rules look for).
    func testCEFFirewallDenyWithoutOutcomeIsANetworkFailure() {
        let r = parseOK("CEF:0|Fortinet|FortiGate|7.0|13|traffic deny|5|src=198.51.100.7 dst=10.0.0.5 spt=40000 dpt=22 proto=6 act=deny")
        assertFields(r, ["event.category": "network", "event.outcome": "failure", "event.action": "deny", "destination.port": "22"])
        let allowed = parseOK("CEF:0|V|FW|1|1|traffic|3|src=10.0.0.1 dst=10.0.0.2 act=accept")
        XCTAssertEqual(allowed.fields["event.outcome"], "success")
        let noAddresses = parseOK("CEF:0|V|AV|1|1|scan done|3|act=quarantined")
        XCTAssertNil(noAddresses.fields["event.category"], "no addresses: not claimed as network")
        XCTAssertNil(noAddresses.fields["event.outcome"], "an action that is no verdict sets no outcome")
    }

    func testCEFUnescapedEqualsInsideValueStaysInValue() {
        let r = parseOK("CEF:0|Vendor|Proxy|2|req|Request|Low|request=https://example.com/a?x=1&y=2 requestMethod=GET src=10.1.1.1")
        XCTAssertEqual(r.fields["url.original"], "https://example.com/a?x=1&y=2")
        XCTAssertEqual(r.fields["http.request.method"], "GET")
        XCTAssertEqual(r.fields["event.severity"], "3")
        XCTAssertEqual(r.fields["message"], "Request", "Name is the message when msg= is absent")
    }

    func testCEFInSyslogKeepsEnvelope() {
        let r = parseOK("<134>Mar 10 12:00:00 arcsight-conn CEF:0|Palo Alto Networks|PAN-OS|10.1|url|THREAT|1|rt=Mar 10 2024 12:00:00 GMT src=10.0.0.5 dst=93.184.216.34")
        XCTAssertEqual(r.format, "cef")
        assertFields(r, ["log.syslog.hostname": "arcsight-conn", "host.name": "arcsight-conn", "log.syslog.severity": "6", "source.ip": "10.0.0.5"])
        XCTAssertEqual(r.timestamp, march10noon)
    }

    func testCEFEmptyExtensionAndInvalidIP() {
        let r = parseOK("CEF:1|V|P|1|sig|Name|5|")
        XCTAssertEqual(r.vendor["cefVersion"], "1")
        let bad = parseOK("CEF:0|V|P|1|sig|Name|5|src=not-an-ip")
        XCTAssertNil(bad.fields["source.ip"], "non-IP text never lands in an IP field")
        XCTAssertEqual(bad.vendor["src"], "not-an-ip")
    }

    func testCEFMalformed() {
        XCTAssertEqual(parseFail("CEF:0|Vendor|Product|1.0"),
                       ParseFailure(code: "cef.header", reason: "expected 7 '|'-terminated header fields after 'CEF:' at offset 0 (Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|), found 3"))
        XCTAssertEqual(parseFail("CEF:x|V|P|1|s|n|1|a=b"), ParseFailure(code: "cef.version", reason: "expected an integer CEF version at offset 4, found 'x'"))
        XCTAssertEqual(parseFail("CEF:0|V|P|1|s|n|1|just words"), ParseFailure(code: "cef.extension", reason: "expected key=value at offset 18, found no '=' in the extension"))
        XCTAssertEqual(parseFail("CEF:0|V|P|1|s|n|1|bad key=1").reason, "invalid extension key 'bad key' at offset 18; expected [A-Za-z0-9_.-] before '='")
        // Wrapped in syslog, the same broken CEF is kept as generic syslog with the reason attached.
        let r = parseOK("<134>Mar 10 12:00:00 conn CEF:0|Vendor|Product|1.0")
        XCTAssertEqual(r.format, "syslog-rfc3164")
        XCTAssertEqual(r.fields["error.code"], "cef.header")
        XCTAssertEqual(r.fields["message"], "CEF:0|Vendor|Product|1.0")
    }

    func testLEEF1Tabs() {
        let r = parseOK("LEEF:1.0|Microsoft|MSExchange|2016|15345|src=10.50.1.1\tdst=2.10.20.20\tsrcPort=1200\tdstPort=25\tusrName=jdoe\tproto=6\tdevTime=1710072000000\tsev=4")
        XCTAssertEqual(r.format, "leef")
        assertFields(r, ["source.ip": "10.50.1.1", "destination.ip": "2.10.20.20", "source.port": "1200", "destination.port": "25",
                         "user.name": "jdoe", "network.transport": "tcp", "event.code": "15345", "event.severity": "4", "observer.vendor": "Microsoft"])
        XCTAssertEqual(r.timestamp, march10noon)
    }

    func testLEEF2CustomDelimiters() {
        let caret = parseOK("LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=192.0.2.1^dst=172.50.123.1^sev=5^cat=anomaly^srcPort=81^dstPort=21^usrName=joe.black")
        assertFields(caret, ["source.ip": "192.0.2.1", "destination.port": "21", "user.name": "joe.black", "event.severity": "5"])
        XCTAssertEqual(caret.vendor["cat"], "anomaly")
        let hex = parseOK("LEEF:2.0|Vendor|Prod|1|evt|x7C|src=10.0.0.1|dst=10.0.0.2|devTime=Mar 10 2024 12:00:00")
        assertFields(hex, ["source.ip": "10.0.0.1", "destination.ip": "10.0.0.2"])
        XCTAssertEqual(hex.timestamp, march10noon)
        let noDelimField = parseOK("LEEF:2.0|Vendor|Prod|1|evt|src=10.0.0.1\tdst=10.0.0.2")
        XCTAssertEqual(noDelimField.fields["destination.ip"], "10.0.0.2")
    }

    func testLEEFSpacesInsteadOfTabs() {
        let r = parseOK("LEEF:1.0|Vendor|Prod|1|evt|src=10.0.0.1 dst=10.0.0.2 usrName=John Smith")
        XCTAssertEqual(r.fields["user.name"], "John Smith")
        XCTAssertEqual(r.fields["destination.ip"], "10.0.0.2")
    }

    func testLEEFMalformed() {
        XCTAssertEqual(parseFail("LEEF:1.0|Vendor|Prod"), ParseFailure(code: "leef.header", reason: "expected 5 '|'-terminated header fields after 'LEEF:' at offset 0 (Version|Vendor|Product|Version|EventID|), found 2"))
        XCTAssertEqual(parseFail("LEEF:3.0|V|P|1|e|a=b"), ParseFailure(code: "leef.version", reason: "unsupported LEEF version '3.0' at offset 5; expected 1.0 or 2.0"))
        XCTAssertEqual(parseFail("LEEF:2.0|V|P|1|e|abc|a=b"), ParseFailure(code: "leef.delimiter", reason: "invalid LEEF 2.0 delimiter 'abc' at offset 17; expected one character or its hex value (x5E / 0x5E)"))
        XCTAssertEqual(parseFail("LEEF:1.0|V|P|1|e|novalue\ta=b"), ParseFailure(code: "leef.attributes", reason: "expected key=value at offset 17, found 'novalue'"))
    }
}

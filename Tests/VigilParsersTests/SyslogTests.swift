import XCTest
@testable import VigilParsers

final class SyslogTests: XCTestCase {
    func testRFC5424WithStructuredDataAndBOM() {
        let line = "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1234 ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"][examplePriority@32473 class=\"high\"] \u{FEFF}An application event log entry"
        let r = parseOK(line)
        XCTAssertEqual(r.format, "syslog-rfc5424")
        XCTAssertEqual(r.timestamp, 1_065_910_455_003)
        assertFields(r, ["host.name": "mymachine.example.com", "log.syslog.appname": "evntslog", "process.pid": "1234",
                         "log.syslog.msgid": "ID47", "log.syslog.facility": "20", "log.syslog.severity": "5", "log.syslog.priority": "165",
                         "message": "An application event log entry"])
        XCTAssertEqual(r.vendor["exampleSDID@32473.eventSource"], "Application")
        XCTAssertEqual(r.vendor["examplePriority@32473.class"], "high")
    }

    func testRFC5424NilValuesAndEscapedSD() {
        let r = parseOK(#"<34>1 - - su - - [meta note="a \"quoted\" \] bracket"] 'su root' failed"#)
        XCTAssertEqual(r.format, "syslog-rfc5424")
        XCTAssertNil(r.timestamp)
        XCTAssertNil(r.fields["host.name"])
        XCTAssertNil(r.fields["process.pid"])
        XCTAssertEqual(r.vendor["meta.note"], #"a "quoted" ] bracket"#)
        XCTAssertEqual(r.fields["message"], "'su root' failed")
    }

    func testRFC5424TimezoneOffsetAndNoMessage() {
        let r = parseOK("<13>1 2024-03-10T13:00:00.5+01:00 host app - - -")
        XCTAssertEqual(r.timestamp, march10noon + 500)
        XCTAssertNil(r.fields["message"])
    }

    func testRFC5424Malformed() {
        XCTAssertEqual(parseFail("<34>1 2003-13-11T22:14:15Z host app - - - x"),
                       ParseFailure(code: "syslog5424.timestamp", reason: "invalid RFC 3339 TIMESTAMP '2003-13-11T22:14:15Z' at offset 6; expected YYYY-MM-DDThh:mm:ss[.frac](Z|±hh:mm)"))
        let unterminated = parseFail(#"<34>1 - host app - - [id a="unterminated"#)
        XCTAssertEqual(unterminated.code, "syslog5424.sd")
        XCTAssertEqual(unterminated.reason, "unterminated PARAM-VALUE of 'a' starting at offset 27")
        XCTAssertEqual(parseFail("<34>1 - host app - - [id a=1] x").reason, "expected '\"' to open value of 'a' at offset 27, found '1'")
        XCTAssertEqual(parseFail("<34>1 - host app - - x").reason, "expected '-' or '[' to start STRUCTURED-DATA at offset 21, found 'x'")
        XCTAssertEqual(parseFail("<34>1 - host").reason, "expected SP before APP-NAME at offset 12, found end of line")
    }

    func testPRIFailures() {
        XCTAssertEqual(parseFail("<999>Mar 10 12:00:00 host x"), ParseFailure(code: "syslog.pri", reason: "PRI value 999 at offset 1 is out of range 0...191"))
        XCTAssertEqual(parseFail("<ab>x").reason, "expected 1-3 digits after '<' at offset 1, found 'a'")
        XCTAssertEqual(parseFail("<13 Mar").reason, "expected '>' closing PRI at offset 3, found space")
    }

    func testRFC3164WithHostAndPid() {
        let r = parseOK("<38>Mar 10 12:00:00 web01 nginx[4242]: upstream timed out")
        XCTAssertEqual(r.format, "syslog-rfc3164")
        XCTAssertEqual(r.timestamp, march10noon)
        assertFields(r, ["host.name": "web01", "log.syslog.appname": "nginx", "process.name": "nginx", "process.pid": "4242",
                         "message": "upstream timed out", "log.syslog.facility": "4", "log.syslog.severity": "6"])
    }

    func testRFC3164WithYearAndSingleDigitDay() {
        let r = parseOK("<14>Mar  1 2023 08:00:00 fw kernel: eth0 up")
        XCTAssertEqual(r.timestamp, Timestamps.epochMs(year: 2023, month: 3, day: 1, hour: 8, minute: 0, second: 0))
        assertFields(r, ["host.name": "fw", "log.syslog.appname": "kernel", "message": "eth0 up"])
        XCTAssertNil(r.fields["process.pid"])
    }

    func testRFC3164YearInferenceAcrossNewYear() {
        // Received 2024-03-15: a "Dec 31" line belongs to 2023, not to the future.
        let r = parseOK("Dec 31 23:59:58 host cron[1]: tick")
        XCTAssertEqual(r.timestamp, 1_704_067_198_000)
    }

    func testRFC3164WithoutHostAndWithoutPRI() {
        let r = parseOK("<13>Mar 10 12:00:00 myapp: started")
        XCTAssertNil(r.fields["host.name"])
        assertFields(r, ["log.syslog.appname": "myapp", "message": "started"])
        let bare = parseOK("Mar 10 12:00:00 host2 Use the BFG!")
        XCTAssertNil(bare.fields["log.syslog.priority"])
        assertFields(bare, ["host.name": "host2", "message": "Use the BFG!"])
        XCTAssertNil(bare.fields["log.syslog.appname"])
    }

    func testRsyslogHighPrecisionTimestamp() {
        let r = parseOK("2024-03-10T13:00:00.250000+01:00 db01 postgres[77]: checkpoint complete")
        XCTAssertEqual(r.format, "syslog-rfc3164")
        XCTAssertEqual(r.timestamp, march10noon + 250)
        assertFields(r, ["host.name": "db01", "process.pid": "77"])
    }

    func testPRIWithoutTimestampIsAllMessage() {
        let r = parseOK("<13>just some text")
        XCTAssertEqual(r.format, "syslog-rfc3164")
        XCTAssertEqual(r.fields["message"], "just some text")
        XCTAssertNil(r.timestamp)
    }

    func testDirectParsersDeclineOtherFormats() {
        XCTAssertNil(Syslog5424Parser().parse("<13>Mar 10 12:00:00 h a: b", receivedAt: received))
        XCTAssertNil(Syslog3164Parser().parse("<13>1 - h a - - -", receivedAt: received))
        XCTAssertNil(Syslog3164Parser().parse("plain text", receivedAt: received))
    }
}

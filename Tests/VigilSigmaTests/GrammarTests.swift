import XCTest
import VigilRules
import VigilSigma
import VigilWire

final class GrammarTests: XCTestCase {
    func testMetadataIsKept() throws {
        let r = try S.one(S.rule("sel:\n    Image|endswith: '\\whoami.exe'\ncondition: sel", extra: "references:\n    - https://example.org/x\n"))
        XCTAssertEqual(r.id, "5f0c2d3e-0000-4000-8000-000000000001")
        XCTAssertEqual(r.name, "test rule")
        XCTAssertEqual(r.criticality, .high)
        XCTAssertEqual(r.riskScore, 75)
        XCTAssertEqual(r.tactics.map(\.id), ["TA0002"])
        XCTAssertEqual(r.techniques.map(\.id), ["T1059.001"])
        XCTAssertEqual(r.author, "Vigil team")
        XCTAssertEqual(r.logSources, ["windows"])
        XCTAssertTrue(r.description.contains("https://example.org/x"))
        XCTAssertTrue(r.description.contains("DRL"))
        // It survives the native JSON round trip (what rules.import receives).
        XCTAssertEqual(try RuleDecoder.decode(RuleEncoder.text(r)).detection, r.detection)
    }

    func testLogsourceConstrainsChannelAndEventId() throws {
        let r = try S.one(S.rule("sel:\n    Image|endswith: '\\whoami.exe'\ncondition: sel"))
        XCTAssertEqual(try S.fire(r, [S.proc(["Image": "C:\\Windows\\System32\\whoami.exe"])]), 1)
        XCTAssertEqual(try S.fire(r, [S.win(7, ["Image": "C:\\Windows\\System32\\whoami.exe"])]), 0, "EventID 7 is image_load, not process_creation")
        XCTAssertEqual(try S.fire(r, [S.win(4688, channel: "Security", ["NewProcessName": "C:\\Windows\\System32\\WHOAMI.EXE"])]), 1, "4688 via the Image alias")
    }

    func testMapsAreAndListsOfMapsAreOr() throws {
        let det = "sel:\n    - Image|endswith: '\\a.exe'\n      CommandLine|contains: 'x'\n    - Image|endswith: '\\b.exe'\ncondition: sel"
        XCTAssertTrue(try S.matches(det, S.proc(["Image": "c:\\a.exe", "CommandLine": "a x"])))
        XCTAssertFalse(try S.matches(det, S.proc(["Image": "c:\\a.exe", "CommandLine": "a y"])))
        XCTAssertTrue(try S.matches(det, S.proc(["Image": "c:\\b.exe"])))
    }

    func testValueListsAreOrAndAllMakesThemAnd() throws {
        XCTAssertTrue(try S.matches("sel:\n    CommandLine|contains: [foo, bar]\ncondition: sel", S.proc(["CommandLine": "xx bar"])))
        XCTAssertFalse(try S.matches("sel:\n    CommandLine|contains|all: [foo, bar]\ncondition: sel", S.proc(["CommandLine": "xx bar"])))
        XCTAssertTrue(try S.matches("sel:\n    CommandLine|contains|all: [foo, bar]\ncondition: sel", S.proc(["CommandLine": "bar foo"])))
    }

    func testKeywords() throws {
        let det = "keywords:\n    - 'mimikatz'\n    - 'sekurlsa*logon'\ncondition: keywords"
        XCTAssertTrue(try S.matches(det, S.proc(["CommandLine": "run MimiKatz now"])))
        XCTAssertTrue(try S.matches(det, S.proc(["CommandLine": "sekurlsa::logonpasswords"])))
        XCTAssertFalse(try S.matches(det, S.proc(["CommandLine": "notepad"])))
    }

    func testConditionOperatorsAndPrecedence() throws {
        let base = "a:\n    CommandLine|contains: 'aa'\nb:\n    CommandLine|contains: 'bb'\nc:\n    CommandLine|contains: 'cc'\n"
        // not > and > or: a or b and not c  ==  a or (b and (not c))
        let det = base + "condition: a or b and not c"
        XCTAssertTrue(try S.matches(det, S.proc(["CommandLine": "aa cc"])))
        XCTAssertTrue(try S.matches(det, S.proc(["CommandLine": "bb"])))
        XCTAssertFalse(try S.matches(det, S.proc(["CommandLine": "bb cc"])))
        let paren = base + "condition: (a or b) and not c"
        XCTAssertFalse(try S.matches(paren, S.proc(["CommandLine": "aa cc"])))
        XCTAssertTrue(try S.matches(paren, S.proc(["CommandLine": "aa"])))
    }

    func testOfForms() throws {
        let base = "sel_a:\n    CommandLine|contains: 'aa'\nsel_b:\n    CommandLine|contains: 'bb'\n_filter:\n    CommandLine|contains: 'zz'\n"
        XCTAssertTrue(try S.matches(base + "condition: 1 of sel_*", S.proc(["CommandLine": "bb"])))
        XCTAssertFalse(try S.matches(base + "condition: all of sel_*", S.proc(["CommandLine": "bb"])))
        XCTAssertTrue(try S.matches(base + "condition: all of sel_*", S.proc(["CommandLine": "aa bb"])))
        XCTAssertTrue(try S.matches(base + "condition: 1 of them", S.proc(["CommandLine": "aa"])))
        // `them` leaves out underscore selections.
        XCTAssertTrue(try S.matches(base + "condition: all of them", S.proc(["CommandLine": "aa bb"])))
        XCTAssertTrue(try S.matches(base + "condition: 1 of sel_* and not _filter", S.proc(["CommandLine": "aa"])))
        XCTAssertFalse(try S.matches(base + "condition: 1 of sel_* and not _filter", S.proc(["CommandLine": "aa zz"])))
    }

    func testWildcardsEscapesAndCase() throws {
        XCTAssertTrue(try S.matches("s:\n    CommandLine: 'net* user ?dmin'\ncondition: s", S.proc(["CommandLine": "NET.exe user Admin"])))
        XCTAssertFalse(try S.matches("s:\n    CommandLine: 'net* user ?dmin'\ncondition: s", S.proc(["CommandLine": "net.exe user admin x"])))
        // An escaped star is a literal star.
        XCTAssertTrue(try S.matches("s:\n    CommandLine: 'a\\*b'\ncondition: s", S.proc(["CommandLine": "a*b"])))
        XCTAssertFalse(try S.matches("s:\n    CommandLine: 'a\\*b'\ncondition: s", S.proc(["CommandLine": "axxb"])))
        // A backslash before anything else is a plain backslash.
        XCTAssertTrue(try S.matches("s:\n    Image: 'C:\\Windows\\cmd.exe'\ncondition: s", S.proc(["Image": "c:\\windows\\CMD.EXE"])))
    }

    func testNumbersNullAndEmpty() throws {
        XCTAssertTrue(try S.matches("s:\n    LogonType: 3\ncondition: s", S.proc(["LogonType": "3"])))
        XCTAssertTrue(try S.matches("s:\n    LogonType: 3\ncondition: s", S.proc(["LogonType": "03"])), "numbers compare as numbers")
        XCTAssertTrue(try S.matches("s:\n    ParentImage: null\ncondition: s", S.proc(["Image": "x"])))
        XCTAssertTrue(try S.matches("s:\n    ParentImage: null\ncondition: s", S.proc(["ParentImage": ""])))
        XCTAssertFalse(try S.matches("s:\n    ParentImage: null\ncondition: s", S.proc(["ParentImage": "p"])))
        XCTAssertTrue(try S.matches("s:\n    ParentImage: ''\ncondition: s", S.proc(["ParentImage": ""])))
    }
}

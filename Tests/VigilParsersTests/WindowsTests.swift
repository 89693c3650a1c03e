import XCTest
@testable import VigilParsers
import VigilImport

final class WindowsTests: XCTestCase {
    func testEvtxDump4625() throws {
        let r = parseOK(try fixture("windows/evtx_4625.json"))
        XCTAssertEqual(r.format, "windows")
        XCTAssertEqual(r.timestamp, march10noon + 123)
        assertFields(r, ["event.code": "4625", "event.category": "authentication", "event.action": "logon-failed", "event.outcome": "failure",
                         "user.name": "administrator", "user.domain": "CORP", "source.ip": "203.0.113.77", "source.port": "49832",
                         "source.domain": "KALI", "host.name": "DC01.corp.example.com", "winlog.logon.type": "3", "winlog.channel": "Security",
                         "event.provider": "Microsoft-Windows-Security-Auditing"])
        // Vendor keeps EventData names and System names as Sigma expects; big numbers stay exact.
        XCTAssertEqual(r.vendor["EventID"], "4625")
        XCTAssertEqual(r.vendor["Channel"], "Security")
        XCTAssertEqual(r.vendor["Computer"], "DC01.corp.example.com")
        XCTAssertEqual(r.vendor["Provider_Name"], "Microsoft-Windows-Security-Auditing")
        XCTAssertEqual(r.vendor["LogonProcessName"], "NtLmSsp ")
        XCTAssertEqual(r.vendor["EventRecordID"], "9007199254740993")
        XCTAssertEqual(r.vendor["Execution_ProcessID"], "688")
        XCTAssertNil(r.fields["process.executable"], "ProcessName '-' is a placeholder")
    }

    func testEvtxDumpSysmonProcessCreation() throws {
        let r = parseOK(try fixture("windows/evtx_sysmon1.json"))
        assertFields(r, ["event.code": "1", "event.category": "process", "event.action": "process-created",
                         "process.executable": "C:\\Windows\\System32\\schtasks.exe", "process.name": "schtasks.exe", "process.pid": "6700",
                         "process.command_line": "schtasks.exe /change /tn \"\\Microsoft\\Windows\\SystemRestore\\SR\" /disable",
                         "process.parent.executable": "C:\\Windows\\System32\\cmd.exe", "process.parent.pid": "4460",
                         "user.name": "xodih", "user.domain": "WS-042", "process.hash.sha256": "1B48A4F8D20026E6C56E3AB4CC4788FA6425C8A75F8D91C2869FA533DE6B209E",
                         "process.pe.original_file_name": "schtasks.exe"])
        XCTAssertEqual(r.vendor["Image"], "C:\\Windows\\System32\\schtasks.exe")
        XCTAssertEqual(r.vendor["ParentImage"], "C:\\Windows\\System32\\cmd.exe")
        XCTAssertEqual(r.vendor["Product"], "Microsoft® Windows® Operating System")
        XCTAssertEqual(r.timestamp, 1_764_229_210_165)
    }

    func testUserDataLeavesAreFlattened() throws {
        let r = parseOK(try fixture("windows/userdata_5858.json"))
        XCTAssertEqual(r.vendor["EventID"], "5858")
        XCTAssertEqual(r.vendor["Operation"], "Start IWbemServices::ExecMethod - ROOT\\CIMV2 : Win32_NTEventlogFile.Name=\"System\"::cleareventlog")
        XCTAssertEqual(r.vendor["ClientProcessId"], "25920")
        XCTAssertNil(r.vendor["xmlns"])
    }

    func testNXLogFlat4624() throws {
        let r = parseOK(try fixture("windows/nxlog_4624.json"))
        XCTAssertEqual(r.format, "windows")
        assertFields(r, ["event.action": "logged-in", "event.outcome": "success", "user.name": "svc_backup", "user.domain": "CORP",
                         "source.ip": "10.20.30.40", "source.port": "50211", "host.name": "FS01.corp.example.com", "winlog.logon.type": "3"])
        XCTAssertEqual(r.vendor["Computer"], "FS01.corp.example.com")
        XCTAssertEqual(r.vendor["Provider_Name"], "Microsoft-Windows-Security-Auditing")
        XCTAssertEqual(r.vendor["Keywords"], "-9214364837600034816")
        XCTAssertEqual(r.timestamp, march10noon)
    }

    func testWinlogbeat4688HexPids() throws {
        let r = parseOK(try fixture("windows/winlogbeat_4688.json"))
        assertFields(r, ["event.action": "created-process", "process.pid": "6700", "process.parent.pid": "2544",
                         "process.executable": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", "process.name": "powershell.exe",
                         "process.command_line": "powershell.exe -nop -w hidden -enc SQBFAFgA", "process.parent.executable": "C:\\Windows\\System32\\cmd.exe",
                         "user.name": "jdoe", "user.domain": "CORP", "host.name": "ws-007.corp.example.com"])
        XCTAssertNil(r.fields["user.target.name"], "TargetUserName '-' is a placeholder")
        XCTAssertEqual(r.vendor["NewProcessName"], "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe")
        XCTAssertEqual(r.vendor["EventID"], "4688")
        XCTAssertEqual(r.timestamp, march10noon)
    }

    func testSysmonNetworkAndRegistry() {
        let net = ##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":3,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"ws-1","TimeCreated":{"#attributes":{"SystemTime":"2024-03-10T12:00:00Z"}}},"EventData":{"Image":"C:\\Users\\Public\\beacon.exe","User":"CORP\\jdoe","Protocol":"tcp","Initiated":"true","SourceIp":"10.0.0.5","SourcePort":"50123","DestinationIp":"198.51.100.9","DestinationHostname":"c2.example.net","DestinationPort":"443"}}}"##
        assertFields(parseOK(net), ["event.category": "network", "source.ip": "10.0.0.5", "source.port": "50123", "destination.ip": "198.51.100.9",
                                    "destination.port": "443", "network.transport": "tcp", "network.direction": "egress",
                                    "destination.domain": "c2.example.net", "process.name": "beacon.exe"])
        let reg = ##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":13,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"ws-1"},"EventData":{"EventType":"SetValue","Image":"C:\\Windows\\regedit.exe","TargetObject":"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\updater","Details":"C:\\Users\\Public\\u.exe"}}}"##
        assertFields(parseOK(reg), ["event.category": "registry", "registry.path": "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\updater",
                                    "registry.data.strings": "C:\\Users\\Public\\u.exe", "event.type": "SetValue"])
        let file = ##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":11,"Channel":"Microsoft-Windows-Sysmon/Operational"},"EventData":{"Image":"C:\\Windows\\explorer.exe","TargetFilename":"C:\\Users\\jdoe\\AppData\\Roaming\\evil.dll"}}}"##
        assertFields(parseOK(file), ["event.action": "file-created", "file.path": "C:\\Users\\jdoe\\AppData\\Roaming\\evil.dll", "file.name": "evil.dll"])
    }

    func testSecurityIAMEvents() {
        let created = #"{"EventID":4720,"Channel":"Security","Hostname":"DC01","SubjectUserName":"admin","SubjectDomainName":"CORP","TargetUserName":"backdoor","TargetDomainName":"CORP"}"#
        assertFields(parseOK(created), ["event.category": "iam", "event.action": "added-user-account", "user.name": "admin", "user.target.name": "backdoor"])
        let group = #"{"EventID":4732,"Channel":"Security","Hostname":"DC01","SubjectUserName":"admin","TargetUserName":"Administrators","MemberName":"CN=backdoor,OU=Users,DC=corp"}"#
        assertFields(parseOK(group), ["event.action": "added-member-to-group", "group.name": "Administrators", "user.target.name": "CN=backdoor,OU=Users,DC=corp"])
        let special = #"{"EventID":4672,"Channel":"Security","Hostname":"DC01","SubjectUserName":"admin","SubjectDomainName":"CORP","PrivilegeList":"SeDebugPrivilege"}"#
        assertFields(parseOK(special), ["event.category": "iam", "event.action": "logged-in-special", "user.name": "admin"])
        let kerb = #"{"EventID":4771,"Channel":"Security","Hostname":"DC01","TargetUserName":"jdoe","IpAddress":"::ffff:10.1.2.3","Status":"0x18"}"#
        assertFields(parseOK(kerb), ["event.outcome": "failure", "source.ip": "10.1.2.3", "user.name": "jdoe"])
        let ntlm = #"{"EventID":4776,"Channel":"Security","Hostname":"DC01","TargetUserName":"jdoe","Status":"0x0"}"#
        assertFields(parseOK(ntlm), ["event.outcome": "success"])
    }

    func testEventIDWithQualifiersObject() {
        let line = ##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"Service Control Manager"}},"EventID":{"#attributes":{"Qualifiers":16384},"#text":7045},"Channel":"System","Computer":"srv"},"EventData":{"ServiceName":"PSEXESVC","ImagePath":"%SystemRoot%\\PSEXESVC.exe"}}}"##
        let r = parseOK(line)
        XCTAssertEqual(r.vendor["EventID"], "7045")
        XCTAssertEqual(r.vendor["EventID_Qualifiers"], "16384")
        assertFields(r, ["event.action": "service-installed", "service.name": "PSEXESVC", "file.path": "%SystemRoot%\\PSEXESVC.exe"])
    }

    func testMalformedWindows() {
        let broken = #"{"Event":{"System":{"EventID":4625,"Channel":"Security""#
        XCTAssertEqual(directFailure(WindowsEventParser(), broken),
                       ParseFailure(code: "json.syntax", reason: "unterminated object: expected ',' or '}' at offset 55, found end of line"))
        let badID = #"{"EventID":"four","Channel":"Security"}"#
        XCTAssertEqual(directFailure(WindowsEventParser(), badID), ParseFailure(code: "windows.eventid", reason: "EventID must be a decimal number, found 'four'"))
        // Through the chain the same line is still valid JSON: generic record + error fields.
        let r = parseOK(badID)
        XCTAssertEqual(r.format, "json")
        XCTAssertEqual(r.fields["error.code"], "windows.eventid")
        XCTAssertNil(WindowsEventParser().parse(#"{"msg":"not windows"}"#, receivedAt: received))
    }

    /// Runs over the real evtx_dump exports in the shared Sigma regression corpus when present.
    func testSigmaRegressionCorpus() throws {
        // The corpus lives beside the repository (../shared/data), not in it.
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let root = repo.deletingLastPathComponent().appendingPathComponent("shared/data/sigma/regression_data")
        guard let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { throw XCTSkip("no regression corpus") }
        var parsed = 0
        for case let url as URL in files where url.pathExtension == "json" {
            guard let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
            // Some files hold several pretty-printed events back to back: split as `vigil import` does.
            for chunk in RecordSplitter.records(in: Array(text.utf8)).map({ String(decoding: $0.bytes, as: UTF8.self) }) {
                let r = parseOK(chunk, hint: "windows")
                XCTAssertEqual(r.format, "windows", url.path)
                XCTAssertNotNil(r.vendor["EventID"], url.path)
                XCTAssertNotNil(r.vendor["Channel"], url.path)
                XCTAssertNotNil(r.timestamp, url.path)
                parsed += 1
            }
        }
        if parsed == 0 { throw XCTSkip("no regression corpus") }
        XCTAssertGreaterThan(parsed, 150)
    }
}

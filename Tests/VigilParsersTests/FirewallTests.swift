import XCTest
@testable import VigilParsers

final class FirewallTests: XCTestCase {
    // MARK: PAN-OS
    let traffic = #"1,2024/03/10 12:00:00,012801096514,TRAFFIC,end,2561,2024/03/10 12:00:00,10.0.0.5,93.184.216.34,203.0.113.10,93.184.216.34,allow-web,corp\jdoe,,ssl,vsys1,trust,untrust,ethernet1/2,ethernet1/1,default,,31337,1,51000,443,40001,443,0x400053,tcp,allow,6400,1200,5200,20,2024/03/10 11:59:50,10,computer-and-internet-info,,7234,0x0,10.0.0.0-10.255.255.255,United States,,10,10,tcp-fin"#

    func testPanOSTraffic() {
        let r = parseOK("<14>Mar 10 12:00:00 PA-VM " + traffic)
        XCTAssertEqual(r.format, "panos-traffic")
        XCTAssertEqual(r.timestamp, march10noon)
        assertFields(r, ["source.ip": "10.0.0.5", "destination.ip": "93.184.216.34", "source.nat.ip": "203.0.113.10", "source.port": "51000",
                         "destination.port": "443", "source.nat.port": "40001", "rule.name": "allow-web", "user.name": "jdoe", "user.domain": "corp",
                         "network.application": "ssl", "network.transport": "tcp", "event.action": "allow", "event.outcome": "success",
                         "source.bytes": "1200", "destination.bytes": "5200", "network.bytes": "6400", "event.reason": "tcp-fin",
                         "observer.ingress.zone": "trust", "observer.egress.zone": "untrust", "observer.serial_number": "012801096514",
                         "host.name": "PA-VM", "event.category": "network"])
        XCTAssertEqual(r.vendor["srcuser"], #"corp\jdoe"#)
        XCTAssertEqual(r.vendor["session_end_reason"], "tcp-fin")
    }

    func testPanOSThreatWithQuotedFields() {
        let line = #"1,2024/03/10 12:00:00,012801096514,THREAT,url,2561,2024/03/10 12:00:00,10.0.0.5,93.184.216.34,203.0.113.10,93.184.216.34,allow-web,corp\jdoe,,web-browsing,vsys1,trust,untrust,ethernet1/2,ethernet1/1,default,,31338,1,51001,80,40002,80,0x402000,tcp,block-url,"example.com/a,b?x=""1""",Phishing Page(9999),phishing,high,client-to-server,7235"#
        let r = parseOK(line)
        XCTAssertEqual(r.format, "panos-threat")
        assertFields(r, ["url.original": #"example.com/a,b?x="1""#, "threat.name": "Phishing Page", "threat.id": "9999", "log.level": "high",
                         "event.severity": "4", "network.direction": "client-to-server", "event.action": "block-url", "event.category": "intrusion_detection"])
    }

    func testPanOSMalformed() {
        XCTAssertEqual(parseFail("1,2024/03/10 12:00:00,012801096514,TRAFFIC,end,2561,2024/03/10 12:00:00,10.0.0.5"),
                       ParseFailure(code: "panos.columns", reason: "TRAFFIC log needs at least 34 comma-separated fields (through 'bytes_received'), found 8"))
        XCTAssertEqual(parseFail(#"1,2024/03/10 12:00:00,0128,THREAT,url,"unterminated"#),
                       ParseFailure(code: "panos.csv", reason: "unterminated quoted field 6 starting at offset 38"))
    }

    // MARK: FortiGate
    func testFortiGateTrafficDeny() {
        let r = parseOK(#"<189>date=2024-03-10 time=13:00:00 devname="FGT60F-HQ" devid="FGT60FTK20000000" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" tz="+0100" srcip=10.1.1.20 srcport=55012 srcintf="internal" dstip=198.51.100.80 dstport=443 dstintf="wan1" proto=6 action="deny" policyid=7 policyname="Block Outbound" service="HTTPS" sentbyte=0 rcvdbyte=0 msg="Denied by \"policy\" 7""#)
        XCTAssertEqual(r.format, "fortigate")
        XCTAssertEqual(r.timestamp, march10noon, "date/time with tz=+0100")
        assertFields(r, ["source.ip": "10.1.1.20", "source.port": "55012", "destination.ip": "198.51.100.80", "destination.port": "443",
                         "network.transport": "tcp", "event.action": "deny", "event.outcome": "failure", "rule.name": "Block Outbound",
                         "rule.id": "7", "observer.name": "FGT60F-HQ", "host.name": "FGT60F-HQ", "event.code": "0000000013", "log.level": "notice",
                         "event.category": "network", "event.type": "forward", "message": #"Denied by "policy" 7"#, "log.syslog.facility": "23"])
        XCTAssertEqual(r.vendor["devname"], "FGT60F-HQ")
    }

    func testFortiGateEventtimeAndAdminLoginFailure() {
        let r = parseOK(#"date=2024-03-10 time=00:00:00 devname="FGT" devid="FGVM01" logid="0100032002" type="event" subtype="system" level="alert" eventtime=1710072000123456789 logdesc="Admin login failed" sn="0" user="admin" ui="https(203.0.113.9)" action="login" status="failed" reason="passwd_invalid" msg="Administrator admin login failed from https(203.0.113.9) because of invalid password""#)
        XCTAssertEqual(r.timestamp, march10noon + 123, "eventtime (ns) wins over date/time")
        assertFields(r, ["user.name": "admin", "event.outcome": "failure", "event.category": "authentication", "event.action": "login"])
    }

    func testFortiGateMalformed() {
        XCTAssertEqual(parseFail(#"date=2024-03-10 time=12:00:00 devname="FGT logid=1"#),
                       ParseFailure(code: "fortigate.kv", reason: "unterminated quoted value for key 'devname' starting at offset 38"))
        XCTAssertEqual(parseFail("date=2024-03-10 time=12:00:00 garbage here").reason, "expected key=value at offset 30, found 'garbage' without '='")
    }

    // MARK: Cisco ASA
    func asa(_ msg: String, file: StaticString = #filePath, line: UInt = #line) -> ParsedRecord {
        let r = parseOK("<166>Mar 10 2024 12:00:00 asa-edge : " + msg, file: file, lineNo: line)
        XCTAssertEqual(r.format, "cisco-asa", file: file, line: line)
        XCTAssertEqual(r.timestamp, march10noon, file: file, line: line)
        return r
    }

    func testASADenyAndACL() {
        assertFields(asa(#"%ASA-4-106023: Deny tcp src outside:192.0.2.10/51234 dst inside:10.1.1.5/22 by access-group "OUTSIDE_IN" [0x8ed66b60, 0xf8852875]"#),
                     ["event.code": "106023", "event.severity": "4", "source.ip": "192.0.2.10", "source.port": "51234", "destination.ip": "10.1.1.5",
                      "destination.port": "22", "rule.name": "OUTSIDE_IN", "event.outcome": "failure", "network.transport": "tcp",
                      "observer.ingress.interface.name": "outside", "host.name": "asa-edge"])
        let icmp = asa(#"%ASA-4-106023: Deny icmp src outside:192.0.2.10 dst inside:10.1.1.5 (type 8, code 0) by access-group "OUTSIDE_IN" [0x0, 0x0]"#)
        XCTAssertNil(icmp.fields["source.port"])
        XCTAssertEqual(icmp.fields["network.transport"], "icmp")
        assertFields(asa("%ASA-6-106100: access-list OUTSIDE_IN denied tcp outside/192.0.2.10(51234) -> inside/10.1.1.5(3389) hit-cnt 1 first hit [0x1d8d7fb0, 0x0]"),
                     ["rule.name": "OUTSIDE_IN", "event.action": "denied", "event.outcome": "failure", "source.ip": "192.0.2.10", "destination.port": "3389"])
    }

    func testASAConnections() {
        assertFields(asa("%ASA-6-302013: Built inbound TCP connection 4711 for outside:192.0.2.10/51234 (192.0.2.10/51234) to dmz:10.2.2.2/443 (203.0.113.5/443)"),
                     ["source.ip": "192.0.2.10", "destination.ip": "10.2.2.2", "destination.port": "443", "network.direction": "inbound", "network.session_id": "4711"])
        // Outbound: the initiator is the "to" side.
        assertFields(asa("%ASA-6-302015: Built outbound UDP connection 4712 for outside:8.8.8.8/53 (8.8.8.8/53) to inside:10.0.0.5/53211 (203.0.113.5/53211)"),
                     ["source.ip": "10.0.0.5", "source.port": "53211", "destination.ip": "8.8.8.8", "destination.port": "53", "network.transport": "udp"])
        assertFields(asa("%ASA-6-302014: Teardown TCP connection 4711 for outside:192.0.2.10/51234 to dmz:10.2.2.2/443 duration 0:00:30 bytes 10240 TCP FINs"),
                     ["event.action": "connection-teardown", "network.bytes": "10240", "event.reason": "TCP FINs", "event.duration": "30000000000"])
        assertFields(asa("%ASA-6-302016: Teardown UDP connection 4712 for outside:8.8.8.8/53 to inside:10.0.0.5/53211 duration 0:00:00 bytes 120"),
                     ["network.transport": "udp", "network.bytes": "120"])
    }

    func testASAAuthentication() {
        assertFields(asa("%ASA-6-113004: AAA user authentication Successful : server = 10.0.0.20 : user = alice"),
                     ["user.name": "alice", "event.outcome": "success", "server.ip": "10.0.0.20", "event.category": "authentication"])
        assertFields(asa("%ASA-6-113005: AAA user authentication Rejected : reason = AAA failure : server = 10.0.0.20 : user = bob : user IP = 192.0.2.44"),
                     ["user.name": "bob", "event.outcome": "failure", "source.ip": "192.0.2.44", "event.reason": "AAA failure"])
        assertFields(asa("%ASA-6-113015: AAA user authentication Rejected : reason = Invalid password : local database : user = admin : user IP = 192.0.2.44"),
                     ["user.name": "admin", "event.outcome": "failure"])
        assertFields(asa(#"%ASA-6-605004: Login denied from 192.0.2.44/51515 to outside:203.0.113.1/ssh for user "admin""#),
                     ["user.name": "admin", "event.outcome": "failure", "source.ip": "192.0.2.44", "source.port": "51515", "destination.ip": "203.0.113.1", "network.protocol": "ssh"])
        assertFields(asa(#"%ASA-6-605005: Login permitted from 10.0.0.8/50000 to inside:10.0.0.1/https for user "netadmin""#), ["event.outcome": "success"])
        assertFields(asa("%ASA-5-611101: User authentication succeeded: IP address: 10.0.0.8, Uname: netadmin"),
                     ["user.name": "netadmin", "source.ip": "10.0.0.8", "event.outcome": "success"])
        assertFields(asa("%ASA-5-611102: User authentication failed: IP address: 192.0.2.44, Uname: root"), ["event.outcome": "failure"])
    }

    func testASAUnknownIdAndNoHost() {
        let r = parseOK("<166>Mar 10 2024 12:00:00: %ASA-5-111008: User 'enable_15' executed the 'write memory' command.")
        XCTAssertEqual(r.format, "cisco-asa")
        XCTAssertNil(r.fields["host.name"])
        assertFields(r, ["event.code": "111008", "message": "User 'enable_15' executed the 'write memory' command."])
    }

    func testASAMalformed() {
        XCTAssertEqual(directFailure(CiscoASAParser(), "%ASA-9-1060:x"),
                       ParseFailure(code: "asa.header", reason: "expected '%ASA-<severity 0-7>-<6-digit message id>:' at offset 0, found '%ASA-9-1060:x'"))
        XCTAssertEqual(directFailure(CiscoASAParser(), "%ASA-4-106023: Deny tcp from nowhere"),
                       ParseFailure(code: "asa.106023", reason: "expected 'Deny <proto> src <if>:<ip>/<port> dst <if>:<ip>/<port>' in message 106023 at offset 15"))
    }

    // MARK: pfSense
    func testPfSenseIPv4TCP() {
        let r = parseOK("<134>Mar 10 12:00:00 filterlog[31234]: 5,,,1000000103,igb0,match,block,in,4,0x0,,64,12345,0,DF,6,tcp,60,198.51.100.7,192.0.2.10,51234,22,0,S,1234567890,,64240,,mss;sackOK;TS;nop;wscale")
        XCTAssertEqual(r.format, "pfsense")
        assertFields(r, ["source.ip": "198.51.100.7", "destination.ip": "192.0.2.10", "source.port": "51234", "destination.port": "22",
                         "network.transport": "tcp", "event.action": "block", "event.outcome": "failure", "network.direction": "ingress",
                         "observer.ingress.interface.name": "igb0", "rule.id": "1000000103", "network.type": "ipv4", "network.iana_number": "6"])
        XCTAssertEqual(r.vendor["tcpflags"], "S")
        XCTAssertEqual(r.timestamp, march10noon)
    }

    func testPfSenseUDPICMPAndIPv6() {
        assertFields(parseOK("<134>Mar 10 12:00:00 filterlog[1]: 9,,,1000000201,em0,match,pass,out,4,0x0,,64,0,0,DF,17,udp,76,10.0.0.5,8.8.8.8,53211,53,56"),
                     ["event.outcome": "success", "network.transport": "udp", "destination.port": "53", "network.direction": "egress"])
        let icmp = parseOK("<134>Mar 10 12:00:00 filterlog[1]: 9,,,1000000201,em0,match,pass,in,4,0x0,,64,0,0,none,1,icmp,84,10.0.0.5,10.0.0.1,request,4242,1")
        assertFields(icmp, ["network.transport": "icmp", "icmp.type": "request"])
        XCTAssertNil(icmp.fields["source.port"])
        let v6 = parseOK("<134>1 2024-03-10T12:00:00.000000+00:00 pfsense.lan filterlog 31234 - - 4,,,1000000105,igb1,match,block,in,6,0x00,0x00000,255,UDP,17,68,fe80::1,ff02::1:2,546,547,68")
        XCTAssertEqual(v6.format, "pfsense")
        assertFields(v6, ["network.type": "ipv6", "source.ip": "fe80::1", "destination.ip": "ff02::1:2", "source.port": "546", "destination.port": "547",
                          "network.transport": "udp", "host.name": "pfsense.lan"])
    }

    func testPfSenseMalformed() {
        XCTAssertEqual(directFailure(PfSenseParser(), "<134>Mar 10 12:00:00 filterlog[1]: 5,,,1,igb0,match,block,in,7,x"),
                       ParseFailure(code: "pfsense.ipversion", reason: "expected IP version 4 or 6 in field 9, found '7'"))
        XCTAssertEqual(directFailure(PfSenseParser(), "<134>Mar 10 12:00:00 filterlog[1]: 5,,,1,igb0,match,block,in,4,0x0,,64"),
                       ParseFailure(code: "pfsense.columns", reason: "IPv4 filterlog needs at least 20 fields (through destination address), found 12"))
        let r = parseOK("<134>Mar 10 12:00:00 filterlog[1]: 5,,,1,igb0")
        XCTAssertEqual(r.format, "syslog-rfc3164")
        XCTAssertEqual(r.fields["error.code"], "pfsense.columns")
    }
}

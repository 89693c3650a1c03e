import XCTest
@testable import VigilParsers

final class LinuxAuthTests: XCTestCase {
    let h = "Mar 10 12:00:00 bastion "

    func auth(_ msg: String, file: StaticString = #filePath, line: UInt = #line) -> ParsedRecord {
        let r = parseOK(h + msg, file: file, lineNo: line)
        XCTAssertEqual(r.format, "linux-auth", msg, file: file, line: line)
        return r
    }

    func testSSHDFailedPassword() {
        let r = auth("sshd[2201]: Failed password for root from 203.0.113.5 port 52144 ssh2")
        assertFields(r, ["event.category": "authentication", "event.action": "ssh_login", "event.outcome": "failure",
                         "user.name": "root", "source.ip": "203.0.113.5", "source.port": "52144", "ssh.method": "password",
                         "host.name": "bastion", "process.name": "sshd", "process.pid": "2201"])
        XCTAssertEqual(r.timestamp, march10noon)
        XCTAssertNil(r.fields["user.exists"])
    }

    func testSSHDFailedPasswordInvalidUserIPv6() {
        let r = auth("sshd[2201]: Failed password for invalid user oracle from 2001:db8::7 port 40022 ssh2")
        assertFields(r, ["user.name": "oracle", "user.exists": "false", "source.ip": "2001:db8::7", "source.port": "40022", "event.outcome": "failure"])
    }

    func testSSHDAccepted() {
        let pw = auth("sshd[3100]: Accepted password for alice from 10.0.0.5 port 51000 ssh2")
        assertFields(pw, ["event.outcome": "success", "user.name": "alice", "ssh.method": "password", "source.ip": "10.0.0.5"])
        let key = auth("sshd[3100]: Accepted publickey for deploy from 10.0.0.6 port 51001 ssh2: ED25519 SHA256:Xk1f9Q2jLqG2p0M2b7n0xv0V3Q9wC1T9xk1f9Q2jLqG")
        assertFields(key, ["event.outcome": "success", "user.name": "deploy", "ssh.method": "publickey", "source.port": "51001"])
    }

    func testSSHDInvalidUserAndPreauthAndMaxAttempts() {
        assertFields(auth("sshd[9]: Invalid user admin from 198.51.100.23 port 4444"),
                     ["event.action": "ssh_invalid_user", "event.outcome": "failure", "user.name": "admin", "source.ip": "198.51.100.23", "source.port": "4444"])
        assertFields(auth("sshd[9]: Connection closed by authenticating user root 198.51.100.23 port 50432 [preauth]"),
                     ["event.action": "ssh_preauth_disconnect", "user.name": "root", "source.ip": "198.51.100.23", "source.port": "50432"])
        assertFields(auth("sshd[9]: error: maximum authentication attempts exceeded for invalid user test from 198.51.100.23 port 50500 ssh2 [preauth]"),
                     ["event.action": "ssh_max_auth_attempts", "user.name": "test", "user.exists": "false", "source.port": "50500"])
    }

    func testSSHDUnknownMessageFallsBackToGenericSyslog() {
        let r = parseOK(h + "sshd[9]: Server listening on 0.0.0.0 port 22.")
        XCTAssertEqual(r.format, "syslog-rfc3164")
        XCTAssertEqual(r.fields["message"], "Server listening on 0.0.0.0 port 22.")
        XCTAssertNil(r.fields["event.category"])
    }

    func testSudoCommand() {
        let r = auth("sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt install -y nmap")
        assertFields(r, ["event.category": "process", "event.action": "sudo_command", "event.outcome": "success", "user.name": "alice",
                         "user.target.name": "root", "process.command_line": "/usr/bin/apt install -y nmap", "process.executable": "/usr/bin/apt",
                         "process.working_directory": "/home/alice", "process.tty": "pts/0"])
    }

    func testSudoCommandContainingSemicolons() {
        let r = auth("sudo[812]: bob : TTY=pts/2 ; PWD=/tmp ; USER=root ; COMMAND=/bin/sh -c echo a ; id")
        XCTAssertEqual(r.fields["process.command_line"], "/bin/sh -c echo a ; id")
    }

    func testSudoFailures() {
        assertFields(auth("sudo: mallory : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/home/mallory ; USER=root ; COMMAND=/bin/bash"),
                     ["event.category": "authentication", "event.action": "sudo_auth_failure", "event.outcome": "failure",
                      "sudo.failed_attempts": "3", "user.name": "mallory", "user.target.name": "root"])
        assertFields(auth("sudo: mallory : user NOT in sudoers ; TTY=pts/1 ; PWD=/home/mallory ; USER=root ; COMMAND=/bin/cat /etc/shadow"),
                     ["event.action": "sudo_not_in_sudoers", "event.outcome": "failure", "process.command_line": "/bin/cat /etc/shadow"])
    }

    func testSu() {
        assertFields(auth("su[1201]: FAILED SU (to root) alice on pts/0"),
                     ["event.action": "su", "event.outcome": "failure", "user.name": "alice", "user.target.name": "root", "process.tty": "pts/0"])
        assertFields(auth("su[1202]: (to root) alice on pts/0"), ["event.outcome": "success", "user.name": "alice", "user.target.name": "root"])
        assertFields(auth("su[1203]: Successful su for postgres by alice"), ["event.outcome": "success", "user.name": "alice", "user.target.name": "postgres"])
        assertFields(auth("su[1204]: - pts/3 eve:root"), ["event.outcome": "failure", "user.name": "eve", "user.target.name": "root"])
    }

    func testPAMAuthenticationFailures() {
        assertFields(auth("su[1201]: pam_unix(su:auth): authentication failure; logname=alice uid=1000 euid=0 tty=/dev/pts/0 ruser=alice rhost=  user=root"),
                     ["event.action": "pam_auth_failure", "event.outcome": "failure", "user.name": "alice", "user.target.name": "root",
                      "pam.service": "su", "pam.module": "pam_unix", "user.id": "1000"])
        let ssh = auth("sshd[2201]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.5  user=root")
        assertFields(ssh, ["user.name": "root", "source.ip": "203.0.113.5", "pam.service": "sshd"])
        XCTAssertNil(ssh.fields["user.target.name"])
        let host = auth("sshd[2201]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=scanner.example.net")
        XCTAssertEqual(host.fields["source.domain"], "scanner.example.net")
        XCTAssertNil(host.fields["source.ip"])
    }

    func testPAMSessionOpenedForSu() {
        let r = auth("su[1202]: pam_unix(su:session): session opened for user root(uid=0) by alice(uid=1000)")
        assertFields(r, ["event.category": "session", "event.action": "session_opened", "user.name": "alice", "user.target.name": "root"])
    }

    func testAccountManagement() {
        assertFields(auth("useradd[5001]: new user: name=backdoor, UID=1337, GID=1337, home=/home/backdoor, shell=/bin/bash, from=/dev/pts/0"),
                     ["event.category": "iam", "event.action": "user_created", "user.target.name": "backdoor", "user.target.id": "1337",
                      "user.target.shell": "/bin/bash"])
        assertFields(auth("groupadd[5002]: group added to /etc/group: name=devs, GID=1002"),
                     ["event.action": "group_created", "group.name": "devs", "group.id": "1002"])
        assertFields(auth("usermod[5003]: add 'backdoor' to group 'sudo'"),
                     ["event.action": "user_added_to_group", "user.target.name": "backdoor", "group.name": "sudo"])
        assertFields(auth("usermod[5003]: change user 'backdoor' shell from '/bin/sh' to '/bin/bash'"),
                     ["event.action": "user_modified", "user.target.name": "backdoor"])
        assertFields(auth("userdel[5004]: delete user 'backdoor'"), ["event.action": "user_deleted", "user.target.name": "backdoor"])
        assertFields(auth("groupdel[5005]: group 'devs' removed"), ["event.action": "group_deleted", "group.name": "devs"])
        assertFields(auth("useradd[5007]: failed adding user 'bad', data deleted"),
                     ["event.action": "user_created", "event.outcome": "failure", "user.target.name": "bad"])
        assertFields(auth("passwd[5006]: pam_unix(passwd:chauthtok): password changed for alice"),
                     ["event.action": "password_changed", "user.target.name": "alice"])
    }

    func testDirectParserDeclinesNonAuthPrograms() {
        XCTAssertNil(LinuxAuthParser().parse(h + "nginx[1]: Failed password for root from 1.2.3.4 port 1 ssh2", receivedAt: received))
        XCTAssertNil(LinuxAuthParser().parse("{\"a\":1}", receivedAt: received))
    }
}

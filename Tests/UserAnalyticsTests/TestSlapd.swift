import Foundation
import XCTest
import VigilTestSupport
import VigilLDAP
#if canImport(Glibc)
import Glibc
#endif

/// A real OpenLDAP server for one test: its own directory under /tmp, its own slapd.conf
/// (Active Directory's user schema from Debian's msuser.schema), fixture entries loaded with
/// slapadd, listening on a free loopback port; stopped by pid. Never touches the system slapd.
final class TestSlapd {
    let dir: String
    let port: UInt16
    let baseDN = "dc=corp,dc=test"
    let rootDN = "cn=admin,dc=corp,dc=test"
    let password = "fixture-secret"
    private var process: Process?
    var url: String { "ldap://127.0.0.1:\(port)" }

    /// `entries`: LDIF of the users (the base and OUs are added here). `tls`: serve StartTLS with a fresh self-signed certificate.
    init(entries: String, tls: Bool = false) throws {
        dir = NSTemporaryDirectory() + "vigil-slapd-\(UUID().uuidString.prefix(8))"
        port = FreePort.next()
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/db", withIntermediateDirectories: true)
        for tool in ["/usr/sbin/slapd", "/usr/sbin/slapadd", "/usr/bin/ldapmodify"] where !fm.isExecutableFile(atPath: tool) {
            throw XCTestError(.failureWhileWaiting, userInfo: ["reason": "\(tool) missing: run scripts/install-deps.sh (slapd, ldap-utils)"])
        }
        var conf = """
        include /etc/ldap/schema/core.schema
        include /etc/ldap/schema/cosine.schema
        include /etc/ldap/schema/inetorgperson.schema
        include /etc/ldap/schema/nis.schema
        include /etc/ldap/schema/msuser.schema
        modulepath /usr/lib/ldap
        moduleload back_mdb
        pidfile \(dir)/slapd.pid

        """
        if tls {
            try Self.run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                                              "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem"])
            conf += "TLSCertificateFile \(dir)/cert.pem\nTLSCertificateKeyFile \(dir)/key.pem\n"
        }
        conf += """
        database mdb
        maxsize 104857600
        suffix "\(baseDN)"
        rootdn "\(rootDN)"
        rootpw \(password)
        directory \(dir)/db
        index objectClass eq

        """
        try conf.write(toFile: dir + "/slapd.conf", atomically: true, encoding: .utf8)
        let base = """
        dn: \(baseDN)
        objectClass: dcObject
        objectClass: organization
        o: corp
        dc: corp

        dn: ou=people,\(baseDN)
        objectClass: organizationalUnit
        ou: people

        dn: ou=contractors,\(baseDN)
        objectClass: organizationalUnit
        ou: contractors


        """
        try (base + entries).write(toFile: dir + "/fixture.ldif", atomically: true, encoding: .utf8)
        try Self.run("/usr/sbin/slapadd", ["-f", dir + "/slapd.conf", "-l", dir + "/fixture.ldif"])
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/slapd")
        // -d 0: stay in the foreground (the test owns the process) without debug output.
        p.arguments = ["-f", dir + "/slapd.conf", "-h", "ldap://127.0.0.1:\(port)/", "-d", "0"]
        p.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        let log = dir + "/slapd.log"
        fm.createFile(atPath: log, contents: nil)
        p.standardError = FileHandle(forWritingAtPath: log)
        try p.run()
        process = p
        // Ready when a bind succeeds.
        let deadline = Date().addingTimeInterval(15)
        var last = ""
        while Date() < deadline {
            var o = LDAPOptions()
            o.url = url; o.bindDN = rootDN; o.password = password; o.timeoutSeconds = 2
            do { _ = try LDAPConnection(o); return } catch { last = "\(error)" }
            usleep(100_000)
        }
        stop()
        throw XCTestError(.timeoutWhileWaiting, userInfo: ["reason": "slapd did not answer on \(url): \(last); log: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")"])
    }

    func options() -> LDAPOptions {
        var o = LDAPOptions()
        o.url = url; o.bindDN = rootDN; o.password = password; o.timeoutSeconds = 5
        return o
    }

    /// Changes entries through the running server (so it stamps modifyTimestamp), with ldapmodify.
    func modify(_ ldif: String) throws {
        let path = dir + "/change-\(UUID().uuidString.prefix(6)).ldif"
        try ldif.write(toFile: path, atomically: true, encoding: .utf8)
        try Self.run("/usr/bin/ldapmodify", ["-x", "-H", url, "-D", rootDN, "-w", password, "-f", path])
    }

    func stop() {
        if let p = process, p.isRunning {
            kill(p.processIdentifier, SIGTERM)
            p.waitUntilExit()
        }
        process = nil
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    static func run(_ tool: String, _ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        let data = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw XCTestError(.failureWhileWaiting, userInfo: ["reason": "\(tool) \(args.joined(separator: " ")) failed: \(String(decoding: data, as: UTF8.self))"])
        }
    }


    /// A binary objectSid S-1-5-21-a-b-c-rid, base64 for LDIF.
    static func sid(rid: UInt32) -> (text: String, base64: String) {
        let subs: [UInt32] = [21, 2127521184, 1604012920, 1680506353, rid]
        var b: [UInt8] = [1, UInt8(subs.count), 0, 0, 0, 0, 0, 5]
        for s in subs { b += [UInt8(s & 0xff), UInt8(s >> 8 & 0xff), UInt8(s >> 16 & 0xff), UInt8(s >> 24)] }
        return ("S-1-5-" + subs.map(String.init).joined(separator: "-"), Data(b).base64EncodedString())
    }

    /// One Active Directory-like user entry.
    static func user(_ cn: String, ou: String = "people", sam: String?, department: String = "", title: String = "",
                     groups: [String] = [], manager: String? = nil, rid: UInt32? = nil) -> String {
        var s = """
        dn: cn=\(cn),ou=\(ou),dc=corp,dc=test
        objectClass: user
        objectClass: extensibleObject
        cn: \(cn)
        sn: \(cn)
        instanceType: 4
        nTSecurityDescriptor:: AA==
        objectCategory: cn=Person,cn=Schema,cn=Configuration,dc=corp,dc=test
        displayName: \(cn.capitalized) Example
        modifyTimestamp: 20200101000000Z

        """
        if let sam {
            s += "sAMAccountName: \(sam)\nuserPrincipalName: \(sam)@corp.test\nmail: \(sam)@corp.test\n"
        }
        if !department.isEmpty { s += "department: \(department)\n" }
        if !title.isEmpty { s += "title: \(title)\n" }
        for g in groups { s += "memberOf: cn=\(g),ou=groups,dc=corp,dc=test\n" }
        if let m = manager { s += "manager: cn=\(m),ou=people,dc=corp,dc=test\n" }
        if let rid { s += "objectSid:: \(sid(rid: rid).base64)\n" }
        return s + "\n"
    }
}

import Foundation
import XCTest
import VigilBus
import VigilLog
import VigilWire
#if canImport(Glibc)
import Glibc
#endif

/// The service as deployed: vigil-broker and vigil-user-analytics processes configured with
/// `--ldap.*` against a real slapd; the first sync runs on its own, `ua.sync` on request, and
/// a stopped directory server fails the sync without losing users.
final class ServiceSyncTests: XCTestCase {
    var dir = ""
    var processes: [Process] = []
    let context = ZContext()

    override func tearDown() {
        for p in processes where p.isRunning { kill(p.processIdentifier, SIGTERM); p.waitUntilExit() }
        context.terminate()
        if testRun?.hasSucceeded == false { print((try? String(contentsOfFile: dir + "/ua.log", encoding: .utf8))?.suffix(3000) ?? "") }
        try? FileManager.default.removeItem(atPath: dir)
    }

    static func buildDirectory() -> String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        var url = URL(fileURLWithPath: exe).deletingLastPathComponent()
        while !url.path.isEmpty && url.path != "/" {
            if FileManager.default.fileExists(atPath: url.path + "/vigil-user-analytics") { return url.path }
            url = url.deletingLastPathComponent()
        }
        return FileManager.default.currentDirectoryPath + "/.build/debug"
    }

    func start(_ binary: String, _ args: [String], log: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.buildDirectory() + "/" + binary)
        p.arguments = ["--data", dir] + args
        FileManager.default.createFile(atPath: log, contents: nil)
        p.standardOutput = FileHandle(forWritingAtPath: log)
        p.standardError = FileHandle(forWritingAtPath: log)
        try p.run()
        processes.append(p)
    }

    func testServiceSyncsFromLDAPAndKeepsUsersWhenTheServerGoesAway() throws {
        dir = "/tmp/vua-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let slapd = try TestSlapd(entries: DirectorySyncTests.fixture)
        try slapd.password.write(toFile: dir + "/ldap-password", atomically: true, encoding: .utf8)
        try start("vigil-broker", [], log: dir + "/broker.log")
        try start("vigil-user-analytics", ["--ldap.url", slapd.url, "--ldap.bind-dn", slapd.rootDN, "--ldap.password", "@" + dir + "/ldap-password",
                                           "--ldap.base-dn", slapd.baseDN, "--ldap.page-size", "2", "--ldap.changed-attribute", "modifyTimestamp",
                                           "--sync.changed-every", "0"], log: dir + "/ua.log")
        let c = try RpcClient(context: context, endpoint: BusEndpoints.local(runDirectory: dir + "/run").rpc, caller: Identity(name: "test", role: "admin"))
        defer { c.close() }
        func call<R: WireMessage>(_ m: String, _ req: some WireMessage, _: R.Type) throws -> R {
            try c.call(service: "user-analytics", method: m, req, as: R.self, timeoutMs: 15_000)
        }
        // The first full sync runs by itself shortly after start.
        let deadline = Date().addingTimeInterval(20)
        var syncs: [DirectorySyncReport] = []
        while Date() < deadline {
            syncs = (try? call("ua.syncs", UserRequest(), DirectorySyncReportList.self).syncs) ?? []
            if !syncs.isEmpty { break }
            usleep(200_000)
        }
        let first = try XCTUnwrap(syncs.first, "no sync within 20 s")
        XCTAssertTrue(first.ok, first.error)
        XCTAssertEqual(first.added, 4)
        XCTAssertEqual(first.rejected, 1)
        XCTAssertEqual(first.duplicates, 1)
        let finance = try call("ua.users", UserRequest(query: "user.department: Finance"), UserRiskPage.self)
        XCTAssertEqual(Set(finance.users.map(\.id)), ["alice", "carol"])
        let bob = try call("ua.user", UserRequest(user: "CORP\\bob"), UserDetail.self)
        XCTAssertTrue(bob.directory.privileged)
        XCTAssertEqual(bob.attributes["dn"], "cn=bob,ou=people,dc=corp,dc=test")
        XCTAssertEqual(bob.directory.sid, TestSlapd.sid(rid: 1102).text)
        XCTAssertGreaterThanOrEqual(try c.call(service: "user-analytics", method: "sys.metrics", MetricsResponse(), as: MetricsResponse.self, timeoutMs: 5000)
            .counters["out.published"] ?? 0, 4, "each added user went out on directory.changed")

        // `vigil users sync` starts one and waits for its outcome.
        let cli = Process()
        cli.executableURL = URL(fileURLWithPath: Self.buildDirectory() + "/vigil")
        cli.arguments = ["users", "sync", "--mode", "changed", "--json", "--data", dir]
        let out = Pipe()
        cli.standardOutput = out
        try cli.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        cli.waitUntilExit()
        XCTAssertEqual(cli.terminationStatus, 0, text)
        let synced = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
        XCTAssertEqual(synced["mode"] as? String, "changed", text)
        XCTAssertEqual(synced["ok"] as? Bool, true, text)
        XCTAssertEqual(synced["fetched"] as? Int, 0, "fixtures are stamped 2020: nothing changed since the first sync")

        // The directory server goes away: the requested sync fails with the reason, users stay.
        slapd.stop()
        let started = try call("ua.sync", DirectorySyncRequest(mode: "changed"), DirectorySyncReport.self)
        XCTAssertTrue(started.running, "the read runs in the background")
        var failed = DirectorySyncReport()
        let until = Date().addingTimeInterval(20)
        while Date() < until {
            if let r = try call("ua.syncs", UserRequest(), DirectorySyncReportList.self).syncs.first(where: { $0.startedTimeMs >= started.startedTimeMs }) { failed = r; break }
            usleep(100_000)
        }
        XCTAssertEqual(failed.mode, "changed")
        XCTAssertFalse(failed.ok)
        XCTAssertTrue(failed.error.contains("ldap connect failed"), failed.error)
        XCTAssertEqual(try call("ua.users", UserRequest(query: "user.in_directory: true"), UserRiskPage.self).total, 4)
        XCTAssertEqual(try call("ua.syncs", UserRequest(), DirectorySyncReportList.self).syncs.first?.ok, false)
        XCTAssertThrowsError(try call("ua.sync", DirectorySyncRequest(mode: "sideways"), DirectorySyncReport.self)) { e in
            XCTAssertEqual((e as? RpcError)?.code, .badRequest)
        }
    }
}

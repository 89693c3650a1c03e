import Foundation
import XCTest
import VigilTestSupport
import ResponseService
import VigilBus
import VigilStore
import VigilWire

/// The response service against real servers on loopback: a Python SMTP sink and a Python
/// HTTP sink that records every request and fails on demand.
final class ResponseEndToEndTests: XCTestCase {
    var stack: TestStack!
    var httpPort: UInt16 = 0
    var smtpPort: UInt16 = 0

    override func setUpWithError() throws {
        guard FileManager.default.fileExists(atPath: "/usr/bin/python3") else { throw TestSetupError(message: "/usr/bin/python3 missing: run scripts/install-deps.sh") }
        stack = try TestStack()
    }

    override func tearDown() { stack?.cleanup() }

    static let ruleId = "bbbbbbbb-0000-4000-8000-00000000000"

    func rule(_ n: Int, responses: [String]) -> String {
        """
        {"id": "\(Self.ruleId)\(n)", "name": "Failed login (notify)", "status": "active", "criticality": "high", "risk_score": 70,
         "mitre": {"tactics": [{"id": "TA0006", "name": "Credential Access"}], "techniques": [{"id": "T1110", "name": "Brute Force"}]},
         "detection": {"type": "match", "condition": "event.category: authentication and event.outcome: failure", "group_by": ["user.name", "source.ip"]},
         "responses": [\(responses.map { "\"\($0)\"" }.joined(separator: ", "))]}
        """
    }

    /// Core + sinks + response service with `templates` (JSON objects) and a rule naming them.
    func start(templates: [String], responseArgs: [String] = [], delayMs: Int = 0, startResponse: Bool = true) throws {
        try stack.startCore(ingestArgs: ["--syslog.udp", "off", "--syslog.tcp", "off"])
        httpPort = FreePort.next()
        smtpPort = FreePort.next()
        try stack.startPython("http_sink.py", name: "http-sink", [String(httpPort), stack.dir + "/http.jsonl"] + (delayMs > 0 ? ["--delay-ms", String(delayMs)] : []))
        try stack.startPython("smtp_sink.py", name: "smtp-sink", [String(smtpPort), stack.dir + "/smtp.jsonl"])
        let list = templates.map { $0.replacingOccurrences(of: "PORT", with: String(httpPort)) }
        try Data("{\"templates\": [\(list.joined(separator: ","))]}".utf8).write(to: URL(fileURLWithPath: stack.dir + "/templates.json"))
        guard startResponse else { return }
        try stack.startResponse(["--templates", stack.dir + "/templates.json", "--smtp.url", "smtp://127.0.0.1:\(smtpPort)",
                                 "--smtp.starttls", "off", "--smtp.from", "vigil@test.example",
                                 "--pagerduty.url", "http://127.0.0.1:\(httpPort)/pd", "--retry.base", "200", "--retry.attempts", "3",
                                 "--rate.per-destination", "0"] + responseArgs)
    }

    func submit(_ users: [String], batch: String) throws {
        let c = try stack.client()
        defer { c.close() }
        var b = EventBatch()
        b.batchId = batch
        b.agentId = "test"
        for (i, u) in users.enumerated() {
            var e = Event()
            e.id = "\(batch)-\(i)"
            e.raw = Array("<38>Dec  4 09:15:11 web01 sshd[1]: Failed password for \(u) from 10.9.8.7 port 4000 ssh2".utf8)
            b.events.append(e)
        }
        _ = try c.call(service: "ingest", method: "ingest.submit", b, as: EventBatchAck.self, timeoutMs: 20_000)
    }

    func createRule(_ json: String) throws {
        let c = try stack.client()
        defer { c.close() }
        _ = try c.call(service: "detection", method: "rules.create", RuleRequest(ruleJson: json), as: RuleDetail.self, timeoutMs: 10_000)
    }

    func call<R: WireMessage>(_ method: String, _ req: some WireMessage, _: R.Type) throws -> R {
        let c = try stack.client()
        defer { c.close() }
        return try c.call(service: "response", method: method, req, as: R.self, timeoutMs: 10_000)
    }

    func records(_ file: String) -> [[String: Any]] {
        let text = (try? String(contentsOfFile: stack.dir + "/" + file, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }

    func http(_ prefix: String) -> [[String: Any]] { records("http.jsonl").filter { ($0["path"] as? String ?? "").hasPrefix(prefix) } }

    func header(_ r: [String: Any], _ name: String) -> String? {
        (r["headers"] as? [String: String])?.first { $0.key.lowercased() == name.lowercased() }?.value
    }

    // MARK: -

    /// Templates owned by the config service (`response_template` objects) are followed live:
    /// created, used by a rule, changed, deleted — and an invalid one is refused and counted.
    func testTemplatesFromTheConfigService() throws {
        try stack.start("vigil-config", name: "config")
        try start(templates: [])
        try stack.waitHealthy(["config", "response"])
        let c = try stack.client()
        defer { c.close() }
        func configCall(_ method: String, _ req: ConfigRequest) throws {
            _ = try c.call(service: "config", method: "config.\(method)", req, as: ConfigReply.self, timeoutMs: 10_000)
        }
        func metric(_ k: String) throws -> UInt64 { try stack.metrics("response").counters[k] ?? 0 }
        try configCall("create", ConfigRequest(kind: "response_template", objectJSON: """
            {"id": "soc-hook", "name": "SOC webhook", "channel": "webhook", "recipients": ["http://127.0.0.1:\(httpPort)/cfg"],
             "subject": "{{rule.name}}", "body": "v1 {{entity.user}}"}
            """))
        try stack.eventually("response took the template from config") { try metric("templates.config_applied") == 1 }
        try createRule(rule(7, responses: ["soc-hook"]))
        try submit(["carol"], batch: "cfg-1")
        try stack.eventually("delivered through the config template") { self.http("/cfg").count == 1 }
        func text(_ r: [String: Any]?) -> String? {
            guard let body = r?["body"] as? String, let o = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else { return nil }
            return o["text"] as? String
        }
        XCTAssertEqual(text(http("/cfg").first), "v1 carol")

        try configCall("update", ConfigRequest(kind: "response_template", id: "soc-hook", objectJSON: """
            {"name": "SOC webhook", "channel": "webhook", "recipients": ["http://127.0.0.1:\(httpPort)/cfg"], "body": "v2 {{entity.user}}"}
            """))
        try stack.eventually("the change applied") { try metric("templates.config_applied") == 2 }
        try submit(["dave"], batch: "cfg-2")
        try stack.eventually("delivered with the changed body") { self.http("/cfg").count == 2 }
        XCTAssertEqual(text(http("/cfg").last), "v2 dave")

        // Config accepts any text in recipients; a template needs an address: refused here, counted.
        try configCall("create", ConfigRequest(kind: "response_template", objectJSON: #"{"id": "bad-mail", "name": "Bad mail", "channel": "email", "recipients": ["not-an-address"], "body": "x"}"#))
        try stack.eventually("the bad template refused") { try metric("templates.config_refused") == 1 }

        // A template a rule still sends is not deleted: the rules are named.
        XCTAssertThrowsError(try configCall("delete", ConfigRequest(kind: "response_template", id: "soc-hook"))) { e in
            let msg = (e as? RpcError)?.message ?? "\(e)"
            XCTAssertTrue(msg.contains("response_template 'soc-hook' is used by: rule/\(Self.ruleId)7 'Failed login (notify)' (responses)"), msg)
        }
        _ = try c.call(service: "detection", method: "rules.delete", RuleRequest(id: "\(Self.ruleId)7"), as: RuleDetail.self, timeoutMs: 10_000)
        try configCall("delete", ConfigRequest(kind: "response_template", id: "soc-hook"))
        try stack.eventually("deleted with the object") { try metric("templates.config_deleted") == 1 }
        let list = try call("templates.list", TemplateRequest(), TemplateDocument.self).json
        XCTAssertFalse(list.contains("soc-hook"), list)
        XCTAssertFalse(list.contains("bad-mail"), list)
    }

    func testEveryChannelIsDeliveredOnceAndVisibleOverRPCAndCLI() throws {
        try start(templates: [
            #"{"id": "mail", "channel": "email", "destination": "soc@example.com, oncall@example.com", "subject": "[{{signal.criticality}}] {{rule.name}} for {{entity.user}}", "body": "risk {{risk.score}} {{mitre.technique}} on {{entity.asset}} from {{entity.ip}}\n.\nsignal {{signal.id}}"}"#,
            #"{"id": "slack", "channel": "slack", "destination": "http://127.0.0.1:PORT/slack/T000", "body": "{{rule.name}}: <{{entity.user}}> {{signal.event_count}} event(s)"}"#,
            #"{"id": "pd", "channel": "pagerduty", "destination": "R0UTINGKEY1", "subject": "{{rule.name}} {{entity.user}}"}"#,
            #"{"id": "hook", "channel": "webhook", "destination": "http://127.0.0.1:PORT/hook", "secret": "s3cret", "body": "{{entity.user}} {{mitre.tactic}}"}"#,
        ])
        try createRule(rule(1, responses: ["mail", "slack", "pd", "hook"]))
        try submit(["alice"], batch: "b1")
        try stack.eventually("one POST per HTTP template and one mail") {
            http("/slack").count == 1 && http("/pd").count == 1 && http("/hook").count == 1 && records("smtp.jsonl").count == 1
        }
        let hook = http("/hook")[0]
        let body = try XCTUnwrap(hook["body"] as? String)
        XCTAssertEqual(header(hook, "X-Vigil-Signature"), "sha256=" + HMAC.sha256Hex(key: Array("s3cret".utf8), message: Array(body.utf8)))
        let payload = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        let signal = try XCTUnwrap(payload["signal"] as? [String: Any])
        let signalId = try XCTUnwrap(signal["id"] as? String)
        XCTAssertEqual(payload["text"] as? String, "alice TA0006")
        XCTAssertEqual(header(hook, "Idempotency-Key"), "\(signalId)/hook")

        let slack = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data((http("/slack")[0]["body"] as? String ?? "").utf8)) as? [String: Any])
        // The template's own mrkdwn stays as written; only substituted values are escaped (unit tests).
        XCTAssertEqual(slack["text"] as? String, "Failed login (notify): <alice> 1 event(s)")
        let pd = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data((http("/pd")[0]["body"] as? String ?? "").utf8)) as? [String: Any])
        XCTAssertEqual(pd["routing_key"] as? String, "R0UTINGKEY1")
        XCTAssertEqual(pd["event_action"] as? String, "trigger")
        XCTAssertTrue((pd["dedup_key"] as? String ?? "").hasPrefix("\(Self.ruleId)1:"), "\(pd)")
        XCTAssertEqual((pd["payload"] as? [String: Any])?["summary"] as? String, "Failed login (notify) alice")

        let mail = records("smtp.jsonl")[0]
        XCTAssertEqual(mail["from"] as? String, "vigil@test.example")
        XCTAssertEqual(Set(mail["to"] as? [String] ?? []), ["soc@example.com", "oncall@example.com"])
        let data = mail["data"] as? String ?? ""
        XCTAssertTrue(data.contains("Subject: [high] Failed login (notify) for alice"), data)
        XCTAssertTrue(data.contains("risk 70 T1110 on web01 from 10.9.8.7"), data)
        XCTAssertTrue(data.contains("signal \(signalId)"), data)

        let list = try call("responses.of-signal", ResponseRequest(signalId: signalId), ResponseList.self)
        XCTAssertEqual(list.responses.map(\.templateId).sorted(), ["hook", "mail", "pd", "slack"])
        XCTAssertTrue(list.responses.allSatisfy { $0.status == .delivered && $0.attempts == 1 && $0.lastError.isEmpty }, "\(list)")

        // CLI: the Responses column of a signal, and templates.
        let out = try stack.vigil(["responses", signalId, "--data", stack.dir])
        XCTAssertEqual(out.status, 0, out.err)
        XCTAssertEqual(out.out.components(separatedBy: "delivered").count - 1, 4, out.out)
        let tl = try stack.vigil(["templates", "list", "--data", stack.dir])
        XCTAssertTrue(tl.out.contains("hook") && tl.out.contains("webhook") && !tl.out.contains("s3cret"), tl.out)

        // test-send goes through the same outbox; an invalid template is refused with its reason.
        let test = try stack.vigil(["templates", "test", "hook", "--data", stack.dir])
        XCTAssertEqual(test.status, 0, test.out + test.err)
        XCTAssertEqual(http("/hook").count, 2)
        XCTAssertThrowsError(try call("templates.create", TemplateRequest(templateJson: #"{"id": "x", "channel": "slack", "destination": "http://h/x", "body": "{{rule.nam}}"}"#), TemplateDocument.self)) { e in
            XCTAssertEqual((e as? RpcError)?.code, .badRequest)
            XCTAssertTrue((e as? RpcError)?.message.contains("body: unknown placeholder {{rule.nam}} at line 1, column 1") == true, "\(e)")
        }
        // Delivery status went out on responses.<channel>.
        XCTAssertGreaterThanOrEqual(try stack.metrics("response").counters["out.published"] ?? 0, 8)
    }

    /// Mail to a server that insists on STARTTLS and AUTH (aiosmtpd, TLS with a certificate the
    /// test makes): the mail arrives encrypted and authenticated; a wrong password is an `auth`
    /// error kept on the response; plaintext is refused when STARTTLS is required.
    func testMailOverSTARTTLSWithAuthentication() throws {
        try stack.startCore(ingestArgs: ["--syslog.udp", "off", "--syslog.tcp", "off"])
        let dir = stack.dir
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/smtp.key", "-out", dir + "/smtp.pem",
                             "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
        openssl.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        openssl.standardError = FileHandle(forWritingAtPath: "/dev/null")
        guard FileManager.default.fileExists(atPath: "/usr/bin/openssl") else { throw TestSetupError(message: "openssl missing: run scripts/install-deps.sh") }
        try openssl.run()
        openssl.waitUntilExit()
        XCTAssertEqual(openssl.terminationStatus, 0, "openssl made the server certificate")
        smtpPort = FreePort.next()
        try stack.startPython("smtp_tls_sink.py", name: "smtp-tls", [String(smtpPort), dir + "/smtp.jsonl", dir + "/smtp.pem", dir + "/smtp.key", "vigil", "s3cret pass"])
        try "s3cret pass\n".write(toFile: dir + "/smtp.password", atomically: true, encoding: .utf8)
        try Data(#"{"templates": [{"id": "soc-mail", "channel": "email", "destination": "soc@example.com", "subject": "{{rule.name}}", "body": "user {{entity.user}}"}]}"#.utf8)
            .write(to: URL(fileURLWithPath: dir + "/templates.json"))
        func startResponse(password: String, startTLS: String) throws {
            try stack.startResponse(["--templates", dir + "/templates.json", "--smtp.url", "smtp://127.0.0.1:\(smtpPort)",
                                     "--smtp.starttls", startTLS, "--smtp.user", "vigil", "--smtp.password", password,
                                     "--smtp.ca-file", dir + "/smtp.pem", "--smtp.from", "vigil@test.example",
                                     "--retry.base", "200", "--retry.attempts", "2", "--rate.per-destination", "0"])
            try stack.waitHealthy(["response"])
        }
        func responseOf(_ user: String) throws -> Response? {
            let c = try stack.client()
            defer { c.close() }
            guard let s = try c.call(service: "detection", method: "signals.search", QueryRequest(query: "user.name: \(user) and rule.id: \(Self.ruleId)8"),
                                     as: SignalPage.self, timeoutMs: 10_000).signals.first else { return nil }
            return try call("responses.of-signal", ResponseRequest(signalId: s.id), ResponseList.self).responses.first
        }
        try startResponse(password: "@" + dir + "/smtp.password", startTLS: "required")
        try createRule(rule(8, responses: ["soc-mail"]))
        try submit(["erin"], batch: "tls-1")
        try stack.eventually("mail delivered over STARTTLS with AUTH") { self.records("smtp.jsonl").count == 1 }
        let mail = records("smtp.jsonl")[0]
        XCTAssertEqual(mail["user"] as? String, "vigil")
        XCTAssertEqual(mail["tls"] as? Bool, true)
        XCTAssertEqual(mail["to"] as? [String], ["soc@example.com"])
        XCTAssertTrue((mail["data"] as? String ?? "").contains("user erin"))

        // A wrong password: every attempt fails with an auth error, kept on the response.
        stack.kill("response", signal: SIGTERM)
        try startResponse(password: "wrong", startTLS: "required")
        try submit(["frank"], batch: "tls-2")
        try stack.eventually("the wrong password is a dead letter") { try responseOf("frank")?.status == .dead }
        let refused = try responseOf("frank")
        XCTAssertTrue(refused?.lastError.contains("auth") == true, "\(String(describing: refused))")

        // STARTTLS off against a server that requires it: refused, never sent in clear text.
        stack.kill("response", signal: SIGTERM)
        try startResponse(password: "@" + dir + "/smtp.password", startTLS: "off")
        try submit(["grace"], batch: "tls-3")
        try stack.eventually("plaintext refused") { try responseOf("grace")?.status == .dead }
        XCTAssertEqual(records("smtp.jsonl").count, 1, "only the first mail was accepted")
    }

    func testRetriesWithBackoffThenDeadLettersAndRetryOnRequest() throws {
        try start(templates: [
            #"{"id": "flaky", "channel": "webhook", "destination": "http://127.0.0.1:PORT/fail-2/flaky"}"#,
            #"{"id": "down", "channel": "webhook", "destination": "http://127.0.0.1:PORT/dead/x"}"#,
            #"{"id": "refused", "channel": "webhook", "destination": "http://127.0.0.1:PORT/bad/x"}"#,
        ])
        try createRule(rule(2, responses: ["flaky", "down", "refused", "missing"]))
        try submit(["bob"], batch: "b2")
        try stack.eventually("flaky delivered on the 3rd attempt, down dead after 3") {
            http("/fail-2").count == 3 && http("/dead").count == 3
        }
        let times = http("/fail-2").compactMap { $0["time"] as? Double }
        // retry.base 200 ms: after attempt 1 wait in [100, 200) ms, after attempt 2 in [200, 400) ms.
        XCTAssertGreaterThanOrEqual(times[1] - times[0], 0.095, "\(times)")
        XCTAssertGreaterThanOrEqual(times[2] - times[1], 0.195, "\(times)")
        let signalId = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data((http("/fail-2")[0]["body"] as? String ?? "").utf8)) as? [String: Any])
            .flatMap { $0["signal"] as? [String: Any] }?["id"] as? String)
        var byTemplate: [String: Response] = [:]
        try stack.eventually("outcomes recorded") {
            byTemplate = Dictionary(uniqueKeysWithValues: try call("responses.of-signal", ResponseRequest(signalId: signalId), ResponseList.self).responses.map { ($0.templateId, $0) })
            return byTemplate["flaky"]?.status == .delivered && byTemplate["down"]?.status == .dead
        }
        XCTAssertEqual(byTemplate["flaky"]?.attempts, 3)
        XCTAssertEqual(byTemplate["down"]?.attempts, 3)
        XCTAssertTrue(byTemplate["down"]?.lastError.contains("HTTP 500") == true, "\(String(describing: byTemplate["down"]))")
        // 400 is not worth retrying: dead after one attempt.
        XCTAssertEqual(byTemplate["refused"]?.status, .dead)
        XCTAssertEqual(byTemplate["refused"]?.attempts, 1)
        XCTAssertEqual(http("/bad").count, 1)
        // A template the rule names but nobody created: a visible dead letter, not silence.
        XCTAssertEqual(byTemplate["missing"]?.status, .dead)
        XCTAssertTrue(byTemplate["missing"]?.lastError.hasPrefix("template_not_found") == true)

        let stats = Dictionary(uniqueKeysWithValues: try call("responses.stats", ResponseRequest(), ResponseStatsList.self).templates.map { ($0.templateId, $0) })
        XCTAssertEqual(stats["flaky"]?.delivered, 1)
        XCTAssertEqual(stats["down"]?.dead, 1)
        XCTAssertEqual(stats["down"]?.attempts, 3)

        // Retry of a dead letter: three more attempts; a delivered one is not a dead letter.
        let r = try call("responses.retry", ResponseRequest(responseId: "\(signalId)/down"), Response.self)
        XCTAssertEqual(r.status, .pending)
        try stack.eventually("three more attempts") { http("/dead").count == 6 }
        try stack.eventually("dead again") {
            let x = try call("responses.of-signal", ResponseRequest(signalId: signalId), ResponseList.self).responses.first { $0.templateId == "down" }
            return x?.status == .dead && x?.attempts == 6
        }
        XCTAssertThrowsError(try call("responses.retry", ResponseRequest(responseId: "\(signalId)/flaky"), Response.self)) { e in
            XCTAssertTrue((e as? RpcError)?.message.contains("[not_dead]") == true, "\(e)")
        }
        XCTAssertEqual(http("/fail-2").count, 3, "nothing delivered twice")
    }

    /// Signals raised while the response service is down are notified when it starts (it hears
    /// detection's head announcement of stream `signals` and replays from detection's outbox).
    func testSignalsRaisedBeforeTheServiceStartsAreNotified() throws {
        try start(templates: [#"{"id": "hook", "channel": "webhook", "destination": "http://127.0.0.1:PORT/late"}"#], startResponse: false)
        try createRule(rule(4, responses: ["hook"]))
        try submit(["carol", "dave", "erin"], batch: "b4")
        try stack.eventually("detection raised the signals") { (try stack.metrics("detection").counters["signals"] ?? 0) >= 6 }
        try stack.startResponse(["--templates", stack.dir + "/templates.json", "--rate.per-destination", "0"])
        try stack.eventually("three notifications") { http("/late").count == 3 }
    }

    /// The sink's answers (logged after each answer is written): path → key, status, time.
    func answered(_ prefix: String) -> [(key: String, time: Double)] {
        records("http.jsonl").compactMap { r in
            guard let p = r["answered"] as? String, p.hasPrefix(prefix) else { return nil }
            return (r["key"] as? String ?? "", r["time"] as? Double ?? 0)
        }
    }

    func testNoDuplicateNotificationsAfterSIGKILLMidDelivery() throws {
        let n = 40
        try start(templates: [#"{"id": "slow", "channel": "webhook", "destination": "http://127.0.0.1:PORT/slow"}"#],
                  responseArgs: ["--delivery.threads", "2"], delayMs: 100)
        try createRule(rule(3, responses: ["slow"]))
        try submit((0..<n).map { "user\($0)" }, batch: "b3")
        try stack.eventually("deliveries under way") { answered("/slow").count >= 16 }
        let killTime = Date().timeIntervalSince1970
        stack.kill("response")
        let atKill = http("/slow").count
        XCTAssertLessThan(atKill, n, "killed before the end")
        // Answered well before the kill (the thread commits within a few ms of the answer).
        let settled = Set(answered("/slow").filter { $0.time < killTime - 0.3 }.map(\.key))
        XCTAssertGreaterThanOrEqual(settled.count, 4)
        // Replay also re-sends the signals; the outbox key (signal × template) keeps one row each.
        try stack.startResponse(["--templates", stack.dir + "/templates.json", "--rate.per-destination", "0", "--delivery.threads", "2"])
        try stack.eventually(timeoutMs: 30_000, "every signal notified") {
            Set(http("/slow").compactMap { header($0, "Idempotency-Key") }).count == n
        }
        usleep(500_000)
        let requests = http("/slow")
        var counts: [String: Int] = [:]
        for r in requests { counts[header(r, "Idempotency-Key") ?? "", default: 0] += 1 }
        let repeated = Set(counts.filter { $0.value > 1 }.keys)
        print("SIGKILL test: \(atKill) requests before the kill, \(requests.count) in all for \(n) notifications, repeated: \(repeated.sorted())")
        // Nothing the receiver had answered before the kill is sent again.
        XCTAssertTrue(settled.isDisjoint(with: repeated), "answered before the kill yet sent again: \(settled.intersection(repeated))")
        // Only the sends under way at the kill (one per delivery thread) can repeat, once each,
        // flagged, with the same key and body.
        XCTAssertLessThanOrEqual(repeated.count, 2, "\(counts.filter { $0.value > 1 })")
        XCTAssertTrue(counts.values.allSatisfy { $0 <= 2 })
        let unknown = try stack.metrics("response").counters["deliveries.outcome_unknown"] ?? 0
        XCTAssertLessThanOrEqual(UInt64(repeated.count), unknown)
        XCTAssertLessThanOrEqual(unknown, 2)
        for key in repeated {
            let sends = requests.filter { header($0, "Idempotency-Key") == key }
            XCTAssertNil(header(sends[0], "Vigil-Redelivery"))
            XCTAssertEqual(header(sends[1], "Vigil-Redelivery"), "true")
            XCTAssertEqual(sends[0]["body"] as? String, sends[1]["body"] as? String)
        }
        // First sends carry no redelivery flag.
        XCTAssertEqual(requests.filter { header($0, "Vigil-Redelivery") != nil }.count, Int(unknown))
        let stats = try call("responses.stats", ResponseRequest(), ResponseStatsList.self).templates.first { $0.templateId == "slow" }
        XCTAssertEqual(stats?.delivered, UInt64(n))
        XCTAssertEqual((stats?.pending ?? 0) + (stats?.dead ?? 0), 0)
    }

    /// A send killed while the receiver holds it: its outcome is unknown, so it goes again after
    /// the restart (nothing lost) with the same Idempotency-Key and body and `Vigil-Redelivery:
    /// true`; the response shows it as redelivered, the history as an attempt with an unknown outcome.
    func testASendInterruptedByAKillIsSentAgainFlaggedWithTheSameKey() throws {
        try start(templates: [#"{"id": "hang", "channel": "webhook", "destination": "http://127.0.0.1:PORT/hang-1/x"}"#])
        try createRule(rule(5, responses: ["hang"]))
        try submit(["mallory"], batch: "b5")
        try stack.eventually("the send reached the receiver") { http("/hang-1").count == 1 }
        usleep(200_000)
        stack.kill("response")
        try stack.startResponse(["--templates", stack.dir + "/templates.json", "--rate.per-destination", "0"])
        try stack.eventually(timeoutMs: 20_000, "sent again") { http("/hang-1").count == 2 }
        let sends = http("/hang-1")
        let key = header(sends[0], "Idempotency-Key")
        XCTAssertNotNil(key)
        XCTAssertEqual(header(sends[1], "Idempotency-Key"), key)
        XCTAssertEqual(sends[0]["body"] as? String, sends[1]["body"] as? String)
        XCTAssertNil(header(sends[0], "Vigil-Redelivery"))
        XCTAssertEqual(header(sends[1], "Vigil-Redelivery"), "true")
        XCTAssertEqual(try stack.metrics("response").counters["deliveries.outcome_unknown"], 1)
        var r = Response()
        try stack.eventually("recorded as delivered") {
            r = try call("responses.get", ResponseRequest(responseId: key ?? ""), Response.self)
            return r.status == .delivered
        }
        XCTAssertTrue(r.redelivered)
        XCTAssertEqual(r.attempts, 2, "the interrupted attempt counts")
        // The CLI shows it.
        let out = try stack.vigil(["responses", r.signalId])
        XCTAssertEqual(out.status, 0, out.err)
        XCTAssertTrue(out.out.contains("delivered (again)"), out.out)
        usleep(300_000)
        XCTAssertEqual(http("/hang-1").count, 2, "once delivered, never again")
    }
}

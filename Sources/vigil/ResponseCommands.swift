import Foundation
import VigilBus
import VigilLog
import VigilWire

/// `vigil responses …` and `vigil templates …` — the response service's notifications and templates.
enum ResponseCommands {
    static let usage = """
    usage:
      vigil responses [of] SIGNAL_ID [--json] notifications of a signal: status, attempts, last error
      vigil responses stats [--json]          per template: pending, delivered, dead, attempts
      vigil responses get RESPONSE_ID [--json] one notification (RESPONSE_ID = SIGNAL_ID/TEMPLATE_ID)
      vigil responses retry RESPONSE_ID       send a dead letter again (RESPONSE_ID = SIGNAL_ID/TEMPLATE_ID)
      vigil templates list [--json]
      vigil templates get ID
      vigil templates create FILE             one template as JSON (docs/responses.md)
      vigil templates update FILE
      vigil templates delete ID
      vigil templates test ID [--wait S]      send a sample signal through the template and wait for the outcome
    """

    static func call<R: WireMessage>(_ args: Args, _ method: String, _ req: some WireMessage, _: R.Type) throws -> R {
        let ctx = ZContext()
        defer { ctx.terminate() }
        let c = try Connection.client(args, ctx)
        defer { c.close() }
        do { return try c.call(service: "response", method: method, req, as: R.self, timeoutMs: 30_000) }
        catch let e as RpcError {
            throw e.code == .unavailable || e.code == .timeout ? Connection.describe(e, service: "response", method: method)
                : CLIError(message: "response \(method): \(e.message)")
        }
    }

    static func responses(_ args: Args) throws -> Int32 {
        guard args.words.count >= 2 else { throw CLIError(message: usage, exitCode: 2) }
        switch args.words[1] {
        case "stats" where args.words.count == 2:
            let s = try call(args, "responses.stats", ResponseRequest(), ResponseStatsList.self)
            if args.json {
                JSONOut.print(["templates": s.templates.map {
                    ["template_id": $0.templateId, "channel": $0.channel, "pending": $0.pending, "delivered": $0.delivered, "dead": $0.dead,
                     "attempts": $0.attempts, "last_delivered_ms": $0.lastDeliveredTimeMs]
                }])
                return 0
            }
            print(Table.render(header: ["TEMPLATE", "CHANNEL", "PENDING", "DELIVERED", "DEAD", "ATTEMPTS", "LAST DELIVERED"], rows: s.templates.map {
                [$0.templateId, $0.channel, String($0.pending), String($0.delivered), String($0.dead), String($0.attempts), time($0.lastDeliveredTimeMs)]
            }))
            return 0
        case "get":
            guard args.words.count == 3 else { throw CLIError(message: "usage: vigil responses get RESPONSE_ID", exitCode: 2) }
            printList(ResponseList(responses: [try call(args, "responses.get", ResponseRequest(responseId: args.words[2]), Response.self)]), json: args.json)
            return 0
        case "of":
            guard args.words.count == 3 else { throw CLIError(message: "usage: vigil responses of SIGNAL_ID", exitCode: 2) }
            var a = args
            a.words = ["responses", args.words[2]]
            return try responses(a)
        case "retry":
            guard args.words.count == 3 else { throw CLIError(message: "usage: vigil responses retry RESPONSE_ID", exitCode: 2) }
            let r = try call(args, "responses.retry", ResponseRequest(responseId: args.words[2]), Response.self)
            if args.json { printList(ResponseList(responses: [r]), json: true); return 0 }
            print("\(r.id): \(r.status.name) (attempts so far \(r.attempts))")
            return 0
        default:
            guard args.words.count == 2 else { throw CLIError(message: usage, exitCode: 2) }
            let l = try call(args, "responses.of-signal", ResponseRequest(signalId: args.words[1]), ResponseList.self)
            printList(l, json: args.json)
            if l.responses.isEmpty && !args.json { print("no responses for signal \(args.words[1])"); return 1 }
            return 0
        }
    }

    static func templates(_ args: Args) throws -> Int32 {
        guard args.words.count >= 2 else { throw CLIError(message: usage, exitCode: 2) }
        func need(_ n: Int, _ u: String) throws { if args.words.count != n { throw CLIError(message: "usage: vigil templates \(u)", exitCode: 2) } }
        switch args.words[1] {
        case "list":
            let d = try call(args, "templates.list", TemplateRequest(), TemplateDocument.self)
            if args.json { print(d.json); return 0 }
            let obj = (try? JSONSerialization.jsonObject(with: Data(d.json.utf8))) as? [String: Any]
            let list = obj?["templates"] as? [[String: Any]] ?? []
            print(Table.render(header: ["ID", "NAME", "CHANNEL", "DESTINATION"], rows: list.map {
                [$0["id"] as? String ?? "", $0["name"] as? String ?? "", $0["channel"] as? String ?? "", $0["destination"] as? String ?? ""]
            }))
        case "get":
            try need(3, "get ID")
            print(try call(args, "templates.get", TemplateRequest(id: args.words[2]), TemplateDocument.self).json)
        case "delete":
            try need(3, "delete ID")
            _ = try call(args, "templates.delete", TemplateRequest(id: args.words[2]), TemplateDocument.self)
            print(args.json ? RulesCommand.json(["deleted": args.words[2]]) : "deleted \(args.words[2])")
        case "create", "update":
            try need(3, "\(args.words[1]) FILE")
            guard let text = try? String(contentsOfFile: args.words[2], encoding: .utf8) else {
                throw CLIError(message: "cannot read \(args.words[2])", exitCode: 2)
            }
            let d = try call(args, "templates.\(args.words[1])", TemplateRequest(templateJson: text), TemplateDocument.self)
            print(d.json)
        case "test":
            try need(3, "test ID [--wait S]")
            var r = try call(args, "templates.test-send", TemplateRequest(id: args.words[2]), Response.self)
            let deadline = Clock.monotonicMs() + Int64(try args.int("wait", 30)) * 1000
            while r.status == .pending && Clock.monotonicMs() < deadline {
                usleep(200_000)
                r = try call(args, "responses.get", ResponseRequest(responseId: r.id), Response.self)
            }
            printList(ResponseList(responses: [r]), json: args.json)
            return r.status == .delivered ? 0 : 1
        default:
            throw CLIError(message: "unknown templates command '\(args.words[1])'\n\(usage)", exitCode: 2)
        }
        return 0
    }

    static func time(_ ms: Int64) -> String { ms == 0 ? "-" : String(Clock.iso8601(ms).prefix(19)) }

    static func printList(_ l: ResponseList, json: Bool) {
        if json {
            let rows: [[String: Any]] = l.responses.map {
                ["id": $0.id, "signal_id": $0.signalId, "template_id": $0.templateId, "channel": $0.channel, "destination": $0.destination,
                 "status": $0.status.name, "attempts": $0.attempts, "last_error": $0.lastError, "updated": $0.updatedTimeMs,
                 "redelivered": $0.redelivered]
            }
            let d = (try? JSONSerialization.data(withJSONObject: ["responses": rows], options: [.sortedKeys, .prettyPrinted])) ?? Data()
            print(String(decoding: d, as: UTF8.self))
            return
        }
        print(Table.render(header: ["TEMPLATE", "CHANNEL", "DESTINATION", "STATUS", "ATTEMPTS", "UPDATED", "LAST ERROR"], rows: l.responses.map {
            // "(again)": sent a second time after the service stopped mid-send; the receiver may have it twice.
            [$0.templateId, $0.channel, $0.destination, $0.status.name + ($0.redelivered ? " (again)" : ""), String($0.attempts), time($0.updatedTimeMs),
             $0.lastError.count > 80 ? String($0.lastError.prefix(77)) + "…" : $0.lastError]
        }))
    }
}

import Foundation
import VigilBus
import VigilLog
import VigilStore
import VigilWire

/// `templates.*` and `responses.*` RPCs (Protos/vigil/v1/response.proto).
extension ResponseService {
    func installRPCs() {
        let w = runtime.worker
        w.handle("templates.create") { [unowned self] req in self.saveTemplate(req, create: true) }
        w.handle("templates.update") { [unowned self] req in self.saveTemplate(req, create: false) }
        w.handle("templates.get") { [unowned self] req in
            guard let r = try? TemplateRequest(decoding: req.payload), !r.id.isEmpty else { return .failure(.badRequest, "templates.get takes a TemplateRequest with an id") }
            guard let t = self.templates[r.id] else { return .failure(.notFound, "no template with id '\(r.id)' [not_found]") }
            return .ok(TemplateDocument(json: TemplateCodec.json(TemplateCodec.object(t, includeSecret: false))))
        }
        w.handle("templates.list") { [unowned self] _ in
            let list = self.templates.values.sorted { $0.id < $1.id }.map { TemplateCodec.object($0, includeSecret: false) }
            return .ok(TemplateDocument(json: TemplateCodec.json(["templates": list])))
        }
        w.handle("templates.delete") { [unowned self] req in
            guard let r = try? TemplateRequest(decoding: req.payload), !r.id.isEmpty else { return .failure(.badRequest, "templates.delete takes a TemplateRequest with an id") }
            guard let t = self.templates[r.id] else { return .failure(.notFound, "no template with id '\(r.id)' [not_found]") }
            do {
                _ = try self.runtime.db.run("DELETE FROM templates WHERE id = ?", [.text(r.id)])
                self.templates[r.id] = nil
                return .ok(TemplateDocument(json: TemplateCodec.json(TemplateCodec.object(t, includeSecret: false))))
            } catch { return .failure(.internal, "\(error)") }
        }
        w.handle("templates.test-send") { [unowned self] req in
            guard let r = try? TemplateRequest(decoding: req.payload), !r.id.isEmpty else { return .failure(.badRequest, "templates.test-send takes a TemplateRequest with an id") }
            guard self.templates[r.id] != nil else { return .failure(.notFound, "no template with id '\(r.id)' [not_found]") }
            var s = TemplateText.sampleSignal()
            s.responseTemplateIds = [r.id]
            do {
                let resp = try self.runtime.db.transaction { try self.enqueue(s, templateId: r.id, payload: s.encoded(), nowMs: Clock.nowMs()) }
                self.producer.publishCommitted()
                self.runtime.count("templates.test_sends")
                return .ok(resp)
            } catch {
                self.producer.discardUncommitted()
                return .failure(.internal, "\(error)")
            }
        }
        w.handle("responses.of-signal") { [unowned self] req in
            guard let r = try? ResponseRequest(decoding: req.payload), !r.signalId.isEmpty else { return .failure(.badRequest, "responses.of-signal takes a ResponseRequest with a signal_id") }
            do { return .ok(ResponseList(responses: try Outbox.ofSignal(r.signalId, self.runtime.db))) }
            catch { return .failure(.internal, "\(error)") }
        }
        w.handle("responses.get") { [unowned self] req in
            guard let r = try? ResponseRequest(decoding: req.payload), !r.responseId.isEmpty else { return .failure(.badRequest, "responses.get takes a ResponseRequest with a response_id") }
            do {
                guard let resp = try Outbox.get(r.responseId, self.runtime.db) else { return .failure(.notFound, "no response '\(r.responseId)' [not_found]") }
                return .ok(resp)
            } catch { return .failure(.internal, "\(error)") }
        }
        w.handle("responses.stats") { [unowned self] _ in
            do { return .ok(ResponseStatsList(templates: try Outbox.stats(self.runtime.db))) }
            catch { return .failure(.internal, "\(error)") }
        }
        w.handle("responses.retry") { [unowned self] req in
            guard let r = try? ResponseRequest(decoding: req.payload), !r.responseId.isEmpty else { return .failure(.badRequest, "responses.retry takes a ResponseRequest with a response_id") }
            do { return try self.retry(r.responseId) }
            catch { self.producer.discardUncommitted(); return .failure(.internal, "\(error)") }
        }
    }

    func saveTemplate(_ req: RpcRequest, create: Bool) -> RpcResponse {
        let method = create ? "templates.create" : "templates.update"
        guard let r = try? TemplateRequest(decoding: req.payload), !r.templateJson.isEmpty else {
            return .failure(.badRequest, "\(method) takes a TemplateRequest with template_json")
        }
        switch TemplateCodec.decode(r.templateJson) {
        case .failure(let errors):
            runtime.count("templates.refused")
            return .failure(.badRequest, errors.description)
        case .success(var t):
            if create && templates[t.id] != nil { return .failure(.badRequest, "id: template '\(t.id)' exists; use templates.update [exists]") }
            if !create && templates[t.id] == nil { return .failure(.notFound, "no template with id '\(t.id)' [not_found]") }
            // "********" (as listed) keeps the stored secret.
            if t.secret == "********", let old = templates[t.id] { t.secret = old.secret }
            do {
                try runtime.db.transaction { try Outbox.saveTemplate(t, runtime.db, nowMs: Clock.nowMs()) }
                templates[t.id] = t
                return .ok(TemplateDocument(json: TemplateCodec.json(TemplateCodec.object(t, includeSecret: false))))
            } catch { return .failure(.internal, "\(error)") }
        }
    }

    /// A dead letter gets `retry.attempts` more attempts, re-rendered when it never had a template.
    func retry(_ id: String) throws -> RpcResponse {
        guard let row = try runtime.db.query("SELECT status, attempts, body, signal, template_id FROM deliveries WHERE id = ?", [.text(id)]).first else {
            return .failure(.notFound, "no response '\(id)' [not_found]")
        }
        guard row.int(0) == Int64(DeliveryStatus.dead.rawValue) else {
            return .failure(.badRequest, "response '\(id)' is not a dead letter (status \(DeliveryStatus(rawValue: Int32(row.int(0)))?.name ?? "?")) [not_dead]")
        }
        let now = Clock.nowMs()
        let attempts = Int(row.int(1))
        try runtime.db.transaction {
            if row.blob(2).isEmpty {
                let tid = row.string(4)
                guard let t = templates[tid], let s = try? Signal(decoding: row.blob(3)) else {
                    throw TemplateError(.notFound, "template_id", "template '\(tid)' still does not exist")
                }
                let m = Payloads.render(t, s, responseId: id, options: payloadOptions, nowMs: now)
                try runtime.db.run("UPDATE deliveries SET template_name = ?, channel = ?, destination = ?, target = ?, headers = ?, body = ? WHERE id = ?",
                                   [.text(t.name), .text(t.channel.rawValue), .text(Self.displayDestination(t)), .text(m.target),
                                    .text(TemplateCodec.json(m.headers)), .blob(m.body), .text(id)])
            }
            try runtime.db.run("UPDATE deliveries SET status = 1, next_attempt_ms = ?, updated_ms = ?, attempt_limit = ? WHERE id = ?",
                               [.integer(now), .integer(now), .integer(Int64(attempts + policy.maxAttempts)), .text(id)])
            if let r = try Outbox.get(id, runtime.db) { try publish(r) }
        }
        producer.publishCommitted()
        runtime.count("responses.retried_by_request")
        guard let r = try Outbox.get(id, runtime.db) else { return .failure(.internal, "response vanished") }
        return .ok(r)
    }
}

import Foundation
import VigilBus
import VigilLog
import VigilRules
import VigilService
import VigilStore
import VigilWire

/// RPCs on `detection`: rules.* (list/search with facets, get with explanation, create, update,
/// activate, deactivate, delete, export, import, test) and signals.* (QQL search, get).
extension DetectionService {
    func installQueries() throws {
        let signals = try ListQueries(catalog: DetectionCatalogs.signals, db: runtime.db)
        signalQueries = signals
        signals.install(on: runtime.worker) { rows, next in
            var page = SignalPage()
            page.signals = rows.compactMap { try? Signal(decoding: $0.blob(Schema.SignalColumn.payload)) }
            page.nextCursor = next
            return .ok(page)
        }
        runtime.worker.handle("signals.get") { [unowned self] req in
            guard let get = try? GetRequest(decoding: req.payload), !get.id.isEmpty else {
                return .failure(.badRequest, "signals.get takes a GetRequest with the signal id")
            }
            do {
                guard let row = try self.runtime.db.query("SELECT payload FROM signals WHERE id = ?", [.text(get.id)]).first else {
                    return .failure(.notFound, "no signal with id '\(get.id)'")
                }
                return .ok(try Signal(decoding: row.blob(0)))
            } catch { return .failure(.internal, "\(error)") }
        }
        let rules = try ListQueries(catalog: DetectionCatalogs.rules, db: runtime.db)
        ruleQueries = rules
        let page: ([Row], String) -> RpcResponse = { [unowned self] rows, next in
            var page = RulePage()
            page.rules = rows.compactMap { row in
                (try? RuleDecoder.decode(row.string(Schema.RuleColumn.json))).flatMap { try? self.store.summary($0) }
            }
            page.nextCursor = next
            return .ok(page)
        }
        rules.install(on: runtime.worker, page: page)
        // rules.list: the search, by default everything sorted by name.
        runtime.worker.handle("rules.list") { req in
            rules.answer(req) { q in
                var q = q
                if q.sortToken.isEmpty { q.sortToken = "rule.name"; q.sortAscending = true }
                if q.limit == 0 { q.limit = UInt32(ListQueries.maxLimit) }
                let (rows, next) = try rules.search(q)
                return page(rows, next)
            }
        }
    }

    /// Decodes the request, runs `body`, and turns refusals into BAD_REQUEST with their text.
    func ruleCall(_ req: RpcRequest, _ body: (RuleRequest) throws -> RpcResponse) -> RpcResponse {
        do {
            return try body(try RuleRequest(decoding: req.payload))
        } catch let e as RuleError {
            runtime.count("rules.refused")
            return .failure(.badRequest, e.description)
        } catch let e as WireError {
            return .failure(.badRequest, e.description)
        } catch let e as NotFound {
            return .failure(.notFound, e.message)
        } catch {
            return .failure(.internal, "\(error)")
        }
    }

    struct NotFound: Error { var message: String }

    func existing(_ id: String) throws -> Rule {
        guard !id.isEmpty else { throw RuleError(.missingField, "id", "the rule id is required") }
        guard let r = try store.get(id) else { throw NotFound(message: "no rule with id '\(id)'") }
        return r
    }

    func detail(_ r: Rule) throws -> RuleDetail {
        var d = RuleDetail()
        d.summary = try store.summary(r)
        d.ruleJson = RuleEncoder.text(r)
        d.explanation = Explain.text(r)
        d.stateGroups = UInt64(engine.groupCount(ruleId: r.id))
        return d
    }

    /// Stores the rule and hands it to the engine; state is dropped when the detection changed.
    func save(_ r: Rule, previous: Rule?) throws {
        try runtime.db.transaction {
            try store.put(r)
            if let p = previous, p.detection != r.detection || p.logSources != r.logSources || r.status == .inactive {
                try store.dropState(r.id)
            }
        }
        try engine.upsert(r)
    }

    func installRuleRPCs() {
        let w = runtime.worker
        w.handle("rules.get") { [unowned self] req in
            self.ruleCall(req) { .ok(try self.detail(try self.existing($0.id))) }
        }
        w.handle("rules.create") { [unowned self] req in
            self.ruleCall(req) { r in
                var rule = try RuleDecoder.decode(r.ruleJson)
                guard try self.store.get(rule.id) == nil else {
                    throw RuleError(.duplicate, "$.id", "a rule with id \(rule.id) exists; use rules.update to change it")
                }
                let now = Clock.nowMs()
                if rule.createdMs == 0 { rule.createdMs = now }
                rule.modifiedMs = now
                try self.save(rule, previous: nil)
                return .ok(try self.detail(rule))
            }
        }
        w.handle("rules.update") { [unowned self] req in
            self.ruleCall(req) { r in
                var rule = try RuleDecoder.decode(r.ruleJson)
                let old = try self.existing(rule.id)
                // A changed detection is a new version, even when the editor forgot to say so.
                if rule.version <= old.version && (rule.detection != old.detection || rule.logSources != old.logSources) {
                    rule.version = old.version + 1
                }
                rule.createdMs = old.createdMs
                rule.modifiedMs = Clock.nowMs()
                // An edited copy stays linked to its origin even when the editor dropped the member.
                if rule.derivedFrom.isEmpty { rule.derivedFrom = old.derivedFrom }
                try self.save(rule, previous: old)
                return .ok(try self.detail(rule))
            }
        }
        for (method, status) in [("rules.activate", RuleStatus.active), ("rules.deactivate", .inactive)] {
            w.handle(method) { [unowned self] req in
                self.ruleCall(req) { r in
                    var rule = try self.existing(r.id)
                    let old = rule
                    rule.status = status
                    rule.modifiedMs = Clock.nowMs()
                    try self.save(rule, previous: old)
                    return .ok(try self.detail(rule))
                }
            }
        }
        w.handle("rules.delete") { [unowned self] req in
            self.ruleCall(req) { r in
                let rule = try self.existing(r.id)
                _ = try self.runtime.db.transaction { try self.store.delete(rule.id) }
                self.engine.remove(ruleId: rule.id)
                return .ok(RuleBundleMessage(json: "", ids: [rule.id]))
            }
        }
        w.handle("rules.export") { [unowned self] req in
            self.ruleCall(req) { r in
                let rules = r.id.isEmpty ? try self.store.all() : [try self.existing(r.id)]
                return .ok(RuleBundleMessage(json: RuleBundle.text(rules), ids: rules.map(\.id)))
            }
        }
        w.handle("rules.import") { [unowned self] req in
            self.ruleCall(req) { r in
                // All or nothing: every rule is validated before any is stored.
                let rules = try RuleBundle.decode(r.ruleJson)
                let now = Clock.nowMs()
                var previous: [String: Rule] = [:]
                try self.runtime.db.transaction {
                    for var rule in rules {
                        previous[rule.id] = try self.store.get(rule.id)
                        if rule.createdMs == 0 { rule.createdMs = now }
                        if rule.modifiedMs == 0 { rule.modifiedMs = now }
                        try self.store.put(rule)
                        try self.store.dropState(rule.id)
                    }
                }
                for rule in rules { try self.engine.upsert(rule) }
                return .ok(RuleBundleMessage(json: "", ids: rules.map(\.id)))
            }
        }
        w.handle("rules.test") { [unowned self] req in
            self.ruleCall(req) { r in
                let rule = try RuleDecoder.decode(r.ruleJson)
                var resp = RuleTestResponse()
                resp.ruleId = rule.id
                resp.ruleName = rule.name
                resp.results = RuleTester.run(rule, options: self.engine.options).map {
                    .init(name: $0.name, expect: $0.expect.rawValue, signals: UInt32(clamping: $0.signals), passed: $0.passed, detail: $0.detail)
                }
                resp.passed = !resp.results.isEmpty && resp.results.allSatisfy(\.passed)
                return .ok(resp)
            }
        }
    }
}

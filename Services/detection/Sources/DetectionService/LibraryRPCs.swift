import Foundation
import VigilBus
import VigilLog
import VigilQuery
import VigilRules
import VigilService
import VigilStore
import VigilWire

/// The rule library (`library.*`), deleting a rule's signals (`rules.delete-signals`), the threat
/// hunting dashboard (`signals.dashboard`) and the signal detail with its events and asset
/// (`signals.detail`).
extension DetectionService {
    /// ATT&CK enterprise tactics in kill-chain order: the dashboard's "signals by MITRE stage".
    static let tactics: [(String, String)] = [
        ("TA0043", "Reconnaissance"), ("TA0042", "Resource Development"), ("TA0001", "Initial Access"), ("TA0002", "Execution"),
        ("TA0003", "Persistence"), ("TA0004", "Privilege Escalation"), ("TA0005", "Defense Evasion"), ("TA0006", "Credential Access"),
        ("TA0007", "Discovery"), ("TA0008", "Lateral Movement"), ("TA0009", "Collection"), ("TA0011", "Command and Control"),
        ("TA0010", "Exfiltration"), ("TA0040", "Impact"),
    ]

    /// Appends to the audit table (same transaction as the change when called inside one) and logs it.
    func audit(_ req: RpcRequest, action: String, target: String, detail: String) throws {
        let actor = req.caller.name.isEmpty ? "anonymous" : req.caller.name
        try runtime.db.run("INSERT INTO audit(time_ms, actor, role, action, target, detail) VALUES(?,?,?,?,?,?)",
                           [.integer(Clock.nowMs()), .text(actor), .text(req.caller.role), .text(action), .text(target), .text(detail)])
        runtime.logger.info("audit: \(action)", ["actor": actor, "role": req.caller.role, "target": target, "detail": detail])
    }

    func libraryRule(_ id: String) throws -> Rule {
        guard !id.isEmpty else { throw RuleError(.missingField, "id", "the library rule id is required") }
        let key = id.lowercased()
        guard let r = library.first(where: { $0.id == key }) else {
            throw NotFound(message: "no library rule with id '\(id)' (vigil rules library list shows them)")
        }
        return r
    }

    func libraryEntry(_ r: Rule) throws -> LibraryEntry {
        var e = LibraryEntry()
        e.summary = try store.summary(r)
        e.description = r.description
        e.tests = UInt32(clamping: r.tests.count)
        if let stored = try store.get(r.id) {
            e.installed = true
            e.installedStatus = stored.status.rawValue
            e.installedModified = stored.detection != r.detection || stored.logSources != r.logSources
        }
        e.copies = UInt32(clamping: try runtime.db.scalar("SELECT count(*) FROM rules WHERE json_extract(json, '$.derived_from') = ?", [.text(r.id)])?.int64 ?? 0)
        return e
    }

    func installLibraryRPCs() {
        let w = runtime.worker
        w.handle("library.list") { [unowned self] req in
            self.ruleCall(req) { _ in .ok(LibraryPage(entries: try self.library.map { try self.libraryEntry($0) })) }
        }
        w.handle("library.get") { [unowned self] req in
            self.ruleCall(req) { r in
                let rule = try self.libraryRule(r.id)
                var d = LibraryDetail()
                d.entry = try self.libraryEntry(rule)
                d.ruleJson = RuleEncoder.text(rule)
                d.explanation = Explain.text(rule)
                return .ok(d)
            }
        }
        // Quick-activate: the rule as shipped, active. An edited installed copy is replaced by the
        // shipped detection (as a new version, so signals tell the two apart).
        w.handle("library.activate") { [unowned self] req in
            self.ruleCall(req) { r in
                var rule = try self.libraryRule(r.id)
                let stored = try self.store.get(rule.id)
                let now = Clock.nowMs()
                rule.status = .active
                rule.modifiedMs = now
                if let s = stored {
                    rule.createdMs = s.createdMs
                    let same = s.detection == rule.detection && s.logSources == rule.logSources
                    rule.version = same ? max(s.version, rule.version) : max(s.version, rule.version) + 1
                } else {
                    rule.createdMs = now
                }
                try self.save(rule, previous: stored)
                try self.audit(req, action: "library.activate", target: rule.id, detail: "\(rule.name) v\(rule.version)")
                return .ok(try self.detail(rule))
            }
        }
        // Copy-to-edit: an inactive rule with a new id that remembers where it came from. A stored
        // rule that is not in the library can be copied the same way.
        w.handle("library.copy") { [unowned self] req in
            self.ruleCall(req) { r in
                let origin: Rule
                if let lib = try? self.libraryRule(r.id) { origin = lib } else { origin = try self.existing(r.id.lowercased()) }
                var copy = origin
                copy.id = UUID().uuidString.lowercased()
                copy.name = String(("\(origin.name) (copy)").prefix(200))
                copy.derivedFrom = origin.id
                copy.status = .inactive
                copy.version = 1
                if !req.caller.name.isEmpty { copy.author = req.caller.name }
                let now = Clock.nowMs()
                copy.createdMs = now; copy.modifiedMs = now
                try self.save(copy, previous: nil)
                try self.audit(req, action: "library.copy", target: copy.id, detail: "copy of \(origin.id) (\(origin.name))")
                return .ok(try self.detail(copy))
            }
        }
    }

    func installSignalRPCs() {
        let w = runtime.worker
        // Deletes every stored signal of one rule (the rule itself stays). Admins only; audited.
        w.handle("rules.delete-signals") { [unowned self] req in
            guard req.caller.role == "admin" else {
                self.runtime.count("signals.delete_refused")
                return .failure(.permissionDenied, "rules.delete-signals needs the admin role (caller '\(req.caller.name)' has role '\(req.caller.role)')")
            }
            return self.ruleCall(req) { r in
                let rule = try self.existing(r.id)
                var deleted = 0
                try self.runtime.db.transaction {
                    deleted = try self.runtime.db.run("DELETE FROM signals WHERE rule_id = ?", [.text(rule.id)])
                    try self.audit(req, action: "rules.delete-signals", target: rule.id, detail: "\(deleted) signals of \(rule.name)")
                }
                self.runtime.count("signals.deleted", UInt64(deleted))
                return .ok(DeleteSignalsResponse(ruleId: rule.id, deleted: UInt64(deleted)))
            }
        }
        w.handle("signals.dashboard") { [unowned self] req in
            do { return .ok(try self.dashboard(try DashboardRequest(decoding: req.payload))) } catch { return .failure(for: error) }
        }
        w.handle("signals.detail") { [unowned self] req in
            guard let get = try? GetRequest(decoding: req.payload), !get.id.isEmpty else {
                return .failure(.badRequest, "signals.detail takes a GetRequest with the signal id")
            }
            do {
                guard let row = try self.runtime.db.query("SELECT payload FROM signals WHERE id = ?", [.text(get.id)]).first else {
                    return .failure(.notFound, "no signal with id '\(get.id)'")
                }
                return .ok(self.signalDetail(try Signal(decoding: row.blob(0))))
            } catch { return .failure(.internal, "\(error)") }
        }
    }

    func dashboard(_ r: DashboardRequest) throws -> Dashboard {
        guard let queries = signalQueries else { throw QueryError(.syntax, at: 0, "signal queries are not ready") }
        var d = Dashboard()
        d.toTimeMs = r.toTimeMs != 0 ? r.toTimeMs : Clock.nowMs()
        d.fromTimeMs = r.fromTimeMs != 0 ? r.fromTimeMs : d.toTimeMs - 24 * 3_600_000
        guard d.fromTimeMs < d.toTimeMs else {
            throw QueryError(.syntax, at: 0, "the time range is empty: from \(Clock.iso8601(d.fromTimeMs)) is not before to \(Clock.iso8601(d.toTimeMs))")
        }
        func request(_ token: String = "", limit: UInt32 = 0) -> QueryRequest {
            var q = QueryRequest(query: r.query)
            q.fromTimeMs = d.fromTimeMs; q.toTimeMs = d.toTimeMs
            q.facetToken = token; q.limit = limit
            return q
        }
        d.total = try queries.count(request())
        // Facets count every distinct value; empty values (no user, no asset) are not a "top" entry.
        func top(_ token: String, _ n: Int) throws -> [DashboardBucket] {
            try queries.facets(request(token, limit: 1000)).values.filter { !$0.value.isEmpty }.prefix(n).map { DashboardBucket(key: $0.value, count: $0.count) }
        }
        let byTactic = try queries.facets(request("tactic", limit: 1000)).values
        var counts: [String: UInt64] = [:]
        for v in byTactic { counts[v.value.uppercased(), default: 0] += v.count }
        let names = Dictionary(uniqueKeysWithValues: Self.tactics)
        d.byStage = Self.tactics.map { DashboardBucket(key: $0.0, name: $0.1, count: counts[$0.0] ?? 0) }
        // Ids outside the enterprise matrix (custom or empty) still appear, after the known stages.
        for (k, n) in counts.sorted(by: { $0.key < $1.key }) where names[k] == nil {
            d.byStage.append(DashboardBucket(key: k.isEmpty ? "none" : k, name: k.isEmpty ? "no tactic" : "", count: n))
        }
        d.topTactics = Array(d.byStage.filter { $0.count > 0 }.sorted { ($0.count, $1.key) > ($1.count, $0.key) }.prefix(10))
        d.topUsers = try top("user.name", 10)
        d.topAssets = try top("asset.name", 10)
        let crit = Dictionary(try queries.facets(request("signal.criticality", limit: 10)).values.map { ($0.value.lowercased(), $0.count) }, uniquingKeysWith: +)
        d.byCriticality = ["low", "medium", "high", "critical"].map { DashboardBucket(key: $0, count: crit[$0] ?? 0) }
        return d
    }

    /// The signal, its events (from enrichment, which stores them) and its asset. Enrichment is
    /// asked with short deadlines (this runs on the detection loop: at most about 2 s in all);
    /// when it does not answer, the signal is returned with the reason and the asset is not
    /// asked for.
    func signalDetail(_ s: Signal) -> SignalDetail {
        var d = SignalDetail()
        d.signal = s
        var problems: [String] = []
        var enrichmentDown = false
        let ids = Array(s.eventIds.prefix(100))
        if !ids.isEmpty {
            var q = QueryRequest(query: "event.id: [" + ids.map(Self.quoted).joined(separator: ", ") + "]")
            q.limit = 100
            q.sortToken = "@timestamp"; q.sortAscending = true
            do {
                d.events = try runtime.client.call(service: "enrichment", method: "events.search", q, as: EventPage.self,
                                                   timeoutMs: 1200, attemptTimeoutMs: 600).events
                if d.events.count < ids.count { problems.append("\(ids.count - d.events.count) of \(ids.count) events are no longer stored (retention)") }
            } catch {
                runtime.count("signals.detail_lookup_failed")
                if let e = error as? RpcError, e.code == .unavailable || e.code == .timeout { enrichmentDown = true }
                problems.append("events: \(error)")
            }
        }
        // The asset the events resolved to in enrichment, else the signal's asset by name.
        var assetQuery = ""
        if let id = d.events.lazy.compactMap({ $0.enriched["asset.id"] }).first(where: { !$0.isEmpty }) {
            assetQuery = "asset.id: \(Self.quoted(id))"
        } else if !s.entity.asset.isEmpty {
            assetQuery = "asset.name = \(Self.quoted(s.entity.asset)) or host.name = \(Self.quoted(s.entity.asset))"
        }
        if !assetQuery.isEmpty && enrichmentDown {
            problems.append("asset: not looked up (enrichment did not answer)")
        } else if !assetQuery.isEmpty {
            var q = QueryRequest(query: assetQuery)
            q.limit = 1
            do {
                d.asset = try runtime.client.call(service: "enrichment", method: "assets.search", q, as: AssetPage.self,
                                                  timeoutMs: 800, attemptTimeoutMs: 400).assets.first
            } catch {
                runtime.count("signals.detail_lookup_failed")
                problems.append("asset: \(error)")
            }
        }
        d.lookupError = problems.joined(separator: "; ")
        return d
    }

    /// A QQL string literal.
    static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

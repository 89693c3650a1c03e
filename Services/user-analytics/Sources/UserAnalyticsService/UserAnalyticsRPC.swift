import Foundation
import VigilBus
import VigilLog
import VigilQuery
import VigilService
import VigilStore
import VigilWire

/// `ua.*` and `users.*` RPCs (Protos/vigil/v1/users.proto).
extension UserAnalyticsService {
    func installRPCs() {
        let w = runtime.worker
        w.handle("ua.overview") { [unowned self] req in
            self.answer(req) { r in
                let now = Clock.nowMs()
                let to = r.toTimeMs == 0 ? now : r.toTimeMs
                let from = r.fromTimeMs == 0 ? to - 7 * 86_400_000 : r.fromTimeMs
                return .ok(try self.engine.overview(limit: Int(r.limit == 0 ? 20 : min(r.limit, 1000)), fromMs: from, toMs: to, nowMs: now))
            }
        }
        w.handle("ua.users") { [unowned self] req in
            self.answer(req) { r in .ok(try self.search(query: r.query, limit: Int(r.limit == 0 ? 50 : min(r.limit, 1000)))) }
        }
        w.handle("ua.user") { [unowned self] req in
            self.answer(req) { r in
                guard !r.user.isEmpty else { return .failure(.badRequest, "ua.user takes a UserRequest with user (id, account name, UPN, e-mail or SID)") }
                guard let d = try self.engine.detail(r, nowMs: Clock.nowMs(), signalLimit: Int(r.limit == 0 ? 200 : min(r.limit, 5000))) else {
                    return .failure(.notFound, "no user '\(r.user)' [not_found]")
                }
                return .ok(d)
            }
        }
        w.handle("ua.lists") { [unowned self] req in
            self.answer(req) { r in .ok(try self.userLists(top: Int(r.limit == 0 ? 5 : min(r.limit, 100)))) }
        }
        w.handle("ua.sync") { [unowned self] req in
            guard let r = try? DirectorySyncRequest(decoding: req.payload) else { return .failure(.badRequest, "ua.sync takes a DirectorySyncRequest") }
            let mode: DirectorySync.Mode
            switch r.mode {
            case "", "full": mode = .full
            case "changed": mode = .changed
            default: return .failure(.badRequest, "mode '\(r.mode)': expected full or changed")
            }
            return .ok(self.sync(mode))
        }
        w.handle("ua.syncs") { [unowned self] req in
            self.answer(req) { r in .ok(DirectorySyncReportList(syncs: try self.syncHistory(limit: Int(r.limit == 0 ? 10 : min(r.limit, 1000))))) }
        }
        w.handle("users.import") { [unowned self] req in
            guard let r = try? ImportRequest(decoding: req.payload) else { return .failure(.badRequest, "users.import takes an ImportRequest") }
            do {
                let resp = try UserImport.run(r, engine: self.engine, nowMs: Clock.nowMs())
                self.producer.publishCommitted()
                self.runtime.count("users.imported", resp.imported)
                self.runtime.count("users.import_rejected", resp.rejected)
                return .ok(resp)
            } catch {
                self.producer.discardUncommitted()
                return .failure(.internal, "\(error)")
            }
        }
        // The standard QQL list RPCs over the same users (users.search → DirectoryUserPage).
        queries.install(on: w) { rows, next in
            var p = DirectoryUserPage()
            p.users = rows.map { UserRow($0).user }
            p.nextCursor = next
            return .ok(p)
        }
    }

    func answer(_ req: RpcRequest, _ body: (UserRequest) throws -> RpcResponse) -> RpcResponse {
        do { return try body(try UserRequest(decoding: req.payload)) } catch { return .failure(for: error) }
    }

    /// QQL over users, highest risk first.
    func search(query: String, limit: Int) throws -> UserRiskPage {
        var q = QueryRequest(query: query)
        q.limit = UInt32(limit)
        q.sortToken = "user.risk"
        q.sortAscending = false
        let now = Clock.nowMs()
        var page = UserRiskPage()
        page.users = try queries.search(q).rows.map { engine.risk(UserRow($0), nowMs: now) }
        page.total = try queries.count(q)
        return page
    }

    /// Each user list with its members' top risks: explicit members plus the list's QQL.
    func userLists(top: Int) throws -> UserListRiskList {
        let now = Clock.nowMs()
        var out = UserListRiskList()
        for l in configMirror.userLists.lists {
            var r = UserListRisk()
            r.id = l.id; r.name = l.name; r.query = l.query
            let explicit = Set(l.members.compactMap { engine.resolve($0) })
            var fromQuery = Set<String>()
            var matched: UInt64 = 0
            if !l.query.isEmpty {
                do {
                    var q = QueryRequest(query: l.query)
                    q.limit = UInt32(ListQueries.maxLimit)
                    q.sortToken = "user.risk"
                    for row in try queries.search(q).rows { fromQuery.insert(row.string(0)) }
                    matched = try queries.count(q)
                } catch let e as QueryError {
                    r.error = e.rendered
                    runtime.count("user_lists.bad_query")
                }
            }
            // Explicit members the query also matched are counted once.
            r.members = matched + UInt64(explicit.subtracting(fromQuery).count)
            let ids = explicit.union(fromQuery)
            r.top = Array(try engine.risks(ids: Array(ids), nowMs: now).prefix(top))
            out.lists.append(r)
        }
        return out
    }
}

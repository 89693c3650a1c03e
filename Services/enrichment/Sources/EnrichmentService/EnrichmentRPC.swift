import Foundation
import VigilBus
import VigilIntel
import VigilLog
import VigilService
import VigilStore
import VigilWire

/// Enrichment's RPCs beyond events: threat intel (`intel.*`), assets and directory users
/// (`assets.*`, `users.*`: import plus QQL lists).
extension EnrichmentService {
    static let maxImportErrors = 20

    func installEnrichmentRPCs() {
        let w = runtime.worker
        w.handle("intel.feeds") { [unowned self] _ in .ok(self.intel.statusList()) }
        w.handle("intel.reload") { [unowned self] req in
            guard let r = try? IntelReloadRequest(decoding: req.payload) else { return .failure(.badRequest, "intel.reload takes an IntelReloadRequest") }
            do {
                try self.intel.reload(feed: r.feed, nowMs: Clock.nowMs())
                return .ok(self.intel.statusList())
            } catch let e as IntelError {
                return .failure(.notFound, e.description)
            } catch {
                return .failure(.internal, "\(error)")
            }
        }
        w.handle("intel.lookup") { [unowned self] req in
            guard let r = try? IntelLookupRequest(decoding: req.payload), !r.value.isEmpty else {
                return .failure(.badRequest, "intel.lookup takes an IntelLookupRequest with a value (IP, domain, URL or hash)")
            }
            do { return .ok(try self.intel.lookup(r.value, nowMs: Clock.nowMs())) }
            catch { return .failure(.internal, "\(error)") }
        }
        w.handle("assets.import") { [unowned self] req in
            self.answerImport(req) { try self.importAssets($0) }
        }
        w.handle("users.import") { [unowned self] req in
            self.answerImport(req) { try self.importUsers($0) }
        }
        do {
            let assets = try ListQueries(catalog: AssetCatalog.catalog, db: runtime.db)
            assets.install(on: w) { rows, next in
                var p = AssetPage()
                p.assets = rows.map(AssetStore.record)
                p.nextCursor = next
                return .ok(p)
            }
            let users = try ListQueries(catalog: UserCatalog.catalog, db: runtime.db)
            users.install(on: w) { rows, next in
                var p = DirectoryUserPage()
                p.users = rows.map(UserStore.record)
                p.nextCursor = next
                return .ok(p)
            }
            listQueries = [assets, users]
        } catch {
            runtime.logger.error("asset and user lists unavailable", ["error": "\(error)"])
        }
    }

    private func answerImport(_ req: RpcRequest, _ body: (ImportRequest) throws -> ImportResponse) -> RpcResponse {
        guard let r = try? ImportRequest(decoding: req.payload) else { return .failure(.badRequest, "expected an ImportRequest (format csv|json, content)") }
        do { return .ok(try body(r)) }
        catch let e as ImportProblem { return .failure(.badRequest, e.description) }
        catch { return .failure(.internal, "\(error)") }
    }

    /// Valid rows are stored (replacing rows with the same id) in one transaction; invalid rows
    /// are counted and described. A file that cannot be read as CSV/JSON is refused whole.
    func importAssets(_ req: ImportRequest) throws -> ImportResponse {
        try importRows(req, list: "assets", aliases: AssetStore.aliases, positional: AssetStore.positional,
                       save: { row, now in AssetStore.asset(row, nowMs: now).map { a in { try AssetStore.save(a, $0) } } },
                       reload: reloadAssets)
    }

    func importUsers(_ req: ImportRequest) throws -> ImportResponse {
        try importRows(req, list: "users", aliases: UserStore.aliases, positional: nil,
                       save: { row, now in UserStore.user(row, nowMs: now).map { u in { try UserStore.save(u, $0) } } },
                       reload: reloadUsers)
    }

    /// One import: read CSV/JSON rows, validate each, save the good ones in one transaction,
    /// count and describe the rejected ones, then reload the in-memory index.
    private func importRows<E: Error & CustomStringConvertible>(
        _ req: ImportRequest, list: String, aliases: [String: String], positional: [String]?,
        save: (ImportRow, Int64) -> Result<(Database) throws -> Void, E>, reload: () throws -> Void) throws -> ImportResponse {
        let origin = req.origin.isEmpty ? list : req.origin
        let rows: [ImportRow]
        switch ImportRecords.read(req.content, format: req.format, origin: origin, list: list,
                                  aliases: aliases, positional: positional) {
        case .success(let r): rows = r
        case .failure(let e): throw e
        }
        var resp = ImportResponse()
        let now = Clock.nowMs()
        try runtime.db.transaction {
            for row in rows {
                switch save(row, now) {
                case .success(let write): try write(runtime.db); resp.imported += 1
                case .failure(let e):
                    resp.rejected += 1
                    if resp.errors.count < Self.maxImportErrors { resp.errors.append(e.description) }
                }
            }
        }
        try reload()
        runtime.count("\(list).imported", resp.imported)
        runtime.count("\(list).rejected", resp.rejected)
        return resp
    }
}

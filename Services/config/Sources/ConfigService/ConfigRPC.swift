import VigilBus
import VigilRules
import VigilWire

/// `config.*` methods. Every change runs in one transaction (object, audit, outbox) and is
/// published after it commits; a refused change leaves nothing behind.
extension ConfigService {
    static let maxListLimit = 10_000

    func installRPCs() {
        let w = runtime.worker
        w.handle("config.create") { [unowned self] req in
            self.change(req) { r, actor in try self.registry.present(self.registry.create(try Registry.kind(r.kind), json: r.objectJSON, actor: actor)) }
        }
        w.handle("config.update") { [unowned self] req in
            self.change(req) { r, actor in try self.registry.present(self.registry.update(try Registry.kind(r.kind), id: r.id, json: r.objectJSON, actor: actor)) }
        }
        w.handle("config.delete") { [unowned self] req in
            self.change(req) { r, actor in try self.registry.delete(try Registry.kind(r.kind), id: r.id, confirm: r.confirm, actor: actor).json }
        }
        w.handle("config.import") { [unowned self] req in
            self.change(req) { r, actor in
                let res = try self.registry.importAll(r.objectJSON, actor: actor)
                return .object([("created", .integer(Int64(res.created))), ("updated", .integer(Int64(res.updated))),
                                ("unchanged", .integer(Int64(res.unchanged)))])
            }
        }
        w.handle("config.get") { [unowned self] req in
            self.read(req) { r in
                let kind = try Registry.kind(r.kind)
                guard let o = try self.registry.store.get(kind, r.id) ?? (kind == .specialObject ? self.registry.store.byName(kind, r.id) : nil) else {
                    throw ConfigFailure(.notFound, "no \(kind.rawValue) with id '\(r.id)'")
                }
                return try self.registry.present(o)
            }
        }
        w.handle("config.list") { [unowned self] req in
            self.read(req) { r in
                let kind = r.kind.isEmpty ? nil : try Registry.kind(r.kind)
                let limit = r.limit == 0 ? Self.maxListLimit : min(Int(r.limit), Self.maxListLimit)
                return .array(try self.registry.store.all(kind, limit: limit).map(self.registry.present))
            }
        }
        w.handle("config.overview") { [unowned self] req in self.read(req) { _ in try self.registry.overview() } }
        w.handle("config.audit") { [unowned self] req in
            self.read(req) { r in
                .array(try self.registry.store.auditEntries(kind: r.kind.isEmpty ? "" : try Registry.kind(r.kind).rawValue, id: r.id,
                                                            limit: r.limit == 0 ? 100 : min(Int(r.limit), Self.maxListLimit)))
            }
        }
        w.handle("config.export") { [unowned self] req in self.read(req) { _ in try self.registry.exportAll() } }
        w.handle("config.snapshot") { [unowned self] _ in
            do { return .ok(try self.snapshot()) } catch { return .failure(.internal, "\(error)") }
        }
    }

    /// Every object with the stream head: a change after the snapshot has a larger sequence.
    func snapshot() throws -> ConfigSnapshot {
        var s = ConfigSnapshot(head: producer.heads[Self.stream] ?? 0, producerId: producer.options.producerId)
        s.objects = try registry.store.all().map {
            ConfigChange(sequence: $0.sequence, kind: $0.kind.rawValue, id: $0.id, action: "snapshot", objectJSON: $0.compactJSON,
                         actor: $0.modifiedBy, timeMs: $0.modifiedMs)
        }
        return s
    }

    private func decode(_ req: RpcRequest) throws -> ConfigRequest {
        do { return try ConfigRequest(decoding: req.payload) } catch {
            throw ConfigFailure(.invalid, "expected a ConfigRequest (kind, id, object_json, confirm, limit)")
        }
    }

    private func change(_ req: RpcRequest, _ body: (ConfigRequest, String) throws -> JSONValue) -> RpcResponse {
        let actor = req.caller.name.isEmpty ? "anonymous" : req.caller.name
        do {
            let r = try decode(req)
            let out = try body(r, actor)
            producer.publishCommitted()
            runtime.count("changes.accepted")
            return .ok(ConfigReply(json: JSONWriter.write(out, pretty: true)))
        } catch {
            producer.discardUncommitted()
            runtime.count("changes.refused")
            return failure(error)
        }
    }

    private func read(_ req: RpcRequest, _ body: (ConfigRequest) throws -> JSONValue) -> RpcResponse {
        do {
            return .ok(ConfigReply(json: JSONWriter.write(try body(try decode(req)), pretty: true)))
        } catch {
            return failure(error)
        }
    }

    private func failure(_ error: Error) -> RpcResponse {
        if let e = error as? ConfigFailure {
            return .failure(e.code == .notFound ? .notFound : .badRequest, e.description)
        }
        runtime.logger.error("config request failed", ["error": "\(error)"])
        return .failure(.internal, "\(error)")
    }
}

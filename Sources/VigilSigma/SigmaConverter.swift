import Foundation
import VigilRules
import VigilYAML

/// One Sigma document's outcome.
public struct SigmaOutcome: Sendable {
    public var file: String
    public var sigmaId: String
    public var title: String
    public var result: Result<Rule, SigmaError>
}

/// Sigma rules (and correlation rules) → native rules. Convert every document first, then
/// resolve correlations against the base rules by `name` or `id`. A refused rule is refused
/// whole; a correlation over a refused rule is refused too.
public struct SigmaConverter: Sendable {
    public var mapping: LogsourceMapping
    public var status: RuleStatus

    public init(mapping: LogsourceMapping = .standard, status: RuleStatus = .active) {
        self.mapping = mapping; self.status = status
    }

    struct Base {
        var doc: YAMLNode
        var file: String
        var id: String
        var title: String
        var predicate: Result<(Predicate, [String]), SigmaError>
    }

    /// Converts files' texts: (path, YAML text).
    public func convert(_ files: [(String, String)]) -> [SigmaOutcome] {
        var bases: [Base] = []
        var correlations: [Base] = []
        var out: [SigmaOutcome] = []
        for (path, text) in files {
            let docs: [YAMLNode]
            do { docs = try YAMLReader.documents(text) } catch let e as YAMLError {
                out.append(SigmaOutcome(file: path, sigmaId: "", title: "", result: .failure(SigmaError(.invalidRule, "YAML: \(e.message) [\(e.code)]", at: e.mark))))
                continue
            } catch { continue }
            // A document with only `action: global` style keys is not a rule (Sigma 1 collections are refused).
            for doc in docs {
                guard case .mapping = doc else { continue }
                let id = (SigmaMetadata.text(doc, "id") ?? "").lowercased()
                let title = SigmaMetadata.text(doc, "title") ?? ""
                if doc["action"] != nil {
                    out.append(SigmaOutcome(file: path, sigmaId: id, title: title, result: .failure(SigmaError(.invalidRule, "rule collection 'action:' documents", at: doc.mark))))
                    continue
                }
                let b = Base(doc: doc, file: path, id: id, title: title, predicate: Result { try basePredicate(doc, id: id, title: title) }.mapError { $0 as? SigmaError ?? SigmaError(.invalidRule, "\($0)") })
                if doc["correlation"] != nil { correlations.append(b) } else { bases.append(b) }
            }
        }
        var byName: [String: Base] = [:]
        for b in bases {
            byName[b.id] = b
            if let n = SigmaMetadata.text(b.doc, "name") { byName[n] = b }
        }
        var hidden = Set<String>()
        var corrOutcomes: [SigmaOutcome] = []
        for c in correlations {
            let r = Result { try correlation(c, byName: byName, hidden: &hidden) }.mapError { $0 as? SigmaError ?? SigmaError(.invalidRule, "\($0)") }
            corrOutcomes.append(SigmaOutcome(file: c.file, sigmaId: c.id, title: c.title, result: r))
        }
        for b in bases where !hidden.contains(b.id) {
            let r = b.predicate.flatMap { (p, formats) in Result { try nativeRule(b.doc, id: b.id, title: b.title, formats: formats, detection: .match(condition: p.conditionText, groupBy: [])) }
                .mapError { $0 as? SigmaError ?? SigmaError(.nativeRefused, "\($0)") } }
            out.append(SigmaOutcome(file: b.file, sigmaId: b.id, title: b.title, result: r))
        }
        return out + corrOutcomes
    }

    /// Logsource constraint AND the detection condition, and the log sources.
    func basePredicate(_ doc: YAMLNode, id: String, title: String) throws -> (Predicate, [String]) {
        guard UUID(uuidString: id) != nil else { throw SigmaError(.invalidRule, "id must be a UUID, found '\(id)'", at: doc.mark) }
        guard !title.isEmpty else { throw SigmaError(.invalidRule, "title is missing", at: doc.mark) }
        if doc["correlation"] != nil { return (.constant(false), []) }
        guard let detection = doc["detection"] else { throw SigmaError(.invalidRule, "detection is missing", at: doc.mark) }
        let ls = doc["logsource"]
        func f(_ k: String) -> String? { ls.flatMap { SigmaMetadata.text($0, k) } }
        let resolved = try mapping.resolve(product: f("product"), category: f("category"), service: f("service"))
        let d = try SigmaDetection(detection, aliases: resolved)
        // The detection first: the index has already matched the EventID, so the constraint
        // usually holds and the detection usually decides (and fails) sooner.
        let p = resolved.constraint.map { Predicate.and([d.condition, $0]) } ?? d.condition
        return (p, resolved.formats)
    }

    func nativeRule(_ doc: YAMLNode, id: String, title: String, formats: [String], detection: Detection) throws -> Rule {
        var r = Rule(id: id, name: String(title.prefix(200)), detection: detection)
        r.status = status
        r.logSources = formats
        SigmaMetadata.apply(doc, id: id, to: &r)
        // The native validator has the last word: what it refuses is not imported.
        do { _ = try RuleDecoder.decode(RuleEncoder.text(r)) } catch { throw SigmaError(.nativeRefused, "\(error)") }
        return r
    }

    func correlation(_ c: Base, byName: [String: Base], hidden: inout Set<String>) throws -> Rule {
        if case .failure(let e) = c.predicate { throw e }
        guard let corr = c.doc["correlation"], case .mapping = corr else { throw SigmaError(.invalidRule, "correlation must be a map", at: c.doc.mark) }
        let type = SigmaMetadata.text(corr, "type") ?? ""
        let refs = SigmaMetadata.list(corr, "rules")
        guard !refs.isEmpty else { throw SigmaError(.invalidRule, "correlation.rules is empty", at: corr.mark) }
        if corr["aliases"] != nil { throw SigmaError(.unsupportedCorrelation, "correlation aliases", at: corr.mark) }
        var preds: [Predicate] = [], formats: [String] = []
        for name in refs {
            guard let b = byName[name] ?? byName[name.lowercased()] else { throw SigmaError(.unresolvedReference, "correlation rule '\(name)' not found", at: corr.mark) }
            switch b.predicate {
            case .failure(let e): throw SigmaError(e.reason, "referenced rule '\(name)': \(e.construct)", at: e.mark)
            case .success(let (p, f)):
                preds.append(p)
                for x in f where !formats.contains(x) { formats.append(x) }
            }
            if SigmaMetadata.text(b.doc, "generate")?.lowercased() != "true" && SigmaMetadata.text(corr, "generate")?.lowercased() != "true" { hidden.insert(b.id) }
        }
        let groupBy = SigmaMetadata.list(corr, "group-by")
        guard let span = SigmaMetadata.text(corr, "timespan").flatMap(Self.duration) else {
            throw SigmaError(.invalidRule, "correlation.timespan missing or not like 5m, 1h, 30s, 1d", at: corr.mark)
        }
        func count() throws -> (Int, String?) {
            guard let cond = corr["condition"], case .mapping(let pairs, _) = cond else {
                throw SigmaError(.invalidRule, "correlation.condition must be a map like {gte: 10}", at: corr.mark)
            }
            var n: Int?, field: String?
            for p in pairs {
                let v = p.value.scalarText.flatMap { Int($0) }
                switch p.key {
                case "gte": n = v
                case "gt": n = v.map { $0 + 1 }
                case "field": field = p.value.scalarText
                default: throw SigmaError(.unsupportedCorrelation, "correlation condition '\(p.key)' (only gte and gt: the engine fires when a count is reached)", at: p.keyMark)
                }
            }
            guard let n, n >= 1 else { throw SigmaError(.invalidRule, "correlation.condition needs gte or gt with a whole number", at: cond.mark) }
            return (n, field)
        }
        let either = preds.count == 1 ? preds[0] : Predicate.or(preds)
        let detection: Detection
        switch type {
        case "event_count":
            let (n, _) = try count()
            detection = .threshold(condition: either.conditionText, count: n, groupBy: groupBy, windowMs: span)
        case "value_count":
            let (n, field) = try count()
            guard let field else { throw SigmaError(.invalidRule, "value_count needs condition.field", at: corr.mark) }
            detection = .distinct(condition: either.conditionText, field: field, count: n, groupBy: groupBy, windowMs: span)
        case "temporal_ordered":
            detection = .sequence(steps: zip(refs, preds).map { SequenceStep(name: String($0.prefix(64)), condition: $1.conditionText) }, groupBy: groupBy, windowMs: span)
        case "temporal":
            detection = .temporal(steps: zip(refs, preds).map { SequenceStep(name: String($0.prefix(64)), condition: $1.conditionText) }, groupBy: groupBy, windowMs: span)
        default:
            throw SigmaError(.unsupportedCorrelation, "correlation type '\(type)'", at: corr.mark)
        }
        return try nativeRule(c.doc, id: c.id, title: c.title, formats: formats, detection: detection)
    }

    /// `30s`, `5m`, `1h`, `1d` → ms.
    static func duration(_ s: String) -> Int64? {
        guard let unit = s.last, let n = Int64(s.dropLast()), n > 0 else { return nil }
        switch unit {
        case "s": return n * 1000
        case "m": return n * 60_000
        case "h": return n * 3_600_000
        case "d": return n * 86_400_000
        default: return nil
        }
    }
}

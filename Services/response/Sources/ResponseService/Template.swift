import Foundation

/// Where a notification goes.
public enum Channel: String, Sendable, CaseIterable {
    case email, slack, pagerduty, webhook
}

/// A response template (docs/responses.md): a channel, a destination, and subject/body
/// text with `{{placeholders}}` for signal fields.
public struct Template: Sendable, Equatable {
    public var id: String
    public var name: String
    public var channel: Channel
    /// email: one or more addresses separated by commas; slack/webhook: URL; pagerduty: routing key.
    public var destination: String
    public var subject: String
    public var body: String
    /// webhook only: when set, the JSON body is signed (X-Vigil-Signature: sha256=<hex HMAC>).
    public var secret: String

    public init(id: String, name: String = "", channel: Channel, destination: String, subject: String = "", body: String = "", secret: String = "") {
        self.id = id; self.name = name.isEmpty ? id : name; self.channel = channel; self.destination = destination
        self.subject = subject; self.body = body; self.secret = secret
    }

    public var recipients: [String] {
        destination.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

/// Why a template is refused: `<field>: <message> [<code>]`.
public struct TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case badJSON = "bad_json", missingField = "missing_field", badChannel = "bad_channel", badURL = "bad_url"
        case badAddress = "bad_address", unknownPlaceholder = "unknown_placeholder", unclosedPlaceholder = "unclosed_placeholder"
        case badId = "bad_id", notFound = "not_found"
    }
    public var code: Code
    public var field: String
    public var message: String
    public init(_ code: Code, _ field: String, _ message: String) { self.code = code; self.field = field; self.message = message }
    public var description: String { "\(field.isEmpty ? "template" : field): \(message) [\(code.rawValue)]" }
}

/// Every problem of a refused template (or templates file).
public struct TemplateProblems: Error, Sendable, Equatable, CustomStringConvertible {
    public var all: [TemplateError]
    public init(_ all: [TemplateError]) { self.all = all }
    public var first: TemplateError? { all.first }
    public var description: String { all.map { $0.description }.joined(separator: "\n") }
}

/// JSON ⇄ Template, with every problem reported (not only the first).
public enum TemplateCodec {
    public static func decode(_ json: String) -> Result<Template, TemplateProblems> {
        guard let data = json.data(using: .utf8), let any = try? JSONSerialization.jsonObject(with: data),
              let o = any as? [String: Any] else {
            return .failure(TemplateProblems([TemplateError(.badJSON, "", "expected a JSON object")]))
        }
        return decode(o)
    }

    public static func decode(_ o: [String: Any]) -> Result<Template, TemplateProblems> {
        var errors: [TemplateError] = []
        func str(_ k: String, required: Bool) -> String {
            if let v = o[k] as? String { return v }
            if o[k] != nil { errors.append(TemplateError(.badJSON, k, "expected a string")) }
            else if required { errors.append(TemplateError(.missingField, k, "is required")) }
            return ""
        }
        let known: Set<String> = ["id", "name", "channel", "destination", "subject", "body", "secret"]
        for k in o.keys.sorted() where !known.contains(k) {
            errors.append(TemplateError(.badJSON, k, "unknown field (known: \(known.sorted().joined(separator: ", ")))"))
        }
        let id = str("id", required: true)
        let name = str("name", required: false)
        let channelName = str("channel", required: true)
        let destination = str("destination", required: true)
        let subject = str("subject", required: false)
        let body = str("body", required: false)
        let secret = str("secret", required: false)
        let channel = Channel(rawValue: channelName.lowercased())
        if channel == nil && !channelName.isEmpty {
            errors.append(TemplateError(.badChannel, "channel", "'\(channelName)' is not one of \(Channel.allCases.map(\.rawValue).joined(separator: ", "))"))
        }
        guard errors.isEmpty, let channel else { return .failure(TemplateProblems(errors)) }
        let t = Template(id: id, name: name, channel: channel, destination: destination, subject: subject, body: body, secret: secret)
        let problems = TemplateValidator.problems(t)
        return problems.isEmpty ? .success(t) : .failure(TemplateProblems(problems))
    }

    public static func object(_ t: Template, includeSecret: Bool) -> [String: Any] {
        var o: [String: Any] = ["id": t.id, "name": t.name, "channel": t.channel.rawValue, "destination": t.destination,
                                "subject": t.subject, "body": t.body]
        if !t.secret.isEmpty { o["secret"] = includeSecret ? t.secret : "********" }
        return o
    }

    public static func json(_ value: Any) -> String {
        guard let d = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .prettyPrinted]) else { return "{}" }
        return String(decoding: d, as: UTF8.self)
    }

    /// A templates file: `{"templates": [...]}` or a bare array.
    public static func decodeFile(_ data: Data) -> Result<[Template], TemplateProblems> {
        guard let any = try? JSONSerialization.jsonObject(with: data) else {
            return .failure(TemplateProblems([TemplateError(.badJSON, "", "not JSON")]))
        }
        let list: [Any]
        if let a = any as? [Any] { list = a }
        else if let o = any as? [String: Any], let a = o["templates"] as? [Any] { list = a }
        else { return .failure(TemplateProblems([TemplateError(.badJSON, "", "expected {\"templates\": [...]} or an array")])) }
        var out: [Template] = []
        var errors: [TemplateError] = []
        for (i, item) in list.enumerated() {
            guard let o = item as? [String: Any] else { errors.append(TemplateError(.badJSON, "templates[\(i)]", "expected an object")); continue }
            switch decode(o) {
            case .success(let t): out.append(t)
            case .failure(let es): errors += es.all.map { TemplateError($0.code, "templates[\(i)].\($0.field)", $0.message) }
            }
        }
        return errors.isEmpty ? .success(out) : .failure(TemplateProblems(errors))
    }
}

/// Checks a template: id, destination per channel, every placeholder known.
public enum TemplateValidator {
    public static func problems(_ t: Template) -> [TemplateError] {
        var errors: [TemplateError] = []
        if t.id.isEmpty || t.id.count > 128 || !t.id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) {
            errors.append(TemplateError(.badId, "id", "'\(t.id)' must be 1–128 characters of letters, digits, '-', '_' or '.'"))
        }
        switch t.channel {
        case .email:
            let rs = t.recipients
            if rs.isEmpty { errors.append(TemplateError(.badAddress, "destination", "no recipient address")) }
            for r in rs where !isAddress(r) {
                errors.append(TemplateError(.badAddress, "destination", "'\(r)' is not a mail address (local@domain, no spaces or line breaks)"))
            }
        case .slack, .webhook:
            if let why = urlProblem(t.destination) { errors.append(TemplateError(.badURL, "destination", why)) }
        case .pagerduty:
            if t.destination.isEmpty || t.destination.count > 64 || !t.destination.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
                errors.append(TemplateError(.badAddress, "destination", "a PagerDuty routing key is 1–64 letters and digits"))
            }
        }
        if !t.secret.isEmpty && t.channel != .webhook {
            errors.append(TemplateError(.badJSON, "secret", "only webhook templates are signed"))
        }
        for (field, text) in [("subject", t.subject), ("body", t.body)] {
            if case .failure(let e) = TemplateText.parse(text, field: field) { errors.append(e) }
        }
        return errors
    }

    public static func isAddress(_ s: String) -> Bool {
        let parts = s.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
              s.count <= 254 else { return false }
        return s.unicodeScalars.allSatisfy { $0.value > 32 && $0.value < 127 && !"<>()[]\\,;:\"".unicodeScalars.contains($0) }
    }

    public static func urlProblem(_ s: String) -> String? {
        guard let u = URLComponents(string: s), let scheme = u.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            return "'\(s)' is not an http:// or https:// URL"
        }
        guard let host = u.host, !host.isEmpty else { return "'\(s)' has no host" }
        if s.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == " " }) { return "'\(s)' contains spaces or line breaks" }
        return nil
    }
}

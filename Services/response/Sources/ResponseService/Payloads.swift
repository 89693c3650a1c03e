import Foundation
import VigilWire

/// What one delivery sends: an HTTP POST or a mail. Rendered once when the signal arrives
/// and stored in the outbox, so a retry sends exactly the same bytes.
public struct RenderedMessage: Sendable, Equatable {
    public var channel: Channel
    /// URL (slack, pagerduty, webhook) or comma-separated recipients (email).
    public var target: String
    public var headers: [String: String] = [:]
    public var body: [UInt8]
}

public struct PayloadOptions: Sendable {
    public var pagerDutyURL = "https://events.pagerduty.com/v2/enqueue"
    public var mailFrom = "vigil@localhost"
    public var linkBase = "vigil://signals/"
    public init() {}
}

/// Renders a template for a signal, escaping values for the channel:
/// - email: header values lose CR/LF and control characters (no header injection) and are
///   RFC 2047-encoded when not ASCII; the body is text/plain UTF-8 with CRLF line ends;
/// - slack: values escaped for mrkdwn (&, <, >), the message JSON-encoded;
/// - pagerduty, webhook: JSON built from values (JSON string escaping by the encoder).
public enum Payloads {
    public static func render(_ t: Template, _ s: Signal, responseId: String, options: PayloadOptions, nowMs: Int64) -> RenderedMessage {
        let values = TemplateText.values(s, linkBase: options.linkBase)
        switch t.channel {
        case .email:
            let subject = TemplateText.render(t.subject.isEmpty ? "[Vigil] {{signal.criticality}}: {{rule.name}}" : t.subject,
                                              values: values, escape: headerSafe)
            let body = TemplateText.render(t.body.isEmpty ? "{{signal.description}}" : t.body, values: values)
            return RenderedMessage(channel: .email, target: t.recipients.joined(separator: ","), body: Array(mail(
                from: options.mailFrom, to: t.recipients, subject: headerSafe(subject), body: body, messageId: responseId, nowMs: nowMs).utf8))
        case .slack:
            let text = TemplateText.render(slackText(t), values: values, escape: slackEscape)
            return RenderedMessage(channel: .slack, target: t.destination, headers: ["Content-Type": "application/json"],
                                   body: json(["text": text]))
        case .pagerduty:
            let summary = TemplateText.render(t.subject.isEmpty ? "{{rule.name}}: {{signal.description}}" : t.subject, values: values)
            var details: [String: Any] = signalObject(s, values)
            if !t.body.isEmpty { details["text"] = TemplateText.render(t.body, values: values) }
            let o: [String: Any] = [
                "routing_key": t.destination, "event_action": "trigger", "dedup_key": dedupKey(s),
                "payload": ["summary": String(summary.prefix(1024)), "source": s.entity.asset.isEmpty ? "vigil" : s.entity.asset,
                            "severity": severity(s.criticality), "timestamp": values["signal.time"] ?? "",
                            "component": s.ruleName, "class": s.mitre.techniqueId, "custom_details": details] as [String: Any],
            ]
            return RenderedMessage(channel: .pagerduty, target: options.pagerDutyURL, headers: ["Content-Type": "application/json"], body: json(o))
        case .webhook:
            var o: [String: Any] = ["id": responseId, "template_id": t.id, "signal": signalObject(s, values)]
            if !t.subject.isEmpty { o["subject"] = TemplateText.render(t.subject, values: values) }
            if !t.body.isEmpty { o["text"] = TemplateText.render(t.body, values: values) }
            let body = json(o)
            var headers = ["Content-Type": "application/json", "Idempotency-Key": responseId]
            if !t.secret.isEmpty { headers["X-Vigil-Signature"] = "sha256=" + HMAC.sha256Hex(key: Array(t.secret.utf8), message: body) }
            return RenderedMessage(channel: .webhook, target: t.destination, headers: headers, body: body)
        }
    }

    static func slackText(_ t: Template) -> String {
        switch (t.subject.isEmpty, t.body.isEmpty) {
        case (true, true): return "*{{signal.criticality}}* {{rule.name}} (risk {{risk.score}}): {{signal.description}}"
        case (false, true): return t.subject
        case (true, false): return t.body
        case (false, false): return "*" + t.subject + "*\n" + t.body
        }
    }

    /// PagerDuty groups alerts with the same dedup_key: rule + group key (the rule's group-by
    /// values), or the signal id when the rule does not group.
    public static func dedupKey(_ s: Signal) -> String {
        s.groupKey.isEmpty ? s.id : "\(s.ruleId):\(s.groupKey)"
    }

    static func severity(_ c: Criticality) -> String {
        switch c {
        case .critical: return "critical"
        case .high: return "error"
        case .medium: return "warning"
        default: return "info"
        }
    }

    static func signalObject(_ s: Signal, _ values: [String: String]) -> [String: Any] {
        [
            "id": s.id, "rule": ["id": s.ruleId, "name": s.ruleName, "version": Int(s.ruleVersion)] as [String: Any],
            "criticality": s.criticality.name, "risk_score": Int(s.riskScore),
            "mitre": ["tactic": s.mitre.tacticId, "tactic_name": s.mitre.tacticName, "technique": s.mitre.techniqueId,
                      "technique_name": s.mitre.techniqueName],
            "entity": ["user": s.entity.user, "asset": s.entity.asset, "ip": s.entity.ip],
            "group_key": s.groupKey, "event_count": s.eventIds.count, "event_ids": s.eventIds,
            "time": values["signal.time"] ?? "", "description": s.description, "link": values["signal.link"] ?? "",
        ]
    }

    public static func json(_ o: [String: Any]) -> [UInt8] {
        Array((try? JSONSerialization.data(withJSONObject: o, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8))
    }

    /// Slack mrkdwn control characters (https://api.slack.com/reference/surfaces/formatting#escaping).
    public static func slackEscape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// One header line's worth: CR, LF and other control characters become spaces.
    public static func headerSafe(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.map { $0.value < 32 || $0.value == 127 ? " " : $0 }))
    }

    /// RFC 2047 encoded-word when the value is not plain ASCII.
    static func encodedHeader(_ s: String) -> String {
        if s.unicodeScalars.allSatisfy({ $0.value >= 32 && $0.value < 127 }) { return s }
        return "=?UTF-8?B?" + Data(s.utf8).base64EncodedString() + "?="
    }

    public static func mail(from: String, to: [String], subject: String, body: String, messageId: String, nowMs: Int64) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        let domain = from.split(separator: "@").last.map(String.init) ?? "localhost"
        let idPart = String(messageId.unicodeScalars.filter { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-.".unicodeScalars.contains($0)) }.map(Character.init))
        var lines = [
            "From: \(headerSafe(from))",
            "To: \(to.map(headerSafe).joined(separator: ", "))",
            "Subject: \(encodedHeader(headerSafe(subject)))",
            "Date: \(f.string(from: Date(timeIntervalSince1970: Double(nowMs) / 1000)))",
            "Message-ID: <\(idPart)@\(headerSafe(domain))>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            "",
        ]
        let normalized = body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        lines += normalized.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}

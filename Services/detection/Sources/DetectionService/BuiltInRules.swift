import VigilRules

/// The demo rule, compiled in so a stack without its library directory still raises the
/// signal the README tour shows. Same content as Library/failed-login.json.
enum BuiltInRules {
    static let demoJSON = """
    {"schema": 1, "id": "5e0c6b1a-9d43-4f2e-8a71-3c2b1d0e9f01", "name": "Failed SSH or su login",
     "description": "Any failed authentication (SSH, su, sudo, PAM, Windows logon). Active by default: the demo and the end-to-end tests rely on one signal per failed login.",
     "version": 1, "author": "Vigil team", "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z", "status": "active",
     "mitre": {"tactics": [{"id": "TA0006", "name": "Credential Access"}], "techniques": [{"id": "T1110", "name": "Brute Force"}]},
     "criticality": "medium", "risk_score": 40, "log_sources": [],
     "detection": {"type": "match", "condition": "event.category: authentication and event.outcome: failure", "group_by": ["user.name", "source.ip"]},
     "responses": []}
    """
    // The JSON above is a constant checked by the integration tests; decoding cannot fail at run time.
    static let demo: Rule = (try? RuleDecoder.decode(demoJSON)) ?? Rule(id: "5e0c6b1a-9d43-4f2e-8a71-3c2b1d0e9f01", name: "Failed SSH or su login",
                                                                      detection: .match(condition: "event.category: authentication and event.outcome: failure", groupBy: ["user.name", "source.ip"]))
}

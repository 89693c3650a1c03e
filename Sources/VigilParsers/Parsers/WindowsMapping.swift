/// EventID → ECS mapping for the Windows events detections rely on most. Field copies
/// are generic (any event carrying `Image` gets process.executable); category/action/
/// outcome and which account is "the user" depend on the event id.
enum WindowsMapping {
    struct Kind { let category: String; let action: String; let outcome: String?; let userIsTarget: Bool }

    /// Security-Auditing ids. userIsTarget: the logging-on account is Target*, not Subject*.
    static let security: [Int: Kind] = [
        4624: Kind(category: "authentication", action: "logged-in", outcome: "success", userIsTarget: true),
        4625: Kind(category: "authentication", action: "logon-failed", outcome: "failure", userIsTarget: true),
        4634: Kind(category: "authentication", action: "logged-out", outcome: "success", userIsTarget: true),
        4647: Kind(category: "authentication", action: "logged-out", outcome: "success", userIsTarget: true),
        4648: Kind(category: "authentication", action: "logged-in-explicit", outcome: "success", userIsTarget: false),
        4672: Kind(category: "iam", action: "logged-in-special", outcome: "success", userIsTarget: false),
        4688: Kind(category: "process", action: "created-process", outcome: "success", userIsTarget: false),
        4689: Kind(category: "process", action: "exited-process", outcome: "success", userIsTarget: false),
        4697: Kind(category: "configuration", action: "service-installed", outcome: "success", userIsTarget: false),
        4698: Kind(category: "configuration", action: "scheduled-task-created", outcome: "success", userIsTarget: false),
        4699: Kind(category: "configuration", action: "scheduled-task-deleted", outcome: "success", userIsTarget: false),
        4700: Kind(category: "configuration", action: "scheduled-task-enabled", outcome: "success", userIsTarget: false),
        4701: Kind(category: "configuration", action: "scheduled-task-disabled", outcome: "success", userIsTarget: false),
        4702: Kind(category: "configuration", action: "scheduled-task-updated", outcome: "success", userIsTarget: false),
        4720: Kind(category: "iam", action: "added-user-account", outcome: "success", userIsTarget: false),
        4722: Kind(category: "iam", action: "enabled-user-account", outcome: "success", userIsTarget: false),
        4723: Kind(category: "iam", action: "changed-password", outcome: "success", userIsTarget: false),
        4724: Kind(category: "iam", action: "reset-password", outcome: "success", userIsTarget: false),
        4725: Kind(category: "iam", action: "disabled-user-account", outcome: "success", userIsTarget: false),
        4726: Kind(category: "iam", action: "deleted-user-account", outcome: "success", userIsTarget: false),
        4728: Kind(category: "iam", action: "added-member-to-group", outcome: "success", userIsTarget: false),
        4732: Kind(category: "iam", action: "added-member-to-group", outcome: "success", userIsTarget: false),
        4756: Kind(category: "iam", action: "added-member-to-group", outcome: "success", userIsTarget: false),
        4729: Kind(category: "iam", action: "removed-member-from-group", outcome: "success", userIsTarget: false),
        4733: Kind(category: "iam", action: "removed-member-from-group", outcome: "success", userIsTarget: false),
        4757: Kind(category: "iam", action: "removed-member-from-group", outcome: "success", userIsTarget: false),
        4738: Kind(category: "iam", action: "modified-user-account", outcome: "success", userIsTarget: false),
        4740: Kind(category: "iam", action: "locked-out-user-account", outcome: "success", userIsTarget: false),
        4768: Kind(category: "authentication", action: "kerberos-authentication-ticket-requested", outcome: nil, userIsTarget: true),
        4769: Kind(category: "authentication", action: "kerberos-service-ticket-requested", outcome: nil, userIsTarget: true),
        4771: Kind(category: "authentication", action: "kerberos-preauth-failed", outcome: "failure", userIsTarget: true),
        4776: Kind(category: "authentication", action: "credential-validated", outcome: nil, userIsTarget: true),
        1102: Kind(category: "configuration", action: "audit-log-cleared", outcome: "success", userIsTarget: false),
        7045: Kind(category: "configuration", action: "service-installed", outcome: "success", userIsTarget: false),
    ]

    static let sysmon: [Int: (String, String)] = [
        1: ("process", "process-created"), 2: ("file", "file-creation-time-changed"), 3: ("network", "network-connection"),
        5: ("process", "process-terminated"), 6: ("driver", "driver-loaded"), 7: ("library", "image-loaded"),
        8: ("process", "create-remote-thread"), 10: ("process", "process-accessed"), 11: ("file", "file-created"),
        12: ("registry", "registry-object-added-or-deleted"), 13: ("registry", "registry-value-set"), 14: ("registry", "registry-object-renamed"),
        15: ("file", "file-stream-created"), 17: ("file", "pipe-created"), 18: ("file", "pipe-connected"),
        22: ("network", "dns-query"), 23: ("file", "file-deleted"), 25: ("process", "process-tampering"), 26: ("file", "file-deleted-detected"),
    ]

    static func normalize(_ v: [String: String], into r: inout RecordBuilder) {
        let id = v["EventID"]?.decimalValue ?? -1
        r.put("event.code", v["EventID"])
        r.put("host.name", v["Computer"])
        r.put("event.provider", v["Provider_Name"])
        r.put("winlog.channel", v["Channel"])
        r.put("winlog.record_id", v["EventRecordID"])
        let isSysmon = (v["Provider_Name"] ?? "").hasSuffix("Sysmon") || Substring(v["Channel"] ?? "").has("Sysmon")
        copyCommon(v, &r)
        if isSysmon, let (cat, action) = sysmon[id] {
            r.put("event.category", cat)
            r.put("event.action", action)
            r.put("event.outcome", "success")
            sysmonSpecific(id, v, &r)
        } else if let k = security[id] {
            r.put("event.category", k.category)
            r.put("event.action", k.action)
            r.put("event.outcome", k.outcome ?? statusOutcome(v["Status"]))
            let pfx = k.userIsTarget ? "Target" : "Subject"
            if let name = v[pfx + "UserName"] { r.put("user.name", name); r.put("user.domain", v[pfx + "DomainName"]) }
            r.put("user.id", v[pfx + "UserSid"])
            if !k.userIsTarget {
                r.put("user.target.name", v["TargetUserName"])
                r.put("user.target.domain", v["TargetDomainName"])
            }
            securitySpecific(id, v, &r)
        }
        if let m = v["Message"] { r.put("message", m) }
    }

    /// Status "0x0" means success for Kerberos/NTLM credential validation events.
    static func statusOutcome(_ s: String?) -> String? {
        guard let s else { return nil }
        return s == "0x0" || s == "0" ? "success" : "failure"
    }

    /// "0x1a2c" (Security log) or "6700" (Sysmon) → "6700".
    static func pid(_ s: String?) -> String? {
        guard let s else { return nil }
        if s.hasPrefix("0x") || s.hasPrefix("0X") {
            // Windows PIDs are 32-bit; longer hex is garbage, not a pid.
            return s.count <= 10 ? UInt32(s.dropFirst(2), radix: 16).map(String.init) : nil
        }
        return s.decimalValue.map(String.init)
    }

    static func copyCommon(_ v: [String: String], _ r: inout RecordBuilder) {
        if let img = v["Image"] ?? v["NewProcessName"] ?? v["ProcessName"] {
            r.put("process.executable", img)
            r.put("process.name", Text.basename(img))
        }
        r.put("process.command_line", v["CommandLine"])
        r.put("process.pid", pid(v["NewProcessId"] ?? v["ProcessId"]))
        if let p = v["ParentImage"] ?? v["ParentProcessName"] {
            r.put("process.parent.executable", p)
            r.put("process.parent.name", Text.basename(p))
        }
        r.put("process.parent.command_line", v["ParentCommandLine"])
        r.put("process.parent.pid", pid(v["ParentProcessId"] ?? (v["NewProcessId"] != nil ? v["ProcessId"] : nil)))
        r.put("process.working_directory", v["CurrentDirectory"])
        r.put("process.pe.original_file_name", v["OriginalFileName"])
        if let u = v["User"], u != "-" {
            let (d, n) = Text.splitUser(u)
            r.put("user.name", n)
            r.put("user.domain", d)
        }
        if let h = v["Hashes"] {
            // "SHA1=…,MD5=…,SHA256=…,IMPHASH=…"
            for part in h.split(separator: ",") {
                if let eq = part.firstIndex(of: "=") {
                    r.put("process.hash." + part[..<eq].lowercased(), String(part[part.index(after: eq)...]))
                }
            }
        }
        let ip = v["IpAddress"].map { $0.hasPrefix("::ffff:") ? String($0.dropFirst(7)) : $0 }
        r.putIP("source.ip", ip)
        r.putNumber("source.port", v["IpPort"].flatMap { $0 == "0" ? nil : $0 })
        r.put("source.domain", v["WorkstationName"])
    }

    static func securitySpecific(_ id: Int, _ v: [String: String], _ r: inout RecordBuilder) {
        switch id {
        case 4624, 4625, 4634: r.put("winlog.logon.type", v["LogonType"])
        case 4648: r.put("destination.domain", v["TargetServerName"])
        case 4728, 4732, 4756, 4729, 4733, 4757:
            // For group-membership events TargetUserName is the group.
            r.fields["user.target.name"] = nil
            r.put("group.name", v["TargetUserName"])
            r.put("group.domain", v["TargetDomainName"])
            r.put("user.target.name", v["MemberName"])
        case 4697, 7045: r.put("service.name", v["ServiceName"])
        case 4698, 4699, 4700, 4701, 4702: r.put("winlog.task.name", v["TaskName"])
        default: break
        }
        if id == 7045 || id == 4697 { r.put("file.path", v["ImagePath"] ?? v["ServiceFileName"]) }
    }

    static func sysmonSpecific(_ id: Int, _ v: [String: String], _ r: inout RecordBuilder) {
        switch id {
        case 3:
            r.putIP("source.ip", v["SourceIp"]); r.putNumber("source.port", v["SourcePort"])
            r.putIP("destination.ip", v["DestinationIp"]); r.putNumber("destination.port", v["DestinationPort"])
            r.put("network.transport", v["Protocol"]?.lowercased())
            r.put("destination.domain", v["DestinationHostname"])
            r.put("source.domain", v["SourceHostname"])
            if let i = v["Initiated"] { r.put("network.direction", i == "true" ? "egress" : "ingress") }
        case 7: r.put("file.path", v["ImageLoaded"]); r.put("dll.path", v["ImageLoaded"])
        case 8, 10:
            r.put("process.executable", v["SourceImage"]); r.put("process.name", v["SourceImage"].map(Text.basename))
            r.put("process.pid", v["SourceProcessId"]); r.put("process.target.executable", v["TargetImage"])
        case 11, 15, 23, 26, 2:
            r.put("file.path", v["TargetFilename"]); r.put("file.name", v["TargetFilename"].map(Text.basename))
        case 12, 13, 14:
            r.put("registry.path", v["TargetObject"]); r.put("registry.data.strings", v["Details"])
            r.put("event.type", v["EventType"])
        case 17, 18: r.put("file.name", v["PipeName"])
        case 22: r.put("dns.question.name", v["QueryName"]); r.put("dns.answers", v["QueryResults"])
        case 6: r.put("file.path", v["ImageLoaded"])
        default: break
        }
    }
}

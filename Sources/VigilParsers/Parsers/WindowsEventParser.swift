/// Windows Event Log / Sysmon events serialised as JSON, in three shapes:
/// evtx_dump (`{"Event":{"System":…,"EventData":…}}`), NXLog flat (`{"EventID":…,"Channel":…}`)
/// and Winlogbeat (`{"winlog":{"event_id":…,"event_data":…}}`). All three are reduced to the
/// same vendor dictionary (EventData names + EventID/Channel/Computer/Provider_Name) so
/// Sigma rules see identical field names whatever the shipper.
public struct WindowsEventParser: ContextParser {
    public let name = "windows"
    public init() {}
    public func parse(_ line: String) -> Result<ParsedRecord, ParseFailure>? { parseLine(line, receivedAt: LineContext.now()) }
    public func parse(_ line: String, receivedAt: Int64) -> Result<ParsedRecord, ParseFailure>? { parseLine(line, receivedAt: receivedAt) }

    func parse(_ ctx: LineContext) -> Result<ParsedRecord, ParseFailure>? {
        let start = ctx.header?.messageStart ?? ctx.start
        guard ctx.line.at(start) == 0x7B else { return nil }
        switch JSONReader.parse(ctx.line, from: start) {
        case .failure(let f): return looksWindows(ctx.line, start) ? .failure(f) : nil
        case .success(let v): return parse(json: v, header: ctx.header)
        }
    }

    static let eventIDMarker = Array(ascii: "\"EventID\""), winlogMarker = Array(ascii: "\"winlog\"")

    /// Cheap pre-check so a broken generic JSON line is not reported as a Windows failure.
    private func looksWindows(_ line: Line, _ start: Int) -> Bool {
        line.find(Self.eventIDMarker, from: start, to: start + 4096) != nil
            || line.find(Self.winlogMarker, from: start, to: start + 4096) != nil
    }

    func parse(json v: JSONValue, header: SyslogHeader?) -> Result<ParsedRecord, ParseFailure>? {
        var vendor: [String: String] = [:]
        vendor.reserveCapacity(48)
        var time: Int64? = nil
        if let event = v["Event"], event["System"] != nil {
            guard let system = event["System"], system.objectMembers != nil else {
                return .failure(ParseFailure(code: "windows.system", reason: "Event.System must be an object, found \(event["System"]?.kindName ?? "nothing")"))
            }
            Flatten.windowsData(event["EventData"], into: &vendor)
            Flatten.windowsData(event["UserData"], into: &vendor)
            Self.readSystem(system, into: &vendor)
            if let t = vendor["TimeCreated_SystemTime"] { time = Timestamps.flexible(t) }
        } else if let w = v["winlog"], w.objectMembers != nil {
            Flatten.windowsData(w["event_data"], into: &vendor)
            Flatten.windowsData(w["user_data"], into: &vendor)
            let names = [("event_id", "EventID"), ("channel", "Channel"), ("computer_name", "Computer"), ("provider_name", "Provider_Name"),
                         ("provider_guid", "Provider_Guid"), ("record_id", "EventRecordID"), ("task", "Task"), ("opcode", "Opcode"), ("version", "Version")]
            for (k, out) in names { if let s = w[k]?.scalarText { vendor[out] = s } }
            if let s = v["@timestamp"]?.scalarText { time = Timestamps.flexible(s) }
        } else if v["EventID"] != nil, v["Channel"] != nil || v["SourceName"] != nil || v["Hostname"] != nil || v["ProviderGuid"] != nil {
            // NXLog im_msvistalog: EventData names are already top-level keys.
            Flatten.windowsData(v, into: &vendor)
            if vendor["Computer"] == nil { vendor["Computer"] = vendor["Hostname"] }
            if vendor["Provider_Name"] == nil { vendor["Provider_Name"] = vendor["SourceName"] ?? vendor["ProviderName"] }
            if let s = vendor["EventTime"] ?? vendor["@timestamp"] { time = Timestamps.flexible(s) }
        } else {
            return nil
        }
        guard let id = vendor["EventID"], id.decimalValue != nil else {
            return .failure(ParseFailure(code: "windows.eventid", reason: "EventID must be a decimal number, found '\(vendor["EventID"] ?? "nothing")'"))
        }
        var r = RecordBuilder(format: name)
        r.vendor = vendor
        r.timestamp = time
        WindowsMapping.normalize(vendor, into: &r)
        header?.apply(to: &r)
        return .success(r.record)
    }

    /// System block: EventID may be a number or {"#text":…,"#attributes":{"Qualifiers":…}}.
    static func readSystem(_ s: JSONValue, into v: inout [String: String]) {
        for (k, val) in s.objectMembers ?? [] {
            if let text = val.scalarText { v[k] = text; continue }
            if let t = val["#text"]?.scalarText { v[k] = t }
            // Nested attribute blocks become "Element_Attribute" (Provider_Name, Execution_ProcessID…).
            for (ak, av) in val["#attributes"]?.objectMembers ?? [] {
                if let t = av.scalarText { v[k + "_" + ak] = t }
            }
        }
    }
}

enum Flatten {
    /// EventData/UserData → leaf names. Nested containers (UserData's single child element,
    /// "#attributes") contribute their leaves by leaf name without overwriting.
    static func windowsData(_ v: JSONValue?, into out: inout [String: String], depth: Int = 0) {
        guard let members = v?.objectMembers, depth < 8 else { return }
        for (k, val) in members {
            switch val {
            case .null: continue
            case .object:
                if let t = val["#text"]?.scalarText { if out[k] == nil { out[k] = t } }
                else { windowsData(val, into: &out, depth: depth + 1) }
            case .array(let items):
                if out[k] == nil { out[k] = items.compactMap { $0.scalarText ?? $0["#text"]?.scalarText }.joined(separator: ",") }
            default:
                if k == "xmlns" { continue }
                if depth == 0 || out[k] == nil, let t = val.scalarText { out[k] = t }
            }
        }
    }
}

import Foundation
import VigilIntel
import VigilLog
import VigilStore
import VigilWire

/// Threat-intelligence feeds inside enrichment: reads the feeds file, loads each feed on a
/// loader thread (file or HTTP, then parse and index there), and applies finished loads on the
/// service loop: store the indicators, swap the feed's set in the matcher, record the status.
/// A failed load only records the error: the feed keeps its last good set.
final class ThreatIntel {
    let db: Database
    let logger: Logger
    let feedsPath: String
    /// The default `<data>/config/feeds.json` may not exist (no feeds yet); a path the admin
    /// configured must.
    let feedsOptional: Bool
    /// The feeds in effect: the feeds file's, and the config service's `intel_feed` objects
    /// (which win when both name the same feed).
    private(set) var configs: [FeedConfig] = []
    private var fileConfigs: [FeedConfig] = []
    private(set) var serviceFeeds: [FeedConfig] = []
    /// Set before `start` when the service follows config's `intel_feed` objects: until the
    /// first snapshot, feeds stored earlier are kept (they may be config-defined).
    var followsConfigService = false
    private var serviceFeedsKnown = false
    private(set) var configError = ""
    private var status: [String: FeedStatus] = [:]
    private var validators: [String: FeedLoader.Validators] = [:]
    private var sets: [String: IndicatorSet] = [:]
    private var due: [String: Int64] = [:]
    private var inFlight: Set<String> = []
    private let queue = DispatchQueue(label: "vigil.intel.loader")
    private let mailbox = Mailbox()
    /// Called with the new matcher whenever a feed's set changes.
    var onChange: (ThreatMatcher) -> Void = { _ in }
    var count: (String) -> Void = { _ in }

    init(db: Database, logger: Logger, feedsPath: String, feedsOptional: Bool = false) {
        self.feedsOptional = feedsOptional
        self.db = db
        self.logger = logger.with("component", "intel")
        self.feedsPath = feedsPath
    }

    var matcher: ThreatMatcher { ThreatMatcher(sets: configs.compactMap { sets[$0.name] }) }

    /// Reads the feeds file and the stored sets; schedules every feed for loading now.
    func start(nowMs: Int64) throws {
        readConfig()
        try restoreStored()
        onChange(matcher)
        for c in configs where c.enabled { due[c.name] = nowMs }
    }

    /// (Re)reads the feeds file. A broken file keeps the previous definitions and is reported.
    func readConfig() {
        if feedsPath.isEmpty {
            fileConfigs = []; configError = ""
        } else if !FileManager.default.fileExists(atPath: feedsPath) {
            if feedsOptional { fileConfigs = []; configError = "" } else {
                configError = "feeds file \(feedsPath) does not exist"
                logger.error("feeds file missing", ["path": feedsPath])
            }
        } else {
            do {
                fileConfigs = try FeedsFile.load(path: feedsPath)
                configError = ""
            } catch {
                configError = "\(error)"
                count("intel.config_errors")
                logger.error("feeds file refused; keeping the previous feeds", ["path": feedsPath, "error": "\(error)"])
            }
        }
        recompute()
    }

    private func recompute() {
        let serviceNames = Set(serviceFeeds.map(\.name))
        for c in fileConfigs where serviceNames.contains(c.name) {
            logger.warning("feed defined in the feeds file and in config; config's intel_feed is used", ["feed": c.name])
        }
        configs = fileConfigs.filter { !serviceNames.contains($0.name) } + serviceFeeds
        let names = Set(configs.map(\.name))
        if !followsConfigService || serviceFeedsKnown {
            for n in Array(sets.keys) where !names.contains(n) { sets[n] = nil }
        }
        for c in configs where status[c.name] == nil {
            var s = FeedStatus()
            s.name = c.name
            status[c.name] = s
        }
        for n in Array(status.keys) where !names.contains(n) { status[n] = nil }
        for c in configs {
            status[c.name]?.format = c.format.rawValue
            status[c.name]?.location = c.location
            status[c.name]?.refreshSeconds = c.refreshSeconds
        }
    }

    /// The config service's `intel_feed` objects (snapshot or change): new and changed feeds
    /// load now; a removed feed takes its indicators with it.
    func setServiceFeeds(_ feeds: [FeedConfig], nowMs: Int64) {
        let before = Dictionary(serviceFeeds.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        serviceFeeds = feeds
        serviceFeedsKnown = true
        recompute()
        do { try pruneStored() } catch { logger.error("removed feeds' indicators not deleted", ["error": "\(error)"]) }
        for f in feeds where f.enabled && before[f.name] != f {
            due[f.name] = nowMs
            validators[f.name] = nil
        }
        onChange(matcher)
        tick(nowMs: nowMs)
    }

    /// Deletes stored indicators and status of feeds no longer defined anywhere.
    private func pruneStored() throws {
        let names = Set(configs.map(\.name))
        try db.transaction {
            for r in try db.query("SELECT DISTINCT feed FROM intel_indicators UNION SELECT name FROM intel_feeds") where !names.contains(r.string(0)) {
                try db.run("DELETE FROM intel_indicators WHERE feed = ?", [.text(r.string(0))])
                try db.run("DELETE FROM intel_feeds WHERE name = ?", [.text(r.string(0))])
            }
        }
    }

    /// The last good sets survive restarts: matching works before the first reload finishes.
    private func restoreStored() throws {
        // A feed removed from the feeds file takes its indicators with it — once it is known
        // that config does not define it either.
        if !followsConfigService { try pruneStored() }
        var names = configs.map(\.name)
        if followsConfigService {
            for r in try db.query("SELECT DISTINCT feed FROM intel_indicators") where !names.contains(r.string(0)) { names.append(r.string(0)) }
        }
        for name in names {
            if let r = try db.query("SELECT last_load_ms, last_attempt_ms, last_error, refused, refused_samples, etag, last_modified FROM intel_feeds WHERE name = ?", [.text(name)]).first {
                status[name]?.lastLoadTimeMs = r.int(0)
                status[name]?.lastAttemptTimeMs = r.int(1)
                status[name]?.lastError = r.string(2)
                status[name]?.refused = UInt64(r.int(3))
                status[name]?.refusedSamples = r.string(4).split(separator: "\n").map(String.init)
                validators[name] = .init(etag: r.string(5), lastModified: r.string(6))
            }
            var list: [Indicator] = []
            for r in try db.query("SELECT type, value, confidence, expires_ms FROM intel_indicators WHERE feed = ?", [.text(name)]) {
                guard let t = IndicatorType(rawValue: r.string(0)) else { continue }
                list.append(Indicator(type: t, value: r.string(1), confidence: Int(r.int(2)), expiresMs: r.int(3)))
            }
            if !list.isEmpty {
                let set = IndicatorSet(feed: name, indicators: list)
                sets[name] = set
                status[name]?.indicators = UInt64(set.count)
            }
        }
    }

    /// Asks for a load of `feed` (or every feed) now; re-reads the feeds file first.
    func reload(feed: String, nowMs: Int64) throws {
        readConfig()
        onChange(matcher)
        if !feed.isEmpty {
            guard configs.contains(where: { $0.name == feed }) else {
                throw IntelError(.badConfig, feed: feed, "no such feed; feeds: \(configs.map(\.name).joined(separator: ", "))")
            }
            due[feed] = nowMs
            // A forced reload must fetch even when the server would answer 304.
            validators[feed] = nil
        } else {
            for c in configs where c.enabled { due[c.name] = nowMs; validators[c.name] = nil }
        }
        tick(nowMs: nowMs)
    }

    /// Starts due loads and applies finished ones; runs on the service loop.
    func tick(nowMs: Int64) {
        for c in configs where c.enabled && !inFlight.contains(c.name) {
            guard let d = due[c.name], d <= nowMs else { continue }
            due[c.name] = nil
            inFlight.insert(c.name)
            status[c.name]?.loading = true
            let v = validators[c.name] ?? .init()
            let box = mailbox
            queue.async {
                let outcome = FeedLoader.load(c, validators: v, nowMs: nowMs)
                box.post(Mailbox.Result(config: c, startedMs: nowMs, outcome: outcome))
            }
        }
        for r in mailbox.take() { apply(r, nowMs: nowMs) }
    }

    private func apply(_ r: Mailbox.Result, nowMs: Int64) {
        let name = r.config.name
        inFlight.remove(name)
        status[name]?.loading = false
        status[name]?.lastAttemptTimeMs = r.startedMs
        // Still defined (the file may have changed while loading)?
        guard let current = configs.first(where: { $0.name == name }) else { return }
        if current.refreshSeconds > 0 { due[name] = nowMs + current.refreshSeconds * 1000 }
        switch r.outcome {
        case .notModified:
            status[name]?.lastError = ""
            status[name]?.lastLoadTimeMs = r.startedMs
            count("intel.not_modified")
            try? saveStatus(name)
        case .failed(let e):
            status[name]?.lastError = e.description
            status[name]?.failures += 1
            count("intel.failures")
            logger.warning("feed load failed; keeping its last good set", ["feed": name, "error": e.description,
                                                                          "kept": String(sets[name]?.count ?? 0)])
            try? saveStatus(name)
        case .loaded(let parsed, let set, let v):
            do {
                try store(name, parsed, at: r.startedMs, validators: v)
            } catch {
                status[name]?.lastError = "store: \(error)"
                status[name]?.failures += 1
                count("intel.failures")
                logger.error("feed indicators not stored; keeping the last good set", ["feed": name, "error": "\(error)"])
                return
            }
            sets[name] = set
            validators[name] = v
            status[name]?.indicators = UInt64(set.count)
            status[name]?.lastLoadTimeMs = r.startedMs
            status[name]?.lastError = ""
            status[name]?.refused = UInt64(parsed.refusedCount)
            status[name]?.refusedSamples = parsed.refusedSamples.map(\.description)
            try? saveStatus(name)
            count("intel.loads")
            if parsed.refusedCount > 0 {
                logger.warning("feed entries refused", ["feed": name, "refused": String(parsed.refusedCount),
                                                         "first": parsed.refusedSamples.first?.description ?? ""])
            }
            logger.info("feed loaded", ["feed": name, "indicators": String(set.count), "refused": String(parsed.refusedCount)])
            onChange(matcher)
        }
    }

    /// Replaces the feed's stored indicators with this load's, keeping first-seen times.
    private func store(_ feed: String, _ p: ParsedFeed, at ms: Int64, validators v: FeedLoader.Validators) throws {
        try db.transaction {
            for i in p.indicators {
                try db.run("""
                    INSERT INTO intel_indicators(feed, type, value, confidence, first_seen_ms, last_seen_ms, expires_ms) VALUES(?,?,?,?,?,?,?)
                    ON CONFLICT(feed, type, value) DO UPDATE SET confidence = excluded.confidence, last_seen_ms = excluded.last_seen_ms,
                        expires_ms = excluded.expires_ms
                    """, [.text(feed), .text(i.type.rawValue), .text(i.value), .integer(Int64(i.confidence)), .integer(ms), .integer(ms), .integer(i.expiresMs)])
            }
            try db.run("DELETE FROM intel_indicators WHERE feed = ? AND last_seen_ms < ?", [.text(feed), .integer(ms)])
            validators[feed] = v
            try saveStatus(feed)
        }
    }

    private func saveStatus(_ name: String) throws {
        guard let s = status[name] else { return }
        let v = validators[name] ?? .init()
        try db.run("""
            INSERT OR REPLACE INTO intel_feeds(name, last_load_ms, last_attempt_ms, last_error, refused, refused_samples, etag, last_modified)
            VALUES(?,?,?,?,?,?,?,?)
            """, [.text(name), .integer(s.lastLoadTimeMs), .integer(s.lastAttemptTimeMs), .text(s.lastError), .integer(Int64(s.refused)),
                  .text(s.refusedSamples.joined(separator: "\n")), .text(v.etag), .text(v.lastModified)])
    }

    func statusList() -> FeedStatusList {
        var l = FeedStatusList(feeds: configs.compactMap { status[$0.name] })
        l.configError = configError
        return l
    }

    /// Matching indicators from the live sets, with first/last seen from the store.
    func lookup(_ value: String, nowMs: Int64) throws -> IntelLookupResponse {
        var r = IntelLookupResponse()
        r.value = value
        for m in matcher.lookup(value, nowMs: nowMs) {
            var t = ThreatIndicator()
            t.type = m.type.rawValue; t.value = m.value; t.feed = m.feed; t.confidence = UInt32(m.confidence)
            if let row = try db.query("SELECT first_seen_ms, last_seen_ms, expires_ms FROM intel_indicators WHERE feed = ? AND type = ? AND value = ?",
                                      [.text(m.feed), .text(m.type.rawValue), .text(m.value)]).first {
                t.firstSeenTimeMs = row.int(0); t.lastSeenTimeMs = row.int(1); t.expiresTimeMs = row.int(2)
            }
            r.indicators.append(t)
        }
        return r
    }
}

/// Finished loads, handed from the loader thread to the service loop.
final class Mailbox: @unchecked Sendable {
    struct Result: @unchecked Sendable {
        var config: FeedConfig
        var startedMs: Int64
        var outcome: FeedLoader.Outcome
    }
    private let lock = NSLock()
    private var items: [Result] = []

    func post(_ r: Result) { lock.lock(); items.append(r); lock.unlock() }
    func take() -> [Result] {
        lock.lock(); defer { lock.unlock() }
        let out = items
        items.removeAll()
        return out
    }
}

extension FeedConfig {
    /// A feed from config's `intel_feed` object (validated there: format, location, schedule).
    /// `schedule` is an interval (30m, 1h, 1d) or `manual` (loaded at start and on reload).
    static func fromConfigObject(_ json: String) -> Result<FeedConfig, IntelError> {
        guard let o = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let name = o["name"] as? String, !name.isEmpty else {
            return .failure(IntelError(.badConfig, feed: "config", "intel_feed object without a name"))
        }
        guard let f = (o["format"] as? String).flatMap(FeedFormat.named) else {
            return .failure(IntelError(.badConfig, feed: name, "unknown format \(o["format"] ?? "nothing")"))
        }
        guard let location = o["location"] as? String, !location.isEmpty else {
            return .failure(IntelError(.badConfig, feed: name, "no location"))
        }
        var c = FeedConfig(name: name, format: f, location: location)
        let schedule = o["schedule"] as? String ?? "1h"
        if schedule == "manual" { c.refreshSeconds = 0 } else {
            guard let s = FeedsFile.parseDuration(schedule), s > 0 else {
                return .failure(IntelError(.badConfig, feed: name, "schedule '\(schedule)' is not an interval"))
            }
            c.refreshSeconds = s
        }
        c.enabled = o["enabled"] as? Bool ?? true
        return .success(c)
    }
}

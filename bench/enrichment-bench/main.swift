import BenchSupport
import Foundation
import EnrichmentService
import VigilIntel
import VigilWire

// In-process enrichment throughput: the Enricher the service calls per event, with 100k
// assets, 10k directory users and 1M threat indicators loaded. Events are synthetic but carry
// the fields enrichment reads (host, IPs, user, DNS name, URL, process hash); about 1 in 20
// hits an indicator. Prints `RESULT enrichment_events_per_s=N`. `--store` measures the stage's
// whole store path instead (StoreBench.swift).

let options = BenchOptions.parse(tool: "enrichment-bench", summary: """
    The Enricher alone with 100k assets, 10k users and 1M indicators loaded (default), or with
    --store the stage's whole store path (decode, enrich, insert, full-text index, commit, checkpoints).
    """, options: [
    BenchOption("--events", .positive, "events (default 300,000; with --store 100,000)"),
    BenchOption("--assets", .count, "assets loaded (default 100,000)"),
    BenchOption("--users", .count, "directory users loaded (default 10,000)"),
    BenchOption("--indicators", .count, "threat indicators loaded (default 1,000,000)"),
    BenchOption("--store", .flag, "measure the store path instead of the Enricher"),
    BenchOption("--batch", .positive, "with --store: events per transaction (default 5000)"),
    BenchOption("--page-size", .positive, "with --store: the store's page size (default 16384)", placeholder: "BYTES"),
    BenchOption("--keep", .flag, "with --store: keep the store directory"),
])
func arg(_ name: String, _ d: Int) -> Int { options.count("--" + name, default: d) }
if options.flag("--store") {
    // The stage's store path (StoreBench.swift); the default measures the Enricher alone.
    do { try storeBench(events: arg("events", 100_000), batch: arg("batch", 5000), pageSize: arg("page-size", 16384),
                       keep: options.flag("--keep")) } catch {
        FileHandle.standardError.write(Data("enrichment-bench --store: \(error)\n".utf8))
        exit(1)
    }
    exit(0)
}
let assetCount = arg("assets", 100_000), userCount = arg("users", 10_000), indicatorCount = arg("indicators", 1_000_000)
let eventCount = arg("events", 300_000)

/// Deterministic pseudo-random numbers (SplitMix64), so runs are comparable.
struct Rng { var s: UInt64; mutating func next() -> UInt64 { s &+= 0x9E3779B97F4A7C15; var z = s; z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) &* 0x94D049BB133111EB; return z ^ (z >> 31) } }
var rng = Rng(s: 42)
func ip(_ n: UInt64) -> String { "\(10 + n >> 24 & 0x3f).\(n >> 16 & 255).\(n >> 8 & 255).\(n & 255)" }
func hex(_ n: UInt64, _ len: Int) -> String {
    var s = ""
    var x = n
    while s.count < len { s += String(format: "%016llx", x); x = x &* 6364136223846793005 &+ 1442695040888963407 }
    return String(s.prefix(len))
}

let t0 = Date()
let enricher = Enricher()
var assets: [AssetRecord] = []
assets.reserveCapacity(assetCount)
for i in 0..<assetCount {
    var a = AssetRecord()
    a.id = "asset-\(i)"; a.name = "Host \(i)"; a.hostname = "host\(i).corp.example"; a.ip = ip(UInt64(i) + 1)
    a.criticality = ["low", "medium", "high", "critical"][i % 4]; a.tags = ["t\(i % 7)"]; a.owner = "team\(i % 50)"
    assets.append(a)
}
enricher.assets = AssetIndex(assets)
var users: [DirectoryUser] = []
for i in 0..<userCount {
    var u = DirectoryUser()
    u.id = "u\(i)"; u.samAccountName = "user\(i)"; u.upn = "user\(i)@corp.example"; u.sid = "S-1-5-21-1-2-3-\(1000 + i)"
    u.displayName = "User \(i)"; u.department = "Dept \(i % 30)"; u.groups = ["G\(i % 12)"]; u.privileged = i % 50 == 0
    users.append(u)
}
enricher.users = UserIndex(users)
// Three feeds of a third each: addresses and blocks, domains and URLs, hashes.
var feeds: [[Indicator]] = [[], [], []]
for i in 0..<indicatorCount {
    let r = UInt64(i)
    switch i % 10 {
    case 0, 1, 2: feeds[0].append(Indicator(type: .ipv4, value: "\(100 + r % 100).\(r >> 8 & 255).\(r >> 16 & 255).\(r & 255)", confidence: 50 + i % 50))
    case 3: feeds[0].append(Indicator(type: .cidr, value: "\(60 + r % 40).\(r >> 4 & 255).\(r & 255).0/24", confidence: 40))
    case 4, 5, 6: feeds[1].append(Indicator(type: .domain, value: "bad\(i).example\(i % 100).net", confidence: 70))
    case 7: feeds[1].append(Indicator(type: .url, value: "http://dl\(i).example.org/p/\(i).exe", confidence: 80))
    default: feeds[2].append(Indicator(type: .sha256, value: hex(r &* 0x9E3779B97F4A7C15, 64), confidence: 90))
    }
}
let sets = feeds.enumerated().map { IndicatorSet(feed: "feed\($0.offset)", indicators: $0.element) }
enricher.threats = ThreatMatcher(sets: sets)
let loadSeconds = Date().timeIntervalSince(t0)
print("loaded \(assetCount) assets, \(userCount) users, \(sets.reduce(0) { $0 + $1.count }) indicators in \(String(format: "%.1f", loadSeconds)) s")

// Events: prebuilt so the timed loop measures enrichment only.
var events: [Event] = []
events.reserveCapacity(10_000)
for i in 0..<10_000 {
    var e = Event()
    let r = rng.next()
    let hit = i % 20 == 0
    e.fields["host.name"] = "host\(r % UInt64(assetCount * 2))"
    e.fields["source.ip"] = hit && i % 40 == 0 ? feeds[0][Int(r % UInt64(feeds[0].count))].value.replacingOccurrences(of: ".0/24", with: ".7") : "198.18.\(r >> 8 & 255).\(r & 255)"
    e.fields["destination.ip"] = ip(r >> 20 % UInt64(assetCount * 2))
    e.fields["user.name"] = "user\(r >> 12 % UInt64(userCount * 2))"
    e.fields["dns.question.name"] = hit && i % 40 != 0 ? "cdn.bad\((Int(r % 100_000) * 10) + 4).example\(((Int(r % 100_000) * 10) + 4) % 100).net" : "www.site\(r % 5000).example.com"
    e.fields["url.original"] = "https://www.site\(r % 5000).example.com/index.html?q=\(i)"
    e.fields["process.hash.sha256"] = hex(r, 64)
    e.fields["event.category"] = "network"
    events.append(e)
}

// Warm up, then time.
for i in 0..<20_000 { var e = events[i % events.count]; enricher.enrich(&e, nowMs: 1) }
let before = enricher.counts
let start = DispatchTime.now().uptimeNanoseconds
var sink = 0
for i in 0..<eventCount {
    var e = events[i % events.count]
    enricher.enrich(&e, nowMs: 1)
    sink &+= e.enriched.count
}
let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
let c = enricher.counts
print("enriched \(eventCount) events in \(String(format: "%.2f", seconds)) s: assets \(c.assets - before.assets), users \(c.users - before.users), threats \(c.threats - before.threats) (\(sink) values)")
print("RESULT enrichment_events_per_s=\(Int(Double(eventCount) / seconds)) assets=\(assetCount) users=\(userCount) indicators=\(indicatorCount) load_s=\(String(format: "%.1f", loadSeconds))")

import BenchSupport
import Foundation
import UserAnalyticsService
import VigilStore
import VigilWire

// User-analytics figures: risk updates per second (signals scored and stored, batched as the
// service's stream consumer does) and overview latency, with 100k users and 1M signals.
//
//   swift build -c release -j 1 --product user-analytics-bench && .build/release/user-analytics-bench
//   [--users N] [--signals N] [--batch N] [--overviews N]

let options = BenchOptions.parse(tool: "user-analytics-bench", summary: """
    Risk updates per second (signals scored and stored, batched as the service does) and overview latency, in process.
    """, options: [
    BenchOption("--users", .positive, "users (default 100,000)"),
    BenchOption("--signals", .positive, "signals (default 1,000,000)"),
    BenchOption("--batch", .positive, "signals per transaction (default 1000)"),
    BenchOption("--overviews", .positive, "overview queries timed (default 200)"),
])
func arg(_ name: String, _ d: Int) -> Int { options.count("--" + name, default: d) }
func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
func mono() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

let userCount = arg("users", 100_000)
let signalCount = arg("signals", 1_000_000)
let batchSize = arg("batch", 1000)
let overviews = arg("overviews", 200)

let dir = NSTemporaryDirectory() + "ua-bench-\(UUID().uuidString.prefix(8))"
try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: dir) }
let db = try Database(path: dir + "/ua.db")
let engine = try UserAnalyticsEngine(db: db, model: RiskModel())

// Deterministic pseudo-random numbers (xorshift), so runs compare.
var rng: UInt64 = 0x9E3779B97F4A7C15
func next() -> UInt64 { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng }
func unit() -> Double { Double(next() % 1_000_000) / 1_000_000 }

let departments = ["Finance", "IT", "Sales", "HR", "Legal", "Engineering", "Support", "Marketing"]
var t = mono()
var users: [DirectoryUser] = []
users.reserveCapacity(userCount)
for i in 0..<userCount {
    var u = DirectoryUser()
    u.id = "user\(i)"; u.samAccountName = "user\(i)"; u.upn = "user\(i)@corp.test"; u.email = u.upn
    u.displayName = "User \(i)"; u.department = departments[i % departments.count]; u.title = "Staff"
    u.privileged = i % 50 == 0
    users.append(u)
}
let now = nowMs()
try engine.upsert(users, origin: "import", nowMs: now)
let loadS = mono() - t
print("loaded \(userCount) users in \(String(format: "%.1f", loadS)) s")

// 1M signals over 30 days, skewed so some users collect many (index ~ u² · users).
let rules = (0..<40).map { ("rule-\($0)", "Rule \($0)", ["Credential Access", "Execution", "Persistence", "Lateral Movement", "Exfiltration"][$0 % 5]) }
var done = 0
t = mono()
while done < signalCount {
    let n = min(batchSize, signalCount - done)
    var batch: [Signal] = []
    batch.reserveCapacity(n)
    for k in 0..<n {
        let i = done + k
        var s = Signal()
        s.id = "sig-\(i)"
        let r = rules[Int(next() % UInt64(rules.count))]
        s.ruleId = r.0; s.ruleName = r.1; s.mitre.tacticName = r.2
        s.riskScore = UInt32(20 + next() % 80)
        s.entity.user = "user\(min(userCount - 1, Int(unit() * unit() * Double(userCount))))"
        s.createdTimeMs = now - Int64(unit() * 30 * 86_400_000)
        s.eventIds = ["ev-\(i)"]
        batch.append(s)
    }
    try db.transaction { _ = try engine.ingest(batch, nowMs: now) }
    done += n
}
let ingestS = mono() - t
let updatesPerS = Double(signalCount) / ingestS
print("scored \(signalCount) signals in \(String(format: "%.1f", ingestS)) s")

// Overview: top 20 with signal counts over the last 7 days and each one's top rule.
var lat: [Double] = []
for _ in 0..<overviews {
    let a = mono()
    let p = try engine.overview(limit: 20, fromMs: now - 7 * 86_400_000, toMs: now, nowMs: now)
    lat.append((mono() - a) * 1000)
    precondition(p.users.count == 20)
}
lat.sort()
func pct(_ p: Double) -> Double { lat[min(lat.count - 1, Int(Double(lat.count - 1) * p))] }
let refreshStart = mono()
let refreshed = try engine.refreshScores(nowMs: now)
let refreshS = mono() - refreshStart
print("decay refresh of \(refreshed) stored scores: \(String(format: "%.2f", refreshS)) s")
print(String(format: "RESULT risk_updates_per_s=%.0f overview_ms_p50=%.2f overview_ms_p99=%.2f users=%d signals=%d decay_refresh_s=%.2f",
             updatesPerS, pct(0.5), pct(0.99), userCount, signalCount, refreshS))
db.close()

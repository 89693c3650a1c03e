import XCTest
@testable import VigilParsers

/// Deterministic SplitMix64 so a failing fuzz case is reproducible from the seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

final class FuzzTests: XCTestCase {
    static let tokens: [[UInt8]] = ["|", "=", "\"", "\\", "<", ">", "{", "}", "[", "]", ",", " ", "\t", ":", "%ASA-", "CEF:", "LEEF:2.0|",
                                    "\u{0}", "\u{FEFF}", "é", "\\u", "\\ud800", "0x", "-", "999999999999999999999", "date=", "filterlog[1]: "].map { Array($0.utf8) }

    func seeds() throws -> [[UInt8]] {
        var lines = try fixture("samples.log").split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { $0.split(separator: "\t", maxSplits: 1).last.map(String.init) }
        lines += [#"<34>1 2003-10-11T22:14:15.003Z host app 12 ID [a b="c\"d"][e f="g"] msg"#,
                  "Mar 10 12:00:00 h sudo: u : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/id",
                  "Mar 10 12:00:00 h su[1]: pam_unix(su:auth): authentication failure; logname=a uid=1 euid=0 tty=x ruser=a rhost=  user=root",
                  "<166>Mar 10 2024 12:00:00 asa : %ASA-6-302013: Built inbound TCP connection 1 for o:1.2.3.4/1 (1.2.3.4/1) to i:5.6.7.8/2 (5.6.7.8/2)",
                  "<166>Mar 10 2024 12:00:00 asa : %ASA-6-113005: AAA user authentication Rejected : reason = x : server = 1.1.1.1 : user = b : user IP = 2.2.2.2",
                  #"{"winlog":{"event_id":4688,"event_data":{"NewProcessId":"0xffffffffffffffffffff"}}}"#]
        return lines.map { Array($0.utf8) }
    }

    func mutate(_ s: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var b = s
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            switch Int.random(in: 0..<6, using: &rng) {
            case 0 where !b.isEmpty: b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            case 1 where !b.isEmpty: b.removeSubrange(Int.random(in: 0..<b.count, using: &rng)..<b.count)  // truncate
            case 2 where b.count > 2:
                let i = Int.random(in: 0..<b.count, using: &rng), n = Int.random(in: 0...min(16, b.count - i), using: &rng)
                b.removeSubrange(i..<(i + n))
            case 3: b.insert(contentsOf: Self.tokens.randomElement(using: &rng)!, at: Int.random(in: 0...b.count, using: &rng))
            case 4 where !b.isEmpty:
                let i = Int.random(in: 0..<b.count, using: &rng), n = Int.random(in: 0...min(32, b.count - i), using: &rng)
                b.insert(contentsOf: b[i..<(i + n)], at: Int.random(in: 0...b.count, using: &rng))
            default: b.append(contentsOf: Self.tokens.randomElement(using: &rng)!)
            }
        }
        return b
    }

    /// Thousands of random and mutated lines: no crash, deterministic results, and the
    /// invariants downstream code relies on (IP fields look like IPs, ports are decimal,
    /// failures carry a code and a reason).
    func testFuzzNeverCrashesAndKeepsInvariants() throws {
        var rng = SplitMix64(state: 0xC0FFEE)
        let corpus = try seeds()
        let chain = ParserChain.standard
        var successes = 0, failures = 0
        for n in 0..<12_000 {
            let bytes: [UInt8]
            if n % 4 == 0 {
                bytes = (0..<Int.random(in: 0...200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                bytes = mutate(corpus[n % corpus.count], &rng)
            }
            let line = String(decoding: bytes, as: UTF8.self)
            let receivedAt = n % 50 == 0 ? Int64.random(in: Int64.min...Int64.max, using: &rng) : received
            let result = chain.parse(line, hint: n % 7 == 0 ? chain.parsers.randomElement(using: &rng)!.name : nil, receivedAt: receivedAt)
            switch result {
            case .success(let r):
                successes += 1
                XCTAssertFalse(r.format.isEmpty)
                for k in ["source.ip", "destination.ip"] { if let ip = r.fields[k] { XCTAssertTrue(Net.looksLikeIP(ip), "\(k)=\(ip) from \(line)") } }
                for k in ["source.port", "destination.port", "process.pid"] { if let p = r.fields[k] { XCTAssertNotNil(p.decimalValue, "\(k)=\(p) from \(line)") } }
            case .failure(let f):
                failures += 1
                XCTAssertFalse(f.code.isEmpty, line)
                XCTAssertFalse(f.reason.isEmpty, line)
            }
            if n % 10 == 0 {
                XCTAssertEqual(chain.parse(line, receivedAt: received), chain.parse(line, receivedAt: received), "nondeterministic: \(line)")
            }
        }
        // Both outcomes must be exercised or the fuzzer is not reaching the parsers.
        XCTAssertGreaterThan(successes, 3000)
        XCTAssertGreaterThan(failures, 1000)
    }

    func testEveryParserDirectlyOnMutations() throws {
        var rng = SplitMix64(state: 42)
        let corpus = try seeds()
        for p in ParserChain.standard.parsers {
            for n in 0..<600 {
                let line = String(decoding: mutate(corpus[n % corpus.count], &rng), as: UTF8.self)
                if case .failure(let f)? = p.parse(line, receivedAt: received) {
                    XCTAssertFalse(f.reason.isEmpty, "\(p.name): \(line)")
                }
            }
        }
    }
}

/// Hostile long lines must parse in linear time: a quadratic path would take minutes here.
final class PathologicalInputTests: XCTestCase {
    func testLongHostileLinesStayFast() {
        let n = 200_000
        let lines = [
            "LEEF:1.0|V|P|1|e|k=v" + String(repeating: "\tx", count: n),                 // delimiter-glued value
            "CEF:0|V|P|1|s|n|1|a=" + String(repeating: "x=", count: n),                    // '=' storm in a value
            "CEF:0|V|P|1|s|n|1|" + String(repeating: "k=v ", count: n),                    // many keys
            "date=2024-03-10 " + String(repeating: "k=\"v\" ", count: n),                  // many FortiGate pairs
            "{\"a\":\"" + String(repeating: "\\u00e9", count: n) + "\"}",                  // long escaped string
            "<13>1 - h a - - " + String(repeating: "[x a=\"b\"]", count: n / 4) + " m",   // many SD elements
            "1,2024/03/10 12:00:00,0128,TRAFFIC," + String(repeating: "\"a\",", count: n), // many CSV columns
            "Mar 10 12:00:00 h sudo: u : " + String(repeating: "X=1 ; ", count: n) + "COMMAND=/bin/id",
            String(repeating: "<", count: n),
        ]
        let start = Date()
        for l in lines {
            _ = ParserChain.standard.parse(l, receivedAt: received)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 20, "hostile lines took too long")
        let leef = parseOK(lines[0])
        XCTAssertEqual(leef.vendor["k"]?.utf8.count, 1 + 2 * n, "glued value keeps every byte")
    }
}

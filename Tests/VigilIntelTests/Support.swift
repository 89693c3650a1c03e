import Foundation
import XCTest
@testable import VigilIntel

func fixture(_ name: String) throws -> [UInt8] {
    guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures") else {
        throw TestSetupError(message: "fixture \(name) missing from the test bundle")
    }
    return [UInt8](try Data(contentsOf: url))
}

func fixturePath(_ name: String) -> String {
    Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures")?.path ?? "/nonexistent/\(name)"
}

func feed(_ format: FeedFormat, _ name: String = "test", confidence: Int = 50) -> FeedConfig {
    var f = FeedConfig(name: name, format: format, location: "/dev/null")
    f.confidence = confidence
    return f
}

extension Result {
    var value: Success? { if case .success(let v) = self { return v }; return nil }
    var error: Failure? { if case .failure(let e) = self { return e }; return nil }
}

let now: Int64 = 1_750_000_000_000

/// A test's own setup failed (a missing fixture, a helper server that did not start): the test
/// fails with this reason rather than being skipped, since CI installs everything it needs.
struct TestSetupError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

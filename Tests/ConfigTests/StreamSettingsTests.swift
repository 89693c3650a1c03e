import XCTest
import VigilService

/// The runtime's stream settings: batched publishing on or off, and how many waiting messages a
/// consumer transaction takes.
final class StreamSettingsTests: XCTestCase {
    func testBatchPublishIsOnByDefaultAndABadValueNamesTheKey() throws {
        XCTAssertTrue(try RuntimeConfig.load(service: "test", arguments: [], environment: [:]).bool("stream.batch-publish", default: true))
        let off = try RuntimeConfig.load(service: "test", arguments: [], environment: ["VIGIL_STREAM_BATCH_PUBLISH": "false"])
        XCTAssertFalse(try off.bool("stream.batch-publish", default: true))
        let bad = try RuntimeConfig.load(service: "test", arguments: ["--stream.batch-publish", "maybe"], environment: [:])
        XCTAssertThrowsError(try bad.bool("stream.batch-publish", default: true)) { e in
            XCTAssertTrue("\(e)".contains("stream.batch-publish") && "\(e)".contains("expected true or false"), "\(e)")
        }
    }

    func testAConsumerTransactionTakesAQuarterOfWhatWaitsWithinItsBounds() {
        // A short backlog goes in steps of 250, a long one in quarters up to batch-size.
        XCTAssertEqual(ServiceRuntime.transactionSize(waiting: 40, batchSize: 5000), 250, "fewer than a step: all of them")
        XCTAssertEqual(ServiceRuntime.transactionSize(waiting: 1000, batchSize: 5000), 250)
        XCTAssertEqual(ServiceRuntime.transactionSize(waiting: 8000, batchSize: 5000), 2000)
        XCTAssertEqual(ServiceRuntime.transactionSize(waiting: 100_000, batchSize: 5000), 5000)
        XCTAssertEqual(ServiceRuntime.transactionSize(waiting: 100_000, batchSize: 100), 100, "batch-size stays the upper bound")
        // Draining 1,000 waiting messages: four steps instead of one 1,000-message transaction.
        var waiting = 1000, steps: [Int] = []
        while waiting > 0 { let n = min(waiting, ServiceRuntime.transactionSize(waiting: waiting, batchSize: 5000)); steps.append(n); waiting -= n }
        XCTAssertEqual(steps, [250, 250, 250, 250])
    }
}

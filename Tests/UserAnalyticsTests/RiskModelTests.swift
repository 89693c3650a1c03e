import XCTest
@testable import UserAnalyticsService

final class RiskModelTests: XCTestCase {
    func testPlaceholder() { XCTAssertEqual(RiskModel().scale, 100) }
}

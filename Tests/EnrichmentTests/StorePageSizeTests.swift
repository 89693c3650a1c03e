import Foundation
import XCTest
import VigilStore
@testable import EnrichmentService

/// A new enrichment store gets larger pages (rows of 1 KB stay whole in the leaves); an existing
/// store keeps its page size, and the store stays in WAL mode either way.
final class StorePageSizeTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("pagesize-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func pageSize(_ db: Database) throws -> Int64? { try db.scalar("PRAGMA page_size")?.int64 }
    func journal(_ db: Database) throws -> String? { try db.scalar("PRAGMA journal_mode")?.string }

    func testNewStoreGetsTheConfiguredPagesAndStaysInWAL() throws {
        let path = dir.appendingPathComponent("new.db").path
        let db = try Database(path: path)
        // Something else (the runtime) may have written its tables first.
        _ = try db.run("CREATE TABLE other(x)")
        _ = try db.run("INSERT INTO other VALUES(1)")
        try EnrichmentService.setPageSize(db, bytes: 16384)
        XCTAssertEqual(try pageSize(db), 16384)
        XCTAssertEqual(try journal(db), "wal")
        XCTAssertEqual(try db.scalar("SELECT x FROM other")?.int64, 1, "what was there survives the VACUUM")
        _ = try db.migrate(component: "enrichment", EnrichmentService.migrations)
        db.close()
        let again = try Database(path: path)
        XCTAssertEqual(try pageSize(again), 16384)
        XCTAssertEqual(try journal(again), "wal")
    }

    func testExistingStoreKeepsItsPageSize() throws {
        let db = try Database(path: dir.appendingPathComponent("old.db").path)
        _ = try db.migrate(component: "enrichment", EnrichmentService.migrations)
        let before = try pageSize(db)
        try EnrichmentService.setPageSize(db, bytes: before == 16384 ? 8192 : 16384)
        XCTAssertEqual(try pageSize(db), before)
        XCTAssertEqual(try journal(db), "wal")
    }

    func testBadPageSizesAreRefused() throws {
        let db = try Database(path: dir.appendingPathComponent("bad.db").path)
        for bad in [1000, 2048, 12288, 131072] {
            XCTAssertThrowsError(try EnrichmentService.setPageSize(db, bytes: bad), "\(bad)")
        }
    }
}

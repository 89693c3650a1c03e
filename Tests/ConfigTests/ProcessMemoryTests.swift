import XCTest
import VigilLog
import VigilService
#if canImport(Glibc)
import Glibc
#endif

/// `memory.keep-freed-mb`: malloc serves large blocks from its heap and keeps freed memory.
final class ProcessMemoryTests: XCTestCase {
    func testKeptFreedMemoryServesLargeBlocksFromTheHeap() throws {
        try ProcessMemory.apply(RuntimeConfig.load(service: "test", arguments: [], environment: [:]), logger: Logger(label: "test"))
        // glibc's default gives a 4 MB block a mapping of its own (fresh, zeroed pages each time).
        let before = ProcessMemory.mappedBlocks
        for _ in 0..<3 {
            let p = malloc(4 << 20)
            XCTAssertNotNil(p)
            XCTAssertEqual(ProcessMemory.mappedBlocks, before, "a 4 MB block comes from the heap")
            free(p)
        }
    }

    func testAnOutOfRangeValueNamesTheKey() throws {
        let bad = try RuntimeConfig.load(service: "test", arguments: ["--memory.keep-freed-mb", "5000"], environment: [:])
        XCTAssertThrowsError(try ProcessMemory.apply(bad, logger: Logger(label: "test"))) { e in
            XCTAssertTrue("\(e)".contains("memory.keep-freed-mb") && "\(e)".contains("expected 0 to 2047"), "\(e)")
        }
        let off = try RuntimeConfig.load(service: "test", arguments: [], environment: ["VIGIL_MEMORY_KEEP_FREED_MB": "0"])
        XCTAssertNoThrow(try ProcessMemory.apply(off, logger: Logger(label: "test")))
    }
}

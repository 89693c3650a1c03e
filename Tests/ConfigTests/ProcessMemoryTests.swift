import XCTest
import VigilLog
import VigilService
#if canImport(Glibc)
import Glibc
#endif

/// `memory.keep-freed-mb`: malloc serves large blocks from its heap and keeps freed memory.
final class ProcessMemoryTests: XCTestCase {
    /// Whether glibc gave this block a mapping of its own: the IS_MMAPPED bit (0x2) of the size
    /// word in the chunk header just before the block. Read per block, so other threads'
    /// allocations cannot disturb the answer.
    func isMapped(_ p: UnsafeMutableRawPointer) -> Bool {
        (UnsafeRawPointer(p) - MemoryLayout<UInt>.size).load(as: UInt.self) & 0x2 != 0
    }

    func testKeptFreedMemoryServesLargeBlocksFromTheHeap() throws {
        XCTAssertTrue(ProcessMemory.keepFreed(mb: 64), "glibc accepts the settings")
        try ProcessMemory.apply(RuntimeConfig.load(service: "test", arguments: [], environment: [:]), logger: Logger(label: "test"))
        // Under glibc's default a 4 MB block has a mapping of its own: fresh, zeroed pages each time.
        for _ in 0..<3 {
            let p = try XCTUnwrap(malloc(4 << 20))
            XCTAssertFalse(isMapped(p), "a 4 MB block comes from the heap")
            free(p)
        }
        // Beyond 16 MB blocks keep their own mapping (memory is returned when they are freed).
        let big = try XCTUnwrap(malloc(24 << 20))
        XCTAssertTrue(isMapped(big), "a 24 MB block is mapped on its own")
        free(big)
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

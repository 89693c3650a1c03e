import CMalloc
import VigilLog

/// How a service's malloc gives memory back to the system (`memory.keep-freed-mb`).
///
/// By default glibc returns a freed block of 128 KB or more to the kernel at once (an mmap of
/// its own), and trims a heap whose free top exceeds 128 KB. A service receives and frees
/// batches of that size thousands of times a second, so each one came back as fresh pages the
/// kernel had to fault in and zero: enrichment's ZeroMQ I/O thread spent most of its time in
/// `clear_page_erms` (docs/performance.md). Keeping up to `mb` of freed memory, and serving blocks
/// up to 16 MB from the heap, reuses those pages instead.
public enum ProcessMemory {
    /// Largest block served from the heap instead of its own mapping.
    static let heapBlockLimit = 16 << 20

    /// Applies `memory.keep-freed-mb` (default 64) from `config`; every service and the broker
    /// call it before they start.
    public static func apply(_ config: RuntimeConfig, logger: Logger) throws {
        let mb = try config.int("memory.keep-freed-mb", default: 64)
        guard (0...2047).contains(mb) else {
            throw ConfigError(code: .badValue, key: "memory.keep-freed-mb", message: "expected 0 to 2047 (MB), got \(mb)")
        }
        if !keepFreed(mb: mb) { logger.warning("malloc refused memory.keep-freed-mb; glibc's defaults stay", ["mb": String(mb)]) }
    }

    /// 0 leaves glibc's defaults. Returns false when glibc refused a setting.
    @discardableResult
    public static func keepFreed(mb: Int) -> Bool {
        guard mb > 0 else { return true }
        let keep = Int32(clamping: (mb << 20) - (mb == 2047 ? 1 : 0))
        let mmapOK = mallopt(M_MMAP_THRESHOLD, Int32(min(heapBlockLimit, mb << 20))) == 1
        let trimOK = mallopt(M_TRIM_THRESHOLD, keep) == 1
        return mmapOK && trimOK
    }

    /// Blocks malloc currently holds as mappings of their own (`mallinfo2().hblks`).
    public static var mappedBlocks: Int { Int(mallinfo2().hblks) }
}

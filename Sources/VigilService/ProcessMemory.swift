import CMalloc
import VigilLog

/// How a service's malloc gives memory back to the system (`memory.keep-freed-mb`).
///
/// glibc gives a block of 128 KB or more a mapping of its own and unmaps it when freed; its
/// dynamic threshold then raises that size to the largest such block freed so far (up to 32 MB),
/// and trims a heap whose free top exceeds twice that. A service receives and frees bus batches
/// of that size thousands of times a second, and enrichment's ZeroMQ I/O thread spent most of its
/// time in the kernel zeroing the fresh pages they came in (`clear_page_erms`,
/// docs/performance.md). This sets both limits instead: blocks up to 16 MB (or `mb`, when smaller)
/// come from the heap, and each heap (one per malloc arena) keeps up to `mb` of free top. Setting
/// them turns glibc's dynamic threshold off and overrides `GLIBC_TUNABLES`' malloc settings;
/// `0` leaves glibc alone.
public enum ProcessMemory {
    /// Largest block served from the heap instead of its own mapping.
    static let heapBlockLimit = 16 << 20

    /// Applies `memory.keep-freed-mb` from `config`; every service and the broker call it before
    /// they start (default 64), the endpoint agent too (default 0: it stays small on the host).
    public static func apply(_ config: RuntimeConfig, logger: Logger, defaultMB: Int = 64) throws {
        let mb = try config.int("memory.keep-freed-mb", default: defaultMB)
        guard (0...2047).contains(mb) else {
            throw ConfigError(code: .badValue, key: "memory.keep-freed-mb", message: "expected 0 to 2047 (MB), got \(mb)")
        }
        if !keepFreed(mb: mb) { logger.warning("malloc refused memory.keep-freed-mb; glibc's defaults stay", ["mb": String(mb)]) }
    }

    /// 0 leaves glibc's defaults. Returns false when glibc refused a setting.
    @discardableResult
    public static func keepFreed(mb: Int) -> Bool {
        guard mb > 0 else { return true }
        let keep = Int32(mb << 20)
        let mmapOK = mallopt(M_MMAP_THRESHOLD, Int32(min(heapBlockLimit, mb << 20))) == 1
        let trimOK = mallopt(M_TRIM_THRESHOLD, keep) == 1
        return mmapOK && trimOK
    }
}

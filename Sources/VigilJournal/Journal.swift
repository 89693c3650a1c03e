import CSystemd
#if canImport(Glibc)
import Glibc
#endif

/// Why the journal could not be opened or read: the libsystemd call, its errno and what it means.
public struct JournalError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable { case open, match, seek, read }
    public var code: Code
    public var call: String
    public var errno: Int32
    public init(_ code: Code, _ call: String, _ rc: Int32) { self.code = code; self.call = call; self.errno = -rc }
    public var description: String {
        "journal \(code.rawValue) failed: \(call) returned -\(errno) (\(String(cString: strerror(errno))))"
    }
}

/// One journal entry: its cursor (a stable position to resume after), its time, and its fields
/// (MESSAGE, _SYSTEMD_UNIT, SYSLOG_IDENTIFIER, _HOSTNAME, PRIORITY, _PID, …) as text.
public struct JournalEntry: Sendable, Equatable {
    public var cursor: String
    public var realtimeUs: UInt64
    public var fields: [String: String]
}

/// A reader over the systemd journal through sd-journal (libsystemd): the system journal, a
/// directory of journal files, or given files. The only code touching libsystemd; not
/// thread-safe (one owner), like the `sd_journal` handle it wraps.
public final class Journal {
    private var handle: OpaquePointer?

    /// The local system journal (`/var/log/journal`, `/run/log/journal`).
    public static func system() throws -> Journal {
        var j: OpaquePointer?
        let rc = sd_journal_open(&j, Int32(SD_JOURNAL_LOCAL_ONLY))
        guard rc >= 0, let j else { throw JournalError(.open, "sd_journal_open", rc) }
        return Journal(j)
    }

    /// Every journal file in `path` (e.g. what `systemd-journal-remote -o DIR/` wrote).
    public static func directory(_ path: String) throws -> Journal {
        var j: OpaquePointer?
        let rc = sd_journal_open_directory(&j, path, 0)
        guard rc >= 0, let j else { throw JournalError(.open, "sd_journal_open_directory(\(path))", rc) }
        return Journal(j)
    }

    private init(_ h: OpaquePointer) {
        handle = h
        // Sets up inotify, so `refresh` notices entries and files added later.
        _ = sd_journal_get_fd(h)
    }
    deinit { close() }

    public func close() {
        if let h = handle { sd_journal_close(h) }
        handle = nil
    }

    /// Only entries of these units (`_SYSTEMD_UNIT=unit`), OR-ed; none means every entry.
    public func match(units: [String]) throws {
        guard let h = handle else { return }
        sd_journal_flush_matches(h)
        for u in units {
            let m = "_SYSTEMD_UNIT=\(u)"
            let rc = m.withCString { sd_journal_add_match(h, $0, 0) }
            guard rc >= 0 else { throw JournalError(.match, "sd_journal_add_match(\(m))", rc) }
            let d = sd_journal_add_disjunction(h)
            guard d >= 0 else { throw JournalError(.match, "sd_journal_add_disjunction", d) }
        }
    }

    /// Positions after `cursor` (the entry it names is skipped), or at the head/tail.
    public func seek(after cursor: String?, tail: Bool = false) throws {
        guard let h = handle else { return }
        if let c = cursor, !c.isEmpty {
            let rc = sd_journal_seek_cursor(h, c)
            guard rc >= 0 else { throw JournalError(.seek, "sd_journal_seek_cursor", rc) }
            // Seeking lands on the cursor's entry (or the nearest); step past it when it is the same entry.
            if sd_journal_next(h) > 0, sd_journal_test_cursor(h, c) <= 0 {
                _ = sd_journal_previous(h)
            }
        } else if tail {
            let rc = sd_journal_seek_tail(h)
            guard rc >= 0 else { throw JournalError(.seek, "sd_journal_seek_tail", rc) }
            _ = sd_journal_previous(h)
        } else {
            let rc = sd_journal_seek_head(h)
            guard rc >= 0 else { throw JournalError(.seek, "sd_journal_seek_head", rc) }
        }
    }

    /// Picks up entries and files written since the last call (journal files grow and rotate
    /// under us); cheap when nothing changed.
    public func refresh() { if let h = handle { _ = sd_journal_process(h) } }

    /// The next entry, or nil at the end for now. Field values longer than `maxValueBytes` are cut.
    public func next(maxValueBytes: Int = 65_536) throws -> JournalEntry? {
        guard let h = handle else { return nil }
        let rc = sd_journal_next(h)
        if rc == 0 { return nil }
        guard rc > 0 else { throw JournalError(.read, "sd_journal_next", rc) }
        var cursorPtr: UnsafeMutablePointer<CChar>?
        let crc = sd_journal_get_cursor(h, &cursorPtr)
        guard crc >= 0, let cp = cursorPtr else { throw JournalError(.read, "sd_journal_get_cursor", crc) }
        let cursor = String(cString: cp)
        free(cp)
        var usec: UInt64 = 0
        _ = sd_journal_get_realtime_usec(h, &usec)
        var fields: [String: String] = [:]
        var data: UnsafeRawPointer?
        var len = 0
        sd_journal_restart_data(h)
        while sd_journal_enumerate_data(h, &data, &len) > 0 {
            guard let d = data else { continue }
            let bytes = UnsafeRawBufferPointer(start: d, count: len)
            guard let eq = bytes.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let name = String(decoding: bytes[..<eq], as: UTF8.self)
            let value = bytes[(eq + 1)...]
            fields[name] = String(decoding: value.prefix(maxValueBytes), as: UTF8.self)
        }
        return JournalEntry(cursor: cursor, realtimeUs: usec, fields: fields)
    }
}

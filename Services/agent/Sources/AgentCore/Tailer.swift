import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where reading a file stands: the file (device + inode), the offset of the first byte not
/// yet taken into a spooled batch, and a hash of the file's first bytes (up to 64, before the
/// offset) — so a file truncated and written again past the old offset between two looks is
/// still recognized. Kept in the agent's SQLite state with each batch.
public struct FilePosition: Sendable, Equatable {
    public var device: UInt64
    public var inode: UInt64
    public var offset: Int64
    public var head: UInt64
    public init(device: UInt64, inode: UInt64, offset: Int64, head: UInt64 = 0) {
        self.device = device; self.inode = inode; self.offset = offset; self.head = head
    }
}

/// One line read from a file, with the position just after it.
struct TailLine {
    var path: String
    var bytes: [UInt8]
    var after: FilePosition
    var cut: Bool
}

/// Follows one path the way `tail -F` does, but resumable and exact: it reads from a saved
/// (inode, offset), survives rotation by rename (the old file is read to its end — found again
/// by inode after a restart — before the new one starts at 0) and truncation (copytruncate: the
/// offset goes back to 0). Only complete lines are taken; a line longer than `maxLineBytes` is
/// cut into pieces (counted). Reads with pread, so memory is one chunk per call.
final class TailedFile {
    let path: String
    let maxLineBytes: Int
    private var fd: Int32 = -1
    private(set) var position: FilePosition?
    /// The file `path` named before a rotation, read to its end before the new one.
    private var old: (fd: Int32, pos: FilePosition, idlePolls: Int)?
    private(set) var truncations = 0
    private(set) var rotations = 0
    private(set) var cutLines = 0
    var startAtEnd = false

    init(path: String, saved: FilePosition?, maxLineBytes: Int) {
        self.path = path
        self.maxLineBytes = maxLineBytes
        self.position = saved
    }

    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
        if let o = old { Glibc.close(o.fd); old = nil }
    }

    /// Bytes not yet read (both files), for the agent's lag figure.
    var backlogBytes: Int64 {
        var n: Int64 = 0
        if fd >= 0, let p = position, let size = Self.size(fd) { n += max(0, size - p.offset) }
        if let o = old, let size = Self.size(o.fd) { n += max(0, size - o.pos.offset) }
        return n
    }

    static func identity(_ path: String) -> (UInt64, UInt64, Int64)? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return (UInt64(st.st_dev), UInt64(st.st_ino), Int64(st.st_size))
    }

    static let headBytes: Int64 = 64

    /// FNV-1a of the first min(offset, 64) bytes (0 for none).
    static func headHash(_ fd: Int32, _ offset: Int64) -> UInt64 {
        let n = Int(min(offset, headBytes))
        guard n > 0 else { return 0 }
        var buf = [UInt8](repeating: 0, count: n)
        let got = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, n, 0) }
        guard got == n else { return 1 } // shorter than it was: cannot be the same file content
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in buf { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    static func size(_ fd: Int32) -> Int64? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        return Int64(st.st_size)
    }

    /// After a restart, the saved file may have been rotated away: look for its inode among
    /// the siblings that start with the same name (auth.log.1, auth.log-20261204, …).
    private func findRotated(_ pos: FilePosition) -> String? {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path, base = url.lastPathComponent
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return nil }
        for n in names where n != base && n.hasPrefix(base) {
            if let (dev, ino, _) = Self.identity(dir + "/" + n), dev == pos.device, ino == pos.inode { return dir + "/" + n }
        }
        return nil
    }

    /// Opens the path (and a rotated predecessor still to finish) when it is not open yet.
    private func openIfNeeded() {
        guard fd < 0, let (dev, ino, size) = Self.identity(path) else { return }
        let f = open(path, O_RDONLY | O_CLOEXEC)
        guard f >= 0 else { return }
        if let p = position, p.device == dev, p.inode == ino {
            if p.offset > size || Self.headHash(f, p.offset) != p.head {
                truncations += 1; position = FilePosition(device: dev, inode: ino, offset: 0)
            }
        } else {
            if let p = position, old == nil, let rotated = findRotated(p) {
                let of = open(rotated, O_RDONLY | O_CLOEXEC)
                if of >= 0 { old = (of, p, 0); rotations += 1 }
            }
            let off = startAtEnd && position == nil ? size : 0
            position = FilePosition(device: dev, inode: ino, offset: off, head: Self.headHash(f, off))
        }
        fd = f
    }

    /// Up to `maxBytes` of complete lines (at least one line when one is there).
    func read(maxBytes: Int, maxLines: Int, into out: inout [TailLine]) {
        openIfNeeded()
        if old == nil, fd >= 0, let p = position {
            // Rotated (the path names another file now) or truncated (shorter than our offset)?
            if let (dev, ino, _) = Self.identity(path), dev != p.device || ino != p.inode {
                old = (fd, p, 0); fd = -1; rotations += 1
                position = nil
                openIfNeeded()
                if let np = position, np.device == dev && np.inode == ino { position = FilePosition(device: dev, inode: ino, offset: 0) }
            } else if let size = Self.size(fd), size < p.offset || Self.headHash(fd, p.offset) != p.head {
                truncations += 1
                position = FilePosition(device: p.device, inode: p.inode, offset: 0)
            }
        }
        guard out.count < maxLines else { return }
        var budget = maxBytes
        if var o = old {
            let before = out.count
            let n = readLines(fd: o.fd, pos: &o.pos, maxBytes: budget, maxLines: maxLines, final: o.idlePolls >= 2, into: &out)
            budget -= n
            if out.count == before { o.idlePolls += 1 } else { o.idlePolls = 0 }
            // Finished when nothing came for a few polls (the writer has moved to the new file).
            if o.idlePolls > 2 {
                Glibc.close(o.fd); old = nil
            } else {
                old = o
                return
            }
        }
        guard fd >= 0, var p = position, budget > 0, out.count < maxLines else { return }
        _ = readLines(fd: fd, pos: &p, maxBytes: budget, maxLines: maxLines, final: false, into: &out)
        position = p
    }

    /// Reads complete lines from `pos`; with `final`, a last line without newline is taken too.
    private func readLines(fd: Int32, pos: inout FilePosition, maxBytes: Int, maxLines: Int, final: Bool, into out: inout [TailLine]) -> Int {
        let chunk = max(4096, min(maxBytes, 1 << 20))
        var buf = [UInt8](repeating: 0, count: chunk)
        let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, chunk, off_t(pos.offset)) }
        guard n > 0 else { return 0 }
        var start = 0, consumed = 0
        var i = 0
        var fullHead: UInt64?
        func head(_ off: Int64) -> UInt64 {
            guard off >= Self.headBytes else { return Self.headHash(fd, off) }
            if fullHead == nil { fullHead = Self.headHash(fd, Self.headBytes) }
            return fullHead ?? 0
        }
        func emit(_ line: [UInt8], pos: inout FilePosition, upTo: Int, cut: Bool, into out: inout [TailLine]) {
            pos.offset += Int64(upTo - consumed)
            pos.head = head(pos.offset)
            out.append(TailLine(path: path, bytes: line, after: pos, cut: cut))
        }
        while i < n && out.count < maxLines {
            if buf[i] == UInt8(ascii: "\n") {
                var end = i
                if end > start && buf[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                if end > start { emit(Array(buf[start..<end]), pos: &pos, upTo: i + 1, cut: false, into: &out) }
                else { pos.offset += Int64(i + 1 - consumed); pos.head = head(pos.offset) }
                consumed = i + 1
                start = i + 1
            } else if i - start + 1 >= maxLineBytes {
                cutLines += 1
                emit(Array(buf[start...i]), pos: &pos, upTo: i + 1, cut: true, into: &out)
                consumed = i + 1
                start = i + 1
            }
            i += 1
        }
        if final && i >= n && start < n && out.count < maxLines {
            emit(Array(buf[start..<n]), pos: &pos, upTo: n, cut: false, into: &out)
            consumed = n
        }
        return consumed
    }
}

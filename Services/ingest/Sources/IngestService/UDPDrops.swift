import Foundation

/// The kernel's drop counter for one UDP socket: datagrams that arrived for it but were
/// discarded before the listener read them (receive buffer full, memory pressure, bad
/// checksum). It is the socket's `sk_drops`, which Linux shows as the last column ("drops")
/// of /proc/net/udp (IPv4) on the row whose "inode" column is the socket's inode. Reading
/// the table gives the current value at any time, unlike SO_RXQ_OVFL, which only reports it
/// when the next datagram is received.
enum UDPDrops {
    /// nil when the row cannot be found (socket closed, /proc unavailable).
    static func count(inode: UInt64, table: String = "/proc/net/udp") -> UInt64? {
        guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { return nil }
        return count(inode: inode, procText: text)
    }

    static func count(inode: UInt64, procText: String) -> UInt64? {
        // Header: sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ref pointer drops
        for line in procText.split(separator: "\n").dropFirst() {
            let cols = line.split(separator: " ", omittingEmptySubsequences: true)
            guard cols.count >= 13, UInt64(cols[9]) == inode else { continue }
            return UInt64(cols[cols.count - 1])
        }
        return nil
    }
}

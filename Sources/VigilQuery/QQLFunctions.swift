/// Pure Swift implementations of the SQL functions compiled queries call.
///
/// VigilQuery never touches SQLite, so a store must register these on every
/// connection (deterministic, one argument) before running compiled SQL:
///
/// | SQL name  | Swift                          | returns                                   |
/// |-----------|--------------------------------|-------------------------------------------|
/// | `qql_num` | `QQLFunctions.number(_:)`      | INTEGER/REAL for numbers and numeric text, else NULL |
/// | `qql_ip`  | `QQLFunctions.ipKey(_:)`       | 32-hex-digit TEXT key for IP text, else NULL |
///
/// Register with `SQLITE_UTF8 | SQLITE_DETERMINISTIC` so expression indexes may use them.
public enum QQLFunctions {
    public static let numberFunctionName = "qql_num"
    public static let ipFunctionName = "qql_ip"

    /// `qql_num(x)`: INTEGER and REAL pass through; TEXT is parsed as a decimal
    /// number; anything else (blobs, non-numeric text) is NULL.
    public static func number(_ value: SQLValue) -> QNumber? {
        switch value {
        case .integer(let i): return .integer(i)
        case .real(let d): return d.isNaN ? nil : .real(d)
        case .text(let s): return QNumber.parse(s)
        }
    }

    /// `qql_ip(x)`: TEXT that is an IPv4/IPv6 address becomes its sortable key; else NULL.
    public static func ipKey(_ value: SQLValue) -> String? {
        guard case .text(let s) = value else { return nil }
        return IPAddress(s)?.key
    }

    /// Whether `ip` lies in the CIDR block `cidr` (IPv4 or IPv6). False when either does not parse.
    public static func cidrContains(ip: String, cidr: String) -> Bool {
        guard let address = IPAddress(ip), let block = CIDRBlock(cidr) else { return false }
        return block.contains(address)
    }
}

import CLDAP
import Foundation

/// An LDAP failure: which step, libldap's result code, and its text plus the server's diagnostic.
public struct LDAPError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable { case badURL = "bad_url", connect, startTLS = "starttls", bind, search }
    public var code: Code
    public var ldapCode: Int32
    public var message: String
    public init(_ code: Code, _ ldapCode: Int32, _ message: String) { self.code = code; self.ldapCode = ldapCode; self.message = message }
    public var description: String { "ldap \(code.rawValue) failed: \(message) [ldap code \(ldapCode)]" }
}

/// One entry: its DN and attribute values as bytes (objectSid and other binary attributes stay
/// intact); names are lower-cased because LDAP attribute names are case-insensitive.
public struct LDAPEntry: Sendable, Equatable {
    public var dn: String
    public var attributes: [String: [[UInt8]]]
    public init(dn: String, attributes: [String: [[UInt8]]]) { self.dn = dn; self.attributes = attributes }

    public func values(_ name: String) -> [[UInt8]] { attributes[name.lowercased()] ?? [] }
    public func strings(_ name: String) -> [String] { values(name).map { String(decoding: $0, as: UTF8.self) } }
    public func string(_ name: String) -> String { strings(name).first ?? "" }
}

public struct LDAPOptions: Sendable, Equatable {
    public enum StartTLS: String, Sendable { case off, `try`, required }
    /// ldap://host:port or ldaps://host:port
    public var url = "ldap://127.0.0.1:389"
    public var bindDN = ""
    public var password = ""
    public var startTLS = StartTLS.off
    /// CA certificate file to verify the server's TLS certificate with (empty: system CAs).
    public var caFile = ""
    /// Verify the server certificate (turn off only for test directories).
    public var verifyCertificate = true
    public var timeoutSeconds = 10
    public init() {}
}

public enum LDAPScope: Int32, Sendable { case base = 0, oneLevel = 1, subtree = 2 }

/// A bound connection to one directory server. Not thread-safe: one owner.
public final class LDAPConnection {
    private var ld: OpaquePointer?
    public let options: LDAPOptions
    /// True when StartTLS succeeded (with `.try` a server without TLS leaves it false).
    public private(set) var tlsActive = false

    /// Connects, optionally runs StartTLS, and binds (anonymous when bindDN is empty).
    public init(_ options: LDAPOptions) throws {
        self.options = options
        var handle: OpaquePointer?
        let rc = ldap_initialize(&handle, options.url)
        guard rc == LDAP_SUCCESS, let h = handle else {
            throw LDAPError(.badURL, rc, "'\(options.url)': \(Self.text(rc)) (expected ldap://host:port or ldaps://host:port)")
        }
        ld = h
        _ = vigil_ldap_set_int(h, LDAP_OPT_PROTOCOL_VERSION, 3)
        _ = vigil_ldap_set_int(h, LDAP_OPT_REFERRALS, 0)
        _ = vigil_ldap_set_timeout(h, LDAP_OPT_NETWORK_TIMEOUT, options.timeoutSeconds)
        _ = vigil_ldap_set_timeout(h, LDAP_OPT_TIMEOUT, options.timeoutSeconds)
        if options.startTLS != .off || options.url.lowercased().hasPrefix("ldaps:") {
            if !options.caFile.isEmpty { _ = vigil_ldap_set_string(h, LDAP_OPT_X_TLS_CACERTFILE, options.caFile) }
            _ = vigil_ldap_set_int(h, LDAP_OPT_X_TLS_REQUIRE_CERT, options.verifyCertificate ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER)
            // Options set on a handle take effect only in a new TLS context.
            _ = vigil_ldap_set_int(h, LDAP_OPT_X_TLS_NEWCTX, 0)
        }
        if options.startTLS != .off {
            let t = ldap_start_tls_s(h, nil, nil)
            if t == LDAP_SUCCESS {
                tlsActive = true
            } else if options.startTLS == .required || t == LDAP_SERVER_DOWN || t == LDAP_CONNECT_ERROR {
                let e = LDAPError(t == LDAP_SERVER_DOWN ? .connect : .startTLS, t, "\(options.url): \(diagnostic(t))")
                close()
                throw e
            } else {
                // `.try`: the server refused StartTLS; the session continues in clear text.
                // A failed StartTLS may leave the handle unusable, so reconnect.
                close()
                var again: OpaquePointer?
                _ = ldap_initialize(&again, options.url)
                guard let a = again else { throw LDAPError(.connect, t, "\(options.url): reconnect after refused StartTLS failed") }
                ld = a
                _ = vigil_ldap_set_int(a, LDAP_OPT_PROTOCOL_VERSION, 3)
                _ = vigil_ldap_set_int(a, LDAP_OPT_REFERRALS, 0)
                _ = vigil_ldap_set_timeout(a, LDAP_OPT_NETWORK_TIMEOUT, options.timeoutSeconds)
                _ = vigil_ldap_set_timeout(a, LDAP_OPT_TIMEOUT, options.timeoutSeconds)
            }
        }
        guard let h2 = ld else { throw LDAPError(.connect, LDAP_OTHER, "no handle") }
        let pw = Array(options.password.utf8CString)
        let b = pw.withUnsafeBufferPointer { vigil_ldap_simple_bind(h2, options.bindDN, $0.baseAddress, options.password.utf8.count) }
        guard b == LDAP_SUCCESS else {
            let code: LDAPError.Code = (b == LDAP_SERVER_DOWN || b == LDAP_CONNECT_ERROR || b == LDAP_TIMEOUT) ? .connect : .bind
            let e = LDAPError(code, b, "\(options.url) as '\(options.bindDN.isEmpty ? "(anonymous)" : options.bindDN)': \(diagnostic(b))")
            close()
            throw e
        }
    }

    deinit { close() }

    public func close() {
        if let h = ld { ldap_unbind_ext_s(h, nil, nil) }
        ld = nil
    }

    static func text(_ rc: Int32) -> String { ldap_err2string(rc).map { String(cString: $0) } ?? "code \(rc)" }

    private func diagnostic(_ rc: Int32) -> String {
        var s = Self.text(rc)
        if let h = ld, let d = vigil_ldap_diagnostic(h) {
            let extra = String(cString: d)
            ldap_memfree(d)
            if !extra.isEmpty { s += " (\(extra))" }
        }
        return s
    }

    /// Searches with the simple paged results control (RFC 2696), `pageSize` entries per page,
    /// calling `onPage` with each page so a large directory is never held twice in memory.
    /// Returns the number of pages.
    @discardableResult
    public func search(base: String, scope: LDAPScope = .subtree, filter: String, attributes: [String],
                       pageSize: Int = 500, onPage: ([LDAPEntry]) throws -> Void) throws -> Int {
        guard let h = ld else { throw LDAPError(.search, LDAP_OTHER, "the connection is closed") }
        // NULL-terminated char* array for the attribute list.
        let attrs = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: attributes.count + 1)
        for (i, a) in attributes.enumerated() { attrs[i] = strdup(a) }
        attrs[attributes.count] = nil
        defer {
            for i in 0..<attributes.count { free(attrs[i]) }
            attrs.deallocate()
        }
        var cookie = berval(bv_len: 0, bv_val: nil)
        defer { if cookie.bv_val != nil { ber_memfree(cookie.bv_val) } }
        var pages = 0
        while true {
            var page: UnsafeMutablePointer<LDAPControl>?
            let pc = cookie.bv_len > 0 ? ldap_create_page_control(h, ber_int_t(pageSize), &cookie, 0, &page)
                                       : ldap_create_page_control(h, ber_int_t(pageSize), nil, 0, &page)
            guard pc == LDAP_SUCCESS, let pageControl = page else { throw LDAPError(.search, pc, "cannot build the paged results control: \(Self.text(pc))") }
            defer { ldap_control_free(pageControl) }
            var controls: [UnsafeMutablePointer<LDAPControl>?] = [pageControl, nil]
            var res: OpaquePointer?
            let rc = controls.withUnsafeMutableBufferPointer { ctl in
                ldap_search_ext_s(h, base, scope.rawValue, filter, attrs, 0, ctl.baseAddress, nil, nil, 0, &res)
            }
            defer { if let r = res { ldap_msgfree(r) } }
            guard rc == LDAP_SUCCESS, let result = res else {
                let code: LDAPError.Code = (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_TIMEOUT) ? .connect : .search
                throw LDAPError(code, rc, "base '\(base)', filter '\(filter)': \(diagnostic(rc))")
            }
            try onPage(try entries(h, result))
            pages += 1
            // The server's paged results response carries the cookie for the next page.
            var err: Int32 = 0
            var serverControls: UnsafeMutablePointer<UnsafeMutablePointer<LDAPControl>?>?
            let pr = ldap_parse_result(h, result, &err, nil, nil, nil, &serverControls, 0)
            defer { if let s = serverControls { ldap_controls_free(s) } }
            guard pr == LDAP_SUCCESS else { throw LDAPError(.search, pr, "cannot read the search result: \(Self.text(pr))") }
            guard err == LDAP_SUCCESS else { throw LDAPError(.search, err, "base '\(base)', filter '\(filter)': \(diagnostic(err))") }
            guard let found = ldap_control_find("1.2.840.113556.1.4.319", serverControls, nil) else { break }
            if cookie.bv_val != nil { ber_memfree(cookie.bv_val); cookie = berval(bv_len: 0, bv_val: nil) }
            var count: ber_int_t = 0
            let rp = ldap_parse_pageresponse_control(h, found, &count, &cookie)
            guard rp == LDAP_SUCCESS else { throw LDAPError(.search, rp, "cannot read the paged results response: \(Self.text(rp))") }
            if cookie.bv_len == 0 { break }
        }
        return pages
    }

    /// Everything in one array (small directories, tests).
    public func searchAll(base: String, scope: LDAPScope = .subtree, filter: String, attributes: [String], pageSize: Int = 500) throws -> [LDAPEntry] {
        var all: [LDAPEntry] = []
        try search(base: base, scope: scope, filter: filter, attributes: attributes, pageSize: pageSize) { all += $0 }
        return all
    }

    private func entries(_ h: OpaquePointer, _ result: OpaquePointer) throws -> [LDAPEntry] {
        var out: [LDAPEntry] = []
        var e = ldap_first_entry(h, result)
        while let entry = e {
            var dn = ""
            if let d = ldap_get_dn(h, entry) { dn = String(cString: d); ldap_memfree(d) }
            var attrs: [String: [[UInt8]]] = [:]
            var ber: OpaquePointer?
            var a = ldap_first_attribute(h, entry, &ber)
            while let name = a {
                let key = String(cString: name).lowercased()
                if let vals = ldap_get_values_len(h, entry, name) {
                    var i = 0
                    var list: [[UInt8]] = []
                    while let v = vals[i] {
                        let bv = v.pointee
                        if let p = bv.bv_val, bv.bv_len > 0 {
                            list.append(Array(UnsafeRawBufferPointer(start: p, count: Int(bv.bv_len))))
                        } else {
                            list.append([])
                        }
                        i += 1
                    }
                    ldap_value_free_len(vals)
                    attrs[key, default: []] += list
                }
                ldap_memfree(name)
                a = ldap_next_attribute(h, entry, ber)
            }
            if let b = ber { ber_free(b, 0) }
            out.append(LDAPEntry(dn: dn, attributes: attrs))
            e = ldap_next_entry(h, entry)
        }
        return out
    }

    /// LDAP generalized time (`YYYYMMDDHHMMSSZ`) for filters like `(whenChanged>=…)`.
    public static func generalizedTime(ms: Int64) -> String {
        var t = time_t(ms / 1000)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        return String(format: "%04d%02d%02d%02d%02d%02dZ", Int(tmv.tm_year) + 1900, Int(tmv.tm_mon) + 1, Int(tmv.tm_mday),
                      Int(tmv.tm_hour), Int(tmv.tm_min), Int(tmv.tm_sec))
    }

    /// Escapes a value for use inside a filter (RFC 4515).
    public static func escapeFilterValue(_ s: String) -> String {
        var o = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "*"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "\\"), 0, 0x80...0xff: o += String(format: "\\%02x", b)
            default: o.unicodeScalars.append(Unicode.Scalar(b))
            }
        }
        return o
    }

    /// A binary objectSid (revision, sub-authority count, 48-bit authority, 32-bit LE sub-authorities)
    /// as `S-1-5-21-…`; nil when the bytes are not a SID.
    public static func sidString(_ b: [UInt8]) -> String? {
        guard b.count >= 8, b[0] == 1 else { return nil }
        let n = Int(b[1])
        guard b.count == 8 + 4 * n else { return nil }
        var authority: UInt64 = 0
        for i in 2..<8 { authority = authority << 8 | UInt64(b[i]) }
        var s = "S-1-\(authority)"
        for k in 0..<n {
            let o = 8 + 4 * k
            let v = UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24
            s += "-\(v)"
        }
        return s
    }
}

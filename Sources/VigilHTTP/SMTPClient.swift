import CCurl
import Foundation

/// Where and how mail is sent.
public struct SMTPServer: Sendable {
    /// smtp://host:port (plain or STARTTLS) or smtps://host:port (TLS from the start).
    public var url: String
    public enum TLS: String, Sendable { case off, try_ = "try", required }
    /// STARTTLS on smtp://: off, try (upgrade when offered), required (refuse plain).
    public var startTLS: TLS = .try_
    public var username = ""
    public var password = ""
    /// PEM file of the CA(s) that signed the server's certificate; empty: the system's CAs.
    public var caFile = ""
    public var timeoutMs = 15_000
    public init(url: String) { self.url = url }
}

/// One message: the envelope (from, recipients) and the full RFC 5322 text (headers + body,
/// CRLF line ends). Header safety is the caller's job (MailMessage in the response service).
public struct SMTPMessage: Sendable {
    public var from: String
    public var recipients: [String]
    public var data: [UInt8]
    public init(from: String, recipients: [String], data: [UInt8]) { self.from = from; self.recipients = recipients; self.data = data }
}

public struct SMTPError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable { case invalidURL, invalidAddress, transport, timeout, rejected, tls, auth }
    public var code: Code
    public var message: String
    public var description: String { "\(code.rawValue): SMTP: \(message)" }
}

extension HTTPClient {
    /// Sends one mail with libcurl's SMTP (dot-stuffing is done by libcurl).
    public static func sendMail(_ m: SMTPMessage, via server: SMTPServer) throws {
        let lower = server.url.lowercased()
        guard lower.hasPrefix("smtp://") || lower.hasPrefix("smtps://") else {
            throw SMTPError(code: .invalidURL, message: "'\(server.url)' is not an smtp:// or smtps:// URL")
        }
        for a in [m.from] + m.recipients where a.isEmpty || a.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "<" || $0 == ">" }) {
            throw SMTPError(code: .invalidAddress, message: "'\(a)' is not a usable address")
        }
        guard !m.recipients.isEmpty else { throw SMTPError(code: .invalidAddress, message: "no recipient") }
        guard initialized, let h = curl_easy_init() else {
            throw SMTPError(code: .transport, message: "libcurl could not be initialized")
        }
        defer { curl_easy_cleanup(h) }
        var rcpt: UnsafeMutablePointer<curl_slist>? = nil
        for r in m.recipients { rcpt = curl_slist_append(rcpt, "<\(r)>") }
        defer { if let rcpt { curl_slist_free_all(rcpt) } }
        let source = Source(m.data)
        let box = Unmanaged.passRetained(source)
        defer { box.release() }
        var errbuf = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let rc: CURLcode = errbuf.withUnsafeMutableBufferPointer { eb in
            vigil_curl_setopt_str(h, CURLOPT_URL, server.url)
            vigil_curl_setopt_str(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps")
            vigil_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
            vigil_curl_setopt_long(h, CURLOPT_TIMEOUT_MS, server.timeoutMs)
            vigil_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, min(server.timeoutMs, 10_000))
            vigil_curl_setopt_ptr(h, CURLOPT_ERRORBUFFER, eb.baseAddress)
            switch server.startTLS {
            case .off: vigil_curl_setopt_long(h, CURLOPT_USE_SSL, Int(CURLUSESSL_NONE.rawValue))
            case .try_: vigil_curl_setopt_long(h, CURLOPT_USE_SSL, Int(CURLUSESSL_TRY.rawValue))
            case .required: vigil_curl_setopt_long(h, CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue))
            }
            if !server.caFile.isEmpty { vigil_curl_setopt_str(h, CURLOPT_CAINFO, server.caFile) }
            if !server.username.isEmpty {
                vigil_curl_setopt_str(h, CURLOPT_USERNAME, server.username)
                vigil_curl_setopt_str(h, CURLOPT_PASSWORD, server.password)
            }
            vigil_curl_setopt_str(h, CURLOPT_MAIL_FROM, "<\(m.from)>")
            if let rcpt { vigil_curl_setopt_slist(h, CURLOPT_MAIL_RCPT, rcpt) }
            vigil_curl_setopt_long(h, CURLOPT_UPLOAD, 1)
            vigil_curl_setopt_off(h, CURLOPT_INFILESIZE_LARGE, curl_off_t(m.data.count))
            vigil_curl_setopt_cb(h, CURLOPT_READFUNCTION, { ptr, size, n, user in
                guard let ptr, let user else { return 0 }
                let s = Unmanaged<Source>.fromOpaque(user).takeUnretainedValue()
                return s.read(into: UnsafeMutableRawBufferPointer(start: ptr, count: size * n))
            })
            vigil_curl_setopt_ptr(h, CURLOPT_READDATA, box.toOpaque())
            return curl_easy_perform(h)
        }
        let detail = String(cString: errbuf)
        let text = detail.isEmpty ? String(cString: curl_easy_strerror(rc)) : detail
        switch rc {
        case CURLE_OK: return
        case CURLE_OPERATION_TIMEDOUT: throw SMTPError(code: .timeout, message: "no answer within \(server.timeoutMs) ms")
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: throw SMTPError(code: .invalidURL, message: text)
        case CURLE_LOGIN_DENIED: throw SMTPError(code: .auth, message: text)
        case CURLE_USE_SSL_FAILED, CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION: throw SMTPError(code: .tls, message: text)
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_GOT_NOTHING:
            throw SMTPError(code: .transport, message: text)
        default: throw SMTPError(code: .rejected, message: text)
        }
    }
}

/// Feeds the message to libcurl's read callback.
final class Source {
    let data: [UInt8]
    var offset = 0
    init(_ data: [UInt8]) { self.data = data }
    func read(into buf: UnsafeMutableRawBufferPointer) -> Int {
        let n = min(buf.count, data.count - offset)
        if n <= 0 { return 0 }
        data.withUnsafeBytes { src in buf.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offset..<offset + n])) }
        offset += n
        return n
    }
}

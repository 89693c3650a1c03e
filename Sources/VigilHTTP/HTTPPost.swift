import CCurl
import Foundation

/// A POST over HTTP(S) with headers and a body (webhooks, Slack, PagerDuty).
public struct HTTPPost: Sendable {
    public var url: String
    public var headers: [(String, String)] = []
    public var body: [UInt8] = []
    public var timeoutMs: Int = 10_000
    /// Larger answers are cut off (the caller only needs the status and a short excerpt).
    public var maxResponseBytes: Int = 64 << 10
    public init(url: String, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.url = url; self.headers = headers; self.body = body
    }
}

extension HTTPClient {
    /// POSTs `request.body`; any status is returned, transport failures and timeouts throw.
    /// Redirects are not followed (a webhook that moves is a configuration problem to see).
    public static func post(_ request: HTTPPost) throws -> HTTPResponse {
        let lower = request.url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            throw HTTPError(code: .invalidURL, url: request.url, message: "only http:// and https:// URLs are posted to")
        }
        // Unicode scalars, not Characters: "\r\n" is one Character and equals neither "\r" nor "\n".
        for (n, v) in request.headers where n.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == ":" })
            || v.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) {
            throw HTTPError(code: .invalidURL, url: request.url, message: "header '\(n)' contains a line break or colon")
        }
        guard initialized, let h = curl_easy_init() else {
            throw HTTPError(code: .transport, url: request.url, message: "libcurl could not be initialized")
        }
        defer { curl_easy_cleanup(h) }
        let sink = Sink(limit: request.maxResponseBytes)
        let box = Unmanaged.passRetained(sink)
        defer { box.release() }
        var headers: UnsafeMutablePointer<curl_slist>? = nil
        for (n, v) in request.headers { headers = curl_slist_append(headers, "\(n): \(v)") }
        // No "Expect: 100-continue" round trip.
        headers = curl_slist_append(headers, "Expect:")
        defer { if let headers { curl_slist_free_all(headers) } }
        var errbuf = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let body = request.body
        let rc: CURLcode = errbuf.withUnsafeMutableBufferPointer { eb in
            body.withUnsafeBufferPointer { bp in
                vigil_curl_setopt_str(h, CURLOPT_URL, request.url)
                vigil_curl_setopt_str(h, CURLOPT_PROTOCOLS_STR, "http,https")
                vigil_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
                vigil_curl_setopt_long(h, CURLOPT_TIMEOUT_MS, request.timeoutMs)
                vigil_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, min(request.timeoutMs, 10_000))
                vigil_curl_setopt_str(h, CURLOPT_USERAGENT, "vigil-response/0.1")
                vigil_curl_setopt_ptr(h, CURLOPT_ERRORBUFFER, eb.baseAddress)
                vigil_curl_setopt_long(h, CURLOPT_POST, 1)
                vigil_curl_setopt_off(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bp.count))
                if let base = bp.baseAddress, bp.count > 0 {
                    vigil_curl_setopt_ptr(h, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: base))
                } else {
                    vigil_curl_setopt_str(h, CURLOPT_COPYPOSTFIELDS, "")
                }
                if let headers { vigil_curl_setopt_slist(h, CURLOPT_HTTPHEADER, headers) }
                vigil_curl_setopt_cb(h, CURLOPT_WRITEFUNCTION, { ptr, size, n, user in
                    guard let ptr, let user else { return 0 }
                    let s = Unmanaged<Sink>.fromOpaque(user).takeUnretainedValue()
                    _ = s.append(UnsafeRawBufferPointer(start: ptr, count: size * n))
                    return size * n  // an over-long answer is truncated, not an error
                })
                vigil_curl_setopt_ptr(h, CURLOPT_WRITEDATA, box.toOpaque())
                return curl_easy_perform(h)
            }
        }
        try check(rc, errbuf, url: request.url, timeoutMs: request.timeoutMs)
        var status = 0
        vigil_curl_response_code(h, &status)
        return HTTPResponse(status: status, body: sink.body, etag: "", lastModified: "")
    }

    static func check(_ rc: CURLcode, _ errbuf: [CChar], url: String, timeoutMs: Int) throws {
        let detail = String(cString: errbuf)
        let text = detail.isEmpty ? String(cString: curl_easy_strerror(rc)) : detail
        switch rc {
        case CURLE_OK: return
        case CURLE_OPERATION_TIMEDOUT:
            throw HTTPError(code: .timeout, url: url, message: "no complete answer within \(timeoutMs) ms")
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            throw HTTPError(code: .invalidURL, url: url, message: text)
        default:
            throw HTTPError(code: .transport, url: url, message: text)
        }
    }
}

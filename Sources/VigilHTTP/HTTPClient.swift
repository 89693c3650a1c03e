import CCurl
import Foundation

/// A GET over HTTP(S), bounded in time and size, with conditional headers.
public struct HTTPRequest: Sendable {
    public var url: String
    /// The whole transfer, connect included.
    public var timeoutMs: Int = 30_000
    /// Bodies larger than this fail with `tooLarge` instead of filling memory.
    public var maxBytes: Int = 256 << 20
    /// Sent as If-None-Match / If-Modified-Since; a 304 answer then means "unchanged".
    public var etag: String = ""
    public var lastModified: String = ""
    public init(url: String) { self.url = url }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var body: [UInt8]
    public var etag: String
    public var lastModified: String
    /// 304: the caller's copy (named by etag / last-modified) is current.
    public var notModified: Bool { status == 304 }
}

public struct HTTPError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable { case invalidURL, transport, timeout, tooLarge, status }
    public var code: Code
    public var url: String
    public var message: String
    public var description: String { "\(code.rawValue): GET \(url): \(message)" }
}

/// libcurl's easy interface, wrapped once: no C pointer leaves this file.
public enum HTTPClient {
    /// curl_global_init is not thread-safe; a Swift global is initialized exactly once.
    static let initialized: Bool = curl_global_init(3 /* CURL_GLOBAL_ALL: SSL + platform sockets */) == CURLE_OK

    /// GET `request.url`; any status is returned (the caller decides what is an error), except
    /// transport failures, timeouts and oversized bodies, which throw.
    public static func get(_ request: HTTPRequest) throws -> HTTPResponse {
        let lower = request.url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            throw HTTPError(code: .invalidURL, url: request.url, message: "only http:// and https:// URLs are fetched")
        }
        guard initialized, let h = curl_easy_init() else {
            throw HTTPError(code: .transport, url: request.url, message: "libcurl could not be initialized")
        }
        defer { curl_easy_cleanup(h) }
        let sink = Sink(limit: request.maxBytes)
        let box = Unmanaged.passRetained(sink)
        defer { box.release() }
        var headers: UnsafeMutablePointer<curl_slist>? = nil
        if !request.etag.isEmpty { headers = curl_slist_append(headers, "If-None-Match: \(request.etag)") }
        if !request.lastModified.isEmpty { headers = curl_slist_append(headers, "If-Modified-Since: \(request.lastModified)") }
        defer { if let headers { curl_slist_free_all(headers) } }

        var errbuf = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let rc: CURLcode = errbuf.withUnsafeMutableBufferPointer { eb in
            vigil_curl_setopt_str(h, CURLOPT_URL, request.url)
            vigil_curl_setopt_str(h, CURLOPT_PROTOCOLS_STR, "http,https")
            vigil_curl_setopt_str(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
            vigil_curl_setopt_long(h, CURLOPT_FOLLOWLOCATION, 1)
            vigil_curl_setopt_long(h, CURLOPT_MAXREDIRS, 5)
            // Timeouts would otherwise use SIGALRM, which is not safe in a threaded process.
            vigil_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
            vigil_curl_setopt_long(h, CURLOPT_TIMEOUT_MS, request.timeoutMs)
            vigil_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, min(request.timeoutMs, 10_000))
            vigil_curl_setopt_off(h, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(request.maxBytes))
            vigil_curl_setopt_str(h, CURLOPT_ACCEPT_ENCODING, "")
            vigil_curl_setopt_str(h, CURLOPT_USERAGENT, "vigil-enrichment/0.1")
            vigil_curl_setopt_ptr(h, CURLOPT_ERRORBUFFER, eb.baseAddress)
            if let headers { vigil_curl_setopt_slist(h, CURLOPT_HTTPHEADER, headers) }
            vigil_curl_setopt_cb(h, CURLOPT_WRITEFUNCTION, { ptr, size, n, user in
                guard let ptr, let user else { return 0 }
                let s = Unmanaged<Sink>.fromOpaque(user).takeUnretainedValue()
                return s.append(UnsafeRawBufferPointer(start: ptr, count: size * n)) ? size * n : 0
            })
            vigil_curl_setopt_ptr(h, CURLOPT_WRITEDATA, box.toOpaque())
            vigil_curl_setopt_cb(h, CURLOPT_HEADERFUNCTION, { ptr, size, n, user in
                guard let ptr, let user else { return 0 }
                let s = Unmanaged<Sink>.fromOpaque(user).takeUnretainedValue()
                s.header(UnsafeRawBufferPointer(start: ptr, count: size * n))
                return size * n
            })
            vigil_curl_setopt_ptr(h, CURLOPT_HEADERDATA, box.toOpaque())
            return curl_easy_perform(h)
        }
        let detail = String(cString: errbuf)
        switch rc {
        case CURLE_OK: break
        case CURLE_OPERATION_TIMEDOUT:
            throw HTTPError(code: .timeout, url: request.url, message: "no complete answer within \(request.timeoutMs) ms")
        case CURLE_FILESIZE_EXCEEDED:
            throw HTTPError(code: .tooLarge, url: request.url, message: "body larger than \(request.maxBytes) bytes")
        case CURLE_WRITE_ERROR where sink.overflowed:
            throw HTTPError(code: .tooLarge, url: request.url, message: "body larger than \(request.maxBytes) bytes")
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            throw HTTPError(code: .invalidURL, url: request.url, message: detail.isEmpty ? String(cString: curl_easy_strerror(rc)) : detail)
        default:
            throw HTTPError(code: .transport, url: request.url, message: detail.isEmpty ? String(cString: curl_easy_strerror(rc)) : detail)
        }
        var status = 0
        vigil_curl_response_code(h, &status)
        return HTTPResponse(status: status, body: sink.body, etag: sink.etag, lastModified: sink.lastModified)
    }
}

/// Collects the body (up to a limit) and the validators of the final response.
final class Sink {
    let limit: Int
    var body: [UInt8] = []
    var overflowed = false
    var etag = ""
    var lastModified = ""
    init(limit: Int) { self.limit = limit }

    func append(_ chunk: UnsafeRawBufferPointer) -> Bool {
        if body.count + chunk.count > limit { overflowed = true; return false }
        body.append(contentsOf: chunk)
        return true
    }

    func header(_ line: UnsafeRawBufferPointer) {
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        // A redirect's headers come first; only the final response's validators count.
        if text.hasPrefix("HTTP/") { etag = ""; lastModified = ""; return }
        guard let colon = text.firstIndex(of: ":") else { return }
        let name = text[..<colon].lowercased()
        let value = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        if name == "etag" { etag = value } else if name == "last-modified" { lastModified = value }
    }
}

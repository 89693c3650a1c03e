import Foundation
import VigilHTTP

/// Fetches a feed document from a file or over HTTP(S) and parses it. Runs on a loader thread:
/// it touches no shared state, and the result says everything the caller needs.
public enum FeedLoader {
    public struct Validators: Sendable, Equatable {
        public var etag = ""
        public var lastModified = ""
        public init(etag: String = "", lastModified: String = "") { self.etag = etag; self.lastModified = lastModified }
    }

    public enum Outcome: Sendable {
        /// A new set for the feed: built index, the indicators to store, the new validators.
        case loaded(ParsedFeed, IndicatorSet, Validators)
        /// HTTP 304: the stored set is current.
        case notModified
        case failed(IntelError)
    }

    public static func load(_ feed: FeedConfig, validators: Validators, nowMs: Int64) -> Outcome {
        let bytes: [UInt8]
        var next = Validators()
        if feed.isHTTP {
            var req = HTTPRequest(url: feed.location)
            req.timeoutMs = feed.timeoutMs
            req.maxBytes = feed.maxBytes
            req.etag = validators.etag
            req.lastModified = validators.lastModified
            do {
                let r = try HTTPClient.get(req)
                if r.notModified { return .notModified }
                guard (200..<300).contains(r.status) else {
                    return .failed(IntelError(.unreachable, feed: feed.name, "GET \(feed.location) answered HTTP \(r.status); expected 200"))
                }
                bytes = r.body
                next = Validators(etag: r.etag, lastModified: r.lastModified)
            } catch let e as HTTPError {
                return .failed(IntelError(.unreachable, feed: feed.name, e.description))
            } catch {
                return .failed(IntelError(.unreachable, feed: feed.name, "\(error)"))
            }
        } else {
            guard FileManager.default.fileExists(atPath: feed.location) else {
                return .failed(IntelError(.unreachable, feed: feed.name, "file \(feed.location) does not exist"))
            }
            let size = ((try? FileManager.default.attributesOfItem(atPath: feed.location))?[.size] as? NSNumber)?.intValue ?? 0
            guard size <= feed.maxBytes else {
                return .failed(IntelError(.unreachable, feed: feed.name, "file \(feed.location) has \(size) bytes, more than max_bytes \(feed.maxBytes)"))
            }
            guard let d = FileManager.default.contents(atPath: feed.location) else {
                return .failed(IntelError(.unreachable, feed: feed.name, "cannot read file \(feed.location)"))
            }
            bytes = [UInt8](d)
        }
        switch FeedParsers.parse(bytes, feed: feed, nowMs: nowMs) {
        case .failure(let e): return .failed(e)
        case .success(let p): return .loaded(p, IndicatorSet(feed: feed.name, indicators: p.indicators), next)
        }
    }
}

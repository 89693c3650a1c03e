import VigilWire

/// PUB socket connected to the broker's XSUB. Owned by one thread.
public final class Publisher {
    public let socket: ZSocket
    public private(set) var sent: UInt64 = 0
    public private(set) var dropped: UInt64 = 0

    public init(context: ZContext, endpoint: String, limits: BusLimits = BusLimits()) throws {
        socket = try ZSocket(context, .pub)
        try socket.setHighWaterMarks(send: limits.highWaterMark, receive: limits.highWaterMark)
        try socket.setReconnectInterval(ms: 100, maxMs: 1000)
        try socket.applyClientCurve(limits.curve)
        try socket.connect(endpoint)
    }

    /// Publishes [topic, body]. PUB never blocks: at the HWM libzmq drops, which reliable
    /// streams repair by replay; the drop is counted here when libzmq reports it.
    public func publish(topic: String, body: [UInt8]) {
        if (try? socket.send([Array(topic.utf8), body], dontWait: true)) == true { sent += 1 } else { dropped += 1 }
    }

    public func close() { socket.close() }
}

/// SUB socket connected to the broker's XPUB.
public final class Subscriber {
    public let socket: ZSocket

    public init(context: ZContext, endpoint: String, prefixes: [String], limits: BusLimits = BusLimits()) throws {
        socket = try ZSocket(context, .sub)
        try socket.setHighWaterMarks(send: limits.highWaterMark, receive: limits.highWaterMark)
        try socket.setMaxMessageSize(limits.maxMessageBytes)
        try socket.setReconnectInterval(ms: 100, maxMs: 1000)
        for p in prefixes { try socket.subscribe(p) }
        try socket.applyClientCurve(limits.curve)
        try socket.connect(endpoint)
    }

    /// Next [topic, body], nil when none is queued (or after `timeoutMs`).
    public func receive(timeoutMs: Int = 0) -> (topic: String, body: [UInt8])? {
        if timeoutMs > 0 && !zpoll([socket], timeoutMs: timeoutMs)[0] { return nil }
        guard let frames = (try? socket.receive(dontWait: true)) ?? nil else { return nil }
        guard frames.count == 2 else { return ("", []) }
        return (frames[0].utf8String, frames[1])
    }

    public func close() { socket.close() }
}

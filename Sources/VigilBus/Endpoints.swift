/// The broker's three endpoints. Every service connects to all three; only the broker binds.
public struct BusEndpoints: Sendable, Equatable {
    /// Producers connect PUB sockets here (broker XSUB).
    public var publish: String
    /// Subscribers connect SUB sockets here (broker XPUB).
    public var subscribe: String
    /// RPC clients and workers connect DEALER sockets here (broker ROUTER).
    public var rpc: String

    public init(publish: String, subscribe: String, rpc: String) {
        self.publish = publish; self.subscribe = subscribe; self.rpc = rpc
    }

    /// The embedded default: `ipc://` sockets under `<data>/run`.
    public static func local(runDirectory: String) -> BusEndpoints {
        BusEndpoints(publish: "ipc://\(runDirectory)/bus-pub.sock",
                     subscribe: "ipc://\(runDirectory)/bus-sub.sock",
                     rpc: "ipc://\(runDirectory)/bus-rpc.sock")
    }
}

/// Limits applied to every bus socket. Deliberate values rather than libzmq's defaults.
public struct BusLimits: Sendable {
    /// Messages queued per peer before PUB drops (reliable streams replay what is dropped).
    public var highWaterMark: Int32 = 200_000
    /// Larger messages disconnect the sender (libzmq ZMQ_MAXMSGSIZE).
    public var maxMessageBytes: Int64 = 16 * 1024 * 1024
    /// CURVE keys for client sockets (nil: plaintext, the default for ipc:// on one host).
    public var curve: CurveKeys? = nil
    public init() {}
}

/// Frame markers of the broker's request/reply protocol (see docs/wire.md).
enum RpcProtocol {
    static let client: Frame = Array("VC01".utf8)
    static let worker: Frame = Array("VW01".utf8)
    static let ready: Frame = Array("READY".utf8)
    static let heartbeat: Frame = Array("HB".utf8)
    static let request: Frame = Array("REQ".utf8)
    static let reply: Frame = Array("REP".utf8)
    static let bye: Frame = Array("BYE".utf8)
    static let ok: Frame = Array("OK".utf8)
    static let noService: Frame = Array("NOSVC".utf8)
}

import CZeroMQ

/// CURVE keys (Z85 text, 40 characters). With `serverPublicKey` set, a bus socket connects
/// encrypted and authenticated; the broker admits only client keys on its allowlist (ZAP).
public struct CurveKeys: Sendable, Equatable {
    public var publicKey: String
    public var secretKey: String
    /// The broker's public key (clients only).
    public var serverPublicKey: String?

    public init(publicKey: String, secretKey: String, serverPublicKey: String? = nil) {
        self.publicKey = publicKey; self.secretKey = secretKey; self.serverPublicKey = serverPublicKey
    }

    /// A fresh key pair from libzmq (libsodium).
    public static func generate() throws -> CurveKeys {
        var pub = [CChar](repeating: 0, count: 41), sec = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&pub, &sec) == 0 else { throw BusError.zmq("zmq_curve_keypair") }
        return CurveKeys(publicKey: String(cString: pub), secretKey: String(cString: sec))
    }

    /// The public key that belongs to a secret key.
    public static func publicKey(forSecret secret: String) throws -> String {
        guard isValid(secret) else { throw BusError(code: .malformed, message: "a CURVE key is 40 Z85 characters") }
        var pub = [CChar](repeating: 0, count: 41)
        guard zmq_curve_public(&pub, secret) == 0 else { throw BusError.zmq("zmq_curve_public") }
        return String(cString: pub)
    }

    public static func isValid(_ z85: String) -> Bool {
        let alphabet = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#")
        return z85.count == 40 && z85.allSatisfy { alphabet.contains($0) }
    }

    /// Z85 text of a 32-byte binary key (ZAP hands the client key over as bytes).
    static func z85(_ bytes: [UInt8]) -> String? {
        guard bytes.count == 32 else { return nil }
        var out = [CChar](repeating: 0, count: 41)
        guard zmq_z85_encode(&out, bytes, 32) != nil else { return nil }
        return String(cString: out)
    }
}

extension ZSocket {
    /// Client side: encrypt to the broker and present our key.
    func applyClientCurve(_ keys: CurveKeys?) throws {
        guard let keys, let server = keys.serverPublicKey else { return }
        try setBytes(ZMQ_CURVE_SERVERKEY, Array(server.utf8))
        try setBytes(ZMQ_CURVE_PUBLICKEY, Array(keys.publicKey.utf8))
        try setBytes(ZMQ_CURVE_SECRETKEY, Array(keys.secretKey.utf8))
    }

    /// Server side (the broker's bound sockets).
    func applyServerCurve(secretKey: String) throws {
        try setInt(ZMQ_CURVE_SERVER, 1)
        try setBytes(ZMQ_CURVE_SECRETKEY, Array(secretKey.utf8))
        // A domain makes libzmq consult the ZAP handler for every connection.
        try setBytes(ZMQ_ZAP_DOMAIN, Array("vigil".utf8))
    }
}

/// The broker's ZAP handler (RFC 27): CURVE alone admits any client key, so each handshake is
/// checked against the allowlist here. Bound at inproc://zeromq.zap.01 before anything else.
final class ZapHandler {
    let socket: ZSocket
    private(set) var allowed: Set<String>
    private(set) var accepted: UInt64 = 0
    private(set) var refused: UInt64 = 0

    init(context: ZContext, allowed: Set<String>) throws {
        socket = try ZSocket(context, .rep)
        try socket.bind("inproc://zeromq.zap.01")
        self.allowed = allowed
    }

    /// Answers queued requests; returns the refused client keys for logging.
    func processAvailable() -> [String] {
        var refusedKeys: [String] = []
        while let f = (try? socket.receive(dontWait: true)) ?? nil {
            // [version, request id, domain, address, identity, mechanism, credentials…]
            guard f.count >= 6 else {
                _ = try? socket.send([Array("1.0".utf8), f.count > 1 ? f[1] : [], Array("500".utf8), Array("malformed ZAP request".utf8), [], []])
                continue
            }
            let mechanism = f[5].utf8String
            var ok = false
            var key = ""
            if mechanism == "CURVE", f.count >= 7, let k = CurveKeys.z85(f[6]) {
                key = k
                ok = allowed.contains(k)
            }
            if ok { accepted += 1 } else { refused += 1; refusedKeys.append(key.isEmpty ? mechanism : key) }
            _ = try? socket.send([Array("1.0".utf8), f[1], Array((ok ? "200" : "400").utf8),
                                  Array((ok ? "OK" : "client key not on the allowlist").utf8), Array(key.utf8), []])
        }
        return refusedKeys
    }

    func close() { socket.close() }
}

import Foundation
import XCTest
import VigilBus
import VigilLog

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var v = false
    func set() { lock.lock(); v = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return v }
}

/// A real broker on its own thread, on ipc endpoints in a temp dir.
final class InProcessBroker: @unchecked Sendable {
    let dir: String
    let endpoints: BusEndpoints
    let context = ZContext()
    private let stop = Flag()
    private let stopped = DispatchSemaphore(value: 0)

    init() throws {
        dir = "/tmp/vbt-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        endpoints = BusEndpoints.local(runDirectory: dir)
        let ready = DispatchSemaphore(value: 0)
        let ctx = context, eps = endpoints, stop = stop, stopped = stopped
        Thread.detachNewThread {
            let broker = try! Broker(context: ctx, options: Broker.Options(endpoints: eps), logger: Logger(label: "test-broker", level: .error))
            ready.signal()
            broker.run { stop.isSet }
            broker.close()
            stopped.signal()
        }
        ready.wait()
    }

    func shutdown() {
        stop.set()
        stopped.wait()
        try? FileManager.default.removeItem(atPath: dir)
    }
}

import Foundation

/// A network of `InMemoryTransport`s in one process, for tests: frames are handed over directly, and links can be
/// cut in one direction. Delivery order per link is send order.
///
/// `@unchecked Sendable` is safe: `inboxes` and `cutLinks` are read and written only while holding `lock`.
public final class InMemoryNetwork: @unchecked Sendable {
    private let lock = NSLock()
    private var inboxes: [UInt64: AsyncStream<TransportFrame>.Continuation] = [:]
    private var cutLinks: Set<[UInt64]> = []

    public init() {}

    /// Creates the transport of node `id` on this network.
    public func transport(for id: UInt64) -> InMemoryTransport {
        let (stream, continuation) = AsyncStream.makeStream(
            of: TransportFrame.self, bufferingPolicy: .bufferingNewest(TransportLimits.inboundFramesMax))
        lock.withLock { inboxes[id] = continuation }
        return InMemoryTransport(id: id, network: self, inbound: stream)
    }

    /// Drops every frame from `from` to `to` until `heal` (one direction only).
    public func cut(from: UInt64, to: UInt64) {
        lock.withLock { _ = cutLinks.insert([from, to]) }
    }

    /// Restores every cut link.
    public func heal() {
        lock.withLock { cutLinks.removeAll() }
    }

    /// Removes node `id`: frames to it are dropped and its inbound stream finishes.
    public func remove(_ id: UInt64) {
        let continuation = lock.withLock { inboxes.removeValue(forKey: id) }
        continuation?.finish()
    }

    func deliver(_ frame: TransportFrame, to peer: UInt64) {
        let inbox = lock.withLock { cutLinks.contains([frame.from, peer]) ? nil : inboxes[peer] }
        inbox?.yield(frame)
    }
}

/// The in-memory `RaftTransport` of one node on an `InMemoryNetwork`.
public struct InMemoryTransport: RaftTransport {
    /// This node's ID, stamped on every frame it sends.
    public let id: UInt64
    private let network: InMemoryNetwork
    public let inbound: AsyncStream<TransportFrame>

    init(id: UInt64, network: InMemoryNetwork, inbound: AsyncStream<TransportFrame>) {
        self.id = id
        self.network = network
        self.inbound = inbound
    }

    public func send(_ payload: [UInt8], to peer: UInt64) {
        network.deliver(TransportFrame(from: id, payload: payload), to: peer)
    }
}

/// One frame between Raft peers: the sender's node ID and an opaque payload (an encoded Raft message).
public struct TransportFrame: Sendable, Equatable {
    /// The node ID of the sender, as the sender states it.
    public var from: UInt64
    /// The encoded message.
    public var payload: [UInt8]

    public init(from: UInt64, payload: [UInt8]) {
        self.from = from
        self.payload = payload
    }
}

/// Carries frames between Raft peers. The contract is deliberately weak, as Raft needs no more: a frame may be
/// lost, delayed, duplicated (by a reconnect) or reordered across reconnects; it is never altered.
///
/// Who calls what: the driver calls `send` for each message of a `Ready` once that `Ready`'s state is durable, and
/// reads `inbound` in one task, stepping each frame into the core.
public protocol RaftTransport: Sendable {
    /// Queues `payload` for `peer` and returns at once; never blocks and never waits for the peer. Drops the frame
    /// when the peer is unknown or its queue is full.
    func send(_ payload: [UInt8], to peer: UInt64)
    /// Frames received from any peer, in arrival order per connection. Bounded: when the reader falls behind,
    /// old frames are dropped.
    var inbound: AsyncStream<TransportFrame> { get }
    /// Called by the driver whenever the node's membership changes (a `.confChange` entry appended or truncated,
    /// a snapshot installed), with the membership now in force, so the peer table can follow it. The default
    /// does nothing (a transport whose peers are fixed, such as `InMemoryTransport`).
    func membershipChanged(_ confState: ConfState)
}

extension RaftTransport {
    public func membershipChanged(_ confState: ConfState) {}
}

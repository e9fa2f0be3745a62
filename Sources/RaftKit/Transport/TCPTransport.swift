import Foundation
public import NIOCore
import NIOPosix

/// A peer's listening address. Its `description` ("host:port", IPv6 hosts in brackets) is what a membership
/// carries in `ConfState.addresses`; `init?(parsing:)` reads it back.
public struct PeerAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses "host:port" or "[v6-host]:port"; nil when the port is missing or outside 0...65535.
    public init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Counters of one peer's outbound link (for benchmarks, tests and the admin view; no decision uses them).
public struct PeerLinkStatistics: Sendable, Equatable {
    /// Frames written to the socket.
    public var framesSent = 0
    /// Frames dropped because the queue was full.
    public var framesDropped = 0
    /// Connections established.
    public var connects = 0
    /// Failed connection attempts and lost connections.
    public var failures = 0
}

/// The Raft transport over TCP (SwiftNIO): one outbound connection per peer carrying length-prefixed frames
/// (`FrameCodec`), and a listener whose connections feed `inbound`.
///
/// Each peer has its own bounded queue and its own connection state machine on one event loop: frames wait there
/// while the connection is down or the socket is not writable, and are dropped when the queue is full, so a slow
/// or dead peer never delays the others and never grows memory. Lost connections are retried with exponential
/// back-off (`TransportLimits.reconnectDelayMilliseconds…`). Only protocol code runs on the event loops.
///
/// Order: `init`, `start()` (binds the listener), then `send` from any thread; `shutdown()` at the end.
public final class TCPTransport: RaftTransport {
    /// This node's ID, stamped on every frame it sends.
    public let id: UInt64
    public let inbound: AsyncStream<TransportFrame>
    private let inboundContinuation: AsyncStream<TransportFrame>.Continuation
    private let group: any EventLoopGroup
    private let listenAddress: PeerAddress
    private let state: LockedState
    /// When set, every frame sent is sealed and every frame received must open (else its connection closes).
    private let authenticator: FrameAuthenticator?

    /// `@unchecked Sendable` is safe: every field is read and written only while holding `lock`.
    private final class LockedState: @unchecked Sendable {
        let lock = NSLock()
        var links: [UInt64: PeerLink] = [:]
        var listener: (any Channel)?
        /// Accepted connections, closed by `shutdown` (closing the listener alone leaves them open).
        var accepted: [ObjectIdentifier: any Channel] = [:]
        var isShutDown = false
    }

    /// Creates the transport of node `id`, listening on `listen`, sending to `peers` (more can be added with
    /// `setPeer`). `group` runs the sockets; each peer link is pinned to one of its event loops. With an
    /// `authenticator` (the group's shared secret), frames are authenticated both ways.
    public init(id: UInt64, listen: PeerAddress, peers: [UInt64: PeerAddress], group: any EventLoopGroup,
                authenticator: FrameAuthenticator? = nil) {
        TransportLimits.validate()
        self.id = id
        self.authenticator = authenticator
        self.listenAddress = listen
        self.group = group
        (inbound, inboundContinuation) = AsyncStream.makeStream(
            of: TransportFrame.self, bufferingPolicy: .bufferingNewest(TransportLimits.inboundFramesMax))
        state = LockedState()
        for peer in peers.keys.sorted() where peer != id {
            state.links[peer] = PeerLink(localID: id, address: peers[peer]!, eventLoop: group.next())
        }
    }

    /// Binds the listener and returns the bound port (useful with port 0).
    public func start() async throws -> Int {
        let continuation = inboundContinuation
        let state = self.state
        let authenticator = self.authenticator
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                let key = ObjectIdentifier(channel)
                let isShutDown = state.lock.withLock { () -> Bool in
                    if !state.isShutDown { state.accepted[key] = channel }
                    return state.isShutDown
                }
                if isShutDown { return channel.close() }
                channel.closeFuture.whenComplete { _ in state.lock.withLock { _ = state.accepted.removeValue(forKey: key) } }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(InboundFrameHandler(continuation: continuation, authenticator: authenticator))
                }
            }
            .bind(host: listenAddress.host, port: listenAddress.port).get()
        state.lock.withLock { state.listener = channel }
        return channel.localAddress?.port ?? listenAddress.port
    }

    /// Adds or replaces the address of `peer` (membership change).
    public func setPeer(_ peer: UInt64, address: PeerAddress) {
        guard peer != id else { return }
        let old = state.lock.withLock { () -> PeerLink? in
            let old = state.links[peer]
            state.links[peer] = PeerLink(localID: id, address: address, eventLoop: group.next())
            return old
        }
        old?.close()
    }

    /// Follows a membership (see `RaftTransport.membershipChanged`): links to members whose address in
    /// `confState` is new or different are (re)made; links to nodes that are no longer members are closed. A
    /// member without a (parsable) address keeps the link it has (from `init`'s `peers`). While this node is not
    /// a member itself (joining, or removed) no link is closed: it must still answer the leader it hears from.
    public func membershipChanged(_ confState: ConfState) {
        let members = Set(confState.members)
        let current = state.lock.withLock { state.links.mapValues(\.address) }
        if members.contains(id) {
            for peer in current.keys.sorted() where !members.contains(peer) { removePeer(peer) }
        }
        for peer in confState.members where peer != id {
            guard let text = confState.addresses[peer], let address = PeerAddress(parsing: text) else { continue }
            if current[peer] != address { setPeer(peer, address: address) }
        }
    }

    /// Links to peers, with their addresses (for tests and the admin view).
    public var peers: [UInt64: PeerAddress] { state.lock.withLock { state.links.mapValues(\.address) } }

    /// Removes `peer`: its queue is dropped and its connection closed.
    public func removePeer(_ peer: UInt64) {
        let old = state.lock.withLock { state.links.removeValue(forKey: peer) }
        old?.close()
    }

    public func send(_ payload: [UInt8], to peer: UInt64) {
        precondition(payload.count + FrameAuthenticator.tagBytes <= TransportLimits.framePayloadBytesMax,
                     "frame of \(payload.count) bytes")
        guard let link = state.lock.withLock({ state.isShutDown ? nil : state.links[peer] }) else { return }
        link.enqueue(TransportFrame(from: id, payload: authenticator?.seal(from: id, payload) ?? payload))
    }

    /// Counters of the link to `peer`, or nil for an unknown peer.
    public func statistics(for peer: UInt64) async -> PeerLinkStatistics? {
        guard let link = state.lock.withLock({ state.links[peer] }) else { return nil }
        return try? await link.statistics()
    }

    /// Closes the listener and every link, and finishes `inbound`.
    public func shutdown() async {
        let (links, listener, accepted) = state.lock.withLock { () -> ([PeerLink], (any Channel)?, [any Channel]) in
            state.isShutDown = true
            let links = state.links.keys.sorted().map { state.links[$0]! }
            state.links.removeAll()
            let accepted = Array(state.accepted.values)
            state.accepted.removeAll()
            return (links, state.listener, accepted)
        }
        for link in links { link.close() }
        try? await listener?.close()
        for channel in accepted { try? await channel.close() }
        inboundContinuation.finish()
    }
}

/// Hands decoded frames to the transport's inbound stream (which is bounded and drops the oldest when full).
final class InboundFrameHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = TransportFrame
    let continuation: AsyncStream<TransportFrame>.Continuation
    let authenticator: FrameAuthenticator?

    init(continuation: AsyncStream<TransportFrame>.Continuation, authenticator: FrameAuthenticator? = nil) {
        self.continuation = continuation
        self.authenticator = authenticator
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        guard let authenticator else {
            continuation.yield(frame)
            return
        }
        guard let payload = authenticator.open(from: frame.from, frame.payload) else {
            // Not from a member holding the secret (or altered on the way): drop the connection.
            context.close(promise: nil)
            return
        }
        continuation.yield(TransportFrame(from: frame.from, payload: payload))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A bad frame (too large) or a socket error: drop the connection; the peer reconnects.
        context.close(promise: nil)
    }
}

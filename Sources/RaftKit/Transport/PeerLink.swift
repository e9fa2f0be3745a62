import DequeModule
import NIOCore
import NIOPosix

/// The outbound link to one peer: a bounded frame queue and a connection state machine, both confined to one event
/// loop. `enqueue` may be called from any thread; it hops to the loop.
///
/// States: idle → connecting → connected ⇄ (not writable: frames wait in the queue) → on failure: waiting for the
/// back-off timer → connecting … ; closed is final.
///
/// `@unchecked Sendable` is safe: every mutable field is touched only on `eventLoop` (each entry point hops there
/// first and `eventLoop.preconditionInEventLoop()` checks it).
final class PeerLink: @unchecked Sendable {
    private enum State {
        case idle
        case connecting
        case connected(any Channel)
        case backingOff
        case closed
    }

    let localID: UInt64
    let address: PeerAddress
    let eventLoop: any EventLoop
    private var state = State.idle
    /// Frames not yet written. A `Deque`, so a written frame is freed at once, not when the queue drains.
    private var queue = Deque<TransportFrame>()
    private var queuedBytes = 0
    private var delayMilliseconds = TransportLimits.reconnectDelayMillisecondsMin
    private var counters = PeerLinkStatistics()

    init(localID: UInt64, address: PeerAddress, eventLoop: any EventLoop) {
        self.localID = localID
        self.address = address
        self.eventLoop = eventLoop
    }

    func enqueue(_ frame: TransportFrame) {
        eventLoop.execute { self.enqueueOnLoop(frame) }
    }

    func close() {
        eventLoop.execute {
            if case .connected(let channel) = self.state { channel.close(promise: nil) }
            self.state = .closed
            self.dropQueue()
        }
    }

    func statistics() async throws -> PeerLinkStatistics {
        try await eventLoop.submit { self.counters }.get()
    }

    private func enqueueOnLoop(_ frame: TransportFrame) {
        eventLoop.preconditionInEventLoop()
        if case .closed = state { return }
        let pending = queue.count
        guard pending < TransportLimits.peerQueueFramesMax,
            queuedBytes + frame.payload.count <= TransportLimits.peerQueueBytesMax
        else {
            counters.framesDropped += 1
            return
        }
        queue.append(frame)
        queuedBytes += frame.payload.count
        switch state {
        case .idle: connect()
        case .connected(let channel): flush(channel)
        case .connecting, .backingOff, .closed: break
        }
    }

    private func connect() {
        eventLoop.preconditionInEventLoop()
        state = .connecting
        ClientBootstrap(group: eventLoop)
            .connectTimeout(.milliseconds(TransportLimits.connectTimeoutMilliseconds))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(LinkEventsHandler(link: self))
                }
            }
            .connect(host: address.host, port: address.port)
            .whenComplete { result in
                switch result {
                case .success(let channel): self.connected(channel)
                case .failure: self.failed(channel: nil)
                }
            }
    }

    private func connected(_ channel: any Channel) {
        eventLoop.preconditionInEventLoop()
        guard case .connecting = state else {
            channel.close(promise: nil)
            return
        }
        state = .connected(channel)
        guard channel.isActive else {
            // It closed before this callback ran; its channelInactive was ignored while we were connecting.
            failed(channel: channel)
            return
        }
        counters.connects += 1
        delayMilliseconds = TransportLimits.reconnectDelayMillisecondsMin
        flush(channel)
    }

    /// Called when a connection attempt fails or a connected channel goes inactive.
    func failed(channel: (any Channel)?) {
        eventLoop.preconditionInEventLoop()
        switch state {
        case .connecting where channel == nil: break
        case .connected(let current) where channel === current: break
        default: return  // An old channel's late event.
        }
        counters.failures += 1
        state = .backingOff
        let delay = delayMilliseconds
        delayMilliseconds = min(delayMilliseconds * 2, TransportLimits.reconnectDelayMillisecondsMax)
        eventLoop.scheduleTask(in: .milliseconds(delay)) {
            guard case .backingOff = self.state else { return }
            self.state = .idle
            if !self.queue.isEmpty { self.connect() }
        }
    }

    /// Writes queued frames while the socket is writable; the rest wait for `writabilityChanged`.
    func flush(_ channel: any Channel) {
        eventLoop.preconditionInEventLoop()
        guard case .connected(let current) = state, current === channel else { return }
        var wrote = false
        while channel.isWritable, let frame = queue.popFirst() {
            queuedBytes -= frame.payload.count
            var buffer = channel.allocator.buffer(capacity: FrameCodec.headerBytes + frame.payload.count)
            FrameCodec.encode(frame, into: &buffer)
            channel.write(buffer, promise: nil)
            counters.framesSent += 1
            wrote = true
        }
        if wrote { channel.flush() }
    }

    private func dropQueue() {
        queue.removeAll()
        queuedBytes = 0
    }
}

/// Tells the link when its channel becomes writable again or goes away. Inbound bytes on an outbound link are
/// not expected and are ignored.
final class LinkEventsHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let link: PeerLink

    init(link: PeerLink) {
        self.link = link
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { link.flush(context.channel) }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        link.failed(channel: context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

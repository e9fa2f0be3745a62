public import ClusterAuth
import DequeModule
public import Logging
public import NIOCore
import NIOPosix
import Synchronization
public import BlobContract

/// A blob node's network face: serves one `ChunkStoring` (a `LocalChunkStore` in `silo blob`) over the chunk
/// protocol (`BlobWire`), so every gateway reaches the same bytes through a `RemoteChunkStore`.
///
/// Promises:
/// - A connection is served only after it answered the challenge with the cluster secret (`ClusterSecret`); a
///   wrong answer, a request before it, or no answer within `Limits.wireAuthenticationTimeout` closes it.
/// - Each request gets exactly one reply with its id; replies may go out in any order. The store's answers are
///   passed on as they are (its errors as `BlobError` cases); a get reply carries the CRC-32 of its bytes, and
///   a put is written only if its bytes match the CRC-32 the client sent (`.checksumMismatch` otherwise).
/// - Bounded: at most `Limits.serverRequestsInFlightPerConnectionMax` requests per connection (the server stops
///   reading the socket past it), `Limits.serverRequestsInFlightTotalMax` in the store at once, and
///   `Limits.serverConnectionsMax` connections.
/// - A malformed frame closes its connection; nothing a peer sends can trap the process.
///
/// Order: `init`, `start(host:port:)` once, then `stop()` once; the caller closes the store after `stop`.
/// Protocol code runs on the event loops of the group passed in; store calls run in tasks.
public final class BlobServer: Sendable {
    /// Free space and live chunk count for a `stat` request.
    public typealias SpaceReport = @Sendable () throws(BlobError) -> (freeBytes: UInt64, chunkCount: Int)

    let context: ServerContext
    private let group: any EventLoopGroup
    private let state = Mutex(ServerState())

    private struct ServerState {
        var listener: (any Channel)?
        /// Open connections, closed by `stop` (closing the listener alone leaves them open).
        var accepted: [ObjectIdentifier: any Channel] = [:]
        var isStarted = false
        var isStopped = false
    }

    /// Serves `store`, answering `stat` with `space`.
    public init(
        store: any ChunkStoring, nodeID: UInt32, secret: ClusterSecret, group: any EventLoopGroup, logger: Logger,
        space: @escaping SpaceReport
    ) {
        self.context = ServerContext(
            store: store, nodeID: nodeID, secret: secret, logger: logger, space: space,
            permits: PermitPool(count: Limits.serverRequestsInFlightTotalMax))
        self.group = group
    }

    /// Serves a local store; `stat` reports its filesystem's free space and its live chunk count.
    public convenience init(
        store: LocalChunkStore, nodeID: UInt32, secret: ClusterSecret, group: any EventLoopGroup, logger: Logger
    ) {
        self.init(store: store as any ChunkStoring, nodeID: nodeID, secret: secret, group: group, logger: logger) {
            () throws(BlobError) in
            (try store.freeSpaceBytes(), store.stats().liveChunkCount)
        }
    }

    /// Binds the listener and returns the bound port (useful with port 0). Throws `.unavailable` when the
    /// address cannot be bound or the server was stopped.
    public func start(host: String, port: Int) async throws(BlobError) -> Int {
        self.state.withLock { state in
            precondition(!state.isStarted, "BlobServer.start called twice")
            state.isStarted = true
        }
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: self.group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: Limits.serverListenBacklog)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    self.admit(channel)
                }
                .bind(host: host, port: port).get()
        } catch {
            throw .unavailable("cannot listen on \(host):\(port): \(error)")
        }
        let stopped = self.state.withLock { state in
            if !state.isStopped { state.listener = channel }
            return state.isStopped
        }
        if stopped {
            try? await channel.close()
            throw .unavailable("the blob server was stopped")
        }
        guard let bound = channel.localAddress?.port else {
            preconditionFailure("a bound listener without a port: \(String(describing: channel.localAddress))")
        }
        self.context.logger.info(
            "blob server listening", metadata: ["address": "\(host):\(bound)", "node": "\(self.context.nodeID)"])
        return bound
    }

    /// Closes the listener and every connection. Requests already in the store finish there, but their
    /// replies are dropped with the connections. Idempotent.
    public func stop() async {
        let (listener, accepted) = self.state.withLock { state in
            state.isStopped = true
            let accepted = Array(state.accepted.values)
            state.accepted.removeAll()
            defer { state.listener = nil }
            return (state.listener, accepted)
        }
        try? await listener?.close()
        for channel in accepted { try? await channel.close() }
    }

    /// Connections currently open (for tests and the admin view).
    public var connectionCount: Int { self.state.withLock { $0.accepted.count } }

    /// Registers an accepted connection and builds its pipeline, or closes it when the server is stopped or
    /// full.
    private func admit(_ channel: any Channel) -> EventLoopFuture<Void> {
        let key = ObjectIdentifier(channel)
        let context = self.context
        let admitted = self.state.withLock { state in
            guard !state.isStopped, state.accepted.count < Limits.serverConnectionsMax else { return false }
            state.accepted[key] = channel
            return true
        }
        guard admitted else {
            context.logger.warning("blob server refused a connection (stopped or at its connection limit)")
            return channel.close()
        }
        channel.closeFuture.whenComplete { _ in self.state.withLock { _ = $0.accepted.removeValue(forKey: key) } }
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(BlobRequestDecoder()))
            try channel.pipeline.syncOperations.addHandler(BlobServerHandler(context: context))
        }
    }
}

/// What every connection of one server shares.
struct ServerContext: Sendable {
    let store: any ChunkStoring
    let nodeID: UInt32
    let secret: ClusterSecret
    let logger: Logger
    let space: BlobServer.SpaceReport
    /// Bounds the requests in the store across connections (`Limits.serverRequestsInFlightTotalMax`).
    let permits: PermitPool

    /// Runs one request against the store and returns its reply (errors become `.failure`).
    func execute(_ request: BlobRequest) async -> BlobReply {
        await self.permits.acquire()
        defer { self.permits.release() }
        do throws(BlobError) {
            switch request {
            case .ping:
                return .ok
            case .put(let chunkID, let checksum, let bytes):
                // The wire's own check: bytes damaged in transit are refused before they reach the disk.
                guard BlobWire.checksum(bytes) == checksum else { return .failure(.checksumMismatch(chunkID)) }
                try await self.store.write(chunkID, bytes)
                return .ok
            case .get(let chunkID, let offset, let length):
                let bytes = try await self.store.read(chunkID, offset: offset, length: length)
                guard bytes.readableBytes == length else {
                    return .failure(.io("the store answered \(bytes.readableBytes) bytes for a read of \(length)"))
                }
                return .bytes(checksum: BlobWire.checksum(bytes), bytes: bytes)
            case .delete(let chunkIDs):
                try await self.store.delete(chunkIDs)
                return .ok
            case .chunks(let writtenBeforeTime, let after, let limit):
                let found = try await self.store.chunks(writtenBeforeTime: writtenBeforeTime, after: after, limit: limit)
                return .chunkList(Array(found.prefix(limit)))
            case .stat:
                let (freeBytes, chunkCount) = try self.space()
                return .status(BlobNodeStatus(nodeID: self.nodeID, freeBytes: freeBytes, chunkCount: max(0, chunkCount)))
            case .authenticate:
                preconditionFailure("authenticate reached the store; the handler answers it")
            }
        } catch {
            return .failure(error)
        }
    }
}

/// One server connection: the challenge, then requests run as tasks, at most
/// `Limits.serverRequestsInFlightPerConnectionMax` at a time, with replies written as they finish.
/// Event-loop only; its state is touched on its channel's event loop alone.
final class BlobServerHandler: ChannelDuplexHandler {
    typealias InboundIn = BlobFrame<BlobRequest>
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Phase {
        /// The challenge went out; the next frame must answer it.
        case challenged(nonce: [UInt8], timeout: Scheduled<Void>)
        case authenticated
        /// Before `channelActive` and after the connection is closed: frames are ignored.
        case closed
    }

    private let context: ServerContext
    private var phase: Phase = .closed
    /// Decoded requests not started yet (one socket read may carry many).
    private var queued: Deque<BlobFrame<BlobRequest>> = []
    /// Requests running in the store. Invariant: at most `Limits.serverRequestsInFlightPerConnectionMax`.
    private var inFlight = 0
    /// A read the pipeline asked for while the connection was busy; issued once it has room again.
    private var readHeld = false

    init(context: ServerContext) {
        self.context = context
    }

    private var isBusy: Bool { self.inFlight + self.queued.count >= Limits.serverRequestsInFlightPerConnectionMax }

    func channelActive(context: ChannelHandlerContext) {
        let nonce = ClusterSecret.makeChallenge()
        let timeout = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(Limits.wireAuthenticationTimeout)) {
            self.context.logger.notice("blob connection closed: no authentication in time",
                                       metadata: ["peer": "\(String(describing: context.remoteAddress))"])
            self.closeConnection(context)
        }
        self.phase = .challenged(nonce: nonce, timeout: timeout)
        self.writeReply(.challenge(nonce: nonce), requestID: 0, context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.closeConnection(context)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        switch self.phase {
        case .challenged(let nonce, let timeout):
            guard frame.requestID == 0, case .authenticate(let authenticator) = frame.message,
                self.context.secret.isValid(authenticator, to: nonce, protocol: BlobWire.challengeProtocol)
            else {
                self.context.logger.warning("blob connection refused: wrong cluster secret",
                                            metadata: ["peer": "\(String(describing: context.remoteAddress))"])
                self.closeConnection(context)
                return
            }
            timeout.cancel()
            self.phase = .authenticated
            self.writeReply(.ok, requestID: 0, context: context)
        case .authenticated:
            if case .authenticate = frame.message {
                self.context.logger.warning("blob connection closed: a second authenticate")
                self.closeConnection(context)
                return
            }
            self.queued.append(frame)
            self.startQueued(context: context)
        case .closed:
            return
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A malformed frame (BlobWireError from the decoder) or a socket error: the stream cannot be trusted.
        self.context.logger.notice("blob connection closed", metadata: ["error": "\(error)"])
        self.closeConnection(context)
    }

    func read(context: ChannelHandlerContext) {
        if self.isBusy {
            self.readHeld = true
        } else {
            context.read()
        }
    }

    private func startQueued(context: ChannelHandlerContext) {
        while self.inFlight < Limits.serverRequestsInFlightPerConnectionMax, let frame = self.queued.popFirst() {
            self.inFlight += 1
            let serverContext = self.context
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            Task {
                let reply = await serverContext.execute(frame.message)
                bound.eventLoop.execute {
                    let (handler, context) = bound.value
                    handler.finish(frame.requestID, reply: reply, context: context)
                }
            }
        }
    }

    private func finish(_ requestID: UInt64, reply: BlobReply, context: ChannelHandlerContext) {
        precondition(self.inFlight > 0, "a reply with no request in flight")
        self.inFlight -= 1
        guard case .authenticated = self.phase else { return }
        self.writeReply(reply, requestID: requestID, context: context)
        self.startQueued(context: context)
        if self.readHeld && !self.isBusy {
            self.readHeld = false
            context.read()
        }
    }

    private func writeReply(_ reply: BlobReply, requestID: UInt64, context: ChannelHandlerContext) {
        let frame = BlobWire.encode(reply, requestID: requestID, allocator: context.channel.allocator)
        context.write(Self.wrapOutboundOut(frame.head), promise: nil)
        if let tail = frame.tail { context.write(Self.wrapOutboundOut(tail), promise: nil) }
        context.flush()
    }

    private func closeConnection(_ context: ChannelHandlerContext) {
        if case .challenged(_, let timeout) = self.phase { timeout.cancel() }
        let wasOpen: Bool
        if case .closed = self.phase { wasOpen = false } else { wasOpen = true }
        self.phase = .closed
        self.queued.removeAll()
        if wasOpen { context.close(promise: nil) }
    }
}

/// A counting semaphore for tasks: `acquire` waits (without blocking a thread) until a permit is free.
/// Waiters are served first come, first served.
final class PermitPool: Sendable {
    private struct State {
        var available: Int
        var waiters: Deque<CheckedContinuation<Void, Never>> = []
    }

    private let state: Mutex<State>

    init(count: Int) {
        precondition(count >= 1, "a permit pool of \(count)")
        self.state = Mutex(State(available: count))
    }

    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = self.state.withLock { state in
                guard state.available > 0 else {
                    state.waiters.append(continuation)
                    return false
                }
                state.available -= 1
                return true
            }
            if granted { continuation.resume() }
        }
    }

    func release() {
        let next = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiters.popFirst() { return waiter }
            state.available += 1
            return nil
        }
        next?.resume()
    }
}

public import ClusterAuth
public import Logging
public import NIOCore
import NIOPosix
import Synchronization
public import BlobContract

/// A client of one blob node (`BlobServer`): the `ChunkStoring` a gateway holds for a node that runs in
/// another process, over the chunk protocol (`BlobWire`).
///
/// Promises (beyond `ChunkStoring`'s, which the node keeps):
/// - Safe for any number of concurrent callers: requests are multiplexed, by request id, over at most
///   `Options.connectionsMax` connections, opened lazily and reopened after a failure.
/// - Every call ends within about `Options.requestDeadline`, plus `Options.connectTimeout` for each new
///   connection it needs (at most two: see `call`). A node that is down, refuses the connection or the cluster secret, or does not answer in
///   time gives `BlobError.unavailable` (try later or elsewhere); a connection that fails or times out fails
///   every request on it so.
/// - Read bytes are checked against the checksum the node computed: damage on the way is
///   `.checksumMismatch`, never wrong bytes. Written bytes carry their checksum, which the node checks.
/// - Arguments the node would refuse are refused here with the store's own errors (`.chunkTooLarge`,
///   `.rangeOutOfBounds`), before anything is sent.
///
/// Order: `init`, any calls, `close()` once (later calls throw `.unavailable`). The event loop group is the
/// caller's and must outlive the store.
public final class RemoteChunkStore: ChunkStoring {
    /// Tuning of a client. Checked by `init` (`validate()`).
    public struct Options: Sendable {
        /// Connections opened to the node at most (requests rotate over them).
        public var connectionsMax = Limits.remoteConnectionsMaxDefault
        /// A request without an answer after this long fails with `.unavailable`, and so does its connection.
        public var requestDeadline = Limits.remoteRequestDeadlineDefault
        /// Connecting and authenticating fail with `.unavailable` after this long.
        public var connectTimeout = Limits.remoteConnectTimeout
        public var logger = Logger(label: "silo.blob.client")

        public init() {}

        /// Rejects options outside the module's limits.
        public func validate() throws(BlobError) {
            guard (1...Limits.remoteConnectionsMaxLimit).contains(self.connectionsMax) else {
                throw .invalidOptions("connectionsMax \(self.connectionsMax) outside 1...\(Limits.remoteConnectionsMaxLimit)")
            }
            guard self.requestDeadline > .zero, self.connectTimeout > .zero else {
                throw .invalidOptions("requestDeadline and connectTimeout must be positive")
            }
        }
    }

    /// The node's address, as given.
    public let host: String
    public let port: Int
    private let secret: ClusterSecret
    private let group: any EventLoopGroup
    private let options: Options
    private let pool: Mutex<Pool>

    private struct Pool {
        var slots: [Slot]
        /// The slot the next request goes to (round robin).
        var next = 0
        var isClosed = false
    }

    private enum Slot {
        case empty
        case connecting(EventLoopFuture<ClientConnection>)
        case ready(ClientConnection)
    }

    /// A client of the node at `host:port`; connects on the first call.
    public init(
        host: String, port: Int, secret: ClusterSecret, group: any EventLoopGroup, options: Options = Options()
    ) throws(BlobError) {
        try options.validate()
        guard (1...65535).contains(port) else { throw .invalidOptions("blob node port \(port) outside 1...65535") }
        self.host = host
        self.port = port
        self.secret = secret
        self.group = group
        self.options = options
        self.pool = Mutex(Pool(slots: Array(repeating: .empty, count: options.connectionsMax)))
    }

    private var address: String { self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)" }

    // MARK: ChunkStoring

    public func write(_ chunkID: UInt128, _ bytes: ByteBuffer) async throws(BlobError) {
        guard bytes.readableBytes <= Limits.chunkSizeBytesMax else {
            throw .chunkTooLarge(bytes: bytes.readableBytes, max: Limits.chunkSizeBytesMax)
        }
        let request = BlobRequest.put(chunkID: chunkID, checksum: BlobWire.checksum(bytes), bytes: bytes)
        try Self.expectOK(try await self.call(request), answering: .put)
    }

    public func read(_ chunkID: UInt128, offset: Int, length: Int) async throws(BlobError) -> ByteBuffer {
        // No chunk is longer than the maximum, so a range beyond it is out of bounds in every chunk.
        guard offset >= 0, length >= 0, offset <= Limits.chunkSizeBytesMax, length <= Limits.chunkSizeBytesMax else {
            throw .rangeOutOfBounds(chunkID)
        }
        let reply = try await self.call(.get(chunkID: chunkID, offset: offset, length: length))
        return try BlobWire.verifiedBytes(reply, chunkID: chunkID, length: length)
    }

    public func delete(_ chunkIDs: [UInt128]) async throws(BlobError) {
        var start = 0
        while start < chunkIDs.count {
            let end = min(chunkIDs.count, start + Limits.wireDeleteChunkIDsMax)
            try Self.expectOK(try await self.call(.delete(chunkIDs: Array(chunkIDs[start..<end]))), answering: .delete)
            start = end
        }
    }

    public func chunks(writtenBeforeTime: Int64, after: UInt128?, limit: Int) async throws(BlobError) -> [UInt128] {
        let limit = min(max(limit, 0), Limits.sweepListLimitMax)
        let reply = try await self.call(.chunks(writtenBeforeTime: writtenBeforeTime, after: after, limit: limit))
        switch reply {
        case .chunkList(let chunkIDs):
            guard chunkIDs.count <= limit else {
                throw .io("blob node \(self.address) listed \(chunkIDs.count) chunks for a limit of \(limit)")
            }
            return chunkIDs
        case .failure(let error):
            throw error
        case .challenge, .ok, .bytes, .status:
            throw .io("blob node \(self.address) answered chunks with \(reply.opcode)")
        }
    }

    // MARK: Node requests

    /// The node's id, free space and chunk count.
    public func stat() async throws(BlobError) -> BlobNodeStatus {
        let reply = try await self.call(.stat)
        switch reply {
        case .status(let status): return status
        case .failure(let error): throw error
        case .challenge, .ok, .bytes, .chunkList:
            throw .io("blob node \(self.address) answered stat with \(reply.opcode)")
        }
    }

    /// A round trip that touches no disk (health checks).
    public func ping() async throws(BlobError) {
        try Self.expectOK(try await self.call(.ping), answering: .ping)
    }

    /// Closes every connection; requests on them fail with `.unavailable`, and so do later calls. Idempotent.
    public func close() async {
        let slots = self.pool.withLock { pool in
            pool.isClosed = true
            defer { pool.slots = pool.slots.map { _ in .empty } }
            return pool.slots
        }
        for slot in slots {
            switch slot {
            case .empty: continue
            case .ready(let connection): try? await connection.channel.close()
            case .connecting(let future):
                if let connection = try? await future.get() { try? await connection.channel.close() }
            }
        }
    }

    // MARK: Requests and connections

    private static func expectOK(_ reply: BlobReply, answering opcode: BlobOpcode) throws(BlobError) {
        switch reply {
        case .ok: return
        case .failure(let error): throw error
        case .challenge, .bytes, .chunkList, .status:
            throw .io("blob node answered \(opcode) with \(reply.opcode)")
        }
    }

    /// Sends `request` on the next connection and waits for its reply. A connection found closed before the
    /// request left (it failed a moment ago, and its slot is not cleared yet) is dropped and the request goes
    /// to a fresh one, once: it was never sent, so this is not a retry of the request.
    private func call(_ request: BlobRequest) async throws(BlobError) -> BlobReply {
        var attempt = 0
        while true {
            let connection = try await self.connection()
            do {
                return try await connection.send(request).get()
            } catch let notSent as RequestNotSent {
                self.forget(connection)
                attempt += 1
                if attempt > 1 { throw notSent.error }
            } catch let error as BlobError {
                throw error
            } catch {
                throw .unavailable("blob node \(self.address): \(error)")
            }
        }
    }

    /// Clears the slot that holds `connection`, if one still does.
    private func forget(_ connection: ClientConnection) {
        self.pool.withLock { pool in
            for index in pool.slots.indices {
                if case .ready(let current) = pool.slots[index], current === connection { pool.slots[index] = .empty }
            }
        }
    }

    private enum Acquisition {
        case ready(ClientConnection)
        case wait(EventLoopFuture<ClientConnection>)
        case connect(slot: Int, EventLoopPromise<ClientConnection>)
    }

    /// The connection of the next slot, opened if the slot has none (or a dead one). Concurrent callers of
    /// one slot share its connection attempt.
    private func connection() async throws(BlobError) -> ClientConnection {
        let group = self.group
        let acquisition = try self.pool.withLock { pool throws(BlobError) -> Acquisition in
            guard !pool.isClosed else { throw .unavailable("the client of blob node \(self.address) is closed") }
            let index = pool.next % pool.slots.count
            pool.next = (pool.next + 1) % pool.slots.count
            switch pool.slots[index] {
            case .ready(let connection) where connection.channel.isActive:
                return .ready(connection)
            case .connecting(let future):
                return .wait(future)
            case .ready, .empty:
                let promise = group.next().makePromise(of: ClientConnection.self)
                pool.slots[index] = .connecting(promise.futureResult)
                return .connect(slot: index, promise)
            }
        }
        switch acquisition {
        case .ready(let connection):
            return connection
        case .wait(let future):
            return try await Self.blobResult(future, address: self.address)
        case .connect(let slot, let promise):
            self.connect(slot: slot, promise: promise)
            return try await Self.blobResult(promise.futureResult, address: self.address)
        }
    }

    /// Opens and authenticates a connection for `slot`, then records it there (or clears the slot on failure).
    private func connect(slot: Int, promise: EventLoopPromise<ClientConnection>) {
        let eventLoop = promise.futureResult.eventLoop
        let authenticated = eventLoop.makePromise(of: NIOLoopBound<BlobClientHandler>.self)
        let (secret, address) = (self.secret, self.address)
        let requestDeadline = TimeAmount(self.options.requestDeadline)
        let connectTimeout = TimeAmount(self.options.connectTimeout)
        let connected = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = BlobClientHandler(
                        secret: secret, address: address, requestDeadline: requestDeadline,
                        authenticationTimeout: connectTimeout, authenticated: authenticated)
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(BlobReplyDecoder()))
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(host: self.host, port: self.port)
        let opened = connected.flatMapError { error in
            // The initializer never ran: nothing else will complete `authenticated`.
            let failure = BlobError.unavailable("cannot connect to blob node \(address): \(error)")
            authenticated.fail(failure)
            return eventLoop.makeFailedFuture(failure)
        }.flatMap { channel in
            authenticated.futureResult.map { ClientConnection(channel: channel, handler: $0) }
                .flatMapErrorWithEventLoop { error, eventLoop in
                    channel.close(promise: nil)
                    return eventLoop.makeFailedFuture(error)
                }
        }
        opened.whenComplete { result in
            let keep = self.pool.withLock { pool -> Bool in
                guard case .success(let connection) = result, !pool.isClosed else {
                    pool.slots[slot] = .empty
                    return false
                }
                pool.slots[slot] = .ready(connection)
                return true
            }
            guard case .success(let connection) = result else { return }
            guard keep else { return connection.channel.close(promise: nil) }
            // A connection that dies frees its slot, so the next request to it reconnects.
            connection.channel.closeFuture.whenComplete { _ in
                self.pool.withLock { pool in
                    if case .ready(let current) = pool.slots[slot], current === connection { pool.slots[slot] = .empty }
                }
            }
        }
        promise.completeWith(opened)
    }

    /// Waits for `future`, with every failure as a `BlobError` (anything else is the connection failing).
    private static func blobResult<T: Sendable>(_ future: EventLoopFuture<T>, address: String) async throws(BlobError) -> T {
        do {
            return try await future.get()
        } catch let error as BlobError {
            throw error
        } catch {
            throw .unavailable("blob node \(address): \(error)")
        }
    }
}

/// One open, authenticated connection of a `RemoteChunkStore`.
final class ClientConnection: Sendable {
    let channel: any Channel
    /// The connection's handler, used on its event loop only.
    let handler: NIOLoopBound<BlobClientHandler>

    init(channel: any Channel, handler: NIOLoopBound<BlobClientHandler>) {
        self.channel = channel
        self.handler = handler
    }

    /// Sends `request` and returns its reply; fails with `.unavailable` if the connection fails or the deadline
    /// passes first.
    func send(_ request: BlobRequest) -> EventLoopFuture<BlobReply> {
        let handler = self.handler
        let promise = self.channel.eventLoop.makePromise(of: BlobReply.self)
        self.channel.eventLoop.execute {
            handler.value.send(request, promise: promise)
        }
        return promise.futureResult
    }
}

/// The client side of one connection: answers the challenge, then numbers requests, matches replies by id,
/// and fails requests whose deadline passes. Event-loop only.
///
/// Invariant: every promise taken by `send` is completed exactly once: by its reply, its deadline, or the
/// connection's end (which fails everything still pending).
final class BlobClientHandler: ChannelInboundHandler {
    typealias InboundIn = BlobFrame<BlobReply>
    typealias OutboundOut = ByteBuffer

    private enum Phase {
        case awaitingChallenge
        case awaitingAcceptance
        case ready
        case closed(BlobError)
    }

    private struct Pending {
        var promise: EventLoopPromise<BlobReply>
        var deadline: Scheduled<Void>
    }

    private let secret: ClusterSecret
    private let address: String
    private let requestDeadline: TimeAmount
    private let authenticationTimeout: TimeAmount
    private let authenticated: EventLoopPromise<NIOLoopBound<BlobClientHandler>>
    private var phase: Phase = .awaitingChallenge
    private var context: ChannelHandlerContext?
    private var pending: [UInt64: Pending] = [:]
    private var authenticationDeadline: Scheduled<Void>?
    /// 0 is the authentication exchange.
    private var nextRequestID: UInt64 = 1

    init(
        secret: ClusterSecret, address: String, requestDeadline: TimeAmount, authenticationTimeout: TimeAmount,
        authenticated: EventLoopPromise<NIOLoopBound<BlobClientHandler>>
    ) {
        self.secret = secret
        self.address = address
        self.requestDeadline = requestDeadline
        self.authenticationTimeout = authenticationTimeout
        self.authenticated = authenticated
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.authenticationDeadline = context.eventLoop.assumeIsolated().scheduleTask(in: self.authenticationTimeout) {
            self.fail(.unavailable("blob node \(self.address) did not complete authentication in time"))
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.fail(.unavailable("connection to blob node \(self.address) closed"))
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .awaitingAcceptance = self.phase {
            self.fail(.unavailable("blob node \(self.address) closed the connection at authentication (wrong cluster secret?)"))
        } else {
            self.fail(.unavailable("connection to blob node \(self.address) closed"))
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.fail(.unavailable("connection to blob node \(self.address) failed: \(error)"))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        switch self.phase {
        case .awaitingChallenge:
            guard frame.requestID == 0, case .challenge(let nonce) = frame.message else {
                return self.fail(.unavailable("blob node \(self.address) did not start with a challenge"))
            }
            self.phase = .awaitingAcceptance
            let answer = BlobRequest.authenticate(authenticator: self.secret.answer(to: nonce, protocol: BlobWire.challengeProtocol))
            self.write(BlobWire.encode(answer, requestID: 0, allocator: context.channel.allocator), context: context)
        case .awaitingAcceptance:
            guard frame.requestID == 0, case .ok = frame.message else {
                return self.fail(.unavailable("blob node \(self.address) refused the authentication"))
            }
            self.phase = .ready
            self.authenticationDeadline?.cancel()
            self.authenticated.succeed(NIOLoopBound(self, eventLoop: context.eventLoop))
        case .ready:
            guard let request = self.pending.removeValue(forKey: frame.requestID) else {
                return self.fail(.unavailable("blob node \(self.address) answered unknown request \(frame.requestID)"))
            }
            request.deadline.cancel()
            request.promise.succeed(frame.message)
        case .closed:
            return
        }
    }

    /// Sends one request (on the event loop). A closed connection fails it at once with `RequestNotSent`.
    func send(_ request: BlobRequest, promise: EventLoopPromise<BlobReply>) {
        guard case .ready = self.phase, let context = self.context else {
            var error = BlobError.unavailable("connection to blob node \(self.address) is not ready")
            if case .closed(let reason) = self.phase { error = reason }
            return promise.fail(RequestNotSent(error: error))
        }
        let requestID = self.nextRequestID
        self.nextRequestID += 1
        let deadline = context.eventLoop.assumeIsolated().scheduleTask(in: self.requestDeadline) {
            // The connection may be stuck (a dead node behind a silent network): fail it and everything on it,
            // so the next request reconnects.
            self.fail(.unavailable("blob node \(self.address) did not answer within \(self.requestDeadline.nanoseconds / 1_000_000) ms"))
        }
        self.pending[requestID] = Pending(promise: promise, deadline: deadline)
        self.write(BlobWire.encode(request, requestID: requestID, allocator: context.channel.allocator), context: context)
    }

    private func write(_ frame: EncodedFrame, context: ChannelHandlerContext) {
        context.write(Self.wrapOutboundOut(frame.head), promise: nil)
        if let tail = frame.tail { context.write(Self.wrapOutboundOut(tail), promise: nil) }
        context.flush()
    }

    /// Ends the connection: fails authentication if it was pending and every pending request, then closes.
    private func fail(_ error: BlobError) {
        if case .closed = self.phase { return }
        let wasReady: Bool
        if case .ready = self.phase { wasReady = true } else { wasReady = false }
        self.phase = .closed(error)
        self.authenticationDeadline?.cancel()
        if !wasReady { self.authenticated.fail(error) }
        let pending = self.pending
        self.pending = [:]
        for requestID in pending.keys.sorted() {
            pending[requestID]!.deadline.cancel()
            pending[requestID]!.promise.fail(error)
        }
        self.context?.close(promise: nil)
    }
}

/// A request failed before it was written: its connection had already ended (with `error`).
struct RequestNotSent: Error {
    var error: BlobError
}

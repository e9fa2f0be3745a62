import Foundation
public import NIOCore
import NIOHTTPTypes
import Synchronization

/// The limits that keep one client (or many) from taking the server's connections, file descriptors or
/// memory. Named once here; `ops/README.md` documents them as the operator's knobs.
public struct ConnectionLimits: Sendable {
    /// Open client connections the server keeps at most; one more is closed as soon as it is accepted,
    /// so the process never runs out of file descriptors and the accept loop never spins.
    public var connectionsMax: Int = 4096
    /// Open connections one source address may keep.
    public var connectionsPerAddressMax: Int = 512
    /// A connection with no complete request head and no request in flight is closed after this long
    /// (idle keep-alive connections, and clients that drip header bytes).
    public var idleTimeout: TimeAmount = .seconds(60)
    /// While the server waits for request body bytes, each window of this much waiting must bring at
    /// least `bodyBytesPerWindowMin` bytes, else the connection is closed (a body dripped a byte at a
    /// time). Time the server itself does not read (back-pressure) does not count.
    public var bodyRateWindow: TimeAmount = .seconds(30)
    public var bodyBytesPerWindowMin: Int = 16 << 10
    /// A response the client does not read for this long (the connection stays unwritable) is abandoned
    /// and the connection closed, which frees the read-ahead chunks it holds.
    public var stalledWriteTimeout: TimeAmount = .seconds(60)
    /// After an answer sent before its request body ended (an early error), at most this many more body
    /// bytes are read and dropped so that the client sees the answer; past it, or after
    /// `lingerTimeout`, the connection is closed.
    public var drainBytesMax: Int64 = 1 << 20
    public var lingerTimeout: TimeAmount = .seconds(10)
    /// When draining is given up, the answer is followed by a half-close (FIN) and what still arrives is
    /// read and dropped for at most this long before the connection is closed. Closing at once with body
    /// bytes unread makes the kernel send a reset, which discards the answer on a client that has not read
    /// it yet (a loaded client loses its 404 and sees only "connection reset").
    public var lingerCloseTimeout: TimeAmount = .seconds(2)

    public init() {}

    /// Checks the relations between the limits; called once at start-up.
    public func validate() throws(ConfigurationError) {
        guard connectionsMax >= 1, connectionsPerAddressMax >= 1, connectionsPerAddressMax <= connectionsMax else {
            throw ConfigurationError("connection limits: need 1 ≤ per-address (\(connectionsPerAddressMax)) ≤ total (\(connectionsMax))")
        }
        guard idleTimeout > .zero, bodyRateWindow > .zero, stalledWriteTimeout > .zero, lingerTimeout > .zero, lingerCloseTimeout > .zero,
              bodyBytesPerWindowMin >= 0, drainBytesMax >= 0
        else { throw ConfigurationError("connection limits: timeouts must be positive, byte counts not negative") }
    }
}

/// A start-up setting that cannot work, or a data directory the server cannot prepare (not a client's
/// error: it never becomes an S3 error code).
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Counts the open connections, in total and per source address, for every `ConnectionGuard` of one
/// server. Thread-safe; `admit` and `release` are called from the connections' event loops.
public final class ConnectionCounter: Sendable {
    private struct State {
        var total = 0
        var perAddress: [String: Int] = [:]
    }
    private let state = Mutex(State())
    let limits: ConnectionLimits

    public init(limits: ConnectionLimits) { self.limits = limits }

    /// The open connections now (for metrics and tests).
    public var openConnections: Int { state.withLock { $0.total } }

    /// Reserves a place for a connection from `address`; false when a limit is reached.
    func admit(_ address: String) -> Bool {
        state.withLock { state in
            let fromAddress = state.perAddress[address, default: 0]
            guard state.total < limits.connectionsMax, fromAddress < limits.connectionsPerAddressMax else { return false }
            state.total += 1
            state.perAddress[address] = fromAddress + 1
            return true
        }
    }

    /// Gives back the place `admit` reserved.
    func release(_ address: String) {
        state.withLock { state in
            precondition(state.total > 0, "connection released twice")
            state.total -= 1
            let left = state.perAddress[address, default: 1] - 1
            state.perAddress[address] = left > 0 ? left : nil
        }
    }
}

/// Enforces `ConnectionLimits` on one connection. It sits after the HTTP codec (it sees request and
/// response parts) and before `ExpectContinueHandler`.
///
/// - On activation it takes a place from the shared `ConnectionCounter`, or closes the connection.
/// - A timer (every `tick`) checks the body rate while the server waits for body bytes, and how long
///   the outbound side has been unwritable.
/// Invariant: `admittedAddress != nil` exactly while this connection holds a place in the counter.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let counter: ConnectionCounter
    private var limits: ConnectionLimits { counter.limits }
    private var admittedAddress: String?
    private var timer: RepeatedTask?

    private var receivingBody = false
    /// A read was asked for (by the consumer) and no data came yet: the server is waiting for the client.
    private var readPending = false
    private var waitedInWindow: TimeAmount = .zero
    private var bytesInWindow = 0
    private var unwritableSince: NIODeadline?
    private var lastTick = NIODeadline.now()
    static let tick: TimeAmount = .seconds(1)

    init(counter: ConnectionCounter) {
        self.counter = counter
    }

    func channelActive(context: ChannelHandlerContext) {
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        guard counter.admit(address) else {
            context.close(promise: nil)
            return
        }
        admittedAddress = address
        lastTick = .now()
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let contextBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleRepeatedTask(initialDelay: Self.tick, delay: Self.tick) { _ in
            loopBound.value.check(context: contextBound.value)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        if let address = admittedAddress {
            admittedAddress = nil
            counter.release(address)
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        readPending = false
        switch unwrapInboundIn(data) {
        case .head:
            receivingBody = true
            waitedInWindow = .zero
            bytesInWindow = 0
        case .body(let buffer):
            bytesInWindow += buffer.readableBytes
        case .end:
            receivingBody = false
        }
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        readPending = true
        context.read()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        unwritableSince = context.channel.isWritable ? nil : .now()
        context.fireChannelWritabilityChanged()
    }

    private func check(context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        let elapsed = now - lastTick
        lastTick = now
        if receivingBody && readPending {
            waitedInWindow = waitedInWindow + elapsed
            if waitedInWindow >= limits.bodyRateWindow {
                if bytesInWindow < limits.bodyBytesPerWindowMin {
                    context.close(promise: nil)
                    return
                }
                waitedInWindow = .zero
                bytesInWindow = 0
            }
        }
        if let since = unwritableSince, now - since >= limits.stalledWriteTimeout {
            context.close(promise: nil)
        }
    }
}

public import ClusterAuth
import Foundation
public import Logging
import Metrics
public import NIOCore
import NIOPosix
public import RaftKit
import Synchronization
public import MetaContract

/// The metadata log of a process that holds no metadata (`silo gateway`): every proposal and query goes to the
/// replicas of a metadata group over the metadata RPC (`MetaWire`).
///
/// Promises:
/// - A proposal is sent with the same bytes (the same command id, times and version ids) until its outcome is
///   known: to the replica that led last, else to each in turn. `notLeader` and other definite refusals move on
///   to the next replica; an unknown outcome (the replica said so, or the connection went away after the
///   request was sent) is retried too, and the state machine's request-id memory answers a retry of a command
///   that did commit with its first outcome.
/// - When no replica gives an answer before `Options.proposalDeadline`, the call throws `.outcomeUnknown` if
///   any attempt may have been appended, else `.unavailable`: never a success, never a definite failure it
///   does not know.
/// - Queries are linearizable on whichever replica answers (ReadIndex through the leader).
/// - The replicas it tries are the configured addresses and the members the group has published since
///   (`refreshMembers`, periodic after `startRefreshingMembers`): a member added later is found, one removed
///   leaves the rotation once a replica says so, one that is down stays.
///
/// Lifecycle: `init`, `startRefreshingMembers` (optional), share it, `close()` at shutdown.
public final class RemoteMetaLog: MetaLog {
    /// Deadlines of the retry loop.
    public struct Options: Sendable {
        /// How long a proposal keeps trying before its outcome is reported unknown (or unavailable).
        public var proposalDeadline: Duration = .seconds(15)
        /// How long a query keeps trying.
        public var queryDeadline: Duration = .seconds(10)
        public init() {}
    }

    /// The replicas in rotation, in order: the configured addresses first, then members learned.
    let nodes: Mutex<[MetaNodeConnection]>
    /// The replica that last accepted a proposal (the leader, as far as we know), and the one that last
    /// answered a query (any replica serves linearizable reads, so queries stay where they succeed).
    private let preferred = Mutex<(proposals: PeerAddress?, queries: PeerAddress?)>((nil, nil))
    private let secret: ClusterSecret
    private let group: any EventLoopGroup
    private let refresher = Mutex<Task<Void, Never>?>(nil)
    private let options: Options
    private let logger: Logger

    /// - Precondition: at least one address.
    public init(addresses: [PeerAddress], secret: ClusterSecret, group: any EventLoopGroup, logger: Logger,
                options: Options = Options()) {
        precondition(!addresses.isEmpty, "no metadata addresses")
        precondition(
            options.proposalDeadline < .milliseconds(MetaLimits.commandIDRetentionMinMilliseconds),
            "a proposal may be retried after the state machine forgot its command id")
        nodes = Mutex(addresses.map { MetaNodeConnection(address: $0, secret: secret, group: group, logger: logger) })
        self.secret = secret
        self.group = group
        self.options = options
        self.logger = logger
    }

    private let proposeTimer = Timer(label: "silo_meta_client_seconds", dimensions: [("operation", "propose")])
    private let queryTimer = Timer(label: "silo_meta_client_seconds", dimensions: [("operation", "query")])
    private let retries = Counter(label: "silo_meta_client_retries_total")

    func propose(_ command: [UInt8]) async throws(MetaError) -> MetaCommandResult {
        let started = ContinuousClock.now
        defer { proposeTimer.recordNanoseconds((ContinuousClock.now - started).nanoseconds) }
        let body = try await send(.propose, command, writes: true, deadline: options.proposalDeadline)
        do throws(MetaCodecError) {
            return try MetaCommandResult(decoding: body)
        } catch {
            throw .internalFault("undecodable command result: \(error)")
        }
    }

    func query(_ query: MetaQuery) async throws(MetaError) -> MetaQueryResult {
        let started = ContinuousClock.now
        defer { queryTimer.recordNanoseconds((ContinuousClock.now - started).nanoseconds) }
        let body = try await send(.query, query.encode(), writes: false, deadline: options.queryDeadline)
        do throws(MetaCodecError) {
            return try MetaQueryResult(decoding: body)
        } catch {
            throw .internalFault("undecodable query result: \(error)")
        }
    }

    /// Sends a membership change to the leader (trying each replica in turn); throws `.unavailable` when none
    /// accepts it before the proposal deadline, `.outcomeUnknown` when one may have.
    public func changeMembership(_ request: MembershipRequest) async throws(MetaError) {
        _ = try await send(.membership, request.encode(), writes: true, deadline: options.proposalDeadline)
    }

    /// The one retry loop: sends the same bytes to the replica that answered this kind of request last, then
    /// to each other in turn, until one answers ok or the deadline passes. For a write (`writes`), an attempt
    /// that may have been acted on (the replica said so, or the connection went away after the request left)
    /// turns a final failure into `.outcomeUnknown`; definite refusals (not the leader, refused, not sent)
    /// only move on. A node's fault reply ends the loop.
    func send(_ operation: MetaWire.Operation, _ bytes: [UInt8], writes: Bool, deadline: Duration)
        async throws(MetaError) -> [UInt8]
    {
        let end = ContinuousClock.now + deadline
        var mayHaveApplied = false
        var lastProblem = "no metadata replica answered"
        // A replica's refusal says why (the leader refused the change); later "not the leader" answers from
        // the others must not hide it.
        var refusal: String?
        var attempt = 0
        let nodes = self.nodes.withLock { $0 }
        let start = preferred.withLock { preferred in
            (writes ? preferred.proposals : preferred.queries).flatMap { address in
                nodes.firstIndex { $0.address == address }
            } ?? 0
        }
        while ContinuousClock.now < end {
            let index = (start + attempt) % nodes.count
            attempt += 1
            let address = nodes[index].address
            switch await nodes[index].call(operation, bytes) {
            case .success(let payload):
                switch Self.parse(payload) {
                case .ok(let body):
                    preferred.withLock { if writes { $0.proposals = address } else { $0.queries = address } }
                    return body
                case .notLeader: lastProblem = "\(address) is not the leader (or knows none)"
                case .refused(let message):
                    lastProblem = "\(address): \(message)"
                    refusal = lastProblem
                case .outcomeUnknown(let message):
                    mayHaveApplied = true
                    lastProblem = "\(address): \(message)"
                case .fault(let message): throw .internalFault("metadata node \(address): \(message)")
                }
            case .failure(.notSent(let reason)):
                lastProblem = "\(address): \(reason)"
            case .failure(.lost(let reason)):
                mayHaveApplied = mayHaveApplied || writes
                lastProblem = "\(address): \(reason)"
            }
            await pause(afterAttempt: attempt, of: nodes.count)
        }
        if writes {
            logger.warning("metadata request gave up",
                           metadata: ["operation": "\(operation)", "problem": "\(lastProblem)",
                                      "mayHaveApplied": "\(mayHaveApplied)"])
        }
        if mayHaveApplied { throw .outcomeUnknown(refusal ?? lastProblem) }
        throw .unavailable(refusal ?? lastProblem)
    }

    /// The status of every replica that answers within `timeout` (nil for those that do not).
    public func statuses() async -> [(address: PeerAddress, status: MetaNodeStatus?)] {
        var answers: [(PeerAddress, MetaNodeStatus?)] = []
        for node in nodes.withLock({ $0 }) {
            var status: MetaNodeStatus?
            if case .success(let payload) = await node.call(MetaWire.Operation.status, []),
               case .ok(let body) = Self.parse(payload) {
                status = try? MetaNodeStatus(decoding: body)
            }
            answers.append((node.address, status))
        }
        return answers
    }

    /// The addresses in rotation now (configured and learned).
    public var addresses: [PeerAddress] { nodes.withLock { $0.map(\.address) } }

    /// Brings the rotation in line with the group, once: asks every replica in it for its status and takes
    /// the view of the one furthest along (highest term, then commit index). Every member that view
    /// publishes an API address for joins the rotation; a replica that answered with an id the group no
    /// longer has leaves it, and so does one that did not answer at an address no member publishes once
    /// every member has published one (an old address). Otherwise a replica that did not answer stays (down
    /// is not removed), and the rotation is never left empty.
    public func refreshMembers() async {
        let answers = await statuses()
        let views = answers.compactMap(\.status)
        guard let view = views.max(by: { ($0.term, $0.commitIndex) < ($1.term, $1.commitIndex) }) else { return }
        let members = Set(view.voters + view.learners)
        let published = view.apiAddresses.filter { members.contains($0.key) }.values
            .compactMap { PeerAddress(parsing: $0) }
        // When every member has published its address, one that is not among them and did not answer is a
        // member's old address (replaced at a new one): it leaves too.
        let complete = members.allSatisfy { view.apiAddresses[$0] != nil }
        let removed = Set(answers.compactMap { answer -> PeerAddress? in
            if let status = answer.status { return members.contains(status.id) ? nil : answer.address }
            return complete && !published.contains(answer.address) ? answer.address : nil
        })
        let (added, dropped) = nodes.withLock { nodes -> ([PeerAddress], [MetaNodeConnection]) in
            var kept = nodes.filter { !removed.contains($0.address) }
            if kept.isEmpty { return ([], []) }
            let known = Set(kept.map(\.address))
            var added: [PeerAddress] = []
            for address in published.sorted(by: { $0.description < $1.description }) where !known.contains(address) {
                kept.append(MetaNodeConnection(address: address, secret: secret, group: group, logger: logger))
                added.append(address)
            }
            let dropped = nodes.filter { removed.contains($0.address) }
            nodes = kept
            return (added, dropped)
        }
        for connection in dropped { await connection.close() }
        if !added.isEmpty || !dropped.isEmpty {
            logger.notice("metadata members changed", metadata: [
                "added": "\(added.map(\.description))", "removed": "\(dropped.map(\.address.description))"])
        }
    }

    /// Runs `refreshMembers` every `interval` until `close()`.
    public func startRefreshingMembers(every interval: Duration) {
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self, !Task.isCancelled else { return }
                await self.refreshMembers()
            }
        }
        refresher.withLock { previous in
            previous?.cancel()
            previous = task
        }
    }

    public func close() async {
        refresher.withLock { $0?.cancel() }
        for node in nodes.withLock({ $0 }) { await node.close() }
    }

    /// No pause within the first round over the replicas; then a short, growing one (an election takes a few
    /// hundred milliseconds).
    private func pause(afterAttempt attempt: Int, of count: Int) async {
        retries.increment()
        guard attempt % count == 0 else { return }
        let rounds = attempt / count
        try? await Task.sleep(for: .milliseconds(min(25 << min(rounds, 4), 300)))
    }

    private enum Parsed {
        case ok([UInt8])
        case notLeader
        case refused(String)
        case outcomeUnknown(String)
        case fault(String)
    }

    private static func parse(_ payload: [UInt8]) -> Parsed {
        guard let first = payload.first, let status = MetaWire.Status(rawValue: first) else {
            return .fault("unknown reply status")
        }
        let body = Array(payload.dropFirst())
        let message = String(decoding: body, as: UTF8.self)
        switch status {
        case .ok: return .ok(body)
        case .notLeader: return .notLeader
        case .refused: return .refused(message)
        case .outcomeUnknown: return .outcomeUnknown(message)
        case .fault: return .fault(message)
        }
    }
}

/// Why a call got no reply: before the request left (`notSent`: safe to send elsewhere), or after (`lost`:
/// it may have been acted on).
enum MetaCallFailure: Error {
    case notSent(String)
    case lost(String)
}

/// One authenticated, multiplexed connection to one metadata node, reopened on demand after a failure.
final class MetaNodeConnection: Sendable {
    let address: PeerAddress
    private let secret: ClusterSecret
    private let group: any EventLoopGroup
    private let logger: Logger

    private struct State {
        var channel: EventLoopFuture<any Channel>?
        var pending: [UInt64: CheckedContinuation<Result<[UInt8], MetaCallFailure>, Never>] = [:]
        var nextID: UInt64 = 1
        var closed = false
    }

    private let state = Mutex(State())

    init(address: PeerAddress, secret: ClusterSecret, group: any EventLoopGroup, logger: Logger) {
        self.address = address
        self.secret = secret
        self.group = group
        self.logger = logger
    }

    /// Sends one request and waits for its reply (at most `MetaRPCLimits.replyTimeout`).
    func call(_ operation: MetaWire.Operation, _ body: [UInt8]) async -> Result<[UInt8], MetaCallFailure> {
        let channel: any Channel
        do {
            channel = try await connectedChannel().get()
        } catch {
            dropChannel()
            return .failure(.notSent("cannot connect: \(error)"))
        }
        return await withCheckedContinuation { continuation in
            let id: UInt64? = state.withLock { state in
                guard !state.closed else { return nil }
                let id = state.nextID
                state.nextID += 1
                state.pending[id] = continuation
                return id
            }
            guard let id else {
                continuation.resume(returning: .failure(.notSent("connection closed")))
                return
            }
            var buffer = channel.allocator.buffer(capacity: FrameCodec.headerBytes + 1 + body.count)
            FrameCodec.encode(TransportFrame(from: id, payload: [operation.rawValue] + body), into: &buffer)
            channel.writeAndFlush(buffer).whenFailure { [self] error in
                resolve(id, .failure(.lost("write failed: \(error)")))
            }
            channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(MetaRPCLimits.replyTimeout.components.seconds) * 1_000_000_000)) {
                [self] in
                resolve(id, .failure(.lost("no reply within \(MetaRPCLimits.replyTimeout)")))
            }
        }
    }

    /// Resumes the caller waiting for `id`, once.
    func resolve(_ id: UInt64, _ outcome: Result<[UInt8], MetaCallFailure>) {
        let waiter = state.withLock { $0.pending.removeValue(forKey: id) }
        waiter?.resume(returning: outcome)
    }

    /// The connection went away: every waiting call's request may have been acted on.
    func connectionLost(_ reason: String) {
        let waiters = state.withLock { state -> [CheckedContinuation<Result<[UInt8], MetaCallFailure>, Never>] in
            state.channel = nil
            defer { state.pending = [:] }
            return Array(state.pending.values)
        }
        for waiter in waiters { waiter.resume(returning: .failure(.lost(reason))) }
    }

    func close() async {
        let channel = state.withLock { state -> EventLoopFuture<any Channel>? in
            state.closed = true
            defer { state.channel = nil }
            return state.channel
        }
        if let channel, let opened = try? await channel.get() { try? await opened.close() }
        connectionLost("connection closed")
    }

    private func dropChannel() {
        state.withLock { $0.channel = nil }
    }

    /// The open, authenticated channel, connecting first if there is none.
    private func connectedChannel() -> EventLoopFuture<any Channel> {
        state.withLock { state in
            if let channel = state.channel { return channel }
            let loop = group.next()
            let ready = loop.makePromise(of: (any Channel).self)
            let secret = self.secret
            ClientBootstrap(group: loop)
                .connectTimeout(.milliseconds(MetaRPCLimits.connectTimeout))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { [self] channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
                        try channel.pipeline.syncOperations.addHandler(
                            MetaRPCClientHandler(connection: self, secret: secret, ready: ready))
                    }
                }
                .connect(host: address.host, port: address.port)
                .whenFailure { ready.fail($0) }
            // Authentication must finish within the connect timeout too.
            loop.scheduleTask(in: .milliseconds(MetaRPCLimits.connectTimeout * 2)) {
                ready.fail(MetaCallFailure.notSent("authentication timed out"))
            }
            state.channel = ready.futureResult
            return ready.futureResult
        }
    }
}

private final class MetaRPCClientHandler: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked Sendable: `authenticated` is touched only on the channel's event loop.
    typealias InboundIn = TransportFrame

    private let connection: MetaNodeConnection
    private let secret: ClusterSecret
    private let ready: EventLoopPromise<any Channel>
    private var authenticated = false

    init(connection: MetaNodeConnection, secret: ClusterSecret, ready: EventLoopPromise<any Channel>) {
        self.connection = connection
        self.secret = secret
        self.ready = ready
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if !authenticated {
            guard frame.from == 0, frame.payload.count == ClusterSecret.challengeBytes else {
                context.close(promise: nil)
                return
            }
            let proof = secret.answer(to: frame.payload, protocol: MetaWire.challengeProtocol)
            var buffer = context.channel.allocator.buffer(capacity: FrameCodec.headerBytes + proof.count)
            FrameCodec.encode(TransportFrame(from: 0, payload: proof), into: &buffer)
            context.writeAndFlush(NIOAny(buffer), promise: nil)
            authenticated = true
            ready.succeed(context.channel)
            return
        }
        connection.resolve(frame.from, .success(frame.payload))
    }

    func channelInactive(context: ChannelHandlerContext) {
        ready.fail(MetaCallFailure.notSent("connection closed before authentication"))
        connection.connectionLost("connection to \(connection.address) closed")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

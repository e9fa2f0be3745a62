public import ClusterAuth
import Foundation
public import Logging
import Metrics
import Metrics
public import NIOCore
import NIOPosix
import RaftKit
import MetaContract

/// Serves a metadata replica (`RaftMetaLog`) to gateways over the metadata RPC (`MetaWire`): propose a
/// command, run a query, report status. Any replica answers queries (linearizable through ReadIndex); only the
/// leader accepts proposals, the others answer `notLeader` with their leader's id.
///
/// Lifecycle: `start(replica:host:port:secret:group:logger:)`, then `close()` before the replica closes.
/// Limits: `MetaRPCLimits`. A connection that fails authentication, sends a malformed frame or more than
/// `requestsInFlightPerConnectionMax` concurrent requests is closed.
public final class MetaRPCServer: Sendable {
    private let channel: any Channel
    /// The bound port (useful when started on port 0).
    public let port: Int

    private init(channel: any Channel, port: Int) {
        self.channel = channel
        self.port = port
    }

    /// `liveness`: where blob nodes' heartbeats go (nil: they are refused).
    public static func start(
        replica: RaftMetaLog, host: String, port: Int, secret: ClusterSecret, group: any EventLoopGroup, logger: Logger,
        liveness: BlobLivenessMonitor? = nil
    ) async throws -> MetaRPCServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(
                        MetaRPCServerHandler(replica: replica, liveness: liveness, secret: secret, logger: logger))
                }
            }
            .bind(host: host, port: port).get()
        return MetaRPCServer(channel: channel, port: channel.localAddress?.port ?? port)
    }

    public func close() async {
        try? await channel.close()
    }
}

/// Bounds of the metadata RPC.
public enum MetaRPCLimits {
    /// Requests one connection may have outstanding; one more closes it (a gateway keeps far fewer).
    static let requestsInFlightPerConnectionMax = 4096
    /// How long a caller waits for one reply before it gives up on the connection's answer.
    static let replyTimeout: Duration = .seconds(10)
    /// How long a caller waits for a connection.
    static let connectTimeout: Int64 = 1000
}

private final class MetaRPCServerHandler: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked Sendable: the mutable fields are touched only on the channel's event loop.
    typealias InboundIn = TransportFrame

    private let replica: RaftMetaLog
    private let liveness: BlobLivenessMonitor?
    private let secret: ClusterSecret
    private let logger: Logger
    private var nonce: [UInt8] = []
    private var authenticated = false
    private var inFlight = 0

    init(replica: RaftMetaLog, liveness: BlobLivenessMonitor?, secret: ClusterSecret, logger: Logger) {
        self.replica = replica
        self.liveness = liveness
        self.secret = secret
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        nonce = ClusterSecret.makeChallenge()
        write(context: context, TransportFrame(from: 0, payload: nonce))
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard authenticated else {
            if frame.from == 0, secret.isValid(frame.payload, to: nonce, protocol: MetaWire.challengeProtocol) {
                authenticated = true
            } else {
                logger.warning("metadata RPC: authentication failed",
                               metadata: ["peer": "\(context.remoteAddress.map { "\($0)" } ?? "?")"])
                context.close(promise: nil)
            }
            return
        }
        guard inFlight < MetaRPCLimits.requestsInFlightPerConnectionMax else {
            logger.warning("metadata RPC: too many requests in flight on one connection; closing it")
            context.close(promise: nil)
            return
        }
        inFlight += 1
        let replica = self.replica
        let liveness = self.liveness
        let channel = context.channel
        let loop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: loop)
        Task {
            let started = ContinuousClock.now
            let reply = await Self.answer(frame.payload, replica: replica, liveness: liveness)
            let elapsed = ContinuousClock.now - started
            let operation = Self.operationName(frame.payload.first)
            let status = Self.statusName(reply.first)
            Timer(label: "silo_meta_rpc_server_seconds", dimensions: [("operation", operation), ("status", status)])
                .recordNanoseconds(elapsed.nanoseconds)
            Self.log(frame.payload, operation: operation, status: status, elapsed: elapsed, logger: logger)
            loop.execute {
                handler.value.inFlight -= 1
                var buffer = channel.allocator.buffer(capacity: FrameCodec.headerBytes + reply.count)
                FrameCodec.encode(TransportFrame(from: frame.from, payload: reply), into: &buffer)
                channel.writeAndFlush(buffer, promise: nil)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("metadata RPC connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    private func write(context: ChannelHandlerContext, _ frame: TransportFrame) {
        var buffer = context.channel.allocator.buffer(capacity: FrameCodec.headerBytes + frame.payload.count)
        FrameCodec.encode(frame, into: &buffer)
        context.writeAndFlush(NIOAny(buffer), promise: nil)
    }

    /// Proposals carry the gateway's request id (the S3 `x-amz-request-id` of the request that made them) in
    /// their envelope: every proposal is logged with it at debug, and one whose outcome is unknown at notice,
    /// so a client's request can be followed from the gateway's log into the metadata node's.
    static func log(_ payload: [UInt8], operation: String, status: String, elapsed: Duration, logger: Logger) {
        guard operation == "propose" else { return }
        let level: Logger.Level = status == "outcome_unknown" ? .notice : .debug
        guard logger.logLevel <= level, let header = MetaCommand.peekHeader(Array(payload.dropFirst())) else { return }
        logger.log(level: level, "metadata proposal", metadata: [
            "requestID": "\(header.commandID)", "kind": "\(header.kind)", "status": "\(status)",
            "ms": "\(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)",
        ])
    }

    static func operationName(_ byte: UInt8?) -> String {
        switch byte.flatMap(MetaWire.Operation.init(rawValue:)) {
        case .propose: "propose"
        case .query: "query"
        case .status: "status"
        case .membership: "membership"
        case .heartbeat: "heartbeat"
        case .blobReports: "blob_reports"
        case nil: "unknown"
        }
    }

    static func statusName(_ byte: UInt8?) -> String {
        switch byte.flatMap(MetaWire.Status.init(rawValue:)) {
        case .ok: "ok"
        case .notLeader: "not_leader"
        case .refused: "refused"
        case .outcomeUnknown: "outcome_unknown"
        case .fault, nil: "fault"
        }
    }

    /// Runs one request and encodes its reply.
    static func answer(_ payload: [UInt8], replica: RaftMetaLog, liveness: BlobLivenessMonitor?) async -> [UInt8] {
        guard let first = payload.first, let operation = MetaWire.Operation(rawValue: first) else {
            return MetaWire.reply(.fault, message: "unknown metadata RPC operation")
        }
        let body = Array(payload.dropFirst())
        switch operation {
        case .propose:
            guard body.count <= MetaLimits.commandBytesMax else {
                return MetaWire.reply(.refused, message: "command of \(body.count) bytes over \(MetaLimits.commandBytesMax)")
            }
            do throws(DriverError) {
                return MetaWire.reply(.ok, try await replica.proposeOnce(body))
            } catch {
                return driverReply(error)
            }
        case .query:
            let query: MetaQuery
            do throws(MetaCodecError) {
                query = try MetaQuery(decoding: body)
            } catch {
                return MetaWire.reply(.fault, message: "undecodable query: \(error)")
            }
            do throws(DriverError) {
                switch try await replica.queryOnce(query) {
                case .success(let result): return MetaWire.reply(.ok, result.encode())
                case .failure(let error): return MetaWire.reply(.refused, message: "\(error)")
                }
            } catch {
                return driverReply(error)
            }
        case .status:
            return MetaWire.reply(.ok, await replica.nodeStatus().encode())
        case .membership:
            let request: MembershipRequest
            do throws(MetaCodecError) {
                request = try MembershipRequest(decoding: body)
            } catch {
                return MetaWire.reply(.fault, message: "undecodable membership request: \(error)")
            }
            do throws(DriverError) {
                let driver = replica.driver
                switch request {
                case .addLearner(let id, let address):
                    guard let peer = PeerAddress(parsing: address) else {
                        return MetaWire.reply(.fault, message: "raft address must be HOST:PORT, got \(address)")
                    }
                    try await driver.addLearner(id, address: peer)
                case .promote(let id): try await driver.promote(id)
                case .remove(let id): try await driver.remove(id)
                case .transferLeadership(let id): try await driver.transferLeadership(to: id)
                }
                return MetaWire.reply(.ok, [])
            } catch {
                return driverReply(error)
            }
        case .heartbeat:
            return await heartbeatReply(body, liveness: liveness)
        case .blobReports:
            let reports = await liveness?.reports() ?? []
            return MetaWire.reply(.ok, BlobHeartbeatReports(reports.map {
                BlobHeartbeatReport(heartbeat: $0.report, ageMilliseconds: UInt64(max(0, $0.age.nanoseconds / 1_000_000)))
            }).encode())
        }
    }

    private static func heartbeatReply(_ body: [UInt8], liveness: BlobLivenessMonitor?) async -> [UInt8] {
        guard let liveness else { return MetaWire.reply(.refused, message: "this replica takes no blob heartbeats") }
        let report: BlobHeartbeat
        do throws(MetaCodecError) {
            report = try BlobHeartbeat(decoding: body)
        } catch {
            return MetaWire.reply(.fault, message: "undecodable heartbeat: \(error)")
        }
        switch await liveness.heartbeat(report) {
        case .notLeader(let leader):
            var writer = ByteWriter(capacity: 10)
            writer.writeVarint(leader)
            return MetaWire.reply(.notLeader, writer.bytes)
        case .recorded(let registered):
            return MetaWire.reply(.ok, [registered ? 1 : 0])
        }
    }

    private static func driverReply(_ error: DriverError) -> [UInt8] {
        switch error {
        case .notLeader(let hint):
            var writer = ByteWriter(capacity: 10)
            writer.writeVarint(hint ?? 0)
            return MetaWire.reply(.notLeader, writer.bytes)
        case .outcomeUnknown(let reason):
            return MetaWire.reply(.outcomeUnknown, message: "\(reason)")
        case .refused, .proposalDropped, .stopped, .timedOut:
            return MetaWire.reply(.refused, message: "\(RaftMetaLog.metaError(error))")
        }
    }
}

extension RaftMetaLog {
    /// This replica's view of the group.
    public func nodeStatus() async -> MetaNodeStatus {
        let status = await driver.status
        let membership = await driver.membership
        return MetaNodeStatus(
            id: configuration.id, term: status.term, role: "\(status.role)", leaderID: status.leaderID,
            commitIndex: status.commitIndex, appliedIndex: status.appliedIndex,
            voters: membership.voters, learners: membership.learners, apiAddresses: await publishedAddresses())
    }
}

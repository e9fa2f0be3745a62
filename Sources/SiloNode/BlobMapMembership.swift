public import ClusterAuth
public import Logging
public import MetaQuorum
import NIOPosix
public import RaftKit
public import ServiceLifecycle

/// A blob node's membership in the cluster map (`silo blob --meta … --advertise …`): registers the node
/// through the metadata group (`registerBlobNode`, a log entry), then sends the leader a heartbeat every
/// `BlobMapLimits.heartbeatInterval` (never a log entry) with its capacity, free bytes and health. When a
/// heartbeat's answer says the map does not hold the node (a new cluster, a restore), it registers again.
///
/// Promises: never stops the node. A metadata group that does not answer is retried at the heartbeat
/// interval; a refusal is logged and retried, except `blobNodeRemoved`, after which the node stops talking to
/// the metadata (it keeps serving chunks until the operator stops it). Ends at graceful shutdown.
public struct BlobMapMembership: Service {
    /// What the node reports of its disks: total bytes, free bytes, and whether its stores accept writes.
    public typealias SpaceReport = @Sendable () -> (capacityBytes: UInt64, freeBytes: UInt64, healthy: Bool)

    let metaAddresses: [PeerAddress]
    let secret: ClusterSecret
    let registration: BlobNodeRegistration
    let space: SpaceReport
    let logger: Logger

    /// `registration.capacityBytes` is replaced by `space()` at each registration.
    public init(
        metaAddresses: [PeerAddress], secret: ClusterSecret, registration: BlobNodeRegistration, logger: Logger,
        space: @escaping SpaceReport
    ) {
        precondition(!metaAddresses.isEmpty, "no metadata addresses")
        self.metaAddresses = metaAddresses
        self.secret = secret
        self.registration = registration
        self.space = space
        self.logger = logger
    }

    public func run() async throws {
        var options = RemoteMetaLog.Options()
        // Short, so that a node stops promptly on SIGTERM even while the metadata group does not answer; a
        // registration that gave up is tried again at the next beat.
        options.proposalDeadline = BlobMapLimits.registrationDeadline
        let remote = RemoteMetaLog(
            addresses: metaAddresses, secret: secret, group: MultiThreadedEventLoopGroup.singleton, logger: logger,
            options: options)
        remote.startRefreshingMembers(every: GatewayNode.memberRefreshInterval)
        var registered = false
        var problems = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let report = space()
            do throws(MetaError) {
                if registered {
                    registered = try await remote.sendHeartbeat(
                        BlobHeartbeat(
                            node: registration.id, capacityBytes: report.capacityBytes, freeBytes: report.freeBytes,
                            healthy: report.healthy))
                    if !registered { logger.notice("the cluster map does not hold this node: registering again") }
                } else {
                    var registration = self.registration
                    registration.capacityBytes = report.capacityBytes
                    try await remote.registerBlobNode(registration)
                    registered = true
                    // The first heartbeat follows at once, so the leader holds the node's report from the start.
                    problems = 0
                    continue
                    logger.notice(
                        "registered in the blob cluster map",
                        metadata: [
                            "node": "\(registration.id)", "address": "\(registration.address)",
                            "zone": "\(registration.zone ?? "-")", "weight": "\(registration.weight)",
                        ])
                }
                problems = 0
            } catch .blobNodeRemoved(_) {
                logger.error(
                    "this node was removed from the cluster map; it no longer registers or sends heartbeats",
                    metadata: ["node": "\(registration.id)"])
                break
            } catch {
                problems += 1
                // Powers of two: a long outage of the metadata does not flood the log.
                if problems & (problems - 1) == 0 {
                    logger.warning(
                        registered ? "blob heartbeat failed" : "blob registration failed",
                        metadata: ["error": "\(error)", "attempt": "\(problems)"])
                }
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: BlobMapLimits.heartbeatInterval) }
        }
        await remote.close()
    }
}

public import ClusterAuth
import Foundation
import Gateway
public import Logging
import MetaQuorum
import NIOCore
import NIOPosix
public import RaftKit
import ServiceLifecycle

/// `silo meta`: one metadata replica of a RaftKit group (3 or 5 voters, or a learner that joins), serving
/// gateways over the metadata RPC.
///
/// Layout of the data directory: `meta.sqlite` (the state machine) and `raft/` (WAL, snapshots, LOCK).
/// Start-up order: open the state machine → start Raft (recover the WAL, listen on the Raft address) → serve
/// the metadata RPC → `onReady` → on SIGINT/SIGTERM stop the RPC, then Raft, then the database.
public enum MetaNode {
    public struct Options: Sendable {
        public var id: UInt64 = 0
        public var dataDirectory = "./silo-meta"
        /// Where this replica serves Raft (its entry in `peers` must match).
        public var raftAddress = PeerAddress(host: "127.0.0.1", port: 0)
        /// Where this replica serves the metadata RPC to gateways.
        public var apiAddress = PeerAddress(host: "127.0.0.1", port: 0)
        /// Raft addresses of the initial voters, this replica included; with `join`, of the running group's
        /// members (this node's own entry is then `raftAddress`).
        public var peers: [UInt64: PeerAddress] = [:]
        /// Join a running group as a learner instead of bootstrapping (the leader must add it first).
        public var join = false
        /// The secret gateways prove they hold and that authenticates Raft frames (required).
        public var clusterSecret: ClusterSecret?
        /// Where to serve `GET /metrics` (nil: nowhere).
        public var metricsAddress: PeerAddress?
        public init() {}
    }

    /// Runs until SIGINT or SIGTERM. `onReady` gets the bound Raft and RPC ports.
    public static func run(_ options: Options, logger: Logger,
                           onReady: @escaping @Sendable (_ raftPort: Int, _ apiPort: Int) -> Void) async throws {
        guard options.id != 0 else { throw ConfigurationError("--id must be a nonzero node id") }
        guard let secret = options.clusterSecret else {
            throw ConfigurationError("a cluster secret is required (SILO_CLUSTER_SECRET or --cluster-secret-file)")
        }
        var members = options.peers
        if options.join {
            // The group's members, to answer them; this node's own entry is where it listens.
            members[options.id] = options.raftAddress
        } else {
            guard let listed = members[options.id] else {
                throw ConfigurationError("--peers must include this node (\(options.id))")
            }
            guard listed.port == options.raftAddress.port || options.raftAddress.port == 0 else {
                throw ConfigurationError("--raft \(options.raftAddress) does not match this node's entry in --peers (\(listed))")
            }
        }
        var configuration = MetaReplicaConfiguration(id: options.id, directory: options.dataDirectory, members: members)
        configuration.join = options.join
        configuration.observer = RaftMetrics()
        configuration.peerSecret = secret
        let group = MultiThreadedEventLoopGroup.singleton
        let replica: RaftMetaLog
        do {
            replica = try await RaftMetaLog.start(configuration, logger: logger, group: group)
        } catch let error as RaftServerError {
            throw ConfigurationError("metadata replica in \(options.dataDirectory) cannot start: \(error)")
        }
        let liveness = BlobLivenessMonitor(replica: replica, logger: logger)
        let rpc: MetaRPCServer
        do {
            rpc = try await MetaRPCServer.start(
                replica: replica, host: options.apiAddress.host, port: options.apiAddress.port,
                secret: secret, group: group, logger: logger, liveness: liveness)
        } catch {
            await replica.close()
            throw ConfigurationError("cannot serve the metadata RPC on \(options.apiAddress): \(error)")
        }
        onReady(replica.raftPort ?? options.raftAddress.port, rpc.port)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: UntilShutdown()),
            .init(service: RaftStatusPoller(driver: replica.driver), successTerminationBehavior: .ignore,
                  failureTerminationBehavior: .ignore),
            .init(service: BlobLivenessService(monitor: liveness), successTerminationBehavior: .ignore,
                  failureTerminationBehavior: .ignore),
        ]
        let advertised = PeerAddress(host: options.apiAddress.host, port: rpc.port)
        if ["0.0.0.0", "::", ""].contains(advertised.host) {
            logger.notice("the metadata RPC listens on a wildcard address: not published to gateways",
                          metadata: ["address": "\(advertised)"])
        } else {
            services.append(.init(
                service: MemberAddressPublisher(replica: replica, address: advertised, secret: secret, group: group,
                                                logger: logger),
                successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore))
        }
        if let metrics = options.metricsAddress {
            services.append(.init(service: SiloMetrics.endpoint(host: metrics.host, port: metrics.port, logger: logger)))
        }
        let serviceGroup = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await serviceGroup.run()
        } catch {
            logger.error("metadata node stopping on an error", metadata: ["error": "\(error)"])
        }
        await rpc.close()
        await replica.close()
    }
}

/// Publishes this replica's metadata RPC address in the replicated metadata (`RaftMetaLog.publishAPIAddress`):
/// every second until this replica has applied it, then every 30 s (in case the table lost it: a member
/// removed and added back under the same id).
struct MemberAddressPublisher: Service {
    let replica: RaftMetaLog
    let address: PeerAddress
    let secret: ClusterSecret
    let group: any EventLoopGroup
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let done = await replica.publishAPIAddress(address, secret: secret, group: group, logger: logger)
            // The wait ends at shutdown too, so that SIGTERM stops the node at once.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: done ? .seconds(30) : .seconds(1)) }
        }
    }
}

/// Runs the blob nodes' liveness checks (`BlobLivenessMonitor`) until shutdown; they propose only while this
/// replica leads.
struct BlobLivenessService: Service {
    let monitor: BlobLivenessMonitor

    func run() async throws {
        // Cancelled at shutdown, which ends the monitor's sleep at once.
        await cancelWhenGracefulShutdown { await monitor.run() }
    }
}

/// A service that only waits for the graceful shutdown signal (the node's work runs in its own tasks).
struct UntilShutdown: Service {
    func run() async throws {
        try await gracefulShutdown()
    }
}

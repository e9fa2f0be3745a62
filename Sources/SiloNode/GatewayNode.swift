public import ClusterAuth
import BlobNode
import Foundation
public import Gateway
public import Logging
import MetaQuorum
import NIOCore
import NIOPosix
import Placement
public import RaftKit
import ServiceLifecycle

/// `silo gateway`: a stateless S3 front end of a cluster. Metadata through `RemoteMetaLog` to the metadata
/// replicas, bytes through `RemoteChunkStore`s to the blob nodes, placed by the ring of the cluster map in the
/// metadata (`BlobMapFollower`, refreshed every `blobMapRefreshInterval`), or of a fixed `--blob` list when one
/// is given (every gateway with the same map epoch or list places a chunk on the same node; reads follow the
/// nodes recorded in the object's metadata).
///
/// Start-up order: connect lazily to every node → make sure the root user holds the configured keys
/// (retried until the metadata group answers) → serve S3 and the gateway's background workers → on
/// SIGINT/SIGTERM stop accepting, finish, close the connections.
public enum GatewayNode {
    /// How often a gateway asks the metadata group for its members' published addresses.
    static let memberRefreshInterval: Duration = .seconds(5)
    /// How often a gateway that follows the cluster map reads it (a node added or marked down reaches new
    /// requests within about this long).
    static let blobMapRefreshInterval: Duration = .seconds(5)

    public struct Options: Sendable {
        public var host = "127.0.0.1"
        public var port = 9000
        /// The metadata replicas' RPC addresses.
        public var metaAddresses: [PeerAddress] = []
        /// Blob nodes by id: a fixed map. Empty: follow the cluster map in the metadata.
        public var blobNodes: [UInt32: PeerAddress] = [:]
        /// Failure domains of blob nodes (rack, room): copies of a chunk go to distinct labelled zones first.
        public var blobZones: [UInt32: String] = [:]
        /// Capacity weights of blob nodes (default 1): a node takes new chunks in proportion; 0 takes none
        /// (draining: it still serves what it holds).
        public var blobWeights: [UInt32: Int] = [:]
        /// Copies of each chunk (nil: 3, or every node when there are fewer).
        public var replicaCount: Int?
        /// The secret the metadata replicas and blob nodes challenge for (required).
        public var clusterSecret: ClusterSecret?
        /// The root user's keys, ensured once the metadata answers (nil: leave the root user as it is).
        public var rootAccessKeyID: String?
        public var rootSecretAccessKey: String?
        public var gateway = GatewayConfiguration()
        /// Where to serve `GET /metrics` (nil: nowhere).
        public var metricsAddress: PeerAddress?
        public init() {}
    }

    /// Virtual nodes per unit of weight in the gateway's ring.
    static let ringVnodesPerWeightUnit = 64

    public static func run(_ options: Options, logger: Logger, onReady: @escaping @Sendable () -> Void) async throws {
        MetaLimits.validate()
        GatewayConfiguration.checkLimitRelations()
        try options.gateway.validate()
        guard !options.metaAddresses.isEmpty else { throw ConfigurationError("--meta lists no metadata replica") }
        guard let secret = options.clusterSecret else {
            throw ConfigurationError("a cluster secret is required (SILO_CLUSTER_SECRET or --cluster-secret-file)")
        }
        if options.blobNodes.isEmpty {
            guard options.blobZones.isEmpty, options.blobWeights.isEmpty else {
                throw ConfigurationError("--blob-zone and --blob-weight go with --blob (the cluster map has its own)")
            }
            if let replicas = options.replicaCount, !(1...MetaLimits.durabilityReplicasMax).contains(replicas) {
                throw ConfigurationError("--replicas \(replicas) must be 1...\(MetaLimits.durabilityReplicasMax)")
            }
        }
        let group = MultiThreadedEventLoopGroup.singleton
        let remote = RemoteMetaLog(addresses: options.metaAddresses, secret: secret, group: group,
                                   logger: logger)
        // Members added to the group after this gateway started (or missing from --meta) join its rotation.
        remote.startRefreshingMembers(every: GatewayNode.memberRefreshInterval)
        let clusters: BlobClusterSource
        var services: [any Service] = options.metricsAddress.map {
            [SiloMetrics.endpoint(host: $0.host, port: $0.port, logger: logger)]
        } ?? []
        let closeStores: @Sendable () async -> Void
        if options.blobNodes.isEmpty {
            let follower = BlobMapFollower(
                remote: remote, secret: secret, group: group, replicaCount: options.replicaCount,
                vnodesPerWeightUnit: ringVnodesPerWeightUnit, interval: blobMapRefreshInterval, logger: logger)
            clusters = try await follower.start()
            services.append(BlobMapFollowing(follower: follower))
            closeStores = { await follower.close() }
        } else {
            let cluster: BlobCluster
            let remotes: [RemoteChunkStore]
            do {
                (cluster, remotes) = try staticCluster(options, secret: secret, group: group)
            } catch {
                await remote.close()
                throw error
            }
            clusters = BlobClusterSource(cluster)
            closeStores = { for store in remotes { await store.close() } }
        }
        let metadata = EmbeddedMetadataService(remote: remote, logger: logger)
        do {
            if let accessKeyID = options.rootAccessKeyID, let secretKey = options.rootSecretAccessKey {
                try Credentials.validate(accessKeyID: accessKeyID, secretAccessKey: secretKey)
                try await ensureRootUserPatiently(accessKeyID: accessKeyID, secretAccessKey: secretKey,
                                                  metadata: metadata, logger: logger)
            }
            try await GatewayServer.serve(
                metadata: metadata, clusters: clusters, configuration: options.gateway, host: options.host,
                port: options.port, logger: logger, additionalServices: services, onReady: onReady)
        } catch {
            await metadata.close()
            await closeStores()
            throw error
        }
        await metadata.close()
        await closeStores()
    }

    /// The fixed cluster of the `--blob` list, and its stores (to close at the end).
    private static func staticCluster(_ options: Options, secret: ClusterSecret, group: any EventLoopGroup) throws
        -> (BlobCluster, [RemoteChunkStore])
    {
        var stores: [UInt32: any ChunkStoring] = [:]
        var remotes: [RemoteChunkStore] = []
        for (id, address) in options.blobNodes.sorted(by: { $0.key < $1.key }) {
            do {
                let store = try RemoteChunkStore(host: address.host, port: address.port, secret: secret, group: group)
                stores[id] = store
                remotes.append(store)
            } catch {
                throw ConfigurationError("blob node \(id) at \(address): \(error)")
            }
        }
        for id in Set(options.blobZones.keys).union(options.blobWeights.keys) where options.blobNodes[id] == nil {
            throw ConfigurationError("blob node \(id) has a zone or weight but is not in --blob")
        }
        if let (id, weight) = options.blobWeights.first(where: { $0.value < 0 }) {
            throw ConfigurationError("blob node \(id) has weight \(weight); weights are 0 (draining) or more")
        }
        let ringNodes = options.blobNodes.keys.sorted().map {
            RingNode(id: $0, zone: options.blobZones[$0], weight: options.blobWeights[$0] ?? 1)
        }
        let ring: Ring
        do {
            ring = try Ring(epoch: 1, nodes: ringNodes, vnodesPerWeightUnit: ringVnodesPerWeightUnit)
        } catch {
            throw ConfigurationError("the blob ring cannot be built: \(error)")
        }
        let takingWrites = ringNodes.filter { $0.weight > 0 }.count
        let replicas = options.replicaCount ?? min(3, takingWrites)
        guard replicas >= 1, replicas <= takingWrites else {
            throw ConfigurationError(
                "--replicas \(replicas) must be 1...\(takingWrites) (the blob nodes listed with a weight above 0)")
        }
        return (BlobCluster(ring: ring, stores: stores, replicaCount: replicas), remotes)
    }

    /// Retries until the metadata group answers: a gateway may start before its metadata replicas.
    private static func ensureRootUserPatiently(
        accessKeyID: String, secretAccessKey: String, metadata: EmbeddedMetadataService, logger: Logger
    ) async throws {
        var attempt = 0
        while true {
            do {
                try await GatewayServer.ensureRootUser(
                    accessKeyID: accessKeyID, secretAccessKey: secretAccessKey, metadata: metadata)
                return
            } catch let error as MetaError where isRetryable(error) {
                attempt += 1
                if attempt & (attempt - 1) == 0 {
                    logger.warning("waiting for the metadata group", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// No quorum yet, or an outcome to learn by asking again (the ensure step is idempotent).
    private static func isRetryable(_ error: MetaError) -> Bool {
        switch error {
        case .unavailable, .outcomeUnknown: true
        default: false
        }
    }
}

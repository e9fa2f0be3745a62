import BlobNode
public import ClusterAuth
public import Gateway
public import Logging
import Metrics
public import MetaQuorum
public import NIOCore
import Placement
import RaftKit
public import ServiceLifecycle

/// Keeps a gateway's blob cluster in step with the cluster map in the metadata (`silo gateway` without
/// `--blob`): reads the map every `interval`, and on a new epoch builds the whole `BlobCluster` of that epoch
/// (ring and stores) and swaps it into the `BlobClusterSource` at once. Requests in flight keep the cluster
/// they started with.
///
/// Stores: a `RemoteChunkStore` per node of the map, removed nodes included (objects may still name them);
/// one that is kept across epochs is the same client, so its pooled connections stay. A node whose address
/// changed gets a new client; the old one is closed only at `close()`, since requests in flight may still hold
/// it. A node whose address does not parse is left out of the ring (and logged).
///
/// Lifecycle: `start()` (retries until the metadata answers), share `source`, `run()` as a service, `close()`.
public actor BlobMapFollower {
    private let remote: RemoteMetaLog
    private let secret: ClusterSecret
    private let group: any EventLoopGroup
    private let replicaCount: Int?
    private let vnodesPerWeightUnit: Int
    private let interval: Duration
    private let logger: Logger
    private var stores: [UInt32: (address: String, store: RemoteChunkStore)] = [:]
    private var retired: [RemoteChunkStore] = []
    private var source: BlobClusterSource?

    public init(
        remote: RemoteMetaLog, secret: ClusterSecret, group: any EventLoopGroup, replicaCount: Int?,
        vnodesPerWeightUnit: Int, interval: Duration, logger: Logger
    ) {
        self.remote = remote
        self.secret = secret
        self.group = group
        self.replicaCount = replicaCount
        self.vnodesPerWeightUnit = vnodesPerWeightUnit
        self.interval = interval
        self.logger = logger
    }

    /// Reads the map until the metadata answers and returns the source of its cluster (an empty map gives a
    /// cluster that takes no writes until nodes register).
    public func start() async throws -> BlobClusterSource {
        precondition(source == nil, "BlobMapFollower started twice")
        var attempt = 0
        while true {
            do throws(MetaError) {
                let map = try await remote.blobMap()
                let started = BlobClusterSource(build(map))
                source = started
                return started
            } catch {
                attempt += 1
                if attempt & (attempt - 1) == 0 {
                    logger.warning(
                        "waiting for the blob cluster map", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// One read of the map; swaps the cluster when the epoch moved forward.
    public func refresh() async {
        guard let source else { return }
        let map: BlobMap
        do throws(MetaError) {
            map = try await remote.blobMap()
        } catch {
            logger.debug("blob cluster map not read", metadata: ["error": "\(error)"])
            return
        }
        let current = source.current.ring.epoch
        guard map.epoch != current else { return }
        guard map.epoch > current else {
            logger.warning(
                "the blob cluster map went back an epoch; keeping the newer ring",
                metadata: ["map": "\(map.epoch)", "ring": "\(current)"])
            return
        }
        source.replace(with: build(map))
    }

    /// Refreshes every `interval` until cancelled.
    public func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard !Task.isCancelled else { return }
            await refresh()
        }
    }

    public func close() async {
        for store in stores.values.map(\.store) + retired { await store.close() }
        stores = [:]
        retired = []
    }

    /// The cluster of `map`, opening clients for nodes not seen before (or at a new address).
    private func build(_ map: BlobMap) -> BlobCluster {
        var usable: [BlobNodeRecord] = []
        for node in map.nodes {
            if let known = stores[node.id], known.address == node.address {
                usable.append(node)
                continue
            }
            guard let address = PeerAddress(parsing: node.address),
                let store = try? RemoteChunkStore(host: address.host, port: address.port, secret: secret, group: group)
            else {
                logger.error(
                    "blob node address unusable; the node is left out of the ring",
                    metadata: ["node": "\(node.id)", "address": "\(node.address)"])
                continue
            }
            if let old = stores[node.id] { retired.append(old.store) }
            stores[node.id] = (node.address, store)
            usable.append(node)
        }
        let usableMap = BlobMap(epoch: map.epoch, nodes: usable)
        let ring: Ring
        do {
            ring = try BlobCluster.ring(for: usableMap, vnodesPerWeightUnit: vnodesPerWeightUnit)
        } catch {
            // Map fields are validated at apply (ids unique, weights bounded), so only a vnode total above
            // Placement's limit gets here.
            logger.error(
                "the blob ring of the map cannot be built; no node takes writes",
                metadata: ["epoch": "\(map.epoch)", "error": "\(error)"])
            ring = try! Ring(epoch: map.epoch, nodes: [], vnodesPerWeightUnit: vnodesPerWeightUnit)
        }
        let replicas = BlobCluster.defaultReplicaCount(for: usableMap, configured: replicaCount)
        var clusterStores: [UInt32: any ChunkStoring] = [:]
        for node in usable { clusterStores[node.id] = stores[node.id]?.store }
        Gauge(label: "silo_blob_ring_epoch").record(Int64(bitPattern: map.epoch))
        Gauge(label: "silo_blob_nodes_taking_writes").record(ring.nodes.filter { $0.weight > 0 }.count)
        logger.notice(
            "blob cluster map",
            metadata: [
                "epoch": "\(map.epoch)", "replicas": "\(replicas)",
                "nodes": "\(usable.map { "\($0.id)=\($0.state)" }.joined(separator: ","))",
            ])
        return BlobCluster(ring: ring, stores: clusterStores, replicaCount: replicas)
    }
}

/// Runs a `BlobMapFollower` until graceful shutdown.
public struct BlobMapFollowing: Service {
    let follower: BlobMapFollower

    public init(follower: BlobMapFollower) {
        self.follower = follower
    }

    public func run() async throws {
        // Cancelled at shutdown, which ends the follower's sleep at once.
        await cancelWhenGracefulShutdown { await follower.run() }
    }
}

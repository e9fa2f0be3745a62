public import BlobContract
import MetaContract
public import Placement

/// The blob nodes a gateway writes to and reads from, and the ring that places chunks on them.
///
/// Promises: `place` is a pure function of the ring (every gateway with the same ring epoch places a chunk
/// on the same nodes); `store(for:)` answers every node id the ring can return.
/// Callers: `ObjectBodyWriter` places and writes chunks (copies, or erasure-coded shards on distinct nodes),
/// `ObjectBodyReader` reads them from the nodes recorded in the object's metadata (not from the ring, which
/// may have changed since). `replicaCount` is the default for buckets that set no durability.
public struct BlobCluster: Sendable {
    public let ring: Ring
    public let replicaCount: Int
    private let stores: [UInt32: any ChunkStoring]

    /// - Precondition: every node of `ring` has a store, and the ring has at least `replicaCount` nodes.
    public init(ring: Ring, stores: [UInt32: any ChunkStoring], replicaCount: Int) {
        precondition(replicaCount >= 1, "replicaCount \(replicaCount) < 1")
        self.ring = ring
        self.stores = stores
        self.replicaCount = replicaCount
    }

    func place(_ chunkID: ChunkID) -> [UInt32] {
        let nodes = ring.place(chunkID, replicas: replicaCount)
        precondition(nodes.count == replicaCount, "ring placed \(nodes.count) of \(replicaCount) replicas")
        return nodes
    }

    /// Every node of the ring in this chunk's order: the first `replicaCount` are its placement, the rest
    /// the fallbacks when one of those cannot take it.
    func preference(_ chunkID: ChunkID) -> [UInt32] {
        ring.place(chunkID, replicas: stores.count)
    }

    /// The nodes the ring places chunks on (weight above zero): the most copies or shards one chunk can have.
    var writableNodeCount: Int {
        ring.place(0, replicas: stores.count).count
    }

    func store(for node: UInt32) -> (any ChunkStoring)? {
        stores[node]
    }

    /// Every store, in node id order (for the garbage collector and the sweeper).
    var allStores: [(node: UInt32, store: any ChunkStoring)] {
        stores.keys.sorted().map { ($0, stores[$0]!) }
    }
}

public import BlobContract
public import MetaContract
public import Placement
import Synchronization

/// The blob cluster a gateway uses for new requests, replaced as a whole when the cluster map moves to a new
/// epoch (`BlobMapFollower` in `silo gateway`), or fixed for the gateway's life (`--blob`, `silo server`).
///
/// Promises: `current` is always a complete `BlobCluster` (ring and stores of one epoch, never a mix); a
/// request that read it keeps that value to its end, so a swap never changes the placement of a request in
/// flight. Reads still follow the nodes recorded in each object's metadata, whatever the current ring.
/// Callers: `S3Gateway` and its background workers read `current` once per request or pass.
public final class BlobClusterSource: Sendable {
    private let cluster: Mutex<BlobCluster>

    public init(_ cluster: BlobCluster) {
        self.cluster = Mutex(cluster)
    }

    public var current: BlobCluster { cluster.withLock { $0 } }

    /// Makes `next` the cluster of every request that starts from now on.
    /// - Precondition: `next`'s ring epoch is later than the current one's.
    public func replace(with next: BlobCluster) {
        cluster.withLock { current in
            precondition(
                next.ring.epoch > current.ring.epoch,
                "blob ring epoch \(next.ring.epoch) replaces epoch \(current.ring.epoch)")
            current = next
        }
    }
}

extension BlobCluster {
    /// The ring a cluster map describes: every node of the map, with its zone, and its weight while it is up
    /// (`BlobNodeRecord.placementWeight`): down, draining and removed nodes take no new chunks and are no
    /// write fallbacks either, while their stores stay open for the chunks recorded on them.
    public static func ring(for map: BlobMap, vnodesPerWeightUnit: Int) throws(RingError) -> Ring {
        try Ring(
            epoch: map.epoch,
            nodes: map.nodes.map { RingNode(id: $0.id, zone: $0.zone, weight: $0.placementWeight) },
            vnodesPerWeightUnit: vnodesPerWeightUnit)
    }

    /// How many copies a bucket without its own durability gets from `map`: `configured`, or 3, fewer only
    /// when the cluster has fewer members (nodes up or down: those meant to hold data; draining and removed
    /// ones are leaving). A node that is merely down does not lower it: writes that cannot place every copy
    /// are refused (503, `ObjectBodyWriter.plan`) rather than stored with fewer copies that nothing would
    /// restore later. At least 1, so that an empty map still builds (its writes are refused the same way).
    public static func defaultReplicaCount(for map: BlobMap, configured: Int?) -> Int {
        if let configured { return configured }
        return max(1, min(3, map.nodes.filter { $0.state == .up || $0.state == .down }.count))
    }
}

import BlobNode
import MetaQuorum
import Placement
import Testing

@testable import Gateway

/// Goal: a gateway that follows the cluster map places new chunks only on nodes that are up (down, draining
/// and removed nodes are out of the ring, not fallbacks), picks its default copies from the nodes up, and
/// swaps its cluster whole: a request that read the old cluster keeps it. Method: hand-built maps, in-memory
/// stores (`MemoryStores`) for every node of the map, as `BlobMapFollower` opens one for every node.
@Suite("Blob cluster from the map")
struct BlobClusterSourceTests {
    func map(epoch: UInt64, _ states: [BlobNodeState]) -> BlobMap {
        BlobMap(
            epoch: epoch,
            nodes: states.enumerated().map { index, state in
                BlobNodeRecord(
                    id: UInt32(index + 1), address: "127.0.0.1:\(7000 + index)", zone: nil, weight: 2,
                    capacityBytes: 0, state: state, changedTime: 0)
            })
    }

    func cluster(_ map: BlobMap, replicas: Int? = nil) throws -> BlobCluster {
        let ring = try BlobCluster.ring(for: map, vnodesPerWeightUnit: 16)
        let memory = MemoryStores()
        var stores: [UInt32: any ChunkStoring] = [:]
        for node in map.nodes { stores[node.id] = MemoryStores.Store(node: node.id, stores: memory) }
        return BlobCluster(
            ring: ring, stores: stores,
            replicaCount: BlobCluster.defaultReplicaCount(for: map, configured: replicas))
    }

    @Test func onlyNodesThatAreUpTakeNewChunks() throws {
        let mixed = try cluster(map(epoch: 9, [.up, .down, .draining, .removed, .up]))
        #expect(mixed.ring.epoch == 9)
        #expect(mixed.ring.nodes.map(\.weight) == [2, 0, 0, 0, 2])
        #expect(mixed.writableNodeCount == 2)
        // Three members (two up, one down): three copies, which the two up cannot take, so writes wait
        // (503) rather than keep two copies that no repair would bring back to three.
        #expect(mixed.replicaCount == 3)
        for chunk in 0..<200 {
            #expect(Set(mixed.preference(UInt128(chunk))) == [1, 5])
        }
        #expect(try cluster(map(epoch: 1, [.up, .up, .up, .up])).replicaCount == 3)
        #expect(try cluster(map(epoch: 1, [.up, .up, .up, .up]), replicas: 2).replicaCount == 2)
        // An empty map still builds: no node takes writes, so the durability check refuses them.
        let empty = try cluster(BlobMap(epoch: 0, nodes: []))
        #expect(empty.writableNodeCount == 0)
        #expect(empty.replicaCount == 1)
    }

    @Test func aSwapReachesNewRequestsOnly() throws {
        let source = BlobClusterSource(try cluster(map(epoch: 1, [.up, .up])))
        let pinned = source.current
        source.replace(with: try cluster(map(epoch: 2, [.up, .down])))
        #expect(source.current.ring.epoch == 2)
        #expect(source.current.writableNodeCount == 1)
        #expect(pinned.ring.epoch == 1)
        #expect(pinned.writableNodeCount == 2)
    }
}

/// A storage node as the ring sees it.
public struct RingNode: Sendable, Hashable {
    /// The node's id in the cluster membership (unique within a ring).
    public var id: UInt32
    /// The failure domain (rack, room, availability zone), if labelled. Placement puts replicas in distinct
    /// labelled zones before it doubles up; an unlabelled node counts as a zone of its own.
    public var zone: String?
    /// Capacity in whole units; the node gets `weight × vnodesPerWeightUnit` vnodes. 0 takes no chunks
    /// (a node being drained).
    public var weight: Int

    public init(id: UInt32, zone: String?, weight: Int) {
        self.id = id
        self.zone = zone
        self.weight = weight
    }
}

/// Why a ring could not be built from a membership.
public enum RingError: Error, Sendable, Equatable {
    case duplicateNodeID(UInt32)
    case negativeWeight(UInt32, Int)
    case vnodesPerWeightUnitOutOfRange(Int)
    case tooManyNodes(Int)
    case tooManyVnodes(Int)
}

/// Consistent hashing with virtual nodes: the pure placement function every gateway evaluates the same way.
///
/// Each node owns `weight × vnodesPerWeightUnit` points on a 64-bit circle, at
/// `XXHash64(nodeID LE ‖ vnodeIndex LE)`. A chunk hashes to `XXHash64(chunkID LE)`; its replicas are the
/// distinct nodes met walking clockwise from there, taking nodes of not-yet-used zones first and then the
/// skipped nodes in walk order. Deterministic across processes and platforms: no `Hasher`, no dictionary
/// order, ties on the circle broken by node id. Adding or removing a node moves only the chunks whose walk
/// meets it (about 1/N of them). The ring is part of the replicated state and versioned by `epoch`.
public struct Ring: Sendable {
    /// The version of the membership this ring was built from (stamped by the metadata service).
    public let epoch: UInt64
    /// The members, ascending by id.
    public let nodes: [RingNode]
    public let vnodesPerWeightUnit: Int
    /// Vnode positions, ascending. Invariant: points.count == owners.count; ties ordered by node id.
    private let points: [UInt64]
    /// Index into `nodes` of each vnode's owner.
    private let owners: [UInt32]
    /// How many distinct replicas zones allow before placement must double up a zone.
    private let zoneSlotCount: Int
    private let eligibleNodeCount: Int

    /// Builds the ring. Throws on duplicate ids, a negative weight, or a ring above the size limits.
    public init(epoch: UInt64, nodes: [RingNode], vnodesPerWeightUnit: Int) throws(RingError) {
        guard vnodesPerWeightUnit >= 1, vnodesPerWeightUnit <= Limits.vnodesPerWeightUnitMax else {
            throw .vnodesPerWeightUnitOutOfRange(vnodesPerWeightUnit)
        }
        guard nodes.count <= Limits.nodesMax else { throw .tooManyNodes(nodes.count) }
        let sorted = nodes.sorted { $0.id < $1.id }
        var vnodeCount = 0
        for (index, node) in sorted.enumerated() {
            if index > 0 && sorted[index - 1].id == node.id { throw .duplicateNodeID(node.id) }
            guard node.weight >= 0 else { throw .negativeWeight(node.id, node.weight) }
            let (product, overflow) = node.weight.multipliedReportingOverflow(by: vnodesPerWeightUnit)
            vnodeCount += overflow ? Limits.vnodesTotalMax + 1 : product
            guard vnodeCount <= Limits.vnodesTotalMax else { throw .tooManyVnodes(vnodeCount) }
        }
        var vnodes: [(point: UInt64, owner: UInt32)] = []
        vnodes.reserveCapacity(vnodeCount)
        for (index, node) in sorted.enumerated() {
            for vnode in 0..<(node.weight * vnodesPerWeightUnit) {
                vnodes.append((Self.vnodePoint(nodeID: node.id, vnode: UInt32(vnode)), UInt32(index)))
            }
        }
        vnodes.sort { $0.point != $1.point ? $0.point < $1.point : $0.owner < $1.owner }
        let eligible = sorted.filter { $0.weight > 0 }
        var labelledZones: [String] = eligible.compactMap(\.zone)
        labelledZones.sort()
        var distinctZoneCount = 0
        for (index, zone) in labelledZones.enumerated() where index == 0 || labelledZones[index - 1] != zone {
            distinctZoneCount += 1
        }
        self.epoch = epoch
        self.nodes = sorted
        self.vnodesPerWeightUnit = vnodesPerWeightUnit
        self.points = vnodes.map(\.point)
        self.owners = vnodes.map(\.owner)
        self.eligibleNodeCount = eligible.count
        self.zoneSlotCount = distinctZoneCount + eligible.filter { $0.zone == nil }.count
    }

    /// The position of a node's `vnode`-th point.
    static func vnodePoint(nodeID: UInt32, vnode: UInt32) -> UInt64 {
        let key = UInt64(nodeID) | UInt64(vnode) << 32
        return withUnsafeBytes(of: key.littleEndian) { XXHash64.hash($0) }
    }

    /// The position of a chunk.
    static func chunkPoint(_ chunkID: UInt128) -> UInt64 { XXHash64.hash(chunkID) }

    /// The ids of the nodes that should hold `chunkID`, primary first: `min(replicas, nodes with weight > 0)`
    /// distinct nodes, in distinct zones as far as the labelled zones allow.
    public func place(_ chunkID: UInt128, replicas: Int) -> [UInt32] {
        precondition(replicas >= 0, "negative replica count \(replicas)")
        let target = min(replicas, self.eligibleNodeCount)
        var chosen: [UInt32] = []
        guard target > 0 else { return chosen }
        let zoneTarget = min(target, self.zoneSlotCount)
        var deferred: [UInt32] = []
        var seen = Set<UInt32>()
        var usedZones = Set<String>()
        let start = self.firstPoint(atOrAfter: Self.chunkPoint(chunkID))
        for step in 0..<self.points.count {
            let node = self.nodes[Int(self.owners[(start + step) % self.points.count])]
            guard seen.insert(node.id).inserted else { continue }
            if let zone = node.zone, !usedZones.insert(zone).inserted {
                deferred.append(node.id)
            } else {
                chosen.append(node.id)
            }
            // Every zone used: no later node can be zone-new, so the earliest deferred nodes complete the set.
            if chosen.count == target || (chosen.count == zoneTarget && chosen.count + deferred.count >= target) {
                break
            }
        }
        chosen.append(contentsOf: deferred.prefix(target - chosen.count))
        precondition(chosen.count == target, "placed \(chosen.count) of \(target) replicas")
        return chosen
    }

    /// Binary search: the index of the first vnode at or after `point`, wrapping to 0 past the last.
    private func firstPoint(atOrAfter point: UInt64) -> Int {
        var low = 0
        var high = self.points.count
        while low < high {
            let middle = (low + high) / 2
            if self.points[middle] < point { low = middle + 1 } else { high = middle }
        }
        return low == self.points.count ? 0 : low
    }
}

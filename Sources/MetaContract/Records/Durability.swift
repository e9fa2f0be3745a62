/// How a bucket keeps the chunks of objects written from now on: full copies on `replicas` nodes, or a
/// Reed–Solomon stripe of `dataShards` data and `parityShards` parity shards on that many distinct nodes
/// (any `dataShards` of them rebuild the chunk). Objects keep the layout they were written with, recorded in
/// each `ChunkRef`, so changing a bucket's durability never rewrites or misreads older objects.
///
/// Text form (the admin command's argument and `description`): `replicas:N` or `ec:K+M`.
public enum BucketDurability: Sendable, Equatable, Hashable, CustomStringConvertible {
    case replicas(Int)
    case erasure(dataShards: Int, parityShards: Int)

    /// Parses `replicas:N` or `ec:K+M` (decimal digits only, within `MetaLimits`); `.invalidArgument` with
    /// what is accepted otherwise.
    public init(parsing text: String) throws(MetaError) {
        func number(_ digits: Substring) -> Int? {
            guard (1...3).contains(digits.utf8.count), digits.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
                return nil
            }
            return Int(digits)
        }
        let (replicasMax, dataMax) = (MetaLimits.durabilityReplicasMax, MetaLimits.erasureDataShardsMax)
        let usage =
            "durability must be replicas:N (1–\(replicasMax)) or ec:K+M (K 1–\(dataMax), "
            + "M 1–\(MetaLimits.erasureParityShardsMax)), not \"\(text.prefix(40))\""
        guard text.utf8.count <= 32 else { throw .invalidArgument(usage) }
        if text.hasPrefix("replicas:"), let count = number(text.dropFirst("replicas:".count)) {
            self = .replicas(count)
        } else if text.hasPrefix("ec:") {
            let parts = text.dropFirst(3).split(separator: "+", omittingEmptySubsequences: false)
            guard parts.count == 2, let k = number(parts[0]), let m = number(parts[1]) else {
                throw .invalidArgument(usage)
            }
            self = .erasure(dataShards: k, parityShards: m)
        } else {
            throw .invalidArgument(usage)
        }
        do { try validate() } catch { throw .invalidArgument(usage) }
    }

    /// Refuses counts outside `MetaLimits` (also checked at apply time: a command is outside bytes).
    public func validate() throws(MetaError) {
        switch self {
        case .replicas(let count):
            guard (1...MetaLimits.durabilityReplicasMax).contains(count) else {
                throw .invalidArgument("replicas:\(count) outside 1–\(MetaLimits.durabilityReplicasMax)")
            }
        case .erasure(let k, let m):
            guard (1...MetaLimits.erasureDataShardsMax).contains(k), (1...MetaLimits.erasureParityShardsMax).contains(m)
            else {
                throw .invalidArgument(
                    "ec:\(k)+\(m) outside K 1–\(MetaLimits.erasureDataShardsMax), M 1–\(MetaLimits.erasureParityShardsMax)"
                )
            }
        }
    }

    /// The blob nodes one chunk of this durability occupies.
    public var nodeCount: Int {
        switch self {
        case .replicas(let count): return count
        case .erasure(let k, let m): return k + m
        }
    }

    public var description: String {
        switch self {
        case .replicas(let count): return "replicas:\(count)"
        case .erasure(let k, let m): return "ec:\(k)+\(m)"
        }
    }
}

/// How one chunk's bytes are kept on the nodes its `ChunkRef` names.
public enum ChunkLayout: Sendable, Equatable, Hashable {
    /// Every node holds the whole chunk under the chunk's id (every record before erasure coding).
    case replicated
    /// `nodes[i]` holds shard i under `ChunkRef.shardID(of:index:)`.
    case erasure(ErasureStripe)
}

/// The shards of one erasure-coded chunk: `dataShardCount` data shards (the chunk, zero-padded to
/// `dataShardCount × shardSizeBytes`, cut in order) then `parityShardCount` parity shards.
///
/// Invariant: `shardChecksums.count == dataShardCount + parityShardCount`, and `shardSizeBytes` is the chunk
/// size divided by `dataShardCount`, rounded up.
public struct ErasureStripe: Sendable, Equatable, Hashable {
    public var dataShardCount: Int
    public var parityShardCount: Int
    public var shardSizeBytes: Int
    /// CRC-32 (zlib's) of each shard, in shard order: checked by the reader and the repairer, so a shard a
    /// node returns intact but wrong (a misplaced or stale record) is never decoded into an object.
    public var shardChecksums: [UInt32]
    public init(dataShardCount: Int, parityShardCount: Int, shardSizeBytes: Int, shardChecksums: [UInt32]) {
        precondition(
            shardChecksums.count == dataShardCount + parityShardCount,
            "\(shardChecksums.count) checksums for \(dataShardCount)+\(parityShardCount) shards")
        self.dataShardCount = dataShardCount
        self.parityShardCount = parityShardCount
        self.shardSizeBytes = shardSizeBytes
        self.shardChecksums = shardChecksums
    }

    public var shardCount: Int { dataShardCount + parityShardCount }
}

extension ChunkRef {
    /// The id shard `index` of chunk `chunkID` is stored under: the chunk id with its top byte XORed with
    /// `index + 1`. Distinct per index and, for random chunk ids, as unlikely to collide with another chunk's
    /// id as two random ids are. `MetaStateMachine.referencedChunks` inverts it for the orphan sweeper.
    public static func shardID(of chunkID: ChunkID, index: Int) -> ChunkID {
        precondition((0..<MetaLimits.shardIndexCount).contains(index), "shard index \(index)")
        return chunkID ^ (ChunkID(index + 1) << 120)
    }

    /// Every record the blob nodes hold for this chunk: (node, stored id). A replica is stored under the
    /// chunk id, a shard under its shard id. What deletes (garbage, failed writes) must remove.
    public var storedRecords: [(node: UInt32, id: ChunkID)] {
        switch layout {
        case .replicated: return nodes.map { ($0, id) }
        case .erasure: return nodes.enumerated().map { ($0.element, Self.shardID(of: id, index: $0.offset)) }
        }
    }
}

import RaftKit

/// MetaQuorum's named limits. `MetaLimitsTests` checks the relations between them.
public enum MetaLimits {
    /// A putObject or putPart whose bytes started arriving longer ago than this is refused with
    /// `.requestTooOld` (its chunks may already have been swept as orphans). One hour: a 5 GiB part needs
    /// about 1.5 MB/s; shorter would refuse slow clients, longer keeps a crashed PUT's bytes on disk longer
    /// (they are swept after `orphanChunkAgeMinMilliseconds`).
    public static let writeAgeMaxMilliseconds: Int64 = 60 * 60 * 1000

    /// The orphan-chunk sweeper may delete a chunk that no metadata references only once it is at least
    /// this old. Twice `writeAgeMaxMilliseconds`, so a write that can still commit never loses its chunks.
    public static let orphanChunkAgeMinMilliseconds: Int64 = 2 * writeAgeMaxMilliseconds

    /// A remembered request id is forgotten once the newest command time is this much later than its own.
    static let requestIDRetentionMilliseconds: Int64 = 60 * 60 * 1000

    /// Beyond this many remembered request ids the oldest are forgotten first, but never one younger than
    /// `requestIDRetentionMinMilliseconds`: a burst of writes grows the table rather than forget an id a
    /// gateway may still retry.
    static let requestIDCountMax = 200_000

    /// The shortest time a request id is remembered (in command time), whatever the count: longer than any
    /// retry of a command with an unknown outcome (`RemoteMetaLog.Options.proposalDeadline`).
    public static let requestIDRetentionMinMilliseconds: Int64 = 5 * 60 * 1000

    /// Commands per apply transaction (one group commit).
    static let batchCommandsMax = 512

    /// Proposals waiting for the apply thread; beyond it a proposal fails with `.unavailable`.
    static let pendingProposalsMax = 8_192

    /// Commands that grow the metadata are refused while the free space of its filesystem is below this
    /// (`MetaError.insufficientStorage`), so deletes and garbage collection can always be recorded.
    public static let freeSpaceFloorBytesDefault: UInt64 = 128 * 1024 * 1024

    /// The largest object body a command may carry inline (`ObjectRecord.inlineBody`); gateways choose
    /// their threshold at or below it.
    public static let inlineBodyBytesMax = 256 * 1024

    /// Largest encoded command accepted for proposal. At most RaftKit's `Limits.entryDataBytesMax`, so a
    /// command MetaQuorum accepts is never refused as `entryTooLarge` once commands go through Raft
    /// (`validate()` checks it). A 10,000-part Complete or a 1,000-key DeleteObjects is about 1 MiB.
    public static let commandBytesMax = 8 * 1024 * 1024

    /// Largest page any listing returns (S3's max-keys, max-uploads and max-parts ceiling).
    public static let listEntriesMax = 1000

    /// Most garbage entries returned by one `garbageChunks` call.
    public static let garbageChunksPerCallMax = 10_000

    /// Most object and part records one `chunkPlacements` page reads (each names up to a few hundred chunks).
    public static let chunkScanRecordsPerCallMax = 1000

    /// Part numbers allowed by S3. The Gateway checks at start-up that `S3Limits.partNumberMax` is its
    /// upper bound (MetaQuorum does not depend on the S3 protocol module).
    public static let partNumberRange: ClosedRange<Int> = 1...10_000

    /// Checks the relations between these limits and RaftKit's; call once at start-up (a test calls it too).
    /// Command bytes ≤ Raft entry bytes ≤ WAL record payload bytes; inline bodies well inside a command.
    public static func validate() {
        StorageLimits.validate()
        precondition(
            commandBytesMax <= RaftKit.Limits.entryDataBytesMax,
            "a metadata command of \(commandBytesMax) bytes may exceed a Raft entry of \(RaftKit.Limits.entryDataBytesMax)")
        precondition(
            inlineBodyBytesMax * 4 <= commandBytesMax,
            "inline bodies of \(inlineBodyBytesMax) bytes leave too little room in a command of \(commandBytesMax)")
        precondition(orphanChunkAgeMinMilliseconds >= 2 * writeAgeMaxMilliseconds, "orphans swept before a write can commit")
        precondition(partNumberRange.lowerBound == 1, "part numbers start at 1")
    }

    /// The most copies a bucket's `replicas:N` durability may ask for.
    public static let durabilityReplicasMax = 8
    /// The most data shards of a bucket's `ec:K+M` durability ...
    public static let erasureDataShardsMax = 16
    /// ... and the most parity shards. K+M is at most `ReedSolomon.shardCountMax` (checked at start-up by
    /// `GatewayConfiguration.checkLimitRelations()`).
    public static let erasureParityShardsMax = 8
    /// The shard indexes a stripe can have (`ChunkRef.shardID`, and what the orphan sweeper's lookup tries).
    public static let shardIndexCount = erasureDataShardsMax + erasureParityShardsMax

    /// The longest metadata RPC address a member may publish (`setMemberAddress`): a host name and a port.
    static let memberAddressBytesMax = 300
}

/// The limits and timeouts of the blob cluster map (`blob_nodes`, commands 70–72, `BlobLiveness`).
/// `MetaLimitsTests` checks the relations between them.
public enum BlobMapLimits {
    /// How often a registered blob node sends the metadata leader a heartbeat.
    public static let heartbeatInterval: Duration = .seconds(3)
    /// A node `up` in the map and silent this long (no heartbeat reached the leader) is marked `down`. Five
    /// heartbeats: one lost heartbeat, a slow disk or a leader change does not mark a live node down.
    public static let heartbeatSilenceMax: Duration = .seconds(15)
    /// How often the leader compares last-seen times with the map (the latency of a transition above
    /// `heartbeatSilenceMax`).
    public static let livenessCheckInterval: Duration = .seconds(1)
    /// How long a blob node waits for the metadata to answer one heartbeat.
    public static let heartbeatDeadline: Duration = .seconds(2)
    /// How long a blob node's registration keeps trying before it gives up until the next heartbeat time.
    public static let registrationDeadline: Duration = .seconds(5)
    /// Registered nodes, removed ones included (a node's row is never deleted); below Placement's ring limit
    /// of 10,000 nodes.
    static let nodesMax = 4096
    /// The longest chunk protocol address a node may register: a host name and a port.
    static let addressBytesMax = 300
    /// The longest zone label.
    static let zoneBytesMax = 64
    /// The largest ring weight (`RingNode.weight`) a node may register. The total vnode count is bounded by
    /// Placement's own limit, which the gateway's `Ring.init` checks when it builds the ring.
    public static let weightMax = 1000

    /// Checks the relations between these limits; call once at start-up (a test calls it too).
    public static func validate() {
        precondition(heartbeatInterval * 3 <= heartbeatSilenceMax,
                     "a node is marked down after fewer than three missed heartbeats")
        precondition(livenessCheckInterval <= heartbeatInterval, "the leader checks less often than nodes beat")
        precondition(heartbeatDeadline < heartbeatInterval, "a heartbeat may outlive the next one")
    }
}

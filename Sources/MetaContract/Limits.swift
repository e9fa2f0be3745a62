/// Metadata's named limits: the ones the contract promises here, and MetaQuorum's own in its extension
/// (`Sources/MetaQuorum/Limits.swift`, which also checks the relations with RaftKit at start-up).
public enum MetaLimits {
    /// A putObject or putPart whose bytes started arriving longer ago than this is refused with
    /// `.requestTooOld` (its chunks may already have been swept as orphans). One hour: a 5 GiB part needs
    /// about 1.5 MB/s; shorter would refuse slow clients, longer keeps a crashed PUT's bytes on disk longer
    /// (they are swept after `orphanChunkAgeMinMilliseconds`).
    public static let writeAgeMaxMilliseconds: Int64 = 60 * 60 * 1000

    /// The orphan-chunk sweeper may delete a chunk that no metadata references only once it is at least
    /// this old. Twice `writeAgeMaxMilliseconds`, so a write that can still commit never loses its chunks.
    public static let orphanChunkAgeMinMilliseconds: Int64 = 2 * writeAgeMaxMilliseconds

    /// The shortest time a command id is remembered (in command time), whatever the count: longer than any
    /// retry of a command with an unknown outcome (`RemoteMetaLog.Options.proposalDeadline`).
    public static let commandIDRetentionMinMilliseconds: Int64 = 5 * 60 * 1000

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

    /// The most copies a bucket's `replicas:N` durability may ask for.
    public static let durabilityReplicasMax = 8

    /// The most data shards of a bucket's `ec:K+M` durability ...
    public static let erasureDataShardsMax = 16

    /// ... and the most parity shards. K+M is at most `ReedSolomon.shardCountMax` (checked at start-up by
    /// `GatewayConfiguration.checkLimitRelations()`).
    public static let erasureParityShardsMax = 8

    /// The shard indexes a stripe can have (`ChunkRef.shardID`, and what the orphan sweeper's lookup tries).
    public static let shardIndexCount = erasureDataShardsMax + erasureParityShardsMax
}

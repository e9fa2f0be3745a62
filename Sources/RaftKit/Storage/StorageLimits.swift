import ZlibCRC

/// Limits of the storage layer (write-ahead log and snapshot files). Every queue and batch here is bounded by one
/// of these; `StorageLimits.validate()` checks the relations between them once (and a unit test calls it).
public enum StorageLimits {
    /// A segment is closed and a new one started once it has grown past this many bytes.
    public static let segmentSizeBytesDefault = 64 * 1024 * 1024
    /// The largest payload one WAL record may carry. A larger length read back from disk is corruption.
    public static let recordPayloadBytesMax = 16 * 1024 * 1024
    /// The most appends waiting for the writer thread at once; beyond this `append` throws `.overloaded`.
    public static let pendingAppendsMax = 4096
    /// The most bytes the writer thread writes before one fsync (it takes fewer when fewer wait).
    public static let groupCommitBytesMax = 8 * 1024 * 1024
    /// The bytes a snapshot file is read and copied in (checksums, migration of old files): the most the
    /// store holds of a snapshot at once. The size limit itself is `Limits.snapshotBytesMax`, one for every
    /// layer (a follower assembling chunks, the store saving and loading).
    static let snapshotPieceBytes = 1 << 20
    /// How many valid snapshot files the store keeps; older ones are deleted after a save.
    public static let snapshotsRetained = 2

    /// Checks the relations between the limits; call once at start-up.
    public static func validate() {
        precondition(recordPayloadBytesMax < Int(UInt32.max), "record length must fit the u32 length field")
        precondition(
            groupCommitBytesMax >= recordPayloadBytesMax / 2,
            "a group commit must hold a large record: \(groupCommitBytesMax) vs \(recordPayloadBytesMax)")
        precondition(segmentSizeBytesDefault > WALRecordCodec.headerBytes, "segment smaller than one header")
        precondition(pendingAppendsMax > 0, "pending appends must be positive")
        precondition(snapshotsRetained >= 1, "must keep at least the newest snapshot")
        precondition(
            Limits.entryDataBytesMax + Limits.entryHeaderBytes <= recordPayloadBytesMax,
            "a Raft entry must fit one WAL record: \(Limits.entryDataBytesMax) + \(Limits.entryHeaderBytes) vs \(recordPayloadBytesMax)")
        precondition(snapshotPieceBytes > 0 && snapshotPieceBytes <= crc32PieceBytesMax, "snapshot pieces must fit one crc call")
        precondition(crc32PieceBytesMax > 0 && crc32PieceBytesMax <= Int(UInt32.max), "crc pieces must fit zlib's u32 length")
    }
}

/// Why a `LogStorage` read could not be served.
public enum LogStorageError: Error, Hashable {
    /// The index was compacted into the snapshot: the caller needs the snapshot instead.
    case compacted
    /// The index is beyond the stored log.
    case unavailable
    /// The snapshot is being produced; ask again later.
    case snapshotTemporarilyUnavailable
    /// The storage failed (the message says how).
    case io(String)
}

/// The read side of a node's durable Raft storage, as the core sees it. The shell owns the write side and
/// applies each `Ready` to it (append, hard state, snapshot, compaction) before calling `advance`; the core
/// only reads, synchronously, while handling a call on `RaftNode`.
///
/// Indexes: the stored log is `firstIndex() ... lastIndex()`; `term(at: firstIndex() - 1)` is the term of the
/// snapshot (or 0 for an empty log), so the core can always check the entry just before the first one.
public protocol LogStorage: Sendable {
    /// The durable hard state and the membership at the latest snapshot, read once at start-up.
    func initialState() throws(LogStorageError) -> (hardState: HardState, confState: ConfState)
    /// Entries in `lo ..< hi`, stopping early once their `sizeBytes` sum exceeds `bytesMax` but always
    /// returning at least one entry when `lo < hi`. Throws `.compacted` if `lo < firstIndex()`,
    /// `.unavailable` if `hi > lastIndex() + 1`.
    func entries(from lo: UInt64, to hi: UInt64, bytesMax: Int) throws(LogStorageError) -> [Entry]
    /// The term of the entry at `index`, for `firstIndex() - 1 ... lastIndex()`.
    func term(at index: UInt64) throws(LogStorageError) -> UInt64
    /// The first index still stored as an entry (snapshot index + 1).
    func firstIndex() -> UInt64
    /// The last stored index (the snapshot index when no entries follow it).
    func lastIndex() -> UInt64
    /// The latest snapshot (empty value if none), for sending to a lagging follower.
    func snapshot() throws(LogStorageError) -> Snapshot
    /// Where the core assembles a snapshot of `totalBytes` arriving from the leader in chunks (a file in the
    /// node's snapshot directory, in production). Throws `.io` when it cannot be created: the core then
    /// refuses the transfer and the leader tries again later.
    func makeSnapshotSink(for metadata: SnapshotMetadata, totalBytes: UInt64) throws(LogStorageError) -> any SnapshotSink
}

extension LogStorage {
    /// In memory, by default (the simulator and the core's tests).
    public func makeSnapshotSink(for metadata: SnapshotMetadata, totalBytes: UInt64) throws(LogStorageError) -> any SnapshotSink {
        SnapshotBytesSink()
    }
}

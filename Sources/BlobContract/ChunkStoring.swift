public import NIOCore

/// The byte-storage contract the Gateway calls: immutable chunks named by 128 random bits.
///
/// Promises:
/// - `write` returns only after the chunk's bytes and its index record are durable (fsync'd; many
///   concurrent writes share one fsync: group commit). A write that throws left nothing readable in the
///   running store (after a failed fsync its record may still reappear on a later open, as an unreferenced
///   chunk that the orphan sweeper removes by age).
/// - Writing an id that already exists with the same bytes is a no-op success (retries are safe);
///   chunk ids are never reused for different bytes.
/// - `read` returns exactly the bytes written, checked against the record checksum on every read; a
///   mismatch throws `BlobError.checksumMismatch`, never wrong bytes.
/// - `delete` is durable when it returns (a tombstone), idempotent, and the space is reclaimed later by
///   compaction.
/// Callers: the Gateway's PUT path writes, GET reads, the garbage collector and the orphan sweeper delete.
/// All methods may be called concurrently. `BlobError.unavailable` means "try later or elsewhere" (store
/// closed, write queue full, store stopped after a failed fsync).
public protocol ChunkStoring: Sendable {
    /// Stores `bytes` (the readable bytes of the buffer, not copied by the local store) as `chunkID` and
    /// returns once durable. Rewriting the same bytes is a no-op; other bytes for an existing id are refused.
    func write(_ chunkID: UInt128, _ bytes: ByteBuffer) async throws(BlobError)
    /// `length` bytes from `offset` within the chunk; the range must lie inside it (`rangeOutOfBounds`).
    /// The whole record is checksummed on every read, also for a short range.
    func read(_ chunkID: UInt128, offset: Int, length: Int) async throws(BlobError) -> ByteBuffer
    /// Deletes the chunks whose writes have returned; unknown or already deleted ids are ignored. Durable
    /// on return; reads of the ids throw `chunkNotFound` from then on, also after a restart.
    func delete(_ chunkIDs: [UInt128]) async throws(BlobError)
    /// Live chunks written before `writtenBeforeTime` (ms since the Unix epoch) with ids greater than
    /// `after` (nil: from the lowest), in ascending id order, at most `limit`: a cursor the sweeper of
    /// chunks that no metadata ever referenced (a PUT whose client disconnected) pages through. Every
    /// store honours a `limit` up to `ChunkStoreLimits.chunksListedPerCallMax`; a caller that pages must not ask for more,
    /// or a short page would look like the end.
    func chunks(writtenBeforeTime: Int64, after: UInt128?, limit: Int) async throws(BlobError) -> [UInt128]
}

/// Bounds every `ChunkStoring` honours, for callers that page.
public enum ChunkStoreLimits {
    /// The most ids one `chunks(writtenBeforeTime:after:limit:)` call is guaranteed to answer.
    public static let chunksListedPerCallMax = 100_000
}

/// Errors of the chunk store. `Gateway/S3/S3Error.swift` maps them (all become InternalError or
/// ServiceUnavailable for clients).
public enum BlobError: Error, Sendable, Equatable {
    case chunkNotFound(UInt128)
    case checksumMismatch(UInt128)
    case rangeOutOfBounds(UInt128)
    /// The disk is full (ENOSPC) or refused a write.
    case diskFull(String)
    /// Any other I/O fault: what failed and the errno text.
    case io(String)
    /// `LocalChunkStore.Options` outside the module's limits (a start-up error).
    case invalidOptions(String)
    /// A chunk larger than the store takes (`bytes`, `max`): the caller cut it wrong.
    case chunkTooLarge(bytes: Int, max: Int)
    /// A write of an id the store already holds with other bytes: ids are never reused, so the caller
    /// broke its contract (the stored bytes are kept).
    case conflictingRewrite(UInt128)
    /// The store is closed or not yet open.
    case unavailable(String)
}

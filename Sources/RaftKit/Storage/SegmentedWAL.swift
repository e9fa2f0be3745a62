import Foundation

/// Counters of the WAL's group commit, for benchmarks and tests (not used for any decision).
public struct WALStatistics: Sendable, Equatable {
    /// Calls to `append` that completed.
    public var appendCount: Int = 0
    /// Records written.
    public var recordCount: Int = 0
    /// fdatasync calls on segment files (one per group commit).
    public var syncCount: Int = 0
    /// Bytes written to segment files.
    public var bytesWritten: Int = 0
    /// Segments created since open.
    public var segmentsCreated: Int = 0
    /// Segments deleted by compaction since open.
    public var segmentsDeleted: Int = 0
}

/// A segmented write-ahead log of opaque records with a length and a crc32 on every record.
///
/// Durability contract: when `append` returns, every record it was given, and every record of every earlier
/// `append` that returned, is on disk (written and fdatasync'ed). The driver must persist a `.hardState` record
/// and the entries of a `Ready` with one `append`, and send messages (votes, append acknowledgements) only after it
/// returns. Appends that arrive while the writer thread is busy are written together and share one fsync (group
/// commit); their order is the order in which `append` was called.
///
/// Threads: one dedicated thread per WAL owns the file handles and does every blocking call (open, write, fsync,
/// truncate, unlink). Callers only enqueue and await, so neither the cooperative pool nor an event loop blocks.
///
/// Files: `<directory>/<sequence, 16 hex digits>.wal`. A new segment starts once the current one passes
/// `segmentSizeBytes`; it begins with the current hard state and compaction point, so older segments can be
/// deleted once `.compact` covers all their entries.
///
/// Recovery (`open`): a record that is cut short, or whose checksum fails while only it (or zeros) remain to the end
/// of the last segment, is a torn write that was never acknowledged: the tail is truncated there. Any other failing
/// record is corruption of acknowledged data: `open` throws `StorageError.corruptRecord` and applies nothing.
public final class SegmentedWAL: Sendable {
    private let writer: WALWriter

    private init(writer: WALWriter) {
        self.writer = writer
    }

    /// Opens (creating if needed) the WAL in `directory`, recovers it on the writer thread, and returns it with the
    /// recovered state. `segmentSizeBytes` is the rotation size (`StorageLimits.segmentSizeBytesDefault`).
    public static func open(
        directory: String,
        segmentSizeBytes: Int
    ) async throws(StorageError) -> (SegmentedWAL, WALRecovery) {
        precondition(segmentSizeBytes > WALRecordCodec.headerBytes, "segment size \(segmentSizeBytes) too small")
        let writer = WALWriter(directory: directory, segmentSizeBytes: segmentSizeBytes)
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<WALRecovery, StorageError>, Never>) in
            writer.start { continuation.resume(returning: $0) }
        }
        return (SegmentedWAL(writer: writer), try result.get())
    }

    /// Appends `records` in order and returns once they are durable (see the type's contract). Throws
    /// `.overloaded` when `StorageLimits.pendingAppendsMax` appends already wait, and `.closed` after `close()` or
    /// after an earlier I/O failure (the WAL then refuses all work: a failed fsync leaves the file in an unknown
    /// state, so the process should restart and recover).
    public func append(_ records: [WALRecord]) async throws(StorageError) {
        try await append(records, sync: true)
    }

    /// Appends `records` in order. With `sync: true` this is `append(_:)`. With `sync: false` it returns once the
    /// records are written (in the page cache), not durable: for changes Raft does not need durable before acting
    /// (`Ready.mustSync == false`, a commit index alone). They become durable with the next synced append, and are
    /// never reordered after it.
    public func append(_ records: [WALRecord], sync: Bool) async throws(StorageError) {
        var bytes: [UInt8] = []
        var meta = AppendMeta()
        meta.sync = sync
        for record in records {
            if case .entry(_, let payload) = record, payload.count > StorageLimits.recordPayloadBytesMax {
                throw .recordTooLarge(bytes: payload.count)
            }
            WALRecordCodec.encode(record, into: &bytes)
            meta.note(record)
        }
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, StorageError>, Never>) in
            writer.enqueue(bytes: bytes, meta: meta) { continuation.resume(returning: $0) }
        }
        try result.get()
    }

    /// Finishes the pending appends, closes the files and stops the writer thread.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            writer.close { continuation.resume() }
        }
    }

    /// Group-commit counters since `open`.
    public var statistics: WALStatistics { writer.statistics }
}

/// What the writer must remember of an append besides its bytes: the state a new segment starts with, and which
/// segments compaction may delete.
struct AppendMeta {
    var recordCount = 0
    var sync = true
    var hardState: [UInt8]?
    var compact: (index: UInt64, payload: [UInt8])?
    var maxEntryIndex: UInt64 = 0

    mutating func note(_ record: WALRecord) {
        recordCount += 1
        switch record {
        case .entry(let index, _): maxEntryIndex = max(maxEntryIndex, index)
        case .hardState(let payload): hardState = payload
        case .compact(let index, let payload):
            if index >= (compact?.index ?? 0) { compact = (index, payload) }
        case .truncateSuffix: break
        }
    }
}

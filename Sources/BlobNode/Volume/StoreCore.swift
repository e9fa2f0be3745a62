import DequeModule
import Dispatch
import NIOCore
import NIOPosix
import Synchronization
import BlobContract

/// One record waiting for the writer thread.
struct PendingRecord: Sendable {
    var header: RecordHeader
    /// The payload of a put (the caller's buffer: not copied); nil for a tombstone.
    var payload: ByteBuffer?
    /// Set for compaction copies: append only if the index still points at this location and no record of
    /// the same chunk went earlier in the batch, so a copy can never overtake a delete or a newer put.
    var expectedLocation: RecordLocation?
}

/// A group of records appended together; the continuation resumes once they are durable (or failed).
struct WriteRequest: Sendable {
    var records: [PendingRecord]
    var payloadBytes: Int
    var continuation: CheckedContinuation<Result<Void, BlobError>, Never>
    /// Seal the active volume (if it holds anything) before this request's records, so compaction can
    /// reclaim its garbage: a volume that never fills would otherwise never be compacted.
    var sealsActiveVolume = false
}

/// Counters for `stats()`.
struct StoreCounters: Sendable {
    var fsyncCount = 0
    var groupCommitCount = 0
    var recordsAppended = 0
    var corruptRecordsAtOpen = 0
    var checksumFailuresOnRead = 0
    var compactedVolumeCount = 0
}

/// The mutable state of a store, guarded by `StoreCore.state`.
struct StoreState: Sendable {
    var index = ChunkIndex()
    /// Every readable volume file. Compaction removes a volume here before unlinking it.
    var volumes: [UInt32: VolumeFile] = [:]
    /// FIFO of requests for the writer. Invariant: count <= Limits.writeQueueDepthMax. A `Deque`, so a taken
    /// request (and the payload it holds) is freed at once, not when the whole queue drains.
    var queue = Deque<WriteRequest>()
    var counters = StoreCounters()
    /// Set by `close()`: no new requests; the writer drains the queue and exits.
    var stopRequested = false
    /// Set when an fsync or a truncate after a failed write failed: the on-disk state is unknown, so the
    /// store takes no more writes (reads of durable data still work). Reopen to recover.
    var failure: String?
    var isCompacting = false
    /// Volumes compaction found a corrupt live record in: left alone until a reopen (or repair) so that a
    /// background loop does not retry them forever.
    var compactionBlockedVolumes = Set<UInt32>()

    func compactionCandidates(deadFractionMin: Double) -> [UInt32] {
        self.index.compactionCandidates(deadFractionMin: deadFractionMin).filter {
            !self.compactionBlockedVolumes.contains($0)
        }
    }

    var pendingCount: Int { self.queue.count }

    /// The next group commit: whole requests, bounded by the batch limits but at least one request.
    mutating func takeBatch(recordsMax: Int, bytesMax: Int) -> [WriteRequest] {
        var batch: [WriteRequest] = []
        var records = 0
        var bytes = 0
        while let next = self.queue.first {
            if !batch.isEmpty && (records + next.records.count > recordsMax || bytes + next.payloadBytes > bytesMax) {
                break
            }
            batch.append(next)
            records += next.records.count
            bytes += next.payloadBytes
            self.queue.removeFirst()
        }
        return batch
    }
}

/// What the store's tasks and its writer thread share: the state behind one lock, the wake-up signal of the
/// writer thread, and the pools. All stored properties are immutable references to thread-safe objects.
final class StoreCore: Sendable {
    let directory: String
    let options: LocalChunkStore.Options
    let state: Mutex<StoreState>
    /// Signalled once per submitted request and on close; the writer thread waits on it when idle.
    let writerWakeup = DispatchSemaphore(value: 0)
    /// Blocking reads, scans, unlinks: never the cooperative pool or an event loop.
    let readPool: NIOThreadPool
    /// One thread, running `VolumeWriter.run()` for the life of the store.
    let writerPool: NIOThreadPool
    let lockDescriptor: CInt

    init(
        directory: String, options: LocalChunkStore.Options, state: StoreState, readPool: NIOThreadPool,
        lockDescriptor: CInt
    ) {
        self.directory = directory
        self.options = options
        self.state = Mutex(state)
        self.readPool = readPool
        self.writerPool = NIOThreadPool(numberOfThreads: 1)
        self.lockDescriptor = lockDescriptor
    }

    /// Queues `records` for the writer thread and waits until they are durable and indexed.
    func submit(_ records: [PendingRecord]) async throws(BlobError) {
        precondition(!records.isEmpty, "empty write request")
        try await self.enqueue(records, sealsActiveVolume: false)
    }

    /// Asks the writer thread to seal the active volume now (durably) and waits until it did.
    func sealActiveVolume() async throws(BlobError) {
        try await self.enqueue([], sealsActiveVolume: true)
    }

    private func enqueue(_ records: [PendingRecord], sealsActiveVolume: Bool) async throws(BlobError) {
        let payloadBytes = records.reduce(0) { $0 + ($1.payload?.readableBytes ?? 0) }
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<Void, BlobError>, Never>) in
            let rejection: BlobError? = self.state.withLock { state in
                if state.stopRequested { return .unavailable("the chunk store is closed") }
                if let failure = state.failure { return .unavailable("the chunk store failed: \(failure)") }
                if state.pendingCount >= Limits.writeQueueDepthMax {
                    return .unavailable("write queue full (\(state.pendingCount) requests pending)")
                }
                state.queue.append(
                    WriteRequest(records: records, payloadBytes: payloadBytes, continuation: continuation,
                                 sealsActiveVolume: sealsActiveVolume))
                return nil
            }
            if let rejection {
                continuation.resume(returning: .failure(rejection))
            } else {
                self.writerWakeup.signal()
            }
        }
        try result.get()
    }

    /// Runs blocking `body` on the read pool, mapping every failure to `BlobError`.
    func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws(BlobError) -> T {
        do {
            return try await self.readPool.runIfActive(body)
        } catch {
            throw BlobError(error)
        }
    }
}

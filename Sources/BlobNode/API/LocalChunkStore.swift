import WallClock
public import Logging
public import NIOCore
import NIOPosix
public import BlobContract

#if canImport(Glibc)
    import Glibc
#endif

/// The chunk store on local disk: chunks packed as checksummed records into append-only volume files in one
/// directory, with group-committed fsync on a dedicated writer thread, an in-memory index rebuilt on open,
/// tombstones for deletes and compaction of sealed volumes.
///
/// Lifecycle: `open(directory:options:)`, then any number of concurrent calls, then `close()` exactly once
/// (a store that is dropped without `close()` keeps its writer thread). Blocking disk work runs on the
/// writer thread or the store's own read pool, never on the caller's executor.
///
/// The durability contract is `ChunkStoring`'s: `write` and `delete` return after an fsync that covers
/// their records; `read` checks the record CRC every time.
public final class LocalChunkStore: ChunkStoring {
    /// Tuning of a store. Checked by `open` (`validate()`).
    public struct Options: Sendable {
        /// The writer seals the active volume once the next record would take it past this size.
        public var volumeSizeBytesMax: UInt64 = Limits.volumeSizeBytesDefault
        /// Records per group commit. 1 means one fsync per record (for measurements); the default lets
        /// many concurrent writes share one fsync.
        public var writeBatchRecordsMax: Int = Limits.writeBatchRecordsMax
        /// `compact()` rewrites sealed volumes whose dead bytes exceed this fraction of their size.
        public var compactionDeadFractionMin: Double = 0.5
        /// Optional throttle of compaction's copying, in bytes per second.
        public var compactionBytesPerSecondMax: Int?
        /// Whether `open` also checks every payload CRC of sealed volumes (a full read of the data). Off by
        /// default: sealed volumes were fsync'd before they were sealed, their headers (with their own CRC)
        /// are still checked, and every read checks the payload; the active volume is always fully checked.
        public var verifySealedVolumesOnOpen = false
        /// A put that would leave less free space than this on the filesystem is refused with `.diskFull`;
        /// deletes never are. Keeps room for tombstones, compaction and the metadata next to the volumes.
        public var freeSpaceFloorBytes: UInt64 = Limits.freeSpaceFloorBytesDefault
        /// Threads for blocking reads.
        public var readThreadCount: Int = Limits.readThreadCountDefault
        /// The write time stamped into records, in ms since the Unix epoch (injectable for tests).
        public var currentTimeMs: @Sendable () -> Int64 = LocalChunkStore.systemTimeMs
        public var logger = Logger(label: "silo.blob")
        /// Test-only fault injection on the writer thread (nil in production; internal, set by tests).
        var faults: FaultInjection?

        public init() {}

        /// Rejects options outside the module's limits.
        public func validate() throws(BlobError) {
            guard self.volumeSizeBytesMax >= Limits.volumeSizeBytesMin,
                self.volumeSizeBytesMax <= Limits.volumeSizeBytesMax
            else {
                let range = "\(Limits.volumeSizeBytesMin)...\(Limits.volumeSizeBytesMax)"
                throw .invalidOptions("volumeSizeBytesMax \(self.volumeSizeBytesMax) outside \(range)")
            }
            guard self.writeBatchRecordsMax >= 1, self.writeBatchRecordsMax <= Limits.writeBatchRecordsMax else {
                throw .invalidOptions(
                    "writeBatchRecordsMax \(self.writeBatchRecordsMax) outside 1...\(Limits.writeBatchRecordsMax)")
            }
            guard self.compactionDeadFractionMin >= 0, self.compactionDeadFractionMin < 1 else {
                throw .invalidOptions("compactionDeadFractionMin \(self.compactionDeadFractionMin) outside 0..<1")
            }
            guard self.readThreadCount >= 1, self.readThreadCount <= Limits.readThreadCountMax else {
                throw .invalidOptions("readThreadCount \(self.readThreadCount) outside 1...\(Limits.readThreadCountMax)")
            }
            if let rate = self.compactionBytesPerSecondMax, rate <= 0 {
                throw .invalidOptions("compactionBytesPerSecondMax \(rate) must be positive")
            }
        }
    }

    let core: StoreCore

    private init(core: StoreCore) {
        self.core = core
    }

    /// The wall clock in ms since the Unix epoch (`WallClock`).
    public static func systemTimeMs() -> Int64 {
        WallClock.nowMilliseconds()
    }

    /// Opens (creating if needed) the store in `directory`: locks the directory, scans every volume to
    /// rebuild the index (every record CRC of the active volume, the header CRCs of sealed ones unless
    /// `verifySealedVolumesOnOpen`), truncates a torn tail of the active volume, counts corrupt records, and
    /// starts the writer thread.
    public static func open(directory: String, options: Options = Options()) async throws(BlobError) -> LocalChunkStore
    {
        try options.validate()
        let readPool = NIOThreadPool(numberOfThreads: options.readThreadCount)
        readPool.start()
        let loaded: LoadedStore
        do {
            loaded = try await readPool.runIfActive {
                try StoreLoader.load(
                    directory: directory, verifySealedVolumes: options.verifySealedVolumesOnOpen, logger: options.logger
                )
            }
        } catch {
            try? await readPool.shutdownGracefully()
            throw BlobError(error)
        }
        let core = StoreCore(
            directory: directory, options: options, state: loaded.state, readPool: readPool,
            lockDescriptor: loaded.lockDescriptor)
        core.writerPool.start()
        let active = loaded.active
        let activeSize = loaded.activeSize
        core.writerPool.submit { threadState in
            guard case .active = threadState else { return }
            var writer = VolumeWriter(core: core, active: active, activeSize: activeSize)
            writer.run()
        }
        return LocalChunkStore(core: core)
    }

    /// Stops taking requests, lets the writer finish every queued request, and releases the directory.
    /// Later calls throw `.unavailable`. Idempotent.
    public func close() async {
        let first = self.core.state.withLock { state in
            defer { state.stopRequested = true }
            return !state.stopRequested
        }
        guard first else { return }
        self.core.writerWakeup.signal()
        try? await self.core.writerPool.shutdownGracefully()
        self.core.state.withLock { $0.volumes = [:] }
        try? await self.core.readPool.shutdownGracefully()
        Glibc.close(self.core.lockDescriptor)
    }

    public func write(_ chunkID: UInt128, _ bytes: ByteBuffer) async throws(BlobError) {
        guard bytes.readableBytes <= Limits.chunkSizeBytesMax else {
            throw .chunkTooLarge(bytes: bytes.readableBytes, max: Limits.chunkSizeBytesMax)
        }
        let existing = try self.core.state.withLock { state throws(BlobError) -> IndexEntry? in
            try Self.checkOpen(state)
            return state.index.entries[chunkID].flatMap { $0.kind == .put ? $0 : nil }
        }
        if let existing {
            // A retry: succeed only if the stored bytes are the same (ids are never reused for other bytes).
            // If the stored copy is corrupt, the new record replaces it (a repair by rewrite).
            var stored: ByteBuffer?
            do {
                stored = try await self.read(chunkID, offset: 0, length: Int(existing.payloadLength))
            } catch .checksumMismatch {
                stored = nil
            }
            if let stored {
                guard stored == bytes else {
                    throw .conflictingRewrite(chunkID)
                }
                return
            }
        }
        try self.checkFreeSpace(for: UInt64(bytes.readableBytes) + UInt64(RecordHeader.size))
        if DiskFaults.current == .eio { throw .io("put \(chunkID): input/output error (injected: SILO_FAULT_BLOB_DISK_FILE)") }
        let now = self.core.options.currentTimeMs()
        let header = bytes.withUnsafeReadableBytes { payload in
            RecordHeader(kind: .put, chunkID: chunkID, writeTimeMs: now, payload: payload)
        }
        try await self.core.submit([PendingRecord(header: header, payload: bytes, expectedLocation: nil)])
    }

    public func read(_ chunkID: UInt128, offset: Int, length: Int) async throws(BlobError) -> ByteBuffer {
        if DiskFaults.current == .eio { throw .io("read \(chunkID): input/output error (injected: SILO_FAULT_BLOB_DISK_FILE)") }
        let (file, entry) = try self.core.state.withLock { state throws(BlobError) -> (VolumeFile, IndexEntry) in
            try Self.checkOpen(state)
            guard let entry = state.index.entries[chunkID], entry.kind == .put else { throw .chunkNotFound(chunkID) }
            guard let file = state.volumes[entry.location.volumeID] else {
                preconditionFailure("index points at missing volume \(entry.location.volumeID) for \(chunkID)")
            }
            return (file, entry)
        }
        guard offset >= 0, length >= 0, offset <= Int(entry.payloadLength) - length else {
            throw .rangeOutOfBounds(chunkID)
        }
        let record = try await self.core.blocking {
            try StoreReads.readRecord(file: file, entry: entry, chunkID: chunkID)
        }
        guard let record else {
            self.core.state.withLock { $0.counters.checksumFailuresOnRead += 1 }
            self.core.options.logger.error(
                "checksum mismatch", metadata: ["chunk": "\(String(chunkID, radix: 16))", "volume": "\(file.path)"])
            throw .checksumMismatch(chunkID)
        }
        return record.getSlice(at: record.readerIndex + offset, length: length)!
    }

    public func delete(_ chunkIDs: [UInt128]) async throws(BlobError) {
        let now = self.core.options.currentTimeMs()
        let live = try self.core.state.withLock { state throws(BlobError) -> [UInt128] in
            try Self.checkOpen(state)
            var seen = Set<UInt128>()
            return chunkIDs.filter { state.index.entries[$0]?.kind == .put && seen.insert($0).inserted }
        }
        var start = 0
        while start < live.count {
            let end = min(live.count, start + Limits.writeBatchRecordsMax)
            let records = live[start..<end].map { chunkID in
                PendingRecord(
                    header: RecordHeader(
                        kind: .tombstone, chunkID: chunkID, writeTimeMs: now,
                        payload: UnsafeRawBufferPointer(start: nil, count: 0)),
                    payload: nil, expectedLocation: nil)
            }
            try await self.core.submit(records)
            start = end
        }
    }

    public func chunks(writtenBeforeTime: Int64, after: UInt128?, limit: Int) async throws(BlobError) -> [UInt128] {
        let limit = min(max(limit, 0), Limits.sweepListLimitMax)
        var found = try self.core.state.withLock { state throws(BlobError) -> [UInt128] in
            try Self.checkOpen(state)
            var found: [UInt128] = []
            for (chunkID, entry) in state.index.entries
            where entry.kind == .put && entry.writeTimeMs < writtenBeforeTime && after.map({ chunkID > $0 }) ?? true {
                found.append(chunkID)
            }
            return found
        }
        // Ascending ids: a cursor that does not depend on dictionary order.
        found.sort()
        return Array(found.prefix(limit))
    }

    /// Counters and space accounting for the admin CLI and for tests.
    public func stats() -> ChunkStoreStats {
        self.core.state.withLock { state in
            ChunkStoreStats(
                liveChunkCount: state.index.liveChunkCount,
                livePayloadBytes: state.index.livePayloadBytes,
                deadBytes: state.index.deadBytes,
                tombstoneCount: state.index.tombstoneCount,
                volumeCount: state.index.usage.count,
                corruptRecordCount: state.counters.corruptRecordsAtOpen + state.counters.checksumFailuresOnRead,
                fsyncCount: state.counters.fsyncCount,
                groupCommitCount: state.counters.groupCommitCount,
                recordsAppended: state.counters.recordsAppended,
                compactedVolumeCount: state.counters.compactedVolumeCount)
        }
    }

    /// Free bytes on the filesystem of the store's directory, for unprivileged writers.
    public func freeSpaceBytes() throws(BlobError) -> UInt64 {
        if DiskFaults.current == .full { return 0 }
        var info = statvfs()
        guard statvfs(self.core.directory, &info) == 0 else {
            throw .io("statvfs \(self.core.directory): \(String(cString: strerror(errno)))")
        }
        return UInt64(info.f_bavail) * UInt64(info.f_frsize)
    }

    /// Refuses a put of `bytes` that would take the free space below `Options.freeSpaceFloorBytes`.
    private func checkFreeSpace(for bytes: UInt64) throws(BlobError) {
        let free = try self.freeSpaceBytes()
        let floor = self.core.options.freeSpaceFloorBytes
        if free < floor || free - floor < bytes {
            throw .diskFull("\(free) bytes free, \(floor) reserved for deletes and compaction")
        }
    }

    static func checkOpen(_ state: StoreState) throws(BlobError) {
        if state.stopRequested { throw .unavailable("the chunk store is closed") }
    }
}

/// A snapshot of a store's counters (`LocalChunkStore.stats()`).
public struct ChunkStoreStats: Sendable, Equatable {
    /// Chunks that can be read.
    public var liveChunkCount: Int
    /// Sum of the live chunks' lengths.
    public var livePayloadBytes: UInt64
    /// Bytes in volume files that compaction could reclaim (superseded records, unneeded tombstones, corrupt bytes).
    public var deadBytes: UInt64
    /// Tombstones still needed because an older put of their chunk survives in some volume.
    public var tombstoneCount: Int
    public var volumeCount: Int
    /// Corrupt records skipped by the start-up scan plus checksum mismatches seen by reads.
    public var corruptRecordCount: Int
    /// `fdatasync` calls on volume files since open (group commit shares one among many writes).
    public var fsyncCount: Int
    public var groupCommitCount: Int
    public var recordsAppended: Int
    public var compactedVolumeCount: Int
}

/// Faults the writer thread injects, for tests of the error paths (a full disk, a failing fsync). Each
/// closure returns an errno to fail with, or nil to proceed.
struct FaultInjection: Sendable {
    /// Called before appending each record: fail it after writing part of it.
    var writeError: (@Sendable (RecordHeader) -> CInt?)?
    /// Called before each group commit's fsync.
    var syncError: (@Sendable () -> CInt?)?
}

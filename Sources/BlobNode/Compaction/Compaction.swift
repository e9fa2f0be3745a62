import NIOCore
public import BlobContract

/// What one `compact()` call did.
public struct CompactionReport: Sendable, Equatable {
    /// Volumes rewritten and deleted.
    public var volumesCompacted: [UInt32] = []
    /// Records (live puts and still-needed tombstones) copied to the active volume.
    public var recordsCopied = 0
    public var bytesCopied: UInt64 = 0
    /// Size of the deleted volume files.
    public var bytesReclaimed: UInt64 = 0
    /// Volumes still over the dead-fraction threshold after this call (left for the next call when
    /// `volumesMax` stopped it): a background loop steps again at once while this is not zero.
    public var candidatesRemaining = 0
    /// Candidates left alone because copying their live records would not fit in the free space.
    public var volumesSkippedForSpace = 0

    public init() {}
}

extension LocalChunkStore {
    /// Reclaims the space of sealed volumes whose dead fraction exceeds `Options.compactionDeadFractionMin`:
    /// copies their live records (byte-identical, same write time and CRC) to the active volume through the
    /// writer's group commit, then unlinks the old file and fsyncs the directory.
    ///
    /// Safe with concurrent reads (a reader keeps its `VolumeFile` open past the unlink), writes and deletes
    /// (a copy is appended only if the index still points at the original, checked on the writer thread in
    /// append order), and a crash at any point (until the unlink is durable both copies exist and the newer
    /// wins; a tombstone is copied while any older put of its chunk survives elsewhere). One compaction runs
    /// at a time: a concurrent call throws `.unavailable`.
    ///
    /// `volumesMax` bounds the work of one call (a background loop's step passes 1); the report says how
    /// many candidates remain. Throttled by `Options.compactionBytesPerSecondMax` if set.
    public func compact(volumesMax: Int = .max) async throws(BlobError) -> CompactionReport {
        precondition(volumesMax >= 1, "volumesMax \(volumesMax) < 1")
        // Under space pressure (free space below twice the floor) any volume with a tenth of garbage is
        // worth rewriting: that is how deleting objects on a full disk gives the space back.
        let free = try self.freeSpaceBytes()
        let underPressure = free < 2 * self.core.options.freeSpaceFloorBytes
        let deadFractionMin = underPressure
            ? min(self.core.options.compactionDeadFractionMin, Limits.compactionDeadFractionUnderPressure)
            : self.core.options.compactionDeadFractionMin
        try await self.sealActiveVolumeIfMostlyGarbage(deadFractionMin: deadFractionMin)
        let candidates = try self.core.state.withLock { state throws(BlobError) -> [(UInt32, UInt64)] in
            try Self.checkOpen(state)
            guard !state.isCompacting else { throw .unavailable("a compaction is already running") }
            state.isCompacting = true
            return state.compactionCandidates(deadFractionMin: deadFractionMin).map { volumeID in
                (volumeID, state.index.usage[volumeID]?.liveBytes ?? 0)
            }
        }
        defer { self.core.state.withLock { $0.isCompacting = false } }
        var report = CompactionReport()
        var available = free
        for (volumeID, liveBytes) in candidates {
            guard report.volumesCompacted.count < volumesMax else { break }
            // Copies go to the active volume before the old file is unlinked: they must fit, with a margin.
            guard liveBytes + Limits.compactionSpaceMarginBytes <= available else {
                report.volumesSkippedForSpace += 1
                continue
            }
            let reclaimedBefore = report.bytesReclaimed
            try await self.compactVolume(volumeID, report: &report)
            available = available - min(available, liveBytes) + (report.bytesReclaimed - reclaimedBefore)
        }
        report.candidatesRemaining = self.core.state.withLock { state in
            state.compactionCandidates(deadFractionMin: deadFractionMin).count
        } - report.volumesSkippedForSpace
        return report
    }

    /// The active volume is compacted only once sealed, and it seals only when full: under a delete-heavy
    /// load (or a disk that filled before the volume did) its garbage would never be reclaimed. Seal it
    /// early once its dead bytes pass both the compaction fraction and `Limits.activeVolumeDeadBytesMin`.
    private func sealActiveVolumeIfMostlyGarbage(deadFractionMin fraction: Double) async throws(BlobError) {
        let shouldSeal = self.core.state.withLock { state in
            state.index.usage.values.contains { usage in
                !usage.isSealed && usage.deadBytes >= Limits.activeVolumeDeadBytesMin
                    && Double(usage.deadBytes) > fraction * Double(usage.totalBytes)
            }
        }
        if shouldSeal { try await self.core.sealActiveVolume() }
    }

    private func compactVolume(_ volumeID: UInt32, report: inout CompactionReport) async throws(BlobError) {
        guard let file = self.core.state.withLock({ $0.volumes[volumeID] }) else { return }
        // 1. The records of this volume the index still needs.
        let needed = try await self.neededRecords(in: file)
        // 2. Copy them in bounded groups, each one group commit.
        var start = 0
        while start < needed.count {
            var end = start
            var bytes = 0
            while end < needed.count && end - start < Limits.compactionBatchRecordsMax
                && (end == start || bytes + Int(needed[end].0.payloadLength) <= Limits.compactionBatchBytesMax)
            {
                bytes += Int(needed[end].0.payloadLength)
                end += 1
            }
            guard let records = try await self.readCopies(of: Array(needed[start..<end]), from: file) else {
                // A live record is corrupt: keep the volume (scrub and repair will deal with it).
                self.core.state.withLock { state in
                    state.counters.checksumFailuresOnRead += 1
                    state.compactionBlockedVolumes.insert(volumeID)
                }
                self.core.options.logger.error(
                    "compaction skipped a volume with a corrupt live record", metadata: ["volume": "\(file.path)"])
                return
            }
            try await self.core.submit(records)
            let copiedBytes = records.reduce(0) { $0 + $1.header.recordBytes }
            report.recordsCopied += records.count
            report.bytesCopied += copiedBytes
            if let rate = self.core.options.compactionBytesPerSecondMax {
                try? await Task.sleep(nanoseconds: copiedBytes * 1_000_000_000 / UInt64(rate))
            }
            start = end
        }
        // 3. Nothing may still need this volume: retire it.
        let stillNeeded = self.core.state.withLock { state in
            needed.contains { header, location in Self.isNeeded(header, at: location, state.index) }
        }
        precondition(!stillNeeded, "volume \(volumeID) still holds needed records after compaction copied them")
        report.bytesReclaimed += try await self.retire(file)
        report.volumesCompacted.append(volumeID)
    }

    /// Whether the record at `location` is one the index needs: the chunk's current put, or its current
    /// tombstone while an older put survives in another volume.
    private static func isNeeded(_ header: RecordHeader, at location: RecordLocation, _ index: ChunkIndex) -> Bool {
        guard index.entries[header.chunkID]?.location == location else { return false }
        return header.kind == .put || index.tombstoneOutlives(header.chunkID, volumeID: location.volumeID)
    }

    /// Scans the volume's headers (payloads are checked when read for copying) for the records still needed.
    private func neededRecords(in file: VolumeFile) async throws(BlobError) -> [(RecordHeader, RecordLocation)] {
        let core = self.core
        return try await self.core.blocking { () throws -> [(RecordHeader, RecordLocation)] in
            var needed: [(RecordHeader, RecordLocation)] = []
            var scanner = VolumeScanner(file: file, fileSize: try file.size())
            _ = try scanner.scan(verifyPayloads: false) { header, offset in
                let location = RecordLocation(volumeID: file.volumeID, offset: offset)
                if core.state.withLock({ Self.isNeeded(header, at: location, $0.index) }) {
                    needed.append((header, location))
                }
            }
            return needed
        }
    }

    /// The copies to append for `group` (payloads read and checked), or nil if a payload is corrupt.
    private func readCopies(
        of group: [(RecordHeader, RecordLocation)], from file: VolumeFile
    ) async throws(BlobError) -> [PendingRecord]? {
        try await self.core.blocking { () throws -> [PendingRecord]? in
            var copies: [PendingRecord] = []
            for (header, location) in group {
                guard header.kind == .put else {
                    copies.append(PendingRecord(header: header, payload: nil, expectedLocation: location))
                    continue
                }
                let entry = IndexEntry(
                    kind: .put, location: location, payloadLength: header.payloadLength, writeTimeMs: header.writeTimeMs
                )
                guard let payload = try StoreReads.readRecord(file: file, entry: entry, chunkID: header.chunkID) else {
                    return nil
                }
                copies.append(PendingRecord(header: header, payload: payload, expectedLocation: location))
            }
            return copies
        }
    }

    /// Removes the volume for readers, unlinks it durably, and only then drops the tombstones that protected
    /// against its puts. Returns the bytes reclaimed.
    private func retire(_ file: VolumeFile) async throws(BlobError) -> UInt64 {
        let volumeID = file.volumeID
        self.core.state.withLock { _ = $0.volumes.removeValue(forKey: volumeID) }
        let directory = self.core.directory
        do {
            try await self.core.blocking { try VolumeDirectory.remove(file.path) }
        } catch {
            self.core.state.withLock { $0.volumes[volumeID] = file }
            throw error
        }
        do {
            try await self.core.blocking { try VolumeDirectory.sync(directory) }
        } catch {
            // The unlink may not be durable: keep the tombstones that guard against its puts (the index still
            // counts the volume) and do not pick it again before a reopen rescans the directory.
            self.core.state.withLock { _ = $0.compactionBlockedVolumes.insert(volumeID) }
            throw error
        }
        return self.core.state.withLock { state in
            let total = state.index.usage[volumeID]?.totalBytes ?? 0
            state.index.removeVolume(volumeID)
            state.counters.compactedVolumeCount += 1
            return total
        }
    }
}

import NIOCore

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
        let candidates = try self.core.state.withLock { state throws(BlobError) -> [UInt32] in
            try Self.checkOpen(state)
            guard !state.isCompacting else { throw .unavailable("a compaction is already running") }
            state.isCompacting = true
            return state.compactionCandidates(deadFractionMin: self.core.options.compactionDeadFractionMin)
        }
        defer { self.core.state.withLock { $0.isCompacting = false } }
        var report = CompactionReport()
        for volumeID in candidates.prefix(volumesMax) {
            try await self.compactVolume(volumeID, report: &report)
        }
        report.candidatesRemaining = self.core.state.withLock { state in
            state.compactionCandidates(deadFractionMin: self.core.options.compactionDeadFractionMin).count
        }
        return report
    }

    private func compactVolume(_ volumeID: UInt32, report: inout CompactionReport) async throws(BlobError) {
        guard let file = self.core.state.withLock({ $0.volumes[volumeID] }) else { return }
        let size = try await self.core.blocking { try file.size() }
        // 1. The records of this volume the index still needs (headers only; payloads are checked when copied).
        let core = self.core
        let needed = try await self.core.blocking { () throws -> [(RecordHeader, RecordLocation)] in
            var needed: [(RecordHeader, RecordLocation)] = []
            var scanner = VolumeScanner(file: file, fileSize: size)
            _ = try scanner.scan(verifyPayloads: false) { header, offset in
                let location = RecordLocation(volumeID: volumeID, offset: offset)
                let keep = core.state.withLock { state in
                    guard state.index.entries[header.chunkID]?.location == location else { return false }
                    return header.kind == .put || state.index.tombstoneOutlives(header.chunkID, volumeID: volumeID)
                }
                if keep { needed.append((header, location)) }
            }
            return needed
        }
        // 2. Copy them in bounded groups, each one group commit.
        var start = 0
        while start < needed.count {
            var end = start
            var bytes = 0
            while end < needed.count && end - start < Limits.compactionBatchRecordsMax && (end == start || bytes + Int(needed[end].0.payloadLength) <= Limits.compactionBatchBytesMax) {
                bytes += Int(needed[end].0.payloadLength)
                end += 1
            }
            let group = Array(needed[start..<end])
            let records = try await self.core.blocking { () throws -> [PendingRecord]? in
                try group.map { header, location throws -> PendingRecord? in
                    guard header.kind == .put else { return PendingRecord(header: header, payload: nil, expectedLocation: location) }
                    let entry = IndexEntry(kind: .put, location: location, payloadLength: header.payloadLength, writeTimeMs: header.writeTimeMs)
                    guard var record = try StoreReads.readRecord(file: file, entry: entry, chunkID: header.chunkID) else { return nil }
                    record.moveReaderIndex(forwardBy: RecordHeader.size)
                    return PendingRecord(header: header, payload: record, expectedLocation: location)
                }.reduce(into: [PendingRecord]?.some([])) { all, record in
                    if let record { all?.append(record) } else { all = nil }
                }
            }
            guard let records else {
                // A live record is corrupt: keep the volume (scrub and repair will deal with it).
                self.core.state.withLock { state in
                    state.counters.checksumFailuresOnRead += 1
                    state.compactionBlockedVolumes.insert(volumeID)
                }
                self.core.options.logger.error("compaction skipped a volume with a corrupt live record", metadata: ["volume": "\(file.path)"])
                return
            }
            try await self.core.submit(records)
            report.recordsCopied += records.count
            report.bytesCopied += records.reduce(0) { $0 + $1.header.recordBytes }
            if let rate = self.core.options.compactionBytesPerSecondMax {
                let copied = records.reduce(0) { $0 + Int($1.header.recordBytes) }
                try? await Task.sleep(nanoseconds: UInt64(copied) * 1_000_000_000 / UInt64(rate))
            }
            start = end
        }
        // 3. Nothing may still need this volume; then retire it for readers, unlink it durably, and only
        // then drop the tombstones that protected against its puts.
        let stillNeeded = self.core.state.withLock { state in
            needed.contains { header, location in
                state.index.entries[header.chunkID]?.location == location
                    && (header.kind == .put || state.index.tombstoneOutlives(header.chunkID, volumeID: volumeID))
            }
        }
        precondition(!stillNeeded, "volume \(volumeID) still holds needed records after compaction copied them")
        self.core.state.withLock { _ = $0.volumes.removeValue(forKey: volumeID) }
        let directory = self.core.directory
        do {
            try await self.core.blocking {
                try VolumeDirectory.remove(file.path)
                try VolumeDirectory.sync(directory)
            }
        } catch {
            self.core.state.withLock { $0.volumes[volumeID] = file }
            throw error
        }
        let total = self.core.state.withLock { state in
            let total = state.index.usage[volumeID]?.totalBytes ?? 0
            state.index.removeVolume(volumeID)
            state.counters.compactedVolumeCount += 1
            return total
        }
        report.volumesCompacted.append(volumeID)
        report.bytesReclaimed += total
    }
}

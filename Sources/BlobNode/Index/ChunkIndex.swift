import BlobContract

/// Where a record lives: a volume and the offset of its header.
struct RecordLocation: Hashable, Sendable {
    var volumeID: UInt32
    var offset: UInt64
}

/// The index's view of one chunk: its newest record that still matters.
struct IndexEntry: Equatable, Sendable {
    var kind: RecordKind
    var location: RecordLocation
    var payloadLength: UInt32
    var writeTimeMs: Int64

    var recordBytes: UInt64 { UInt64(RecordHeader.size) + UInt64(self.payloadLength) }
}

/// Space accounting of one volume file.
struct VolumeUsage: Equatable, Sendable {
    /// Bytes of the file (records, corrupt ones and garbage included).
    var totalBytes: UInt64 = 0
    /// Bytes of records the index points to: live puts and tombstones still needed.
    /// Invariant: liveBytes <= totalBytes.
    var liveBytes: UInt64 = 0
    /// Sealed volumes take no more records and may be compacted. Set only after every record appended to
    /// the volume has been applied to the index, so compaction never misses one.
    var isSealed = false

    var deadBytes: UInt64 { self.totalBytes - self.liveBytes }
}

/// The in-memory index: chunk id → newest record, plus what compaction needs to keep tombstones exactly as
/// long as they matter. Pure (no I/O); the store applies records to it in append order, on start-up from
/// the scan and afterwards from the writer thread after each group commit.
///
/// Tombstone rule: a tombstone must survive on disk while any older `put` of its chunk survives in another
/// volume, or a restart would resurrect the chunk. `deadPutVolumes[c]` lists the volumes that still hold
/// superseded puts of `c`; a tombstone is kept in the index (and copied by compaction) while that list is
/// not empty, and dropped when the last of those volumes is deleted.
struct ChunkIndex: Sendable {
    private(set) var entries: [UInt128: IndexEntry] = [:]
    /// Volumes holding superseded puts of a chunk. Only non-empty lists are stored.
    private(set) var deadPutVolumes: [UInt128: [UInt32]] = [:]
    private(set) var usage: [UInt32: VolumeUsage] = [:]
    private(set) var liveChunkCount = 0
    private(set) var livePayloadBytes: UInt64 = 0
    private(set) var tombstoneCount = 0

    mutating func addVolume(_ volumeID: UInt32, totalBytes: UInt64, isSealed: Bool) {
        precondition(self.usage[volumeID] == nil, "volume \(volumeID) added twice")
        self.usage[volumeID] = VolumeUsage(totalBytes: totalBytes, liveBytes: 0, isSealed: isSealed)
    }

    mutating func seal(_ volumeID: UInt32) {
        precondition(self.usage[volumeID] != nil, "sealing unknown volume \(volumeID)")
        self.usage[volumeID]!.isSealed = true
    }

    /// Applies a record appended at `location` (after the volume's existing bytes).
    mutating func applyAppended(_ header: RecordHeader, at location: RecordLocation) {
        precondition(self.usage[location.volumeID] != nil, "append to unknown volume \(location.volumeID)")
        self.usage[location.volumeID]!.totalBytes += header.recordBytes
        self.apply(header, at: location)
    }

    /// Applies a record found at `location` (start-up scan: the volume's size is already counted).
    mutating func apply(_ header: RecordHeader, at location: RecordLocation) {
        let chunkID = header.chunkID
        if let old = self.entries.removeValue(forKey: chunkID) {
            self.forget(old)
            if old.kind == .put { self.addDeadPut(chunkID, volumeID: old.location.volumeID) }
        }
        let entry = IndexEntry(
            kind: header.kind, location: location, payloadLength: header.payloadLength, writeTimeMs: header.writeTimeMs)
        if header.kind == .tombstone && self.deadPutVolumes[chunkID] == nil {
            return  // no older put survives anywhere: this tombstone protects nothing and is dead space
        }
        self.entries[chunkID] = entry
        self.usage[location.volumeID]!.liveBytes += entry.recordBytes
        switch entry.kind {
        case .put:
            self.liveChunkCount += 1
            self.livePayloadBytes += UInt64(entry.payloadLength)
        case .tombstone:
            self.tombstoneCount += 1
        }
    }

    /// Forgets a volume whose file is gone (durably unlinked): its superseded puts no longer need
    /// tombstones, so tombstones protecting only those are dropped.
    /// Precondition: no live put or needed tombstone remains in the volume afterwards.
    mutating func removeVolume(_ volumeID: UInt32) {
        precondition(self.usage[volumeID] != nil, "removing unknown volume \(volumeID)")
        // Collect first, then mutate: mutating the dictionary while iterating it would copy it whole.
        var shrunk: [(UInt128, [UInt32])] = []
        for (chunkID, volumes) in self.deadPutVolumes where volumes.contains(volumeID) {
            shrunk.append((chunkID, volumes.filter { $0 != volumeID }))
        }
        for (chunkID, rest) in shrunk {
            guard rest.isEmpty else {
                self.deadPutVolumes[chunkID] = rest
                continue
            }
            self.deadPutVolumes[chunkID] = nil
            if let entry = self.entries[chunkID], entry.kind == .tombstone {
                self.entries[chunkID] = nil
                self.forget(entry)
            }
        }
        let usage = self.usage.removeValue(forKey: volumeID)!
        precondition(usage.liveBytes == 0, "volume \(volumeID) removed with \(usage.liveBytes) live bytes")
    }

    /// Whether a tombstone of `chunkID` in `volumeID` would still protect something once that volume is gone.
    func tombstoneOutlives(_ chunkID: UInt128, volumeID: UInt32) -> Bool {
        (self.deadPutVolumes[chunkID] ?? []).contains { $0 != volumeID }
    }

    /// Sealed volumes whose dead fraction exceeds `deadFractionMin`, ascending by id.
    /// Sealed volumes past the dead fraction, the most garbage first (ties by id, so the order is
    /// deterministic): the first ones reclaim the most space per byte copied.
    func compactionCandidates(deadFractionMin: Double) -> [UInt32] {
        self.usage.filter { _, usage in
            usage.isSealed && usage.totalBytes > 0
                && Double(usage.deadBytes) > deadFractionMin * Double(usage.totalBytes)
        }.sorted { left, right in
            let leftFraction = Double(left.value.deadBytes) / Double(left.value.totalBytes)
            let rightFraction = Double(right.value.deadBytes) / Double(right.value.totalBytes)
            return leftFraction != rightFraction ? leftFraction > rightFraction : left.key < right.key
        }.map(\.key)
    }

    var deadBytes: UInt64 { self.usage.values.reduce(0) { $0 + $1.deadBytes } }

    private mutating func forget(_ entry: IndexEntry) {
        let volume = entry.location.volumeID
        precondition(self.usage[volume]!.liveBytes >= entry.recordBytes, "volume \(volume) live bytes underflow")
        self.usage[volume]!.liveBytes -= entry.recordBytes
        switch entry.kind {
        case .put:
            self.liveChunkCount -= 1
            self.livePayloadBytes -= UInt64(entry.payloadLength)
        case .tombstone:
            self.tombstoneCount -= 1
        }
    }

    private mutating func addDeadPut(_ chunkID: UInt128, volumeID: UInt32) {
        var volumes = self.deadPutVolumes[chunkID] ?? []
        if !volumes.contains(volumeID) { volumes.append(volumeID) }
        self.deadPutVolumes[chunkID] = volumes
    }
}

extension ChunkIndex {
    /// The start-up scan cut the volume's torn tail off: its size is now `size`.
    mutating func truncateVolume(_ volumeID: UInt32, to size: UInt64) {
        precondition(self.usage[volumeID]!.liveBytes <= size, "truncating volume \(volumeID) below its live bytes")
        self.usage[volumeID]!.totalBytes = size
    }
}

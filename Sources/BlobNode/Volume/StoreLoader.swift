import Logging
import NIOCore
import BlobContract

#if canImport(Glibc)
    import Glibc
#endif

/// What `StoreLoader.load` hands to the new store.
struct LoadedStore: Sendable {
    var state: StoreState
    var active: VolumeFile
    var activeSize: UInt64
    var lockDescriptor: CInt
}

/// Opening a store directory: lock it, scan every volume in id order into a fresh index, and cut a torn
/// tail off the newest volume. Blocking; runs on the read pool.
enum StoreLoader {
    static func load(directory: String, verifySealedVolumes: Bool, logger: Logger) throws -> LoadedStore {
        try VolumeDirectory.create(directory)
        let lockDescriptor = try VolumeDirectory.lock(directory)
        do {
            return try self.scanAll(
                directory: directory, lockDescriptor: lockDescriptor, verifySealedVolumes: verifySealedVolumes,
                logger: logger)
        } catch {
            close(lockDescriptor)
            throw error
        }
    }

    private static func scanAll(
        directory: String, lockDescriptor: CInt, verifySealedVolumes: Bool, logger: Logger
    ) throws -> LoadedStore {
        var state = StoreState()
        var ids = try VolumeDirectory.volumeIDs(directory)
        if ids.isEmpty {
            _ = try VolumeFile.open(directory: directory, volumeID: 1, create: true)
            try VolumeDirectory.sync(directory)
            ids = [1]
        }
        var activeSize: UInt64 = 0
        for volumeID in ids {
            let file = try VolumeFile.open(directory: directory, volumeID: volumeID, create: false)
            let isActive = volumeID == ids.last
            let size = try file.size()
            state.index.addVolume(volumeID, totalBytes: size, isSealed: !isActive)
            var scanner = VolumeScanner(file: file, fileSize: size)
            // The active volume is always checked record by record: that is where a torn write can be.
            let outcome = try scanner.scan(verifyPayloads: isActive || verifySealedVolumes) { header, offset in
                state.index.apply(header, at: RecordLocation(volumeID: volumeID, offset: offset))
            }
            state.counters.corruptRecordsAtOpen += outcome.corruptRecordCount
            if outcome.corruptRecordCount > 0 {
                logger.error(
                    "corrupt records skipped",
                    metadata: ["volume": "\(file.path)", "count": "\(outcome.corruptRecordCount)"])
            }
            if let torn = outcome.tornTail {
                if isActive {
                    logger.warning(
                        "truncating torn tail",
                        metadata: [
                            "volume": "\(file.path)", "kind": "\(torn)", "from": "\(size)",
                            "to": "\(outcome.validEndOffset)",
                        ])
                    try file.truncate(to: outcome.validEndOffset)
                    try file.sync()
                    state.index.truncateVolume(volumeID, to: outcome.validEndOffset)
                } else {
                    // A sealed volume was fsync'd before the next one was created: a bad tail there is damage,
                    // not an interrupted write. Keep the bytes for inspection and count them.
                    state.counters.corruptRecordsAtOpen += 1
                    logger.error(
                        "damaged tail in sealed volume", metadata: ["volume": "\(file.path)", "kind": "\(torn)"])
                }
            }
            if isActive { activeSize = outcome.validEndOffset }
            state.volumes[volumeID] = file
        }
        let active = state.volumes[ids.last!]!
        return LoadedStore(state: state, active: active, activeSize: activeSize, lockDescriptor: lockDescriptor)
    }
}

/// Blocking reads of whole records (run on the read pool).
enum StoreReads {
    /// The record at `entry`, header included, or nil if its checksum (or header) does not match.
    /// Reads the record `entry` points at and checks it (header, chunk id, length, record CRC); returns
    /// its payload alone, or nil when the record is corrupt. The header and the payload are read into
    /// buffers of their own, so a 1 MiB payload occupies 1 MiB (one buffer of header plus payload would
    /// be rounded up to the next power of two: 2 MiB held by every GET in flight).
    static func readRecord(file: VolumeFile, entry: IndexEntry, chunkID: UInt128) throws -> ByteBuffer? {
        var headerBytes = [UInt8](repeating: 0, count: RecordHeader.size)
        let gotHeader = try headerBytes.withUnsafeMutableBytes { raw in
            try file.read(into: raw, at: entry.location.offset)
        }
        let count = Int(entry.payloadLength)
        var payload = ByteBufferAllocator().buffer(capacity: count)
        let got = count == 0 ? 0 : try payload.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
            try file.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<count]),
                          at: entry.location.offset + UInt64(RecordHeader.size))
        }
        guard gotHeader == RecordHeader.size, got == count else {
            throw SystemCallError(operation: "pread (short read of a record)", path: file.path, errorNumber: 0)
        }
        let valid = headerBytes.withUnsafeBytes { raw in
            guard case .success(let header) = RecordHeader.decode(raw), header.chunkID == chunkID,
                header.kind == entry.kind, header.payloadLength == entry.payloadLength
            else { return false }
            return payload.withUnsafeReadableBytes { header.matches(payload: $0) }
        }
        return valid ? payload : nil
    }
}

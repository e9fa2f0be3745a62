import Foundation

/// The dedicated thread behind `SegmentedWAL`: it recovers the segments, then takes every waiting append, writes
/// them with one `write`, calls fdatasync once, and completes them all (group commit).
///
/// `@unchecked Sendable` is safe because the mutable state is split in two: `queue`, `closing`, `failure` and
/// `counters` are read and written only while holding `condition`; the file state (`segments`, `fd`,
/// `segmentBytes`, `hardState`, `compact`) is touched only by the writer thread after `start`.
final class WALWriter: @unchecked Sendable {
    private struct Pending {
        var bytes: [UInt8]
        var meta: AppendMeta
        var done: @Sendable (Result<Void, StorageError>) -> Void
    }

    private struct Segment {
        var sequence: UInt64
        var maxEntryIndex: UInt64
    }

    let directory: String
    let segmentSizeBytes: Int
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queue: [Pending] = []
    private var closing: [@Sendable () -> Void] = []
    private var isClosed = false
    private var failure: StorageError?
    private var counters = WALStatistics()
    // Writer thread only.
    private var segments: [Segment] = []
    private var fd: Int32 = -1
    private var segmentBytes = 0
    /// The current segment has bytes written by a `sync: false` append and not yet fsynced.
    private var isDirty = false
    private var hardState: [UInt8]?
    private var compact: (index: UInt64, payload: [UInt8])?

    init(directory: String, segmentSizeBytes: Int) {
        self.directory = directory
        self.segmentSizeBytes = segmentSizeBytes
    }

    var statistics: WALStatistics {
        condition.lock()
        defer { condition.unlock() }
        return counters
    }

    func start(recovered: @escaping @Sendable (Result<WALRecovery, StorageError>) -> Void) {
        let thread = Thread { [self] in
            let result: Result<WALRecovery, StorageError>
            do throws(StorageError) {
                result = .success(try recover())
            } catch {
                result = .failure(error)
            }
            if case .failure(let error) = result {
                condition.lock()
                failure = error
                isClosed = true
                condition.unlock()
                recovered(result)
                return
            }
            recovered(result)
            run()
        }
        thread.name = "silo-wal"
        thread.start()
    }

    func enqueue(bytes: [UInt8], meta: AppendMeta, done: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
        condition.lock()
        if isClosed || !closing.isEmpty {
            condition.unlock()
            done(.failure(failure ?? .closed))
            return
        }
        if queue.count >= StorageLimits.pendingAppendsMax {
            condition.unlock()
            done(.failure(.overloaded))
            return
        }
        queue.append(Pending(bytes: bytes, meta: meta, done: done))
        condition.signal()
        condition.unlock()
    }

    func close(done: @escaping @Sendable () -> Void) {
        condition.lock()
        if isClosed {
            condition.unlock()
            done()
            return
        }
        closing.append(done)
        condition.signal()
        condition.unlock()
    }

    // MARK: - The writer loop

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && closing.isEmpty { condition.wait() }
            let batch = takeBatch()
            let closers = queue.isEmpty ? closing : []
            if !closers.isEmpty {
                closing.removeAll()
                isClosed = true
            }
            condition.unlock()

            if !batch.isEmpty { commit(batch) }
            if !closers.isEmpty {
                if fd >= 0 && isDirty { try? POSIXFile.syncData(fd, path: segmentPath(segments[segments.count - 1].sequence)) }
                if fd >= 0 { POSIXFile.close(fd) }
                fd = -1
                for closer in closers { closer() }
                return
            }
        }
    }

    /// Takes waiting appends up to `StorageLimits.groupCommitBytesMax` (at least one). Caller holds `condition`.
    private func takeBatch() -> [Pending] {
        var bytes = 0
        var count = 0
        for pending in queue {
            if count > 0 && bytes + pending.bytes.count > StorageLimits.groupCommitBytesMax { break }
            bytes += pending.bytes.count
            count += 1
        }
        let batch = Array(queue.prefix(count))
        queue.removeFirst(count)
        return batch
    }

    private func commit(_ batch: [Pending]) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(batch.reduce(0) { $0 + $1.bytes.count })
        for pending in batch { bytes.append(contentsOf: pending.bytes) }
        let result: Result<Void, StorageError>
        do throws(StorageError) {
            try write(bytes, sync: batch.contains { $0.meta.sync })
            for pending in batch { absorb(pending.meta) }
            if batch.contains(where: { $0.meta.compact != nil }) { try deleteCompactedSegments() }
            if segmentBytes >= segmentSizeBytes { try rotate() }
            result = .success(())
        } catch {
            result = .failure(error)
        }
        condition.lock()
        if case .failure(let error) = result {
            failure = error
            isClosed = true
            // Everything still queued was never written: fail it too.
            let stranded = queue
            queue.removeAll()
            condition.unlock()
            for pending in batch + stranded { pending.done(.failure(error)) }
            failCloserWaiters()
            return
        }
        counters.appendCount += batch.count
        counters.recordCount += batch.reduce(0) { $0 + $1.meta.recordCount }
        if batch.contains(where: { $0.meta.sync }) { counters.syncCount += 1 }
        counters.bytesWritten += bytes.count
        condition.unlock()
        for pending in batch { pending.done(.success(())) }
    }

    private func failCloserWaiters() {
        condition.lock()
        let closers = closing
        closing.removeAll()
        condition.unlock()
        for closer in closers { closer() }
    }

    private func write(_ bytes: [UInt8], sync: Bool) throws(StorageError) {
        let path = segmentPath(segments[segments.count - 1].sequence)
        try POSIXFile.writeAll(fd, bytes, path: path)
        if sync {
            try POSIXFile.syncData(fd, path: path)
            isDirty = false
        } else {
            isDirty = true
        }
        segmentBytes += bytes.count
    }

    private func absorb(_ meta: AppendMeta) {
        if let state = meta.hardState { hardState = state }
        if let marker = meta.compact, marker.index >= (compact?.index ?? 0) { compact = marker }
        segments[segments.count - 1].maxEntryIndex = max(segments[segments.count - 1].maxEntryIndex, meta.maxEntryIndex)
    }

    /// Deletes the oldest segments whose entries the compaction point covers (never the current one).
    private func deleteCompactedSegments() throws(StorageError) {
        guard let through = compact?.index else { return }
        var deleted = 0
        while segments.count > 1 && segments[0].maxEntryIndex <= through {
            try POSIXFile.remove(segmentPath(segments[0].sequence))
            segments.removeFirst()
            deleted += 1
        }
        guard deleted > 0 else { return }
        try POSIXFile.syncDirectory(directory)
        condition.lock()
        counters.segmentsDeleted += deleted
        condition.unlock()
    }

    /// Starts a new segment that begins with the current hard state and compaction point.
    private func rotate() throws(StorageError) {
        // A segment is never left behind with unsynced bytes: recovery treats damage in older segments as corruption.
        if isDirty { try POSIXFile.syncData(fd, path: segmentPath(segments[segments.count - 1].sequence)) }
        isDirty = false
        let sequence = (segments.last?.sequence ?? 0) + 1
        try openSegment(sequence: sequence)
        var header: [UInt8] = []
        if let state = hardState { WALRecordCodec.encode(.hardState(state), into: &header) }
        if let marker = compact {
            WALRecordCodec.encode(.compact(throughIndex: marker.index, payload: marker.payload), into: &header)
        }
        if !header.isEmpty { try write(header, sync: true) }
    }

    private func openSegment(sequence: UInt64) throws(StorageError) {
        if fd >= 0 { POSIXFile.close(fd) }
        fd = try POSIXFile.openForAppend(segmentPath(sequence), create: true)
        try POSIXFile.syncDirectory(directory)
        segments.append(Segment(sequence: sequence, maxEntryIndex: 0))
        segmentBytes = 0
        condition.lock()
        counters.segmentsCreated += 1
        condition.unlock()
    }

    func segmentPath(_ sequence: UInt64) -> String {
        let hex = String(sequence, radix: 16)
        return directory + "/" + String(repeating: "0", count: max(0, 16 - hex.count)) + hex + ".wal"
    }

    // MARK: - Recovery

    private func recover() throws(StorageError) -> WALRecovery {
        try POSIXFile.makeDirectory(directory)
        let sequences = try POSIXFile.listDirectory(directory).compactMap(Self.sequence(ofSegmentNamed:)).sorted()
        var replay = WALReplay()
        var tornBytes = 0
        for (position, sequence) in sequences.enumerated() {
            let path = segmentPath(sequence)
            let bytes = try POSIXFile.readAll(path)
            let isTail = position == sequences.count - 1
            let scan = try Self.scan(bytes, path: path, isTail: isTail, replay: &replay)
            segments.append(Segment(sequence: sequence, maxEntryIndex: scan.maxEntryIndex))
            if isTail {
                if scan.validBytes < bytes.count {
                    tornBytes = bytes.count - scan.validBytes
                    try POSIXFile.truncate(path, toBytes: scan.validBytes)
                }
                fd = try POSIXFile.openForAppend(path, create: false)
                if tornBytes > 0 { try POSIXFile.syncData(fd, path: path) }
                segmentBytes = scan.validBytes
            }
        }
        if let problem = replay.finish() {
            throw .inconsistentLog(path: directory, offset: 0, reason: problem)
        }
        hardState = replay.state.hardState
        if let payload = replay.state.compactPayload {
            compact = (replay.state.compactedThroughIndex, payload)
        }
        if segments.isEmpty { try openSegment(sequence: 1) }
        var state = replay.state
        state.tornBytesTruncated = tornBytes
        return state
    }

    struct Scan {
        var validBytes: Int
        var maxEntryIndex: UInt64
    }

    /// Decodes one segment into `replay`. In the tail segment a record cut short, or a failing record followed
    /// only by zeros, ends the valid part (a torn write); anywhere else a failing record is corruption.
    static func scan(_ bytes: [UInt8], path: String, isTail: Bool, replay: inout WALReplay) throws(StorageError) -> Scan {
        var offset = 0
        var maxEntryIndex: UInt64 = 0
        while offset < bytes.count {
            switch WALRecordCodec.decode(bytes, at: offset) {
            case .record(let record, let next):
                if let problem = replay.apply(record) {
                    throw .inconsistentLog(path: path, offset: offset, reason: problem)
                }
                if case .entry(let index, _) = record { maxEntryIndex = max(maxEntryIndex, index) }
                offset = next
            case .short:
                guard isTail && isTornTail(bytes, failingRecordAt: offset) else {
                    throw .corruptRecord(path: path, offset: offset, reason: "record cut short")
                }
                return Scan(validBytes: offset, maxEntryIndex: maxEntryIndex)
            case .bad(let reason):
                guard isTail && isTornTail(bytes, failingRecordAt: offset) else {
                    throw .corruptRecord(path: path, offset: offset, reason: reason)
                }
                return Scan(validBytes: offset, maxEntryIndex: maxEntryIndex)
            case .unknownType(let type):
                throw .inconsistentLog(path: path, offset: offset, reason: "unknown record type \(type)")
            }
        }
        return Scan(validBytes: offset, maxEntryIndex: maxEntryIndex)
    }

    /// A failing record in the last segment is a torn write only when no intact record starts anywhere after it:
    /// the writer fsyncs each group before writing the next, so an intact record after a failing one means the
    /// failing one had been durable (and acknowledged) and has since been damaged. The search checks each later
    /// offset's header CRC (17 bytes) first, so it is linear in the bytes after the failure.
    ///
    /// Limits: damage to the very last record is indistinguishable from a torn write and is truncated; a power cut
    /// that persisted a torn group's sectors out of order can be reported as corruption (the safe side).
    static func isTornTail(_ bytes: [UInt8], failingRecordAt offset: Int) -> Bool {
        var candidate = offset + 1
        while candidate + WALRecordCodec.headerBytes <= bytes.count {
            if WALRecordCodec.headerLength(bytes, at: candidate) != nil,
                case .record = WALRecordCodec.decode(bytes, at: candidate)
            {
                return false
            }
            candidate += 1
        }
        return true
    }

    static func sequence(ofSegmentNamed name: String) -> UInt64? {
        guard name.hasSuffix(".wal"), name.count == 20 else { return nil }
        return UInt64(name.dropLast(4), radix: 16)
    }
}

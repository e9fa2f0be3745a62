import NIOCore
import BlobContract

/// The dedicated writer thread: it alone appends to the active volume, rotates volumes, and fsyncs.
/// Each turn it takes every queued request (up to the batch limits), appends their records, makes them
/// durable with one `fdatasync` (group commit), applies them to the index in append order, and only then
/// resumes the waiting callers. Lives on its own one-thread `NIOThreadPool`, never on the cooperative pool.
struct VolumeWriter: ~Copyable {
    private let core: StoreCore
    /// Invariant: the highest volume id; only this thread appends to it.
    private var active: VolumeFile
    /// Invariant: the bytes of `active` (records already appended and, after the batch's sync, durable).
    private var activeSize: UInt64

    init(core: StoreCore, active: VolumeFile, activeSize: UInt64) {
        self.core = core
        self.active = active
        self.activeSize = activeSize
    }

    /// The thread's loop: returns once `close()` asked it to stop and the queue is empty.
    mutating func run() {
        while true {
            self.core.writerWakeup.wait()
            while true {
                let (batch, stop) = self.core.state.withLock { state in
                    let batch = state.takeBatch(
                        recordsMax: self.core.options.writeBatchRecordsMax, bytesMax: Limits.writeBatchBytesMax)
                    return (batch, batch.isEmpty && state.stopRequested)
                }
                if stop { return }
                if batch.isEmpty { break }
                self.commit(batch)
            }
        }
    }

    private mutating func commit(_ batch: [WriteRequest]) {
        if let failure = self.core.state.withLock({ $0.failure }) {
            for request in batch {
                request.continuation.resume(returning: .failure(.unavailable("the chunk store failed: \(failure)")))
            }
            return
        }
        var results = [Result<Void, BlobError>](repeating: .success(()), count: batch.count)
        var appended: [(RecordHeader, RecordLocation)] = []
        var sealed: [UInt32] = []
        var touched = Set<UInt128>()
        var fsyncs = 0
        var fatal: String?
        requests: for (requestIndex, request) in batch.enumerated() {
            if request.sealsActiveVolume && self.activeSize > 0 {
                do {
                    let previous = self.active.volumeID
                    try self.rotate()
                    sealed.append(previous)
                    fsyncs += 1
                } catch {
                    results[requestIndex] = .failure(error.blobError)
                    continue requests
                }
            }
            for record in request.records {
                if let expected = record.expectedLocation {
                    let current = self.core.state.withLock { $0.index.entries[record.header.chunkID]?.location }
                    if touched.contains(record.header.chunkID) || current != expected { continue }
                }
                do {
                    if self.activeSize > 0
                        && self.activeSize + record.header.recordBytes > self.core.options.volumeSizeBytesMax
                    {
                        let previous = self.active.volumeID
                        try self.rotate()
                        sealed.append(previous)
                        fsyncs += 1
                    }
                    try self.append(record)
                } catch let error as SystemCallError {
                    results[requestIndex] = .failure(error.blobError)
                    // A failed append may have left part of a record: cut it off so the next one follows a
                    // whole record. If even that fails the file's tail is unknown and the store stops writing.
                    do { try self.active.truncate(to: self.activeSize) } catch { fatal = "\(error)" }
                    if fatal != nil { break requests }
                    continue requests
                } catch {
                    preconditionFailure("unexpected error \(error)")
                }
                appended.append(
                    (record.header, RecordLocation(volumeID: self.active.volumeID, offset: self.activeSize)))
                self.activeSize += record.header.recordBytes
                touched.insert(record.header.chunkID)
            }
        }
        if fatal == nil && !appended.isEmpty {
            do {
                if let errorNumber = self.core.options.faults?.syncError?() {
                    throw SystemCallError(
                        operation: "fdatasync (injected)", path: self.active.path, errorNumber: errorNumber)
                }
                try self.active.sync()
                fsyncs += 1
            } catch {
                fatal = "\(error)"
            }
        }
        self.core.state.withLock { state in
            state.counters.fsyncCount += fsyncs
            if let fatal {
                state.failure = fatal
                return
            }
            state.counters.groupCommitCount += 1
            state.counters.recordsAppended += appended.count
            for (header, location) in appended { state.index.applyAppended(header, at: location) }
            for volumeID in sealed { state.index.seal(volumeID) }
        }
        for (request, result) in zip(batch, results) {
            if let fatal {
                request.continuation.resume(returning: .failure(.io("group commit failed: \(fatal)")))
            } else {
                request.continuation.resume(returning: result)
            }
        }
    }

    /// Appends one record at the end of the active volume, checking its checksum right before the write
    /// (the write half of the pair assertion; reads check it again).
    private func append(_ record: PendingRecord) throws {
        let header = record.header
        var headerBytes = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        try withUnsafeMutableBytes(of: &headerBytes) { raw in
            let headerRaw = UnsafeMutableRawBufferPointer(rebasing: raw[0..<RecordHeader.size])
            header.encode(into: headerRaw)
            let payload = record.payload ?? ByteBuffer()
            try payload.withUnsafeReadableBytes { payloadRaw in
                precondition(
                    header.matches(payload: payloadRaw),
                    "record CRC mismatch before write: chunk \(header.chunkID) length \(payloadRaw.count)")
                if let errorNumber = self.core.options.faults?.writeError?(header) {
                    // A short write, as a full disk leaves one: part of the header, then the error.
                    let part = UnsafeRawBufferPointer(rebasing: headerRaw[0..<(RecordHeader.size / 2)])
                    try self.active.write(part, UnsafeRawBufferPointer(start: nil, count: 0), at: self.activeSize)
                    throw SystemCallError(
                        operation: "pwritev (injected)", path: self.active.path, errorNumber: errorNumber)
                }
                try self.active.write(UnsafeRawBufferPointer(headerRaw), payloadRaw, at: self.activeSize)
            }
        }
    }

    /// Seals the active volume (durably) and starts the next one.
    private mutating func rotate() throws(SystemCallError) {
        try self.active.sync()
        let next = try VolumeFile.open(directory: self.core.directory, volumeID: self.active.volumeID + 1, create: true)
        try VolumeDirectory.sync(self.core.directory)
        self.core.state.withLock { state in
            state.volumes[next.volumeID] = next
            state.index.addVolume(next.volumeID, totalBytes: 0, isSealed: false)
        }
        self.active = next
        self.activeSize = 0
    }
}

public import NIOPosix

/// A snapshot as stored on disk: the log index it covers through, opaque metadata (the core's snapshot metadata:
/// term, configuration) and the state machine's bytes.
public struct StoredSnapshot: Sendable, Equatable {
    /// The last log index the snapshot covers.
    public var index: UInt64
    /// Opaque metadata for the layer above (for example the encoded Raft snapshot metadata).
    public var metadata: [UInt8]
    /// The state machine's snapshot bytes.
    public var data: [UInt8]

    public init(index: UInt64, metadata: [UInt8], data: [UInt8]) {
        self.index = index
        self.metadata = metadata
        self.data = data
    }
}

/// Snapshot files in one directory, each written atomically and checksummed.
///
/// Save: write `<index>.snap.tmp`, fsync it, rename it to `<index>.snap`, fsync the directory; then delete all but
/// the `StorageLimits.snapshotsRetained` newest. Load: the newest file whose checksum holds; a damaged file is renamed
/// to `.corrupted` (kept for inspection, never read again) and the next older one is tried.
/// File format: `"SILOSNP1"`, index u64, metadata length u32, data length u64, metadata, data, crc32 u32 of all
/// that precedes it (little-endian).
///
/// All blocking calls run on the `NIOThreadPool` given at init, never on the cooperative pool.
public final class SnapshotStore: Sendable {
    /// The directory holding the snapshot files.
    public let directory: String
    private let threadPool: NIOThreadPool

    /// Creates a store over `directory` (created on first save or load). `threadPool` runs the blocking calls.
    public init(directory: String, threadPool: NIOThreadPool) {
        self.directory = directory
        self.threadPool = threadPool
    }

    /// Writes `snapshot` durably (see the type's contract) and returns once the rename is durable.
    public func save(_ snapshot: StoredSnapshot) async throws(StorageError) {
        let directory = self.directory
        try await run { () throws(StorageError) in try Self.saveBlocking(snapshot, directory: directory) }
    }

    /// The newest intact snapshot, or nil when there is none.
    public func loadNewest() async throws(StorageError) -> StoredSnapshot? {
        let directory = self.directory
        return try await run { () throws(StorageError) in try Self.loadNewestBlocking(directory: directory) }
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable () throws(StorageError) -> T) async throws(StorageError) -> T {
        let result: Result<T, StorageError>
        do {
            result = try await threadPool.runIfActive {
                do throws(StorageError) { return .success(try body()) } catch { return .failure(error) }
            }
        } catch {
            throw .closed
        }
        return try result.get()
    }

    static let magic: [UInt8] = Array("SILOSNP1".utf8)

    static func encode(_ snapshot: StoredSnapshot) -> [UInt8] {
        var bytes = magic
        appendLittleEndian(snapshot.index, to: &bytes)
        appendLittleEndian(UInt32(snapshot.metadata.count), to: &bytes)
        appendLittleEndian(UInt64(snapshot.data.count), to: &bytes)
        bytes.append(contentsOf: snapshot.metadata)
        bytes.append(contentsOf: snapshot.data)
        appendLittleEndian(zlibCRC32(bytes[...]), to: &bytes)
        return bytes
    }

    static func decode(_ bytes: [UInt8], path: String) throws(StorageError) -> StoredSnapshot {
        let headerBytes = 8 + 8 + 4 + 8
        guard bytes.count >= headerBytes + 4, Array(bytes[0..<8]) == magic else {
            throw .corruptSnapshot(path: path, reason: "bad magic or too short (\(bytes.count) bytes)")
        }
        let stored = readLittleEndian(bytes, at: bytes.count - 4, as: UInt32.self)
        let computed = zlibCRC32(bytes[0..<(bytes.count - 4)])
        guard stored == computed else { throw .corruptSnapshot(path: path, reason: "crc \(stored) != \(computed)") }
        let index = readLittleEndian(bytes, at: 8, as: UInt64.self)
        let metadataBytes = Int(readLittleEndian(bytes, at: 16, as: UInt32.self))
        let storedDataBytes = readLittleEndian(bytes, at: 20, as: UInt64.self)
        guard storedDataBytes <= UInt64(StorageLimits.snapshotBytesMax) else {
            throw .corruptSnapshot(path: path, reason: "data length \(storedDataBytes) above \(StorageLimits.snapshotBytesMax)")
        }
        let dataBytes = Int(storedDataBytes)
        guard headerBytes + metadataBytes + dataBytes + 4 == bytes.count else {
            throw .corruptSnapshot(path: path, reason: "lengths \(metadataBytes)+\(dataBytes) vs \(bytes.count) bytes")
        }
        let metadata = Array(bytes[headerBytes..<(headerBytes + metadataBytes)])
        let data = Array(bytes[(headerBytes + metadataBytes)..<(bytes.count - 4)])
        return StoredSnapshot(index: index, metadata: metadata, data: data)
    }

    static func fileName(index: UInt64) -> String {
        let hex = String(index, radix: 16)
        return String(repeating: "0", count: max(0, 16 - hex.count)) + hex + ".snap"
    }

    static func index(ofFileNamed name: String) -> UInt64? {
        guard name.hasSuffix(".snap"), name.count == 21 else { return nil }
        return UInt64(name.dropLast(5), radix: 16)
    }

    static func saveBlocking(_ snapshot: StoredSnapshot, directory: String) throws(StorageError) {
        try POSIXFile.makeDirectory(directory)
        let final = directory + "/" + fileName(index: snapshot.index)
        let temporary = final + ".tmp"
        let fd = try POSIXFile.openForWrite(temporary)
        do throws(StorageError) {
            try POSIXFile.writeAll(fd, encode(snapshot), path: temporary)
            try POSIXFile.syncData(fd, path: temporary)
        } catch {
            POSIXFile.close(fd)
            try? POSIXFile.remove(temporary)
            throw error
        }
        POSIXFile.close(fd)
        try POSIXFile.rename(temporary, final)
        try POSIXFile.syncDirectory(directory)
        let indices = try POSIXFile.listDirectory(directory).compactMap(index(ofFileNamed:)).sorted(by: >)
        for old in indices.dropFirst(StorageLimits.snapshotsRetained) {
            try POSIXFile.remove(directory + "/" + fileName(index: old))
        }
    }

    static func loadNewestBlocking(directory: String) throws(StorageError) -> StoredSnapshot? {
        try POSIXFile.makeDirectory(directory)
        let indices = try POSIXFile.listDirectory(directory).compactMap(index(ofFileNamed:)).sorted(by: >)
        for index in indices {
            let path = directory + "/" + fileName(index: index)
            let bytes = try POSIXFile.readAll(path)
            do throws(StorageError) {
                let snapshot = try decode(bytes, path: path)
                // A file whose name and contents disagree is the disk's fault, not ours: set it aside like a
                // CRC failure and try the next older one.
                guard snapshot.index == index else {
                    throw .corruptSnapshot(path: path, reason: "file named for index \(index) holds index \(snapshot.index)")
                }
                return snapshot
            } catch {
                try POSIXFile.rename(path, path + ".corrupted")
            }
        }
        return nil
    }
}

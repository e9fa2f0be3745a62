public import NIOPosix
import Synchronization

/// A snapshot as stored on disk: the log index it covers through, opaque metadata (the core's snapshot metadata:
/// term, configuration) and the state machine's bytes, a file the store owns.
public struct StoredSnapshot: Sendable {
    /// The last log index the snapshot covers.
    public var index: UInt64
    /// Opaque metadata for the layer above (for example the encoded Raft snapshot metadata).
    public var metadata: [UInt8]
    /// The state machine's snapshot bytes: the store's durable data file (read it; never write, move or delete it).
    public var file: SnapshotFile

    public init(index: UInt64, metadata: [UInt8], file: SnapshotFile) {
        self.index = index
        self.metadata = metadata
        self.file = file
    }
}

/// Snapshot files in one directory, each written atomically and checksummed, and streamed: no call holds more
/// than `StorageLimits.snapshotPieceBytes` of a snapshot in memory, whatever its size.
///
/// A snapshot is two files: `<index>.data` (the state machine's bytes, exactly) and `<index>.snap`, the commit
/// record: `"SILOSNP2"`, index u64, metadata length u32, data length u64, data crc32 u32, metadata, then a crc32
/// u32 of all that precedes it (little-endian). A `.data` without its `.snap` is an unfinished save.
///
/// Who calls what: the driver stages a snapshot's bytes in a file of `stagingPath` (the state machine writes
/// there) or in a `makeSink` file (a follower assembling chunks), or hands any payload, then `save`s it: the
/// bytes are synced and renamed to `.data` (copied when the payload is not a staging file), the directory
/// synced, the `.snap` written to a temporary name, synced, renamed and the directory synced again; then all
/// but the `StorageLimits.snapshotsRetained` newest are deleted. `loadNewest` at start answers the newest
/// snapshot whose record and data checksums hold: a damaged one is renamed `.corrupted` (kept for inspection,
/// never read again) and the next older one is tried; staging leftovers are removed. A format-1 file
/// (`"SILOSNP1"`: the data inside the `.snap`, from earlier versions) is migrated to the two-file form.
///
/// All blocking calls run on the `NIOThreadPool` given at init, never on the cooperative pool.
public final class SnapshotStore: Sendable {
    /// The directory holding the snapshot files.
    public let directory: String
    private let threadPool: NIOThreadPool
    private let stagingSerial = Atomic<UInt64>(0)

    /// Creates a store over `directory` (created on first save or load). `threadPool` runs the blocking calls.
    public init(directory: String, threadPool: NIOThreadPool) {
        self.directory = directory
        self.threadPool = threadPool
    }

    /// A new path in the directory for the state machine to write the snapshot at `index` to (then `open`
    /// and `save` it). Unique within this process; `loadNewest` removes leftovers of earlier ones.
    public func stagingPath(index: UInt64) -> String {
        let serial = stagingSerial.add(1, ordering: .relaxed).newValue
        return directory + "/" + Self.hex(index) + "-\(serial)" + Self.stagingSuffix
    }

    /// A sink assembling an incoming snapshot in a staging file (see `SnapshotFileSink`).
    public func makeSink(index: UInt64) throws(StorageError) -> SnapshotFileSink {
        try POSIXFile.makeDirectory(directory)
        return try SnapshotFileSink(path: stagingPath(index: index))
    }

    /// Opens a file the state machine wrote (at a `stagingPath`) as a payload to `save`.
    public func open(_ path: String) async throws(StorageError) -> SnapshotFile {
        try await run { () throws(StorageError) in try SnapshotFile(openingForRead: path) }
    }

    /// Writes the snapshot at `index` durably (see the type's contract) and returns it as stored, once every
    /// rename is durable. A staging file of this store is renamed, any other payload copied in pieces.
    public func save(index: UInt64, metadata: [UInt8], payload: any SnapshotPayload) async throws(StorageError) -> StoredSnapshot {
        let directory = self.directory
        return try await run { () throws(StorageError) in
            try Self.saveBlocking(index: index, metadata: metadata, payload: payload, directory: directory)
        }
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

    /// The commit record of the two-file format.
    static let magic: [UInt8] = Array("SILOSNP2".utf8)
    /// The one-file format of earlier versions (data inside the `.snap`), still loaded.
    static let formatOneMagic: [UInt8] = Array("SILOSNP1".utf8)
    static let recordSuffix = ".snap"
    static let dataSuffix = ".data"
    static let stagingSuffix = ".part"
    static let headerBytes = 8 + 8 + 4 + 8 + 4

    /// A commit record: where the data file's bytes are checked against.
    struct Record: Equatable {
        var index: UInt64
        var metadata: [UInt8]
        var dataBytes: UInt64
        var dataCRC: UInt32
    }

    static func encode(_ record: Record) -> [UInt8] {
        var bytes = magic
        appendLittleEndian(record.index, to: &bytes)
        appendLittleEndian(UInt32(record.metadata.count), to: &bytes)
        appendLittleEndian(record.dataBytes, to: &bytes)
        appendLittleEndian(record.dataCRC, to: &bytes)
        bytes.append(contentsOf: record.metadata)
        appendLittleEndian(zlibCRC32(bytes[...]), to: &bytes)
        return bytes
    }

    static func decode(_ bytes: [UInt8], path: String) throws(StorageError) -> Record {
        guard bytes.count >= headerBytes + 4, Array(bytes[0..<8]) == magic else {
            throw .corruptSnapshot(path: path, reason: "bad magic or too short (\(bytes.count) bytes)")
        }
        let stored = readLittleEndian(bytes, at: bytes.count - 4, as: UInt32.self)
        let computed = zlibCRC32(bytes[0..<(bytes.count - 4)])
        guard stored == computed else { throw .corruptSnapshot(path: path, reason: "crc \(stored) != \(computed)") }
        let metadataBytes = Int(readLittleEndian(bytes, at: 16, as: UInt32.self))
        guard headerBytes + metadataBytes + 4 == bytes.count else {
            throw .corruptSnapshot(path: path, reason: "metadata length \(metadataBytes) vs \(bytes.count) bytes")
        }
        let record = Record(
            index: readLittleEndian(bytes, at: 8, as: UInt64.self),
            metadata: Array(bytes[headerBytes..<(headerBytes + metadataBytes)]),
            dataBytes: readLittleEndian(bytes, at: 20, as: UInt64.self),
            dataCRC: readLittleEndian(bytes, at: 28, as: UInt32.self))
        guard record.dataBytes <= Limits.snapshotBytesMax else {
            throw .corruptSnapshot(path: path, reason: "data length \(record.dataBytes) above \(Limits.snapshotBytesMax)")
        }
        return record
    }

    static func hex(_ index: UInt64) -> String {
        let hex = String(index, radix: 16)
        return String(repeating: "0", count: max(0, 16 - hex.count)) + hex
    }

    static func fileName(index: UInt64) -> String { hex(index) + recordSuffix }
    static func dataFileName(index: UInt64) -> String { hex(index) + dataSuffix }

    static func index(ofFileNamed name: String) -> UInt64? {
        guard name.hasSuffix(recordSuffix), name.count == 16 + recordSuffix.count else { return nil }
        return UInt64(name.dropLast(recordSuffix.count), radix: 16)
    }

    static func saveBlocking(
        index: UInt64, metadata: [UInt8], payload: any SnapshotPayload, directory: String
    ) throws(StorageError) -> StoredSnapshot {
        try POSIXFile.makeDirectory(directory)
        guard payload.byteCount <= Limits.snapshotBytesMax else {
            throw .corruptSnapshot(path: directory, reason: "snapshot of \(payload.byteCount) bytes above \(Limits.snapshotBytesMax)")
        }
        let dataPath = directory + "/" + dataFileName(index: index)
        if let file = payload as? SnapshotFile, file.path.hasPrefix(directory + "/"), file.path.hasSuffix(stagingSuffix) {
            try file.sync()
            try POSIXFile.rename(file.path, dataPath)
        } else {
            try copy(payload, to: dataPath)
        }
        try POSIXFile.syncDirectory(directory)
        let data = try SnapshotFile(openingForRead: dataPath)
        guard data.byteCount == payload.byteCount else {
            throw .corruptSnapshot(path: dataPath, reason: "holds \(data.byteCount) bytes after saving \(payload.byteCount)")
        }
        let record = Record(index: index, metadata: metadata, dataBytes: data.byteCount, dataCRC: try data.checksum())
        let final = directory + "/" + fileName(index: index)
        try writeDurably(encode(record), to: final)
        try POSIXFile.syncDirectory(directory)
        let indices = try POSIXFile.listDirectory(directory).compactMap(Self.index(ofFileNamed:)).sorted(by: >)
        for old in indices.dropFirst(StorageLimits.snapshotsRetained) {
            try POSIXFile.remove(directory + "/" + fileName(index: old))
            try POSIXFile.remove(directory + "/" + dataFileName(index: old))
        }
        return StoredSnapshot(index: index, metadata: metadata, file: data)
    }

    /// Copies `payload` into a new durable file at `path` (through a temporary name), in pieces.
    static func copy(_ payload: any SnapshotPayload, to path: String) throws(StorageError) {
        try writeDurably(to: path) { (fd, temporary) throws(StorageError) in
            var offset: UInt64 = 0
            while offset < payload.byteCount {
                let piece: [UInt8]
                do throws(LogStorageError) {
                    piece = try payload.read(at: offset, count: StorageLimits.snapshotPieceBytes)
                } catch {
                    throw .corruptSnapshot(path: path, reason: "payload unreadable at \(offset): \(error)")
                }
                guard !piece.isEmpty else { throw .corruptSnapshot(path: path, reason: "payload ends at \(offset)") }
                try POSIXFile.writeAll(fd, piece, path: temporary)
                offset += UInt64(piece.count)
            }
        }
    }

    /// Writes `bytes` to a new durable file at `path` (through a temporary name).
    static func writeDurably(_ bytes: [UInt8], to path: String) throws(StorageError) {
        try writeDurably(to: path) { (fd, temporary) throws(StorageError) in
            try POSIXFile.writeAll(fd, bytes, path: temporary)
        }
    }

    /// Runs `write` on a temporary file next to `path`, syncs it and renames it to `path`; on failure the
    /// temporary file is removed. The caller syncs the directory.
    private static func writeDurably(
        to path: String, _ write: (Int32, String) throws(StorageError) -> Void
    ) throws(StorageError) {
        let temporary = path + ".tmp"
        let fd = try POSIXFile.openForWrite(temporary)
        do throws(StorageError) {
            try write(fd, temporary)
            try POSIXFile.syncData(fd, path: temporary)
        } catch {
            POSIXFile.close(fd)
            try? POSIXFile.remove(temporary)
            throw error
        }
        POSIXFile.close(fd)
        try POSIXFile.rename(temporary, path)
    }

    static func loadNewestBlocking(directory: String) throws(StorageError) -> StoredSnapshot? {
        try POSIXFile.makeDirectory(directory)
        let names = try POSIXFile.listDirectory(directory)
        let indices = names.compactMap(index(ofFileNamed:)).sorted(by: >)
        // Unfinished saves and staging files of an earlier life.
        let recorded = Set(indices.map(dataFileName(index:)))
        for name in names where name.hasSuffix(stagingSuffix) || name.hasSuffix(".tmp")
            || (name.hasSuffix(dataSuffix) && !recorded.contains(name)) {
            try POSIXFile.remove(directory + "/" + name)
        }
        for index in indices {
            let path = directory + "/" + fileName(index: index)
            do throws(StorageError) {
                return try load(index: index, path: path, directory: directory)
            } catch {
                if case .io = error { throw error }
                try POSIXFile.rename(path, path + ".corrupted")
                let dataPath = directory + "/" + dataFileName(index: index)
                if names.contains(dataFileName(index: index)) { try POSIXFile.rename(dataPath, dataPath + ".corrupted") }
            }
        }
        return nil
    }

    /// The snapshot whose record is at `path`, checked (and migrated from format 1 first if need be).
    private static func load(index: UInt64, path: String, directory: String) throws(StorageError) -> StoredSnapshot {
        let head = try SnapshotFile(openingForRead: path)
        if try head.readPiece(at: 0, count: 8) == formatOneMagic {
            try migrateFormatOne(head, index: index, directory: directory)
            return try load(index: index, path: path, directory: directory)
        }
        guard head.byteCount <= UInt64(headerBytes + 4 + Int(UInt32.max)) else {
            throw .corruptSnapshot(path: path, reason: "record of \(head.byteCount) bytes")
        }
        let record = try decode(try head.readPiece(at: 0, count: Int(head.byteCount)), path: path)
        // A file whose name and contents disagree is the disk's fault, not ours: set it aside like a CRC
        // failure and try the next older one.
        guard record.index == index else {
            throw .corruptSnapshot(path: path, reason: "file named for index \(index) holds index \(record.index)")
        }
        let dataPath = directory + "/" + dataFileName(index: index)
        let data: SnapshotFile
        do throws(StorageError) {
            data = try SnapshotFile(openingForRead: dataPath)
        } catch {
            throw .corruptSnapshot(path: dataPath, reason: "missing: \(error)")
        }
        guard data.byteCount == record.dataBytes else {
            throw .corruptSnapshot(path: dataPath, reason: "holds \(data.byteCount) bytes, the record says \(record.dataBytes)")
        }
        let crc = try data.checksum()
        guard crc == record.dataCRC else {
            throw .corruptSnapshot(path: dataPath, reason: "crc \(crc) != \(record.dataCRC)")
        }
        return StoredSnapshot(index: index, metadata: record.metadata, file: data)
    }

    /// Rewrites a format-1 file (header, metadata, data and a crc of all of it in one file) as a data file and a
    /// commit record, in pieces. The old file is replaced by the record's rename, so a crash in between leaves
    /// either form intact.
    private static func migrateFormatOne(_ old: SnapshotFile, index: UInt64, directory: String) throws(StorageError) {
        let headerBytes = 8 + 8 + 4 + 8
        guard old.byteCount >= UInt64(headerBytes + 4) else {
            throw .corruptSnapshot(path: old.path, reason: "format 1, too short (\(old.byteCount) bytes)")
        }
        let header = try old.readPiece(at: 0, count: headerBytes)
        let storedIndex = readLittleEndian(header, at: 8, as: UInt64.self)
        let metadataBytes = UInt64(readLittleEndian(header, at: 16, as: UInt32.self))
        let dataBytes = readLittleEndian(header, at: 20, as: UInt64.self)
        guard storedIndex == index, dataBytes <= Limits.snapshotBytesMax,
              UInt64(headerBytes) + metadataBytes + dataBytes + 4 == old.byteCount
        else {
            throw .corruptSnapshot(path: old.path, reason: "format 1: index \(storedIndex), lengths \(metadataBytes)+\(dataBytes) vs \(old.byteCount) bytes")
        }
        // The whole-file crc first, so a damaged file is never migrated into a valid-looking pair.
        var crc = zlibCRC32Start
        var offset: UInt64 = 0
        let covered = old.byteCount - 4
        while offset < covered {
            let piece = try old.readPiece(at: offset, count: Int(min(UInt64(StorageLimits.snapshotPieceBytes), covered - offset)))
            crc = zlibCRC32(piece[...], continuing: crc)
            offset += UInt64(piece.count)
        }
        let stored = readLittleEndian(try old.readPiece(at: covered, count: 4), at: 0, as: UInt32.self)
        guard stored == crc else { throw .corruptSnapshot(path: old.path, reason: "format 1: crc \(stored) != \(crc)") }
        let metadata = try old.readPiece(at: UInt64(headerBytes), count: Int(metadataBytes))
        let data = SnapshotRegion(file: old, offset: UInt64(headerBytes) + metadataBytes, byteCount: dataBytes)
        let dataPath = directory + "/" + dataFileName(index: index)
        try copy(data, to: dataPath)
        try POSIXFile.syncDirectory(directory)
        let copied = try SnapshotFile(openingForRead: dataPath)
        let record = Record(index: index, metadata: metadata, dataBytes: dataBytes, dataCRC: try copied.checksum())
        try writeDurably(encode(record), to: old.path)
        try POSIXFile.syncDirectory(directory)
    }
}

/// Bytes `offset ..< offset + byteCount` of a snapshot file, as a payload (a format-1 file's data, migrated).
final class SnapshotRegion: SnapshotPayload {
    let file: SnapshotFile
    let offset: UInt64
    let byteCount: UInt64

    init(file: SnapshotFile, offset: UInt64, byteCount: UInt64) {
        self.file = file
        self.offset = offset
        self.byteCount = byteCount
    }

    func read(at offset: UInt64, count: Int) throws(LogStorageError) -> [UInt8] {
        let wanted = Int(min(UInt64(max(0, count)), byteCount - min(offset, byteCount)))
        return try file.read(at: self.offset + offset, count: wanted)
    }
}

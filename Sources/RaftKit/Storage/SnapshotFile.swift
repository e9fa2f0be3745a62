import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A snapshot payload that is a whole file, read with `pread` through a descriptor held open for the
/// object's life: a file that compaction deletes while a transfer still streams it stays readable.
///
/// Promises: `byteCount` is the file's length when it was opened (the store never writes a payload file
/// after that). Who makes them: `SnapshotStore` (`open`, `save`, `loadNewest`) and `SnapshotFileSink.finish`.
/// Reads block: the core reads one chunk per call, the store reads in `StorageLimits.snapshotPieceBytes`.
public final class SnapshotFile: SnapshotPayload, @unchecked Sendable {
    /// Where the file was when it was opened (a store's `save` renames staging files, then opens anew).
    public let path: String
    public let byteCount: UInt64
    let fd: Int32

    /// Opens `path` for reading.
    convenience init(openingForRead path: String) throws(StorageError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(operation: "open", path: path, errno: errno) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let error = errno
            POSIXFile.close(fd)
            throw .io(operation: "fstat", path: path, errno: error)
        }
        self.init(path: path, fd: fd, byteCount: UInt64(info.st_size))
    }

    /// Takes ownership of `fd`, open on `path` with `byteCount` bytes.
    init(path: String, fd: Int32, byteCount: UInt64) {
        self.path = path
        self.fd = fd
        self.byteCount = byteCount
    }

    deinit { POSIXFile.close(fd) }

    public func read(at offset: UInt64, count: Int) throws(LogStorageError) -> [UInt8] {
        do throws(StorageError) {
            return try readPiece(at: offset, count: count)
        } catch {
            throw .io("\(error)")
        }
    }

    /// `read(at:count:)` with the storage layer's error.
    func readPiece(at offset: UInt64, count: Int) throws(StorageError) -> [UInt8] {
        let wanted = Int(min(UInt64(max(0, count)), byteCount - min(offset, byteCount)))
        var bytes = [UInt8](repeating: 0, count: wanted)
        var done = 0
        while done < wanted {
            let result = bytes.withUnsafeMutableBytes { raw in
                pread(fd, raw.baseAddress! + done, wanted - done, off_t(offset) + off_t(done))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "pread", path: path, errno: errno)
            }
            if result == 0 {
                throw .corruptSnapshot(path: path, reason: "ends at \(offset + UInt64(done)), expected \(byteCount) bytes")
            }
            done += result
        }
        return bytes
    }

    /// crc32 of the whole file, read in pieces (bounded memory whatever the size).
    func checksum() throws(StorageError) -> UInt32 {
        var crc = zlibCRC32Start
        var offset: UInt64 = 0
        while offset < byteCount {
            let piece = try readPiece(at: offset, count: StorageLimits.snapshotPieceBytes)
            crc = zlibCRC32(piece[...], continuing: crc)
            offset += UInt64(piece.count)
        }
        return crc
    }

    /// Makes the file's bytes durable (what a sink wrote through this descriptor, under `StorageFaults`, too).
    func sync() throws(StorageError) {
        try POSIXFile.syncData(fd, path: path)
    }
}

/// A follower's incoming snapshot written to a staging file of the `SnapshotStore` directory, chunk after
/// chunk, without syncing (the driver's `SnapshotStore.save` syncs and renames it once, when it is whole).
public final class SnapshotFileSink: SnapshotSink, @unchecked Sendable {
    private struct State {
        var fd: Int32?
        var written: UInt64 = 0
    }

    let path: String
    private let state: Mutex<State>

    /// Creates (truncating) the staging file at `path`.
    init(path: String) throws(StorageError) {
        self.path = path
        self.state = Mutex(State(fd: try POSIXFile.openForReadWrite(path)))
    }

    deinit {
        // A sink dropped without `finish` or `discard` (a node reset mid-transfer) leaves no file behind.
        discard()
    }

    public func write(_ bytes: [UInt8], at offset: UInt64) throws(LogStorageError) {
        let result: Result<Void, StorageError> = state.withLock { state in
            guard let fd = state.fd else { return .failure(.closed) }
            precondition(offset == state.written, "snapshot chunk at \(offset) after \(state.written) bytes")
            do throws(StorageError) {
                try POSIXFile.writeAll(fd, bytes, path: path)
            } catch {
                return .failure(error)
            }
            state.written += UInt64(bytes.count)
            return .success(())
        }
        do { try result.get() } catch { throw .io("\(error)") }
    }

    public func finish() throws(LogStorageError) -> any SnapshotPayload {
        let handed: (fd: Int32, bytes: UInt64)? = state.withLock { state in
            guard let fd = state.fd else { return nil }
            state.fd = nil
            return (fd, state.written)
        }
        guard let handed else { throw .io("snapshot sink \(path) already finished or discarded") }
        return SnapshotFile(path: path, fd: handed.fd, byteCount: handed.bytes)
    }

    public func discard() {
        guard let fd = state.withLock({ state -> Int32? in
            defer { state.fd = nil }
            return state.fd
        }) else { return }
        try? POSIXFile.remove(path)
        POSIXFile.close(fd)
    }
}

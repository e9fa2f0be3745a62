import BlobContract

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failed system call: what, on which path, and errno. Converted to `BlobError` at the API boundary.
struct SystemCallError: Error, CustomStringConvertible {
    var operation: String
    var path: String
    var errorNumber: CInt

    var description: String { "\(self.operation) \(self.path): \(String(cString: strerror(self.errorNumber)))" }

    var blobError: BlobError {
        self.errorNumber == ENOSPC || self.errorNumber == EDQUOT ? .diskFull(self.description) : .io(self.description)
    }
}

extension BlobError {
    /// Any error from the blocking layer as a `BlobError`.
    init(_ error: any Error) {
        if let blob = error as? BlobError {
            self = blob
        } else if let call = error as? SystemCallError {
            self = call.blobError
        } else {
            self = .unavailable("\(error)")
        }
    }
}

/// One open volume file. Reads (`pread`) are safe from any thread; only the writer thread appends to the
/// active volume. The descriptor closes when the last reference goes, so a reader holding a `VolumeFile`
/// can finish its `pread` even after compaction unlinked the file.
final class VolumeFile: Sendable {
    let volumeID: UInt32
    let path: String
    let descriptor: CInt

    private init(volumeID: UInt32, path: String, descriptor: CInt) {
        self.volumeID = volumeID
        self.path = path
        self.descriptor = descriptor
    }

    deinit { _ = close(self.descriptor) }

    /// `volume-00000042.silo` in `directory`.
    static func path(directory: String, volumeID: UInt32) -> String {
        var digits = String(volumeID)
        digits = String(repeating: "0", count: max(0, 8 - digits.count)) + digits
        return directory + "/volume-" + digits + ".silo"
    }

    /// The id in a volume file name, or nil for any other name.
    static func volumeID(fileName: String) -> UInt32? {
        guard fileName.hasPrefix("volume-"), fileName.hasSuffix(".silo") else { return nil }
        let digits = fileName.dropFirst("volume-".count).dropLast(".silo".count)
        guard digits.count == 8, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return UInt32(digits)
    }

    static func open(directory: String, volumeID: UInt32, create: Bool) throws(SystemCallError) -> VolumeFile {
        let path = Self.path(directory: directory, volumeID: volumeID)
        let flags = O_RDWR | O_CLOEXEC | (create ? (O_CREAT | O_EXCL) : 0)
        let descriptor = Glibc.open(path, flags, 0o644)
        guard descriptor >= 0 else { throw SystemCallError(operation: "open", path: path, errorNumber: errno) }
        return VolumeFile(volumeID: volumeID, path: path, descriptor: descriptor)
    }

    func size() throws(SystemCallError) -> UInt64 {
        var info = stat()
        guard fstat(self.descriptor, &info) == 0 else {
            throw SystemCallError(operation: "fstat", path: self.path, errorNumber: errno)
        }
        return UInt64(info.st_size)
    }

    /// Fills `buffer` from `offset`; returns the bytes read (less than asked only at end of file).
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(SystemCallError) -> Int {
        var done = 0
        while done < buffer.count {
            let count = pread(
                self.descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemCallError(operation: "pread", path: self.path, errorNumber: errno)
            }
            if count == 0 { break }
            done += count
        }
        return done
    }

    /// Writes all of `first` then all of `second` at `offset` (one `pwritev` in the common case; no copy).
    func write(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, at offset: UInt64)
        throws(SystemCallError)
    {
        var parts = [first, second].filter { !$0.isEmpty }
        var position = offset
        while !parts.isEmpty {
            var vectors = parts.map {
                iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count)
            }
            let count = pwritev(self.descriptor, &vectors, CInt(vectors.count), off_t(position))
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemCallError(operation: "pwritev", path: self.path, errorNumber: errno)
            }
            precondition(count > 0, "pwritev wrote 0 bytes of \(parts.map(\.count)) to \(self.path)")
            position += UInt64(count)
            var consumed = count
            while consumed > 0 {
                if consumed >= parts[0].count {
                    consumed -= parts[0].count
                    parts.removeFirst()
                } else {
                    parts[0] = UnsafeRawBufferPointer(rebasing: parts[0][consumed...])
                    consumed = 0
                }
            }
        }
    }

    /// Makes every byte written so far durable (`fdatasync`: also the file size, which appends change).
    func sync() throws(SystemCallError) {
        while fdatasync(self.descriptor) != 0 {
            if errno == EINTR { continue }
            throw SystemCallError(operation: "fdatasync", path: self.path, errorNumber: errno)
        }
    }

    func truncate(to size: UInt64) throws(SystemCallError) {
        while ftruncate(self.descriptor, off_t(size)) != 0 {
            if errno == EINTR { continue }
            throw SystemCallError(operation: "ftruncate", path: self.path, errorNumber: errno)
        }
    }
}

/// Directory operations of the store (blocking: call them from the writer thread or the read pool).
enum VolumeDirectory {
    static func create(_ path: String) throws(SystemCallError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw SystemCallError(operation: "mkdir", path: prefix, errorNumber: errno)
            }
        }
    }

    /// The ids of the volume files in `path`, ascending.
    static func volumeIDs(_ path: String) throws(SystemCallError) -> [UInt32] {
        guard let stream = opendir(path) else {
            throw SystemCallError(operation: "opendir", path: path, errorNumber: errno)
        }
        defer { closedir(stream) }
        var ids: [UInt32] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if let id = VolumeFile.volumeID(fileName: name) { ids.append(id) }
        }
        return ids.sorted()
    }

    /// Makes creations and removals of entries in `path` durable.
    static func sync(_ path: String) throws(SystemCallError) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw SystemCallError(operation: "open", path: path, errorNumber: errno) }
        defer { close(descriptor) }
        while fsync(descriptor) != 0 {
            if errno == EINTR { continue }
            throw SystemCallError(operation: "fsync", path: path, errorNumber: errno)
        }
    }

    static func remove(_ path: String) throws(SystemCallError) {
        guard unlink(path) == 0 else { throw SystemCallError(operation: "unlink", path: path, errorNumber: errno) }
    }

    /// Takes an exclusive advisory lock on `directory/LOCK` so that two stores never share a directory.
    /// The lock is released when the returned descriptor is closed.
    static func lock(_ path: String) throws(SystemCallError) -> CInt {
        let lockPath = path + "/LOCK"
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw SystemCallError(operation: "open", path: lockPath, errorNumber: errno) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let error = errno
            close(descriptor)
            throw SystemCallError(operation: "flock", path: lockPath, errorNumber: error)
        }
        return descriptor
    }
}

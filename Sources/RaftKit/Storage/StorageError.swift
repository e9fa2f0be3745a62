/// Errors of the write-ahead log and the snapshot store: the world's faults (I/O, corruption, overload). Our own
/// bugs are preconditions instead.
public enum StorageError: Error, Sendable, Equatable {
    /// A system call failed; `errno` is the C error number.
    case io(operation: String, path: String, errno: Int32)
    /// A record that is not at the torn tail failed its length or checksum check. The log is not used: an
    /// operator must restore this node (for example, wipe it and let it catch up from a snapshot).
    case corruptRecord(path: String, offset: Int, reason: String)
    /// Records that are each intact but do not form a log (a gap in log indices, an unknown record type).
    case inconsistentLog(path: String, offset: Int, reason: String)
    /// A snapshot file failed its checksum or its framing.
    case corruptSnapshot(path: String, reason: String)
    /// The WAL has been closed, or its writer failed earlier (after a failed fsync the WAL refuses all work).
    case closed
    /// Too many appends are waiting for the writer thread (`StorageLimits.pendingAppendsMax`).
    case overloaded
    /// A record payload is larger than `StorageLimits.recordPayloadBytesMax`.
    case recordTooLarge(bytes: Int)
}

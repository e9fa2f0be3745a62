import Synchronization

/// The bytes of a snapshot, read in pieces, so that no layer holds a whole state-machine image in memory.
///
/// Promises: `byteCount` never changes; `read` of the same range always answers the same bytes (a file
/// payload keeps its descriptor open, so a file deleted by log compaction stays readable while a transfer
/// holds it). Implementations: `SnapshotBytes` (in memory: the simulator, tests) and `SnapshotFile` (a file
/// of the `SnapshotStore`: production). The core reads one chunk at a time when it streams a snapshot to
/// a follower (`SnapshotTransfer`).
public protocol SnapshotPayload: AnyObject, Sendable {
    /// The payload's length.
    var byteCount: UInt64 { get }
    /// The `count` bytes at `offset` (fewer only at the end). Throws `.io` when the medium fails.
    func read(at offset: UInt64, count: Int) throws(LogStorageError) -> [UInt8]
}

/// A follower's snapshot under assembly: chunks are written in order, then `finish` hands back the payload.
///
/// Who calls what: the core creates one through `LogStorage.makeSnapshotSink` when the first chunk of a
/// snapshot arrives, `write`s each chunk at the offset it expects (so writes are sequential), and calls
/// `finish` after the last one (the payload goes into `Ready.snapshot`; the shell makes it durable before it
/// counts) or `discard` when the transfer is abandoned. Nothing here syncs: the shell does, once.
public protocol SnapshotSink: AnyObject, Sendable {
    /// Appends `bytes`, which start at `offset` (always the number of bytes written so far).
    func write(_ bytes: [UInt8], at offset: UInt64) throws(LogStorageError)
    /// The assembled payload (every byte written). The sink is not used again.
    func finish() throws(LogStorageError) -> any SnapshotPayload
    /// Abandons the assembly and releases what it holds (a partial file is removed).
    func discard()
}

/// A snapshot payload held in memory.
public final class SnapshotBytes: SnapshotPayload {
    /// The payload.
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var byteCount: UInt64 { UInt64(bytes.count) }

    public func read(at offset: UInt64, count: Int) throws(LogStorageError) -> [UInt8] {
        let start = Int(min(offset, UInt64(bytes.count)))
        let end = min(bytes.count, start + max(0, count))
        return Array(bytes[start..<end])
    }

    /// The empty payload of the "no snapshot" value.
    static let empty = SnapshotBytes([])
}

/// A sink that assembles the payload in memory (the default of `LogStorage`; the simulator and tests).
public final class SnapshotBytesSink: SnapshotSink {
    private let bytes = Mutex<[UInt8]>([])

    public init() {}

    public func write(_ bytes: [UInt8], at offset: UInt64) throws(LogStorageError) {
        self.bytes.withLock { held in
            precondition(UInt64(held.count) == offset, "snapshot chunk at \(offset) after \(held.count) bytes")
            held.append(contentsOf: bytes)
        }
    }

    public func finish() throws(LogStorageError) -> any SnapshotPayload {
        SnapshotBytes(bytes.withLock { $0 })
    }

    public func discard() { bytes.withLock { $0 = [] } }
}

extension SnapshotPayload {
    /// Every byte of the payload, for payloads known to be small (the simulator's and tests' machines).
    /// - Precondition: `byteCount` fits in memory; production code streams with `read(at:count:)` instead.
    public func readAll() throws(LogStorageError) -> [UInt8] {
        precondition(byteCount <= UInt64(Int.max), "payload of \(byteCount) bytes")
        return try read(at: 0, count: Int(byteCount))
    }
}

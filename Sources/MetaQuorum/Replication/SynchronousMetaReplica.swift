import Foundation
import MetaContract

/// The metadata state machine driven synchronously by one caller: the deterministic simulator's replicas
/// (`silo-sim --workload meta`). The same `MetaStateMachine`, command codec, request-id deduplication and
/// SQLite backup snapshots as a `silo meta` replica; only the thread is the caller's, so a simulated run
/// replays exactly.
///
/// Promises: `apply` takes the log's entries in index order (each once per life); two replicas that applied
/// the same entries produce equal `dump()`s. Who calls what: the simulator makes one per node life (fresh,
/// or from a snapshot's bytes), proposes `putCommand`s and `createBucketCommand`s it encodes here, applies
/// committed entries, answers reads with `currentETag`, compacts with `snapshot()`, and `close()`s it when
/// the node crashes.
public final class SynchronousMetaReplica {
    /// The bucket every simulated write goes to.
    public static let bucket = "sim"
    /// The user owning it.
    public static let owner = "u:sim"

    /// What one applied command did, as the workload's register model needs it.
    public enum Outcome: Sendable, Equatable {
        /// A write took effect (the first time, or a retry answered with its remembered outcome).
        case stored
        /// A conditional write whose condition did not hold (412), or its object was absent (`If-Match`).
        case preconditionFailed
        /// Any other refusal (no bucket yet, the bucket already exists…), with the error.
        case refused(String)
    }

    private let machine: MetaStateMachine
    private let directory: String

    /// A fresh replica in a new private temporary directory; `faults` plants bugs (debug builds only).
    public convenience init(faults: MetaFaults = []) throws {
        try self.init(directory: Self.makeDirectory(), faults: faults)
    }

    /// A replica restored from `snapshot` (bytes `snapshot()` gave), taken at `index`.
    public convenience init(snapshot: [UInt8], at index: UInt64, faults: MetaFaults = []) throws {
        try self.init(directory: Self.makeDirectory(), faults: faults)
        let path = directory + "/restore.sqlite"
        try Data(snapshot).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let restored = try machine.restore(from: path)
        guard restored == index else {
            throw MetaError.internalFault("snapshot at log index \(index) holds applied index \(restored)")
        }
    }

    private init(directory: String, faults: MetaFaults) throws {
        self.directory = directory
        machine = try MetaStateMachine(path: directory + "/meta.sqlite", durability: .replayedFromLog, faults: faults)
    }

    deinit { close() }

    private static func makeDirectory() throws -> String {
        // In memory when the machine has a RAM file system (fsyncs are free there): a simulated run opens one
        // database per node life.
        var isDirectory: ObjCBool = false
        let base = FileManager.default.fileExists(atPath: "/dev/shm", isDirectory: &isDirectory) && isDirectory.boolValue
            ? "/dev/shm/" : NSTemporaryDirectory()
        let path = base + "silo-sim-meta-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Closes the database and removes its directory (a crashed node's state is rebuilt from its disk).
    public func close() {
        machine.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The last log index applied.
    public var appliedIndex: UInt64 { machine.appliedIndex() }

    // MARK: Commands

    /// CreateBucket of `bucket` by `owner`.
    public static func createBucketCommand(commandID: String, time: Int64) -> [UInt8] {
        MetaCommand.createBucket(CommandEnvelope(commandID: commandID, requester: owner, time: time),
                                 name: bucket, acl: nil, ownership: nil).encode()
    }

    /// PutObject of `key` with ETag `etag`; `ifMatch` makes it conditional (`If-Match: "etag"`), as a
    /// compare-and-set on the ETag. A gateway retrying after an unknown outcome proposes the same bytes.
    public static func putCommand(commandID: String, key: String, etag: String, ifMatch: String?, time: Int64) -> [UInt8] {
        // The proposer chooses the version id, as a gateway does (kept only if the bucket is versioned); the
        // owner is decided at apply time.
        let object = ObjectRecord(bucket: bucket, key: key, versionID: "v" + etag, sizeBytes: 0, etag: etag,
                                  lastModifiedTime: time, headers: [], userMetadata: [], checksum: nil, chunks: [],
                                  partSizes: [], inlineBody: [])
        let precondition: WritePrecondition = ifMatch.map { .ifMatch($0) } ?? .none
        return MetaCommand.putObject(CommandEnvelope(commandID: commandID, requester: owner, time: time),
                                     object: object, precondition: precondition, startedTime: time).encode()
    }

    /// The command id of an encoded command, nil when it does not decode.
    public static func commandID(of command: [UInt8]) -> String? {
        (try? MetaCommand(decoding: command))?.envelope.commandID
    }

    // MARK: Apply, read, snapshot

    /// Applies the committed entry at `index` (its command bytes).
    public func apply(_ command: [UInt8], at index: UInt64) throws -> Outcome {
        guard let result = try machine.apply(batch: [(index, command)]).first else {
            throw MetaError.internalFault("entry \(index) applied out of order (applied \(appliedIndex))")
        }
        switch result {
        case .done, .stored: return .stored
        case .failed(.preconditionFailed), .failed(.noSuchKey): return .preconditionFailed
        case .failed(let error): return .refused("\(error)")
        case .deleted, .object, .deletedVersions: return .refused("unexpected result \(result)")
        }
    }

    /// Marks `index` applied without a command (a no-op or membership entry).
    public func skip(to index: UInt64) throws {
        _ = try machine.apply(batch: [], through: index)
    }

    /// The ETag of `key`'s current version, nil when there is none.
    public func currentETag(key: String) throws -> String? {
        try machine.objectRecord(bucket: Self.bucket, key: key)?.etag
    }

    /// The whole state as SQLite backup bytes (a small database: the simulator's snapshots are in memory).
    public func snapshot() throws -> [UInt8] {
        let path = directory + "/snapshot.sqlite"
        try? FileManager.default.removeItem(atPath: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try machine.snapshot(to: path)
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Every row of every table in a fixed order: equal on replicas at the same applied index.
    public func dump() throws -> [String] {
        try machine.dump()
    }
}

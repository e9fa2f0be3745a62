public import MetaQuorum

/// Which replicated state machine a simulated run drives: the toy registers (`kv`, the default) or Silo's
/// real metadata state machine on SQLite (`meta`: S3 PUTs, conditional PUTs with `If-Match`, bucket
/// creation, gateway-style retries that reuse the command id).
public enum SimWorkload: String, Sendable, CaseIterable {
    case kv, meta
}

/// What one applied client command did.
struct SimApplied {
    var opID: UInt64
    /// Whether the write took effect (false: a compare-and-set that did not match, or a refusal).
    var ok: Bool
    /// The register's value afterwards when `ok`.
    var value: UInt64
}

/// The replicated state machine of one node's life, behind what the simulation needs: client commands
/// encoded as proposals, committed entries applied in order, reads of one register, snapshots as bytes, and a
/// dump to compare replicas. `KVMachine` and `MetaMachineReplica` implement it.
protocol SimMachine: AnyObject {
    /// The bytes a client proposes for `command` at tick `time` (a retry proposes the same bytes again).
    func proposal(for command: KVCommand, time: Int) -> [UInt8]
    /// Applies the committed command entry at `index`. nil: the entry is not a client operation (bucket
    /// creation). Throws for an entry that should not be in the log, or a storage fault.
    func apply(_ data: [UInt8], at index: UInt64, operations: [UInt64: KVOperation]) throws -> SimApplied?
    /// Moves the applied index over an entry without a command (no-op, membership).
    func skip(to index: UInt64) throws
    /// The register `key` (0: absent).
    func read(key: Int) throws -> UInt64
    /// The whole state, for compaction.
    func snapshot() throws -> [UInt8]
    /// The state in a canonical form: equal on replicas at the same applied index.
    func dump() throws -> [String]
}

/// The `kv` workload's machine: `KVStore` registers.
final class KVMachine: SimMachine {
    var store: KVStore

    init(snapshot: [UInt8], keys: Int) { store = KVStore(decoding: snapshot, keys: keys) }

    func proposal(for command: KVCommand, time: Int) -> [UInt8] { command.encode() }

    func apply(_ data: [UInt8], at index: UInt64, operations: [UInt64: KVOperation]) throws -> SimApplied? {
        guard let command = KVCommand(decoding: data) else {
            throw SimFailure(message: "undecodable command at \(index)")
        }
        let result = store.apply(command.operation)
        return SimApplied(opID: command.opID, ok: result.ok, value: result.value)
    }

    func skip(to index: UInt64) throws {}
    func read(key: Int) throws -> UInt64 { store.values[key] }
    func snapshot() throws -> [UInt8] { store.encode() }
    func dump() throws -> [String] { store.values.map { String($0) } }
}

/// The `meta` workload's machine: Silo's `MetaStateMachine` (through `SynchronousMetaReplica`). Register
/// `k` is the object `k<key>` of one bucket; its value is the current version's ETag (the op id, in hex); a
/// put is a PutObject, a compare-and-set a PutObject with `If-Match` on the old ETag.
final class MetaMachineReplica: SimMachine {
    /// The command id of the bucket's creation, which the simulation proposes until one applies.
    static let createBucketCommandID = "create-bucket"
    /// Command time of tick 0 (milliseconds), and milliseconds per tick.
    static let epochMilliseconds: Int64 = 1_750_000_000_000
    static let millisecondsPerTick: Int64 = 10

    let replica: SynchronousMetaReplica

    init(snapshot: [UInt8], at index: UInt64, faults: MetaFaults = []) throws {
        replica = snapshot.isEmpty
            ? try SynchronousMetaReplica(faults: faults)
            : try SynchronousMetaReplica(snapshot: snapshot, at: index, faults: faults)
    }

    deinit { replica.close() }

    static func time(_ tick: Int) -> Int64 { epochMilliseconds + Int64(tick) * millisecondsPerTick }
    static func etag(_ value: UInt64) -> String { String(value, radix: 16) }
    static func commandID(_ opID: UInt64) -> String { "op-\(opID)" }

    static func createBucketProposal(time: Int) -> [UInt8] {
        SynchronousMetaReplica.createBucketCommand(commandID: createBucketCommandID, time: Self.time(time))
    }

    func proposal(for command: KVCommand, time: Int) -> [UInt8] {
        let at = Self.time(time)
        let commandID = Self.commandID(command.opID)
        switch command.operation {
        case .put(let key, let value):
            return SynchronousMetaReplica.putCommand(commandID: commandID, key: "k\(key)", etag: Self.etag(value),
                                                     ifMatch: nil, time: at)
        case .cas(let key, let from, let to):
            return SynchronousMetaReplica.putCommand(commandID: commandID, key: "k\(key)", etag: Self.etag(to),
                                                     ifMatch: Self.etag(from), time: at)
        case .get:
            preconditionFailure("reads are not proposed")
        }
    }

    func apply(_ data: [UInt8], at index: UInt64, operations: [UInt64: KVOperation]) throws -> SimApplied? {
        guard let commandID = SynchronousMetaReplica.commandID(of: data) else {
            throw SimFailure(message: "undecodable metadata command at \(index)")
        }
        let outcome = try replica.apply(data, at: index)
        if commandID == Self.createBucketCommandID { return nil }
        guard commandID.hasPrefix("op-"), let opID = UInt64(commandID.dropFirst(3)), let operation = operations[opID] else {
            throw SimFailure(message: "entry \(index) carries command id \(commandID), which no client proposed")
        }
        switch (outcome, operation) {
        case (.stored, .put(_, let value)), (.stored, .cas(_, _, let value)):
            return SimApplied(opID: opID, ok: true, value: value)
        case (.preconditionFailed, .cas):
            return SimApplied(opID: opID, ok: false, value: 0)
        case (.refused(let reason), _) where reason.contains("noSuchBucket"):
            // Before the bucket exists every write is refused, as S3 answers NoSuchBucket.
            return SimApplied(opID: opID, ok: false, value: 0)
        default:
            throw SimFailure(message: "entry \(index) (\(operation.name) \(commandID)) answered \(outcome)")
        }
    }

    func skip(to index: UInt64) throws { try replica.skip(to: index) }

    func read(key: Int) throws -> UInt64 {
        guard let etag = try replica.currentETag(key: "k\(key)") else { return 0 }
        guard let value = UInt64(etag, radix: 16) else { throw SimFailure(message: "object k\(key) has ETag \(etag)") }
        return value
    }

    func snapshot() throws -> [UInt8] { try replica.snapshot() }
    func dump() throws -> [String] { try replica.dump() }
}

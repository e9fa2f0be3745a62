/// The application state that Raft replicates, behind the smallest interface the driver needs.
///
/// The machine owns its state and where it runs: a database-backed machine runs every call on a thread (or
/// serial executor) of its own, so SQLite and its fsyncs never run on the cooperative pool or the driver's
/// actor. The driver awaits each call and makes at most one at a time, in log order:
/// - `appliedIndex()` once at start: the driver restores a snapshot only when the machine is behind it, then
///   hands over exactly the committed entries above the machine's index;
/// - `restore` when a snapshot newer than the machine's state arrives (or is found at start);
/// - `apply` for each run of committed entries;
/// - `writeSnapshot` when the driver compacts the log.
///
/// Snapshots are files, never byte arrays: a machine writes its image to a path the driver gives, and restores
/// from a path, so a state of many GiB streams between nodes in bounded memory (see `SnapshotStore`).
///
/// A call that throws stops the replica, loudly (the driver logs it at `critical` and stops: a restart
/// recovers from the machine's own durable state and the log). A machine that persists its state must store
/// its applied index atomically with the state it covers.
public protocol ReplicatedStateMachine: AnyObject, Sendable {
    /// The index of the last entry the machine's state reflects (0: none). Durable machines read it from their
    /// store; a machine kept in memory starts at 0.
    func appliedIndex() async throws -> UInt64
    /// Applies committed `.normal` entries with non-empty data, in index order (contiguous except where no-op and
    /// membership entries were skipped), and returns one result per entry, in the same order. `index` is the
    /// last committed index this call covers (at least the last entry's; larger when skipped entries follow):
    /// the machine's applied index afterwards. `entries` may be empty when only skipped entries were committed.
    /// Must be deterministic: every replica applies the same entries and must reach the same state.
    func apply(_ entries: [Entry], through index: UInt64) async throws -> [[UInt8]]
    /// Writes the state, covering exactly the entries applied so far, to a new file at `path` (the driver calls it
    /// between applies). The driver syncs, checksums and keeps the file; the machine need not sync it.
    func writeSnapshot(to path: String) async throws
    /// Replaces the state with the snapshot file at `path`, taken at log index `index` (the applied index from
    /// then on). The file is the driver's: read it, never write, move or delete it.
    func restore(fromFile path: String, at index: UInt64) async throws
}

/// Errors the driver returns to callers of `propose`, `readIndex`, `waitApplied` and `read`.
///
/// For a proposal the cases fall in two groups, told apart by `mayHaveCommitted`: a definite refusal (the command
/// was not appended, or its entry was replaced, so it never commits: safe to undo side effects) and an unknown
/// outcome (the entry was appended and may still commit: retry idempotently, never undo). Reads have no side
/// effects; for them every case is simply a failure to retry.
public enum DriverError: Error, Sendable, Equatable {
    /// Definite. This node is not the leader (or, for a read, lost its leader before the read was confirmed);
    /// retry at `leaderHint` (nil when no leader is known).
    case notLeader(leaderHint: NodeID?)
    /// Definite. The core refused the request before appending it (too large, back-pressure, membership change in
    /// flight, transfer in progress…).
    case refused(ProposeError)
    /// Definite. Another entry was committed at the proposal's index, so the proposal never commits. Retry.
    case proposalDropped
    /// Definite. The driver was not running when the request arrived (shutdown or a storage failure); for reads
    /// also: it stopped while the read waited.
    case stopped
    /// Unknown outcome. The proposal was appended but is not known to be committed; it may still commit (or may
    /// have committed already). The reason says why the driver stopped waiting.
    case outcomeUnknown(UnknownOutcome)
    /// A read (`readIndex`, `waitApplied`, `read`) or a leadership transfer passed its deadline. Nothing was
    /// written (a transfer may still complete later).
    case timedOut

    /// True when the request may have taken effect or still may: only `.outcomeUnknown`.
    public var mayHaveCommitted: Bool {
        if case .outcomeUnknown = self { return true }
        return false
    }
}

/// Why a proposal's outcome is unknown (see `DriverError.outcomeUnknown`).
public enum UnknownOutcome: Sendable, Equatable {
    /// The deadline passed before the entry was committed and applied here, this node still leading its term.
    case timedOut
    /// The deadline passed after this node stopped leading the proposal's term, before it learned whether the
    /// next leader kept the entry (then it commits) or replaced it.
    case leadershipLost
    /// The driver stopped (shutdown or a storage failure) while the proposal waited.
    case stopped
    /// A snapshot covering the entry's index was installed here, so its result is not available (it may also
    /// have been replaced by another leader's entry).
    case appliedThroughSnapshot
}

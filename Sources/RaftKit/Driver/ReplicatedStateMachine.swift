/// The application state that Raft replicates, behind the smallest interface the driver needs. The driver calls
/// it from one task at a time, in log order: `restore` when a snapshot arrives, `apply` for each batch of committed
/// entries, `snapshot` when it compacts the log.
public protocol ReplicatedStateMachine: Sendable {
    /// Applies committed `.normal` entries with non-empty data, in index order (contiguous except where no-op and
    /// membership entries were skipped), and returns one result per entry, in the same order. Must be
    /// deterministic: every replica applies the same entries and must reach the same state.
    mutating func apply(_ entries: [Entry]) -> [[UInt8]]
    /// The state as bytes, covering every entry applied so far.
    func snapshot() -> [UInt8]
    /// Replaces the state with a snapshot's bytes.
    mutating func restore(_ bytes: [UInt8])
}

/// Errors the driver returns to callers of `propose` and `read`.
public enum DriverError: Error, Sendable, Equatable {
    /// This node is not the leader; retry at `leaderHint` (nil when no leader is known).
    case notLeader(leaderHint: UInt64?)
    /// The core refused the request (too large, back-pressure, membership change in flight…).
    case refused(ProposeError)
    /// The proposal's log index was taken by another leader's entry: it was not applied. Retry.
    case proposalDropped
    /// The driver stopped (shutdown or a storage failure) before the request finished.
    case stopped
}

import RaftKit
public import MetaContract

/// MetaQuorum's own limits (the state machine's, not the contract's) and the start-up check of the relations
/// between all of them and RaftKit's. `MetaLimitsTests` checks them too.
extension MetaLimits {
    /// A remembered command id is forgotten once the newest command time is this much later than its own.
    static let commandIDRetentionMilliseconds: Int64 = 60 * 60 * 1000

    /// Beyond this many remembered command ids the oldest are forgotten first, but never one younger than
    /// `commandIDRetentionMinMilliseconds`: a burst of writes grows the table rather than forget an id a
    /// gateway may still retry.
    static let commandIDCountMax = 200_000

    /// Commands per apply transaction (one group commit).
    static let batchCommandsMax = 512

    /// Proposals waiting for the apply thread; beyond it a proposal fails with `.unavailable`.
    static let pendingProposalsMax = 8_192

    /// The longest metadata RPC address a member may publish (`setMemberAddress`): a host name and a port.
    static let memberAddressBytesMax = 300

    /// Checks the relations between these limits and RaftKit's; call once at start-up (a test calls it too).
    /// Command bytes ≤ Raft entry bytes ≤ WAL record payload bytes; inline bodies well inside a command.
    public static func validate() {
        StorageLimits.validate()
        precondition(
            commandBytesMax <= RaftKit.Limits.entryDataBytesMax,
            "a metadata command of \(commandBytesMax) bytes may exceed a Raft entry of \(RaftKit.Limits.entryDataBytesMax)")
        precondition(
            inlineBodyBytesMax * 4 <= commandBytesMax,
            "inline bodies of \(inlineBodyBytesMax) bytes leave too little room in a command of \(commandBytesMax)")
        precondition(orphanChunkAgeMinMilliseconds >= 2 * writeAgeMaxMilliseconds, "orphans swept before a write can commit")
        precondition(partNumberRange.lowerBound == 1, "part numbers start at 1")
    }
}

/// The limits and timeouts of the blob cluster map (`blob_nodes`, commands 70–72, `BlobLiveness`).
/// `MetaLimitsTests` checks the relations between them.
public enum BlobMapLimits {
    /// How often a registered blob node sends the metadata leader a heartbeat.
    public static let heartbeatInterval: Duration = .seconds(3)
    /// A node `up` in the map and silent this long (no heartbeat reached the leader) is marked `down`. Five
    /// heartbeats: one lost heartbeat, a slow disk or a leader change does not mark a live node down.
    public static let heartbeatSilenceMax: Duration = .seconds(15)
    /// How often the leader compares last-seen times with the map (the latency of a transition above
    /// `heartbeatSilenceMax`).
    public static let livenessCheckInterval: Duration = .seconds(1)
    /// How long a blob node waits for the metadata to answer one heartbeat.
    public static let heartbeatDeadline: Duration = .seconds(2)
    /// How long a blob node's registration keeps trying before it gives up until the next heartbeat time.
    public static let registrationDeadline: Duration = .seconds(5)
    /// Registered nodes, removed ones included (a node's row is never deleted); below Placement's ring limit
    /// of 10,000 nodes.
    static let nodesMax = 4096
    /// The longest chunk protocol address a node may register: a host name and a port.
    static let addressBytesMax = 300
    /// The longest zone label.
    static let zoneBytesMax = 64
    /// The largest ring weight (`RingNode.weight`) a node may register. The total vnode count is bounded by
    /// Placement's own limit, which the gateway's `Ring.init` checks when it builds the ring.
    public static let weightMax = 1000

    /// Checks the relations between these limits; call once at start-up (a test calls it too).
    public static func validate() {
        precondition(heartbeatInterval * 3 <= heartbeatSilenceMax,
                     "a node is marked down after fewer than three missed heartbeats")
        precondition(livenessCheckInterval <= heartbeatInterval, "the leader checks less often than nodes beat")
        precondition(heartbeatDeadline < heartbeatInterval, "a heartbeat may outlive the next one")
    }
}

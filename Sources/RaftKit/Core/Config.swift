/// Deliberate bugs, compiled only into debug builds, that let tests prove the simulator can fail.
/// Never set in production: `Config.validate()` refuses them in release builds.
public struct FaultSwitches: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Commit an entry of an earlier term by counting replicas (breaks the Figure 8 rule).
    public static let commitPreviousTermByCount = FaultSwitches(rawValue: 1 << 0)
    /// Report appended entries as not needing an fsync, so an append is acknowledged before it is durable.
    public static let ackAppendBeforePersist = FaultSwitches(rawValue: 1 << 1)
    /// Report a vote as not needing an fsync, so a crash forgets it.
    public static let skipVotePersistence = FaultSwitches(rawValue: 1 << 2)
    /// Answer ReadIndex with the commit index at once, without the heartbeat round that proves leadership.
    public static let readIndexWithoutHeartbeat = FaultSwitches(rawValue: 1 << 3)
    /// Count read contexts from 1 on every start (see `ReadContexts`), so a delayed `readIndexResponse` from a
    /// previous life can answer a new read at an old index.
    public static let reuseReadContextsAcrossRestarts = FaultSwitches(rawValue: 1 << 4)
    /// The leader counts its own log toward the commit quorum at append time, although its appends go out before
    /// its own fsync (`Ready.earlyMessageCount`): its commit index can then cover an entry that is durable on no
    /// quorum, and a crash before the fsync loses an entry the node already called committed.
    public static let leaderCountsItselfBeforePersist = FaultSwitches(rawValue: 1 << 5)

    /// Every switch with its name, in a fixed order (for command lines and reports).
    public static let named: [(name: String, fault: FaultSwitches)] = [
        ("commit-previous-term", .commitPreviousTermByCount),
        ("ack-before-persist", .ackAppendBeforePersist),
        ("skip-vote-persistence", .skipVotePersistence),
        ("read-without-heartbeat", .readIndexWithoutHeartbeat),
        ("reuse-read-contexts", .reuseReadContextsAcrossRestarts),
        ("leader-counts-before-persist", .leaderCountsItselfBeforePersist),
    ]
}

/// How one `RaftNode` behaves. Build one per node; check it with `validate()` (the initializer of
/// `RaftNode` does).
public struct Config: Sendable {
    /// This node's id (nonzero).
    public var id: NodeID
    /// Ticks without hearing a leader before a follower campaigns; the actual timeout is drawn from
    /// `[electionTimeoutTicks, 2 * electionTimeoutTicks)` by the node's seeded generator.
    public var electionTimeoutTicks: Int = 10
    /// Ticks between a leader's heartbeats. Must be less than `electionTimeoutTicks`.
    public var heartbeatIntervalTicks: Int = 1
    /// Seed for the node's election jitter (give each node its own).
    public var randomSeed: UInt64
    /// Campaign with a pre-vote round first, so a partitioned node that rejoins cannot depose a healthy leader.
    public var preVote: Bool = true
    /// A leader steps down when it has not heard from a quorum for an election timeout; followers that
    /// hear from a leader ignore vote requests for one election timeout (the lease).
    public var checkQuorum: Bool = true
    /// Bytes of entries in one append message (at least one entry is always sent).
    public var appendBytesMax: Int = 1024 * 1024
    /// Entries in one append message.
    public var appendEntriesMax: Int = 1024
    /// Append messages in flight to one follower in the replicate state.
    public var inflightAppendsMax: Int = 256
    /// Bytes of entries in flight to one follower.
    public var inflightBytesMax: Int = 64 * 1024 * 1024
    /// Bytes of committed entries handed out in one `Ready` (at least one entry is always handed out).
    public var committedEntriesBytesMax: Int = 4 * 1024 * 1024
    /// Bytes of proposed but uncommitted entries a leader accepts before refusing proposals.
    public var uncommittedBytesMax: Int = 256 * 1024 * 1024
    /// Bytes per snapshot chunk.
    public var snapshotChunkBytes: Int = 1024 * 1024
    /// ReadIndex requests a node holds at once.
    public var pendingReadsMax: Int = 4096
    /// The index the application has already applied (on restart: its state machine's applied index).
    public var applied: UInt64 = 0
    /// Debug-only deliberate bugs (see `FaultSwitches`).
    public var faults: FaultSwitches = []

    public init(id: NodeID, randomSeed: UInt64) {
        self.id = id
        self.randomSeed = randomSeed
    }

    /// Checks every field against `Limits` and the relations between fields.
    public func validate() throws(ConfigError) {
        func require(_ ok: Bool, _ message: @autoclosure () -> String) throws(ConfigError) {
            if !ok { throw ConfigError.invalid(message()) }
        }
        try require(id != 0, "id must be nonzero")
        try require(heartbeatIntervalTicks > 0, "heartbeatIntervalTicks \(heartbeatIntervalTicks) must be > 0")
        try require(
            electionTimeoutTicks > heartbeatIntervalTicks,
            "electionTimeoutTicks \(electionTimeoutTicks) must exceed heartbeatIntervalTicks \(heartbeatIntervalTicks)")
        try require(appendBytesMax > 0, "appendBytesMax \(appendBytesMax) must be > 0")
        try require(appendBytesMax <= Limits.messageBytesMax / 2, "appendBytesMax \(appendBytesMax) too large")
        try require(appendEntriesMax > 0 && appendEntriesMax <= Limits.entriesPerMessageMax,
            "appendEntriesMax \(appendEntriesMax) outside 1...\(Limits.entriesPerMessageMax)")
        try require(inflightAppendsMax > 0 && inflightAppendsMax <= Limits.inflightAppendsMaxLimit,
            "inflightAppendsMax \(inflightAppendsMax) outside 1...\(Limits.inflightAppendsMaxLimit)")
        try require(inflightBytesMax >= appendBytesMax,
            "inflightBytesMax \(inflightBytesMax) must be ≥ appendBytesMax \(appendBytesMax)")
        try require(committedEntriesBytesMax > 0, "committedEntriesBytesMax must be > 0")
        try require(uncommittedBytesMax >= Limits.entryDataBytesMax + Limits.entryHeaderBytes,
            "uncommittedBytesMax \(uncommittedBytesMax) must admit one largest entry")
        try require(snapshotChunkBytes > 0 && snapshotChunkBytes <= Limits.messageBytesMax / 2,
            "snapshotChunkBytes \(snapshotChunkBytes) outside 1...\(Limits.messageBytesMax / 2)")
        try require(pendingReadsMax > 0 && pendingReadsMax <= Limits.pendingReadsMaxLimit,
            "pendingReadsMax \(pendingReadsMax) outside 1...\(Limits.pendingReadsMaxLimit)")
        #if !DEBUG
        try require(faults.isEmpty, "fault switches exist only in debug builds")
        #endif
    }
}

/// A configuration that `Config.validate()` refused.
public enum ConfigError: Error, Hashable {
    /// The message says which field and which bound.
    case invalid(String)
}

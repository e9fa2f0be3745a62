/// Why a proposal, membership change, leadership transfer or read was refused. None of these changes state.
public enum ProposeError: Error, Hashable {
    /// Only the leader accepts proposals; retry at `leaderHint` (nil when no leader is known).
    case notLeader(leaderHint: NodeID?)
    /// The leader is handing over to another node; retry there shortly.
    case leadershipTransferInProgress
    /// The command exceeds `Limits.entryDataBytesMax`.
    case entryTooLarge(bytes: Int, max: Int)
    /// Too many uncommitted bytes (`Config.uncommittedBytesMax`): back off.
    case uncommittedLimitReached
    /// A membership change is still uncommitted, or the new leader has not committed an entry of its term.
    case confChangeInProgress
    /// The membership change does not apply to the current membership (the message says why).
    case invalidConfChange(String)
    /// The learner's log is still too far behind to be promoted.
    case learnerNotCaughtUp(NodeID)
    /// Too many ReadIndex requests outstanding (`Config.pendingReadsMax`).
    case tooManyPendingReads
}

/// Why `RaftNode.step(_:)` refused a message. A refused message changes nothing.
public enum StepError: Error, Hashable {
    /// The message is addressed to another node.
    case misaddressed(to: NodeID, node: NodeID)
    /// The message is from a node id 0, or carries term 0.
    case malformed(String)
}

/// A failure to decode bytes into a Raft value.
public enum CodecError: Error, Hashable {
    /// The input ended early.
    case truncated
    /// An unknown kind tag.
    case unknownTag(UInt8)
    /// A length field exceeds its limit.
    case tooLarge(String)
    /// Bytes remained after the value.
    case trailingBytes(Int)
}

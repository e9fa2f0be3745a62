/// Volatile state worth reporting to the shell when it changes (who leads, in which role we are).
public struct SoftState: Sendable, Hashable {
    /// The leader this node believes in, or 0.
    public var leaderID: NodeID
    /// This node's role.
    public var role: Role

    public init(leaderID: NodeID, role: Role) {
        self.leaderID = leaderID
        self.role = role
    }
}

/// A linearizable read that may now be served: answer it from the state machine once the local applied
/// index is ≥ `index`.
public struct ReadState: Sendable, Hashable {
    /// The commit index the leader confirmed after a quorum round.
    public var index: UInt64
    /// The caller's read context, as given to `RaftNode.readIndex(context:)`.
    public var context: UInt64

    public init(index: UInt64, context: UInt64) {
        self.index = index
        self.context = context
    }
}

/// The work the shell must do, in this order, before calling `RaftNode.advance(_:)`:
/// 0. optionally, send the first `earlyMessageCount` of `messages` at once (a leader's appends, which may travel
///    while its own fsync runs: etcd's asynchronous storage writes; the leader counts itself towards the commit
///    quorum only in `advance`, after its own fsync);
/// 1. persist `hardState`, `snapshot` and `entries` (truncating any conflicting suffix first: an entry at
///    index i replaces the stored entry at i and everything after it); fsync if `mustSync`;
/// 2. send the rest of `messages` (only after step 1 is durable; a shell may send all of them here);
/// 3. apply `committedEntries` in index order (after restoring `snapshot` into the state machine, if any);
///    serve `readStates` once the applied index reaches their `index`;
/// 4. call `advance(ready)` with this same value, and only then call `ready()` again.
public struct Ready: Sendable {
    /// Set when the role or leader changed since the last `Ready`.
    public var softState: SoftState?
    /// Set when term, vote or commit changed; persist before sending.
    public var hardState: HardState?
    /// New entries to append to durable storage (contiguous, ascending).
    public var entries: [Entry]
    /// A snapshot received from the leader, to persist and restore into the state machine.
    public var snapshot: Snapshot?
    /// True when step 1 must end with an fsync (new entries, a new term or vote, or a snapshot). A commit
    /// change alone does not need one.
    public var mustSync: Bool
    /// Messages to send after step 1, except that the first `earlyMessageCount` may go before it.
    public var messages: [Message]
    /// How many of `messages`, from the start, do not depend on this `Ready` being durable: a leader's
    /// appends, heartbeats and snapshot chunks in a `Ready` that changes neither term nor vote. 0 otherwise.
    public var earlyMessageCount: Int = 0
    /// Entries to apply, contiguous from `applied + 1`.
    public var committedEntries: [Entry]
    /// Reads that may be served once applied ≥ their index.
    public var readStates: [ReadState]

    public init(
        softState: SoftState? = nil, hardState: HardState? = nil, entries: [Entry] = [], snapshot: Snapshot? = nil,
        mustSync: Bool = false, messages: [Message] = [], committedEntries: [Entry] = [], readStates: [ReadState] = []
    ) {
        self.softState = softState
        self.hardState = hardState
        self.entries = entries
        self.snapshot = snapshot
        self.mustSync = mustSync
        self.messages = messages
        self.committedEntries = committedEntries
        self.readStates = readStates
    }
}

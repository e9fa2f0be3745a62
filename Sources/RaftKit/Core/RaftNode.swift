/// One Raft peer as a deterministic state machine (etcd raft's shape). Same inputs, same outputs: no I/O, no
/// clock, no global randomness. The shell (a driver, or the simulator) calls `tick()` on a timer, `step(_:)`
/// for each received message, and `propose`/`proposeConfChange`/`transferLeadership`/`readIndex` for
/// clients; then loops `ready()` → perform the `Ready` (see its order) → `advance(_:)`.
///
/// Membership changes take effect when their entry is appended to a node's log and roll back if it is
/// truncated. Only one change may be uncommitted at a time, and a new leader accepts none until it has
/// committed an entry of its own term.
public struct RaftNode: Sendable {
    var config: Config
    /// This node's id.
    public var id: NodeID { config.id }
    /// The current term. Invariant: never decreases.
    public internal(set) var term: UInt64 = 0
    /// The vote cast in `term`, or 0.
    public internal(set) var vote: NodeID = 0
    /// The current role.
    public internal(set) var role: Role = .follower
    /// The known leader of `term`, or 0.
    public internal(set) var leaderID: NodeID = 0

    var log: RaftLog
    /// The membership in force: the latest `.confChange` entry in the log, else the snapshot's.
    public internal(set) var confState: ConfState
    /// Membership at the log's base (the snapshot's).
    var baseConfState: ConfState
    /// `.confChange` entries in the log above the base, ascending. Trimmed to the latest committed one.
    var confHistory: [(index: UInt64, confState: ConfState)] = []

    /// Leader only: one entry per member other than self, plus self.
    var progress: [NodeID: Progress] = [:]
    /// Votes received in the current campaign.
    var votes: [NodeID: Bool] = [:]
    var outbox: [Message] = []
    var readStates: [ReadState] = []
    var readOnly = ReadOnly()

    var electionElapsed = 0
    var heartbeatElapsed = 0
    var randomizedElectionTimeout = 0
    var rng: SplitMix64
    /// Leader only: the node leadership is being handed to, or 0.
    var leadTransferee: NodeID = 0
    /// Leader only: no membership change may be proposed until `committed ≥ pendingConfIndex`.
    var pendingConfIndex: UInt64 = 0
    /// Leader only: bytes proposed and not yet handed out as committed.
    var uncommittedBytes = 0
    /// Follower only: a snapshot being assembled from chunks.
    var incomingSnapshot: IncomingSnapshot?

    var previousSoftState: SoftState
    var previousHardState: HardState
    /// Leader only: entries were appended since the last `ready()`; send them then, in one batch per follower.
    var broadcastPending = false
    /// Leader only: a ReadIndex round was opened since the last `ready()`; send one heartbeat round then.
    var heartbeatPending = false
    /// A `Ready` was handed out and not yet advanced.
    var readyOutstanding = false

    /// Builds a node over `storage`, restoring term, vote, commit and membership from it. Reads every stored
    /// entry once (to find the membership changes after the snapshot), so compact the log to keep restarts
    /// short. Throws `ConfigError`, `LogStorageError`, or `CodecError` for an undecodable membership entry.
    public init(config: Config, storage: any LogStorage) throws {
        try config.validate()
        self.config = config
        self.rng = SplitMix64(seed: config.randomSeed ^ (config.id &* 0x9E37_79B9_7F4A_7C15))
        self.log = RaftLog(storage: storage)
        let (hardState, confState) = try storage.initialState()
        self.baseConfState = confState
        self.confState = confState
        self.previousSoftState = SoftState(leaderID: 0, role: .follower)
        self.previousHardState = hardState
        try loadConfHistory()
        if !hardState.isEmpty {
            precondition(hardState.commit <= log.lastIndex,
                "stored commit \(hardState.commit) beyond last index \(log.lastIndex)")
            term = hardState.term
            vote = hardState.vote
            log.commit(to: hardState.commit)
        }
        if config.applied > 0 { log.applied(to: min(config.applied, log.committed)) }
        becomeFollower(term: term, leader: 0)
        previousSoftState = SoftState(leaderID: leaderID, role: role)
        trimConfHistory()
    }

    mutating func loadConfHistory() throws {
        var index = log.firstIndex
        let last = log.lastIndex
        while index <= last {
            let batch = try log.slice(index, last + 1, bytesMax: Limits.logScanBatchBytesMax)
            for entry in batch where entry.kind == .confChange {
                confHistory.append((entry.index, try ConfChangeRecord(decoding: entry.data).confState))
            }
            index += UInt64(batch.count)
        }
        confState = confHistory.last?.confState ?? baseConfState
    }

    #if DEBUG
    /// Debug builds only: switches deliberate bugs on for an existing node (tests that prove checks can fail).
    public mutating func setFaultsForTesting(_ faults: FaultSwitches) { config.faults = faults }
    #endif

    // MARK: Queries

    /// The debug fault switches this node runs with (empty in release builds), for the shell's own switches.
    public var faults: FaultSwitches { config.faults }

    /// The highest index known committed.
    public var commitIndex: UInt64 { log.committed }
    /// The highest index applied (as reported through `advance`).
    public var appliedIndex: UInt64 { log.applied }
    /// The last index in the log (durable or not).
    public var lastIndex: UInt64 { log.lastIndex }
    /// The first index still held as an entry.
    public var firstIndex: UInt64 { log.firstIndex }
    /// The term of the entry at `index`, or nil if it is compacted or beyond the log.
    public func term(at index: UInt64) -> UInt64? { log.termIfStored(index) }
    /// Entries in `lo ..< hi` (for observers such as the simulator's checkers).
    public func entries(_ lo: UInt64, _ hi: UInt64) -> [Entry] {
        (try? log.slice(lo, hi, bytesMax: Int.max)) ?? []
    }
    /// The current hard state.
    public var hardState: HardState { HardState(term: term, vote: vote, commit: log.committed) }
    /// True if this node may campaign (it is a voter).
    public var isPromotable: Bool { confState.voters.contains(id) }
    /// Leader only: the match index of each member, sorted by id (for status pages and tests).
    public var matchIndexes: [(id: NodeID, match: UInt64)] {
        progress.keys.sorted().map { ($0, progress[$0]!.match) }
    }

    // MARK: Inputs

    /// Advances logical time by one tick: elections time out, leaders heartbeat and check their quorum.
    public mutating func tick() {
        switch role {
        case .leader: tickLeader()
        case .follower, .preCandidate, .candidate: tickElection()
        }
    }

    /// Starts an election now (as if the election timeout had elapsed), if this node is a voter.
    public mutating func campaign() {
        guard role != .leader, isPromotable else { return }
        if config.preVote { startCampaign(.preVote) } else { startCampaign(.election) }
    }

    /// Handles one message from a peer.
    public mutating func step(_ message: Message) throws(StepError) {
        guard message.to == id else { throw .misaddressed(to: message.to, node: id) }
        guard message.from != 0, message.from != id else { throw .malformed("bad sender \(message.from)") }
        guard message.term != 0 else { throw .malformed("term 0 from \(message.from)") }
        stepTerm(message)
    }

    /// Proposes an application command. Leader only; the entry is appended and replicated, and comes back in
    /// `Ready.committedEntries` once committed. Returns the entry's index and term.
    @discardableResult
    public mutating func propose(_ command: [UInt8]) throws(ProposeError) -> (index: UInt64, term: UInt64) {
        try checkCanPropose(bytes: command.count)
        return appendAsLeader(kind: .normal, data: command)
    }

    /// Proposes one membership step (see `ConfChange`). Leader only. `address` (only with `.addLearner`) is
    /// recorded in the resulting `ConfState.addresses`, so every member learns where the new node listens; a
    /// removal drops the node's address.
    @discardableResult
    public mutating func proposeConfChange(_ change: ConfChange, address: String? = nil) throws(ProposeError) -> (index: UInt64, term: UInt64) {
        try checkCanPropose(bytes: 0)
        guard log.committed >= pendingConfIndex else { throw .confChangeInProgress }
        let next = try nextConfState(change, address: address)
        var data: [UInt8] = []
        ConfChangeRecord(change: change, confState: next).encode(into: &data)
        let result = appendAsLeader(kind: .confChange, data: data)
        pendingConfIndex = result.index
        return result
    }

    /// Hands leadership to the voter `target`: it is brought up to date and then told to campaign at once.
    /// Proposals are refused meanwhile; the attempt is abandoned after an election timeout.
    public mutating func transferLeadership(to target: NodeID) throws(ProposeError) {
        guard role == .leader else { throw .notLeader(leaderHint: leaderID == 0 ? nil : leaderID) }
        guard target != id, confState.voters.contains(target) else {
            throw .invalidConfChange("transfer target \(target) is not another voter")
        }
        if leadTransferee == target { return }
        leadTransferee = target
        electionElapsed = 0
        if progress[target]!.match == log.lastIndex {
            send(to: target, .timeoutNow)
        } else {
            _ = maybeSendAppend(to: target, sendIfEmpty: true)
        }
    }

    /// Asks for a linearizable read point. When confirmed, a `ReadState` with `context` appears in a later
    /// `Ready`; serve the read once the applied index reaches its `index`. On a follower the request goes to
    /// the leader; if the leader changes, the request is dropped and the caller should retry on timeout.
    public mutating func readIndex(context: UInt64) throws(ProposeError) {
        switch role {
        case .leader:
            guard readOnly.pendingCount < config.pendingReadsMax else { throw .tooManyPendingReads }
            leaderReadIndex(requester: id, context: context)
        case .follower where leaderID != 0:
            send(to: leaderID, .readIndexRequest(context: context))
        case .follower, .preCandidate, .candidate:
            throw .notLeader(leaderHint: nil)
        }
    }

    // MARK: Ready / advance

    /// True if `ready()` would return work.
    public var hasReady: Bool {
        if readyOutstanding { return false }
        return !outbox.isEmpty || broadcastPending || heartbeatPending || !log.unstableEntries.isEmpty || log.unstable.snapshot != nil
            || log.hasNextCommittedEntries || !readStates.isEmpty || hardState != previousHardState
            || SoftState(leaderID: leaderID, role: role) != previousSoftState
    }

    /// The next batch of work for the shell, or nil if there is none. Call `advance(_:)` with it before
    /// calling `ready()` again.
    public mutating func ready() -> Ready? {
        precondition(!readyOutstanding, "ready() called again before advance()")
        guard hasReady else { return nil }
        flushPendingBroadcasts()
        var ready = Ready()
        let soft = SoftState(leaderID: leaderID, role: role)
        if soft != previousSoftState { ready.softState = soft }
        let hard = hardState
        var termOrVoteChanged = false
        var voteChanged = false
        if hard != previousHardState {
            termOrVoteChanged = hard.term != previousHardState.term || hard.vote != previousHardState.vote
            voteChanged = hard.term == previousHardState.term && hard.vote != previousHardState.vote
            var reported = hard
            #if DEBUG
            if config.faults.contains(.skipVotePersistence), hard.vote != 0, hard.vote != id {
                reported.vote = 0  // a vote for another node is never written
                if voteChanged { termOrVoteChanged = false }
            }
            #endif
            ready.hardState = reported
        }
        ready.entries = log.unstableEntries
        ready.snapshot = log.unstable.snapshot
        ready.messages = outbox
        outbox = []
        if role == .leader && !termOrVoteChanged && hard.term == previousHardState.term && hard.vote == previousHardState.vote {
            // Replication traffic first; it depends on nothing this Ready makes durable.
            var early: [Message] = []
            var late: [Message] = []
            for message in ready.messages {
                switch message.kind {
                case .append, .heartbeat, .snapshotChunk: early.append(message)
                default: late.append(message)
                }
            }
            ready.messages = early + late
            ready.earlyMessageCount = early.count
        }
        ready.committedEntries = log.nextCommittedEntries(bytesMax: config.committedEntriesBytesMax)
        ready.readStates = readStates
        readStates = []
        var entriesNeedSync = !ready.entries.isEmpty
        #if DEBUG
        if config.faults.contains(.ackAppendBeforePersist) { entriesNeedSync = false }
        #endif
        ready.mustSync = termOrVoteChanged || entriesNeedSync || ready.snapshot != nil
        if role == .leader {
            uncommittedBytes = max(0, uncommittedBytes - ready.committedEntries.reduce(0) { $0 + $1.data.count })
        }
        previousSoftState = soft
        previousHardState = hard
        readyOutstanding = true
        return ready
    }

    mutating func flushPendingBroadcasts() {
        if broadcastPending {
            broadcastPending = false
            if role == .leader { broadcastAppend() }
        }
        if heartbeatPending {
            heartbeatPending = false
            if role == .leader { broadcastHeartbeat() }
        }
    }

    /// Tells the node the shell finished `ready` (persisted, sent, applied).
    public mutating func advance(_ ready: Ready) {
        precondition(readyOutstanding, "advance() without an outstanding ready()")
        readyOutstanding = false
        if let snapshot = ready.snapshot {
            log.stableSnapshotTo(index: snapshot.metadata.index)
            log.applied(to: snapshot.metadata.index)
        }
        if let last = ready.entries.last {
            log.stableTo(index: last.index, term: last.term)
            countOwnDurableEntries(upTo: last)
        }
        if let last = ready.committedEntries.last { log.applied(to: last.index) }
    }
}

/// A snapshot a follower is assembling from chunks, into a sink of its log storage (a file, in production).
struct IncomingSnapshot: Sendable {
    let metadata: SnapshotMetadata
    let totalBytes: UInt64
    let sink: any SnapshotSink
    /// Bytes written to `sink` so far (the offset the next chunk must start at).
    var received: UInt64 = 0
}

/// A node's identity inside one Raft group. `0` is reserved and means "none" (no vote, no known leader).
public typealias NodeID = UInt64

/// What an entry carries: an application command or a membership change.
public enum EntryKind: UInt8, Sendable, Hashable {
    /// An application command (empty data: the no-op a new leader appends to commit its term).
    case normal = 0
    /// A membership change; `data` is an encoded `ConfChangeRecord`. It takes effect on every node as soon as
    /// it is appended to that node's log (Raft dissertation §4.1), and is undone if the entry is truncated.
    case confChange = 1
}

/// One log entry. Invariant: within a log, indexes are contiguous and terms never decrease.
public struct Entry: Sendable, Hashable {
    /// The leader's term when the entry was created.
    public var term: UInt64
    /// The entry's position in the log (1-based).
    public var index: UInt64
    /// Command or membership change.
    public var kind: EntryKind
    /// The command bytes (opaque to RaftKit) or the encoded membership change.
    public var data: [UInt8]

    public init(term: UInt64, index: UInt64, kind: EntryKind = .normal, data: [UInt8] = []) {
        self.term = term
        self.index = index
        self.kind = kind
        self.data = data
    }

    /// The size the flow-control limits count for this entry: its data plus a fixed header.
    public var sizeBytes: Int { data.count + Limits.entryHeaderBytes }
}

/// The state that must be durable before any message leaving the same `Ready` is sent.
/// Invariant: `term` never decreases; `vote` is set at most once per term.
public struct HardState: Sendable, Hashable {
    /// The latest term this node has seen.
    public var term: UInt64
    /// The candidate this node voted for in `term`, or 0.
    public var vote: NodeID
    /// The highest log index known to be committed.
    public var commit: UInt64

    public init(term: UInt64 = 0, vote: NodeID = 0, commit: UInt64 = 0) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }

    /// True for a node that never saw a term (fresh storage).
    public var isEmpty: Bool { term == 0 && vote == 0 && commit == 0 }
}

/// A membership: the voters (who elect and form quorums), the learners (who only receive the log), and the
/// members' addresses, so that every node that learns a membership (from a `.confChange` entry or a snapshot)
/// also learns where its members listen. Invariant: both arrays sorted and disjoint; every address belongs to a
/// member and is at most `Limits.addressBytesMax` UTF-8 bytes. A member may lack an address (the shell then
/// knows it from its own configuration).
public struct ConfState: Sendable, Hashable {
    /// Voting members, sorted ascending.
    public var voters: [NodeID]
    /// Non-voting members, sorted ascending.
    public var learners: [NodeID]
    /// Listening addresses by member, opaque to the core (`TCPTransport` uses "host:port").
    public var addresses: [NodeID: String]

    public init(voters: [NodeID] = [], learners: [NodeID] = [], addresses: [NodeID: String] = [:]) {
        self.voters = voters.sorted()
        self.learners = learners.sorted()
        self.addresses = addresses
        precondition(Set(self.voters).isDisjoint(with: self.learners), "voters \(voters) overlap learners \(learners)")
        precondition(addresses.keys.allSatisfy { self.voters.contains($0) || self.learners.contains($0) },
            "addresses \(addresses.keys.sorted()) name a non-member")
        precondition(addresses.values.allSatisfy { $0.utf8.count <= Limits.addressBytesMax }, "address too long")
    }

    /// Every member, voters first then learners, each part sorted.
    public var members: [NodeID] { voters + learners }

    /// True if `id` is a voter or a learner.
    public func contains(_ id: NodeID) -> Bool { voters.contains(id) || learners.contains(id) }
}

/// A single membership step. RaftKit changes one voter at a time: a node joins as a learner, catches up,
/// and is then promoted; removal takes a voter or learner out.
public enum ConfChange: Sendable, Hashable {
    /// Add `id` as a learner (receives the log, never votes).
    case addLearner(NodeID)
    /// Turn the learner `id` into a voter. Refused until its log is within `Limits.learnerCatchUpEntriesMax`.
    case promoteLearner(NodeID)
    /// Remove the voter or learner `id`. A leader cannot remove itself: transfer leadership first.
    case removeNode(NodeID)

    /// The node the change is about.
    public var nodeID: NodeID {
        switch self {
        case .addLearner(let id), .promoteLearner(let id), .removeNode(let id): return id
        }
    }
}

/// The payload of a `.confChange` entry: the step and the full membership that results from it, so a node
/// that never saw the bootstrap membership learns it from the entry alone.
public struct ConfChangeRecord: Sendable, Hashable {
    /// The step that was proposed.
    public var change: ConfChange
    /// The membership after the step.
    public var confState: ConfState

    public init(change: ConfChange, confState: ConfState) {
        self.change = change
        self.confState = confState
    }
}

/// Where a snapshot stands in the log and which membership was in force there.
public struct SnapshotMetadata: Sendable, Hashable {
    /// The last log index the snapshot covers.
    public var index: UInt64
    /// The term of the entry at `index`.
    public var term: UInt64
    /// The membership at `index`.
    public var confState: ConfState

    public init(index: UInt64 = 0, term: UInt64 = 0, confState: ConfState = ConfState()) {
        self.index = index
        self.term = term
        self.confState = confState
    }
}

/// A state-machine image at a log index. The payload is opaque to RaftKit (the application's snapshot bytes),
/// read in pieces (see `SnapshotPayload`): a multi-GiB image is streamed, never held in memory.
public struct Snapshot: Sendable, Equatable {
    /// Position and membership.
    public var metadata: SnapshotMetadata
    /// The application's serialized state at `metadata.index`.
    public var payload: any SnapshotPayload

    public init(metadata: SnapshotMetadata = SnapshotMetadata(), payload: any SnapshotPayload) {
        self.metadata = metadata
        self.payload = payload
    }

    /// A snapshot whose payload is held in memory (the simulator, tests).
    public init(metadata: SnapshotMetadata = SnapshotMetadata(), data: [UInt8] = []) {
        self.init(metadata: metadata, payload: data.isEmpty ? SnapshotBytes.empty : SnapshotBytes(data))
    }

    /// True for the "no snapshot" value (index 0).
    public var isEmpty: Bool { metadata.index == 0 }

    /// Equal positions and the same payload object (payloads are not compared byte by byte).
    public static func == (lhs: Snapshot, rhs: Snapshot) -> Bool {
        lhs.metadata == rhs.metadata && lhs.payload === rhs.payload
    }
}

/// A node's role in the current term.
public enum Role: UInt8, Sendable, Hashable, CustomStringConvertible {
    case follower, preCandidate, candidate, leader

    public var description: String {
        switch self {
        case .follower: return "follower"
        case .preCandidate: return "pre-candidate"
        case .candidate: return "candidate"
        case .leader: return "leader"
        }
    }
}

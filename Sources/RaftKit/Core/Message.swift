/// A Raft message between two nodes of one group. The transport may drop, delay, duplicate or reorder
/// messages; the core stays correct under all of these.
public struct Message: Sendable, Hashable {
    /// The sender.
    public var from: NodeID
    /// The recipient.
    public var to: NodeID
    /// The sender's term (for a pre-vote request: the term the sender would campaign in).
    public var term: UInt64
    /// What the message says.
    public var kind: Kind

    public init(from: NodeID, to: NodeID, term: UInt64, kind: Kind) {
        self.from = from
        self.to = to
        self.term = term
        self.kind = kind
    }

    /// Every kind of message, with its fields.
    public enum Kind: Sendable, Hashable {
        /// Leader → follower: append `entries` after (`prevIndex`, `prevTerm`); `commit` is the leader's commit.
        case append(prevIndex: UInt64, prevTerm: UInt64, entries: [Entry], commit: UInt64)
        /// Follower → leader: the log now matches the leader's up to `matchIndex` (durably).
        case appendAccepted(matchIndex: UInt64)
        /// Follower → leader: the append after `rejectedIndex` did not match. The hint is the follower's
        /// best guess of the last matching position: the largest index ≤ the probe whose term ≤ the probe's term.
        case appendRejected(rejectedIndex: UInt64, hintIndex: UInt64, hintTerm: UInt64)
        /// Candidate → all: vote for me (`preVote`: would you, without changing terms).
        /// `leadershipTransfer` asks voters to ignore their check-quorum lease.
        case voteRequest(preVote: Bool, lastIndex: UInt64, lastTerm: UInt64, leadershipTransfer: Bool)
        /// Voter → candidate.
        case voteResponse(preVote: Bool, granted: Bool)
        /// Leader → follower: I am still leader; `commit` is capped at the follower's match. `readRound`
        /// is the latest ReadIndex round the leader wants confirmed.
        case heartbeat(commit: UInt64, readRound: UInt64)
        /// Follower → leader: echo of the heartbeat's `readRound`.
        case heartbeatResponse(readRound: UInt64)
        /// Leader → follower: bytes `offset ..< offset + data.count` of a snapshot of `totalBytes` bytes.
        case snapshotChunk(metadata: SnapshotMetadata, offset: UInt64, totalBytes: UInt64, data: [UInt8])
        /// Follower → leader: I hold the first `nextOffset` bytes of the snapshot at `index`; send from there.
        case snapshotAck(index: UInt64, nextOffset: UInt64)
        /// Leader → transferee: campaign now, skipping pre-vote and leases.
        case timeoutNow
        /// Follower → leader: confirm leadership and tell me the commit index for read `context`.
        case readIndexRequest(context: UInt64)
        /// Leader → follower: read `context` may be served once applied ≥ `index`.
        case readIndexResponse(context: UInt64, index: UInt64)
    }
}

extension Message.Kind {
    /// A short name for traces.
    public var name: String {
        switch self {
        case .append: return "App"
        case .appendAccepted: return "AppAck"
        case .appendRejected: return "AppRej"
        case .voteRequest(let pre, _, _, _): return pre ? "PreVote" : "Vote"
        case .voteResponse(let pre, _): return pre ? "PreVoteResp" : "VoteResp"
        case .heartbeat: return "Heartbeat"
        case .heartbeatResponse: return "HeartbeatResp"
        case .snapshotChunk: return "SnapChunk"
        case .snapshotAck: return "SnapAck"
        case .timeoutNow: return "TimeoutNow"
        case .readIndexRequest: return "ReadIndex"
        case .readIndexResponse: return "ReadIndexResp"
        }
    }
}

extension Message: CustomStringConvertible {
    public var description: String {
        var s = "\(from)->\(to) \(kind.name) term=\(term)"
        switch kind {
        case .append(let prevIndex, let prevTerm, let entries, let commit):
            s += " prev=\(prevTerm)/\(prevIndex) commit=\(commit) entries=["
            s += entries.map { "\($0.term)/\($0.index)" }.joined(separator: ",") + "]"
        case .appendAccepted(let matchIndex): s += " match=\(matchIndex)"
        case .appendRejected(let rejected, let hintIndex, let hintTerm):
            s += " rejected=\(rejected) hint=\(hintTerm)/\(hintIndex)"
        case .voteRequest(_, let lastIndex, let lastTerm, let transfer):
            s += " last=\(lastTerm)/\(lastIndex)" + (transfer ? " transfer" : "")
        case .voteResponse(_, let granted): s += granted ? " granted" : " rejected"
        case .heartbeat(let commit, let round): s += " commit=\(commit) round=\(round)"
        case .heartbeatResponse(let round): s += " round=\(round)"
        case .snapshotChunk(let metadata, let offset, let total, let data):
            s += " snap=\(metadata.term)/\(metadata.index) bytes=\(offset)+\(data.count)/\(total)"
        case .snapshotAck(let index, let next): s += " snap=\(index) next=\(next)"
        case .timeoutNow: break
        case .readIndexRequest(let context): s += " ctx=\(context)"
        case .readIndexResponse(let context, let index): s += " ctx=\(context) index=\(index)"
        }
        return s
    }
}

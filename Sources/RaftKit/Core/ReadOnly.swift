internal import DequeModule

/// A ReadIndex request held by the leader.
struct PendingRead: Sendable {
    let requester: NodeID
    let context: UInt64
    var index: UInt64
    var round: UInt64
}

/// The leader's ReadIndex bookkeeping (etcd's `readOnly`, with numbered heartbeat rounds instead of contexts):
/// a read taken at commit index c in round r is served once a quorum has answered a heartbeat of round ≥ r.
struct ReadOnly: Sendable {
    /// The latest round opened. Invariant: never decreases (also across terms).
    var round: UInt64 = 0
    /// Reads waiting for their round to be confirmed, rounds ascending.
    var confirming: Deque<PendingRead> = []
    /// Reads that arrived before the leader committed an entry of its term.
    var awaitingCommit: [PendingRead] = []

    var pendingCount: Int { confirming.count + awaitingCommit.count }

    mutating func reset() {
        confirming.removeAll()
        awaitingCommit.removeAll()
    }
}

extension RaftNode {
    mutating func leaderReadIndex(requester: NodeID, context: UInt64) {
        #if DEBUG
        if config.faults.contains(.readIndexWithoutHeartbeat) {
            answerRead(PendingRead(requester: requester, context: context, index: log.committed, round: 0))
            return
        }
        #endif
        var read = PendingRead(requester: requester, context: context, index: log.committed, round: 0)
        // The commit index is only known to be current once an entry of this term is committed.
        guard log.termOrZero(log.committed) == term else {
            readOnly.awaitingCommit.append(read)
            return
        }
        if confState.voters == [id] {
            answerRead(read)
            return
        }
        readOnly.round += 1
        read.round = readOnly.round
        readOnly.confirming.append(read)
        heartbeatPending = true
    }

    mutating func releaseReadsAwaitingCommit() {
        guard !readOnly.awaitingCommit.isEmpty, role == .leader, log.termOrZero(log.committed) == term else { return }
        let waiting = readOnly.awaitingCommit
        readOnly.awaitingCommit = []
        for read in waiting { leaderReadIndex(requester: read.requester, context: read.context) }
    }

    /// Serves every read whose round a quorum of voters has confirmed.
    mutating func releaseConfirmedReads() {
        guard let first = readOnly.confirming.first else { return }
        var acks: [UInt64] = []
        for voter in confState.voters {
            acks.append(voter == id ? readOnly.round : progress[voter]?.readRoundAcked ?? 0)
        }
        acks.sort(by: >)
        let confirmed = acks[quorum - 1]
        guard first.round <= confirmed else { return }
        while let read = readOnly.confirming.first, read.round <= confirmed {
            readOnly.confirming.removeFirst()
            answerRead(read)
        }
    }

    mutating func answerRead(_ read: PendingRead) {
        if read.requester == id {
            readStates.append(ReadState(index: read.index, context: read.context))
        } else {
            send(to: read.requester, .readIndexResponse(context: read.context, index: read.index))
        }
    }
}

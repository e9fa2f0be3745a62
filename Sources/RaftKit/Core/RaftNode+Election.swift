// Roles, timers and elections: term handling for every message, pre-vote, votes, check-quorum, leases.

enum CampaignKind {
    case preVote, election, transfer
}

extension RaftNode {
    var quorum: Int { confState.voters.count / 2 + 1 }

    mutating func reset(term newTerm: UInt64) {
        if newTerm != term {
            precondition(newTerm > term, "term regresses from \(term) to \(newTerm)")
            term = newTerm
            vote = 0
        }
        leaderID = 0
        electionElapsed = 0
        heartbeatElapsed = 0
        randomizedElectionTimeout = config.electionTimeoutTicks
            + Int(rng.next() % UInt64(config.electionTimeoutTicks))
        leadTransferee = 0
        votes = [:]
        progress = [:]
        readOnly.reset()
        dropIncomingSnapshot()
    }

    mutating func becomeFollower(term newTerm: UInt64, leader: NodeID) {
        reset(term: newTerm)
        role = .follower
        leaderID = leader
    }

    mutating func becomePreCandidate() {
        precondition(role != .leader, "leader \(id) cannot become pre-candidate in term \(term)")
        // Keep term and vote: a pre-vote changes nothing durable.
        votes = [:]
        leaderID = 0
        role = .preCandidate
        randomizedElectionTimeout = config.electionTimeoutTicks
            + Int(rng.next() % UInt64(config.electionTimeoutTicks))
    }

    mutating func becomeCandidate() {
        precondition(role != .leader, "leader \(id) cannot become candidate in term \(term)")
        reset(term: term + 1)
        vote = id
        role = .candidate
    }

    mutating func becomeLeader() {
        precondition(role == .candidate, "\(role) \(id) cannot become leader in term \(term)")
        reset(term: term)
        role = .leader
        leaderID = id
        let last = log.lastIndex
        for member in confState.members {
            var pr = Progress(next: last + 1, inflightsMax: config.inflightAppendsMax,
                inflightBytesMax: config.inflightBytesMax)
            pr.recentActive = true
            if member == id {
                // Only the durable part of the log counts towards the quorum (see `countOwnDurableEntries`).
                pr.match = log.lastDurableIndex
                #if DEBUG
                if config.faults.contains(.leaderCountsItselfBeforePersist) { pr.match = last }
                #endif
                pr.becomeReplicate()
            }
            progress[member] = pr
        }
        uncommittedBytes = 0
        // The no-op commits this term's first entry; until then no membership change is accepted.
        let noop = appendAsLeader(kind: .normal, data: [])
        pendingConfIndex = noop.index
    }

    // MARK: Timers

    mutating func tickElection() {
        electionElapsed += 1
        if isPromotable && electionElapsed >= randomizedElectionTimeout {
            electionElapsed = 0
            campaign()
        }
    }

    mutating func tickLeader() {
        heartbeatElapsed += 1
        electionElapsed += 1
        if electionElapsed >= config.electionTimeoutTicks {
            electionElapsed = 0
            if config.checkQuorum && !checkQuorumActive() {
                becomeFollower(term: term, leader: 0)
                return
            }
            leadTransferee = 0
        }
        if heartbeatElapsed >= config.heartbeatIntervalTicks {
            heartbeatElapsed = 0
            broadcastHeartbeat()
        }
    }

    /// True if a quorum of voters was heard from since the last call; resets the flags.
    mutating func checkQuorumActive() -> Bool {
        var active = 0
        for voter in confState.voters {
            if voter == id { active += 1; continue }
            if progress[voter]?.recentActive == true { active += 1 }
        }
        for member in progress.keys where member != id { progress[member]!.recentActive = false }
        return active >= quorum
    }

    // MARK: Campaigns

    mutating func startCampaign(_ kind: CampaignKind) {
        let voteTerm: UInt64
        if kind == .preVote {
            becomePreCandidate()
            voteTerm = term + 1
        } else {
            becomeCandidate()
            voteTerm = term
        }
        switch poll(id, granted: true) {
        case .won:
            if kind == .preVote { startCampaign(.election) } else { becomeLeader() }
            return
        case .lost, .pending: break
        }
        let lastIndex = log.lastIndex
        let lastTerm = log.lastTerm
        for voter in confState.voters where voter != id {
            outbox.append(Message(from: id, to: voter, term: voteTerm,
                kind: .voteRequest(preVote: kind == .preVote, lastIndex: lastIndex, lastTerm: lastTerm,
                    leadershipTransfer: kind == .transfer)))
        }
    }

    enum PollResult { case won, lost, pending }

    mutating func poll(_ voter: NodeID, granted: Bool) -> PollResult {
        if votes[voter] == nil { votes[voter] = granted }
        var yes = 0
        var no = 0
        for member in confState.voters {
            switch votes[member] {
            case true?: yes += 1
            case false?: no += 1
            case nil: break
            }
        }
        if yes >= quorum { return .won }
        if confState.voters.count - no < quorum { return .lost }
        return .pending
    }

    /// The lease: a node that heard from a leader within an election timeout ignores vote requests.
    var inLease: Bool { leaderID != 0 && electionElapsed < config.electionTimeoutTicks }

    // MARK: Term handling (etcd `Step`)

    mutating func stepTerm(_ m: Message) {
        if m.term > term {
            if case .voteRequest(let preVote, _, _, let transfer) = m.kind {
                // Pre-votes always respect the lease; real votes when check-quorum is on.
                if !transfer && inLease && (preVote || config.checkQuorum) { return }
            }
            switch m.kind {
            case .voteRequest(preVote: true, _, _, _):
                break  // never change term for a pre-vote request
            case .voteResponse(preVote: true, granted: true):
                break  // a granted pre-vote carries the future term
            case .append, .heartbeat, .snapshotChunk:
                becomeFollower(term: m.term, leader: m.from)
            default:
                becomeFollower(term: m.term, leader: 0)
            }
        } else if m.term < term {
            switch m.kind {
            case .append, .heartbeat:
                // Tell a stale leader about the newer term (it may be cut off and unable to learn otherwise).
                send(to: m.from, .appendAccepted(matchIndex: 0))
            case .voteRequest(preVote: true, _, _, _):
                send(to: m.from, .voteResponse(preVote: true, granted: false))
            default:
                break
            }
            return
        }
        if case .voteRequest(let preVote, let lastIndex, let lastTerm, _) = m.kind {
            handleVoteRequest(m, preVote: preVote, lastIndex: lastIndex, lastTerm: lastTerm)
            return
        }
        switch role {
        case .leader: stepLeader(m)
        case .candidate, .preCandidate: stepCandidate(m)
        case .follower: stepFollower(m)
        }
    }

    mutating func handleVoteRequest(_ m: Message, preVote: Bool, lastIndex: UInt64, lastTerm: UInt64) {
        let canVote = vote == m.from || (vote == 0 && leaderID == 0) || (preVote && m.term > term)
        if canVote && log.isUpToDate(lastIndex: lastIndex, lastTerm: lastTerm) {
            outbox.append(Message(from: id, to: m.from, term: m.term, kind: .voteResponse(preVote: preVote, granted: true)))
            if !preVote {
                electionElapsed = 0
                vote = m.from
            }
        } else if term > 0 {
            // A node that never saw a term cannot say which term it rejects in; messages never carry term 0
            // (`step` refuses them), and the candidate learns nothing from the refusal anyway.
            send(to: m.from, .voteResponse(preVote: preVote, granted: false))
        }
    }

    mutating func stepCandidate(_ m: Message) {
        switch m.kind {
        case .append:
            becomeFollower(term: m.term, leader: m.from)
            stepFollower(m)
        case .heartbeat:
            becomeFollower(term: m.term, leader: m.from)
            stepFollower(m)
        case .snapshotChunk:
            becomeFollower(term: m.term, leader: m.from)
            stepFollower(m)
        case .voteResponse(let preVote, let granted):
            guard preVote == (role == .preCandidate) else { return }
            switch poll(m.from, granted: granted) {
            case .won:
                if role == .preCandidate { startCampaign(.election) } else { becomeLeader() }
            case .lost:
                becomeFollower(term: term, leader: 0)
            case .pending:
                break
            }
        case .timeoutNow, .readIndexRequest, .readIndexResponse, .appendAccepted, .appendRejected,
            .heartbeatResponse, .snapshotAck, .voteRequest:
            break
        }
    }

    mutating func send(to: NodeID, _ kind: Message.Kind) {
        precondition(term > 0, "node \(id) would send \(kind.name) to \(to) with term 0")
        outbox.append(Message(from: id, to: to, term: term, kind: kind))
    }
}

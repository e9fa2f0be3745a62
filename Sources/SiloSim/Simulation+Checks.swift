import RaftKit

// The Raft safety properties of JEPSEN-SPEC §4.5, checked by an observer that sees every node after every tick
// (and every Ready as it is processed).
extension Simulation {
    /// Log Matching, inductively: every node that holds an entry (index, term) holds the same command there and
    /// the same term just before it.
    func registerEntries(_ entries: [Entry], at node: SimNode) throws {
        let raft = node.raft!
        for entry in entries {
            let previous = entry.index == 1 ? 0 : raft.term(at: entry.index - 1)
            let key = EntryKey(index: entry.index, term: entry.term)
            let print = fingerprint(entry.data, kind: entry.kind.rawValue)
            if let known = entryRegistry[key] {
                if known.fingerprint != print {
                    throw SimFailure(message: "log matching: node \(node.id) holds a different entry \(entry.term)/\(entry.index)")
                }
                if let previous, known.previousTerm != previous {
                    throw SimFailure(message: "log matching: node \(node.id) has term \(previous) before \(entry.term)/\(entry.index), others \(known.previousTerm)")
                }
            } else if let previous {
                entryRegistry[key] = (print, previous)
            }
        }
    }

    /// Commit monotonicity and the committed-entry registry (State Machine Safety on the committed prefix).
    func observeCommit(_ node: SimNode) throws {
        let raft = node.raft!
        let commit = raft.commitIndex
        if commit < node.lastCommit {
            throw SimFailure(message: "commit index of node \(node.id) went back from \(node.lastCommit) to \(commit)")
        }
        guard commit > node.lastCommit else { return }
        var index = max(node.lastCommit + 1, raft.firstIndex > 0 ? raft.firstIndex - 1 : 0)
        while index <= commit {
            if index > 0, let t = raft.term(at: index) {
                let slot = Int(index)
                while committedTerms.count <= slot { committedTerms.append(0) }
                if committedTerms[slot] == 0 {
                    committedTerms[slot] = t
                } else if committedTerms[slot] != t {
                    throw SimFailure(message: "state machine safety: node \(node.id) committed term \(t) at \(index), another node term \(committedTerms[slot])")
                }
            }
            index += 1
        }
        node.lastCommit = commit
        maxCommitSeen = max(maxCommitSeen, commit)
    }

    func checkInvariants() throws {
        for node in nodes where node.isUp {
            try observeCommit(node)
            let raft = node.raft!
            guard raft.role == .leader else { continue }
            try checkCommitDurable(node)
            if let other = leaderOfTerm[raft.term], other != node.id {
                throw SimFailure(message: "election safety: nodes \(other) and \(node.id) both led term \(raft.term)")
            }
            leaderOfTerm[raft.term] = node.id
            if node.leaderTerm != raft.term {
                try checkLeaderCompleteness(node)
                node.leaderTerm = raft.term
            } else if raft.lastIndex < node.leaderLastIndex
                || raft.term(at: node.leaderLastIndex).map({ $0 != node.leaderLastTerm }) == true
            {
                throw SimFailure(message: "leader append-only: leader \(node.id) of term \(raft.term) lost or changed entry \(node.leaderLastTerm)/\(node.leaderLastIndex)")
            }
            node.leaderLastIndex = raft.lastIndex
            node.leaderLastTerm = raft.term(at: raft.lastIndex) ?? 0
        }
    }

    /// Committed means durable on a quorum: when a leader moves its commit index, the entry there is already
    /// fsynced on a quorum of the voters it counts (itself included), whether or not anyone crashes. Checked only
    /// for what a leader commits itself: an index it inherited was committed under an earlier leader, perhaps
    /// in an earlier membership. (A new leader commits nothing before its no-op round trip, two ticks or more
    /// after the tick in which it is first seen here.)
    func checkCommitDurable(_ node: SimNode) throws {
        let raft = node.raft!
        let commit = raft.commitIndex
        if node.leaderTerm != raft.term {
            node.durableCheckedCommit = commit
            return
        }
        guard commit > node.durableCheckedCommit else { return }
        node.durableCheckedCommit = commit
        guard let term = raft.term(at: commit), commit >= raft.firstIndex else { return }
        let voters = raft.confState.voters
        var durable: [NodeID] = []
        for voter in voters {
            let disk = self.node(voter).disk.durableState
            if disk.snapshot.metadata.index >= commit || disk.term(at: commit) == term { durable.append(voter) }
        }
        if durable.count < voters.count / 2 + 1 {
            throw SimFailure(message: "commit durability: leader \(node.id) committed \(term)/\(commit) but only \(durable) of voters \(voters) hold it durably")
        }
    }

    /// Every entry committed anywhere is in the log (or snapshot) of every new leader.
    func checkLeaderCompleteness(_ node: SimNode) throws {
        let raft = node.raft!
        let committed = UInt64(committedTerms.count - 1)
        if raft.lastIndex < committed {
            throw SimFailure(message: "leader completeness: leader \(node.id) of term \(raft.term) has last index \(raft.lastIndex) < committed \(committed)")
        }
        var index = max(raft.firstIndex, 1)
        while index <= committed {
            let expected = committedTerms[Int(index)]
            if expected != 0, let t = raft.term(at: index), t != expected {
                throw SimFailure(message: "leader completeness: leader \(node.id) of term \(raft.term) has term \(t) at \(index), committed term \(expected)")
            }
            index += 1
        }
    }
}

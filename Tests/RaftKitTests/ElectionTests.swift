import Testing

@testable import RaftKit

/// Elections: the classic 6.824-style scenarios on a hand-driven cluster.
struct ElectionTests {
    /// Goal: a fresh cluster elects exactly one leader that everyone follows. Method: tick until a leader exists.
    @Test func initialElection() {
        var cluster = TestCluster(voters: 3)
        var ticks = 0
        while cluster.leader == nil && ticks < 100 {
            cluster.tickAll()
            ticks += 1
        }
        let leader = try! #require(cluster.leader)
        #expect(cluster.leaders.count == 1)
        let term = cluster[leader].term
        for id in cluster.ids {
            #expect(cluster[id].term == term)
            #expect(cluster[id].leaderID == leader)
        }
        // No further elections while the network is healthy.
        cluster.tickAll(times: 50)
        #expect(cluster.leader == leader)
        #expect(cluster[leader].term == term)
    }

    /// Goal: when the leader is cut off a new one is elected, and the old one follows it after rejoining.
    @Test func reElection() {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        #expect(cluster.leader == 1)
        cluster.isolate(1)
        cluster.tickAll(times: 40)
        let newLeader = try! #require(cluster.leaders.first { $0 != 1 })
        #expect(cluster[newLeader].term > 1)
        cluster.heal()
        cluster.tickAll(times: 30)
        #expect(cluster.leaders == [newLeader])
        #expect(cluster[1].role == .follower)
        #expect(cluster[1].leaderID == newLeader)
    }

    /// Goal: under churn (random isolation of nodes) there is never more than one leader per term, and a
    /// leader emerges once the network heals. Method: 40 rounds of random cuts from a fixed seed.
    @Test func electionsUnderChurn() {
        var cluster = TestCluster(voters: 5)
        var random = SplitMix64(seed: 7)
        var leaderOfTerm: [UInt64: NodeID] = [:]
        for _ in 0..<40 {
            cluster.heal()
            for _ in 0..<Int(random.next() % 3) { cluster.isolate(NodeID(random.next() % 5 + 1)) }
            for _ in 0..<30 {
                cluster.tickAll()
                for id in cluster.leaders {
                    let term = cluster[id].term
                    #expect(leaderOfTerm[term, default: id] == id, "two leaders in term \(term)")
                    leaderOfTerm[term] = id
                }
            }
        }
        cluster.heal()
        cluster.tickAll(times: 60)
        #expect(cluster.leaders.count == 1)
        #expect(leaderOfTerm.count > 1)
    }

    /// Goal: an election costs a bounded number of messages. Method: count pre-votes, votes and responses.
    @Test func electionMessageCount() {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        #expect(cluster.leader == 1)
        let votes = ["PreVote", "PreVoteResp", "Vote", "VoteResp"].reduce(0) { $0 + cluster.sent[$1, default: 0] }
        #expect(votes <= 8, "election used \(votes) vote messages: \(cluster.sent)")
        #expect(cluster.sent["App", default: 0] <= 4)
    }

    /// Goal: pre-vote keeps a partitioned node from deposing a healthy leader when it rejoins. Method: isolate a
    /// follower for many election timeouts; its term must not grow, and after healing the leader keeps its term.
    @Test func preVoteProtectsLeader() {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        let term = cluster[1].term
        cluster.isolate(3)
        cluster.tickAll(times: 100)
        #expect(cluster[3].term == term, "pre-vote must not bump the isolated node's term")
        try! cluster.propose(1, "x")
        cluster.stabilize()
        cluster.heal()
        cluster.tickAll(times: 30)
        #expect(cluster.leader == 1)
        #expect(cluster[1].term == term)
        #expect(cluster[3].leaderID == 1)
        #expect(cluster.appliedCommands(3) == ["x"])
    }

    /// Goal: without pre-vote, the same rejoin does disrupt (shows the previous test can fail).
    @Test func withoutPreVoteTheRejoinDisrupts() {
        var cluster = TestCluster(voters: 3) { $0.preVote = false; $0.checkQuorum = false }
        cluster.elect(1)
        let term = cluster[1].term
        cluster.isolate(3)
        cluster.tickAll(times: 100)
        #expect(cluster[3].term > term)
        cluster.heal()
        cluster.tickAll(times: 30)
        #expect(cluster[1].term > term)
    }

    /// Goal: check-quorum makes a leader that cannot hear a majority step down. Method: isolate the leader and
    /// tick it alone for two election timeouts.
    @Test func checkQuorumStepsDown() {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.isolate(1)
        cluster.tick(1, times: 25)
        cluster.stabilize()
        #expect(cluster[1].role == .follower)
        #expect(throws: ProposeError.notLeader(leaderHint: nil)) { try cluster.propose(1, "lost") }
    }

    /// Goal: votes survive a crash: a node that voted in a term and restarts from storage keeps the vote and
    /// refuses another candidate of that term.
    @Test func durableVotesAcrossCrashes() {
        var cluster = TestCluster(voters: 3) { $0.preVote = false; $0.checkQuorum = false }
        cluster.isolate(3)
        cluster.elect(1)
        #expect(cluster.leader == 1)
        let term = cluster[1].term
        #expect(cluster[2].vote == 1)
        cluster.crash(2)
        cluster.restart(2)
        #expect(cluster[2].term == term)
        #expect(cluster[2].vote == 1)
        // A request from node 3 in the same term is refused.
        try! cluster[2].step(Message(from: 3, to: 2, term: term,
            kind: .voteRequest(preVote: false, lastIndex: 100, lastTerm: term, leadershipTransfer: false)))
        let ready = cluster[2].ready()!
        cluster[2].advance(ready)
        #expect(ready.messages.contains { $0.kind == .voteResponse(preVote: false, granted: false) })
        #expect(cluster[2].vote == 1)
    }

    /// Goal: leadership transfer hands over to the chosen voter in the next term.
    @Test func leadershipTransfer() throws {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        try cluster.propose(1, "a")
        cluster.stabilize()
        let term = cluster[1].term
        try cluster[1].transferLeadership(to: 3)
        #expect(throws: ProposeError.leadershipTransferInProgress) { try cluster.propose(1, "b") }
        cluster.stabilize()
        #expect(cluster.leader == 3)
        #expect(cluster[3].term == term + 1)
        #expect(cluster[1].leaderID == 3)
        try cluster.propose(3, "c")
        cluster.stabilize()
        #expect(cluster.appliedCommands(1) == ["a", "c"])
    }

    /// Goal: a transfer to a lagging voter first brings it up to date. Method: drop appends to node 3, then
    /// transfer once they flow again.
    @Test func leadershipTransferToLaggingFollower() throws {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.cut.insert(.init(from: 1, to: 3))
        for i in 0..<5 { try cluster.propose(1, "e\(i)") }
        cluster.stabilize()
        #expect(cluster[3].lastIndex < cluster[1].lastIndex)
        cluster.heal()
        try cluster[1].transferLeadership(to: 3)
        cluster.stabilize()
        #expect(cluster.leader == 3)
        #expect(cluster.appliedCommands(3).count == 5)
    }
}

import Testing

@testable import RaftKit

/// Membership changes: one voter at a time, learners that catch up before promotion.
struct MembershipTests {
    /// Goal: with one voter down, a new node joins as a learner, catches up, is promoted, and the down voter is
    /// removed; proposals commit throughout. Also: only one change may be pending, and a learner that is far
    /// behind cannot be promoted.
    @Test func membershipChangeWithNodeDown() throws {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.crash(3)
        for i in 0..<Int(Limits.learnerCatchUpEntriesMax) + 10 { try cluster.propose(1, "m\(i)") }
        cluster.stabilize()
        cluster.addBlankNode(4)
        cluster.isolate(4)
        try cluster[1].proposeConfChange(.addLearner(4))
        #expect(throws: ProposeError.confChangeInProgress) { try cluster[1].proposeConfChange(.removeNode(3)) }
        cluster.stabilize()
        #expect(cluster[1].confState == ConfState(voters: [1, 2, 3], learners: [4]))
        #expect(throws: ProposeError.learnerNotCaughtUp(4)) { try cluster[1].proposeConfChange(.promoteLearner(4)) }
        cluster.heal()
        cluster.isolate(3)
        cluster.tickAll(times: 5)
        #expect(cluster[4].confState == ConfState(voters: [1, 2, 3], learners: [4]))
        #expect(!cluster[4].isPromotable)
        try cluster[1].proposeConfChange(.promoteLearner(4))
        cluster.stabilize()
        #expect(cluster[1].confState.voters == [1, 2, 3, 4])
        try cluster[1].proposeConfChange(.removeNode(3))
        cluster.stabilize()
        #expect(cluster[1].confState == ConfState(voters: [1, 2, 4]))
        try cluster.propose(1, "after")
        cluster.stabilize()
        #expect(cluster.appliedCommands(4).last == "after")
        // Node 2 down: 1 and 4 are a majority of {1, 2, 4}.
        cluster.crash(2)
        try cluster.propose(1, "two-of-three")
        cluster.stabilize()
        #expect(cluster.appliedCommands(4).last == "two-of-three")
        #expect(throws: ProposeError.invalidConfChange("a leader cannot remove itself; transfer first")) {
            try cluster[1].proposeConfChange(.removeNode(1))
        }
    }

    /// Goal: a new leader accepts no membership change before it commits an entry of its own term (the fix
    /// for the single-server change bug).
    @Test func newLeaderWaitsForItsFirstCommit() throws {
        var cluster = TestCluster(voters: 3)
        cluster[1].campaign()
        // Deliver the votes but not the leader's first appends' acknowledgements.
        cluster.dropRule = { $0.kind.name == "AppAck" }
        cluster.stabilize()
        #expect(cluster.leader == 1)
        #expect(throws: ProposeError.confChangeInProgress) { try cluster[1].proposeConfChange(.addLearner(9)) }
        cluster.dropRule = nil
        cluster.tickAll(times: 2)
        try cluster[1].proposeConfChange(.addLearner(9))
    }

    /// Goal: an uncommitted membership change is rolled back on a follower when the entry is overwritten.
    @Test func uncommittedChangeRollsBack() throws {
        var cluster = TestCluster(voters: 5) { $0.checkQuorum = false }
        cluster.elect(1)
        for id: NodeID in [3, 4, 5] { cluster.cut.insert(.init(from: 1, to: id)) }
        cluster.dropRule = { $0.from == 2 && $0.to == 1 }
        try cluster[1].proposeConfChange(.addLearner(6))
        cluster.stabilize()
        #expect(cluster[2].confState.learners == [6])
        cluster.dropRule = nil
        cluster.isolate(1)
        cluster.elect(3)
        #expect(cluster.leader == 3)
        try cluster.propose(3, "overwrite")
        cluster.stabilize()
        #expect(cluster[2].confState == ConfState(voters: [1, 2, 3, 4, 5]))
        #expect(cluster[2].term(at: cluster[3].lastIndex) == cluster[3].term)
    }
}

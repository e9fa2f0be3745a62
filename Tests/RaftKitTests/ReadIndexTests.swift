import Testing

@testable import RaftKit

/// ReadIndex: linearizable reads from the leader and from followers.
struct ReadIndexTests {
    /// Goal: a read on the leader is confirmed by a heartbeat round and carries the commit index; a read on a
    /// follower is forwarded and answered with the leader's commit index.
    @Test func readIndexOnLeaderAndFollower() throws {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        try cluster.propose(1, "x")
        cluster.stabilize()
        let commit = cluster[1].commitIndex
        try cluster[1].readIndex(context: 7)
        cluster.processReady(1)
        #expect(cluster.readStates[1, default: []].isEmpty, "no read before the heartbeat round")
        cluster.stabilize()
        #expect(cluster.readStates[1] == [ReadState(index: commit, context: 7)])
        try cluster[3].readIndex(context: 8)
        cluster.stabilize()
        #expect(cluster.readStates[3] == [ReadState(index: commit, context: 8)])
    }

    /// Goal: a leader deposed by a partition never confirms a read, while the new leader's reads see the
    /// writes committed on the majority side. Method: partition {1,2} | {3,4,5}, read on 1, elect 3, write,
    /// read on 3 and on follower 4; heal and check that node 1 never produced a read state.
    @Test func readIndexDuringPartitionDeposingLeader() throws {
        var cluster = TestCluster(voters: 5)
        cluster.elect(1)
        try cluster.propose(1, "before")
        cluster.stabilize()
        cluster.partition([1, 2], [3, 4, 5])
        try cluster[1].readIndex(context: 1)
        cluster.stabilize()
        cluster.elect(3)
        try cluster.propose(3, "during")
        cluster.stabilize()
        let commit = cluster[3].commitIndex
        try cluster[3].readIndex(context: 2)
        try cluster[4].readIndex(context: 3)
        cluster.tickAll(times: 3)
        #expect(cluster.readStates[3] == [ReadState(index: commit, context: 2)])
        #expect(cluster.readStates[4] == [ReadState(index: commit, context: 3)])
        cluster.tick(1, times: 10)
        cluster.stabilize()
        #expect(cluster.readStates[1, default: []].isEmpty)
        cluster.heal()
        cluster.tickAll(times: 20)
        #expect(cluster.readStates[1, default: []].isEmpty, "the deposed leader must never answer the read")
    }

    /// Goal: a new leader holds reads until it commits an entry of its own term.
    @Test func newLeaderDefersReadsUntilItCommits() throws {
        var cluster = TestCluster(voters: 3)
        cluster[1].campaign()
        cluster.dropRule = { $0.kind.name == "AppAck" }
        cluster.stabilize()
        try cluster[1].readIndex(context: 5)
        cluster.tickAll(times: 2)
        #expect(cluster.readStates[1, default: []].isEmpty)
        cluster.dropRule = nil
        cluster.tickAll(times: 3)
        #expect(cluster.readStates[1]?.first?.context == 5)
        #expect(cluster.readStates[1]?.first?.index == cluster[1].commitIndex)
    }
}

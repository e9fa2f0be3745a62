import Testing

@testable import RaftKit

/// The leader's appends leave before its own fsync (`Ready.earlyMessageCount`), and the leader counts itself
/// towards the commit quorum only in `advance`, once the shell made its entries durable.
@Suite struct ParallelAppendTests {
    /// Persists `ready` into `storage` the way a shell does before `advance`.
    private func persist(_ ready: Ready, _ storage: MemoryLogStorage) {
        storage.append(ready.entries)
        if let hard = ready.hardState { storage.setHardState(hard) }
    }

    // Goal: a leader's Ready puts its appends first and marks them early; in a two-voter group the follower's
    // ack alone does not commit an entry the leader has not made durable; `advance` commits it and the next
    // Ready hands it out and tells the follower.
    @Test func leaderAppendsAreEarlyAndSelfCountsAfterAdvance() throws {
        var cluster = TestCluster(voters: 2)
        cluster.elect(1)
        cluster.stabilize()
        var node = cluster.nodes[1]!
        let storage = cluster.storages[1]!
        let before = node.commitIndex
        try node.propose([42])
        let readyValue = node.ready()
        let ready = try #require(readyValue)
        #expect(ready.entries.map(\.data) == [[42]])
        #expect(ready.earlyMessageCount == 1)
        let early = ready.messages.prefix(ready.earlyMessageCount)
        #expect(early.allSatisfy { message in
            if case .append = message.kind { return message.to == 2 }
            return false
        })
        let entry = ready.entries[0].index
        // The follower acknowledges while the leader's own write is still in flight (before `advance`).
        try node.step(Message(from: 2, to: 1, term: node.term, kind: .appendAccepted(matchIndex: entry)))
        #expect(node.commitIndex == before)
        persist(ready, storage)
        node.advance(ready)
        #expect(node.commitIndex == entry)
        let nextValue = node.ready()
        let next = try #require(nextValue)
        #expect(next.committedEntries.map(\.index) == [entry])
        #expect(next.messages.contains { $0.to == 2 })  // the follower hears the new commit index
    }

    // Goal: a single voter commits its entry only after the shell made it durable (in the next Ready), and a
    // Ready that changes term or vote marks nothing early.
    @Test func singleVoterCommitsAfterAdvanceAndCampaignsSendNothingEarly() throws {
        var single = TestCluster(voters: 1)
        single.elect(1)
        single.stabilize()
        var node = single.nodes[1]!
        try node.propose([1])
        let firstValue = node.ready()
        let first = try #require(firstValue)
        #expect(first.committedEntries.isEmpty)
        persist(first, single.storages[1]!)
        node.advance(first)
        let secondValue = node.ready()
        let second = try #require(secondValue)
        #expect(second.committedEntries.map(\.data) == [[1]])

        let group = TestCluster(voters: 3)
        var candidate = group.nodes[1]!
        candidate.startCampaign(.transfer)
        let campaignValue = candidate.ready()
        let campaign = try #require(campaignValue)
        #expect(campaign.hardState != nil && !campaign.messages.isEmpty)
        #expect(campaign.earlyMessageCount == 0)
    }
}

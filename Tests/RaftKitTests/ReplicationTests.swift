import Testing

@testable import RaftKit

/// Log replication, commitment and recovery.
struct ReplicationTests {
    /// Goal: with a minority down, proposals still commit on the majority and apply in order.
    @Test func agreementWithMinorityDown() throws {
        var cluster = TestCluster(voters: 5)
        cluster.elect(1)
        cluster.crash(4)
        cluster.crash(5)
        for i in 0..<3 { try cluster.propose(1, "v\(i)") }
        cluster.stabilize()
        for id: NodeID in [1, 2, 3] { #expect(cluster.appliedCommands(id) == ["v0", "v1", "v2"]) }
        cluster.restart(4)
        cluster.tickAll(times: 5)
        #expect(cluster.appliedCommands(4) == ["v0", "v1", "v2"])
    }

    /// Goal: nothing commits without a majority, and the entries commit once the majority is back.
    @Test func noCommitWithoutMajority() throws {
        var cluster = TestCluster(voters: 5)
        cluster.elect(1)
        let commit = cluster[1].commitIndex
        for id: NodeID in [3, 4, 5] { cluster.crash(id) }
        try cluster.propose(1, "x")
        cluster.stabilize()
        cluster.tick(1, times: 3)
        cluster.stabilize()
        #expect(cluster[1].commitIndex == commit)
        #expect(cluster.appliedCommands(1).isEmpty)
        for id: NodeID in [3, 4, 5] { cluster.restart(id) }
        cluster.tick(1)  // a heartbeat round reaches the restarted nodes; the check-quorum clock has not run out
        cluster.stabilize()
        #expect(cluster.appliedCommands(1) == ["x"])
    }

    /// Goal: one proposal costs a bounded number of messages: one append and one acknowledgement per follower,
    /// plus one commit notice each.
    @Test func agreementMessageCount() throws {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.resetCounts()
        try cluster.propose(1, "x")
        cluster.stabilize()
        let total = cluster.sent.values.reduce(0, +)
        #expect(total <= 3 * 2 * 2, "one agreement used \(total) messages: \(cluster.sent)")
        #expect(cluster.appliedCommands(3) == ["x"])
    }

    /// Goal: batching: proposals made before one `ready()` travel in one append per follower.
    @Test func proposalsAreBatched() throws {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.resetCounts()
        for i in 0..<50 { try cluster.propose(1, "b\(i)") }
        cluster.processReady(1)
        #expect(cluster.sent["App", default: 0] == 2)
        cluster.stabilize()
        #expect(cluster.appliedCommands(2).count == 50)
    }

    /// Goal: flow control bounds appends in flight per follower. Method: inflight max 2, one entry per append,
    /// acknowledgements withheld: the leader sends at most 2 appends carrying entries to that follower.
    @Test func flowControlBoundsInflight() throws {
        var cluster = TestCluster(voters: 3) {
            $0.inflightAppendsMax = 2
            $0.appendEntriesMax = 1
        }
        cluster.elect(1)
        cluster.stabilize()
        cluster.dropRule = { $0.from == 2 && $0.to == 1 }
        cluster.resetCounts()
        for i in 0..<10 {
            try cluster.propose(1, "f\(i)")
            cluster.stabilize()
        }
        let appendsTo2 = cluster.sentLog.filter {
            if case .append(_, _, let entries, _) = $0.kind { return $0.to == 2 && !entries.isEmpty }
            return false
        }
        #expect(appendsTo2.count == 2)
        cluster.dropRule = nil
        cluster.tickAll(times: 20)
        #expect(cluster.appliedCommands(2).count == 10)
    }

    /// Goal: a leader that was cut off with uncommitted entries rejoins as a follower and drops them.
    @Test func rejoiningStaleLeader() throws {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        try cluster.propose(1, "a")
        cluster.stabilize()
        cluster.isolate(1)
        try cluster.propose(1, "lost1")
        try cluster.propose(1, "lost2")
        cluster.stabilize()
        cluster.elect(2)
        try cluster.propose(2, "b")
        cluster.stabilize()
        cluster.heal()
        cluster.tickAll(times: 30)
        #expect(cluster.leader == 2)
        for id: NodeID in [1, 2, 3] { #expect(cluster.appliedCommands(id) == ["a", "b"]) }
    }

    /// Goal: fast back-up: a follower whose log diverges over many entries is brought in line with a number of
    /// rejections bounded by the number of conflicting terms, not entries. Method: the cut-off leader writes 50
    /// entries that never commit; the majority goes through three leaders writing 50 entries each; after
    /// healing, count the rejections node 1 sends.
    @Test func fastBackUpOverLongDivergentLogs() throws {
        var cluster = TestCluster(voters: 5) { $0.checkQuorum = false; $0.preVote = false }
        cluster.elect(1)
        try cluster.propose(1, "base")
        cluster.stabilize()
        cluster.isolate(1)
        for i in 0..<50 { try cluster.propose(1, "old\(i)") }
        cluster.stabilize()
        for (round, leader) in [NodeID(2), 3, 4].enumerated() {
            cluster.elect(leader)
            #expect(cluster.leaders.contains(leader))
            for i in 0..<50 { try cluster.propose(leader, "new\(round)-\(i)") }
            cluster.stabilize()
        }
        cluster.resetCounts()
        cluster.heal()
        cluster.tickAll(times: 10)
        let rejections = cluster.sentLog.filter { $0.from == 1 && $0.kind.name == "AppRej" }.count
        #expect(rejections >= 1 && rejections <= 3, "node 1 needed \(rejections) rejections")
        #expect(cluster.appliedCommands(1) == cluster.appliedCommands(4))
        #expect(cluster.appliedCommands(1).count == 151)
    }

    /// Goal: every node keeps term, vote and log across a full-cluster restart; old commands stay applied.
    @Test func persistenceAcrossFullRestart() throws {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        for i in 0..<5 { try cluster.propose(1, "p\(i)") }
        cluster.stabilize()
        let term = cluster[1].term
        for id in cluster.ids { cluster.crash(id) }
        for id in cluster.ids { cluster.restart(id) }
        for id in cluster.ids { #expect(cluster[id].term == term) }
        cluster.tickAll(times: 40)
        let leader = try #require(cluster.leader)
        #expect(cluster[leader].term > term)
        try cluster.propose(leader, "after")
        cluster.stabilize()
        for id in cluster.ids {
            #expect(cluster.appliedCommands(id) == ["p0", "p1", "p2", "p3", "p4", "after"])
        }
    }

    /// Goal: Raft Figure 8: a leader never commits an entry of an earlier term by counting replicas.
    /// Method: S1 (term 5) holds an old term-2 entry that S5 overwrote in term 3; S1 replicates the old entry
    /// to a majority but its own no-op is dropped. The old entry must stay uncommitted, and S5 may then win
    /// and overwrite it without any node having applied it.
    @Test func figure8CommitRule() throws {
        let logs: [NodeID: [UInt64]] = [1: [1, 2], 2: [1, 2], 3: [1], 4: [1], 5: [1, 3]]
        var cluster = TestCluster(voters: 5) {
            $0.appendEntriesMax = 1
            $0.preVote = false
            $0.checkQuorum = false
        }
        for id in cluster.ids {
            let entries = logs[id]!.enumerated().map { Entry(term: $1, index: UInt64($0 + 1), data: [UInt8($1)]) }
            cluster.storages[id]!.append(entries)
            cluster.storages[id]!.setHardState(HardState(term: id == 5 ? 3 : 4, vote: 0, commit: 1))
            cluster.restart(id)
        }
        cluster.isolate(5)
        // S3 and S4 see the no-op once (and reject it, lacking index 2); later appends carrying it are lost.
        var seen: Set<NodeID> = []
        cluster.dropRule = { message in
            guard message.to == 3 || message.to == 4, case .append(_, _, let entries, _) = message.kind,
                entries.contains(where: { $0.index == 3 })
            else { return false }
            return !seen.insert(message.to).inserted
        }
        cluster.elect(1)
        #expect(cluster.leader == 1)
        cluster.tickAll(times: 3)
        let matches = cluster[1].matchIndexes.filter { $0.match >= 2 }.count
        #expect(matches >= 3, "the old entry reached a majority")
        #expect(cluster[1].commitIndex == 1, "a term-2 entry must not commit by counting replicas")
        #if DEBUG
        // The same state with the Figure 8 fault switched on commits the old entry: the check above can fail.
        var faulty = cluster[1]
        faulty.setFaultsForTesting(.commitPreviousTermByCount)
        let committed = faulty.maybeCommit()
        #expect(committed)
        #expect(faulty.commitIndex == 2)
        #endif
        cluster.crash(1)
        cluster.dropRule = nil
        cluster.heal()
        cluster.isolate(1)
        cluster.elect(5)
        #expect(cluster.leader == 5)
        cluster.tickAll(times: 3)
        for id: NodeID in [2, 3, 4, 5] {
            #expect(cluster[id].term(at: 2) == 3)
            #expect(!cluster.applied[id]!.contains { $0.index == 2 && $0.term == 2 })
        }
    }

    /// Goal: Figure 8 under an unreliable network: random leader crashes, drops and restarts never make two
    /// nodes apply different commands at one index, and the cluster recovers. Method: 60 seeded rounds.
    @Test func figure8Unreliable() throws {
        var cluster = TestCluster(voters: 5) { $0.appendEntriesMax = 2 }
        var random = SplitMix64(seed: 42)
        var dropCounter: UInt64 = 0
        cluster.dropRule = { _ in
            dropCounter &+= 0x9E37_79B9_7F4A_7C15
            return dropCounter % 10 == 0
        }
        var proposed = 0
        for _ in 0..<60 {
            if let leader = cluster.leader {
                for _ in 0..<Int(random.next() % 3) {
                    try? cluster.propose(leader, "c\(proposed)")
                    proposed += 1
                }
                if random.next() % 3 == 0 { cluster.crash(leader) }
            }
            cluster.tickAll(times: Int(random.next() % 12) + 1)
            let downNodes = cluster.down.sorted()
            if downNodes.count > 1 || (downNodes.count == 1 && random.next() % 2 == 0) {
                cluster.restart(downNodes[Int(random.next() % UInt64(downNodes.count))])
            }
            try checkAppliedPrefixes(cluster)
        }
        cluster.dropRule = nil
        for id in cluster.down.sorted() { cluster.restart(id) }
        cluster.tickAll(times: 60)
        let leader = try #require(cluster.leader)
        try cluster.propose(leader, "final")
        cluster.tickAll(times: 5)
        try checkAppliedPrefixes(cluster)
        for id in cluster.ids { #expect(cluster.appliedCommands(id).last == "final") }
    }

    func checkAppliedPrefixes(_ cluster: TestCluster) throws {
        var byIndex: [UInt64: Entry] = [:]
        for id in cluster.ids.sorted() {
            for entry in cluster.applied[id]! where entry.data != [0xFF] {
                if let other = byIndex[entry.index] {
                    #expect(other == entry, "nodes applied different entries at \(entry.index)")
                } else {
                    byIndex[entry.index] = entry
                }
            }
        }
    }

    /// Goal: a follower too far behind gets the snapshot in several chunks (one lost on the way) and then the
    /// entries after it.
    @Test func snapshotInstallInChunks() throws {
        var cluster = TestCluster(voters: 3) { $0.snapshotChunkBytes = 4 }
        cluster.elect(1)
        cluster.crash(3)
        for i in 0..<20 { try cluster.propose(1, "s\(i)") }
        cluster.stabilize()
        let snapshotData = Array("state-machine-image-26".utf8)
        let applied = cluster[1].appliedIndex
        cluster.storages[1]!.compact(snapshotAt: applied, confState: ConfState(voters: [1, 2, 3]), payload: SnapshotBytes(snapshotData))
        try cluster.propose(1, "after")
        cluster.stabilize()
        var droppedOnce = false
        cluster.dropRule = { message in
            if case .snapshotChunk(_, let offset, _, _) = message.kind, offset == 8, !droppedOnce {
                droppedOnce = true
                return true
            }
            return false
        }
        cluster.resetCounts()
        cluster.restart(3)
        cluster.tickAll(times: 30)
        #expect(droppedOnce)
        #expect(cluster.sent["SnapChunk", default: 0] >= 6)
        #expect(cluster.storages[3]!.firstIndex() == applied + 1)
        #expect(try cluster.storages[3]!.snapshot().payload.readAll() == snapshotData)
        #expect(cluster.appliedCommands(3) == ["after"])
        #expect(cluster[3].commitIndex == cluster[1].commitIndex)
    }
}

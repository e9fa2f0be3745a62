import Testing

@testable import RaftKit

/// The driver's two-step reads, deadlines and the definite/unknown split of `DriverError`, on three servers over
/// an `InMemoryNetwork` with real WALs. Waits poll with bounded counts; no assertion depends on timing except
/// that a short deadline expires before an isolated group could do anything.
@Suite struct DriverDeadlineTests {
    private struct Cluster {
        let directory: TemporaryDirectory
        let network = InMemoryNetwork()
        var servers: [UInt64: RaftServer<ListMachine>] = [:]

        init(_ label: String, compactEvery: UInt64 = 100_000) async throws {
            directory = TemporaryDirectory(label)
            for id in UInt64(1)...3 {
                var raft = Config(id: id, randomSeed: id * 7919)
                raft.electionTimeoutTicks = 40  // 200 ms of 5 ms ticks: no spurious elections on a loaded machine
                raft.heartbeatIntervalTicks = 2
                let members = Dictionary(uniqueKeysWithValues: (UInt64(1)...3).map { ($0, PeerAddress(host: "127.0.0.1", port: 0)) })
                var configuration = RaftServerConfiguration(raft: raft, members: members, dataDirectory: directory.path + "/node\(id)")
                configuration.driver.tickInterval = .milliseconds(5)
                configuration.driver.compactEveryEntries = compactEvery
                servers[id] = try await RaftServer.start(
                    configuration: configuration, machine: ListMachine(), transport: network.transport(for: id))
            }
        }

        func leader() async throws -> (id: UInt64, server: RaftServer<ListMachine>) {
            for _ in 0..<2000 {
                for id in servers.keys.sorted() where await servers[id]!.driver.status.role == .leader {
                    return (id, servers[id]!)
                }
                try await Task.sleep(for: .milliseconds(5))
            }
            throw DriverError.stopped
        }

        /// Proposes on whichever node leads, retrying definite refusals.
        func propose(_ command: [UInt8]) async throws -> [UInt8] {
            for _ in 0..<100 {
                do {
                    return try await leader().server.driver.propose(command)
                } catch DriverError.notLeader, DriverError.proposalDropped {
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
            throw DriverError.stopped
        }

        func isolate(_ id: UInt64) {
            for other in servers.keys where other != id {
                network.cut(from: id, to: other)
                network.cut(from: other, to: id)
            }
        }

        func shutdown() async {
            for id in servers.keys.sorted() { await servers[id]!.shutdown() }
            directory.remove()
        }
    }

    // Goal: reads in two steps work on the leader and on a follower: the read index covers every write that
    // finished before it, and once `waitApplied` returns, the follower's machine holds those writes.
    @Test func readIndexThenWaitAppliedOnLeaderAndFollower() async throws {
        let cluster = try await Cluster("driver-readindex")
        for value in UInt8(1)...5 { _ = try await cluster.propose([value]) }
        let (leaderID, leader) = try await cluster.leader()
        let leaderIndex = try await leader.driver.readIndex()
        let leaderCommit = await leader.driver.status.commitIndex
        #expect(leaderIndex >= 6)  // the leader's no-op plus five commands
        #expect(leaderIndex <= leaderCommit)
        let followerID = (UInt64(1)...3).first { $0 != leaderID }!
        let follower = cluster.servers[followerID]!.driver
        var index: UInt64 = 0
        for _ in 0..<100 {
            let result: Result<UInt64, DriverError>
            do throws(DriverError) {
                result = .success(try await follower.readIndex())
            } catch {
                result = .failure(error)
            }
            if case .success(let confirmed) = result {
                index = confirmed
                break
            }
            guard case .failure(.notLeader) = result else { throw try #require(result.failureError) }
            try await Task.sleep(for: .milliseconds(10))  // the follower has not heard of the leader yet
        }
        #expect(index >= leaderIndex)
        try await follower.waitApplied(index)
        #expect(await follower.status.appliedIndex >= index)
        let items = try await follower.read { $0.items }
        #expect(items == (UInt8(1)...5).map { [$0] })
        await cluster.shutdown()
    }

    // Goal: a proposal on a leader cut off from its followers fails at its deadline as "outcome unknown" (it was
    // appended and could still commit), not as a definite refusal, and does not wait forever.
    @Test func proposalTimesOutWithUnknownOutcome() async throws {
        let cluster = try await Cluster("driver-timeout")
        _ = try await cluster.propose([1])
        let (leaderID, leader) = try await cluster.leader()
        cluster.isolate(leaderID)
        do {
            _ = try await leader.driver.propose([2], timeout: .milliseconds(1))
            Issue.record("an isolated leader committed a proposal")
        } catch {
            #expect(error == .outcomeUnknown(.timedOut))
            #expect(error.mayHaveCommitted)
        }
        await cluster.shutdown()
    }

    // Goal: a proposal waiting when its leader steps down (check-quorum, isolated) and cut off from any new
    // leader fails at its deadline as "leadership lost", an unknown outcome.
    @Test func proposalFailsWhenLeadershipIsLost() async throws {
        let cluster = try await Cluster("driver-leadership")
        _ = try await cluster.propose([1])
        let (leaderID, leader) = try await cluster.leader()
        cluster.isolate(leaderID)
        do {
            // Far longer than check-quorum's step-down (one election timeout, 200 ms to 400 ms of ticks), so
            // that on a loaded 2-core machine the step-down has happened when the deadline is reached.
            _ = try await leader.driver.propose([2], timeout: .seconds(6))
            Issue.record("an isolated leader committed a proposal")
        } catch {
            #expect(error == .outcomeUnknown(.leadershipLost))
            #expect(error.mayHaveCommitted)
        }
        await cluster.shutdown()
    }

    // Goal: a proposal whose index a snapshot covers by the time the answer arrives is answered (outcome
    // unknown: its result is not in the snapshot), not left waiting until its deadline. Method: the leader is cut
    // off with a proposal pending; the others elect a leader, commit and compact past that index; after the
    // heal the old leader can only catch up by snapshot.
    @Test func proposalCoveredBySnapshotIsAnswered() async throws {
        let cluster = try await Cluster("driver-snapshot-answer", compactEvery: 4)
        _ = try await cluster.propose([1])
        let (oldID, old) = try await cluster.leader()
        cluster.isolate(oldID)
        let waiting = Task { () -> DriverError? in
            do throws(DriverError) {
                _ = try await old.driver.propose([99], timeout: .seconds(30))
                return nil
            } catch {
                return error
            }
        }
        let others = (UInt64(1)...3).filter { $0 != oldID }
        var value: UInt8 = 2
        for _ in 0..<2000 where value <= 12 {
            for id in others where await cluster.servers[id]!.driver.status.role == .leader {
                let driver = cluster.servers[id]!.driver
                let outcome: DriverError?
                do throws(DriverError) {
                    _ = try await driver.propose([value])
                    outcome = nil
                } catch {
                    outcome = error
                }
                switch outcome {
                case nil: value += 1
                case .notLeader?, .proposalDropped?: break  // leadership moved: retry on the next leader
                case let other?: throw other
                }
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(value == 13, "the majority did not commit")
        cluster.network.heal()
        let error: DriverError? = await waiting.value
        #expect(error == DriverError.outcomeUnknown(.appliedThroughSnapshot))
        #expect(error?.mayHaveCommitted == true)
        let items = try await old.driver.read { $0.items }
        #expect(items == (UInt8(1)...12).map { [$0] })
        await cluster.shutdown()
    }

    // Goal: a read whose ReadIndex round cannot complete fails at its deadline (`.timedOut`, nothing written).
    @Test func readIndexTimesOut() async throws {
        let cluster = try await Cluster("driver-read-timeout")
        _ = try await cluster.propose([1])
        let (leaderID, leader) = try await cluster.leader()
        cluster.isolate(leaderID)
        do {
            _ = try await leader.driver.readIndex(timeout: .milliseconds(1))
            Issue.record("an isolated leader confirmed a read")
        } catch {
            #expect(error == .timedOut)
            #expect(!error.mayHaveCommitted)
        }
        // waitApplied on an index far ahead also ends at its deadline.
        await #expect(throws: DriverError.timedOut) {
            try await leader.driver.waitApplied(1_000_000, timeout: .milliseconds(1))
        }
        await cluster.shutdown()
    }

    // Goal: definite refusals are marked as such: a follower's proposal (with the leader's id), an oversized
    // command, and any request after stop; a proposal waiting at stop is an unknown outcome.
    @Test func definiteRefusalsAndStop() async throws {
        let cluster = try await Cluster("driver-refusals")
        _ = try await cluster.propose([1])
        let (leaderID, leader) = try await cluster.leader()
        let followerID = (UInt64(1)...3).first { $0 != leaderID }!
        do {
            _ = try await cluster.servers[followerID]!.driver.propose([2])
            Issue.record("a follower accepted a proposal")
        } catch {
            #expect(error == .notLeader(leaderHint: leaderID))
            #expect(!error.mayHaveCommitted)
        }
        do {
            _ = try await leader.driver.propose([UInt8](repeating: 0, count: Limits.entryDataBytesMax + 1))
            Issue.record("an oversized proposal was accepted")
        } catch {
            guard case .refused(.entryTooLarge) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(!error.mayHaveCommitted)
        }
        cluster.isolate(leaderID)
        let waiting = Task { () -> DriverError? in
            do throws(DriverError) {
                _ = try await leader.driver.propose([3], timeout: .seconds(60))
                return nil
            } catch {
                return error
            }
        }
        // Stop once the proposal is parked (bounded poll), or the test would only see a refusal at stop.
        for _ in 0..<1000 where await leader.driver.waitingRequestCount == 0 {
            try await Task.sleep(for: .milliseconds(1))
        }
        await leader.driver.stop()
        let error: DriverError? = await waiting.value
        #expect(error == DriverError.outcomeUnknown(.stopped))
        await #expect(throws: DriverError.stopped) { _ = try await leader.driver.propose([4]) }
        await #expect(throws: DriverError.stopped) { _ = try await leader.driver.readIndex() }
        await cluster.shutdown()
    }
}

extension Result {
    var failureError: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

/// `ReadContexts`: distinct starts give disjoint contexts; the fault switch (debug) restarts at 1.
@Suite struct ReadContextsTests {
    @Test func contextsNeverZeroAndWrap() {
        var contexts = ReadContexts(start: UInt64.max)
        #expect(contexts.next() == UInt64.max)
        #expect(contexts.next() == 1)
        var zero = ReadContexts(start: 0)
        #expect(zero.next() == 1)
    }

    #if DEBUG
    @Test func faultSwitchRestartsAtOne() {
        var a = ReadContexts(start: 123_456, faults: .reuseReadContextsAcrossRestarts)
        var b = ReadContexts(start: 987_654, faults: .reuseReadContextsAcrossRestarts)
        #expect(a.next() == 1 && b.next() == 1)
        var c = ReadContexts(start: 123_456)
        #expect(c.next() == 123_456)
    }
    #endif
}

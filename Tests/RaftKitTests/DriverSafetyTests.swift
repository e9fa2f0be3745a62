import Testing

@testable import RaftKit

/// Operational safety of the shell: the data-directory lock and the dropped-frame counters.
@Suite struct DriverSafetyTests {
    private func configuration(_ directory: String) -> RaftServerConfiguration {
        var raft = Config(id: 1, randomSeed: 17)
        raft.electionTimeoutTicks = 10
        raft.heartbeatIntervalTicks = 2
        var configuration = RaftServerConfiguration(
            raft: raft, members: [1: PeerAddress(host: "127.0.0.1", port: 0)], dataDirectory: directory)
        configuration.driver.tickInterval = .milliseconds(5)
        return configuration
    }

    // Goal: two servers never share a data directory: the second refuses to start with an error naming the
    // directory, and the directory is free again after the first shuts down.
    @Test func secondServerOnTheSameDirectoryRefusesToStart() async throws {
        let directory = TemporaryDirectory("driver-lock")
        defer { directory.remove() }
        let path = directory.path + "/node1"
        let network = InMemoryNetwork()
        let first = try await RaftServer.start(
            configuration: configuration(path), machine: ListMachine(), transport: network.transport(for: 1))
        do {
            let second = try await RaftServer.start(
                configuration: configuration(path), machine: ListMachine(), transport: InMemoryNetwork().transport(for: 1))
            await second.shutdown()
            Issue.record("a second server started on \(path)")
        } catch let error as RaftServerError {
            guard case .dataDirectoryLocked(let named) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(named == path)
            #expect("\(error)".contains(path))
        }
        await first.shutdown()
        let again = try await RaftServer.start(
            configuration: configuration(path), machine: ListMachine(), transport: InMemoryNetwork().transport(for: 1))
        await again.shutdown()
    }

    // Goal: each start of a driver draws its read contexts afresh, so an answer to a read of a previous life
    // cannot match a read of this one; with the debug fault switch every life counts from 1 (the bug).
    @Test func readContextsDifferAcrossRestarts() async throws {
        let directory = TemporaryDirectory("driver-contexts")
        defer { directory.remove() }
        func firstContext(faults: FaultSwitches) async throws -> UInt64 {
            var config = configuration(directory.path + "/node1")
            config.raft.faults = faults
            let server = try await RaftServer.start(
                configuration: config, machine: ListMachine(), transport: InMemoryNetwork().transport(for: 1))
            let context = await server.driver.nextReadContextForTesting
            await server.shutdown()
            return context
        }
        let lives = [try await firstContext(faults: []), try await firstContext(faults: []), try await firstContext(faults: [])]
        #expect(Set(lives).count == 3, "read contexts repeated across restarts: \(lives)")
        #if DEBUG
        let faulty = [
            try await firstContext(faults: .reuseReadContextsAcrossRestarts),
            try await firstContext(faults: .reuseReadContextsAcrossRestarts),
        ]
        #expect(faulty == [1, 1])
        #endif
    }

    private func proposeUntilLeading(_ driver: RaftDriver<ListMachine>, _ command: [UInt8]) async throws -> [UInt8] {
        for _ in 0..<400 {
            do {
                return try await driver.propose(command)
            } catch DriverError.notLeader {
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        throw DriverError.stopped
    }

    // Goal: frames the driver cannot use are counted, not silently lost: an undecodable frame and a message for
    // another node each move their counter, and the node keeps working.
    @Test func droppedFramesAreCounted() async throws {
        let directory = TemporaryDirectory("driver-drops")
        defer { directory.remove() }
        let network = InMemoryNetwork()
        let server = try await RaftServer.start(
            configuration: configuration(directory.path + "/node1"), machine: ListMachine(),
            transport: network.transport(for: 1))
        let stranger = network.transport(for: 9)
        stranger.send([0xFF, 0xFF, 0xFF], to: 1)
        var misaddressed: [UInt8] = []
        Message(from: 9, to: 5, term: 1, kind: .heartbeatResponse(readRound: 0)).encode(into: &misaddressed)
        stranger.send(misaddressed, to: 1)
        var statistics = DriverStatistics()
        for _ in 0..<400 {
            statistics = await server.driver.statistics
            if statistics.undecodableFrames == 1 && statistics.misaddressedMessages == 1 { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(statistics.undecodableFrames == 1)
        #expect(statistics.misaddressedMessages == 1)
        #expect(statistics.refusedMessages == 0)
        // A single voter elects itself and commits: the drops did not stop it.
        #expect(try await proposeUntilLeading(server.driver, [7]) == [1])
        await server.shutdown()
    }
}

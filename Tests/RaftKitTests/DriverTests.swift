import Foundation
import Synchronization
import Testing

@testable import RaftKit

/// A replicated list of commands: apply appends, the result is the new count. In memory, so it starts at 0.
final class ListMachine: ReplicatedStateMachine {
    private struct State {
        var items: [[UInt8]] = []
        var applied: UInt64 = 0
    }

    private let state = Mutex(State())

    var items: [[UInt8]] { state.withLock { $0.items } }

    func appliedIndex() async throws -> UInt64 { state.withLock { $0.applied } }

    func apply(_ entries: [Entry], through index: UInt64) async throws -> [[UInt8]] {
        state.withLock { state in
            precondition(index > state.applied, "apply through \(index) at \(state.applied)")
            state.applied = index
            return entries.map { entry in
                state.items.append(entry.data)
                return [UInt8(truncatingIfNeeded: state.items.count)]
            }
        }
    }

    func writeSnapshot(to path: String) async throws {
        try Data(encodedState()).write(to: URL(fileURLWithPath: path))
    }

    func restore(fromFile path: String, at index: UInt64) async throws {
        restore(Array(try Data(contentsOf: URL(fileURLWithPath: path))), at: index)
    }

    private func encodedState() -> [UInt8] {
        var bytes: [UInt8] = []
        for item in items {
            bytes.append(UInt8(item.count))
            bytes.append(contentsOf: item)
        }
        return bytes
    }

    private func restore(_ bytes: [UInt8], at index: UInt64) {
        var items: [[UInt8]] = []
        var offset = 0
        while offset < bytes.count {
            let count = Int(bytes[offset])
            items.append(Array(bytes[(offset + 1)..<(offset + 1 + count)]))
            offset += 1 + count
        }
        state.withLock { $0 = State(items: items, applied: index) }
    }
}

@Suite struct DriverTests {
    private func configuration(_ id: UInt64, _ directory: TemporaryDirectory, compactEvery: UInt64,
                               compactEveryBytes: Int = 256 << 20) -> RaftServerConfiguration {
        var raft = Config(id: id, randomSeed: id * 7919)
        raft.electionTimeoutTicks = 10
        raft.heartbeatIntervalTicks = 2
        let members = Dictionary(uniqueKeysWithValues: (UInt64(1)...3).map { ($0, PeerAddress(host: "127.0.0.1", port: 0)) })
        var configuration = RaftServerConfiguration(raft: raft, members: members, dataDirectory: directory.path + "/node\(id)")
        configuration.driver.tickInterval = .milliseconds(5)
        configuration.driver.compactEveryEntries = compactEvery
        configuration.driver.compactEveryBytes = compactEveryBytes
        configuration.segmentSizeBytes = 4096
        return configuration
    }

    /// Waits (bounded by a count of polls, not asserted on time) until some node leads; returns it.
    private func leader(of servers: [UInt64: RaftServer<ListMachine>]) async throws -> RaftServer<ListMachine> {
        for _ in 0..<2000 {
            for id in servers.keys.sorted() {
                if let server = servers[id], await server.driver.status.role == .leader { return server }
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw DriverError.stopped
    }

    private func propose(_ command: [UInt8], servers: [UInt64: RaftServer<ListMachine>]) async throws -> [UInt8] {
        for _ in 0..<100 {
            do {
                return try await leader(of: servers).driver.propose(command)
            } catch DriverError.notLeader, DriverError.proposalDropped {
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        throw DriverError.stopped
    }

    // Goal: the whole shell works end to end: election, proposals answered after apply, linearizable reads,
    // compaction, and a restart that recovers state from WAL + snapshot. Method: three servers on an in-memory
    // network with real WALs in a temp directory; propose 60 commands (compacting every 25), read from the
    // leader, restart every node, and check the state and a further proposal.
    @Test func clusterProposesReadsCompactsAndRestarts() async throws {
        let directory = TemporaryDirectory("driver")
        defer { directory.remove() }
        var network = InMemoryNetwork()
        var servers: [UInt64: RaftServer<ListMachine>] = [:]
        for id in UInt64(1)...3 {
            servers[id] = try await RaftServer.start(
                configuration: configuration(id, directory, compactEvery: 25), machine: ListMachine(),
                transport: network.transport(for: id))
        }
        for value in 1...60 {
            let result = try await propose([UInt8(value)], servers: servers)
            #expect(result == [UInt8(value)])
        }
        let leaderServer = try await leader(of: servers)
        let items = try await leaderServer.driver.read { $0.items }
        #expect(items == (1...60).map { [UInt8($0)] })
        #expect(directory.files(withSuffix: "").isEmpty == false)
        for id in servers.keys.sorted() { await servers[id]!.shutdown() }

        network = InMemoryNetwork()
        for id in UInt64(1)...3 {
            servers[id] = try await RaftServer.start(
                configuration: configuration(id, directory, compactEvery: 25), machine: ListMachine(),
                transport: network.transport(for: id))
        }
        let result = try await propose([61], servers: servers)
        #expect(result == [61])
        let after = try await leader(of: servers).driver.read { $0.items }
        #expect(after == (1...61).map { [UInt8($0)] })
        for id in servers.keys.sorted() { await servers[id]!.shutdown() }
    }

    // Goal: large entries compact the log long before the entry count would (the log is in memory until
    // compacted): 40 entries of 100 bytes with a 1,000-byte threshold snapshot every node; the same entries
    // under the entry count alone do not, and every node restarts from the snapshots with every entry.
    @Test func logCompactsByBytesAsWellAsByEntries() async throws {
        for (bytesThreshold, expectSnapshots) in [(1_000, true), (256 << 20, false)] {
            let directory = TemporaryDirectory("driver-bytes")
            defer { directory.remove() }
            var network = InMemoryNetwork()
            var servers: [UInt64: RaftServer<ListMachine>] = [:]
            for id in UInt64(1)...3 {
                servers[id] = try await RaftServer.start(
                    configuration: configuration(id, directory, compactEvery: 100_000, compactEveryBytes: bytesThreshold),
                    machine: ListMachine(), transport: network.transport(for: id))
            }
            let commands = (1...40).map { value in [UInt8](repeating: UInt8(value), count: 100) }
            for command in commands { _ = try await propose(command, servers: servers) }
            // Followers apply a little after the leader answers: a read on each waits for that.
            for id in UInt64(1)...3 {
                _ = try? await servers[id]!.driver.read { $0.items }
            }
            try await Task.sleep(for: .milliseconds(200))
            for id in servers.keys.sorted() { await servers[id]!.shutdown() }
            for id in UInt64(1)...3 {
                let snapshots = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path + "/node\(id)/snap")) ?? [])
                    .filter { $0.hasSuffix(".snap") }
                #expect(snapshots.isEmpty == !expectSnapshots, "node \(id) threshold \(bytesThreshold): \(snapshots)")
            }
            network = InMemoryNetwork()
            for id in UInt64(1)...3 {
                servers[id] = try await RaftServer.start(
                    configuration: configuration(id, directory, compactEvery: 100_000, compactEveryBytes: bytesThreshold),
                    machine: ListMachine(), transport: network.transport(for: id))
            }
            let after = try await leader(of: servers).driver.read { $0.items }
            #expect(after == commands)
            for id in servers.keys.sorted() { await servers[id]!.shutdown() }
        }
    }

    // Goal: a follower refuses proposals with the leader's ID.
    @Test func followerAnswersNotLeader() async throws {
        let directory = TemporaryDirectory("driver-follower")
        defer { directory.remove() }
        let network = InMemoryNetwork()
        var servers: [UInt64: RaftServer<ListMachine>] = [:]
        for id in UInt64(1)...3 {
            servers[id] = try await RaftServer.start(
                configuration: configuration(id, directory, compactEvery: 1000), machine: ListMachine(),
                transport: network.transport(for: id))
        }
        _ = try await propose([1], servers: servers)
        let leaderID = try await leader(of: servers).driver.status.leaderID
        let followerID = (UInt64(1)...3).first { $0 != leaderID }!
        await #expect(throws: DriverError.notLeader(leaderHint: leaderID)) {
            _ = try await servers[followerID]!.driver.propose([2])
        }
        for id in servers.keys.sorted() { await servers[id]!.shutdown() }
    }

    // Goal: a machine that kept its state across a restart (a database) is not restored from an older snapshot and
    // is handed exactly the committed entries above its own applied index: nothing applied twice, nothing skipped.
    @Test func durableMachineAheadOfSnapshotReplaysOnlyAboveItsIndex() async throws {
        let directory = TemporaryDirectory("driver-durable")
        defer { directory.remove() }
        var network = InMemoryNetwork()
        let machines = Dictionary(uniqueKeysWithValues: (UInt64(1)...3).map { ($0, ListMachine()) })
        var servers: [UInt64: RaftServer<ListMachine>] = [:]
        for id in UInt64(1)...3 {
            servers[id] = try await RaftServer.start(
                configuration: configuration(id, directory, compactEvery: 25), machine: machines[id]!,
                transport: network.transport(for: id))
        }
        for value in 1...40 {
            _ = try await propose([UInt8(value)], servers: servers)
        }
        for id in servers.keys.sorted() { await servers[id]!.shutdown() }
        // Every machine is past its newest snapshot (taken at 25 entries) and keeps its items.
        network = InMemoryNetwork()
        for id in UInt64(1)...3 {
            servers[id] = try await RaftServer.start(
                configuration: configuration(id, directory, compactEvery: 25), machine: machines[id]!,
                transport: network.transport(for: id))
        }
        _ = try await propose([41], servers: servers)
        let leaderServer = try await leader(of: servers)
        let items = try await leaderServer.driver.read { $0.items }
        #expect(items == (1...41).map { [UInt8($0)] })
        for id in servers.keys.sorted() { await servers[id]!.shutdown() }
    }
}

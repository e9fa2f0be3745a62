import Foundation
import NIOPosix
import Synchronization
import Testing

@testable import RaftKit

/// An `InMemoryTransport` that records every membership the driver hands it.
final class RecordingTransport: RaftTransport {
    let inner: InMemoryTransport
    let memberships = Mutex<[ConfState]>([])

    init(_ inner: InMemoryTransport) { self.inner = inner }

    var inbound: AsyncStream<TransportFrame> { inner.inbound }
    func send(_ payload: [UInt8], to peer: UInt64) { inner.send(payload, to: peer) }
    func membershipChanged(_ confState: ConfState) { memberships.withLock { $0.append(confState) } }
    var last: ConfState? { memberships.withLock { $0.last } }
}

/// Membership and leadership through the driver: join mode, add a learner with its address, promote, remove,
/// transfer; and the TCP peer table following a membership. Real WALs, an in-memory network.
@Suite struct DriverMembershipTests {
    final class Cluster {
        let directory: TemporaryDirectory
        let network = InMemoryNetwork()
        var servers: [UInt64: RaftServer<ListMachine>] = [:]
        var transports: [UInt64: RecordingTransport] = [:]

        init(_ label: String) {
            directory = TemporaryDirectory(label)
        }

        func start(_ id: UInt64, join: Bool = false, compactEvery: UInt64 = 1000) async throws {
            var raft = Config(id: id, randomSeed: id * 7919)
            raft.electionTimeoutTicks = 40  // 200 ms of 5 ms ticks: no spurious elections on a loaded machine
            raft.heartbeatIntervalTicks = 2
            let ids: [UInt64] = join ? [1, 2, 3, id] : [1, 2, 3]
            let members = Dictionary(uniqueKeysWithValues: ids.map { ($0, PeerAddress(host: "10.0.0.\($0)", port: 7000 + Int($0))) })
            var configuration = RaftServerConfiguration(raft: raft, members: members, dataDirectory: directory.path + "/node\(id)")
            configuration.join = join
            configuration.driver.tickInterval = .milliseconds(5)
            configuration.driver.compactEveryEntries = compactEvery
            let transport = RecordingTransport(network.transport(for: id))
            transports[id] = transport
            servers[id] = try await RaftServer.start(configuration: configuration, machine: ListMachine(), transport: transport)
        }

        func leader() async throws -> (id: UInt64, driver: RaftDriver<ListMachine>) {
            for _ in 0..<2000 {
                for id in servers.keys.sorted() where await servers[id]!.driver.status.role == .leader {
                    return (id, servers[id]!.driver)
                }
                try await Task.sleep(for: .milliseconds(5))
            }
            throw DriverError.stopped
        }

        /// Runs `body` on the leader, retrying definite refusals that pass (no leader yet, a change in flight).
        func onLeader(_ body: (RaftDriver<ListMachine>) async throws -> Void) async throws {
            for _ in 0..<200 {
                do {
                    return try await body(leader().driver)
                } catch DriverError.notLeader, DriverError.proposalDropped,
                    DriverError.refused(.confChangeInProgress), DriverError.refused(.learnerNotCaughtUp)
                {
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
            throw DriverError.stopped
        }

        func shutdown() async {
            for id in servers.keys.sorted() { await servers[id]!.shutdown() }
            directory.remove()
        }
    }

    /// Polls `condition` (bounded count, 5 ms apart); true once it held.
    static func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<1000 {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(5))
        }
        return false
    }

    // Goal: a node started in join mode never campaigns; once a member adds it as a learner with its address it
    // catches up (here through a snapshot, the log being compacted), learns the membership with every address,
    // and after promotion votes and counts towards commits. Every node's transport is told the new address.
    @Test func joinAddLearnerAndPromote() async throws {
        let cluster = Cluster("driver-join")
        for id in UInt64(1)...3 { try await cluster.start(id, compactEvery: 5) }
        for value in UInt8(1)...12 { try await cluster.onLeader { _ = try await $0.propose([value]) } }
        try await cluster.start(4, join: true)
        let joiner = cluster.servers[4]!.driver
        try await Task.sleep(for: .milliseconds(900))  // more than two election timeouts
        var status = await joiner.status
        #expect(status.role == .follower && status.term == 0, "a joining node campaigned: \(status)")
        #expect(await joiner.membership == ConfState())

        let address = PeerAddress(host: "10.0.0.4", port: 7004)
        try await cluster.onLeader { try await $0.addLearner(4, address: address) }
        #expect(try await Self.eventually { await joiner.membership.learners == [4] })
        let learned = await joiner.membership
        #expect(learned.voters == [1, 2, 3])
        #expect(learned.addresses[4] == "10.0.0.4:7004")
        #expect(learned.addresses[1] == "10.0.0.1:7001")
        #expect(await joiner.address(of: 1) == PeerAddress(host: "10.0.0.1", port: 7001))
        for id in UInt64(1)...4 {
            #expect(try await Self.eventually { cluster.transports[id]!.last?.addresses[4] == "10.0.0.4:7004" },
                "node \(id)'s transport never learned node 4's address")
        }
        let snapshotFiles = try FileManager.default.contentsOfDirectory(atPath: cluster.directory.path + "/node4/snap")
        #expect(!snapshotFiles.isEmpty, "node 4 caught up without a snapshot; the test meant to cover one")
        let items = try await joiner.read { $0.items }
        #expect(items == (UInt8(1)...12).map { [$0] })

        try await cluster.onLeader { try await $0.promote(4) }
        #expect(try await Self.eventually { await joiner.membership.voters == [1, 2, 3, 4] })
        try await cluster.onLeader { _ = try await $0.propose([13]) }
        let commit = try await cluster.leader().driver.status.commitIndex
        #expect(try await Self.eventually { await joiner.status.appliedIndex >= commit })
        status = await joiner.status
        #expect(status.term > 0)
        await cluster.shutdown()
    }

    // Goal: leadership moves on request; the new leader removes a voter, the group still commits with the rest,
    // and each transport is told the smaller membership. Refusals: a follower cannot transfer, a non-member is not
    // a target, a leader cannot remove itself.
    @Test func transferThenRemove() async throws {
        let cluster = Cluster("driver-transfer")
        for id in UInt64(1)...3 { try await cluster.start(id) }
        try await cluster.onLeader { _ = try await $0.propose([1]) }
        let (oldID, old) = try await cluster.leader()
        let target = (UInt64(1)...3).first { $0 != oldID }!
        try await old.transferLeadership(to: target)
        #expect(try await Self.eventually { await cluster.servers[target]!.driver.status.role == .leader })
        await #expect(throws: DriverError.notLeader(leaderHint: target)) {
            try await old.transferLeadership(to: oldID)
        }
        let leader = cluster.servers[target]!.driver
        await #expect(throws: DriverError.refused(.invalidConfChange("transfer target 9 is not another voter"))) {
            try await leader.transferLeadership(to: 9)
        }
        await #expect(throws: DriverError.refused(.invalidConfChange("a leader cannot remove itself; transfer first"))) {
            try await leader.remove(target)
        }
        try await leader.remove(oldID)
        #expect(await leader.membership.voters == (UInt64(1)...3).filter { $0 != oldID })
        let third = (UInt64(1)...3).first { $0 != oldID && $0 != target }!
        #expect(try await Self.eventually { cluster.transports[third]!.last.map { !$0.contains(oldID) } ?? false })
        await cluster.servers[oldID]!.shutdown()
        cluster.servers[oldID] = nil
        #expect(try await leader.propose([2]) == [2])
        await cluster.shutdown()
    }

    // Goal: the TCP peer table follows a membership: new and moved addresses are linked, links to non-members
    // closed, and a node outside the membership (joining) closes nothing.
    @Test func tcpPeerTableFollowsMembership() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let transport = TCPTransport(
            id: 1, listen: PeerAddress(host: "127.0.0.1", port: 0),
            peers: [2: PeerAddress(host: "127.0.0.1", port: 7002), 3: PeerAddress(host: "127.0.0.1", port: 7003)],
            group: group)
        transport.membershipChanged(ConfState(voters: [3], learners: [7]))
        #expect(transport.peers.keys.sorted() == [2, 3])  // node 1 is not a member: nothing closed
        transport.membershipChanged(ConfState(
            voters: [1, 2], learners: [4], addresses: [2: "127.0.0.1:9002", 4: "[::1]:7004"]))
        #expect(transport.peers == [
            2: PeerAddress(host: "127.0.0.1", port: 9002), 4: PeerAddress(host: "::1", port: 7004),
        ])
        await transport.shutdown()
        try await group.shutdownGracefully()
    }

    // Goal: end to end over TCP, the address in the conf-change entry is what connects the group: a leader that
    // never heard of node 2 links it once it adds it as a learner, node 2 (join mode) catches up, is promoted,
    // and the two-voter group commits. Method: two RaftServers on loopback, ports chosen by the kernel.
    @Test func learnerJoinsOverTCPThroughItsRecordedAddress() async throws {
        let directory = TemporaryDirectory("driver-tcp-join")
        defer { directory.remove() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        func configuration(_ id: UInt64, members: [UInt64: PeerAddress], join: Bool) -> RaftServerConfiguration {
            var raft = Config(id: id, randomSeed: id * 31)
            raft.electionTimeoutTicks = 40
            raft.heartbeatIntervalTicks = 2
            var configuration = RaftServerConfiguration(raft: raft, members: members, dataDirectory: directory.path + "/node\(id)")
            configuration.join = join
            configuration.driver.tickInterval = .milliseconds(5)
            return configuration
        }
        let first = try await RaftServer.start(
            configuration: configuration(1, members: [1: PeerAddress(host: "127.0.0.1", port: 0)], join: false),
            machine: ListMachine(), group: group)
        let firstAddress = PeerAddress(host: "127.0.0.1", port: try #require(first.listeningPort))
        #expect(try await Self.eventually { await first.driver.status.role == .leader })
        _ = try await first.driver.propose([1])
        let second = try await RaftServer.start(
            configuration: configuration(2, members: [1: firstAddress, 2: PeerAddress(host: "127.0.0.1", port: 0)], join: true),
            machine: ListMachine(), group: group)
        let secondAddress = PeerAddress(host: "127.0.0.1", port: try #require(second.listeningPort))
        try await first.driver.addLearner(2, address: secondAddress)
        #expect(try await Self.eventually { await second.driver.status.appliedIndex >= first.driver.status.commitIndex })
        #expect(await second.driver.address(of: 2) == secondAddress)
        var promoted = false
        for _ in 0..<200 where !promoted {
            do {
                try await first.driver.promote(2)
                promoted = true
            } catch DriverError.refused(.learnerNotCaughtUp), DriverError.refused(.confChangeInProgress) {
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        #expect(promoted)
        #expect(try await first.driver.propose([2]) == [2])  // a quorum of two: node 2 acknowledged over TCP
        #expect(try await Self.eventually { await second.driver.status.appliedIndex >= first.driver.status.commitIndex })
        let items = try await second.driver.read { $0.items }
        #expect(items == [[1], [2]])
        await second.shutdown()
        await first.shutdown()
        try await group.shutdownGracefully()
    }

    // Goal: addresses survive the codec and bad ones are refused, never trapped on.
    @Test func confStateAddressesRoundTrip() throws {
        let state = ConfState(voters: [1, 2], learners: [5], addresses: [1: "a:1", 5: "[::1]:7005"])
        var bytes: [UInt8] = []
        ConfChangeRecord(change: .addLearner(5), confState: state).encode(into: &bytes)
        #expect(try ConfChangeRecord(decoding: bytes).confState == state)
        // An address for a non-member: encode by hand (the initializer refuses it) and expect a decoding error.
        var bad: [UInt8] = []
        ConfState(voters: [1]).encode(into: &bad)
        bad.removeLast(4)  // the empty address count
        bad.appendLE(UInt32(1))
        bad.appendLE(UInt64(9))
        bad.appendBytes(Array("x:1".utf8))
        #expect(throws: CodecError.self) { try ConfState(decoding: bad) }
        var notUTF8: [UInt8] = []
        ConfState(voters: [1]).encode(into: &notUTF8)
        notUTF8.removeLast(4)
        notUTF8.appendLE(UInt32(1))
        notUTF8.appendLE(UInt64(1))
        notUTF8.appendBytes([0xFF, 0xFE])
        #expect(throws: CodecError.self) { try ConfState(decoding: notUTF8) }
        #expect(PeerAddress(parsing: "host:80") == PeerAddress(host: "host", port: 80))
        #expect(PeerAddress(parsing: "[::1]:80")?.description == "[::1]:80")
        #expect(PeerAddress(parsing: "host") == nil)
        #expect(PeerAddress(parsing: "host:70000") == nil)
    }
}

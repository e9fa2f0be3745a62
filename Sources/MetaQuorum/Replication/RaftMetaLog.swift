import WallClock
public import ClusterAuth
import Foundation
public import Logging
public import NIOCore
public import RaftKit
import MetaContract

/// Where a metadata replica lives and whom it replicates with.
public struct MetaReplicaConfiguration: Sendable {
    /// This replica's Raft node id (nonzero, unique in the group).
    public var id: UInt64
    /// The replica's directory: `meta.sqlite` (the state machine) and `raft/` (WAL, snapshots, LOCK).
    public var directory: String
    /// Raft addresses of the initial voters, this replica included. A single entry: a one-voter group.
    public var members: [UInt64: PeerAddress]
    /// Join an existing group as a learner instead of bootstrapping one (the leader must `addLearner` it).
    public var join = false
    /// Wall-clock length of one Raft tick.
    public var tickInterval: Duration = .milliseconds(10)
    /// Ticks without a leader before a follower campaigns (see `Config.electionTimeoutTicks`).
    public var electionTimeoutTicks = 30
    /// Ticks between heartbeats.
    public var heartbeatIntervalTicks = 3
    /// Compact the Raft log (after a snapshot of the database) every this many applied entries.
    public var compactEveryEntries: UInt64 = 100_000
    /// …or once the applied entries in the log hold this many bytes (see `DriverOptions.compactEveryBytes`).
    public var compactEveryBytes: Int = 256 << 20
    /// How long a proposal or a read waits inside the replica before its outcome is reported unknown (writes)
    /// or the read fails.
    public var requestTimeout: Duration = .seconds(5)
    /// The cluster secret: authenticates every Raft frame between replicas (nil: unauthenticated, tests).
    public var peerSecret: ClusterSecret?
    /// Receives the Raft driver's timings (metrics).
    public var observer: (any DriverObserver)?
    /// This replica's clock (ms since the Unix epoch): a command that reaches it over the metadata RPC is
    /// stamped with max(this clock, the last committed command time). Tests move it.
    public var clock: @Sendable () -> Int64 = { WallClock.nowMilliseconds() }

    public init(id: UInt64, directory: String, members: [UInt64: PeerAddress]) {
        self.id = id
        self.directory = directory
        self.members = members
    }

    /// A one-voter group in `directory`: the all-in-one server's metadata.
    public static func singleVoter(directory: String) -> MetaReplicaConfiguration {
        var configuration = MetaReplicaConfiguration(
            id: 1, directory: directory, members: [1: PeerAddress(host: "127.0.0.1", port: 0)])
        configuration.electionTimeoutTicks = 5
        configuration.heartbeatIntervalTicks = 1
        return configuration
    }
}

/// A metadata replica: the SQLite state machine (`MetaMachine`) under a RaftKit group. It is the `MetaLog` of
/// every process that holds metadata: `silo server` runs a one-voter group, `silo meta` one voter of three or
/// five; there is no other metadata log.
///
/// Writes are proposed to the Raft leader and answered once committed and applied here; reads are linearizable
/// on any replica, leader or follower: a ReadIndex round (through the leader), then the query runs on the
/// machine's thread once this replica has applied that index.
///
/// Lifecycle: `start(_:logger:group:)` (or `startSingleVoter`), then `propose`/`query` from any task, then
/// `close()` once.
public final class RaftMetaLog: MetaLog {
    let server: RaftServer<MetaMachine>
    let machine: MetaMachine
    private let logger: Logger
    let configuration: MetaReplicaConfiguration

    private init(server: RaftServer<MetaMachine>, machine: MetaMachine, configuration: MetaReplicaConfiguration,
                 logger: Logger) {
        self.server = server
        self.machine = machine
        self.configuration = configuration
        self.logger = logger
    }

    /// Starts a replica whose Raft traffic goes over TCP on `group` (`silo meta`).
    public static func start(_ configuration: MetaReplicaConfiguration, logger: Logger, group: any EventLoopGroup)
        async throws -> RaftMetaLog
    {
        try await start(configuration, logger: logger) { raft, machine in
            try await RaftServer.start(configuration: raft, machine: machine, group: group)
        }
    }

    /// Starts a one-voter replica with no network (`silo server`). A database written before the metadata had
    /// a Raft log is adopted as the log's starting snapshot.
    public static func startSingleVoter(
        directory: String, logger: Logger, clock: (@Sendable () -> Int64)? = nil
    ) async throws -> RaftMetaLog {
        var configuration = MetaReplicaConfiguration.singleVoter(directory: directory)
        if let clock { configuration.clock = clock }
        return try await start(configuration, logger: logger) { raft, machine in
            var raft = raft
            raft.adoptMachineState = true
            return try await RaftServer.start(
                configuration: raft, machine: machine, transport: InMemoryNetwork().transport(for: configuration.id))
        }
    }

    private static func start(
        _ configuration: MetaReplicaConfiguration, logger: Logger,
        server makeServer: (RaftServerConfiguration, MetaMachine) async throws -> RaftServer<MetaMachine>
    ) async throws -> RaftMetaLog {
        let machine = try await MetaMachine.open(directory: configuration.directory, logger: logger)
        var raft = Config(id: configuration.id, randomSeed: UInt64.random(in: 1...UInt64.max))
        raft.electionTimeoutTicks = configuration.electionTimeoutTicks
        raft.heartbeatIntervalTicks = configuration.heartbeatIntervalTicks
        var serverConfiguration = RaftServerConfiguration(
            raft: raft, members: configuration.members, dataDirectory: configuration.directory + "/raft")
        serverConfiguration.join = configuration.join
        serverConfiguration.peerSecret = configuration.peerSecret?.rawBytes
        serverConfiguration.driver.tickInterval = configuration.tickInterval
        serverConfiguration.driver.compactEveryEntries = configuration.compactEveryEntries
        serverConfiguration.driver.compactEveryBytes = configuration.compactEveryBytes
        serverConfiguration.driver.proposalTimeout = configuration.requestTimeout
        serverConfiguration.driver.readTimeout = configuration.requestTimeout
        serverConfiguration.driver.observer = configuration.observer
        var driverLogger = logger
        driverLogger[metadataKey: "component"] = "raft"
        serverConfiguration.driver.logger = driverLogger
        do {
            let server = try await makeServer(serverConfiguration, machine)
            return RaftMetaLog(server: server, machine: machine, configuration: configuration, logger: logger)
        } catch {
            await machine.close()
            throw error
        }
    }

    /// The Raft driver (membership changes, transfers and status for `silo admin cluster`).
    public var driver: RaftDriver<MetaMachine> { server.driver }

    /// The replica's directory.
    public var directory: String { configuration.directory }

    /// The TCP port Raft listens on (nil without TCP).
    public var raftPort: Int? { server.listeningPort }

    // MARK: MetaLog

    func propose(_ command: [UInt8]) async throws(MetaError) -> MetaCommandResult {
        let deadline = ContinuousClock.now + configuration.requestTimeout
        var pause = Duration.milliseconds(5)
        while true {
            let bytes: [UInt8]
            do throws(DriverError) {
                bytes = try await server.driver.propose(command)
            } catch {
                // A definite refusal because no leader is known here yet (start-up, an election): this replica
                // may become the leader, so wait for it within the deadline. With a known other leader, say so.
                let retryable: Bool
                switch error {
                case .notLeader(let hint): retryable = hint == nil || hint == configuration.id
                case .proposalDropped: retryable = true
                default: retryable = false
                }
                guard retryable, ContinuousClock.now + pause < deadline else { throw Self.metaError(error) }
                try? await Task.sleep(for: pause)
                pause = min(pause * 2, .milliseconds(100))
                continue
            }
            do throws(MetaCodecError) {
                return try MetaCommandResult(decoding: bytes)
            } catch {
                throw .internalFault("undecodable command result: \(error)")
            }
        }
    }

    func query(_ query: MetaQuery) async throws(MetaError) -> MetaQueryResult {
        let deadline = ContinuousClock.now + configuration.requestTimeout
        var pause = Duration.milliseconds(5)
        while true {
            do throws(DriverError) {
                try await linearize()
                break
            } catch {
                let retryable = if case .notLeader(nil) = error { true } else { false }
                guard retryable, ContinuousClock.now + pause < deadline else { throw Self.metaError(error) }
                try? await Task.sleep(for: pause)
                pause = min(pause * 2, .milliseconds(100))
            }
        }
        return try await machine.read { try query.run(on: $0) }
    }

    /// Waits until a read on this replica's machine is linearizable: a ReadIndex round, then the apply.
    func linearize() async throws(DriverError) {
        let index = try await server.driver.readIndex()
        try await server.driver.waitApplied(index)
    }

    public func close() async {
        await server.shutdown()
        await machine.close()
    }

    // MARK: Raw calls for the metadata RPC

    /// The newest command time this replica has applied (`Int64.min` before the first).
    var committedTime: Int64 { machine.committedTime }

    /// Proposes without waiting for a leader: the RPC server tells its caller who leads instead.
    func proposeOnce(_ command: [UInt8]) async throws(DriverError) -> [UInt8] {
        try await server.driver.propose(stamp(command))
    }

    /// Time decided once, for commands that come over the RPC from gateways (a process that proposes
    /// locally, `silo server`, has one clock already): the command's time becomes max(this replica's clock,
    /// the last committed time), so
    /// a gateway with a fast or slow clock cannot reorder Last-Modified, expire command ids early or cut a
    /// garbage grace short, and times never go back across leaders. Only a leader's proposal commits, so
    /// every committed time comes from the clock of the leader of its term. A retry of the same request
    /// gets a new stamp, but the state machine answers a command id it remembers with its first outcome.
    /// Bytes that do not decode are proposed as they are (every replica then answers them alike).
    func stamp(_ command: [UInt8]) -> [UInt8] {
        guard let decoded = try? MetaCommand(decoding: command) else { return command }
        let time = max(configuration.clock(), machine.committedTime)
        guard time != decoded.envelope.time else { return command }
        return decoded.stamped(time: time).encode()
    }

    /// Runs a query after `linearize()`, encoded.
    func queryOnce(_ query: MetaQuery) async throws(DriverError) -> Result<MetaQueryResult, MetaError> {
        try await linearize()
        do throws(MetaError) {
            return .success(try await machine.read { try query.run(on: $0) })
        } catch {
            return .failure(error)
        }
    }

    /// The one mapping of RaftKit's outcomes to metadata errors: definite refusals become `.unavailable`, an
    /// unknown outcome stays unknown.
    static func metaError(_ error: DriverError) -> MetaError {
        switch error {
        case .notLeader(let hint):
            .unavailable("not the metadata leader" + (hint.map { " (the leader is node \($0))" } ?? " (no leader known)"))
        case .refused(let reason): .unavailable("metadata proposal refused: \(reason)")
        case .proposalDropped: .unavailable("metadata proposal superseded by a new leader's entry")
        case .stopped: .unavailable("the metadata replica is stopped")
        case .timedOut: .unavailable("the metadata read timed out")
        case .outcomeUnknown(let reason): .outcomeUnknown("metadata write outcome unknown (\(reason))")
        }
    }
}

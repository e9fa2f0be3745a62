public import NIOCore
import NIOPosix
import Synchronization

/// What one `RaftServer` process needs to start.
public struct RaftServerConfiguration: Sendable {
    /// This node's ID (nonzero) and the core's settings; `raft.id` must equal the key of this node in `members`.
    public var raft: Config
    /// Every member of the bootstrap cluster with its Raft listening address (this node included). Each address
    /// is also what the others dial, and what the membership records (`ConfState.addresses`), so it must be
    /// reachable from them (not 0.0.0.0); port 0 binds any free port, and the bound one is recorded. In join
    /// mode: this node's own address and those of the nodes it may hear from first (the group's members).
    public var members: [UInt64: PeerAddress]
    /// Join mode: start with an empty membership and never campaign; wait for the leader's log or snapshot,
    /// which brings the membership (after a member called `RaftDriver.addLearner` for this node). Off: `members`
    /// are the bootstrap voters. Keep it on across restarts until the node has received its membership.
    public var join = false
    /// Where the WAL (`wal/`) and snapshots (`snap/`) live.
    public var dataDirectory: String
    /// WAL segment rotation size.
    public var segmentSizeBytes: Int = StorageLimits.segmentSizeBytesDefault
    /// Tick length and compaction threshold.
    public var driver = DriverOptions()
    /// When the data directory holds no Raft state yet but the machine has applied entries (a database that
    /// predates its Raft log, as a single server's did), adopt that state: record a snapshot of the machine at
    /// its applied index as the start of the log. Only for a single-voter bootstrap; otherwise such a machine
    /// is refused as inconsistent.
    public var adoptMachineState = false
    /// The group's shared secret: when set, every Raft frame over TCP is authenticated (`FrameAuthenticator`).
    public var peerSecret: [UInt8]?

    public init(raft: Config, members: [UInt64: PeerAddress], dataDirectory: String) {
        self.raft = raft
        self.members = members
        self.dataDirectory = dataDirectory
    }
}

/// Errors of starting a server.
public enum RaftServerError: Error, Sendable {
    /// The WAL or the snapshot store failed.
    case storage(StorageError)
    /// Durable bytes did not decode (the WAL's checksums held, so this is a version or logic problem).
    case decoding(String)
    /// The recovered log and snapshot do not fit together.
    case inconsistent(String)
    /// The core refused the configuration or the recovered state.
    case core(String)
    /// Another process (or another server in this one) holds the data directory's `LOCK` file.
    case dataDirectoryLocked(String)
}

extension RaftServerError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .storage(let error): return "raft storage: \(error)"
        case .decoding(let message): return "raft recovery: undecodable durable state: \(message)"
        case .inconsistent(let message): return "raft recovery: \(message)"
        case .core(let message): return "raft core: \(message)"
        case .dataDirectoryLocked(let directory):
            return "data directory \(directory) is in use by another process (its LOCK file is locked)"
        }
    }
}

/// One Raft process: core + WAL + snapshot files + TCP transport + driver.
///
/// Start-up: lock the data directory (`LOCK`, an exclusive `flock` held until `shutdown`, so a second process on
/// the same directory refuses to start); load the newest intact snapshot and restore the machine from it; open the WAL (recovering torn
/// tails, refusing corruption); rebuild the in-memory log; build the `RaftNode`; bind the transport; run the driver.
public final class RaftServer<Machine: ReplicatedStateMachine>: Sendable {
    /// The running driver: call `propose`, `read` and `status` on it.
    public let driver: RaftDriver<Machine>
    private let wal: SegmentedWAL
    private let tcp: TCPTransport?
    private let lock: DataDirectoryLock
    private let runTask: Task<Void, Never>

    /// The TCP port the Raft listener is bound to (useful with port 0 in `members`); nil without TCP.
    public let listeningPort: Int?

    private init(
        driver: RaftDriver<Machine>, wal: SegmentedWAL, tcp: TCPTransport?, lock: DataDirectoryLock, port: Int?
    ) {
        self.listeningPort = port
        self.driver = driver
        self.wal = wal
        self.tcp = tcp
        self.lock = lock
        self.runTask = Task { await driver.run() }
    }

    /// Starts a server whose Raft traffic goes over TCP on `group`.
    public static func start(
        configuration: RaftServerConfiguration, machine: Machine, group: any EventLoopGroup
    ) async throws -> RaftServer {
        let id = configuration.raft.id
        guard let listen = configuration.members[id] else {
            throw RaftServerError.core("node \(id) is not among the members \(configuration.members.keys.sorted())")
        }
        let lock = try await DataDirectoryLock.acquire(configuration.dataDirectory)
        do {
            let tcp = TCPTransport(id: id, listen: listen, peers: configuration.members, group: group,
                                   authenticator: configuration.peerSecret.map(FrameAuthenticator.init(secret:)))
            let port = try await tcp.start()
            // The membership records where this node listens, for the others to dial: the bound port, not 0.
            var bound = configuration
            bound.members[id] = PeerAddress(host: listen.host, port: port)
            do {
                let (driver, wal) = try await makeDriver(configuration: bound, machine: machine, transport: tcp)
                let server = RaftServer(driver: driver, wal: wal, tcp: tcp, lock: lock, port: port)
                await driver.waitUntilRunning()
                return server
            } catch {
                await tcp.shutdown()
                throw error
            }
        } catch {
            await lock.release()
            throw error
        }
    }

    /// Starts a server over any transport (tests use `InMemoryTransport`).
    public static func start(
        configuration: RaftServerConfiguration, machine: Machine, transport: any RaftTransport
    ) async throws -> RaftServer {
        let lock = try await DataDirectoryLock.acquire(configuration.dataDirectory)
        do {
            let (driver, wal) = try await makeDriver(configuration: configuration, machine: machine, transport: transport)
            let server = RaftServer(driver: driver, wal: wal, tcp: nil, lock: lock, port: nil)
            await driver.waitUntilRunning()
            return server
        } catch {
            await lock.release()
            throw error
        }
    }

    /// The WAL's group-commit counters since start (appends, records, fsyncs).
    public var walStatistics: WALStatistics { wal.statistics }

    /// Stops the driver, closes the transport and the WAL, then releases the data directory.
    public func shutdown() async {
        await driver.stop()
        await runTask.value
        await tcp?.shutdown()
        await wal.close()
        await lock.release()
    }

    static func makeDriver(
        configuration: RaftServerConfiguration, machine: Machine, transport: any RaftTransport
    ) async throws -> (RaftDriver<Machine>, SegmentedWAL) {
        StorageLimits.validate()
        let snapshots = SnapshotStore(directory: configuration.dataDirectory + "/snap", threadPool: .singleton)
        let bootstrap = ConfState(
            voters: configuration.members.keys.sorted(),
            addresses: configuration.members.mapValues(\.description))
        let storage = MemoryLogStorage(confState: configuration.join ? ConfState() : bootstrap, snapshots: snapshots)
        // The machine owns its applied index; a snapshot is restored only when the machine is behind it.
        var applied = try await machine.appliedIndex()
        if let stored = try await snapshots.loadNewest() {
            let metadata = try decode { () throws(CodecError) in try SnapshotMetadata(decoding: stored.metadata) }
            storage.applySnapshot(Snapshot(metadata: metadata, payload: stored.file))
            if applied < metadata.index {
                try await machine.restore(fromFile: stored.file.path, at: metadata.index)
                applied = metadata.index
            }
        }
        let (wal, recovery) = try await SegmentedWAL.open(
            directory: configuration.dataDirectory + "/wal", segmentSizeBytes: configuration.segmentSizeBytes)
        let entries = try recovery.entries.map { record in
            try decode { () throws(CodecError) in try Entry(decoding: record.payload) }
        }
        if let first = entries.first {
            guard first.index <= storage.lastIndex() + 1 else {
                throw RaftServerError.inconsistent("WAL starts at \(first.index), snapshot ends at \(storage.lastIndex())")
            }
            storage.append(entries)
        }
        if let bytes = recovery.hardState {
            storage.setHardState(try decode { () throws(CodecError) in try HardState(decoding: bytes) })
        }
        if applied > storage.lastIndex(), storage.lastIndex() == 0, configuration.adoptMachineState,
           !configuration.join, configuration.members.count == 1 {
            let metadata = SnapshotMetadata(index: applied, term: 1, confState: bootstrap)
            var metadataBytes: [UInt8] = []
            metadata.encode(into: &metadataBytes)
            let staging = snapshots.stagingPath(index: applied)
            try await machine.writeSnapshot(to: staging)
            let stored = try await snapshots.save(
                index: applied, metadata: metadataBytes, payload: try await snapshots.open(staging))
            storage.applySnapshot(Snapshot(metadata: metadata, payload: stored.file))
            try await wal.append([.compact(throughIndex: applied, payload: metadataBytes)])
        }
        guard applied <= storage.lastIndex() else {
            throw RaftServerError.inconsistent(
                "the state machine has applied \(applied), beyond the log's end \(storage.lastIndex())")
        }
        var config = configuration.raft
        config.applied = applied
        let node: RaftNode
        do {
            node = try RaftNode(config: config, storage: storage)
        } catch {
            throw RaftServerError.core("\(error)")
        }
        let driver = RaftDriver(
            node: node, storage: storage, wal: wal, snapshots: snapshots, transport: transport, machine: machine,
            appliedIndex: applied, options: configuration.driver)
        return (driver, wal)
    }

    private static func decode<T>(_ body: () throws(CodecError) -> T) throws(RaftServerError) -> T {
        do throws(CodecError) {
            return try body()
        } catch {
            throw .decoding("\(error)")
        }
    }
}

/// The exclusive `flock` on `<data directory>/LOCK` that a `RaftServer` holds from start to `shutdown`.
/// `acquire` creates the directory if needed; both calls block briefly on file calls, so they run on the NIO
/// thread pool. `release` is idempotent.
final class DataDirectoryLock: Sendable {
    private let descriptor: Mutex<Int32?>

    private init(descriptor: Int32) {
        self.descriptor = Mutex(descriptor)
    }

    /// Throws `RaftServerError.dataDirectoryLocked(directory)` when another holder has it.
    static func acquire(_ directory: String) async throws -> DataDirectoryLock {
        let locked = try await NIOThreadPool.singleton.runIfActive { () throws -> Int32? in
            do throws(StorageError) {
                try POSIXFile.makeDirectory(directory)
                return try POSIXFile.lockExclusive(directory + "/LOCK")
            } catch {
                throw RaftServerError.storage(error)
            }
        }
        guard let fd = locked else { throw RaftServerError.dataDirectoryLocked(directory) }
        return DataDirectoryLock(descriptor: fd)
    }

    func release() async {
        guard let fd = descriptor.withLock({ value -> Int32? in
            defer { value = nil }
            return value
        }) else { return }
        try? await NIOThreadPool.singleton.runIfActive { POSIXFile.close(fd) }
    }
}

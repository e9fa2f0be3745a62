/// How a `RaftDriver` paces itself.
public struct DriverOptions: Sendable {
    /// Wall-clock length of one Raft tick.
    public var tickInterval: Duration = .milliseconds(10)
    /// Take a state-machine snapshot and compact the log once this many applied entries are in the log.
    public var compactEveryEntries: UInt64 = 100_000

    public init() {}
}

/// The shell around one `RaftNode`: it turns ticks, inbound messages, proposals and reads into core calls, and
/// performs each `Ready` (stage → WAL append and fsync → send → apply → advance, see `ReadyHandler`).
///
/// Threads: an actor; every blocking disk call happens on the WAL's own thread or the NIO thread pool. While a
/// `Ready`'s WAL append is awaited the actor keeps accepting messages and proposals (etcd allows `Step` between
/// `Ready` and `Advance`); the next `Ready` carries them, so proposals that arrive during one fsync share the next
/// (group commit at the Raft level).
///
/// Order: `init`, then `run()` in a task of its own (it returns after `stop()` or a storage failure); `propose` and
/// `read` from any task.
public actor RaftDriver<Machine: ReplicatedStateMachine> {
    private enum State {
        case idle, running, stopped
    }

    private var node: RaftNode
    private let storage: MemoryLogStorage
    private let wal: SegmentedWAL
    private let snapshots: SnapshotStore?
    private let transport: any RaftTransport
    private var machine: Machine
    private let options: DriverOptions
    private var state = State.idle
    /// Invariant: `appliedIndex <= node.commitIndex`.
    private var appliedIndex: UInt64
    private var proposals: [UInt64: (term: UInt64, continuation: CheckedContinuation<Result<[UInt8], DriverError>, Never>)] = [:]
    private var readsAwaitingIndex: [UInt64: CheckedContinuation<Result<Void, DriverError>, Never>] = [:]
    private var readsAwaitingApply: [(index: UInt64, continuation: CheckedContinuation<Result<Void, DriverError>, Never>)] = []
    private var nextReadContext: UInt64 = 1
    private let wakeups: AsyncStream<Void>
    private let wakeupContinuation: AsyncStream<Void>.Continuation

    /// Creates a driver over a node already built on `storage` (see `RaftServer` for the start-up sequence).
    /// `appliedIndex` is the index `machine` reflects.
    public init(
        node: RaftNode, storage: MemoryLogStorage, wal: SegmentedWAL, snapshots: SnapshotStore?,
        transport: any RaftTransport, machine: Machine, appliedIndex: UInt64, options: DriverOptions
    ) {
        self.node = node
        self.storage = storage
        self.wal = wal
        self.snapshots = snapshots
        self.transport = transport
        self.machine = machine
        self.appliedIndex = appliedIndex
        self.options = options
        (wakeups, wakeupContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// The node's view: (term, role, leader ID, commit index, applied index).
    public var status: (term: UInt64, role: Role, leaderID: UInt64, commitIndex: UInt64, appliedIndex: UInt64) {
        (node.term, node.role, node.leaderID, node.commitIndex, appliedIndex)
    }

    /// Runs the ticker, the inbound reader and the `Ready` loop until `stop()`.
    public func run() async {
        guard case .idle = state else { return }
        state = .running
        let inbound = transport.inbound
        let interval = options.tickInterval
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    guard await self.tick() else { return }
                }
            }
            group.addTask {
                for await frame in inbound {
                    guard let message = try? Message(decoding: frame.payload) else { continue }
                    guard await self.step(message) else { return }
                }
            }
            await readyLoop()
            group.cancelAll()
        }
    }

    /// Stops the loops and fails every waiting request with `.stopped`.
    public func stop() {
        guard case .running = state else {
            state = .stopped
            return
        }
        state = .stopped
        wakeupContinuation.finish()
        failEverything(.stopped)
    }

    /// Proposes `command` and returns the state machine's result once it is committed and applied here. Throws
    /// `.notLeader` on a follower, `.proposalDropped` if another leader overwrote the entry.
    public func propose(_ command: [UInt8]) async throws(DriverError) -> [UInt8] {
        guard case .running = state else { throw .stopped }
        let position: (index: UInt64, term: UInt64)
        do throws(ProposeError) {
            position = try node.propose(command)
        } catch {
            throw Self.map(error, leader: node.leaderID)
        }
        wake()
        let result = await withCheckedContinuation { continuation in
            proposals[position.index] = (position.term, continuation)
        }
        return try result.get()
    }

    /// A linearizable read: confirms leadership with a ReadIndex round, waits until this node has applied up to
    /// the read index, then runs `body` on the state machine.
    public func read<T: Sendable>(_ body: @Sendable (Machine) -> T) async throws(DriverError) -> T {
        guard case .running = state else { throw .stopped }
        let context = nextReadContext
        nextReadContext += 1
        do throws(ProposeError) {
            try node.readIndex(context: context)
        } catch {
            throw Self.map(error, leader: node.leaderID)
        }
        wake()
        let result = await withCheckedContinuation { continuation in readsAwaitingIndex[context] = continuation }
        try result.get()
        guard case .running = state else { throw .stopped }
        return body(machine)
    }

    private static func map(_ error: ProposeError, leader: UInt64) -> DriverError {
        if case .notLeader(let hint) = error { return .notLeader(leaderHint: hint) }
        return .refused(error)
    }

    // MARK: - Loops

    private func tick() -> Bool {
        guard case .running = state else { return false }
        node.tick()
        wake()
        return true
    }

    private func step(_ message: Message) -> Bool {
        guard case .running = state else { return false }
        guard message.to == node.id else { return true }
        try? node.step(message)
        wake()
        return true
    }

    private func wake() {
        wakeupContinuation.yield()
    }

    private func readyLoop() async {
        for await _ in wakeups {
            while case .running = state, let ready = node.ready() {
                do throws(StorageError) {
                    try await handle(ready)
                } catch {
                    // A failed fsync leaves the disk in an unknown state: stop; a restart recovers from the WAL.
                    stop()
                    return
                }
            }
            if case .stopped = state { return }
        }
    }

    private func handle(_ ready: Ready) async throws(StorageError) {
        if let snapshot = ready.snapshot, let snapshots {
            var metadata: [UInt8] = []
            snapshot.metadata.encode(into: &metadata)
            try await snapshots.save(StoredSnapshot(index: snapshot.metadata.index, metadata: metadata, data: snapshot.data))
        }
        let records = ReadyHandler.stage(ready, into: storage)
        if !records.isEmpty { try await wal.append(records, sync: ready.mustSync) }
        // Re-check after the await: `stop()` may have run.
        guard case .running = state else { return }
        let transport = self.transport
        let delivery = ReadyHandler.deliver(ready, appliedIndex: appliedIndex, machine: &machine) { message in
            var bytes: [UInt8] = []
            message.encode(into: &bytes)
            transport.send(bytes, to: message.to)
        }
        precondition(delivery.appliedIndex >= appliedIndex, "applied went back: \(delivery.appliedIndex) < \(appliedIndex)")
        appliedIndex = delivery.appliedIndex
        node.advance(ready)
        settle(delivery, ready: ready)
        try await compactIfNeeded()
    }

    /// Answers proposals whose index was applied, and reads whose index is now applied.
    private func settle(_ delivery: ReadyHandler.Delivery, ready: Ready) {
        var results: [UInt64: [UInt8]] = [:]
        for item in delivery.results { results[item.index] = item.result }
        for (index, term) in delivery.committed {
            guard let waiting = proposals.removeValue(forKey: index) else { continue }
            if waiting.term == term {
                waiting.continuation.resume(returning: .success(results[index] ?? []))
            } else {
                waiting.continuation.resume(returning: .failure(.proposalDropped))
            }
        }
        for readState in ready.readStates {
            guard let continuation = readsAwaitingIndex.removeValue(forKey: readState.context) else { continue }
            readsAwaitingApply.append((readState.index, continuation))
        }
        if let soft = ready.softState, soft.role != .leader {
            // Reads not yet confirmed by a quorum round will not be: answer them now.
            for context in readsAwaitingIndex.keys.sorted() {
                readsAwaitingIndex.removeValue(forKey: context)?.resume(returning: .failure(.notLeader(leaderHint: soft.leaderID == 0 ? nil : soft.leaderID)))
            }
        }
        let applied = appliedIndex
        let ready = readsAwaitingApply.filter { $0.index <= applied }
        readsAwaitingApply.removeAll { $0.index <= applied }
        for read in ready { read.continuation.resume(returning: .success(())) }
    }

    private func compactIfNeeded() async throws(StorageError) {
        let first = storage.firstIndex()
        guard appliedIndex >= first, appliedIndex - first + 1 >= options.compactEveryEntries else { return }
        let index = appliedIndex
        let data = machine.snapshot()
        let confState = node.confState
        let term = try? storage.term(at: index)
        let metadata = SnapshotMetadata(index: index, term: term ?? 0, confState: confState)
        var metadataBytes: [UInt8] = []
        metadata.encode(into: &metadataBytes)
        if let snapshots {
            try await snapshots.save(StoredSnapshot(index: index, metadata: metadataBytes, data: data))
        }
        storage.compact(snapshotAt: index, confState: confState, data: data)
        try await wal.append([.compact(throughIndex: index, payload: metadataBytes)])
    }

    private func failEverything(_ error: DriverError) {
        for index in proposals.keys.sorted() { proposals.removeValue(forKey: index)?.continuation.resume(returning: .failure(error)) }
        for context in readsAwaitingIndex.keys.sorted() {
            readsAwaitingIndex.removeValue(forKey: context)?.resume(returning: .failure(error))
        }
        for read in readsAwaitingApply { read.continuation.resume(returning: .failure(error)) }
        readsAwaitingApply.removeAll()
    }
}

public import Logging

/// How a `RaftDriver` paces itself.
public struct DriverOptions: Sendable {
    /// Wall-clock length of one Raft tick.
    public var tickInterval: Duration = .milliseconds(10)
    /// Take a state-machine snapshot and compact the log once this many applied entries are in the log.
    public var compactEveryEntries: UInt64 = 100_000
    /// …or once the applied entries in the log hold this many bytes of data, whichever comes first: the log
    /// lives in memory until it is compacted, so large entries (inline object bodies) must not wait for the
    /// entry count.
    public var compactEveryBytes: Int = 256 << 20
    /// How long `propose` waits when the caller gives no timeout; then it fails with
    /// `DriverError.outcomeUnknown(.timedOut)`.
    public var proposalTimeout: Duration = .seconds(5)
    /// How long `readIndex`, `waitApplied` and `read` wait when the caller gives no timeout; then they fail with
    /// `DriverError.timedOut`.
    public var readTimeout: Duration = .seconds(5)
    /// Told how long each WAL append and each apply took, and of every snapshot chunk sent (for metrics; the
    /// driver calls it on its actor, so it must return at once).
    public var observer: (any DriverObserver)?
    /// Where the driver reports what stops it (a storage failure, at `critical`) and the frames it drops
    /// (at `warning`, for the 1st, 2nd, 4th, 8th… of each kind; every one is counted in `DriverStatistics`).
    public var logger = Logger(label: "RaftKit.driver")

    public init() {}
}

/// Counters of a `RaftDriver` since its start, for monitoring: frames that reached the driver and were dropped.
public struct DriverStatistics: Sendable, Equatable {
    /// Inbound frames that did not decode as a Raft message (a version mismatch or a broken peer).
    public var undecodableFrames = 0
    /// Decoded messages addressed to another node.
    public var misaddressedMessages = 0
    /// Messages the core refused (`StepError`: node ID 0 or term 0).
    public var refusedMessages = 0

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
/// Order: `init`, then `run()` in a task of its own (it returns after `stop()` or a storage failure); `propose`,
/// `readIndex`, `waitApplied` and `read` from any task.
///
/// Every request has a deadline (the caller's timeout, else `DriverOptions`), checked on each tick, so no caller
/// waits forever. Errors say whether a proposal may still commit (`DriverError.mayHaveCommitted`).
public actor RaftDriver<Machine: ReplicatedStateMachine> {
    private enum State {
        case idle, running, stopped
    }

    private typealias Instant = ContinuousClock.Instant

    private struct PendingProposal {
        let term: UInt64
        let deadline: Instant
        let continuation: CheckedContinuation<Result<[UInt8], DriverError>, Never>
    }

    private struct PendingReadIndex {
        let deadline: Instant
        let continuation: CheckedContinuation<Result<UInt64, DriverError>, Never>
    }

    private struct PendingTransfer {
        let target: NodeID
        let deadline: Instant
        let continuation: CheckedContinuation<Result<Void, DriverError>, Never>
    }

    private struct PendingApply {
        let index: UInt64
        let deadline: Instant
        let continuation: CheckedContinuation<Result<Void, DriverError>, Never>
    }

    private var node: RaftNode
    private let storage: MemoryLogStorage
    private let wal: SegmentedWAL
    private let snapshots: SnapshotStore
    private let transport: any RaftTransport
    private let machine: Machine
    private let options: DriverOptions
    private var state = State.idle
    /// Invariant: `appliedIndex <= node.commitIndex`.
    private var appliedIndex: UInt64
    /// Data bytes of the applied entries still in the log (since the last compaction), for `compactEveryBytes`.
    private var appliedBytesInLog = 0
    /// The membership at `appliedIndex` (what a snapshot taken there records).
    private var appliedConfState: ConfState
    /// Proposals appended here and not yet answered, by log index. Invariant: every term ≤ `node.term`.
    private var proposals: [UInt64: PendingProposal] = [:]
    /// ReadIndex requests waiting for their confirmation, by context.
    private var readsAwaitingIndex: [UInt64: PendingReadIndex] = [:]
    /// Callers of `transferLeadership` waiting to see the target lead.
    private var transfers: [PendingTransfer] = []
    /// The membership last handed to `transport.membershipChanged` (nil: none yet).
    private var announcedMembership: ConfState?
    /// Callers of `waitApplied` whose index is not applied yet.
    private var waitingForApply: [PendingApply] = []
    /// The earliest deadline of any waiting request (a lower bound: ticks skip the scan before it).
    private var earliestDeadline: Instant?
    /// Unique across restarts: started at a random value (see `ReadContexts`).
    private var readContexts: ReadContexts
    /// Dropped-frame counters (see `statistics`).
    private var counters = DriverStatistics()
    private let logger: Logger
    /// Callers of `waitUntilRunning` while idle.
    private var runWaiters: [CheckedContinuation<Void, Never>] = []
    private let wakeups: AsyncStream<Void>
    private let wakeupContinuation: AsyncStream<Void>.Continuation

    /// Creates a driver over a node already built on `storage` (see `RaftServer` for the start-up sequence).
    /// `appliedIndex` is the index `machine` reflects: at least the snapshot's (`storage.firstIndex() - 1`) and at
    /// most the log's end; the driver applies every committed entry above it.
    public init(
        node: RaftNode, storage: MemoryLogStorage, wal: SegmentedWAL, snapshots: SnapshotStore,
        transport: any RaftTransport, machine: Machine, appliedIndex: UInt64, options: DriverOptions
    ) {
        self.node = node
        self.storage = storage
        self.wal = wal
        self.snapshots = snapshots
        self.transport = transport
        self.machine = machine
        self.appliedIndex = appliedIndex
        precondition(appliedIndex + 1 >= storage.firstIndex() && appliedIndex <= storage.lastIndex(),
            "applied index \(appliedIndex) outside the log \(storage.firstIndex())...\(storage.lastIndex())")
        do throws(LogStorageError) {
            // The membership at the applied index: the snapshot's, then every membership entry up to it.
            var confState = try storage.snapshot().metadata.confState
            if appliedIndex >= storage.firstIndex() {
                let entries = try storage.entries(from: storage.firstIndex(), to: appliedIndex + 1, bytesMax: .max)
                appliedBytesInLog = entries.reduce(0) { $0 + $1.data.count }
                for entry in entries where entry.kind == .confChange {
                    guard let record = try? ConfChangeRecord(decoding: entry.data) else {
                        preconditionFailure("undecodable membership entry at \(entry.index)")
                    }
                    confState = record.confState
                }
            }
            self.appliedConfState = confState
        } catch {
            preconditionFailure("in-memory log storage failed: \(error)")
        }
        self.options = options
        var logger = options.logger
        logger[metadataKey: "raft-node"] = "\(node.id)"
        self.logger = logger
        var system = SystemRandomNumberGenerator()
        self.readContexts = ReadContexts(start: system.next(), faults: node.faults)
        (wakeups, wakeupContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// The node's view: (term, role, leader ID, commit index, applied index).
    public var status: (term: UInt64, role: Role, leaderID: UInt64, commitIndex: UInt64, appliedIndex: UInt64) {
        (node.term, node.role, node.leaderID, node.commitIndex, appliedIndex)
    }

    /// Frames dropped since start, by reason.
    public var statistics: DriverStatistics { counters }

    /// The context the next read would use (for tests; draws nothing).
    var nextReadContextForTesting: UInt64 {
        var copy = readContexts
        return copy.next()
    }

    /// Proposals, reads and waits not yet answered (for tests).
    var waitingRequestCount: Int { proposals.count + readsAwaitingIndex.count + waitingForApply.count + transfers.count }

    /// Runs the ticker, the inbound reader and the `Ready` loop until `stop()`.
    public func run() async {
        guard case .idle = state else { return }
        state = .running
        for waiter in runWaiters { waiter.resume() }
        runWaiters = []
        announceMembershipIfChanged()
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
                    let message: Message
                    do throws(CodecError) {
                        message = try Message(decoding: frame.payload)
                    } catch {
                        guard await self.dropUndecodable(from: frame.from, error) else { return }
                        continue
                    }
                    guard await self.step(message) else { return }
                }
            }
            await readyLoop()
            group.cancelAll()
        }
    }

    /// Returns once `run()` has started (or the driver stopped): requests made after it are served.
    public func waitUntilRunning() async {
        guard case .idle = state else { return }
        await withCheckedContinuation { runWaiters.append($0) }
    }

    /// Stops the loops. Waiting proposals fail with `.outcomeUnknown(.stopped)` (they may still commit
    /// elsewhere), waiting reads with `.stopped`.
    public func stop() {
        guard case .running = state else {
            state = .stopped
            return
        }
        state = .stopped
        wakeupContinuation.finish()
        failEverything()
        for waiter in runWaiters { waiter.resume() }
        runWaiters = []
    }

    /// Proposes `command` and returns the state machine's result once it is committed and applied here.
    ///
    /// Definite refusals (the command was not appended and never commits): `.notLeader`, `.refused`,
    /// `.stopped`, and `.proposalDropped` (another entry committed at its index, possibly after a change of
    /// leader). Unknown outcomes (appended, not known committed; a retry must be idempotent): `.outcomeUnknown`
    /// when `timeout` (default `DriverOptions.proposalTimeout`) passes (`.timedOut` while this node still leads
    /// the proposal's term, `.leadershipLost` once it does not), at a stop, or when the entry was applied here
    /// through a snapshot so its result is not available.
    public func propose(_ command: [UInt8], timeout: Duration? = nil) async throws(DriverError) -> [UInt8] {
        guard case .running = state else { throw .stopped }
        let deadline = Instant.now + (timeout ?? options.proposalTimeout)
        let position: (index: UInt64, term: UInt64)
        do throws(ProposeError) {
            position = try node.propose(command)
        } catch {
            throw Self.map(error)
        }
        wake()
        return try await awaitProposal(at: position, deadline: deadline)
    }

    private func awaitProposal(at position: (index: UInt64, term: UInt64), deadline: Instant) async throws(DriverError) -> [UInt8] {
        let result = await withCheckedContinuation { continuation in
            if let overwritten = proposals[position.index] {
                // This leader appended at an index its log no longer held: the older entry there was truncated,
                // and a leader's log holds every committed entry, so the older one never commits.
                precondition(overwritten.term < position.term, "two proposals at \(position.index) in term \(position.term)")
                overwritten.continuation.resume(returning: .failure(.proposalDropped))
            }
            proposals[position.index] = PendingProposal(term: position.term, deadline: deadline, continuation: continuation)
            noteDeadline(deadline)
        }
        return try result.get()
    }

    /// Adds `id` as a learner listening at `address`, and returns once the change is committed and applied
    /// here. The address travels in the `.confChange` entry (`ConfState.addresses`), so every member, and the new
    /// node itself, learns it; each driver hands the new membership to its transport. Start the new node in join
    /// mode (`RaftServerConfiguration.join`) before or after this call. Errors as for `propose` (a second change
    /// while one is uncommitted is refused: `.refused(.confChangeInProgress)`).
    public func addLearner(_ id: NodeID, address: PeerAddress, timeout: Duration? = nil) async throws(DriverError) {
        try await changeMembership(.addLearner(id), address: address.description, timeout: timeout)
    }

    /// Makes the learner `id` a voter once its log is close to the leader's (else `.refused(.learnerNotCaughtUp)`:
    /// retry later). Returns once the change is committed and applied here.
    public func promote(_ id: NodeID, timeout: Duration? = nil) async throws(DriverError) {
        try await changeMembership(.promoteLearner(id), address: nil, timeout: timeout)
    }

    /// Removes the voter or learner `id` (not the leader itself: transfer leadership first). Returns once the
    /// change is committed and applied here.
    public func remove(_ id: NodeID, timeout: Duration? = nil) async throws(DriverError) {
        try await changeMembership(.removeNode(id), address: nil, timeout: timeout)
    }

    /// Hands leadership to the voter `target` and returns once this node sees `target` lead. Fails with
    /// `.notLeader` if this node does not lead or another node took over, `.refused` for a bad target,
    /// `.timedOut` after `timeout` (default `DriverOptions.proposalTimeout`; the core gives up after an election
    /// timeout and this node keeps leading).
    public func transferLeadership(to target: NodeID, timeout: Duration? = nil) async throws(DriverError) {
        guard case .running = state else { throw .stopped }
        let deadline = Instant.now + (timeout ?? options.proposalTimeout)
        do throws(ProposeError) {
            try node.transferLeadership(to: target)
        } catch {
            throw Self.map(error)
        }
        wake()
        let result = await withCheckedContinuation { continuation in
            transfers.append(PendingTransfer(target: target, deadline: deadline, continuation: continuation))
            noteDeadline(deadline)
        }
        try result.get()
    }

    /// The membership in force on this node (appended changes included), with the members' addresses.
    public var membership: ConfState { node.confState }

    /// Where member `id` listens, as the membership records it (nil if it records none): with the hint of
    /// `DriverError.notLeader`, a usable redirect to the leader.
    public func address(of id: NodeID) -> PeerAddress? {
        node.confState.addresses[id].flatMap { PeerAddress(parsing: $0) }
    }

    private func changeMembership(_ change: ConfChange, address: String?, timeout: Duration?) async throws(DriverError) {
        guard case .running = state else { throw .stopped }
        let deadline = Instant.now + (timeout ?? options.proposalTimeout)
        let position: (index: UInt64, term: UInt64)
        do throws(ProposeError) {
            position = try node.proposeConfChange(change, address: address)
        } catch {
            throw Self.map(error)
        }
        announceMembershipIfChanged()
        wake()
        _ = try await awaitProposal(at: position, deadline: deadline)
    }

    /// Hands the membership to the transport when it differs from the last one handed over.
    private func announceMembershipIfChanged() {
        let current = node.confState
        guard current != announcedMembership else { return }
        announcedMembership = current
        transport.membershipChanged(current)
    }

    /// The first half of a linearizable read: confirms leadership with a ReadIndex round (on a follower, through
    /// the leader) and returns the read index. Serve the read from the state machine once this node's applied
    /// index reaches it (`waitApplied`). Fails with `.notLeader` when no leader is known or leadership changes
    /// before the round completes, `.timedOut` after `timeout` (default `DriverOptions.readTimeout`), `.stopped`.
    public func readIndex(timeout: Duration? = nil) async throws(DriverError) -> UInt64 {
        try await readIndex(deadline: Instant.now + (timeout ?? options.readTimeout))
    }

    /// The second half of a linearizable read: returns once this node has applied `index` (at once if it has).
    /// Fails with `.timedOut` after `timeout` (default `DriverOptions.readTimeout`) or `.stopped`.
    public func waitApplied(_ index: UInt64, timeout: Duration? = nil) async throws(DriverError) {
        try await waitApplied(index, deadline: Instant.now + (timeout ?? options.readTimeout))
    }

    /// A linearizable read in one call: `readIndex`, `waitApplied`, then `body` on the state machine (on this
    /// actor, so only for machines whose reads are cheap and thread-safe; a database-backed machine runs its
    /// query on its own thread after `readIndex` and `waitApplied`). `timeout` bounds the whole read (default
    /// `DriverOptions.readTimeout`).
    public func read<T: Sendable>(timeout: Duration? = nil, _ body: @Sendable (Machine) -> T) async throws(DriverError) -> T {
        let deadline = Instant.now + (timeout ?? options.readTimeout)
        let index = try await readIndex(deadline: deadline)
        try await waitApplied(index, deadline: deadline)
        guard case .running = state else { throw .stopped }
        return body(machine)
    }

    private func readIndex(deadline: Instant) async throws(DriverError) -> UInt64 {
        guard case .running = state else { throw .stopped }
        let context = readContexts.next()
        do throws(ProposeError) {
            try node.readIndex(context: context)
        } catch {
            throw Self.map(error)
        }
        wake()
        let result = await withCheckedContinuation { continuation in
            precondition(readsAwaitingIndex[context] == nil, "read context \(context) reused")
            readsAwaitingIndex[context] = PendingReadIndex(deadline: deadline, continuation: continuation)
            noteDeadline(deadline)
        }
        return try result.get()
    }

    private func waitApplied(_ index: UInt64, deadline: Instant) async throws(DriverError) {
        guard case .running = state else { throw .stopped }
        if appliedIndex >= index { return }
        let result = await withCheckedContinuation { continuation in
            waitingForApply.append(PendingApply(index: index, deadline: deadline, continuation: continuation))
            noteDeadline(deadline)
        }
        try result.get()
    }

    private func noteDeadline(_ deadline: Instant) {
        if let earliest = earliestDeadline, earliest <= deadline { return }
        earliestDeadline = deadline
    }

    /// Fails every request whose deadline passed; called on each tick.
    private func expireDeadlines(now: Instant) {
        guard let earliest = earliestDeadline, earliest <= now else { return }
        var next: Instant?
        func keep(_ deadline: Instant) { if next == nil || deadline < next! { next = deadline } }
        for index in proposals.keys.sorted() {
            let pending = proposals[index]!
            if pending.deadline <= now {
                proposals.removeValue(forKey: index)
                let leading = node.role == .leader && node.term == pending.term
                pending.continuation.resume(returning: .failure(.outcomeUnknown(leading ? .timedOut : .leadershipLost)))
            } else {
                keep(pending.deadline)
            }
        }
        for context in readsAwaitingIndex.keys.sorted() {
            let pending = readsAwaitingIndex[context]!
            if pending.deadline <= now {
                readsAwaitingIndex.removeValue(forKey: context)
                pending.continuation.resume(returning: .failure(.timedOut))
            } else {
                keep(pending.deadline)
            }
        }
        var still: [PendingApply] = []
        for pending in waitingForApply {
            if pending.deadline <= now {
                pending.continuation.resume(returning: .failure(.timedOut))
            } else {
                keep(pending.deadline)
                still.append(pending)
            }
        }
        waitingForApply = still
        var waitingTransfers: [PendingTransfer] = []
        for transfer in transfers {
            if transfer.deadline <= now {
                transfer.continuation.resume(returning: .failure(.timedOut))
            } else {
                keep(transfer.deadline)
                waitingTransfers.append(transfer)
            }
        }
        transfers = waitingTransfers
        earliestDeadline = next
    }

    private static func map(_ error: ProposeError) -> DriverError {
        if case .notLeader(let hint) = error { return .notLeader(leaderHint: hint) }
        return .refused(error)
    }

    // MARK: - Loops

    private func tick() -> Bool {
        guard case .running = state else { return false }
        node.tick()
        expireDeadlines(now: .now)
        wake()
        return true
    }

    private func step(_ message: Message) -> Bool {
        guard case .running = state else { return false }
        guard message.to == node.id else {
            counters.misaddressedMessages += 1
            logDrop(counters.misaddressedMessages, "dropped a message addressed to another node",
                ["from": "\(message.from)", "to": "\(message.to)"])
            return true
        }
        do throws(StepError) {
            try node.step(message)
        } catch {
            counters.refusedMessages += 1
            logDrop(counters.refusedMessages, "dropped a message the core refused", ["error": "\(error)"])
        }
        wake()
        return true
    }

    private func dropUndecodable(from peer: UInt64, _ error: CodecError) -> Bool {
        guard case .running = state else { return false }
        counters.undecodableFrames += 1
        logDrop(counters.undecodableFrames, "dropped an undecodable frame", ["from": "\(peer)", "error": "\(error)"])
        return true
    }

    /// Logs the `count`th drop of a kind at warning when `count` is a power of two, else at debug.
    private func logDrop(_ count: Int, _ message: String, _ metadata: Logger.Metadata) {
        var metadata = metadata
        metadata["count"] = "\(count)"
        let level: Logger.Level = count & (count - 1) == 0 ? .warning : .debug
        logger.log(level: level, "\(message)", metadata: metadata)
    }

    private func wake() {
        wakeupContinuation.yield()
    }

    private func readyLoop() async {
        for await _ in wakeups {
            while case .running = state, let ready = node.ready() {
                do {
                    try await handle(ready)
                } catch {
                    // A failed fsync leaves the disk in an unknown state, and a machine that failed to apply cannot
                    // skip the entries: stop; a restart recovers from the WAL and the machine's durable state.
                    logger.critical("raft driver stopping", metadata: ["error": "\(error)"])
                    stop()
                    return
                }
            }
            if case .stopped = state { return }
        }
    }

    private func handle(_ incoming: Ready) async throws {
        let ready = try await savingSnapshot(of: incoming)
        let transport = self.transport
        let sendMessage: (Message) -> Void = { message in
            var bytes: [UInt8] = []
            message.encode(into: &bytes)
            transport.send(bytes, to: message.to)
        }
        if let observer = options.observer {
            for message in ready.messages { if case .snapshotChunk = message.kind { observer.snapshotChunkSent() } }
        }
        ReadyHandler.sendEarly(ready, send: sendMessage)
        let durableLastIndex = storage.lastIndex()
        let records = ReadyHandler.stage(ready, into: storage)
        let overlap = !records.isEmpty && ReadyHandler.canApplyDuringAppend(ready, durableLastIndex: durableLastIndex)
        let delivery: ReadyHandler.Delivery
        if overlap {
            // The committed entries are already on disk (an earlier Ready's append): apply them on the machine's
            // thread while this Ready's records are fsynced, and answer their proposals and reads as soon as
            // they are applied. A single voter's write then waits for one fsync, not for the next one too.
            let planned = ReadyHandler.plan(ready, appliedIndex: appliedIndex)
            async let appended: Void = appendObserved(records, sync: ready.mustSync)
            let applied: ReadyHandler.Delivery
            do {
                applied = try await applyObserved(planned)
            } catch {
                try? await appended
                throw error
            }
            if case .running = state { noteApplied(applied) }
            try await appended
            guard case .running = state else { return }
            ReadyHandler.sendLate(ready, send: sendMessage)
            node.advance(ready)
            announceMembershipIfChanged()
            settle(applied, ready: ready)
        } else {
            if !records.isEmpty { try await appendObserved(records, sync: ready.mustSync) }
            // Re-check after the await: `stop()` may have run.
            guard case .running = state else { return }
            let planned = ReadyHandler.deliver(ready, appliedIndex: appliedIndex, send: sendMessage)
            let delivery = try await applyObserved(planned)
            guard case .running = state else { return }
            noteApplied(delivery)
            node.advance(ready)
            announceMembershipIfChanged()
            settle(delivery, ready: ready)
        }
        try await compactIfNeeded()
    }

    /// Step 1 for a received snapshot (assembled in a staging file): it becomes durable in the snapshot store,
    /// and from here on the core and the machine see the stored file.
    private func savingSnapshot(of ready: Ready) async throws -> Ready {
        guard let snapshot = ready.snapshot else { return ready }
        var metadata: [UInt8] = []
        snapshot.metadata.encode(into: &metadata)
        let stored = try await snapshots.save(index: snapshot.metadata.index, metadata: metadata, payload: snapshot.payload)
        var saved = ready
        saved.snapshot = Snapshot(metadata: snapshot.metadata, payload: stored.file)
        return saved
    }

    /// Takes `delivery` as applied: the applied index and membership move, and the proposals it committed and
    /// the reads waiting for its index are answered. Called once per delivery, before `settle`.
    private func noteApplied(_ delivery: ReadyHandler.Delivery) {
        precondition(delivery.appliedIndex >= appliedIndex, "applied went back: \(delivery.appliedIndex) < \(appliedIndex)")
        if delivery.restore != nil { appliedBytesInLog = 0 }
        appliedBytesInLog += delivery.entries.reduce(0) { $0 + $1.data.count }
        appliedIndex = delivery.appliedIndex
        if let confState = delivery.confState { appliedConfState = confState }
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
        if !waitingForApply.isEmpty {
            let applied = appliedIndex
            let done = waitingForApply.filter { $0.index <= applied }
            waitingForApply.removeAll { $0.index <= applied }
            for waiting in done { waiting.continuation.resume(returning: .success(())) }
        }
    }

    private nonisolated func appendObserved(_ records: [WALRecord], sync: Bool) async throws {
        let started = ContinuousClock.now
        try await wal.append(records, sync: sync)
        options.observer?.walAppended(records: records.count, synced: sync, duration: ContinuousClock.now - started)
    }

    /// Restores and applies `planned` on the machine; a throw becomes the `MachineFailure` that stops the node.
    private nonisolated func applyObserved(_ planned: ReadyHandler.Delivery) async throws -> ReadyHandler.Delivery {
        do {
            let started = ContinuousClock.now
            let delivery = try await ReadyHandler.apply(planned, to: machine)
            if !planned.entries.isEmpty {
                options.observer?.applied(entries: planned.entries.count, duration: ContinuousClock.now - started)
            }
            return delivery
        } catch {
            throw MachineFailure(description: "state machine failed at \(planned.previousAppliedIndex + 1)...\(planned.appliedIndex): \(error)")
        }
    }

    /// After `noteApplied` and `RaftNode.advance`: answers proposals passed by a snapshot, and reads whose index
    /// is now confirmed. A proposal outlives a change of leader: its entry then either commits (the result)
    /// or is replaced by another entry that commits (`.proposalDropped`), which this node learns as a follower;
    /// only if neither happens before the deadline is the outcome unknown.
    private func settle(_ delivery: ReadyHandler.Delivery, ready: Ready) {
        if let snapshot = ready.snapshot, !proposals.isEmpty {
            // Entries the snapshot covers are never handed to `deliver`: their results are gone.
            for index in proposals.keys.sorted() where index <= snapshot.metadata.index {
                proposals.removeValue(forKey: index)!.continuation.resume(returning: .failure(.outcomeUnknown(.appliedThroughSnapshot)))
            }
        }
        for readState in ready.readStates {
            guard let waiting = readsAwaitingIndex.removeValue(forKey: readState.context) else { continue }
            waiting.continuation.resume(returning: .success(readState.index))
        }
        if let soft = ready.softState, soft.role != .leader {
            // Reads not yet confirmed by a quorum round will not be: answer them now.
            let hint = soft.leaderID == 0 ? nil : soft.leaderID
            for context in readsAwaitingIndex.keys.sorted() {
                readsAwaitingIndex.removeValue(forKey: context)!.continuation.resume(returning: .failure(.notLeader(leaderHint: hint)))
            }
        }
        if let soft = ready.softState, soft.leaderID != 0, soft.leaderID != node.id, !transfers.isEmpty {
            for transfer in transfers {
                let outcome: Result<Void, DriverError> =
                    soft.leaderID == transfer.target ? .success(()) : .failure(.notLeader(leaderHint: soft.leaderID))
                transfer.continuation.resume(returning: outcome)
            }
            transfers.removeAll()
        }
    }

    private func compactIfNeeded() async throws {
        let first = storage.firstIndex()
        guard appliedIndex >= first,
              appliedIndex - first + 1 >= options.compactEveryEntries || appliedBytesInLog >= options.compactEveryBytes
        else { return }
        let index = appliedIndex
        let staging = snapshots.stagingPath(index: index)
        do {
            try await machine.writeSnapshot(to: staging)
        } catch {
            throw MachineFailure(description: "state machine failed to write its snapshot at \(index): \(error)")
        }
        let written = try await snapshots.open(staging)
        let confState = appliedConfState
        let term: UInt64
        do throws(LogStorageError) {
            term = try storage.term(at: index)
        } catch {
            // `index` is applied, so committed and in the log: the in-memory store cannot lack it.
            preconditionFailure("no term for applied index \(index) (log \(first)...\(storage.lastIndex())): \(error)")
        }
        let metadata = SnapshotMetadata(index: index, term: term, confState: confState)
        var metadataBytes: [UInt8] = []
        metadata.encode(into: &metadataBytes)
        let stored = try await snapshots.save(index: index, metadata: metadataBytes, payload: written)
        storage.compact(snapshotAt: index, confState: confState, payload: stored.file)
        appliedBytesInLog = 0
        try await wal.append([.compact(throughIndex: index, payload: metadataBytes)])
    }

    private func failEverything() {
        for index in proposals.keys.sorted() {
            proposals.removeValue(forKey: index)!.continuation.resume(returning: .failure(.outcomeUnknown(.stopped)))
        }
        for context in readsAwaitingIndex.keys.sorted() {
            readsAwaitingIndex.removeValue(forKey: context)!.continuation.resume(returning: .failure(.stopped))
        }
        for waiting in waitingForApply { waiting.continuation.resume(returning: .failure(.stopped)) }
        waitingForApply.removeAll()
        for transfer in transfers { transfer.continuation.resume(returning: .failure(.stopped)) }
        transfers.removeAll()
        earliestDeadline = nil
    }
}

/// The state machine threw from `apply`, `restore` or `snapshot`: the driver stops (see `ReplicatedStateMachine`).
struct MachineFailure: Error, CustomStringConvertible {
    var description: String
}

/// Receives the driver's timings, for metrics. Called on the driver's actor: implementations only record.
public protocol DriverObserver: Sendable {
    /// One WAL append of `records` records took `duration` (with its fsync when `synced`).
    func walAppended(records: Int, synced: Bool, duration: Duration)
    /// The state machine applied `entries` commands in `duration`.
    func applied(entries: Int, duration: Duration)
    /// A chunk of a snapshot went to a follower that fell behind the compacted log.
    func snapshotChunkSent()
}

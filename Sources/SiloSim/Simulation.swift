import MetaQuorum
public import RaftKit

/// The outcome of one simulated run.
public struct SimReport: Sendable {
    /// The run's seed: `silo-sim --seed <seed>` replays it exactly.
    public var seed: UInt64
    /// The first violated property, or nil if the run passed.
    public var failure: String?
    /// One line describing the run (configuration and counts); identical across replays.
    public var summary: String
    /// The event trace (only with `verbose`).
    public var trace: [String]
    /// The KV workload's history.
    public var history: SimHistory

    public var passed: Bool { failure == nil }
}

struct SimFailure: Error {
    let message: String
}

struct SimClient {
    struct PendingOp {
        var opID: UInt64
        var operation: KVOperation
        var node: NodeID
        var deadline: Int
        /// Reads: the confirmed read index, once known.
        var readIndex: UInt64?
        /// Reads: the highest commit index any node knew when the read was invoked.
        var minIndex: UInt64
        /// Reads: the context given to `readIndex` (from the node's `ReadContexts`).
        var readContext: UInt64 = 0
        /// Writes: the proposed bytes, proposed again unchanged by a retry (`meta` workload).
        var proposal: [UInt8] = []
        /// Writes: whether the op was proposed a second time after its first deadline.
        var retried = false
    }

    var process: Int
    var pending: PendingOp?
}

/// A deterministic simulation of a RaftKit group: one thread, simulated ticks, a faulty network and disks,
/// a nemesis, a KV workload, and checkers run after every tick. See `run(seed:overrides:)`.
public final class Simulation {
    let seed: UInt64
    let options: SimOptions
    let verbose: Bool
    let metaFaults: MetaFaults
    var random: SimRandom
    var nodes: [SimNode] = []
    var network: SimNetwork
    var now = 0
    var trace: [String] = []
    var history = SimHistory()
    var clients: [SimClient] = []
    var nextOpID: UInt64 = 0
    var lastValue: [UInt64]
    var knownLeader: NodeID = 0
    var inLiveness = false
    var okWritesInLiveness = 0

    // Nemesis state.
    var partitionCut: [[Bool]]
    var clogCut: [[Bool]]
    var partitionEndsAt: Int?
    var clogSchedule: [(at: Int, from: Int, to: Int, clog: Bool)] = []
    /// Leaders to crash at a tick if they still lead that term.
    var scheduledCrashes: [(at: Int, node: NodeID, term: UInt64)] = []

    // Checker state.
    var leaderOfTerm: [UInt64: NodeID] = [:]
    /// Terms of committed entries by index (index 0 unused).
    var committedTerms: [UInt64] = [0]
    /// Fingerprints of applied entries by index (0: not yet applied anywhere).
    var appliedFingerprints: [UInt64] = [0]
    var entryRegistry: [EntryKey: (fingerprint: UInt64, previousTerm: UInt64)] = [:]
    var votesGranted: [VoteKey: NodeID] = [:]
    var maxCommitSeen: UInt64 = 0
    /// Every write that took effect: op id → (tick of its first apply anywhere, whether it succeeded).
    var appliedOps: [UInt64: (tick: Int, ok: Bool)] = [:]
    /// Every write proposed: op id → operation (what a `meta` entry's command id stands for).
    var operations: [UInt64: KVOperation] = [:]
    /// `meta`: whether the bucket's creation has been applied anywhere (until then it is proposed again).
    var bucketCreated = false
    /// `meta`: writes proposed a second time with the same bytes after an unknown outcome.
    var retries = 0

    // Counters for the summary.
    var crashes = 0
    var lostWrites = 0
    var partitions = 0
    var membershipChanges = 0
    var transfers = 0
    var snapshotsInstalled = 0
    var elections = 0
    /// Messages a leader sent before its own fsync of the same Ready (`Ready.earlyMessageCount`).
    var earlyMessages = 0
    /// Readys whose fsync took at least one tick (the node stepped messages meanwhile).
    var fsyncsAwaited = 0

    struct EntryKey: Hashable {
        var index: UInt64
        var term: UInt64
    }

    struct VoteKey: Hashable {
        var voter: NodeID
        var term: UInt64
    }

    /// Runs the simulation for `seed` and reports; never traps on a checker violation (a core precondition
    /// failure still stops the process, as it would in production).
    public static func run(seed: UInt64, overrides: SimOverrides = SimOverrides()) -> SimReport {
        let simulation = Simulation(seed: seed, overrides: overrides)
        return simulation.run()
    }

    init(seed: UInt64, overrides: SimOverrides) {
        self.seed = seed
        self.options = SimOptions(seed: seed, overrides: overrides)
        self.verbose = overrides.verbose
        self.metaFaults = overrides.metaFaults
        self.random = SimRandom(seed: seed)
        let slots = options.voters + options.spareNodes
        self.network = SimNetwork(slots: slots)
        self.partitionCut = Array(repeating: Array(repeating: false, count: slots), count: slots)
        self.clogCut = partitionCut
        self.lastValue = Array(repeating: 0, count: options.keys)
        network.dropProbability = options.dropProbability
        network.duplicateProbability = options.duplicateProbability
        network.delayTicksMax = options.delayTicksMax
        let bootstrap = ConfState(voters: (1...UInt64(options.voters)).map { $0 })
        for slot in 0..<slots {
            let id = NodeID(slot + 1)
            nodes.append(SimNode(id: id, confState: slot < options.voters ? bootstrap : ConfState(), keys: options.keys))
        }
        clients = (0..<options.clients).map { SimClient(process: $0, pending: nil) }
    }

    func log(_ text: @autoclosure () -> String) {
        if verbose { trace.append("[\(now)] \(text())") }
    }

    func node(_ id: NodeID) -> SimNode { nodes[Int(id) - 1] }

    func run() -> SimReport {
        var failure: String?
        do {
            for node in nodes.prefix(options.voters) { try start(node) }
            while now < options.safetyTicks {
                now += 1
                try nemesis()
                try step()
            }
            try liveness()
            try checkReplicasAgree()
            try checkLinearizability()
        } catch let error as SimFailure {
            failure = error.message
        } catch {
            failure = "unexpected error: \(error)"
        }
        return SimReport(seed: seed, failure: failure, summary: summary(failure: failure), trace: trace,
            history: history)
    }

    func summary(failure: String?) -> String {
        var counts = [0, 0, 0]
        for event in history.events {
            switch event.type {
            case .ok: counts[0] += 1
            case .fail: counts[1] += 1
            case .info: counts[2] += 1
            case .invoke: break
            }
        }
        var s = "seed=\(seed) \(options) | ticks=\(now) commit=\(maxCommitSeen) elections=\(elections)"
        s += " ops=\(counts[0])ok/\(counts[1])fail/\(counts[2])info crashes=\(crashes) lost-writes=\(lostWrites)"
        s += " partitions=\(partitions) conf-changes=\(membershipChanges) transfers=\(transfers)"
        if options.workload == .meta { s += " retries=\(retries)" }
        s += " snapshots=\(snapshotsInstalled) messages=\(network.sent) early=\(earlyMessages) slow-fsyncs=\(fsyncsAwaited)"
        s += failure == nil ? " PASS" : " FAIL"
        return s
    }

    // MARK: One tick

    func step() throws {
        for node in nodes where node.isUp { node.raft!.tick() }
        while let message = network.popDue(now: now) {
            let target = node(message.to)
            guard target.isUp else { continue }
            do {
                try target.raft!.step(message)
            } catch {
                throw SimFailure(message: "node \(message.to) refused \(message): \(error)")
            }
        }
        issueClientOps()
        for node in nodes where node.isUp { try processReady(node) }
        try expireClientOps()
        try checkInvariants()
    }

    // MARK: Node lifecycle

    func makeConfig(_ id: NodeID) -> Config {
        var config = Config(id: id, randomSeed: seed &+ id &* 0x2545_F491_4F6C_DD1D)
        config.electionTimeoutTicks = options.electionTimeoutTicks
        config.heartbeatIntervalTicks = options.heartbeatIntervalTicks
        config.preVote = options.preVote
        config.checkQuorum = options.checkQuorum
        config.appendEntriesMax = options.appendEntriesMax
        config.inflightAppendsMax = options.inflightAppendsMax
        config.snapshotChunkBytes = options.snapshotChunkBytes
        config.faults = options.faults
        return config
    }

    func start(_ node: SimNode) throws {
        let state = node.disk.current
        node.machine = try makeMachine(snapshot: try state.snapshot.payload.readAll(), at: state.snapshot.metadata.index)
        node.applied = state.snapshot.metadata.index
        node.appliedConf = state.snapshot.metadata.confState
        var config = makeConfig(node.id)
        config.applied = node.applied
        do {
            node.raft = try RaftNode(config: config, storage: node.disk)
        } catch {
            throw SimFailure(message: "node \(node.id) failed to start: \(error)")
        }
        node.status = .up
        node.lives += 1
        // As the driver does with the system generator: a fresh random start per life. Derived from the seed
        // without drawing from `random`, so the rest of the run does not depend on it.
        var contextSource = SplitMix64(seed: seed ^ (node.id << 48) ^ UInt64(node.lives) ^ 0xC0_47E7)
        node.readContexts = ReadContexts(start: contextSource.next(), faults: options.faults)
        node.lastCommit = node.raft!.commitIndex
        node.leaderTerm = 0
        let raft = node.raft!
        if raft.term < node.maxTermSent {
            throw SimFailure(message: "durability: node \(node.id) restarted at term \(raft.term) after sending term \(node.maxTermSent)")
        }
        if let granted = votesGranted[VoteKey(voter: node.id, term: raft.term)], raft.vote != granted {
            throw SimFailure(message: "durability: node \(node.id) voted for \(granted) in term \(raft.term) but restarted with vote \(raft.vote)")
        }
        log("start node \(node.id) life \(node.lives) term=\(raft.term) vote=\(raft.vote) commit=\(raft.commitIndex) last=\(raft.lastIndex)")
    }

    func crash(_ node: SimNode, duringReady: Bool) throws {
        lostWrites += node.disk.crash(random: &random, tearProbability: options.tearProbability)
        node.raft = nil
        node.inflight = nil
        crashes += 1
        if random.chance(0.5) { network.purge(from: node.id) }
        let restartAt = now + random.int(0...options.restartDelayTicksMax)
        node.status = .down(restartAt: inLiveness ? now : restartAt)
        log("crash node \(node.id)\(duringReady ? " during ready" : "") restart at \(restartAt)")
        let state = node.disk.current
        if node.ackedIndex > state.snapshot.metadata.index, state.term(at: node.ackedIndex) != node.ackedTerm {
            throw SimFailure(message: "durability: node \(node.id) acknowledged entry \(node.ackedTerm)/\(node.ackedIndex) but lost it in a crash")
        }
        if state.hardState.term < node.maxTermSent {
            throw SimFailure(message: "durability: node \(node.id) sent term \(node.maxTermSent) but persisted only \(state.hardState.term)")
        }
        for (index, client) in clients.enumerated() {
            guard var op = client.pending, op.node == node.id else { continue }
            if options.workload == .meta, !op.proposal.isEmpty, !op.retried {
                node.proposals[op.opID] = nil
                if retryWrite(&op, client: index) { continue }
            }
            finishClientOp(index, op, outcome: op.operation.name == "get" ? .fail : .info, values: [])
        }
        node.proposals = [:]
        node.reads = [:]
    }

    // MARK: Ready

    /// Performs the node's Readys as the driver does: early messages, writes, then (after the fsync, which may
    /// take `fsyncDelayTicksMax` ticks, the node stepping messages and proposals meanwhile, as the driver does
    /// while it awaits the WAL) the other messages, apply, `advance`.
    func processReady(_ node: SimNode) throws {
        var rounds = 0
        while node.isUp {
            if let (ready, due) = node.inflight {
                guard due <= now else { break }
                node.inflight = nil
                try finishReady(ready, at: node)
                continue
            }
            guard let ready = node.raft!.ready() else { break }
            rounds += 1
            if rounds > 16 { throw SimFailure(message: "node \(node.id) produced more than 16 Readys in one tick") }
            try observeCommit(node)
            // As the driver does (ReadyHandler.sendEarly): a leader's appends leave before its own fsync.
            for message in ready.messages.prefix(ready.earlyMessageCount) {
                earlyMessages += 1
                try send(message, from: node)
            }
            try persist(ready, at: node)
            if !node.isUp { return }
            let delay = options.fsyncDelayTicksMax == 0 ? 0 : random.int(0...options.fsyncDelayTicksMax)
            if delay == 0 {
                try finishReady(ready, at: node)
            } else {
                node.inflight = (ready, now + delay)
                fsyncsAwaited += 1
                break
            }
        }
        try completeReads(at: node)
        if node.isUp && node.inflight == nil { compactIfNeeded(node) }
    }

    /// The part of a Ready after its writes: fsync, the messages that waited for it, apply, `advance`.
    func finishReady(_ ready: Ready, at node: SimNode) throws {
        if ready.mustSync { node.disk.fsync() }
        for message in ready.messages.dropFirst(ready.earlyMessageCount) { try send(message, from: node) }
        try apply(ready, at: node)
        node.raft!.advance(ready)
        if let soft = ready.softState {
            log("node \(node.id) \(soft.role) term=\(node.raft!.term) leader=\(soft.leaderID)")
            if soft.role == .leader {
                elections += 1
                knownLeader = node.id
                if !inLiveness && random.chance(options.newLeaderCrashProbability) {
                    scheduledCrashes.append((now + random.int(0...3), node.id, node.raft!.term))
                }
            }
        }
    }

    func persist(_ ready: Ready, at node: SimNode) throws {
        var ops: [DiskOp] = []
        if let snapshot = ready.snapshot { ops.append(.snapshot(snapshot)) }
        if !ready.entries.isEmpty { ops.append(.append(ready.entries)) }
        if let hard = ready.hardState { ops.append(.hardState(hard)) }
        try registerEntries(ready.entries, at: node)
        if let first = ready.entries.first, first.index <= node.ackedIndex {
            node.ackedIndex = first.index - 1
            node.ackedTerm = node.raft!.term(at: first.index - 1) ?? 0
        }
        if ready.snapshot != nil { node.ackedIndex = 0 }
        if !inLiveness && !ops.isEmpty && random.chance(options.crashDuringReadyProbability) {
            for op in ops.prefix(random.int(0...ops.count)) { node.disk.write(op) }
            try crash(node, duringReady: true)
            return
        }
        for op in ops { node.disk.write(op) }
    }

    func send(_ message: Message, from node: SimNode) throws {
        switch message.kind {
        case .voteRequest(preVote: true, _, _, _), .voteResponse(preVote: true, granted: true):
            break  // carries a term the sender has not adopted
        default:
            node.maxTermSent = max(node.maxTermSent, message.term)
        }
        switch message.kind {
        case .voteResponse(preVote: false, granted: true):
            let key = VoteKey(voter: node.id, term: message.term)
            if let earlier = votesGranted[key], earlier != message.to {
                throw SimFailure(message: "durability: node \(node.id) voted for \(earlier) and \(message.to) in term \(message.term)")
            }
            votesGranted[key] = message.to
        case .appendAccepted(let matchIndex) where matchIndex > 0 && message.term == node.raft!.term:
            if let t = node.raft!.term(at: matchIndex), matchIndex >= node.ackedIndex {
                node.ackedIndex = matchIndex
                node.ackedTerm = t
            }
        default:
            break
        }
        network.send(message, now: now, random: &random)
    }

    func apply(_ ready: Ready, at node: SimNode) throws {
        let raft = node.raft!
        if let snapshot = ready.snapshot {
            let meta = snapshot.metadata
            if meta.index < committedTerms.count, committedTerms[Int(meta.index)] != meta.term {
                throw SimFailure(message: "state machine safety: node \(node.id) installed snapshot \(meta.term)/\(meta.index) but committed term there is \(committedTerms[Int(meta.index)])")
            }
            node.machine = try makeMachine(snapshot: try snapshot.payload.readAll(), at: meta.index)
            node.applied = meta.index
            node.appliedConf = meta.confState
            snapshotsInstalled += 1
            log("node \(node.id) installed snapshot \(meta.term)/\(meta.index)")
        }
        for entry in ready.committedEntries {
            guard entry.index == node.applied + 1 else {
                throw SimFailure(message: "apply order: node \(node.id) applied \(entry.index) after \(node.applied)")
            }
            guard entry.index <= raft.commitIndex else {
                throw SimFailure(message: "node \(node.id) applied \(entry.index) beyond commit \(raft.commitIndex)")
            }
            let print = fingerprint(entry.data, kind: entry.kind.rawValue) ^ entry.term
            let slot = Int(entry.index)
            while appliedFingerprints.count <= slot { appliedFingerprints.append(0) }
            let firstApply = appliedFingerprints[slot] == 0
            if firstApply {
                appliedFingerprints[slot] = print
            } else if appliedFingerprints[slot] != print {
                throw SimFailure(message: "state machine safety: node \(node.id) applied a different entry at \(entry.index) (term \(entry.term))")
            }
            node.applied = entry.index
            try applyEntry(entry, at: node, firstApply: firstApply)
        }
        for readState in ready.readStates {
            guard let (client, opID) = node.reads[readState.context], var op = clients[client].pending,
                op.opID == opID, op.readIndex == nil
            else { continue }
            op.readIndex = readState.index
            clients[client].pending = op
        }
    }

    func applyEntry(_ entry: Entry, at node: SimNode, firstApply: Bool) throws {
        switch entry.kind {
        case .confChange:
            guard let record = try? ConfChangeRecord(decoding: entry.data) else {
                throw SimFailure(message: "undecodable membership change at \(entry.index)")
            }
            node.appliedConf = record.confState
            try node.machine.skip(to: entry.index)
            if case .removeNode(let removed) = record.change, removed != node.id, self.node(removed).isUp {
                retire(self.node(removed))
            }
        case .normal:
            guard !entry.data.isEmpty else {
                try node.machine.skip(to: entry.index)
                return
            }
            guard let result = try node.machine.apply(entry.data, at: entry.index, operations: operations) else {
                bucketCreated = true
                return
            }
            // A retried write may be in the log twice: its first apply anywhere is when it took effect.
            if firstApply && appliedOps[result.opID] == nil { appliedOps[result.opID] = (now, result.ok) }
            if let client = node.proposals.removeValue(forKey: result.opID), let op = clients[client].pending,
                op.opID == result.opID
            {
                let values: [UInt64]
                switch op.operation {
                case .put(_, let value): values = [value]
                case .cas(_, let from, let to): values = [from, to]
                case .get: values = [result.value]
                }
                if result.ok { lastValue[op.operation.key] = result.value }
                if inLiveness && result.ok { okWritesInLiveness += 1 }
                finishClientOp(client, op, outcome: result.ok ? .ok : .fail, values: values)
            }
        }
    }

    func retire(_ node: SimNode) {
        log("retire node \(node.id)")
        for (index, client) in clients.enumerated() {
            guard let op = client.pending, op.node == node.id else { continue }
            finishClientOp(index, op, outcome: op.operation.name == "get" ? .fail : .info, values: [])
        }
        node.raft = nil
        node.inflight = nil
        node.status = .retired
    }

    func compactIfNeeded(_ node: SimNode) {
        guard node.isUp, node.applied >= node.disk.current.firstIndex,
            Int(node.applied - node.disk.current.firstIndex) + 1 > options.compactEveryEntries
        else { return }
        guard let image = try? node.machine.snapshot() else { return }  // retried at the next tick
        node.disk.write(.compact(index: node.applied, confState: node.appliedConf, data: image))
        node.disk.fsync()
    }

    func makeMachine(snapshot: [UInt8], at index: UInt64) throws -> any SimMachine {
        switch options.workload {
        case .kv:
            return KVMachine(snapshot: snapshot, keys: options.keys)
        case .meta:
            do {
                return try MetaMachineReplica(snapshot: snapshot, at: index, faults: metaFaults)
            } catch {
                throw SimFailure(message: "metadata replica failed to open at \(index): \(error)")
            }
        }
    }

    /// `meta`: until the bucket exists, its creation is proposed at the known leader every few ticks, under one
    /// command id (a gateway retrying CreateBucket); writes before it are refused NoSuchBucket.
    func proposeBucketCreationIfNeeded() {
        guard options.workload == .meta, !bucketCreated, now % 5 == 1, knownLeader != 0 else { return }
        let leader = node(knownLeader)
        guard leader.isUp else { return }
        try? leader.raft!.propose(MetaMachineReplica.createBucketProposal(time: now))
    }

    /// After the liveness phase: every member that applied the same index holds the same state.
    func checkReplicasAgree() throws {
        var byIndex: [UInt64: (node: NodeID, dump: [String])] = [:]
        for node in nodes where node.isUp {
            let dump: [String]
            do {
                dump = try node.machine.dump()
            } catch {
                throw SimFailure(message: "node \(node.id) could not dump its state: \(error)")
            }
            if let other = byIndex[node.applied] {
                if other.dump != dump {
                    let first = zip(other.dump, dump).first { $0 != $1 }.map { "\($0.0) vs \($0.1)" } ?? "lengths \(other.dump.count) vs \(dump.count)"
                    throw SimFailure(message: "replica divergence: nodes \(other.node) and \(node.id) applied \(node.applied) but differ: \(first)")
                }
            } else {
                byIndex[node.applied] = (node.id, dump)
            }
        }
    }

    // MARK: Clients

    func issueClientOps() {
        // In the liveness phase the load stops after the first acknowledged write, so the group can drain
        // (a saturated group with tiny flow-control windows would otherwise never be quiet).
        if inLiveness && okWritesInLiveness > 0 { return }
        proposeBucketCreationIfNeeded()
        for index in clients.indices where clients[index].pending == nil {
            guard random.chance(options.clientOpProbability) else { continue }
            let candidates = nodes.filter { $0.isUp }
            guard !candidates.isEmpty else { return }
            let target: SimNode
            if knownLeader != 0, node(knownLeader).isUp, random.chance(0.7) {
                target = node(knownLeader)
            } else {
                target = random.pick(candidates)
            }
            nextOpID += 1
            let opID = nextOpID
            let key = random.int(0...options.keys - 1)
            let deadline = now + options.opTimeoutTicks
            if random.chance(options.readFraction) {
                let context = target.readContexts.next()
                do {
                    try target.raft!.readIndex(context: context)
                } catch {
                    continue
                }
                let op = SimClient.PendingOp(opID: opID, operation: .get(key: key), node: target.id, deadline: deadline,
                    readIndex: nil, minIndex: maxCommitSeen, readContext: context)
                target.reads[context] = (index, opID)
                clients[index].pending = op
                history.record(.invoke, process: clients[index].process, function: "get", key: key, values: [],
                    time: now)
            } else {
                let operation: KVOperation =
                    // A cas needs a value to compare with (the register model has no "absent" for `from`).
                    random.chance(0.5) || lastValue[key] == 0
                    ? .put(key: key, value: opID) : .cas(key: key, from: lastValue[key], to: opID)
                let proposal = target.machine.proposal(for: KVCommand(opID: opID, operation: operation), time: now)
                do {
                    try target.raft!.propose(proposal)
                } catch {
                    continue
                }
                operations[opID] = operation
                let op = SimClient.PendingOp(opID: opID, operation: operation, node: target.id, deadline: deadline,
                    readIndex: nil, minIndex: 0, proposal: proposal)
                target.proposals[opID] = index
                clients[index].pending = op
                let values: [UInt64]
                switch operation {
                case .put(_, let value): values = [value]
                case .cas(_, let from, let to): values = [from, to]
                case .get: values = []
                }
                history.record(.invoke, process: clients[index].process, function: operation.name, key: key,
                    values: values, time: now)
            }
        }
    }

    func completeReads(at node: SimNode) throws {
        for index in clients.indices {
            guard let op = clients[index].pending, op.node == node.id, let readIndex = op.readIndex,
                node.applied >= readIndex
            else { continue }
            if readIndex < op.minIndex {
                throw SimFailure(message: "linearizable read: node \(node.id) served read \(op.opID) at index \(readIndex) but index \(op.minIndex) was committed before it was invoked")
            }
            node.reads[op.readContext] = nil
            let value: UInt64
            do {
                value = try node.machine.read(key: op.operation.key)
            } catch {
                throw SimFailure(message: "node \(node.id) failed to read k\(op.operation.key): \(error)")
            }
            finishClientOp(index, op, outcome: .ok, values: [value])
        }
    }

    /// `meta`: a write whose outcome is still unknown at its deadline is proposed again, with the same bytes
    /// (same command id), at another node, as a gateway retries after a leader change; the state machine must
    /// answer the second with the first's outcome (or apply it once). False when no node takes it.
    func retryWrite(_ op: inout SimClient.PendingOp, client: Int) -> Bool {
        let candidates = nodes.filter { $0.isUp && $0.id != op.node }
        guard !candidates.isEmpty else { return false }
        let target = knownLeader != 0 && node(knownLeader).isUp ? node(knownLeader) : random.pick(candidates)
        do {
            try target.raft!.propose(op.proposal)
        } catch {
            return false
        }
        op.node = target.id
        op.retried = true
        op.deadline = now + options.opTimeoutTicks
        target.proposals[op.opID] = client
        clients[client].pending = op
        retries += 1
        log("retry op \(op.opID) at node \(target.id)")
        return true
    }

    func finishClientOp(_ client: Int, _ op: SimClient.PendingOp, outcome: SimHistoryEvent.EventType, values: [UInt64]) {
        var recorded = values
        if recorded.isEmpty {
            switch op.operation {
            case .put(_, let value): recorded = [value]
            case .cas(_, let from, let to): recorded = [from, to]
            case .get: recorded = []
            }
        }
        history.record(outcome, process: clients[client].process, function: op.operation.name,
            key: op.operation.key, values: recorded, time: now)
        clients[client].pending = nil
        if outcome == .info { clients[client].process += clients.count }
    }

    func expireClientOps() throws {
        for index in clients.indices {
            guard var op = clients[index].pending, op.deadline <= now else { continue }
            let target = node(op.node)
            target.proposals[op.opID] = nil
            if op.readContext != 0 { target.reads[op.readContext] = nil }
            if options.workload == .meta, !op.proposal.isEmpty, !op.retried, retryWrite(&op, client: index) {
                continue
            }
            finishClientOp(index, op, outcome: op.operation.name == "get" ? .fail : .info, values: [])
        }
    }
}

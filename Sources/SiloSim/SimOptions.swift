public import MetaQuorum
public import RaftKit

/// What the command line may force; everything else is drawn from the seed.
public struct SimOverrides: Sendable {
    /// 3 or 5 voters at the start (nil: drawn from the seed).
    public var nodes: Int?
    /// Ticks in the safety phase (nil: the default).
    public var safetyTicks: Int?
    /// Deliberate core bugs to switch on (debug builds only).
    public var faults: FaultSwitches = []
    /// Print a trace of events.
    public var verbose = false
    /// The replicated state machine and its workload.
    public var workload: SimWorkload = .kv
    /// Deliberate metadata state machine bugs (`meta` workload, debug builds only).
    public var metaFaults: MetaFaults = []

    public init(nodes: Int? = nil, safetyTicks: Int? = nil, faults: FaultSwitches = [], verbose: Bool = false,
                workload: SimWorkload = .kv) {
        self.nodes = nodes
        self.safetyTicks = safetyTicks
        self.faults = faults
        self.verbose = verbose
        self.workload = workload
    }

    public init(workload: SimWorkload, metaFaults: MetaFaults, verbose: Bool = false) {
        self.init(verbose: verbose, workload: workload)
        self.metaFaults = metaFaults
    }
}

/// One run's configuration, drawn from its seed (swarm testing: every seed gets its own fault mix).
struct SimOptions: CustomStringConvertible {
    var voters: Int
    var spareNodes: Int
    var keys: Int
    var clients: Int
    var safetyTicks: Int
    var livenessTicksMax: Int
    var electionTimeoutTicks: Int
    var heartbeatIntervalTicks: Int
    var preVote: Bool
    var checkQuorum: Bool
    var appendEntriesMax: Int
    var inflightAppendsMax: Int
    var snapshotChunkBytes: Int
    var compactEveryEntries: Int
    // Network.
    var dropProbability: Double
    var duplicateProbability: Double
    var delayTicksMax: Int
    // Nemesis, per tick.
    var partitionProbability: Double
    var clogProbability: Double
    var crashProbability: Double
    var crashDuringReadyProbability: Double
    /// Figure 8 churn: crash the leader and restart it at once.
    var leaderChurnProbability: Double
    /// Figure 8 churn: crash a new leader within a few ticks of its election (its no-op stays on a minority).
    var newLeaderCrashProbability: Double
    var tearProbability: Double
    var restartDelayTicksMax: Int
    var membershipProbability: Double
    var transferProbability: Double
    var clientOpProbability: Double
    var readFraction: Double
    var opTimeoutTicks: Int
    /// Crash a follower that has a read in flight and restart it at once (a delayed answer to the old life's
    /// ReadIndex request then meets the new life's reads).
    var readerCrashProbability: Double
    /// Ticks a Ready's fsync may take (drawn per Ready from 0...max); the node keeps stepping meanwhile.
    var fsyncDelayTicksMax: Int
    /// Per tick: crash a node whose fsync is in flight (its unsynced writes may be lost, its early messages
    /// are already on the wire).
    var crashDuringFsyncProbability: Double
    var faults: FaultSwitches
    var workload: SimWorkload

    init(seed: UInt64, overrides: SimOverrides) {
        var r = SimRandom(seed: seed ^ 0x5157_A0C0_FFEE_0001)
        voters = overrides.nodes ?? (r.chance(0.5) ? 3 : 5)
        spareNodes = 2
        keys = r.int(2...4)
        clients = r.int(2...5)
        safetyTicks = overrides.safetyTicks ?? 600
        electionTimeoutTicks = r.int(8...16)
        heartbeatIntervalTicks = r.int(1...3)
        livenessTicksMax = 60 * electionTimeoutTicks
        preVote = r.chance(0.8)
        checkQuorum = r.chance(0.8)
        appendEntriesMax = r.pick([1, 4, 64])
        inflightAppendsMax = r.pick([1, 4, 32])
        snapshotChunkBytes = r.pick([8, 24, 4096])
        compactEveryEntries = r.pick([8, 32, 100_000])
        dropProbability = r.pick([0, 0.01, 0.05, 0.2])
        duplicateProbability = r.pick([0, 0.01, 0.05])
        delayTicksMax = r.pick([1, 2, 4, 8])
        partitionProbability = r.pick([0, 0.005, 0.02])
        clogProbability = r.pick([0, 0.003, 0.01])
        crashProbability = r.pick([0, 0.002, 0.01])
        crashDuringReadyProbability = r.pick([0, 0.002, 0.01])
        leaderChurnProbability = r.pick([0, 0, 0.01, 0.05])
        newLeaderCrashProbability = r.pick([0, 0, 0.2, 0.5])
        tearProbability = r.pick([0, 0.5])
        restartDelayTicksMax = r.pick([0, 20, 100])
        membershipProbability = r.pick([0, 0.005, 0.02])
        transferProbability = r.pick([0, 0.002, 0.01])
        clientOpProbability = r.pick([0.05, 0.2, 0.5])
        readFraction = r.pick([0.2, 0.5])
        opTimeoutTicks = 8 * electionTimeoutTicks
        // Drawn last, so that adding it left every earlier option of every seed unchanged.
        readerCrashProbability = r.pick([0, 0, 0.05, 0.2])
        fsyncDelayTicksMax = r.pick([0, 0, 1, 3])
        crashDuringFsyncProbability = fsyncDelayTicksMax == 0 ? 0 : r.pick([0, 0.05, 0.2])
        faults = overrides.faults
        workload = overrides.workload
        if workload == .meta {
            // A metadata snapshot is an SQLite file of ~100 KiB, not 8 bytes per register: chunks of 8 bytes
            // would take the whole run to send. Mapped, not drawn, so every other option is the kv run's.
            snapshotChunkBytes = [8: 4096, 24: 16384][snapshotChunkBytes, default: 65536]
        }
    }

    var description: String {
        var s = (workload == .meta ? "workload=meta " : "") + "voters=\(voters) keys=\(keys) clients=\(clients) election=\(electionTimeoutTicks)"
        s += " heartbeat=\(heartbeatIntervalTicks) prevote=\(preVote) checkquorum=\(checkQuorum)"
        s += " batch=\(appendEntriesMax) inflight=\(inflightAppendsMax) chunk=\(snapshotChunkBytes)"
        s += " compact=\(compactEveryEntries) drop=\(dropProbability) dup=\(duplicateProbability)"
        s += " delay=\(delayTicksMax) partition=\(partitionProbability) clog=\(clogProbability)"
        s += " crash=\(crashProbability)/\(crashDuringReadyProbability)/\(leaderChurnProbability)/\(newLeaderCrashProbability) tear=\(tearProbability)"
        s += " membership=\(membershipProbability) transfer=\(transferProbability) ops=\(clientOpProbability)"
        s += " reader-crash=\(readerCrashProbability) fsync-delay=\(fsyncDelayTicksMax)/\(crashDuringFsyncProbability)"
        return s
    }
}

import RaftKit

/// One simulated server: a disk, a `RaftNode` while it runs, and the state machine it applies to (the
/// workload's: `KVMachine` or `MetaMachineReplica`, rebuilt from the disk's snapshot at every start).
final class SimNode {
    enum Status: Equatable {
        /// An id not yet used (a future member).
        case spare
        case up
        case down(restartAt: Int)
        /// Removed from the membership and stopped for good.
        case retired
    }

    let id: NodeID
    var status: Status = .spare
    var disk: SimDisk
    var raft: RaftNode?
    var machine: any SimMachine
    var applied: UInt64 = 0
    var appliedConf: ConfState
    var lives = 0

    // Per-life observations for the checkers.
    var lastCommit: UInt64 = 0
    var leaderTerm: UInt64 = 0
    var leaderLastIndex: UInt64 = 0
    var leaderLastTerm: UInt64 = 0
    /// The highest commit index of this node checked by `checkCommitDurable`.
    var durableCheckedCommit: UInt64 = 0
    // Across lives: what the node promised to others.
    var ackedIndex: UInt64 = 0
    var ackedTerm: UInt64 = 0
    var maxTermSent: UInt64 = 0

    /// Writes proposed here by clients: op id → client number.
    var proposals: [UInt64: Int] = [:]
    /// ReadIndex requests made here in this life: context → (client number, op id).
    var reads: [UInt64: (client: Int, opID: UInt64)] = [:]
    /// A Ready whose writes are issued and whose fsync completes at the tick given (then the rest of it runs).
    var inflight: (ready: Ready, dueAt: Int)?
    /// This life's read contexts (the production `ReadContexts`, drawn afresh at every start).
    var readContexts = ReadContexts(start: 1)

    init(id: NodeID, confState: ConfState, keys: Int) {
        self.id = id
        self.disk = SimDisk(confState: confState)
        self.machine = KVMachine(snapshot: [], keys: keys)
        self.appliedConf = confState
    }

    var isUp: Bool { status == .up }
}

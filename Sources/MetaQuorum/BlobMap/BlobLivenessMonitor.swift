public import Logging
import Metrics
import MetaContract

/// The shell around `BlobLiveness` on a metadata replica (`silo meta`): takes blob nodes' heartbeats from the
/// metadata RPC (`MetaWire.Operation.heartbeat`), and while this replica leads, proposes a
/// `setBlobNodeLiveness` command for each transition `BlobLiveness` decides. Heartbeats themselves are never
/// log entries: only a transition (up → down after `BlobMapLimits.heartbeatSilenceMax` of silence, down →
/// up at the next heartbeat) costs a Raft entry.
///
/// Leadership is read from the Raft driver at every heartbeat and every check; a new term of leadership
/// starts every timer afresh (`BlobLiveness.becameLeader`).
///
/// Lifecycle: `init`, then `run()` as a long-lived task (it returns when cancelled); `heartbeat` from the RPC
/// server's tasks at any time.
public actor BlobLivenessMonitor {
    /// How a heartbeat was taken.
    enum HeartbeatAnswer: Equatable {
        /// This replica does not lead; the leader's id, 0 for none known.
        case notLeader(UInt64)
        /// Recorded; whether the map holds the node (false: it must register).
        case recorded(registered: Bool)
    }

    private let replica: RaftMetaLog
    private let logger: Logger
    private let origin = ContinuousClock.now
    private var liveness = BlobLiveness(silenceMax: BlobMapLimits.heartbeatSilenceMax)
    /// The term this replica leads in, as `liveness` knows it (nil: not leading).
    private var leadingTerm: UInt64?
    /// The map as this replica last read it (for answering heartbeats without a read each).
    private var map = BlobMap(epoch: 0, nodes: [])

    public init(replica: RaftMetaLog, logger: Logger) {
        BlobMapLimits.validate()
        self.replica = replica
        self.logger = logger
    }

    private var now: Duration { ContinuousClock.now - origin }

    /// Brings `liveness` in line with the driver's role; returns the leader's id when this replica does not lead.
    private func syncLeadership() async -> UInt64? {
        let status = await replica.driver.status
        guard status.role == .leader else {
            if leadingTerm != nil {
                leadingTerm = nil
                liveness.stoppedLeading()
            }
            return status.leaderID
        }
        if leadingTerm != status.term {
            leadingTerm = status.term
            liveness.becameLeader(at: now)
            logger.info("leading: blob node liveness timers start now", metadata: ["term": "\(status.term)"])
        }
        return nil
    }

    func heartbeat(_ report: BlobHeartbeat) async -> HeartbeatAnswer {
        if let leader = await syncLeadership() { return .notLeader(leader) }
        liveness.heartbeat(report, at: now)
        if map.node(report.node) == nil, let fresh = try? await replica.machine.read({ try $0.blobMap() }) {
            map = fresh
        }
        guard let node = map.node(report.node) else { return .recorded(registered: false) }
        return .recorded(registered: node.state != .removed)
    }

    /// What this leader last heard from each node (empty on a follower).
    func reports() -> [(report: BlobHeartbeat, age: Duration)] {
        liveness.reports(at: now)
    }

    /// Checks every `BlobMapLimits.livenessCheckInterval` until cancelled.
    public func run() async {
        while !Task.isCancelled {
            await check()
            try? await Task.sleep(for: BlobMapLimits.livenessCheckInterval)
        }
    }

    /// One comparison of last-seen times with the map, proposing each transition.
    func check() async {
        guard await syncLeadership() == nil else { return }
        guard let fresh = try? await replica.machine.read({ try $0.blobMap() }) else { return }
        map = fresh
        for decision in liveness.decisions(for: fresh, at: now) {
            await propose(node: decision.node, alive: decision.alive)
        }
    }

    private func propose(node: UInt32, alive: Bool) async {
        let envelope = CommandEnvelope(
            commandID: "", requester: "",
            time: max(replica.configuration.clock(), replica.committedTime))
        let command = MetaCommand.setBlobNodeLiveness(envelope, node: node, alive: alive)
        do throws(MetaError) {
            let result = try await replica.propose(command.encode())
            guard case .done = result else {
                logger.warning(
                    "blob node liveness change refused", metadata: ["node": "\(node)", "result": "\(result)"])
                return
            }
            Counter(label: "silo_blob_liveness_transitions_total", dimensions: [("to", alive ? "up" : "down")])
                .increment()
            logger.notice(
                alive ? "blob node is up again" : "blob node is down: no heartbeat",
                metadata: ["node": "\(node)", "silenceMaxSeconds": "\(BlobMapLimits.heartbeatSilenceMax)"])
        } catch {
            logger.warning(
                "blob node liveness change not proposed", metadata: ["node": "\(node)", "error": "\(error)"])
        }
    }
}

import MetaContract

/// The metadata leader's view of which blob nodes are alive, as a pure value: heartbeats in, liveness
/// decisions (`setBlobNodeLiveness` commands to propose) out. It owns no clock, task or socket: time comes in
/// as the monotonic `Duration` since an origin the shell (`BlobLivenessMonitor`) chose.
///
/// Promises:
/// - A node `up` in the map is decided dead only once nothing was heard from it for longer than `silenceMax`,
///   counted from its last heartbeat or, if none reached this leader, from when this replica became leader:
///   a leader change alone never marks a node down.
/// - A node `down` in the map is decided alive as soon as a heartbeat arrived within `silenceMax`.
/// - Draining and removed nodes get no decision (their state is the operator's).
/// - Nothing is remembered while not leading: a replica that becomes leader starts with no last-seen times.
struct BlobLiveness: Sendable {
    /// Silence after which an up node is decided down.
    let silenceMax: Duration
    /// When this replica became leader; nil while it does not lead. Invariant: `lastSeen` is empty while nil.
    private(set) var leadingSince: Duration?
    /// When each node's last heartbeat arrived, and what it said.
    private(set) var lastSeen: [UInt32: (at: Duration, report: BlobHeartbeat)] = [:]

    init(silenceMax: Duration) {
        precondition(silenceMax > .zero, "silence limit \(silenceMax) not positive")
        self.silenceMax = silenceMax
    }

    /// This replica became leader (of a new term) at `now`: every timer starts again from `now`.
    mutating func becameLeader(at now: Duration) {
        leadingSince = now
        lastSeen = [:]
    }

    /// This replica no longer leads: forget everything (another leader decides now).
    mutating func stoppedLeading() {
        leadingSince = nil
        lastSeen = [:]
    }

    /// Records a heartbeat that arrived at `now`. Ignored while not leading.
    mutating func heartbeat(_ report: BlobHeartbeat, at now: Duration) {
        guard leadingSince != nil else { return }
        lastSeen[report.node] = (now, report)
        if let since = leadingSince { precondition(since <= now, "heartbeat at \(now) before leading at \(since)") }
    }

    /// The liveness changes to propose for `map` at `now`, ascending by node id (none while not leading).
    func decisions(for map: BlobMap, at now: Duration) -> [(node: UInt32, alive: Bool)] {
        var decisions: [(node: UInt32, alive: Bool)] = []
        guard let leadingSince else { return decisions }
        for node in map.nodes {
            let seen = lastSeen[node.id]?.at
            switch node.state {
            case .up where now - (seen ?? leadingSince) > silenceMax:
                decisions.append((node.id, false))
            case .down:
                if let seen, now - seen <= silenceMax { decisions.append((node.id, true)) }
            case .up, .draining, .removed:
                break
            }
        }
        return decisions
    }

    /// What the leader last heard from each node, ascending by node id: the report and how long ago.
    func reports(at now: Duration) -> [(report: BlobHeartbeat, age: Duration)] {
        lastSeen.keys.sorted().map { id in
            let seen = lastSeen[id]!
            return (seen.report, now - seen.at)
        }
    }
}

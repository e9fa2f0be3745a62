import Testing

@testable import MetaQuorum

/// Goal: the leader's liveness decisions (`BlobLiveness`): an up node is decided down only after more than the
/// silence limit without a heartbeat, counted from leadership when none arrived; a down node comes back at
/// its first heartbeat; draining and removed nodes get no decision; a follower decides nothing and a new
/// leader starts its timers afresh. Method: a hand-built map and times in seconds since an origin.
@Suite("Blob liveness")
struct BlobLivenessTests {
    func node(_ id: UInt32, _ state: BlobNodeState) -> BlobNodeRecord {
        BlobNodeRecord(id: id, address: "h:\(id)", zone: nil, weight: 1, capacityBytes: 0, state: state, changedTime: 0)
    }

    func beat(_ id: UInt32) -> BlobHeartbeat {
        BlobHeartbeat(node: id, capacityBytes: 10, freeBytes: 5, healthy: true)
    }

    func decided(_ liveness: BlobLiveness, _ map: BlobMap, at seconds: Int) -> [String] {
        liveness.decisions(for: map, at: .seconds(seconds)).map { "\($0.node)=\($0.alive ? "up" : "down")" }
    }

    @Test func silenceMarksDownAndAHeartbeatMarksUp() {
        let map = BlobMap(
            epoch: 4,
            nodes: [
                node(1, .up), node(2, .up), node(3, .down), node(4, .draining),
                node(5, .removed),
            ])
        var liveness = BlobLiveness(silenceMax: .seconds(15))
        // Not leading: nothing, and heartbeats are not remembered.
        liveness.heartbeat(beat(1), at: .seconds(1))
        #expect(decided(liveness, map, at: 100) == [])
        #expect(liveness.lastSeen.isEmpty)

        liveness.becameLeader(at: .seconds(100))
        liveness.heartbeat(beat(1), at: .seconds(101))
        liveness.heartbeat(beat(3), at: .seconds(102))
        // Within the limit: node 3 was down and beat, so it comes back; node 2 still has time.
        #expect(decided(liveness, map, at: 110) == ["3=up"])
        // Exactly the limit after leadership began: still not down (more than the limit is needed).
        #expect(decided(liveness, map, at: 115) == ["3=up"])
        // Past it: node 2 never beat under this leader.
        #expect(decided(liveness, map, at: 116) == ["2=down", "3=up"])
        // Node 1 beat at 101: down after 116; node 3's beat at 102 is too old to bring it back after 117.
        #expect(decided(liveness, map, at: 118) == ["1=down", "2=down"])
        #expect(liveness.reports(at: .seconds(118)).map(\.report.node) == [1, 3])
        #expect(liveness.reports(at: .seconds(118)).map(\.age) == [.seconds(17), .seconds(16)])
    }

    @Test func aNewLeaderStartsItsTimersAfresh() {
        let map = BlobMap(epoch: 1, nodes: [node(1, .up)])
        var liveness = BlobLiveness(silenceMax: .seconds(15))
        liveness.becameLeader(at: .seconds(0))
        liveness.heartbeat(beat(1), at: .seconds(1))
        liveness.stoppedLeading()
        #expect(decided(liveness, map, at: 50) == [])
        // Leading again at 60, after 59 s in which this replica heard nothing: the node gets the full limit.
        liveness.becameLeader(at: .seconds(60))
        #expect(liveness.lastSeen.isEmpty)
        #expect(decided(liveness, map, at: 75) == [])
        #expect(decided(liveness, map, at: 76) == ["1=down"])
    }
}

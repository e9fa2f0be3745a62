/// The source of `RaftNode.readIndex(context:)` contexts for one life of a node (one process start).
///
/// A follower accepts any current-term `readIndexResponse` whose context it is waiting for, and a response can
/// outlive the process that asked (delayed in the network, or held by the leader until a quorum round). So a
/// context must never repeat across restarts, or an old answer serves a new read at an old index: a stale read.
/// The shell draws `start` from a random source once per start (the driver: the system generator; the simulator:
/// its seeded generator); contexts are `start, start + 1, …` (wrapping, skipping 0), so two lives collide only if
/// their ranges of contexts overlap, which for 64-bit random starts is negligible.
///
/// Pure: no randomness of its own. Callers: `RaftDriver` and `SiloSim`, one instance per life, `next()` per read.
public struct ReadContexts: Sendable {
    private var nextValue: UInt64

    /// `start` should be drawn at random once per process start. The debug fault switch
    /// `reuseReadContextsAcrossRestarts` ignores it and counts from 1 on every start (the bug this type prevents).
    public init(start: UInt64, faults: FaultSwitches = []) {
        var first = start
        #if DEBUG
        if faults.contains(.reuseReadContextsAcrossRestarts) { first = 1 }
        #endif
        nextValue = first == 0 ? 1 : first
    }

    /// The next context of this life; never 0, never a repeat within 2^64 - 1 calls.
    public mutating func next() -> UInt64 {
        let value = nextValue
        nextValue &+= 1
        if nextValue == 0 { nextValue = 1 }
        precondition(value != 0, "read context 0")
        return value
    }
}

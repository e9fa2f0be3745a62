/// Limits of the Raft transport. `TransportLimits.validate()` checks their relations once at start-up.
public enum TransportLimits {
    /// The largest frame payload accepted or sent; a larger length closes the connection (it is a bug or an attack).
    public static let framePayloadBytesMax = 64 * 1024 * 1024
    /// Frames waiting per peer while its connection is down or not writable; when full, new frames are dropped
    /// (Raft tolerates loss and retries), so one slow or dead peer never holds memory or time of the others.
    public static let peerQueueFramesMax = 4096
    /// Bytes waiting per peer, the same rule as `peerQueueFramesMax`.
    public static let peerQueueBytesMax = 64 * 1024 * 1024
    /// Received frames waiting for the driver; beyond this the oldest are dropped.
    public static let inboundFramesMax = 16384
    /// The first reconnection delay after a failure, doubled after each failure up to `reconnectDelayMillisecondsMax`.
    public static let reconnectDelayMillisecondsMin: Int64 = 20
    /// The longest reconnection delay.
    public static let reconnectDelayMillisecondsMax: Int64 = 1000
    /// How long a connection attempt may take.
    public static let connectTimeoutMilliseconds: Int64 = 1000

    /// Checks the relations between the limits; call once at start-up.
    public static func validate() {
        precondition(framePayloadBytesMax <= Int(UInt32.max) - FrameCodec.headerBytes, "frame length must fit u32")
        precondition(peerQueueBytesMax >= framePayloadBytesMax, "a peer queue must hold one largest frame")
        precondition(reconnectDelayMillisecondsMin > 0, "reconnect delay must be positive")
        precondition(
            reconnectDelayMillisecondsMin <= reconnectDelayMillisecondsMax,
            "reconnect delays: \(reconnectDelayMillisecondsMin) > \(reconnectDelayMillisecondsMax)")
        precondition(inboundFramesMax > 0 && peerQueueFramesMax > 0, "queues must hold at least one frame")
    }
}

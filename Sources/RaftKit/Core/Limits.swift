/// Every bound RaftKit enforces, in one place. `Config.validate()` checks a configuration against these, and
/// `LimitsTests` checks the relations between them.
public enum Limits {
    /// Fixed per-entry overhead counted by flow control (term, index, kind, length).
    public static let entryHeaderBytes = 21
    /// The largest command one proposal may carry.
    public static let entryDataBytesMax = 8 * 1024 * 1024
    /// The largest message the codec accepts (a batch of entries or a snapshot chunk, plus headers).
    public static let messageBytesMax = 64 * 1024 * 1024
    /// The most entries one decoded message may hold.
    public static let entriesPerMessageMax = 64 * 1024
    /// The most voters plus learners in a group.
    public static let membersMax = 64
    /// The longest member address (opaque to the core, "host:port" for `TCPTransport`) a membership may carry.
    public static let addressBytesMax = 256
    /// The largest snapshot a follower will assemble from chunks.
    public static let snapshotBytesMax: UInt64 = 16 * 1024 * 1024 * 1024
    /// A learner is promoted only when its match index is within this many entries of the leader's last index.
    public static let learnerCatchUpEntriesMax: UInt64 = 64
    /// Upper bound for `Config.inflightAppendsMax`.
    public static let inflightAppendsMaxLimit = 4096
    /// Upper bound for `Config.pendingReadsMax`.
    public static let pendingReadsMaxLimit = 1 << 16
    /// Snapshot chunks a leader sends ahead of the follower's acknowledgement.
    public static let snapshotChunksInflightMax = 4
    /// A snapshot transfer with no chunk acknowledged for this many heartbeat responses resends from the last
    /// acknowledged chunk (a chunk or its ack was lost).
    public static let snapshotTransferIdleHeartbeatsMax = 3
    /// The most entry bytes read from the log at once when the whole log is scanned (conf-change history).
    public static let logScanBatchBytesMax = 4 * 1024 * 1024
}

import ClusterAuth
import BlobContract

/// The limits of the chunk store, in one place. Each is a named constant; `LocalChunkStore.Options.validate()`
/// checks the configurable ones against these at start-up, and a unit test checks the relations between them.
enum Limits {
    /// The largest chunk payload one record may carry. The Gateway cuts objects into chunks well below this.
    static let chunkSizeBytesMax = 64 * 1024 * 1024
    /// The default size at which the writer seals the active volume and starts a new one. Compaction
    /// copies a volume's live records before it frees the file, so a volume should not exceed the free
    /// space kept in reserve (`freeSpaceFloorBytesDefault`): then a full disk can always be compacted.
    static let volumeSizeBytesDefault: UInt64 = 256 << 20
    /// The smallest volume size accepted (small volumes are for tests). The limit is soft: the writer starts
    /// a new volume only when the active one is not empty, so a record larger than the limit gets a volume
    /// of its own rather than failing.
    static let volumeSizeBytesMin: UInt64 = 4096
    /// Volume files are addressed by a 32-bit id; offsets within them must fit record locations.
    static let volumeSizeBytesMax: UInt64 = 1 << 40
    /// Requests waiting for the writer thread; beyond this `write`/`delete` throw `.unavailable` (back-pressure
    /// the Gateway turns into 503 SlowDown) instead of queueing without bound.
    static let writeQueueDepthMax = 4096
    /// One group commit takes at most this many records ...
    static let writeBatchRecordsMax = 1024
    /// ... and at most this many payload bytes (a batch always takes at least one request).
    static let writeBatchBytesMax = 64 * 1024 * 1024
    /// The read-ahead window of the start-up scan and of compaction's header scan.
    static let scanBufferBytes = 1 << 20
    /// The read size of a header-only scan (sealed volumes at open, compaction): covers many small records
    /// per read, and only a small part of a large one.
    static let headerScanReadAheadBytes = 64 * 1024
    /// Compaction copies live records in groups of at most this many bytes per group commit.
    static let compactionBatchBytesMax = 8 * 1024 * 1024
    /// ... and at most this many records per group commit.
    static let compactionBatchRecordsMax = 256
    /// Below twice the free-space floor, compaction takes volumes with at least this dead fraction.
    static let compactionDeadFractionUnderPressure = 0.1
    /// Compaction starts on a volume only if its live bytes plus this fit in the free space.
    static let compactionSpaceMarginBytes: UInt64 = 1 << 20
    /// Compaction seals the active volume early (so it can be compacted) once at least this many of its
    /// bytes are dead and they pass the compaction fraction; smaller volumes are not worth a rotation.
    static let activeVolumeDeadBytesMin: UInt64 = 4 * 1024 * 1024
    /// Writes are refused (`.diskFull`) when they would leave less free space than this on the store's
    /// filesystem, so deletes, tombstones, compaction and the metadata always have room (default of
    /// `Options.freeSpaceFloorBytes`).
    static let freeSpaceFloorBytesDefault: UInt64 = 256 * 1024 * 1024
    /// Threads of the store's read pool (blocking `pread`, open-time scans, unlink).
    static let readThreadCountDefault = 2
    static let readThreadCountMax = 64
    /// `chunks(writtenBeforeTime:after:limit:)` answers at most this many ids per call (the contract's bound).
    static let sweepListLimitMax = ChunkStoreLimits.chunksListedPerCallMax

    /// A compaction loop with nothing to do looks again after this long; a step that found work steps again
    /// after `compactionBusyPause`. An idle step only reads the index, so it is cheap to look often.
    static let compactionIdleInterval: Duration = .seconds(10)
    static let compactionBusyPause: Duration = .milliseconds(1)

    // MARK: The chunk protocol (`Network/`)

    /// The version byte every frame of the chunk protocol carries.
    static let wireVersion: UInt8 = 1
    /// Bytes of a frame's length prefix (big-endian `UInt32`).
    static let wireLengthPrefixBytes = 4
    /// Room in a frame for everything but a chunk's bytes: version, request id, opcode and the fixed fields
    /// of the largest message (a put: id and checksum). Generous, so new fixed fields fit without a change.
    static let wireFrameHeaderBytesMax = 64
    /// The largest frame body (after the length prefix) either side accepts: one whole chunk plus its header.
    /// A length prefix above this closes the connection before anything is buffered.
    static let wireFrameBytesMax = chunkSizeBytesMax + wireFrameHeaderBytesMax
    /// The largest first frame on a connection (the challenge, the answer to it). Until a peer has
    /// authenticated it cannot make the other side buffer a chunk-sized frame.
    static let wireHandshakeFrameBytesMax = 128
    /// Ids in one delete request; `RemoteChunkStore.delete` splits longer lists into several requests.
    static let wireDeleteChunkIDsMax = 10_000
    /// Bytes of an error message on the wire; longer messages are cut (at a character boundary).
    static let wireErrorMessageBytesMax = 4096
    /// Bytes of the server's challenge (`ClusterSecret.challengeBytes`), and of the client's HMAC-SHA256 answer.
    static let wireNonceBytes = ClusterSecret.challengeBytes
    static let wireAuthenticatorBytes = 32
    /// A connection that has not authenticated within this long is closed by the server.
    static let wireAuthenticationTimeout: Duration = .seconds(10)
    /// Requests of one connection the server works on at once; past it the server stops reading the socket,
    /// so a fast client waits in TCP rather than in the server's memory.
    static let serverRequestsInFlightPerConnectionMax = 16
    /// Requests of all connections in the store at once; the rest wait for a turn (each connection still holds
    /// at most `serverRequestsInFlightPerConnectionMax`).
    static let serverRequestsInFlightTotalMax = 256
    /// Connections a server keeps open at once, authenticated or not; more are closed on accept. With the two
    /// bounds above this caps the memory of waiting requests.
    static let serverConnectionsMax = 512
    /// Connections the kernel queues for the server before it accepts them.
    static let serverListenBacklog: Int32 = 256
    /// Connections one `RemoteChunkStore` opens to its node, lazily, at most (requests are multiplexed on each).
    static let remoteConnectionsMaxDefault = 4
    static let remoteConnectionsMaxLimit = 64
    /// A request not answered within this long fails with `.unavailable`, and its connection is closed.
    static let remoteRequestDeadlineDefault: Duration = .seconds(30)
    /// Connecting (TCP connect plus the authentication exchange) fails with `.unavailable` after this long.
    static let remoteConnectTimeout: Duration = .seconds(5)
}

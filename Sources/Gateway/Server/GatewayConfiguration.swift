import MetaQuorum

/// Settings of one gateway. Every limit is named here and checked once by `validate()`.
public struct GatewayConfiguration: Sendable {
    /// The region clients sign for and `GetBucketLocation` reports.
    public var region: String = "us-east-1"
    /// Domains under which `bucket.domain` addresses a bucket (virtual-host style). Empty: path style only.
    public var virtualHostDomains: [String] = []
    /// Object bytes per chunk (the placement unit).
    public var chunkSizeBytes: Int = 1 << 20
    /// Chunk writes in flight per request: bounds a PUT's memory to about (this + 1) × chunk size.
    public var chunksInFlightMax: Int = 4
    /// The largest single PUT or part (S3: 5 GiB).
    public var putSizeBytesMax: Int64 = 5 << 30
    /// The smallest part other than the last (S3: 5 MiB).
    public var partSizeBytesMin: Int64 = 5 << 20
    /// The highest part number (S3: 10,000).
    public var partNumberMax: Int = 10_000
    /// Largest accepted request XML body (CompleteMultipartUpload with 10,000 parts fits).
    public var xmlBodyBytesMax: Int = 2 << 20
    /// How long a cached credential may be used before it is read again.
    public var credentialCacheMilliseconds: Int64 = 5_000
    /// How long deleted chunks wait before their bytes are deleted, so that in-flight GETs finish.
    public var garbageGraceMilliseconds: Int64 = 60_000
    /// Chunks no metadata references are swept once older than this (a PUT whose client vanished).
    /// Invariant: at least `MetaLimits.orphanChunkAgeMinMilliseconds` (twice the longest write MetaQuorum
    /// still commits), so no chunk a write can still commit is ever swept.
    public var orphanChunkAgeMilliseconds: Int64 = MetaLimits.orphanChunkAgeMinMilliseconds + 10 * 60 * 1000

    /// Object bodies up to this size travel inside the metadata command (`ObjectRecord.inlineBody`): one
    /// durable write per small PUT instead of two. 0 turns it off; at most `MetaLimits.inlineBodyBytesMax`.
    public var inlineBodyBytesMax: Int = 32 << 10
    /// Read-ahead bytes all GETs may hold at once (`ReadAheadBudget`); beyond it GETs read without it.
    public var readAheadBytesMax: Int = 256 << 20
    /// Connections, deadlines and drain limits of the HTTP server.
    public var connections = ConnectionLimits()

    public init() {}

    /// Checks the relations between limits; called once at start-up.
    public func validate() throws(S3Error) {
        func require(_ condition: Bool, _ message: String) throws(S3Error) {
            if !condition { throw S3Error(.invalidArgument, "invalid gateway configuration: \(message)") }
        }
        try require(chunkSizeBytes >= 64 << 10 && chunkSizeBytes <= 64 << 20, "chunk size must be 64 KiB...64 MiB")
        try require(chunksInFlightMax >= 1 && chunksInFlightMax <= 64, "chunks in flight must be 1...64")
        try require(partSizeBytesMin <= putSizeBytesMax, "minimum part size above maximum PUT size")
        try require(partNumberMax >= 1 && partNumberMax <= 10_000, "part numbers must be 1...10000")
        try require(garbageGraceMilliseconds >= 0, "garbage grace must not be negative")
        try require(readAheadBytesMax >= 0, "read-ahead budget must not be negative")
        try require(inlineBodyBytesMax >= 0 && inlineBodyBytesMax <= MetaLimits.inlineBodyBytesMax,
                    "inline bodies must be 0...\(MetaLimits.inlineBodyBytesMax) bytes")
        do { try connections.validate() } catch { try require(false, error.description) }
        try require(orphanChunkAgeMilliseconds >= MetaLimits.orphanChunkAgeMinMilliseconds,
                    "orphan chunk age below MetaLimits.orphanChunkAgeMinMilliseconds would sweep committable chunks")
    }
}

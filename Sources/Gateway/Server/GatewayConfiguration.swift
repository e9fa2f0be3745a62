import BlobContract
import Erasure
import MetaContract
import S3Protocol

/// Settings of one gateway. Every setting an operator may change is here and checked once by `validate()`;
/// fixed protocol bounds live in `S3Limits` and `MetaLimits`, and `checkLimitRelations()` checks those
/// against each other once at start-up.
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
    /// The highest part number (S3: 10,000); at most `S3Limits.partNumberMax`. Request XML bodies are
    /// bounded by `S3Limits.xmlRequestBodyBytesMax`.
    public var partNumberMax: Int = S3Limits.partNumberMax
    /// How long a cached credential may be used before it is read again, in milliseconds.
    public var credentialCacheMilliseconds: Int64 = 5_000
    /// How long deleted chunks wait before their bytes are deleted, so that in-flight GETs finish.
    public var garbageGraceMilliseconds: Int64 = 60_000
    /// Chunks no metadata references are swept once older than this (a PUT whose client vanished).
    /// Invariant: at least `MetaLimits.orphanChunkAgeMinMilliseconds` (twice the longest write MetaQuorum
    /// still commits), so no chunk a write can still commit is ever swept.
    public var orphanChunkAgeMilliseconds: Int64 = MetaLimits.orphanChunkAgeMinMilliseconds + 10 * 60 * 1000

    /// How long the chunk repairer (`ChunkRepairer`: scrub every copy, rewrite missing or damaged ones) rests
    /// between passes; nil: this gateway does not run it. One gateway per cluster is enough.
    public var repairInterval: Duration?
    /// How long a blob node must stay unreachable before the repairer rebuilds its copies and erasure-coded
    /// shards on other nodes (and records the moves); nil: never (a node is expected back under its id).
    public var repairReplaceAfter: Duration?

    /// How long the lifecycle worker (`LifecycleWorker`: expirations and aborted uploads by the buckets'
    /// lifecycle rules) rests between passes; nil: this gateway does not run it. Passes are safe on several
    /// gateways at once (every expiration is re-checked at apply time); one per cluster is enough.
    public var lifecycleInterval: Duration? = .seconds(60)
    /// The length of a lifecycle "day" in milliseconds: a day, except in tests that scale it to seconds
    /// (as RGW's `rgw_lc_debug_interval`); a scaled day is not rounded to midnight.
    public var lifecycleDayMilliseconds: Int64 = 86_400_000

    /// Object bodies up to this size travel inside the metadata command (`ObjectRecord.inlineBody`): one
    /// durable write per small PUT instead of two. 0 turns it off; at most `MetaLimits.inlineBodyBytesMax`.
    public var inlineBodyBytesMax: Int = 32 << 10
    /// Read-ahead bytes all GETs may hold at once (`ReadAheadBudget`); beyond it GETs read without it.
    public var readAheadBytesMax: Int = 256 << 20
    /// Chunks one GET reads ahead of what it sends, while the budget allows.
    public var readAheadChunksMax: Int = 3
    /// Connections, deadlines and drain limits of the HTTP server.
    public var connections = ConnectionLimits()
    /// Serve S3 over TLS with this certificate chain and key (PEM files); nil: plain HTTP.
    public var tls: TLSFiles?
    /// Append one JSON line per request to this file (`AuditLog`); nil: no audit log.
    public var auditLogPath: String?

    public init() {}

    /// Checks the relations between the fixed limits of the modules the gateway joins (the S3 protocol and
    /// the metadata contract; MetaQuorum checks its own against RaftKit with `MetaLimits.validate()`); called
    /// once at start-up, and by a test. A violation is a build error, so it stops the process.
    public static func checkLimitRelations() {
        precondition(
            S3Limits.partNumberMax == MetaLimits.partNumberRange.upperBound,
            "S3 allows part numbers up to \(S3Limits.partNumberMax), metadata up to \(MetaLimits.partNumberRange.upperBound)")
        precondition(
            S3Limits.xmlRequestBodyBytesMax >= S3Limits.completeMultipartBodyBytesMax,
            "an XML body limit of \(S3Limits.xmlRequestBodyBytesMax) bytes refuses a legal Complete of \(S3Limits.completeMultipartBodyBytesMax)")
        precondition(
            S3Limits.listKeysMax <= MetaLimits.listEntriesMax && S3Limits.listPartsMax <= MetaLimits.listEntriesMax
                && S3Limits.listUploadsMax <= MetaLimits.listEntriesMax,
            "an S3 page is larger than the metadata's \(MetaLimits.listEntriesMax)")
        // Per target: the key, a version id (`null` or 32 hex digits) and a marker id, with their lengths and flags.
        precondition(
            S3Limits.deleteObjectsCountMax * (S3Limits.objectKeyBytesMax + 8 + 2 * (32 + 2)) < MetaLimits.commandBytesMax,
            "a full DeleteObjects does not fit one metadata command of \(MetaLimits.commandBytesMax) bytes")
        // The tagging and CORS handlers read their bodies up to their own limits, then the XML parser's applies.
        precondition(
            S3Limits.taggingDocumentBytesMax <= S3Limits.xmlRequestBodyBytesMax
                && S3Limits.corsConfigurationBytesMax <= S3Limits.xmlRequestBodyBytesMax,
            "a tagging or CORS body limit above the XML parser's \(S3Limits.xmlRequestBodyBytesMax) bytes")
        // A version's tags travel in its record: the largest tag set (every character percent-encoded 4-byte
        // UTF-8) with an inline body must fit one command.
        precondition(
            S3Limits.objectTagCountMax * (S3Limits.tagKeyCharactersMax + S3Limits.tagValueCharactersMax) * 12
                + MetaLimits.inlineBodyBytesMax * 2 < MetaLimits.commandBytesMax,
            "an object's largest tag set and inline body do not fit one metadata command")
        precondition(GarbageCollector.pageSize <= MetaLimits.garbageChunksPerCallMax,
                     "garbage pages of \(GarbageCollector.pageSize) above what metadata answers")
        precondition(OrphanSweeper.pageSize <= ChunkStoreLimits.chunksListedPerCallMax,
                     "orphan pages of \(OrphanSweeper.pageSize) above what a chunk store answers")
        precondition(MetaLimits.shardIndexCount <= ReedSolomon.shardCountMax,
                     "durabilities of up to \(MetaLimits.shardIndexCount) shards above the coder's \(ReedSolomon.shardCountMax)")
    }

    /// Checks the relations between limits; called once at start-up.
    public func validate() throws(ConfigurationError) {
        func require(_ condition: Bool, _ message: String) throws(ConfigurationError) {
            if !condition { throw ConfigurationError("invalid gateway configuration: \(message)") }
        }
        try require(chunkSizeBytes >= 64 << 10 && chunkSizeBytes <= 64 << 20, "chunk size must be 64 KiB...64 MiB")
        try require(chunksInFlightMax >= 1 && chunksInFlightMax <= 64, "chunks in flight must be 1...64")
        try require(partSizeBytesMin <= putSizeBytesMax, "minimum part size above maximum PUT size")
        try require(partNumberMax >= 1 && partNumberMax <= S3Limits.partNumberMax,
                    "part numbers must be 1...\(S3Limits.partNumberMax)")
        try require(garbageGraceMilliseconds >= 0, "garbage grace must not be negative")
        try require(readAheadBytesMax >= 0, "read-ahead budget must not be negative")
        try require(readAheadChunksMax >= 0 && readAheadChunksMax <= 16, "read-ahead must be 0...16 chunks")
        try require(inlineBodyBytesMax >= 0 && inlineBodyBytesMax <= MetaLimits.inlineBodyBytesMax,
                    "inline bodies must be 0...\(MetaLimits.inlineBodyBytesMax) bytes")
        do { try connections.validate() } catch { try require(false, error.description) }
        try require(orphanChunkAgeMilliseconds >= MetaLimits.orphanChunkAgeMinMilliseconds,
                    "orphan chunk age below MetaLimits.orphanChunkAgeMinMilliseconds would sweep committable chunks")
    }
}

/// The PEM files of a TLS endpoint: the certificate chain (leaf first) and its private key. Read once at
/// start-up (`GatewayServer.makeApplication`); a file that does not load stops the start with its path.
public struct TLSFiles: Sendable, Equatable {
    public var certificateChainPath: String
    public var privateKeyPath: String
    public init(certificateChainPath: String, privateKeyPath: String) {
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
    }
}

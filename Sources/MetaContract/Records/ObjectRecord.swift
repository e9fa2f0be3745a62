/// Where one chunk of an object lives: which bytes of the object it holds and on which blob nodes.
public struct ChunkRef: Sendable, Equatable, Hashable {
    public var id: ChunkID
    public var sizeBytes: Int64
    /// Blob node ids holding a durable copy, as placed by the ring; for an erasure-coded chunk, `nodes[i]`
    /// holds shard i (so the order matters and the nodes are distinct).
    public var nodes: [UInt32]
    /// How the bytes are kept on `nodes`: whole copies (every record from before erasure coding) or shards.
    /// Invariant: for `.erasure(stripe)`, `nodes.count == stripe.shardCount`.
    public var layout: ChunkLayout
    public init(id: ChunkID, sizeBytes: Int64, nodes: [UInt32], layout: ChunkLayout = .replicated) {
        if case .erasure(let stripe) = layout {
            precondition(nodes.count == stripe.shardCount, "\(nodes.count) nodes for \(stripe.shardCount) shards")
        }
        self.id = id
        self.sizeBytes = sizeBytes
        self.nodes = nodes
        self.layout = layout
    }
}

/// A checksum the client sent (and we verified), to return with `x-amz-checksum-mode: ENABLED`.
public struct StoredChecksum: Sendable, Equatable {
    /// `CRC32`, `CRC32C`, `CRC64NVME`, `SHA1` or `SHA256`.
    public var algorithm: String
    /// Base64 of the digest; for a multipart object, `base64-N` composite form.
    public var value: String
    /// `FULL_OBJECT` or `COMPOSITE`.
    public var type: String
    public init(algorithm: String, value: String, type: String) {
        self.algorithm = algorithm
        self.value = value
        self.type = type
    }
}

/// One object version with everything a GET or HEAD needs.
public struct ObjectRecord: Sendable, Equatable {
    public var bucket: String
    public var key: String
    public var versionID: String
    public var sizeBytes: Int64
    /// Without quotes: 32 hex digits, or `hex-N` for a multipart object.
    public var etag: String
    /// Milliseconds since the Unix epoch.
    public var lastModifiedTime: Int64
    /// Standard headers as sent (lower-case names): content-type, content-encoding, content-disposition,
    /// content-language, cache-control, expires. Sorted by name.
    public var headers: [HeaderField]
    /// `x-amz-meta-*` names (lower-case, without the prefix) and values, sorted by name.
    public var userMetadata: [HeaderField]
    public var checksum: StoredChecksum?
    /// The chunks in object order; their sizes add up to `sizeBytes`.
    public var chunks: [ChunkRef]
    /// For a multipart object: the size of each part in order (for `partsCount` and part-number GETs);
    /// empty otherwise.
    public var partSizes: [Int64]
    /// A small object's bytes themselves (at most `MetaLimits.inlineBodyBytesMax`), stored and replicated
    /// with its metadata, so a small PUT costs one durable write, not two; then `chunks` is empty.
    public var inlineBody: [UInt8]?
    /// The object's owner (a user id): its writer, or the bucket owner as ownership controls decide at
    /// apply time. nil for records from before ACLs (formats 1 and 2): owned by the bucket owner.
    public var owner: String?
    /// The object's grants; nil for records from before ACLs: private to the owner.
    public var acl: AccessControlList?
    public init(bucket: String, key: String, versionID: String, sizeBytes: Int64, etag: String,
                lastModifiedTime: Int64, headers: [HeaderField], userMetadata: [HeaderField],
                checksum: StoredChecksum?, chunks: [ChunkRef], partSizes: [Int64], inlineBody: [UInt8]? = nil,
                owner: String? = nil, acl: AccessControlList? = nil) {
        self.inlineBody = inlineBody
        self.owner = owner
        self.acl = acl
        self.bucket = bucket
        self.key = key
        self.versionID = versionID
        self.sizeBytes = sizeBytes
        self.etag = etag
        self.lastModifiedTime = lastModifiedTime
        self.headers = headers
        self.userMetadata = userMetadata
        self.checksum = checksum
        self.chunks = chunks
        self.partSizes = partSizes
    }
}

public struct HeaderField: Sendable, Equatable, Hashable {
    public var name: String
    public var value: String
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A condition checked by the state machine when the write is applied.
public enum WritePrecondition: Sendable, Equatable {
    case none
    /// `If-None-Match: *`: only if no current version exists.
    case ifNoneMatchAny
    /// `If-Match: "etag"`: only if the current version has this ETag (unquoted); with no current version
    /// the write is refused with `.noSuchKey`, as S3 does.
    case ifMatch(String)
    /// `If-Match: *`: only if a current version exists (else `.noSuchKey`). Command format 2.
    case ifMatchAny
    /// `If-None-Match: "etag"`: only if there is no current version or it has another ETag (unquoted).
    /// Command format 2.
    case ifNoneMatch(String)
}

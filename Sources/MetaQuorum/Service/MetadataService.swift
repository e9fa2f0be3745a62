/// The metadata contract the Gateway calls. It is the only way any other module reads or changes
/// bucket, object, upload or user metadata.
///
/// Promises (for every implementation: the embedded single voter now, the RaftKit-replicated group later):
/// - Every mutating call is one `MetaCommand`, applied by the deterministic state machine at one point
///   between the call and its return (the Raft commit is the linearization point). Preconditions
///   (`If-None-Match: *`, `If-Match`, bucket ownership, bucket emptiness) are decided at apply time.
/// - A mutating call that returns has been made durable.
/// - Every read observes every mutation that returned before the read was called (linearizable reads).
/// - `requestID` makes a retried command idempotent: the state machine remembers recent ids and answers a
///   duplicate with the first outcome instead of applying it twice.
/// - Wall time enters only through the `time` fields of commands (milliseconds since the Unix epoch,
///   stamped by the caller); the state machine never reads a clock. Every `…Time` parameter and field in
///   this file (`time`, `startedTime`, `createdTime`, `lastModifiedTime`, `initiatedTime`, `queuedTime`)
///   is in milliseconds since the Unix epoch.
public protocol MetadataService: Sendable {
    // MARK: Users
    func createUser(_ user: UserRecord, requestID: RequestID) async throws(MetaError)
    /// Deletes the user `name`. A user who still owns buckets is refused (`.userOwnsBuckets`) unless
    /// `heir` names the user id their buckets pass to (the user's own id keeps them for a user re-created
    /// with that id, as a root key rotation does).
    func deleteUser(name: String, heir: String?, requestID: RequestID) async throws(MetaError)
    func listUsers() async throws(MetaError) -> [UserRecord]
    /// The user owning `accessKeyID`, or nil. Gateways cache this.
    func user(accessKeyID: String) async throws(MetaError) -> UserRecord?

    // MARK: Quotas and usage
    /// Sets (or, with both limits nil, removes) the quota of a bucket or of a user (all its buckets).
    /// Throws `.noSuchBucket` or `.noSuchUser`. Writes past a quota fail with `.quotaExceeded`, decided
    /// at apply time; usage already past a lowered quota stays, and only growth is refused.
    func setQuota(_ quota: Quota, for target: QuotaTarget, requestID: RequestID) async throws(MetaError)
    /// What a bucket or a user stores now (objects and the parts of open uploads) and its quota.
    func usage(of target: QuotaTarget) async throws(MetaError) -> UsageReport

    // MARK: Buckets
    /// Throws `.bucketAlreadyOwnedByYou` or `.bucketAlreadyExists`. `acl` nil: the owner-only ACL;
    /// `ownership` nil: no ownership controls.
    func createBucket(name: String, owner: String, time: Int64, acl: AccessControlList?,
                      ownership: ObjectOwnership?, requestID: RequestID) async throws(MetaError)
    /// Throws `.noSuchBucket`, `.bucketNotEmpty` (objects
    /// remain). In-progress multipart uploads are aborted with the bucket, as in AWS, in the same applied
    /// command: their parts' chunks go to the garbage queue in that transaction.
    func deleteBucket(name: String, requester: String, requestID: RequestID) async throws(MetaError)
    /// Buckets owned by `owner`, sorted by name.
    func listBuckets(owner: String) async throws(MetaError) -> [BucketRecord]
    /// The bucket with its ACL, ownership controls and policy: a linearizable read, so the `Authorizer`
    /// decides on what the last applied access-control command left.
    func bucket(name: String) async throws(MetaError) -> BucketRecord?

    /// The bucket and the current version of `key` in one linearizable read. Throws `.noSuchBucket`.
    func objectAccess(bucket: String, key: String) async throws(MetaError)
        -> (bucket: BucketRecord, object: ObjectRecord?)

    // MARK: Access control (who may send these is decided by the Gateway's `Authorizer`)
    /// Throws `.noSuchBucket`, `.aclNotSupported` (ownership controls are `BucketOwnerEnforced`).
    func putBucketACL(bucket: String, acl: AccessControlList, requester: String, requestID: RequestID)
        async throws(MetaError)
    /// Sets the ACL of the current version. Throws `.noSuchBucket`, `.noSuchKey`, `.aclNotSupported`.
    func putObjectACL(bucket: String, key: String, acl: AccessControlList, requester: String,
                      requestID: RequestID) async throws(MetaError)
    /// nil deletes them. Throws `.noSuchBucket`, `.ownershipControlsNotFound` (delete without any).
    func setOwnershipControls(bucket: String, ownership: ObjectOwnership?, requester: String,
                              requestID: RequestID) async throws(MetaError)
    /// nil deletes it. Throws `.noSuchBucket`, `.noSuchBucketPolicy` (delete without one).
    func setBucketPolicy(bucket: String, policy: String?, requester: String, requestID: RequestID)
        async throws(MetaError)

    // MARK: Objects
    /// Makes `object` the current version of (object.bucket, object.key). Throws `.noSuchBucket`,
    /// `.preconditionFailed` (the precondition did not hold at apply time), `.noSuchKey`
    /// (an If-Match precondition and no current version) or
    /// `.requestTooOld` (the write started too long ago: its chunks may have been swept).
    ///
    /// Versioning is decided at apply time by the bucket's state: Enabled keeps the previous current version
    /// as a noncurrent one and the new version takes `object.versionID` (chosen by the proposer); otherwise the
    /// new version is the `null` version and replaces the previous `null` version, whose chunks are queued for
    /// garbage collection in the same transaction. Returns the version id stored when versioning is Enabled,
    /// nil for the `null` version (S3 then names no version).
    @discardableResult
    func putObject(_ object: ObjectRecord, requester: String, precondition: WritePrecondition,
                   startedTime: Int64, requestID: RequestID) async throws(MetaError) -> String?
    /// The current version, or nil (none, or the latest version is a delete marker). Throws `.noSuchBucket`.
    /// (`requester` names who asks; access is the Gateway's `Authorizer`'s decision, as for every method here.)
    func object(bucket: String, key: String, requester: String) async throws(MetaError) -> ObjectRecord?
    /// One version of a key: the latest (`versionID` nil; possibly a delete marker) or the one named
    /// (`null` included). Nil when there is none. Throws `.noSuchBucket`.
    func objectVersion(bucket: String, key: String, versionID: String?, requester: String) async throws(MetaError)
        -> ObjectVersion?
    /// Deletes versions or makes delete markers, one outcome per target in order, in one command. A target
    /// without a version id deletes the current version of an unversioned bucket, and otherwise makes a delete
    /// marker (its id is the target's `markerVersionID` when versioning is Enabled, `null` when Suspended). A
    /// target with a version id removes exactly that version (a missing one is no error, as in S3); when it
    /// was the latest, the next newer version becomes current. Throws `.noSuchBucket`.
    func deleteObjectVersions(bucket: String, targets: [DeleteTarget], requester: String, time: Int64,
                              requestID: RequestID) async throws(MetaError) -> [DeleteOutcome]
    /// One page of every version and delete marker, in key order and newest first within a key.
    func listObjectVersions(_ query: ListVersionsQuery, requester: String) async throws(MetaError)
        -> ListVersionsPage
    /// Enables or suspends versioning (a bucket never returns to unversioned). Throws `.noSuchBucket`, `.invalidArgument` for `.unversioned`.
    func setBucketVersioning(bucket: String, state: BucketVersioning, requester: String, requestID: RequestID)
        async throws(MetaError)
    /// The bucket's versioning state. Throws `.noSuchBucket`.
    func bucketVersioning(bucket: String, requester: String) async throws(MetaError) -> BucketVersioning
    /// Deletes each key as `deleteObjectVersions` does with targets that name no version (deleting a missing
    /// key succeeds, as in S3; a versioned bucket gets delete markers with fresh ids). Returns whether a
    /// current version stopped being current. Throws `.noSuchBucket`.
    @discardableResult
    func deleteObjects(bucket: String, keys: [String], requester: String, time: Int64,
                       requestID: RequestID) async throws(MetaError) -> [Bool]
    /// One page of current objects in key order. Throws `.noSuchBucket`.
    func listObjects(_ query: ListObjectsQuery, requester: String) async throws(MetaError) -> ListObjectsPage

    // MARK: Multipart uploads
    /// Registers a new upload. Throws `.noSuchBucket`.
    func createMultipartUpload(_ upload: UploadRecord, requester: String, requestID: RequestID)
        async throws(MetaError)
    /// The upload, or nil if it is unknown, completed or aborted.
    func upload(bucket: String, key: String, uploadID: String, requester: String) async throws(MetaError)
        -> UploadRecord?
    /// Stores or replaces part `part.partNumber` (last upload wins); the replaced part's chunks go to GC.
    /// Throws `.noSuchUpload`, `.requestTooOld`.
    func putPart(_ part: PartRecord, bucket: String, key: String, uploadID: String, requester: String,
                 startedTime: Int64, requestID: RequestID) async throws(MetaError)
    /// Assembles the named parts into the current version of the key, atomically. Checks at apply time:
    /// the upload exists (`.noSuchUpload`), parts are in ascending order (`.invalidPartOrder`), each named
    /// part exists with that ETag (`.invalidPart`), every part but the last is at least
    /// `minimumPartSizeBytes` (`.entityTooSmall`), and the precondition (`.preconditionFailed`).
    /// Unreferenced parts of the upload go to GC. Returns the new object. Completing an upload that was
    /// already completed returns the same object (idempotent retry): by the same requestID always; by any
    /// request naming parts with the same ETags while the completed object is still the key's current
    /// version (S3 answers 200 with the same ETag).
    func completeMultipartUpload(bucket: String, key: String, uploadID: String, parts: [CompletedPart],
                                 requester: String, precondition: WritePrecondition, time: Int64,
                                 minimumPartSizeBytes: Int64, requestID: RequestID) async throws(MetaError)
        -> ObjectRecord
    /// Throws `.noSuchUpload`. The upload's parts go to GC.
    func abortMultipartUpload(bucket: String, key: String, uploadID: String, requester: String,
                              requestID: RequestID) async throws(MetaError)
    func listParts(bucket: String, key: String, uploadID: String, requester: String,
                   partNumberMarker: Int, maxParts: Int) async throws(MetaError) -> ListPartsPage
    func listMultipartUploads(_ query: ListUploadsQuery, requester: String) async throws(MetaError)
        -> ListUploadsPage

    // MARK: Chunk garbage
    /// Chunks no metadata references any more (replaced, deleted, aborted), oldest first, at most `limit`.
    func garbageChunks(limit: Int) async throws(MetaError) -> [GarbageChunk]
    /// Forgets garbage entries whose chunks the blob store has deleted.
    func forgetGarbage(_ chunkIDs: [ChunkID], requestID: RequestID) async throws(MetaError)
    /// Of `chunkIDs`, those that some object, part or garbage entry references (used by the sweeper of
    /// chunks written by PUTs that never committed).
    func referencedChunks(_ chunkIDs: [ChunkID]) async throws(MetaError) -> Set<ChunkID>
    /// Every live chunk (of objects, then of open uploads' parts) with the nodes its metadata names, a page
    /// of at most `limit` records after `position` (nil: from the start). For the repairer, which checks
    /// that each named node still holds a good copy.
    func chunkPlacements(after position: ChunkScanPosition?, limit: Int) async throws(MetaError) -> ChunkPlacementPage

    /// Returns once a linearizable read succeeds (so a metadata quorum answers), else throws (health checks).
    func checkHealth() async throws(MetaError)
}

/// A chunk's name: 128 random bits, never reused.
public typealias ChunkID = UInt128

/// A client-chosen id that makes a command idempotent (16 random bytes as 32 hex digits, say).
public typealias RequestID = String

extension MetadataService {
    /// A bucket with the owner-only ACL and no ownership controls.
    public func createBucket(name: String, owner: String, time: Int64, requestID: RequestID)
        async throws(MetaError)
    {
        try await createBucket(name: name, owner: owner, time: time, acl: nil, ownership: nil, requestID: requestID)
    }
}

/// Errors of the metadata service. `Gateway/S3/S3Error.swift` maps each case to an S3 error.
public enum MetaError: Error, Sendable, Equatable {
    /// True when the write certainly did not take effect and never will: then, and only then, may the caller
    /// delete what it prepared for it (chunks). False for `.outcomeUnknown` and `.internalFault`.
    public var isDefiniteRefusal: Bool {
        switch self {
        case .outcomeUnknown, .internalFault: false
        default: true
        }
    }

    case noSuchBucket
    case bucketAlreadyExists
    case bucketAlreadyOwnedByYou
    case bucketNotEmpty
    case accessDenied
    case noSuchKey
    case noSuchUpload
    case invalidPart(partNumber: Int)
    case invalidPartOrder
    case entityTooSmall(partNumber: Int)
    case preconditionFailed
    case requestTooOld
    case userAlreadyExists
    case noSuchUser
    /// The user still owns buckets and no heir was named.
    case userOwnsBuckets
    /// The write would take a bucket or its owner past a quota; the message names which.
    case quotaExceeded(String)
    case invalidArgument(String)
    /// No quorum or no leader reachable, and the request did not take effect: the client may retry (S3
    /// answers 503). For a write this is a definite refusal: whatever the write prepared (its chunks) may go.
    case unavailable(String)
    /// A write was handed to the replicated log and may or may not commit (a leader change or a deadline
    /// came first). Never a success, never a definite failure: the caller keeps what the write refers to
    /// (its chunks) and the client gets 503 and retries (the same request id then finds the first outcome).
    case outcomeUnknown(String)
    /// Free space on the metadata's disk is below the reserved floor: writes that grow the metadata are
    /// refused (S3 answers 503) while deletes still work.
    case insufficientStorage(String)
    /// A storage or decoding fault inside the service; the message is for logs, not for clients.
    case internalFault(String)
    /// `deleteBucketPolicy` or a policy read on a bucket without one.
    case noSuchBucketPolicy
    /// `deleteOwnershipControls` on a bucket without them.
    case ownershipControlsNotFound
    /// An ACL change on a bucket whose ownership controls are `BucketOwnerEnforced` (decided at apply).
    case aclNotSupported
}

/// A user (an S3 account): one access key pair.
public struct UserRecord: Sendable, Equatable, Codable {
    /// The immutable identity that owns buckets and signs commands (`requester`). Chosen once, when the
    /// user is created (`u:` and 32 random hex digits); a later user with the same name gets another id
    /// and so owns nothing of the first. Users created before ids existed have their name as id.
    public var id: String
    public var name: String
    public var accessKeyID: String
    public var secretAccessKey: String
    public var isRoot: Bool
    /// Milliseconds since the Unix epoch.
    public var createdTime: Int64
    /// - Parameter id: nil for the legacy identity, the name.
    public init(id: String? = nil, name: String, accessKeyID: String, secretAccessKey: String, isRoot: Bool,
                createdTime: Int64) {
        self.id = id ?? name
        self.name = name
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.isRoot = isRoot
        self.createdTime = createdTime
    }
}

/// A bucket: its owner (a user id), its ACL, ownership controls and policy (schema 5).
public struct BucketRecord: Sendable, Equatable {
    public var name: String
    public var owner: String
    /// Milliseconds since the Unix epoch.
    public var createdTime: Int64
    /// The bucket's grants; buckets from before ACLs have the owner-only ACL.
    public var acl: AccessControlList
    /// nil: no ownership controls set (S3 then behaves as `ObjectWriter`).
    public var ownership: ObjectOwnership?
    /// The bucket policy as the owner sent it (JSON text, validated by the Gateway), nil for none.
    public var policy: String?
    public init(name: String, owner: String, createdTime: Int64, acl: AccessControlList? = nil,
                ownership: ObjectOwnership? = nil, policy: String? = nil) {
        self.name = name
        self.owner = owner
        self.createdTime = createdTime
        self.acl = acl ?? .ownerOnly(owner)
        self.ownership = ownership
        self.policy = policy
    }
}

/// Where one chunk of an object lives: which bytes of the object it holds and on which blob nodes.
public struct ChunkRef: Sendable, Equatable, Hashable {
    public var id: ChunkID
    public var sizeBytes: Int64
    /// Blob node ids holding a durable copy, as placed by the ring.
    public var nodes: [UInt32]
    public init(id: ChunkID, sizeBytes: Int64, nodes: [UInt32]) {
        self.id = id
        self.sizeBytes = sizeBytes
        self.nodes = nodes
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

/// A bucket's versioning state (S3's `Status` of `VersioningConfiguration`, plus the state before it was
/// ever set). Raw values are the stored and encoded form.
public enum BucketVersioning: UInt8, Sendable, Equatable {
    /// Versioning was never enabled: every object is the `null` version and a write replaces it.
    case unversioned = 0
    /// Every write makes a new version with a proposer-chosen id; deletes make delete markers.
    case enabled = 1
    /// Existing versions stay; new writes replace the `null` version, deletes make a `null` delete marker.
    case suspended = 2
}

/// The version id of S3's `null` version (objects written while versioning was not enabled).
public let nullVersionID = "null"

/// One version of a key as stored: an object, or a delete marker (then `object` carries only bucket,
/// key, versionID and lastModifiedTime, with size 0 and no chunks).
public struct ObjectVersion: Sendable, Equatable {
    public var object: ObjectRecord
    public var isDeleteMarker: Bool
    /// Whether this is the latest version of its key (the current object, or a delete marker that hides it).
    public var isLatest: Bool
    public init(object: ObjectRecord, isDeleteMarker: Bool, isLatest: Bool) {
        self.object = object
        self.isDeleteMarker = isDeleteMarker
        self.isLatest = isLatest
    }
}

/// One key (and optionally one version of it) to delete.
public struct DeleteTarget: Sendable, Equatable {
    public var key: String
    /// nil: the current version (or a delete marker in a versioned bucket); `null` included otherwise.
    public var versionID: String?
    /// The id a delete marker made for this target takes when versioning is Enabled; chosen by the proposer
    /// (unused, and may be empty, when `versionID` is set).
    public var markerVersionID: String
    public init(key: String, versionID: String?, markerVersionID: String) {
        self.key = key
        self.versionID = versionID
        self.markerVersionID = markerVersionID
    }
}

/// What deleting one target did.
public struct DeleteOutcome: Sendable, Equatable {
    /// The version removed (the target's version id), or the delete marker made; nil for a plain delete in an
    /// unversioned bucket.
    public var versionID: String?
    /// A delete marker was made, or the version removed was one.
    public var isDeleteMarker: Bool
    /// Whether a current object stopped being current.
    public var removedCurrent: Bool
    public init(versionID: String?, isDeleteMarker: Bool, removedCurrent: Bool) {
        self.versionID = versionID
        self.isDeleteMarker = isDeleteMarker
        self.removedCurrent = removedCurrent
    }
}

/// A page request of ListObjectVersions.
public struct ListVersionsQuery: Sendable, Equatable {
    public var bucket: String
    public var prefix: String
    /// Empty: no roll-up.
    public var delimiter: String
    /// Start after this key (every version of it) or, with `versionIDMarker`, after that version of it.
    public var keyMarker: String
    public var versionIDMarker: String
    /// 0...1000.
    public var maxKeys: Int
    public init(bucket: String, prefix: String, delimiter: String, keyMarker: String, versionIDMarker: String,
                maxKeys: Int) {
        self.bucket = bucket
        self.prefix = prefix
        self.delimiter = delimiter
        self.keyMarker = keyMarker
        self.versionIDMarker = versionIDMarker
        self.maxKeys = maxKeys
    }
}

/// One entry of a version listing (no chunks, no body).
public struct VersionSummary: Sendable, Equatable {
    public var key: String
    public var versionID: String
    public var isLatest: Bool
    public var isDeleteMarker: Bool
    public var sizeBytes: Int64
    public var etag: String
    public var lastModifiedTime: Int64
    public init(key: String, versionID: String, isLatest: Bool, isDeleteMarker: Bool, sizeBytes: Int64,
                etag: String, lastModifiedTime: Int64) {
        self.key = key
        self.versionID = versionID
        self.isLatest = isLatest
        self.isDeleteMarker = isDeleteMarker
        self.sizeBytes = sizeBytes
        self.etag = etag
        self.lastModifiedTime = lastModifiedTime
    }
}

/// One page of ListObjectVersions: `versions` and `commonPrefixes` together hold at most `maxKeys` entries.
/// When truncated, `nextKeyMarker` is the last key or common prefix returned and `nextVersionIDMarker` the
/// last version's id (nil after a common prefix).
public struct ListVersionsPage: Sendable, Equatable {
    public var versions: [VersionSummary]
    public var commonPrefixes: [String]
    public var isTruncated: Bool
    public var nextKeyMarker: String?
    public var nextVersionIDMarker: String?
    /// The bucket owner (every version's owner).
    public var owner: String
    public init(versions: [VersionSummary], commonPrefixes: [String], isTruncated: Bool, nextKeyMarker: String?,
                nextVersionIDMarker: String?, owner: String) {
        self.versions = versions
        self.commonPrefixes = commonPrefixes
        self.isTruncated = isTruncated
        self.nextKeyMarker = nextKeyMarker
        self.nextVersionIDMarker = nextVersionIDMarker
        self.owner = owner
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

public struct ListObjectsQuery: Sendable, Equatable {
    public var bucket: String
    public var prefix: String
    /// Empty: no roll-up.
    public var delimiter: String
    /// Return keys (and common prefixes) strictly greater than this. Empty: from the start.
    public var startAfter: String
    /// 0...1000.
    public var maxKeys: Int
    public init(bucket: String, prefix: String, delimiter: String, startAfter: String, maxKeys: Int) {
        self.bucket = bucket
        self.prefix = prefix
        self.delimiter = delimiter
        self.startAfter = startAfter
        self.maxKeys = maxKeys
    }
}

public struct ObjectSummary: Sendable, Equatable {
    public var key: String
    public var sizeBytes: Int64
    public var etag: String
    public var lastModifiedTime: Int64
    public var owner: String
    public init(key: String, sizeBytes: Int64, etag: String, lastModifiedTime: Int64, owner: String) {
        self.key = key
        self.sizeBytes = sizeBytes
        self.etag = etag
        self.lastModifiedTime = lastModifiedTime
        self.owner = owner
    }
}

/// One page of a listing. `objects` and `commonPrefixes` together hold at most `maxKeys` entries, in key
/// order; `nextMarker` is the last key or common prefix returned when `isTruncated`.
public struct ListObjectsPage: Sendable, Equatable {
    public var objects: [ObjectSummary]
    public var commonPrefixes: [String]
    public var isTruncated: Bool
    public var nextMarker: String?
    public init(objects: [ObjectSummary], commonPrefixes: [String], isTruncated: Bool, nextMarker: String?) {
        self.objects = objects
        self.commonPrefixes = commonPrefixes
        self.isTruncated = isTruncated
        self.nextMarker = nextMarker
    }
}

/// An in-progress multipart upload.
public struct UploadRecord: Sendable, Equatable {
    public var bucket: String
    public var key: String
    public var uploadID: String
    public var initiator: String
    /// Milliseconds since the Unix epoch.
    public var initiatedTime: Int64
    public var headers: [HeaderField]
    public var userMetadata: [HeaderField]
    /// The checksum algorithm named at creation (`x-amz-checksum-algorithm`), if any.
    public var checksumAlgorithm: String?
    /// The ACL the completed object gets (asked for at creation); nil for uploads from before ACLs:
    /// private to the initiator.
    public var acl: AccessControlList?
    public init(bucket: String, key: String, uploadID: String, initiator: String, initiatedTime: Int64,
                headers: [HeaderField], userMetadata: [HeaderField], checksumAlgorithm: String?,
                acl: AccessControlList? = nil) {
        self.acl = acl
        self.bucket = bucket
        self.key = key
        self.uploadID = uploadID
        self.initiator = initiator
        self.initiatedTime = initiatedTime
        self.headers = headers
        self.userMetadata = userMetadata
        self.checksumAlgorithm = checksumAlgorithm
    }
}

public struct PartRecord: Sendable, Equatable {
    public var partNumber: Int
    public var sizeBytes: Int64
    /// Unquoted MD5 hex of the part's bytes.
    public var etag: String
    public var lastModifiedTime: Int64
    public var checksum: StoredChecksum?
    public var chunks: [ChunkRef]
    public init(partNumber: Int, sizeBytes: Int64, etag: String, lastModifiedTime: Int64,
                checksum: StoredChecksum?, chunks: [ChunkRef]) {
        self.partNumber = partNumber
        self.sizeBytes = sizeBytes
        self.etag = etag
        self.lastModifiedTime = lastModifiedTime
        self.checksum = checksum
        self.chunks = chunks
    }
}

/// A part named in CompleteMultipartUpload.
public struct CompletedPart: Sendable, Equatable {
    public var partNumber: Int
    /// Unquoted.
    public var etag: String
    public init(partNumber: Int, etag: String) {
        self.partNumber = partNumber
        self.etag = etag
    }
}

public struct ListPartsPage: Sendable, Equatable {
    public var upload: UploadRecord
    public var parts: [PartRecord]
    public var isTruncated: Bool
    public var nextPartNumberMarker: Int
    public init(upload: UploadRecord, parts: [PartRecord], isTruncated: Bool, nextPartNumberMarker: Int) {
        self.upload = upload
        self.parts = parts
        self.isTruncated = isTruncated
        self.nextPartNumberMarker = nextPartNumberMarker
    }
}

public struct ListUploadsQuery: Sendable, Equatable {
    public var bucket: String
    public var prefix: String
    public var delimiter: String
    /// Uploads after (keyMarker, uploadIDMarker) in (key, initiated order, uploadID) order; an empty
    /// uploadIDMarker means after every upload of keyMarker.
    public var keyMarker: String
    public var uploadIDMarker: String
    public var maxUploads: Int
    public init(bucket: String, prefix: String, delimiter: String, keyMarker: String, uploadIDMarker: String,
                maxUploads: Int) {
        self.bucket = bucket
        self.prefix = prefix
        self.delimiter = delimiter
        self.keyMarker = keyMarker
        self.uploadIDMarker = uploadIDMarker
        self.maxUploads = maxUploads
    }
}

public struct ListUploadsPage: Sendable, Equatable {
    public var uploads: [UploadRecord]
    public var commonPrefixes: [String]
    public var isTruncated: Bool
    public var nextKeyMarker: String?
    public var nextUploadIDMarker: String?
    public init(uploads: [UploadRecord], commonPrefixes: [String], isTruncated: Bool, nextKeyMarker: String?,
                nextUploadIDMarker: String?) {
        self.uploads = uploads
        self.commonPrefixes = commonPrefixes
        self.isTruncated = isTruncated
        self.nextKeyMarker = nextKeyMarker
        self.nextUploadIDMarker = nextUploadIDMarker
    }
}

/// A chunk no metadata needs any more, queued at `queuedTime` (the unlinking command's time).
public struct GarbageChunk: Sendable, Equatable {
    public var chunk: ChunkRef
    /// Milliseconds since the Unix epoch.
    public var queuedTime: Int64
    public init(chunk: ChunkRef, queuedTime: Int64) {
        self.chunk = chunk
        self.queuedTime = queuedTime
    }
}

/// Whose usage a quota limits.
public enum QuotaTarget: Sendable, Equatable {
    case bucket(String)
    /// A user by name (resolved to its id when the command applies).
    case user(String)
}

/// Limits on stored bytes and object count; nil means unlimited.
public struct Quota: Sendable, Equatable, Codable {
    public var bytesMax: Int64?
    public var objectsMax: Int64?
    public init(bytesMax: Int64? = nil, objectsMax: Int64? = nil) {
        self.bytesMax = bytesMax
        self.objectsMax = objectsMax
    }
}

/// Stored bytes (objects plus the parts of open uploads) and objects of a bucket or a user, with its quota.
public struct UsageReport: Sendable, Equatable, Codable {
    public var bytes: Int64
    public var objects: Int64
    public var quota: Quota
    public init(bytes: Int64, objects: Int64, quota: Quota) {
        self.bytes = bytes
        self.objects = objects
        self.quota = quota
    }
}

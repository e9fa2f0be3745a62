/// The metadata contract the Gateway calls. It is the only way any other module reads or changes
/// bucket, object, upload or user metadata.
///
/// Promises (for every implementation: the embedded single voter now, the RaftKit-replicated group later):
/// - Every mutating call is one `MetaCommand`, applied by the deterministic state machine at one point
///   between the call and its return (the Raft commit is the linearization point). Preconditions
///   (`If-None-Match: *`, `If-Match`, bucket ownership, bucket emptiness) are decided at apply time.
/// - A mutating call that returns has been made durable.
/// - Every read observes every mutation that returned before the read was called (linearizable reads).
/// - `commandID` makes a retried command idempotent: the state machine remembers recent ids and answers a
///   duplicate with the first outcome instead of applying it twice.
/// - Wall time enters only through the `time` fields of commands (milliseconds since the Unix epoch,
///   stamped by the caller); the state machine never reads a clock. Every `…Time` parameter and field in
///   this file (`time`, `startedTime`, `createdTime`, `lastModifiedTime`, `initiatedTime`, `queuedTime`)
///   is in milliseconds since the Unix epoch.
public protocol MetadataService: Sendable {
    // MARK: Users
    func createUser(_ user: UserRecord, commandID: CommandID) async throws(MetaError)
    /// Deletes the user `name`. A user who still owns buckets is refused (`.userOwnsBuckets`) unless
    /// `heir` names the user id their buckets pass to (the user's own id keeps them for a user re-created
    /// with that id, as a root key rotation does).
    func deleteUser(name: String, heir: String?, commandID: CommandID) async throws(MetaError)
    func listUsers() async throws(MetaError) -> [UserRecord]
    /// The user owning `accessKeyID`, or nil. Gateways cache this.
    func user(accessKeyID: String) async throws(MetaError) -> UserRecord?

    // MARK: Quotas and usage
    /// Sets (or, with both limits nil, removes) the quota of a bucket or of a user (all its buckets).
    /// Throws `.noSuchBucket` or `.noSuchUser`. Writes past a quota fail with `.quotaExceeded`, decided
    /// at apply time; usage already past a lowered quota stays, and only growth is refused.
    func setQuota(_ quota: Quota, for target: QuotaTarget, commandID: CommandID) async throws(MetaError)
    /// What a bucket or a user stores now (objects and the parts of open uploads) and its quota.
    func usage(of target: QuotaTarget) async throws(MetaError) -> UsageReport

    // MARK: Buckets
    /// Throws `.bucketAlreadyOwnedByYou` or `.bucketAlreadyExists`. `acl` nil: the owner-only ACL;
    /// `ownership` nil: no ownership controls.
    func createBucket(name: String, owner: String, time: Int64, acl: AccessControlList?,
                      ownership: ObjectOwnership?, commandID: CommandID) async throws(MetaError)
    /// `createBucket` with object lock enabled (`objectLock`) and versioning Enabled, in one command.
    func createBucket(name: String, owner: String, time: Int64, acl: AccessControlList?,
                      ownership: ObjectOwnership?, objectLock: ObjectLockConfiguration, commandID: CommandID)
        async throws(MetaError)
    /// Throws `.noSuchBucket`, `.bucketNotEmpty` (objects
    /// remain). In-progress multipart uploads are aborted with the bucket, as in AWS, in the same applied
    /// command: their parts' chunks go to the garbage queue in that transaction.
    func deleteBucket(name: String, requester: String, commandID: CommandID) async throws(MetaError)
    /// Buckets owned by `owner`, sorted by name.
    func listBuckets(owner: String) async throws(MetaError) -> [BucketRecord]
    /// The bucket with its ACL, ownership controls and policy: a linearizable read, so the `Authorizer`
    /// decides on what the last applied access-control command left.
    func bucket(name: String) async throws(MetaError) -> BucketRecord?

    /// The bucket and the current version of `key` in one linearizable read. Throws `.noSuchBucket`.
    func objectAccess(bucket: String, key: String) async throws(MetaError)
        -> (bucket: BucketRecord, object: ObjectRecord?)

    // MARK: Access control (who may send these is decided by the Gateway's `Authorizer`)
    // Each takes the `BucketAccessStamp` of the bucket record the Gateway decided on (nil: unchecked). When
    // the bucket's access settings changed before the command applies, it is refused with
    // `.bucketAccessChanged` (and not remembered): decide again on a fresh read. So a change of ACL,
    // policy, ownership controls or public access block never slips between a decision and its write.
    /// Throws `.noSuchBucket`, `.aclNotSupported` (ownership controls are `BucketOwnerEnforced`).
    func putBucketACL(bucket: String, acl: AccessControlList, requester: String, access: BucketAccessStamp?,
                      commandID: CommandID) async throws(MetaError)
    /// Sets the ACL of the current version. Throws `.noSuchBucket`, `.noSuchKey`, `.aclNotSupported`.
    func putObjectACL(bucket: String, key: String, acl: AccessControlList, requester: String,
                      access: BucketAccessStamp?, commandID: CommandID) async throws(MetaError)
    /// nil deletes them. Throws `.noSuchBucket`, `.ownershipControlsNotFound` (delete without any).
    func setOwnershipControls(bucket: String, ownership: ObjectOwnership?, requester: String,
                              access: BucketAccessStamp?, commandID: CommandID) async throws(MetaError)
    /// nil deletes it. Throws `.noSuchBucket`, `.noSuchBucketPolicy` (delete without one).
    func setBucketPolicy(bucket: String, policy: String?, requester: String, access: BucketAccessStamp?,
                         commandID: CommandID) async throws(MetaError)

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
    func putObject(_ object: ObjectRecord, requester: String, access: BucketAccessStamp?, precondition: WritePrecondition,
                   startedTime: Int64, commandID: CommandID) async throws(MetaError) -> String?
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
    /// A target naming a version under legal hold or unexpired retention is not deleted: its outcome carries
    /// `.objectLocked` (GOVERNANCE retention does not hold with `bypassGovernance`).
    func deleteObjectVersions(bucket: String, targets: [DeleteTarget], requester: String, access: BucketAccessStamp?,
                              time: Int64, bypassGovernance: Bool,
                              commandID: CommandID) async throws(MetaError) -> [DeleteOutcome]
    /// One page of every version and delete marker, in key order and newest first within a key.
    func listObjectVersions(_ query: ListVersionsQuery, requester: String) async throws(MetaError)
        -> ListVersionsPage
    /// Enables or suspends versioning (a bucket never returns to unversioned). Throws `.noSuchBucket`, `.invalidArgument` for `.unversioned`.
    func setBucketVersioning(bucket: String, state: BucketVersioning, requester: String, commandID: CommandID)
        async throws(MetaError)
    /// The bucket's versioning state. Throws `.noSuchBucket`.
    func bucketVersioning(bucket: String, requester: String) async throws(MetaError) -> BucketVersioning
    /// Sets how the bucket keeps the chunks of objects written from now on (nil: the cluster's default);
    /// objects already written keep their layout. An administrator's operation: the caller authorizes.
    /// Throws `.noSuchBucket`, `.invalidArgument` for counts outside `MetaLimits`.
    func setBucketDurability(bucket: String, durability: BucketDurability?, commandID: CommandID)
        async throws(MetaError)
    /// The bucket's durability, nil when none was set (the gateway's default applies). Throws `.noSuchBucket`.
    func bucketDurability(bucket: String) async throws(MetaError) -> BucketDurability?
    /// `chunkPlacements` with `records` filled: the record that names each chunk, for `relocateChunk`.
    func locatedChunkPlacements(after position: ChunkScanPosition?, limit: Int) async throws(MetaError)
        -> ChunkPlacementPage
    /// Records that the copy or shard of `chunkID` on node `from`, in the record at `record`, is now on `to`
    /// (the repairer wrote it there first). Throws `.noSuchKey` when that record no longer names it on `from`.
    func relocateChunk(record: ChunkScanPosition, chunkID: ChunkID, from: UInt32, to: UInt32, commandID: CommandID)
        async throws(MetaError)
    /// Deletes each key as `deleteObjectVersions` does with targets that name no version (deleting a missing
    /// key succeeds, as in S3; a versioned bucket gets delete markers with fresh ids). Returns whether a
    /// current version stopped being current. Throws `.noSuchBucket`.
    @discardableResult
    func deleteObjects(bucket: String, keys: [String], requester: String, time: Int64,
                       commandID: CommandID) async throws(MetaError) -> [Bool]
    /// One page of current objects in key order. Throws `.noSuchBucket`.
    func listObjects(_ query: ListObjectsQuery, requester: String) async throws(MetaError) -> ListObjectsPage

    // MARK: Multipart uploads
    /// Registers a new upload. Throws `.noSuchBucket`.
    func createMultipartUpload(_ upload: UploadRecord, requester: String, access: BucketAccessStamp?, commandID: CommandID)
        async throws(MetaError)
    /// The upload, or nil if it is unknown, completed or aborted.
    func upload(bucket: String, key: String, uploadID: String, requester: String) async throws(MetaError)
        -> UploadRecord?
    /// Stores or replaces part `part.partNumber` (last upload wins); the replaced part's chunks go to GC.
    /// Throws `.noSuchUpload`, `.requestTooOld`.
    func putPart(_ part: PartRecord, bucket: String, key: String, uploadID: String, requester: String,
                 access: BucketAccessStamp?, startedTime: Int64, commandID: CommandID) async throws(MetaError)
    /// Assembles the named parts into the current version of the key, atomically. Checks at apply time:
    /// the upload exists (`.noSuchUpload`), parts are in ascending order (`.invalidPartOrder`), each named
    /// part exists with that ETag (`.invalidPart`), every part but the last is at least
    /// `minimumPartSizeBytes` (`.entityTooSmall`), and the precondition (`.preconditionFailed`).
    /// Unreferenced parts of the upload go to GC. Returns the new object. Completing an upload that was
    /// already completed returns the same object (idempotent retry): by the same commandID always; by any
    /// request naming parts with the same ETags while the completed object is still the key's current
    /// version (S3 answers 200 with the same ETag).
    func completeMultipartUpload(bucket: String, key: String, uploadID: String, parts: [CompletedPart],
                                 requester: String, access: BucketAccessStamp?, precondition: WritePrecondition,
                                 time: Int64,
                                 minimumPartSizeBytes: Int64, commandID: CommandID) async throws(MetaError)
        -> ObjectRecord
    /// Throws `.noSuchUpload`. The upload's parts go to GC.
    func abortMultipartUpload(bucket: String, key: String, uploadID: String, requester: String,
                              access: BucketAccessStamp?, commandID: CommandID) async throws(MetaError)
    func listParts(bucket: String, key: String, uploadID: String, requester: String,
                   partNumberMarker: Int, maxParts: Int) async throws(MetaError) -> ListPartsPage
    func listMultipartUploads(_ query: ListUploadsQuery, requester: String) async throws(MetaError)
        -> ListUploadsPage

    // MARK: Chunk garbage
    /// Chunks no metadata references any more (replaced, deleted, aborted), oldest first, at most `limit`.
    func garbageChunks(limit: Int) async throws(MetaError) -> [GarbageChunk]
    /// Forgets garbage entries whose chunks the blob store has deleted.
    func forgetGarbage(_ chunkIDs: [ChunkID], commandID: CommandID) async throws(MetaError)
    /// Of `chunkIDs`, those that some object, part or garbage entry references (used by the sweeper of
    /// chunks written by PUTs that never committed).
    func referencedChunks(_ chunkIDs: [ChunkID]) async throws(MetaError) -> Set<ChunkID>
    /// Every live chunk (of objects, then of open uploads' parts) with the nodes its metadata names, a page
    /// of at most `limit` records after `position` (nil: from the start). For the repairer, which checks
    /// that each named node still holds a good copy.
    func chunkPlacements(after position: ChunkScanPosition?, limit: Int) async throws(MetaError) -> ChunkPlacementPage

    /// Returns once a linearizable read succeeds (so a metadata quorum answers), else throws (health checks).
    func checkHealth() async throws(MetaError)

    // MARK: Tagging and CORS (texts validated by the Gateway, stored as sent)
    /// Replaces (nil: removes) the tag set of the version named, or of the current version when `versionID`
    /// is nil, as it is at apply time; returns the id of the version tagged. Throws `.noSuchBucket`,
    /// `.noSuchKey` (no current version), `.noSuchVersion`, `.versionIsDeleteMarker`, and
    /// `.bucketAccessChanged` / `.objectAccessChanged` when the bucket or the version is no longer the one
    /// the stamps were taken from (nothing changed; decide again and retry with the same command id).
    func putObjectTagging(bucket: String, key: String, versionID: String?, tags: String?,
                          bucketAccess: BucketAccessStamp?, objectAccess: ObjectAccessStamp?, requester: String,
                          commandID: CommandID) async throws(MetaError) -> String
    /// nil deletes them. Throws `.noSuchBucket`, `.noSuchTagSet` (delete without any).
    func setBucketTagging(bucket: String, tags: String?, requester: String, commandID: CommandID)
        async throws(MetaError)
    /// The bucket's tag set in stored form, nil for none. Throws `.noSuchBucket`.
    func bucketTagging(bucket: String) async throws(MetaError) -> String?
    /// nil deletes it. Throws `.noSuchBucket`, `.noSuchCORSConfiguration` (delete without one).
    /// PutPublicAccessBlock (non-nil) or DeletePublicAccessBlock (nil). Throws `.noSuchBucket`. The block is
    /// part of the bucket record (and of its access stamp): `bucket(name:)` returns it.
    /// Stamped like the access-control writes above.
    func setPublicAccessBlock(bucket: String, block: PublicAccessBlock?, requester: String,
                              access: BucketAccessStamp?, commandID: CommandID) async throws(MetaError)
    func setBucketCORS(bucket: String, cors: String?, requester: String, commandID: CommandID)
        async throws(MetaError)
    /// The bucket's CORS configuration (canonical XML), nil for none. Throws `.noSuchBucket`.
    func bucketCORS(bucket: String) async throws(MetaError) -> String?

    // MARK: Lifecycle (the configuration validated by the Gateway; expirations decided at apply time)
    /// PutBucketLifecycleConfiguration (the canonical XML) or DeleteBucketLifecycle (nil). Throws
    /// `.noSuchBucket`, `.noSuchLifecycleConfiguration` (delete without one).
    func setBucketLifecycle(bucket: String, lifecycle: String?, requester: String, commandID: CommandID)
        async throws(MetaError)
    /// The bucket's lifecycle configuration (canonical XML), nil for none. Throws `.noSuchBucket`.
    func bucketLifecycle(bucket: String) async throws(MetaError) -> String?
    /// Applies a lifecycle pass's expirations in one command, one outcome per expiry in order: each takes
    /// effect only if its version is still as the pass saw it (else its refusal is `.preconditionFailed`),
    /// never on a locked version (`.objectLocked`). Throws `.noSuchBucket`.
    func expireByLifecycle(bucket: String, expiries: [LifecycleExpiry], commandID: CommandID)
        async throws(MetaError) -> [DeleteOutcome]

    // MARK: Object lock (decided at apply time, against the command's time)
    /// PutObjectLockConfiguration. Throws `.noSuchBucket`, `.invalidBucketState` (no object lock and
    /// versioning not Enabled).
    func setObjectLockConfiguration(bucket: String, configuration: ObjectLockConfiguration, requester: String,
                                    commandID: CommandID) async throws(MetaError)
    /// The bucket's object lock configuration, nil when object lock is not enabled. Throws `.noSuchBucket`.
    func objectLockConfiguration(bucket: String) async throws(MetaError) -> ObjectLockConfiguration?
    /// Sets (nil: removes) the retention of the version named, or of the current version, and returns that
    /// version's id. Throws `.noSuchBucket`, `.objectLockNotEnabled`, `.noSuchKey`, `.noSuchVersion`,
    /// `.versionIsDeleteMarker`, `.objectLocked` (a change the version's retention forbids), and
    /// `.bucketAccessChanged` when `access` no longer matches the bucket (decide again and retry).
    func putObjectRetention(bucket: String, key: String, versionID: String?, retention: ObjectRetention?,
                            bypassGovernance: Bool, access: BucketAccessStamp?, requester: String,
                            commandID: CommandID) async throws(MetaError) -> String
    /// Sets the legal hold of the version named, or of the current version, and returns that version's id.
    /// Throws as `putObjectRetention` does, `.objectLocked` excepted.
    func putObjectLegalHold(bucket: String, key: String, versionID: String?, legalHold: Bool,
                            access: BucketAccessStamp?, requester: String, commandID: CommandID)
        async throws(MetaError) -> String
}

extension MetadataService {
    /// `deleteObjectVersions` without bypassing GOVERNANCE retention.
    public func deleteObjectVersions(bucket: String, targets: [DeleteTarget], requester: String,
                                     access: BucketAccessStamp?, time: Int64, commandID: CommandID)
        async throws(MetaError) -> [DeleteOutcome]
    {
        try await deleteObjectVersions(bucket: bucket, targets: targets, requester: requester, access: access,
                                       time: time, bypassGovernance: false, commandID: commandID)
    }

    /// A bucket with the owner-only ACL and no ownership controls.
    public func createBucket(name: String, owner: String, time: Int64, commandID: CommandID)
        async throws(MetaError)
    {
        try await createBucket(name: name, owner: owner, time: time, acl: nil, ownership: nil, commandID: commandID)
    }
}

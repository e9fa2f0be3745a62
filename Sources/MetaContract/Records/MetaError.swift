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
    /// (its chunks) and the client gets 503 and retries (the same command id then finds the first outcome).
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
    /// A bucket tag-set read or delete on a bucket without one (codes 60–69: tagging and CORS).
    case noSuchTagSet
    /// A CORS configuration read or delete on a bucket without one.
    case noSuchCORSConfiguration
    /// The bucket has no lifecycle configuration (error tag 84).
    case noSuchLifecycleConfiguration
    /// A command named a version id the key does not have.
    case noSuchVersion
    /// A command named a delete marker where it needs an object version (tagging a marker).
    case versionIsDeleteMarker
    /// The tagging command's `ObjectAccessStamp` no longer matches its version: the decision it was proposed
    /// under is stale and it took no effect. The Gateway decides again on a fresh read and re-proposes under
    /// the same command id (the refusal is not remembered). Never reaches a client as such.
    case objectAccessChanged
    /// The write carried a `BucketAccessStamp` that no longer matches its bucket: the access decision it
    /// was proposed under is stale and the write took no effect. The Gateway re-reads the bucket,
    /// decides again and re-proposes under the same command id (the state machine does not remember this
    /// refusal). Never reaches a client as such.
    case bucketAccessChanged
    /// A blob-map command named a node id the map does not have (codes 86–89: the blob cluster map).
    case noSuchBlobNode(UInt32)
    /// A blob-map command would change, or re-register, a node that was removed: removal is final.
    case blobNodeRemoved(UInt32)
    /// An object lock operation (retention, legal hold, lock headers on a write) on a bucket without object
    /// lock (codes 81–83: object lock).
    case objectLockNotEnabled
    /// The bucket's state forbids the change: object lock on a bucket whose versioning is not Enabled,
    /// suspending versioning where object lock is enabled. The message says which.
    case invalidBucketState(String)
    /// A delete of a locked version, or a retention change the lock forbids (decided at apply time, against
    /// the command's time). The message says which lock.
    case objectLocked(String)
}

import Crypto
import MetaContract

/// What every command carries besides its inputs.
struct CommandEnvelope: Sendable, Equatable {
    /// Makes the command idempotent: the state machine answers a repeated id with the first outcome.
    /// Empty: not deduplicated.
    var commandID: CommandID
    /// The user on whose behalf the command runs (bucket ownership and access checks use it).
    var requester: String
    /// Milliseconds since the Unix epoch, stamped by the proposer. The only wall time the state machine sees.
    var time: Int64
    /// The stamp of the bucket record the Gateway authorized this write against (format 4), re-checked at
    /// apply time (`accessCheckedBucket`); nil: no check (commands the Gateway authorized on a linearizable
    /// read just before, and every command of an earlier format).
    var bucketAccess: BucketAccessStamp? = nil
}

/// One mutation of the metadata, as proposed to the log and applied by `MetaStateMachine`.
///
/// Every input the apply needs is in the command (ids such as versionID and uploadID are chosen by the
/// proposer), so applying the same commands in the same order gives the same state on every replica.
/// Wire format: `encode()` / `init(decoding:)`, a version byte then a kind tag then the fields.
enum MetaCommand: Sendable, Equatable {
    case createUser(CommandEnvelope, user: UserRecord)
    /// `heir`: the user id that takes over the user's buckets (nil: refused while the user owns any).
    case deleteUser(CommandEnvelope, name: String, heir: String?)
    /// The owner is `envelope.requester`; the creation time is `envelope.time`. `acl` nil: owner-only;
    /// `ownership` nil: no ownership controls (both format 3; earlier formats decode with nil). `objectLock`
    /// non-nil: created with object lock enabled and versioning Enabled (format 5; earlier formats: nil).
    case createBucket(CommandEnvelope, name: String, acl: AccessControlList?, ownership: ObjectOwnership?,
                      objectLock: ObjectLockConfiguration? = nil)
    /// `abortingUploads`: in-progress multipart uploads do not make the bucket non-empty; they are aborted
    /// with it (AWS's behaviour; format 2). Format 1 commands decode with `false`: such a bucket was refused.
    case deleteBucket(CommandEnvelope, name: String, abortingUploads: Bool)
    case putObject(CommandEnvelope, object: ObjectRecord, precondition: WritePrecondition, startedTime: Int64)
    case deleteObjects(CommandEnvelope, bucket: String, keys: [String])
    case createMultipartUpload(CommandEnvelope, upload: UploadRecord)
    case putPart(
        CommandEnvelope, bucket: String, key: String, uploadID: String, part: PartRecord,
        startedTime: Int64)
    /// `versionID` is the new object's version, chosen by the proposer.
    case completeMultipartUpload(
        CommandEnvelope, bucket: String, key: String, uploadID: String,
        parts: [CompletedPart], precondition: WritePrecondition,
        minimumPartSizeBytes: Int64, versionID: String)
    case abortMultipartUpload(CommandEnvelope, bucket: String, key: String, uploadID: String)
    case forgetGarbage(CommandEnvelope, chunkIDs: [ChunkID])
    /// Both limits nil: remove the quota.
    case setQuota(CommandEnvelope, target: QuotaTarget, quota: Quota)
    /// PutBucketAcl (format 3).
    case putBucketACL(CommandEnvelope, bucket: String, acl: AccessControlList)
    /// PutObjectAcl on the current version (format 3).
    case putObjectACL(CommandEnvelope, bucket: String, key: String, acl: AccessControlList)
    /// Put (non-nil) or DeleteBucketOwnershipControls (nil) (format 3).
    case setOwnershipControls(CommandEnvelope, bucket: String, ownership: ObjectOwnership?)
    /// PutBucketPolicy (the JSON text) or DeleteBucketPolicy (nil) (format 3).
    case setBucketPolicy(CommandEnvelope, bucket: String, policy: String?)
    /// Deletes versions or makes delete markers (format 3); the marker ids are chosen by the proposer. A
    /// locked version is not deleted (its outcome carries the refusal); `bypassGovernance`: GOVERNANCE
    /// retention does not hold (`x-amz-bypass-governance-retention`, permission checked by the Gateway;
    /// format 5, earlier formats decode with false).
    case deleteVersions(CommandEnvelope, bucket: String, targets: [DeleteTarget], bypassGovernance: Bool = false)
    /// Enables or suspends a bucket's versioning (format 3).
    case setBucketVersioning(CommandEnvelope, bucket: String, state: BucketVersioning)
    /// Put (non-nil) or DeleteObjectTagging (nil) on the version named, or on the current version when
    /// `versionID` is nil, decided at apply time (format 4, kind 40). `tags` is the stored form. `expected`:
    /// the `ObjectAccessStamp` of the version the Gateway authorized (nil: none checked).
    case putObjectTagging(CommandEnvelope, bucket: String, key: String, versionID: String?, tags: String?,
                          expected: ObjectAccessStamp?)
    /// Put (non-nil) or DeleteBucketTagging (nil), tags in stored form (format 4, kind 41).
    case setBucketTagging(CommandEnvelope, bucket: String, tags: String?)
    /// Put (non-nil, the canonical XML) or DeleteBucketCors (nil) (format 4, kind 42).
    case setBucketCORS(CommandEnvelope, bucket: String, cors: String?)
    /// Sets how the bucket's new chunks are kept (nil: the cluster's default) (format 4, kind 50).
    case setBucketDurability(CommandEnvelope, bucket: String, durability: BucketDurability?)
    /// Records that the copy or shard of chunk `chunkID` on node `from`, in the record at `record`, now lives
    /// on node `to` (the repairer rebuilt it there) (format 4, kind 51).
    case relocateChunk(CommandEnvelope, record: ChunkScanPosition, chunkID: ChunkID, from: UInt32, to: UInt32)
    /// Publishes (non-nil) or withdraws (nil) the metadata RPC address of group member `member`, so that
    /// gateways find members added after they started (format 4, kind 60).
    case setMemberAddress(CommandEnvelope, member: UInt64, apiAddress: String?)
    /// PutPublicAccessBlock (non-nil) or DeletePublicAccessBlock (nil) (format 4, kind 61).
    case setPublicAccessBlock(CommandEnvelope, bucket: String, block: PublicAccessBlock?)
    /// Adds a blob node to the cluster map, or updates its address, zone, weight and capacity; a `down` node
    /// comes back `up` (it is alive: it registered). Refused for a removed node (format 5, kind 70).
    case registerBlobNode(CommandEnvelope, node: BlobNodeRegistration)
    /// An operator's change of a node's state: `draining`, `removed` (final), back to `up`, or `down` (until
    /// its next heartbeat) (format 5, kind 71).
    case setBlobNodeState(CommandEnvelope, node: UInt32, state: BlobNodeState)
    /// The metadata leader's liveness decision (`BlobLiveness`): `alive` false turns an `up` node `down`,
    /// true a `down` node `up`; a draining or removed node is left as it is (format 5, kind 72).
    case setBlobNodeLiveness(CommandEnvelope, node: UInt32, alive: Bool)
    /// PutObjectLockConfiguration: enables object lock (on a bucket whose versioning is Enabled) and sets
    /// its default retention (format 5, kind 62).
    case setObjectLockConfiguration(CommandEnvelope, bucket: String, configuration: ObjectLockConfiguration)
    /// PutObjectRetention on the version named, or the current one when `versionID` is nil; nil removes the
    /// retention. What the lock allows is decided at apply time (format 5, kind 63).
    case putObjectRetention(CommandEnvelope, bucket: String, key: String, versionID: String?,
                            retention: ObjectRetention?, bypassGovernance: Bool)
    /// PutObjectLegalHold (ON: true) on the version named, or the current one (format 5, kind 64).
    case putObjectLegalHold(CommandEnvelope, bucket: String, key: String, versionID: String?, legalHold: Bool)
    /// Put (non-nil, the canonical XML) or DeleteBucketLifecycle (nil) (format 5, kind 65).
    case setBucketLifecycle(CommandEnvelope, bucket: String, lifecycle: String?)
    /// A lifecycle pass's expirations in one bucket, each applied only if its version is still as seen
    /// (format 5, kind 66).
    case expireByLifecycle(CommandEnvelope, bucket: String, expiries: [LifecycleExpiry])

    /// The current command format. Bump it (and keep decoding the old ones) when a field is added.
    /// 2: user records carry their id; `deleteUser` carries its heir; `setQuota`; objects may carry an
    /// inline body; `deleteBucket` carries `abortingUploads`; preconditions `ifMatchAny` and
    /// `ifNoneMatch(etag)`.
    /// 3: shared by two additions. Access control: `createBucket` carries an ACL and ownership controls;
    /// object records an owner and ACL, upload records an ACL; the access-control commands (kinds 30–33).
    /// Versioning: `deleteVersions` and `setBucketVersioning` (kinds 21, 22), no field of an older kind
    /// changed (a format-1/2 `deleteObjects` in a versioned bucket makes delete markers whose ids
    /// `derivedVersionID` gives). Commands of formats 1 and 2 decode with the defaults.
    /// 4: shared by three additions. The envelope carries an optional `BucketAccessStamp` after its time;
    /// tagging and CORS (kinds 40–42); erasure coding: `setBucketDurability` (kind 50), `relocateChunk`
    /// (kind 51), chunk references marking their own layout (see `ByteWriter.write(_: ChunkRef)`); members'
    /// RPC addresses, `setMemberAddress` (kind 60); `setPublicAccessBlock` (kind 61). No field of an older
    /// kind changed.
    /// 5: shared by two additions. Object lock (kinds 62–64: `setObjectLockConfiguration`,
    /// `putObjectRetention`, `putObjectLegalHold`); `createBucket` ends with its optional
    /// `ObjectLockConfiguration`, `deleteVersions` with `bypassGovernance` (format-4 commands decode with nil and
    /// false). The blob cluster map (kinds 70–74: `registerBlobNode` 70, `setBlobNodeState` 71,
    /// `setBlobNodeLiveness` 72; 73–74 reserved). Lifecycle (kinds 65–66: `setBucketLifecycle`,
    /// `expireByLifecycle`), added before any release carried format 5.
    static let formatVersion: UInt8 = 5
    /// Every format `init(decoding:)` reads (durable logs written by earlier versions).
    static let decodableFormats: ClosedRange<UInt8> = 1...5

    /// The bucket whose `BucketAccessStamp` the command may carry: the writes a Gateway authorizes on a
    /// bucket record it may have cached. nil for every other kind (a stamp on one is refused at apply).
    var accessCheckedBucket: String? {
        switch self {
        case .putObject(_, let object, _, _): return object.bucket
        case .deleteObjects(_, let bucket, _), .deleteVersions(_, let bucket, _, _): return bucket
        case .createMultipartUpload(_, let upload): return upload.bucket
        case .putPart(_, let bucket, _, _, _, _), .completeMultipartUpload(_, let bucket, _, _, _, _, _, _),
             .abortMultipartUpload(_, let bucket, _, _):
            return bucket
        // Bucket access settings, decided on a linearizable read of the bucket and stamped with it, so that
        // two concurrent changes (a public ACL and a public access block) cannot both pass on the old state.
        case .putBucketACL(_, let bucket, _), .putObjectACL(_, let bucket, _, _), .setOwnershipControls(_, let bucket, _),
             .setBucketPolicy(_, let bucket, _), .setPublicAccessBlock(_, let bucket, _):
            return bucket
        case .createUser, .deleteUser, .createBucket, .deleteBucket, .forgetGarbage, .setQuota,
             .setBucketVersioning, .setBucketDurability, .relocateChunk, .setMemberAddress, .registerBlobNode,
             .setBlobNodeState, .setBlobNodeLiveness:
            return nil
        // Object lock: a version's retention and legal hold are changed under an access decision (and a
        // governance bypass) made on a linearizable read of the bucket, stamped with it. What the lock itself
        // allows is decided at apply time whatever the access. The bucket's configuration is no access
        // setting: authorized on a linearizable read, not stamped.
        case .putObjectRetention(_, let bucket, _, _, _, _), .putObjectLegalHold(_, let bucket, _, _, _):
            return bucket
        case .setObjectLockConfiguration:
            return nil
        // Object tagging: authorized on a linearizable read of its bucket and version, both stamped (the
        // version's stamp is the command's `expected`).
        case .putObjectTagging(_, let bucket, _, _, _, _): return bucket
        // Authorized on a linearizable read of the bucket: not stamped.
        case .setBucketTagging, .setBucketCORS, .setBucketLifecycle:
            return nil
        // A background pass, not a request: what it may remove is decided at apply time (`LifecycleExpiry`).
        case .expireByLifecycle:
            return nil
        }
    }

    /// A version id derived from a command id and a position (32 hex digits): what a command that names no
    /// version id (a `deleteObjects` from before format 3) gives the delete markers it makes, the same on
    /// every replica.
    static func derivedVersionID(commandID: CommandID, position: Int) -> String {
        completedVersionID(uploadID: "marker/\(position)/" + commandID)
    }

    /// The version id every proposer gives the object an upload's completion makes: the first 16 bytes
    /// of SHA-256 of the upload id, as 32 hex digits (upload ids are unique, so these are too). A retried
    /// completion thus names the version the first one made, which is how the state machine recognises
    /// it (`applyCompleteUpload`).
    static func completedVersionID(uploadID: String) -> String {
        SHA256.hash(data: Array(uploadID.utf8)).prefix(16).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    var envelope: CommandEnvelope {
        switch self {
        case .createUser(let envelope, _), .deleteUser(let envelope, _, _), .createBucket(let envelope, _, _, _, _),
            .deleteBucket(let envelope, _, _), .putObject(let envelope, _, _, _), .deleteObjects(let envelope, _, _),
            .createMultipartUpload(let envelope, _), .putPart(let envelope, _, _, _, _, _),
            .completeMultipartUpload(let envelope, _, _, _, _, _, _, _),
            .abortMultipartUpload(let envelope, _, _, _), .forgetGarbage(let envelope, _),
            .setQuota(let envelope, _, _), .putBucketACL(let envelope, _, _), .putObjectACL(let envelope, _, _, _),
            .setOwnershipControls(let envelope, _, _), .setBucketPolicy(let envelope, _, _),
            .deleteVersions(let envelope, _, _, _), .setBucketVersioning(let envelope, _, _),
            .putObjectTagging(let envelope, _, _, _, _, _), .setBucketTagging(let envelope, _, _),
            .setBucketCORS(let envelope, _, _), .setBucketDurability(let envelope, _, _),
            .relocateChunk(let envelope, _, _, _, _), .setMemberAddress(let envelope, _, _),
            .setPublicAccessBlock(let envelope, _, _), .setObjectLockConfiguration(let envelope, _, _),
            .putObjectRetention(let envelope, _, _, _, _, _), .putObjectLegalHold(let envelope, _, _, _, _),
            .registerBlobNode(let envelope, _), .setBlobNodeState(let envelope, _, _),
            .setBlobNodeLiveness(let envelope, _, _), .setBucketLifecycle(let envelope, _, _),
            .expireByLifecycle(let envelope, _, _):
            return envelope
        }
    }

    /// The same command with its envelope's time replaced: what the leader does before proposing, so that
    /// every command time comes from one clock (see `RaftMetaLog`).
    func stamped(time: Int64) -> MetaCommand {
        func with(_ envelope: CommandEnvelope) -> CommandEnvelope {
            var envelope = envelope
            envelope.time = time
            return envelope
        }
        switch self {
        case .createUser(let e, let user): return .createUser(with(e), user: user)
        case .deleteUser(let e, let name, let heir): return .deleteUser(with(e), name: name, heir: heir)
        case .createBucket(let e, let name, let acl, let ownership, let lock):
            return .createBucket(with(e), name: name, acl: acl, ownership: ownership, objectLock: lock)
        case .deleteBucket(let e, let name, let aborting):
            return .deleteBucket(with(e), name: name, abortingUploads: aborting)
        case .putObject(let e, let object, let precondition, let started):
            return .putObject(with(e), object: object, precondition: precondition, startedTime: started)
        case .deleteObjects(let e, let bucket, let keys): return .deleteObjects(with(e), bucket: bucket, keys: keys)
        case .createMultipartUpload(let e, let upload): return .createMultipartUpload(with(e), upload: upload)
        case .putPart(let e, let bucket, let key, let uploadID, let part, let started):
            return .putPart(with(e), bucket: bucket, key: key, uploadID: uploadID, part: part, startedTime: started)
        case .completeMultipartUpload(let e, let bucket, let key, let uploadID, let parts, let precondition,
                                      let minimum, let versionID):
            return .completeMultipartUpload(
                with(e), bucket: bucket, key: key, uploadID: uploadID, parts: parts, precondition: precondition,
                minimumPartSizeBytes: minimum, versionID: versionID)
        case .abortMultipartUpload(let e, let bucket, let key, let uploadID):
            return .abortMultipartUpload(with(e), bucket: bucket, key: key, uploadID: uploadID)
        case .forgetGarbage(let e, let ids): return .forgetGarbage(with(e), chunkIDs: ids)
        case .setQuota(let e, let target, let quota): return .setQuota(with(e), target: target, quota: quota)
        case .putBucketACL(let e, let bucket, let acl): return .putBucketACL(with(e), bucket: bucket, acl: acl)
        case .putObjectACL(let e, let bucket, let key, let acl):
            return .putObjectACL(with(e), bucket: bucket, key: key, acl: acl)
        case .setOwnershipControls(let e, let bucket, let ownership):
            return .setOwnershipControls(with(e), bucket: bucket, ownership: ownership)
        case .setBucketPolicy(let e, let bucket, let policy):
            return .setBucketPolicy(with(e), bucket: bucket, policy: policy)
        case .deleteVersions(let e, let bucket, let targets, let bypass):
            return .deleteVersions(with(e), bucket: bucket, targets: targets, bypassGovernance: bypass)
        case .setBucketVersioning(let e, let bucket, let state):
            return .setBucketVersioning(with(e), bucket: bucket, state: state)
        case .putObjectTagging(let e, let bucket, let key, let versionID, let tags, let expected):
            return .putObjectTagging(with(e), bucket: bucket, key: key, versionID: versionID, tags: tags,
                                     expected: expected)
        case .setBucketTagging(let e, let bucket, let tags): return .setBucketTagging(with(e), bucket: bucket, tags: tags)
        case .setBucketCORS(let e, let bucket, let cors): return .setBucketCORS(with(e), bucket: bucket, cors: cors)
        case .setBucketDurability(let e, let bucket, let durability):
            return .setBucketDurability(with(e), bucket: bucket, durability: durability)
        case .relocateChunk(let e, let record, let chunkID, let from, let to):
            return .relocateChunk(with(e), record: record, chunkID: chunkID, from: from, to: to)
        case .setMemberAddress(let e, let member, let address):
            return .setMemberAddress(with(e), member: member, apiAddress: address)
        case .setPublicAccessBlock(let e, let bucket, let block):
            return .setPublicAccessBlock(with(e), bucket: bucket, block: block)
        case .registerBlobNode(let e, let node): return .registerBlobNode(with(e), node: node)
        case .setBlobNodeState(let e, let node, let state): return .setBlobNodeState(with(e), node: node, state: state)
        case .setBlobNodeLiveness(let e, let node, let alive):
            return .setBlobNodeLiveness(with(e), node: node, alive: alive)
        case .setObjectLockConfiguration(let e, let bucket, let configuration):
            return .setObjectLockConfiguration(with(e), bucket: bucket, configuration: configuration)
        case .putObjectRetention(let e, let bucket, let key, let versionID, let retention, let bypass):
            return .putObjectRetention(with(e), bucket: bucket, key: key, versionID: versionID, retention: retention,
                                       bypassGovernance: bypass)
        case .putObjectLegalHold(let e, let bucket, let key, let versionID, let hold):
            return .putObjectLegalHold(with(e), bucket: bucket, key: key, versionID: versionID, legalHold: hold)
        case .setBucketLifecycle(let e, let bucket, let lifecycle):
            return .setBucketLifecycle(with(e), bucket: bucket, lifecycle: lifecycle)
        case .expireByLifecycle(let e, let bucket, let expiries):
            return .expireByLifecycle(with(e), bucket: bucket, expiries: expiries)
        }
    }

    /// The kind tag on the wire; also stored with a remembered command id, so that a command id reused for
    /// a different kind of command is refused instead of answered with an unrelated result.
    var kind: UInt8 {
        switch self {
        case .createUser: return 1
        case .deleteUser: return 2
        case .createBucket: return 3
        case .deleteBucket: return 4
        case .putObject: return 5
        case .deleteObjects: return 6
        case .createMultipartUpload: return 7
        case .putPart: return 8
        case .completeMultipartUpload: return 9
        case .abortMultipartUpload: return 10
        case .forgetGarbage: return 11
        case .setQuota: return 20
        case .putBucketACL: return 30
        case .putObjectACL: return 31
        case .setOwnershipControls: return 32
        case .setBucketPolicy: return 33
        case .deleteVersions: return 21
        case .setBucketVersioning: return 22
        case .putObjectTagging: return 40
        case .setBucketTagging: return 41
        case .setBucketCORS: return 42
        case .setBucketDurability: return 50
        case .setMemberAddress: return 60
        case .setPublicAccessBlock: return 61
        case .relocateChunk: return 51
        case .registerBlobNode: return 70
        case .setBlobNodeState: return 71
        case .setBlobNodeLiveness: return 72
        case .setObjectLockConfiguration: return 62
        case .putObjectRetention: return 63
        case .putObjectLegalHold: return 64
        case .setBucketLifecycle: return 65
        case .expireByLifecycle: return 66
        }
    }

    /// Whether applying the command can make the database larger. When free space runs low these are
    /// refused before they are proposed, and everything that frees space (deletes, aborts, garbage
    /// collection) still goes through.
    var growsMetadata: Bool {
        switch self {
        case .createUser, .createBucket, .putObject, .createMultipartUpload, .putPart, .completeMultipartUpload,
             .putBucketACL, .putObjectACL, .setOwnershipControls, .setBucketPolicy, .setObjectLockConfiguration,
             .putObjectRetention, .putObjectLegalHold:
            return true
        case .deleteUser, .deleteBucket, .deleteObjects, .abortMultipartUpload, .forgetGarbage, .setQuota,
             .setBucketDurability, .relocateChunk, .setMemberAddress, .setPublicAccessBlock:
            return false
        // One row per node, at most `BlobMapLimits.nodesMax`: the cluster must stay manageable on a full disk.
        case .registerBlobNode, .setBlobNodeState, .setBlobNodeLiveness:
            return false
        case .setBucketLifecycle(_, _, let lifecycle):
            return lifecycle != nil
        case .deleteVersions, .setBucketVersioning, .expireByLifecycle:
            // A delete marker is a row: versioned deletes grow the metadata. They are still let through when
            // space is low, like every delete, so that a client can always free space.
            return false
        case .putObjectTagging(_, _, _, _, let tags, _), .setBucketTagging(_, _, let tags), .setBucketCORS(_, _, let tags):
            // Putting grows the metadata; deleting frees it.
            return tags != nil
        }
    }

    /// The kind tag and command id at the head of an encoded command, without decoding the rest (for logs
    /// on the way through the RPC); nil when the bytes do not start like a command.
    static func peekHeader(_ bytes: [UInt8]) -> (kind: UInt8, commandID: CommandID)? {
        var reader = ByteReader(bytes)
        guard let format = try? reader.readByte(), decodableFormats.contains(format),
              let kind = try? reader.readByte(), let commandID = try? reader.readString()
        else { return nil }
        return (kind, commandID)
    }

    func encode() -> [UInt8] {
        var writer = ByteWriter(capacity: 256)
        writer.writeByte(Self.formatVersion)
        writer.writeByte(kind)
        let envelope = self.envelope
        writer.writeString(envelope.commandID)
        writer.writeString(envelope.requester)
        writer.writeInt(envelope.time)
        writer.writeBool(envelope.bucketAccess != nil)
        if let stamp = envelope.bucketAccess { writer.writeVarint(stamp.value) }
        encodeFields(into: &writer)
        return writer.bytes
    }

    private func encodeFields(into writer: inout ByteWriter) {
        switch self {
        case .createUser(_, let user):
            writer.write(user)
        case .deleteUser(_, let name, let heir):
            writer.writeString(name)
            writer.writeBool(heir != nil)
            if let heir { writer.writeString(heir) }
        case .createBucket(_, let name, let acl, let ownership, let objectLock):
            writer.writeString(name)
            writer.write(acl)
            writer.write(ownership)
            writer.write(objectLock)
        case .deleteBucket(_, let name, let abortingUploads):
            writer.writeString(name)
            writer.writeBool(abortingUploads)
        case .putObject(_, let object, let precondition, let startedTime):
            writer.write(object)
            writer.write(precondition)
            writer.writeInt(startedTime)
        case .deleteObjects(_, let bucket, let keys):
            writer.writeString(bucket)
            writer.writeCount(keys.count)
            for key in keys { writer.writeString(key) }
        case .createMultipartUpload(_, let upload):
            writer.write(upload)
        case .putPart(_, let bucket, let key, let uploadID, let part, let startedTime):
            writer.writeString(bucket)
            writer.writeString(key)
            writer.writeString(uploadID)
            writer.write(part)
            writer.writeInt(startedTime)
        case .completeMultipartUpload(
            _, let bucket, let key, let uploadID, let parts, let precondition,
            let minimumPartSizeBytes, let versionID):
            writer.writeString(bucket)
            writer.writeString(key)
            writer.writeString(uploadID)
            writer.writeCount(parts.count)
            for part in parts {
                writer.writeInt(part.partNumber)
                writer.writeString(part.etag)
            }
            writer.write(precondition)
            writer.writeInt(minimumPartSizeBytes)
            writer.writeString(versionID)
        case .abortMultipartUpload(_, let bucket, let key, let uploadID):
            writer.writeString(bucket)
            writer.writeString(key)
            writer.writeString(uploadID)
        case .forgetGarbage(_, let chunkIDs):
            writer.writeCount(chunkIDs.count)
            for id in chunkIDs { writer.writeChunkID(id) }
        case .setQuota(_, let target, let quota):
            writer.write(target)
            for limit in [quota.bytesMax, quota.objectsMax] {
                writer.writeBool(limit != nil)
                if let limit { writer.writeInt(limit) }
            }
        case .putBucketACL(_, let bucket, let acl):
            writer.writeString(bucket)
            writer.write(acl)
        case .putObjectACL(_, let bucket, let key, let acl):
            writer.writeString(bucket)
            writer.writeString(key)
            writer.write(acl)
        case .setOwnershipControls(_, let bucket, let ownership):
            writer.writeString(bucket)
            writer.write(ownership)
        case .setBucketPolicy(_, let bucket, let policy):
            writer.writeString(bucket)
            writer.write(policy)
        case .deleteVersions(_, let bucket, let targets, let bypassGovernance):
            writer.writeString(bucket)
            writer.writeCount(targets.count)
            for target in targets {
                writer.writeString(target.key)
                writer.write(target.versionID)
                writer.writeString(target.markerVersionID)
            }
            writer.writeBool(bypassGovernance)
        case .setBucketVersioning(_, let bucket, let state):
            writer.writeString(bucket)
            writer.writeByte(state.rawValue)
        case .putObjectTagging(_, let bucket, let key, let versionID, let tags, let expected):
            writer.writeString(bucket)
            writer.writeString(key)
            writer.write(versionID)
            writer.write(tags)
            writer.writeBool(expected != nil)
            if let expected { writer.writeVarint(expected.value) }
        case .setBucketTagging(_, let bucket, let tags):
            writer.writeString(bucket)
            writer.write(tags)
        case .setBucketCORS(_, let bucket, let cors):
            writer.writeString(bucket)
            writer.write(cors)
        case .setMemberAddress(_, let member, let address):
            writer.writeVarint(member)
            writer.write(address)
        case .setPublicAccessBlock(_, let bucket, let block):
            writer.writeString(bucket)
            writer.writeBool(block != nil)
            if let block { writer.writeByte(block.rawValue) }
        case .setObjectLockConfiguration(_, let bucket, let configuration):
            writer.writeString(bucket)
            writer.write(Optional(configuration))
        case .putObjectRetention(_, let bucket, let key, let versionID, let retention, let bypassGovernance):
            writer.writeString(bucket)
            writer.writeString(key)
            writer.write(versionID)
            writer.write(retention)
            writer.writeBool(bypassGovernance)
        case .putObjectLegalHold(_, let bucket, let key, let versionID, let legalHold):
            writer.writeString(bucket)
            writer.writeString(key)
            writer.write(versionID)
            writer.writeBool(legalHold)
        case .setBucketLifecycle(_, let bucket, let lifecycle):
            writer.writeString(bucket)
            writer.write(lifecycle)
        case .expireByLifecycle(_, let bucket, let expiries):
            writer.writeString(bucket)
            writer.writeCount(expiries.count)
            for expiry in expiries {
                writer.writeString(expiry.key)
                writer.writeString(expiry.versionID)
                writer.writeInt(expiry.lastModifiedTime)
                writer.writeByte(expiry.action.rawValue)
                writer.writeString(expiry.markerVersionID)
            }
        case .setBucketDurability(_, let bucket, let durability):
            writer.writeString(bucket)
            writer.write(durability)
        case .relocateChunk(_, let record, let chunkID, let from, let to):
            writer.write(Optional(record))
            writer.writeChunkID(chunkID)
            writer.writeVarint(UInt64(from))
            writer.writeVarint(UInt64(to))
        case .registerBlobNode(_, let node):
            writer.write(node)
        case .setBlobNodeState(_, let node, let state):
            writer.writeVarint(UInt64(node))
            writer.writeByte(state.rawValue)
        case .setBlobNodeLiveness(_, let node, let alive):
            writer.writeVarint(UInt64(node))
            writer.writeBool(alive)
        }
    }

    /// Decodes what `encode()` produced. Throws on any malformed, truncated or over-long input.
    init(decoding bytes: [UInt8]) throws(MetaCodecError) {
        var reader = ByteReader(bytes)
        let version = try reader.readByte()
        guard Self.decodableFormats.contains(version) else { throw .unsupportedVersion(version) }
        let kind = try reader.readByte()
        var envelope = CommandEnvelope(
            commandID: try reader.readString(), requester: try reader.readString(),
            time: try reader.readInt64())
        if version >= 4, try reader.readBool() {
            envelope.bucketAccess = BucketAccessStamp(value: try reader.readVarint())
        }
        self = try Self.decodeFields(kind: kind, format: version, envelope: envelope, reader: &reader)
        try reader.expectEnd()
    }

    private static func decodeFields(kind: UInt8, format: UInt8, envelope: CommandEnvelope,
                                     reader: inout ByteReader) throws(MetaCodecError) -> MetaCommand
    {
        switch kind {
        case 1: return .createUser(envelope, user: try reader.readUser(format: format))
        case 2:
            let name = try reader.readString()
            var heir: String?
            if format >= 2, try reader.readBool() { heir = try reader.readString() }
            return .deleteUser(envelope, name: name, heir: heir)
        case 3:
            let name = try reader.readString()
            guard format >= 3 else { return .createBucket(envelope, name: name, acl: nil, ownership: nil) }
            let acl = try reader.readOptionalACL()
            let ownership = try reader.readOwnership()
            let objectLock = format >= 5 ? try reader.readObjectLockConfiguration() : nil
            return .createBucket(envelope, name: name, acl: acl, ownership: ownership, objectLock: objectLock)
        case 4:
            let name = try reader.readString()
            let abortingUploads = try format >= 2 ? reader.readBool() : false
            return .deleteBucket(envelope, name: name, abortingUploads: abortingUploads)
        case 5:
            return .putObject(
                envelope, object: try reader.readObject(format: format), precondition: try reader.readPrecondition(),
                startedTime: try reader.readInt64())
        case 6:
            let bucket = try reader.readString()
            let count = try reader.readCount(elementBytesMin: 1)
            var keys: [String] = []
            keys.reserveCapacity(count)
            for _ in 0..<count { keys.append(try reader.readString()) }
            return .deleteObjects(envelope, bucket: bucket, keys: keys)
        case 7: return .createMultipartUpload(envelope, upload: try reader.readUpload(format: format))
        case 8:
            return .putPart(
                envelope, bucket: try reader.readString(), key: try reader.readString(),
                uploadID: try reader.readString(), part: try reader.readPart(),
                startedTime: try reader.readInt64())
        case 9: return try decodeComplete(envelope: envelope, reader: &reader)
        case 10:
            return .abortMultipartUpload(
                envelope, bucket: try reader.readString(), key: try reader.readString(),
                uploadID: try reader.readString())
        case 11:
            let count = try reader.readCount(elementBytesMin: 16)
            var ids: [ChunkID] = []
            ids.reserveCapacity(count)
            for _ in 0..<count { ids.append(try reader.readChunkID()) }
            return .forgetGarbage(envelope, chunkIDs: ids)
        case 20 where format >= 2:
            let target = try reader.readQuotaTarget()
            let bytesMax = try reader.readBool() ? try reader.readInt64() : nil
            let objectsMax = try reader.readBool() ? try reader.readInt64() : nil
            return .setQuota(envelope, target: target, quota: Quota(bytesMax: bytesMax, objectsMax: objectsMax))
        case 30 where format >= 3:
            return .putBucketACL(envelope, bucket: try reader.readString(), acl: try reader.readACL())
        case 31 where format >= 3:
            return .putObjectACL(envelope, bucket: try reader.readString(), key: try reader.readString(),
                                 acl: try reader.readACL())
        case 32 where format >= 3:
            return .setOwnershipControls(envelope, bucket: try reader.readString(), ownership: try reader.readOwnership())
        case 33 where format >= 3:
            return .setBucketPolicy(envelope, bucket: try reader.readString(), policy: try reader.readOptionalString())
        case 21 where format >= 3:
            let bucket = try reader.readString()
            let count = try reader.readCount(elementBytesMin: 3)
            var targets: [DeleteTarget] = []
            targets.reserveCapacity(count)
            for _ in 0..<count {
                targets.append(
                    DeleteTarget(key: try reader.readString(), versionID: try reader.readOptionalString(),
                                 markerVersionID: try reader.readString()))
            }
            let bypassGovernance = format >= 5 ? try reader.readBool() : false
            return .deleteVersions(envelope, bucket: bucket, targets: targets, bypassGovernance: bypassGovernance)
        case 22 where format >= 3:
            let bucket = try reader.readString()
            let raw = try reader.readByte()
            guard let state = BucketVersioning(rawValue: raw) else { throw .invalidTag(raw) }
            return .setBucketVersioning(envelope, bucket: bucket, state: state)
        case 40 where format >= 4:
            return .putObjectTagging(envelope, bucket: try reader.readString(), key: try reader.readString(),
                                     versionID: try reader.readOptionalString(), tags: try reader.readOptionalString(),
                                     expected: try reader.readBool() ? ObjectAccessStamp(value: try reader.readVarint()) : nil)
        case 41 where format >= 4:
            return .setBucketTagging(envelope, bucket: try reader.readString(), tags: try reader.readOptionalString())
        case 42 where format >= 4:
            return .setBucketCORS(envelope, bucket: try reader.readString(), cors: try reader.readOptionalString())
        case 61 where format >= 4:
            let bucket = try reader.readString()
            guard try reader.readBool() else { return .setPublicAccessBlock(envelope, bucket: bucket, block: nil) }
            let bits = try reader.readByte()
            guard let block = PublicAccessBlock(rawValue: bits) else { throw .invalidValue("public access block \(bits)") }
            return .setPublicAccessBlock(envelope, bucket: bucket, block: block)
        case 62 where format >= 5:
            let bucket = try reader.readString()
            guard let configuration = try reader.readObjectLockConfiguration() else {
                throw .invalidValue("an object lock configuration command without a configuration")
            }
            return .setObjectLockConfiguration(envelope, bucket: bucket, configuration: configuration)
        case 63 where format >= 5:
            return .putObjectRetention(envelope, bucket: try reader.readString(), key: try reader.readString(),
                                       versionID: try reader.readOptionalString(), retention: try reader.readRetention(),
                                       bypassGovernance: try reader.readBool())
        case 64 where format >= 5:
            return .putObjectLegalHold(envelope, bucket: try reader.readString(), key: try reader.readString(),
                                       versionID: try reader.readOptionalString(), legalHold: try reader.readBool())
        case 65 where format >= 5:
            return .setBucketLifecycle(envelope, bucket: try reader.readString(), lifecycle: try reader.readOptionalString())
        case 66 where format >= 5:
            let bucket = try reader.readString()
            let count = try reader.readCount(elementBytesMin: 5)
            var expiries: [LifecycleExpiry] = []
            expiries.reserveCapacity(count)
            for _ in 0..<count {
                let key = try reader.readString()
                let versionID = try reader.readString()
                let time = try reader.readInt64()
                let raw = try reader.readByte()
                guard let action = LifecycleExpiry.Action(rawValue: raw) else { throw .invalidTag(raw) }
                expiries.append(LifecycleExpiry(key: key, versionID: versionID, lastModifiedTime: time, action: action,
                                                markerVersionID: try reader.readString()))
            }
            return .expireByLifecycle(envelope, bucket: bucket, expiries: expiries)
        case 60 where format >= 4:
            return .setMemberAddress(envelope, member: try reader.readVarint(), apiAddress: try reader.readOptionalString())
        case 50 where format >= 4:
            return .setBucketDurability(envelope, bucket: try reader.readString(), durability: try reader.readDurability())
        case 51 where format >= 4:
            guard let record = try reader.readScanPosition() else { throw .invalidValue("relocation without a record") }
            let chunkID = try reader.readChunkID()
            let nodes = (try reader.readVarint(), try reader.readVarint())
            guard let from = UInt32(exactly: nodes.0), let to = UInt32(exactly: nodes.1) else {
                throw .invalidValue("node ids \(nodes)")
            }
            return .relocateChunk(envelope, record: record, chunkID: chunkID, from: from, to: to)
        case 70 where format >= 5:
            return .registerBlobNode(envelope, node: try reader.readRegistration())
        case 71 where format >= 5:
            return .setBlobNodeState(envelope, node: try reader.readNodeID(), state: try reader.readBlobNodeState())
        case 72 where format >= 5:
            return .setBlobNodeLiveness(envelope, node: try reader.readNodeID(), alive: try reader.readBool())
        default:
            throw .invalidTag(kind)
        }
    }

    private static func decodeComplete(envelope: CommandEnvelope, reader: inout ByteReader)
        throws(MetaCodecError) -> MetaCommand
    {
        let bucket = try reader.readString()
        let key = try reader.readString()
        let uploadID = try reader.readString()
        let count = try reader.readCount(elementBytesMin: 2)
        var parts: [CompletedPart] = []
        parts.reserveCapacity(count)
        for _ in 0..<count {
            parts.append(CompletedPart(partNumber: try reader.readInt(), etag: try reader.readString()))
        }
        return .completeMultipartUpload(
            envelope, bucket: bucket, key: key, uploadID: uploadID, parts: parts,
            precondition: try reader.readPrecondition(),
            minimumPartSizeBytes: try reader.readInt64(),
            versionID: try reader.readString())
    }
}

/// The outcome of applying one `MetaCommand`. Encodable, because with Raft the replica that applies a
/// command is not always the one that proposed it, and because a remembered command id answers a retry
/// with the stored outcome.
enum MetaCommandResult: Sendable, Equatable {
    /// The command took effect (user, bucket, put, upload, part, abort, forget).
    case done
    /// `deleteObjects`: for each key, whether a current version was removed.
    case deleted([Bool])
    /// `completeMultipartUpload`: the new current version.
    case object(ObjectRecord)
    /// The command was refused (a precondition, ownership or existence check failed) and changed nothing.
    case failed(MetaError)
    /// `deleteVersions`: one outcome per target (format 3, tag 21).
    case deletedVersions([DeleteOutcome])
    /// `putObject`: the version id stored, nil for the `null` version (versioning not Enabled) (format 3, tag
    /// 22). A `putObject` remembered before format 3 answers `.done`, read as nil.
    case stored(versionID: String?)

    /// 2: objects may carry an inline body. 3: objects carry owner and ACL; MetaError tags 50–52;
    /// `deletedVersions`, `stored`. 4: each `deletedVersions` outcome ends with its optional refusal (object
    /// lock); the records inside (objects, users, uploads) are laid out as in 3, which their readers' `>= 3`
    /// checks give.
    static let formatVersion: UInt8 = 4
    static let decodableFormats: ClosedRange<UInt8> = 1...4

    func encode() -> [UInt8] {
        var writer = ByteWriter(capacity: 16)
        writer.writeByte(Self.formatVersion)
        switch self {
        case .done:
            writer.writeByte(1)
        case .deleted(let flags):
            writer.writeByte(2)
            writer.writeCount(flags.count)
            for flag in flags { writer.writeBool(flag) }
        case .object(let object):
            writer.writeByte(3)
            writer.write(object)
        case .failed(let error):
            writer.writeByte(4)
            writer.write(error)
        case .deletedVersions(let outcomes):
            writer.writeByte(21)
            writer.writeCount(outcomes.count)
            for outcome in outcomes {
                writer.write(outcome.versionID)
                writer.writeBool(outcome.isDeleteMarker)
                writer.writeBool(outcome.removedCurrent)
                writer.writeBool(outcome.refusal != nil)
                if let refusal = outcome.refusal { writer.write(refusal) }
            }
        case .stored(let versionID):
            writer.writeByte(22)
            writer.write(versionID)
        }
        return writer.bytes
    }

    init(decoding bytes: [UInt8]) throws(MetaCodecError) {
        var reader = ByteReader(bytes)
        let version = try reader.readByte()
        guard Self.decodableFormats.contains(version) else { throw .unsupportedVersion(version) }
        switch try reader.readByte() {
        case 1:
            self = .done
        case 2:
            let count = try reader.readCount(elementBytesMin: 1)
            var flags: [Bool] = []
            flags.reserveCapacity(count)
            for _ in 0..<count { flags.append(try reader.readBool()) }
            self = .deleted(flags)
        case 3:
            self = .object(try reader.readObject(format: version))
        case 4:
            self = .failed(try reader.readError())
        case 21 where version >= 3:
            let count = try reader.readCount(elementBytesMin: 3)
            var outcomes: [DeleteOutcome] = []
            outcomes.reserveCapacity(count)
            for _ in 0..<count {
                var outcome = DeleteOutcome(
                    versionID: try reader.readOptionalString(), isDeleteMarker: try reader.readBool(),
                    removedCurrent: try reader.readBool())
                if version >= 4, try reader.readBool() { outcome.refusal = try reader.readError() }
                outcomes.append(outcome)
            }
            self = .deletedVersions(outcomes)
        case 22 where version >= 3:
            self = .stored(versionID: try reader.readOptionalString())
        case let tag:
            throw .invalidTag(tag)
        }
        try reader.expectEnd()
    }
}

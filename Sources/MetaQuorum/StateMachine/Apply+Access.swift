import MetaContract

/// The access-control commands: bucket and object ACLs, ownership controls, bucket policies. Each checks
/// only existence and the bucket's ownership controls as they are at apply time; who may send them is the
/// Gateway's `Authorizer`'s decision.
extension MetaStateMachine {
    /// Refused with `.aclNotSupported` under `BucketOwnerEnforced` (ACLs are disabled there).
    func applyPutBucketACL(bucket name: String, acl: AccessControlList) throws {
        let bucket = try existingBucket(name)
        guard bucket.ownership != .bucketOwnerEnforced else { throw MetaError.aclNotSupported }
        try database.run("UPDATE buckets SET acl = ? WHERE name = ?", [Self.aclColumn(acl), .string(name)])
    }

    /// Replaces the current version's ACL; refused with `.aclNotSupported` under `BucketOwnerEnforced`.
    func applyPutObjectACL(bucket name: String, key: String, acl: AccessControlList) throws {
        let bucket = try existingBucket(name)
        guard bucket.ownership != .bucketOwnerEnforced else { throw MetaError.aclNotSupported }
        guard var object = try objectRecord(bucket: name, key: key) else { throw MetaError.noSuchKey }
        object.owner = object.owner ?? bucket.owner
        object.acl = acl
        try database.run(
            "UPDATE objects SET record = ? WHERE bucket = ? AND key = ?",
            [.bytes(RecordBlob.encode { $0.write(object) }), .string(name), .string(key)])
    }

    /// `ownership` nil deletes the controls (`.ownershipControlsNotFound` if there were none). Turning
    /// `BucketOwnerEnforced` on resets the bucket ACL to the owner-only one, as S3 does.
    func applySetOwnershipControls(bucket name: String, ownership: ObjectOwnership?) throws {
        let bucket = try existingBucket(name)
        if ownership == nil && bucket.ownership == nil { throw MetaError.ownershipControlsNotFound }
        try database.run(
            "UPDATE buckets SET ownership = ? WHERE name = ?",
            [ownership.map { .int(Int64($0.tag)) } ?? .null, .string(name)])
        if ownership == .bucketOwnerEnforced {
            try database.run("UPDATE buckets SET acl = NULL WHERE name = ?", [.string(name)])
        }
    }

    /// `policy` nil deletes it (`.noSuchBucketPolicy` if there was none). The text was validated by the
    /// proposer; the state machine stores it as sent.
    func applySetBucketPolicy(bucket name: String, policy: String?) throws {
        let bucket = try existingBucket(name)
        if policy == nil && bucket.policy == nil { throw MetaError.noSuchBucketPolicy }
        try database.run(
            "UPDATE buckets SET policy = ? WHERE name = ?", [policy.map { .string($0) } ?? .null, .string(name)])
    }

    /// PutPublicAccessBlock (non-nil) or DeletePublicAccessBlock (nil: no error when there is none, as S3).
    func applySetPublicAccessBlock(bucket name: String, block: PublicAccessBlock?) throws {
        _ = try existingBucket(name)
        try database.run("UPDATE buckets SET public_access_block = ? WHERE name = ?",
                         [block.map { .int(Int64($0.rawValue)) } ?? .null, .string(name)])
    }
}

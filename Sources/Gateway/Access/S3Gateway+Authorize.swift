import MetaContract
import S3Protocol

/// Where each request meets the `Authorizer`: once in `authorize` before any handler runs, for the
/// bucket-level part, and once more in `authorizedObject` for operations on an existing object's
/// contents or ACL (their decision needs the object's owner and ACL, read in the same linearizable read
/// as its bucket).
///
/// Invariant: the state machine decides no access; every request either passes `authorize` with a bucket
/// action, is an object operation whose handler reads its object only through `authorizedObject`, or
/// needs a signed user and touches only that user's own resources (ListBuckets, CreateBucket).
extension S3Gateway {
    /// What an operation needs before its handler runs.
    enum AccessCheck: Equatable {
        /// A signed request; the handler touches only what the signer owns or creates.
        case signedIn
        /// `action` on the addressed bucket (its object resource when the action is an object action).
        case bucket(S3Action)
        /// `action` on the addressed object, decided by the handler through `authorizedObject`.
        case object(S3Action)
    }

    /// Exhaustive on purpose: a new operation must say what it needs.
    static func accessCheck(_ endpoint: S3Endpoint) -> AccessCheck {
        switch endpoint {
        case .listBuckets, .createBucket, .notImplemented: return .signedIn
        case .deleteBucket: return .bucket(.deleteBucket)
        case .headBucket, .listObjects, .listObjectsV2: return .bucket(.listBucket)
        case .getBucketLocation: return .bucket(.getBucketLocation)
        case .listMultipartUploads: return .bucket(.listBucketMultipartUploads)
        case .listObjectVersions: return .bucket(.listBucketVersions)
        case .getACL(let onObject): return onObject ? .object(.getObjectAcl) : .bucket(.getBucketAcl)
        case .putACL(let onObject): return onObject ? .object(.putObjectAcl) : .bucket(.putBucketAcl)
        case .getBucketOwnershipControls: return .bucket(.getBucketOwnershipControls)
        case .getBucketPolicy: return .bucket(.getBucketPolicy)
        case .putBucketPolicy: return .bucket(.putBucketPolicy)
        case .deleteBucketPolicy: return .bucket(.deleteBucketPolicy)
        case .getBucketPolicyStatus: return .bucket(.getBucketPolicyStatus)
        case .getBucketVersioning: return .bucket(.getBucketVersioning)
        case .putBucketVersioning: return .bucket(.putBucketVersioning)
        case .putBucketOwnershipControls, .deleteBucketOwnershipControls: return .bucket(.putBucketOwnershipControls)
        case .getObjectAttributes: return .object(.getObjectAttributes)
        case .getObject, .headObject: return .object(.getObject)
        case .deleteObject, .deleteObjects: return .bucket(.deleteObject)
        // A copy also needs s3:GetObject on its source, decided by the handler (`authorizedObject`).
        case .putObject, .copyObject, .createMultipartUpload, .uploadPart, .uploadPartCopy, .completeMultipartUpload:
            return .bucket(.putObject)
        // Authorized by its handler as the PutObject its form describes, for the form's signer.
        case .postObject: return .bucket(.putObject)
        case .abortMultipartUpload: return .bucket(.abortMultipartUpload)
        case .listParts: return .bucket(.listMultipartUploadParts)
        case .getObjectTagging: return .object(.getObjectTagging)
        case .putObjectTagging: return .object(.putObjectTagging)
        case .deleteObjectTagging: return .object(.deleteObjectTagging)
        case .getBucketTagging: return .bucket(.getBucketTagging)
        case .putBucketTagging, .deleteBucketTagging: return .bucket(.putBucketTagging)
        case .getPublicAccessBlock: return .bucket(.getBucketPublicAccessBlock)
        case .putPublicAccessBlock, .deletePublicAccessBlock: return .bucket(.putBucketPublicAccessBlock)
        case .getBucketCors: return .bucket(.getBucketCORS)
        case .putBucketCors, .deleteBucketCors: return .bucket(.putBucketCORS)
        case .getBucketLifecycle: return .bucket(.getLifecycleConfiguration)
        case .putBucketLifecycle, .deleteBucketLifecycle: return .bucket(.putLifecycleConfiguration)
        case .getObjectLockConfiguration: return .bucket(.getBucketObjectLockConfiguration)
        case .putObjectLockConfiguration: return .bucket(.putBucketObjectLockConfiguration)
        case .getObjectRetention: return .object(.getObjectRetention)
        case .putObjectRetention: return .object(.putObjectRetention)
        case .getObjectLegalHold: return .object(.getObjectLegalHold)
        case .putObjectLegalHold: return .object(.putObjectLegalHold)
        }
    }

    /// The object writes authorized on a bucket record that may come from `BucketAccessCache`: each is one
    /// command, proposed through `withBucketAccess` with the record's stamp, which apply re-checks. Every
    /// other bucket-checked operation reads its bucket linearizably.
    static func isAccessStamped(_ endpoint: S3Endpoint) -> Bool {
        switch endpoint {
        case .putObject, .copyObject, .createMultipartUpload, .uploadPart, .uploadPartCopy, .completeMultipartUpload,
             .abortMultipartUpload, .deleteObject, .deleteObjects:
            return true
        default:
            return false
        }
    }

    /// How many times a write refused for a changed bucket (`.bucketAccessChanged`) is decided again and
    /// re-proposed before the client is told to retry (503).
    static let bucketAccessRetriesMax = 3

    /// Runs an access-stamped write's command with `call.bucketAccess`. When apply finds the bucket's access
    /// settings changed since the decision, forgets the cached record, decides again on a linearizable read
    /// (which may now deny) and runs the write again with the new stamp, under the same request id (that
    /// refusal changed nothing and is not remembered).
    /// `recheck` repeats, on the bucket as read again, what the handler decided on the first record besides
    /// access (a public ACL under a public access block).
    func withBucketAccess<T>(_ call: S3Call, recheck: ((BucketRecord) throws -> Void)? = nil,
                             _ write: (BucketAccessStamp?) async throws -> T) async throws -> T {
        precondition(call.bucketAccess != nil, "\(call.target.endpoint.operationName) has no bucket access stamp")
        var access = call.bucketAccess
        var retries = 0
        while true {
            do {
                return try await write(access)
            } catch let error as MetaError where error == .bucketAccessChanged && retries < Self.bucketAccessRetriesMax {
                retries += 1
                buckets.forget(call.bucket)
                var again = call
                try await authorize(&again)
                if let recheck, let bucket = again.bucketRecord { try recheck(bucket) }
                access = again.bucketAccess
            } catch let error as MetaError where error == .noSuchBucket || error == .bucketAccessChanged {
                buckets.forget(call.bucket)
                throw error
            }
        }
    }

    /// Runs a change of the bucket's access settings (an ACL, a policy, ownership controls, a public access
    /// block): `attempt` decides on the bucket record it is given and proposes with that record's stamp. When
    /// apply finds the settings changed in between (a concurrent change: `.bucketAccessChanged`), the request
    /// is authorized and decided again on a fresh linearizable read, so a public ACL never lands under a block
    /// that a concurrent request set, nor a block over a decision it should have stopped.
    /// The first attempt uses the record `authorize` read (these operations are never served from the cache).
    func decidingOnFreshBucket<T>(_ call: S3Call, _ attempt: (BucketRecord) async throws -> T) async throws -> T {
        var bucket = authorizedBucket(call)
        var retries = 0
        while true {
            do {
                return try await attempt(bucket)
            } catch let error as MetaError where error == .bucketAccessChanged && retries < Self.bucketAccessRetriesMax {
                retries += 1
                var again = call
                try await authorize(&again)
                bucket = authorizedBucket(again)
            }
        }
    }

    /// `decidingOnFreshBucket` for a change of an object's ACL, which `attempt` reads itself (through
    /// `authorizedObject`, with its bucket) and proposes with the bucket's stamp.
    func redecidingOnBucketChange<T>(_ attempt: () async throws -> T) async throws -> T {
        var retries = 0
        while true {
            do {
                return try await attempt()
            } catch let error as MetaError where error == .bucketAccessChanged && retries < Self.bucketAccessRetriesMax {
                retries += 1
            }
        }
    }

    /// Refuses the request unless its bucket-level access holds; sets `call.bucketRecord` for bucket checks.
    /// Throws NoSuchBucket for a bucket that does not exist (as S3 does, to anonymous callers too).
    func authorize(_ call: inout S3Call) async throws {
        switch Self.accessCheck(call.target.endpoint) {
        case .signedIn:
            guard call.user != nil else { throw S3Error(.accessDenied) }
        case .bucket(let action):
            let stamped = Self.isAccessStamped(call.target.endpoint)
            let context = policyContext(call)
            let tagging = Self.setsTags(call)
            func allows(_ bucket: BucketRecord) -> Bool {
                func allows(_ action: S3Action) -> Bool {
                    Authorizer.allows(AccessRequest(principal: call.principal, principalName: call.user?.name,
                                                    context: context, action: action, bucket: bucket, object: nil,
                                                    key: call.key))
                }
                // A write that sets tags needs s3:PutObjectTagging too (AWS), decided on the same record, so
                // the write's stamp covers both decisions.
                return allows(action) && (!tagging || allows(.putObjectTagging))
            }
            // A cached record that allows is checked again at apply time (the stamp); one that denies may be
            // stale in the other direction, so it is read again.
            if stamped, let cached = buckets.bucket(call.bucket), allows(cached.record) {
                call.bucketRecord = cached.record
                call.bucketAccess = cached.stamp
                return
            }
            guard let bucket = try await metadata.bucket(name: call.bucket) else {
                buckets.forget(call.bucket)
                throw S3Error(.noSuchBucket, details: [("BucketName", call.bucket)])
            }
            if stamped { buckets.remember(bucket) }
            guard allows(bucket) else { throw S3Error(.accessDenied) }
            call.bucketRecord = bucket
            if stamped { call.bucketAccess = bucket.accessStamp }
        case .object:
            break
        }
    }

    /// The current version of `bucket/key` if `action` on it is allowed, in one linearizable read of the
    /// bucket and the object. A missing key is NoSuchKey only to a caller who may list the bucket, and
    /// AccessDenied to anyone else (S3 does not reveal which keys exist).
    /// `extraContext`: condition keys only the handler knows (the tags a PutObjectTagging body asks for).
    func authorizedObject(_ call: S3Call, _ action: S3Action, bucket name: String, key: String,
                          extraContext: [String: [String]] = [:]) async throws
        -> (bucket: BucketRecord, object: ObjectRecord)
    {
        let (bucket, object) = try await metadata.objectAccess(bucket: name, key: key)
        guard let object else {
            // As S3 decides it: may the caller list this key's name (s3:ListBucket with the key as prefix)?
            var context = policyContext(call)
            context["s3:prefix"] = [key]
            let list = AccessRequest(principal: call.principal, principalName: call.user?.name, context: context,
                                     action: .listBucket, bucket: bucket)
            throw Authorizer.allows(list) ? S3Error(.noSuchKey, details: [("Key", key)]) : S3Error(.accessDenied)
        }
        let request = AccessRequest(principal: call.principal, principalName: call.user?.name,
                                    context: policyContext(call, existing: object).merging(extraContext) { $1 },
                                    action: action, bucket: bucket, object: object, key: key)
        guard Authorizer.allows(request) else { throw S3Error(.accessDenied) }
        return (bucket, object)
    }

    /// The request's facts that policy conditions may name (lower-case keys). A gateway serves either TLS
    /// or plain HTTP on its S3 endpoint, so `aws:SecureTransport` is whether it was configured with TLS.
    func policyContext(_ call: S3Call) -> [String: [String]] {
        var context: [String: [String]] = [
            "aws:securetransport": [configuration.tls != nil ? "true" : "false"],
            "aws:currenttime": [S3Time.iso8601(milliseconds: call.now)],
            "aws:epochtime": [String(call.now / 1000)],
            "aws:principaltype": [call.user == nil ? "Anonymous" : "User"],
            "s3:signatureversion": [call.user == nil ? "" : "AWS4-HMAC-SHA256"],
            "s3:authtype": [call.user == nil ? "" : (call.verified.isPresigned ? "REST-QUERY-STRING" : "REST-HEADER")],
        ]
        if let user = call.user {
            context["aws:username"] = [user.name]
            context["aws:userid"] = [user.id]
        }
        if let address = call.sourceAddress { context["aws:sourceip"] = [address] }
        if let referer = call.header("referer") { context["aws:referer"] = [referer] }
        if let agent = call.header("user-agent") { context["aws:useragent"] = [agent] }
        for name in ["prefix", "delimiter", "max-keys"] {
            if let value = call.query(name) { context["s3:" + name] = [value] }
        }
        for header in ["x-amz-acl", "x-amz-copy-source", "x-amz-metadata-directive", "x-amz-server-side-encryption",
                       "x-amz-storage-class", "x-amz-content-sha256", "x-amz-grant-read", "x-amz-grant-write",
                       "x-amz-grant-read-acp", "x-amz-grant-write-acp", "x-amz-grant-full-control"] {
            if let value = call.header(header) { context["s3:" + header] = [value] }
        }
        if let header = call.header("x-amz-tagging"), let tags = try? TagSet.parseHeader(header) {
            context.merge(Self.requestTagContext(tags)) { $1 }
        }
        return context
    }

    /// `policyContext` plus `s3:ExistingObjectTag/<key>` for each tag of the object the request reads or
    /// changes. Condition keys are compared lower-cased, so tag keys that differ only in case share one.
    func policyContext(_ call: S3Call, existing object: ObjectRecord?) -> [String: [String]] {
        var context = policyContext(call)
        if let stored = object?.storedTags, let tags = TagSet(storedForm: stored) {
            for tag in tags.tags { context["s3:existingobjecttag/" + tag.key.lowercased()] = [tag.value] }
        }
        return context
    }

    /// `s3:RequestObjectTag/<key>` and `s3:RequestObjectTagKeys` for the tags a request asks for.
    static func requestTagContext(_ tags: TagSet) -> [String: [String]] {
        var context: [String: [String]] = ["s3:requestobjecttagkeys": tags.tags.map(\.key)]
        for tag in tags.tags { context["s3:requestobjecttag/" + tag.key.lowercased()] = [tag.value] }
        return context
    }

    /// Whether the request writes an object with tags of its own: PutObject, CreateMultipartUpload or a
    /// copy with `x-amz-tagging-directive: REPLACE`, with a non-empty `x-amz-tagging` (a malformed one is
    /// refused by the handler, with its own error).
    static func setsTags(_ call: S3Call) -> Bool {
        switch call.target.endpoint {
        case .putObject, .createMultipartUpload: break
        case .copyObject:
            guard call.header("x-amz-tagging-directive")?.trimmingCharacters(in: .whitespaces).uppercased() == "REPLACE"
            else { return false }
        default: return false
        }
        guard let header = call.header("x-amz-tagging"), let tags = try? TagSet.parseHeader(header) else { return false }
        return !tags.isEmpty
    }

    /// The bucket `authorize` read; every handler of a `.bucket` operation runs after it.
    func authorizedBucket(_ call: S3Call) -> BucketRecord {
        guard let bucket = call.bucketRecord else {
            preconditionFailure("\(call.target.endpoint.operationName) reached its handler without a bucket check")
        }
        return bucket
    }
}

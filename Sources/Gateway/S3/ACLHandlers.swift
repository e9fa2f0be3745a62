import HTTPTypes
import Hummingbird
import MetaQuorum
import S3Protocol

/// GetBucketAcl, GetObjectAcl, PutBucketAcl, PutObjectAcl.
///
/// Silo has one access rule: a bucket and every object in it belong to the bucket's owner alone. The
/// GET operations report exactly that ACL (the owner, with FULL_CONTROL); the PUT operations accept only
/// what leaves it so, the canned ACL `private`, and answer 501 to any other ACL rather than pretend to
/// store it.
extension S3Gateway {
    func getACL(_ call: S3Call, onObject: Bool) async throws -> Response {
        let bucket = try await aclTarget(call, onObject: onObject)
        let owner = Self.owner(ofID: bucket.owner, call: call)
        let result = AccessControlPolicyResult(owner: owner, grants: [.init(grantee: owner, permission: "FULL_CONTROL")])
        return Self.xmlResponse(result.xml())
    }

    func putACL(_ call: S3Call, onObject: Bool) async throws -> Response {
        // x-amz-grant-* headers and canned ACLs other than `private` are refused here.
        try ObjectHeaders.refuseUnsupported(call.headers)
        let body = try await readSmallBody(call)
        if body.readableBytes > 0 {
            throw S3Error(.notImplemented,
                          "\(call.target.endpoint.operationName) with an AccessControlPolicy document is not implemented by Silo: every bucket and object is private to the bucket owner.")
        }
        guard call.header("x-amz-acl") != nil else {
            throw S3Error(.invalidRequest, "\(call.target.endpoint.operationName) needs the x-amz-acl header or an AccessControlPolicy document.")
        }
        _ = try await aclTarget(call, onObject: onObject)
        return Self.emptyResponse(.ok)
    }

    /// The owned bucket an ACL request addresses; for an object ACL, the object must exist.
    private func aclTarget(_ call: S3Call, onObject: Bool) async throws -> BucketRecord {
        let bucket = try await ownedBucket(call)
        if onObject {
            try validateKey(call.key)
            if let versionID = call.query("versionId") { try Self.requireNullVersion(versionID, parameter: "versionId") }
            guard try await metadata.object(bucket: call.bucket, key: call.key, requester: call.requester) != nil else {
                throw S3Error(.noSuchKey, details: [("Key", call.key)])
            }
        }
        return bucket
    }
}

import HTTPTypes
import Hummingbird
import MetaContract
import NIOCore
import S3Protocol

/// GetBucketPolicy, PutBucketPolicy, DeleteBucketPolicy, GetBucketPolicyStatus. Who may call them was
/// decided by `authorize` (the bucket owner, or what the policy itself grants).
extension S3Gateway {
    func getBucketPolicy(_ call: S3Call) async throws -> Response {
        guard let policy = authorizedBucket(call).policy else { throw S3Error(.noSuchBucketPolicy) }
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        let buffer = ByteBuffer(string: policy)
        headers[.contentLength] = String(buffer.readableBytes)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: buffer))
    }

    /// The document is validated (`BucketPolicy.parse`) and stored as sent.
    func putBucketPolicy(_ call: S3Call) async throws -> Response {
        let body = Array(buffer: try await call.signedBody.collectSmall(
            limitBytes: BucketPolicy.documentBytesMax,
            tooLarge: S3Error(.malformedPolicy, "Policies must be at most 20 KB")))
        let parsed: BucketPolicy
        do {
            parsed = try BucketPolicy.parse(body, bucket: call.bucket)
        } catch {
            throw S3Error(.malformedPolicy, error.reason, cause: error)
        }
        try await decidingOnFreshBucket(call) { bucket in
            if bucket.publicAccessBlock?.blockPublicPolicy == true && parsed.isPublic {
                throw S3Error(.accessDenied, "The bucket's public access block forbids public policies.")
            }
            try await metadata.setBucketPolicy(bucket: call.bucket, policy: String(decoding: body, as: UTF8.self),
                                               requester: call.requester, access: bucket.accessStamp,
                                               commandID: call.requestID)
        }
        return Self.emptyResponse(.noContent)
    }

    /// Deleting a policy that is not there succeeds, as in S3.
    func deleteBucketPolicy(_ call: S3Call) async throws -> Response {
        do {
            try await decidingOnFreshBucket(call) { bucket in
                try await metadata.setBucketPolicy(bucket: call.bucket, policy: nil, requester: call.requester,
                                                   access: bucket.accessStamp, commandID: call.requestID)
            }
        } catch MetaError.noSuchBucketPolicy {
            // Nothing to delete.
        }
        return Self.emptyResponse(.noContent)
    }

    /// Public when the policy opens the bucket to everyone, or (as Ceph answers it too) when the bucket's
    /// ACL grants anything to AllUsers or AuthenticatedUsers.
    func getBucketPolicyStatus(_ call: S3Call) async throws -> Response {
        let bucket = authorizedBucket(call)
        let publicACL = bucket.ownership != .bucketOwnerEnforced && bucket.acl.grants.contains {
            $0.grantee == .allUsers || $0.grantee == .authenticatedUsers
        }
        let isPublic = publicACL || bucket.parsedPolicy?.isPublic == true
        return Self.xmlResponse(PolicyStatusResult(isPublic: isPublic).xml())
    }
}

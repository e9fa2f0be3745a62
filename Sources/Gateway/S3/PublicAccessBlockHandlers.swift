import HTTPTypes
import Hummingbird
import MetaContract
import S3Protocol

/// Get/Put/DeletePublicAccessBlock, and the refusals the block makes on the way in: a public ACL under
/// `BlockPublicAcls` (PutBucketAcl, PutObjectAcl, and ACL headers on PutObject, CopyObject and
/// CreateMultipartUpload), a public policy under `BlockPublicPolicy` (PutBucketPolicy), both AccessDenied
/// as S3 answers. `IgnorePublicAcls` and `RestrictPublicBuckets` act in the `Authorizer`.
extension S3Gateway {
    func getPublicAccessBlock(_ call: S3Call) async throws -> Response {
        guard let block = authorizedBucket(call).publicAccessBlock else {
            throw S3Error(.noSuchPublicAccessBlockConfiguration, details: [("BucketName", call.bucket)])
        }
        return Self.xmlResponse(PublicAccessBlockDocument(
            blockPublicAcls: block.blockPublicAcls, ignorePublicAcls: block.ignorePublicAcls,
            blockPublicPolicy: block.blockPublicPolicy, restrictPublicBuckets: block.restrictPublicBuckets).xml())
    }

    func putPublicAccessBlock(_ call: S3Call) async throws -> Response {
        let document = try PublicAccessBlockDocument.parse(Array(buffer: try await readSmallBody(call)))
        let block = PublicAccessBlock(
            blockPublicAcls: document.blockPublicAcls, ignorePublicAcls: document.ignorePublicAcls,
            blockPublicPolicy: document.blockPublicPolicy, restrictPublicBuckets: document.restrictPublicBuckets)
        try await decidingOnFreshBucket(call) { bucket in
            try await metadata.setPublicAccessBlock(bucket: call.bucket, block: block, requester: call.requester,
                                                    access: bucket.accessStamp, commandID: call.requestID)
        }
        return Self.emptyResponse(.ok)
    }

    /// Deleting a block that is not there succeeds, as in S3.
    func deletePublicAccessBlock(_ call: S3Call) async throws -> Response {
        try await decidingOnFreshBucket(call) { bucket in
            try await metadata.setPublicAccessBlock(bucket: call.bucket, block: nil, requester: call.requester,
                                                    access: bucket.accessStamp, commandID: call.requestID)
        }
        return Self.emptyResponse(.noContent)
    }

    /// Refuses `acl` when it is public and the bucket blocks public ACLs.
    static func refusePublicACL(_ acl: AccessControlList?, in bucket: BucketRecord) throws {
        guard bucket.publicAccessBlock?.blockPublicAcls == true, acl?.isPublic == true else { return }
        throw S3Error(.accessDenied, "The bucket's public access block forbids public ACLs.")
    }
}

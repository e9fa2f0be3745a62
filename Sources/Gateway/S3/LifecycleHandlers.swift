import Hummingbird
import MetaContract
import NIOCore
import S3Protocol

/// Get/Put/DeleteBucketLifecycle(Configuration). The document is validated as AWS does and stored in canonical
/// form (`LifecycleConfiguration.xml()`, every rule with an ID); `LifecycleWorker` applies it.
extension S3Gateway {
    func getBucketLifecycle(_ call: S3Call) async throws -> Response {
        guard let stored = try await metadata.bucketLifecycle(bucket: call.bucket) else {
            throw S3Error(.noSuchLifecycleConfiguration)
        }
        return Self.xmlResponse(stored)
    }

    func putBucketLifecycle(_ call: S3Call) async throws -> Response {
        let body = try await call.signedBody.collectSmall(
            limitBytes: S3Limits.lifecycleConfigurationBytesMax,
            tooLarge: S3Error(.malformedXML,
                              "The lifecycle configuration exceeds \(S3Limits.lifecycleConfigurationBytesMax) bytes."))
        let configuration = try LifecycleConfiguration.parse(Array(buffer: body)) { Self.randomHex(bytes: 16) }
        try await metadata.setBucketLifecycle(bucket: call.bucket, lifecycle: configuration.xml(),
                                              requester: call.requester, commandID: call.requestID)
        return Self.emptyResponse(.ok)
    }

    /// Deleting a configuration that is not there succeeds, as in S3.
    func deleteBucketLifecycle(_ call: S3Call) async throws -> Response {
        do {
            try await metadata.setBucketLifecycle(bucket: call.bucket, lifecycle: nil, requester: call.requester,
                                                  commandID: call.requestID)
        } catch .noSuchLifecycleConfiguration {
            // Nothing to delete.
        }
        return Self.emptyResponse(.noContent)
    }
}

import HTTPTypes
import Hummingbird
import MetaContract
import S3Protocol

/// GetBucketVersioning, PutBucketVersioning.
extension S3Gateway {
    func getBucketVersioning(_ call: S3Call) async throws -> Response {
        let state = try await metadata.bucketVersioning(bucket: call.bucket, requester: call.requester)
        let status: String? = switch state {
        case .unversioned: nil
        case .enabled: "Enabled"
        case .suspended: "Suspended"
        }
        return Self.xmlResponse(VersioningConfigurationResult(status: status).xml())
    }

    /// Enabled or Suspended; a document without `Status` changes nothing, as in S3. Silo has no MFA devices,
    /// so MFA delete is refused: without `x-amz-mfa` with the error AWS gives a request that lacks it, with
    /// one as not implemented.
    func putBucketVersioning(_ call: S3Call) async throws -> Response {
        let body = try await readSmallBody(call)
        let configuration = try VersioningConfiguration.parse(Array(buffer: body))
        if configuration.mfaDelete == "Enabled" {
            guard call.header("x-amz-mfa") != nil else {
                throw S3Error(.accessDenied, "Mfa Authentication must be used for this request")
            }
            throw S3Error(.notImplemented, "MFA delete is not implemented by Silo.")
        }
        let state: BucketVersioning
        switch configuration.status {
        case "Enabled"?: state = .enabled
        case "Suspended"?: state = .suspended
        default: return Self.emptyResponse(.ok)
        }
        try await metadata.setBucketVersioning(bucket: call.bucket, state: state, requester: call.requester,
                                               commandID: call.requestID)
        return Self.emptyResponse(.ok)
    }
}

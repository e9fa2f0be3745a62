import BlobContract
public import HTTPTypes
import MetaContract
import NIOCore
import S3Protocol

/// An S3 error as a client sees it: a code, an HTTP status and an XML body.
///
/// Invariant: this file is the only place in Silo that knows S3 error codes and their HTTP statuses.
/// Every lower-layer error (metadata, blob store, protocol parsing) is mapped here, in one `init` per
/// source type; anything unknown becomes `InternalError` and is logged by the responder with its cause.
public struct S3Error: Error, Sendable {
    public var code: Code
    public var message: String
    /// Extra elements of the XML body (for example `BucketName`, `Key`, `UploadId`), in order.
    public var details: [(name: String, value: String)]
    /// Extra response headers (for example `x-amz-bucket-region`).
    public var headers: [(name: String, value: String)]
    /// The lower-layer error that caused this one, for logs only.
    public var cause: (any Error)?

    public init(_ code: Code, _ message: String? = nil, details: [(name: String, value: String)] = [],
                cause: (any Error)? = nil) {
        self.code = code
        self.message = message ?? code.defaultMessage
        self.details = details
        self.headers = []
        self.cause = cause
    }

    public var status: HTTPResponse.Status { code.status }

    /// The S3 error codes Silo answers with.
    public enum Code: String, Sendable, CaseIterable {
        case accessDenied = "AccessDenied"
        case authorizationHeaderMalformed = "AuthorizationHeaderMalformed"
        case authorizationQueryParametersError = "AuthorizationQueryParametersError"
        case badDigest = "BadDigest"
        case bucketAlreadyExists = "BucketAlreadyExists"
        case bucketAlreadyOwnedByYou = "BucketAlreadyOwnedByYou"
        case bucketNotEmpty = "BucketNotEmpty"
        case entityTooLarge = "EntityTooLarge"
        case entityTooSmall = "EntityTooSmall"
        case expiredToken = "ExpiredToken"
        case incompleteBody = "IncompleteBody"
        case internalError = "InternalError"
        case invalidAccessKeyID = "InvalidAccessKeyId"
        case invalidArgument = "InvalidArgument"
        case invalidBucketName = "InvalidBucketName"
        case invalidDigest = "InvalidDigest"
        case invalidPart = "InvalidPart"
        case invalidPartOrder = "InvalidPartOrder"
        case invalidRange = "InvalidRange"
        case invalidToken = "InvalidToken"
        case invalidRequest = "InvalidRequest"
        case invalidURI = "InvalidURI"
        case keyTooLong = "KeyTooLongError"
        case malformedXML = "MalformedXML"
        case metadataTooLarge = "MetadataTooLarge"
        case methodNotAllowed = "MethodNotAllowed"
        case missingContentLength = "MissingContentLength"
        case missingSecurityHeader = "MissingSecurityHeader"
        case noSuchBucket = "NoSuchBucket"
        case noSuchKey = "NoSuchKey"
        case noSuchUpload = "NoSuchUpload"
        case noSuchVersion = "NoSuchVersion"
        case notImplemented = "NotImplemented"
        case notModified = "NotModified"
        case preconditionFailed = "PreconditionFailed"
        case requestTimeout = "RequestTimeout"
        case requestTimeTooSkewed = "RequestTimeTooSkewed"
        case serviceUnavailable = "ServiceUnavailable"
        case signatureDoesNotMatch = "SignatureDoesNotMatch"
        case slowDown = "SlowDown"
        case contentSHA256Mismatch = "XAmzContentSHA256Mismatch"
        case contentChecksumMismatch = "XAmzContentChecksumMismatch"
        case invalidEncryptionAlgorithm = "InvalidEncryptionAlgorithmError"
        case invalidLocationConstraint = "InvalidLocationConstraint"
        case userAlreadyExists = "UserAlreadyExists"
        case noSuchUser = "NoSuchUser"
        case deleteConflict = "DeleteConflict"
        case quotaExceeded = "QuotaExceeded"
        case malformedACLError = "MalformedACLError"
        case unresolvableGrantByEmailAddress = "UnresolvableGrantByEmailAddress"
        case accessControlListNotSupported = "AccessControlListNotSupported"
        case invalidBucketAclWithObjectOwnership = "InvalidBucketAclWithObjectOwnership"
        case ownershipControlsNotFoundError = "OwnershipControlsNotFoundError"
        case noSuchPublicAccessBlockConfiguration = "NoSuchPublicAccessBlockConfiguration"
        case noSuchBucketPolicy = "NoSuchBucketPolicy"
        case malformedPolicy = "MalformedPolicy"
        case invalidTag = "InvalidTag"
        case noSuchTagSet = "NoSuchTagSet"
        case noSuchCORSConfiguration = "NoSuchCORSConfiguration"
        case noSuchLifecycleConfiguration = "NoSuchLifecycleConfiguration"
        /// A CORS preflight refused (S3's `CORSResponse` messages).
        case accessForbidden = "AccessForbidden"
        case invalidBucketState = "InvalidBucketState"
        case objectLockConfigurationNotFoundError = "ObjectLockConfigurationNotFoundError"
        case noSuchObjectLockConfiguration = "NoSuchObjectLockConfiguration"
        case invalidRetentionPeriod = "InvalidRetentionPeriod"
        case invalidPolicyDocument = "InvalidPolicyDocument"
        case malformedPOSTRequest = "MalformedPOSTRequest"
        case maxPostPreDataLengthExceeded = "MaxPostPreDataLengthExceededError"

        /// The HTTP status of each code, as S3 answers it.
        public var status: HTTPResponse.Status {
            switch self {
            case .notModified: return .notModified
            case .accessDenied, .invalidAccessKeyID, .requestTimeTooSkewed, .signatureDoesNotMatch,
                 .expiredToken, .quotaExceeded, .accessForbidden:
                return .forbidden
            case .noSuchBucket, .noSuchKey, .noSuchUpload, .noSuchUser, .noSuchVersion, .ownershipControlsNotFoundError,
                 .noSuchBucketPolicy, .noSuchTagSet, .noSuchCORSConfiguration, .noSuchPublicAccessBlockConfiguration,
                 .noSuchLifecycleConfiguration, .objectLockConfigurationNotFoundError, .noSuchObjectLockConfiguration:
                return .notFound
            case .bucketAlreadyExists, .bucketAlreadyOwnedByYou, .bucketNotEmpty, .userAlreadyExists, .deleteConflict,
                 .invalidBucketState:
                return .conflict
            case .methodNotAllowed: return .methodNotAllowed
            case .missingContentLength: return .lengthRequired
            case .preconditionFailed: return .preconditionFailed
            case .invalidRange: return .rangeNotSatisfiable
            case .internalError: return .internalServerError
            case .notImplemented: return .notImplemented
            case .serviceUnavailable, .slowDown: return .serviceUnavailable
            case .authorizationHeaderMalformed, .authorizationQueryParametersError, .badDigest,
                 .entityTooLarge, .entityTooSmall, .incompleteBody, .invalidArgument, .invalidBucketName,
                 .invalidDigest, .invalidPart, .invalidPartOrder, .invalidRequest, .invalidToken, .invalidURI, .keyTooLong,
                 .malformedXML, .metadataTooLarge, .missingSecurityHeader, .requestTimeout,
                 .contentSHA256Mismatch, .contentChecksumMismatch, .invalidEncryptionAlgorithm,
                 .invalidLocationConstraint, .malformedACLError, .unresolvableGrantByEmailAddress,
                 .accessControlListNotSupported, .invalidBucketAclWithObjectOwnership, .malformedPolicy,
                 .invalidTag, .invalidRetentionPeriod, .invalidPolicyDocument, .malformedPOSTRequest,
                 .maxPostPreDataLengthExceeded:
                return .badRequest
            }
        }

        var defaultMessage: String {
            switch self {
            case .accessDenied: return "Access Denied"
            case .authorizationHeaderMalformed: return "The authorization header is malformed."
            case .authorizationQueryParametersError: return "The presigned query parameters are malformed."
            case .badDigest: return "The Content-MD5 or checksum you specified did not match what we received."
            case .bucketAlreadyExists:
                return "The requested bucket name is not available. Please select a different name and try again."
            case .bucketAlreadyOwnedByYou:
                return "Your previous request to create the named bucket succeeded and you already own it."
            case .bucketNotEmpty: return "The bucket you tried to delete is not empty"
            case .entityTooLarge: return "Your proposed upload exceeds the maximum allowed size"
            case .entityTooSmall: return "Your proposed upload is smaller than the minimum allowed size"
            case .expiredToken: return "The provided token has expired."
            case .incompleteBody: return "You did not provide the number of bytes specified by the Content-Length HTTP header."
            case .internalError: return "We encountered an internal error. Please try again."
            case .invalidAccessKeyID: return "The AWS Access Key Id you provided does not exist in our records."
            case .invalidArgument: return "Invalid Argument"
            case .invalidBucketName: return "The specified bucket is not valid."
            case .invalidDigest: return "The Content-MD5 you specified is not valid."
            case .invalidPart:
                return "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."
            case .invalidPartOrder: return "The list of parts was not in ascending order. Parts must be ordered by part number."
            case .invalidRange: return "The requested range is not satisfiable"
            case .invalidToken: return "The provided token is malformed or otherwise invalid."
            case .invalidRequest: return "Invalid Request"
            case .invalidURI: return "Couldn't parse the specified URI."
            case .keyTooLong: return "Your key is too long"
            case .malformedXML:
                return "The XML you provided was not well-formed or did not validate against our published schema"
            case .metadataTooLarge: return "Your metadata headers exceed the maximum allowed metadata size"
            case .methodNotAllowed: return "The specified method is not allowed against this resource."
            case .missingContentLength: return "You must provide the Content-Length HTTP header."
            case .missingSecurityHeader: return "Your request is missing a required header."
            case .noSuchBucket: return "The specified bucket does not exist"
            case .noSuchKey: return "The specified key does not exist."
            case .noSuchUpload:
                return "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
            case .notImplemented: return "A header or query you provided implies functionality that is not implemented."
            case .notModified: return "Not Modified"
            case .preconditionFailed: return "At least one of the pre-conditions you specified did not hold"
            case .requestTimeout:
                return "Your socket connection to the server was not read from or written to within the timeout period."
            case .requestTimeTooSkewed: return "The difference between the request time and the server's time is too large."
            case .serviceUnavailable: return "Service is unable to handle request."
            case .signatureDoesNotMatch:
                return "The request signature we calculated does not match the signature you provided. Check your key and signing method."
            case .slowDown: return "Please reduce your request rate."
            case .contentSHA256Mismatch: return "The provided 'x-amz-content-sha256' header does not match what was computed."
            case .contentChecksumMismatch: return "The provided checksum does not match the computed checksum."
            case .invalidEncryptionAlgorithm: return "The encryption request you specified is not valid."
            case .invalidLocationConstraint: return "The specified location constraint is not valid."
            case .userAlreadyExists: return "A user with this name or access key already exists."
            case .noSuchUser: return "The specified user does not exist."
            case .noSuchVersion: return "The specified version does not exist."
            case .quotaExceeded: return "The bucket or its owner has reached its storage quota."
            case .deleteConflict:
                return "The user still owns buckets: delete them first, or force the deletion to give them to root."
            case .malformedACLError: return "The XML you provided was not well-formed or did not validate against our published schema."
            case .unresolvableGrantByEmailAddress: return "The e-mail address you provided does not match any account on record."
            case .accessControlListNotSupported: return "The bucket does not allow ACLs"
            case .invalidBucketAclWithObjectOwnership:
                return "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"
            case .ownershipControlsNotFoundError: return "The bucket ownership controls were not found"
            case .noSuchPublicAccessBlockConfiguration: return "The public access block configuration was not found"
            case .noSuchBucketPolicy: return "The bucket policy does not exist"
            case .malformedPolicy: return "Policies must be valid JSON and the first byte must be '{'"
            case .invalidTag: return "The tag provided was not a valid tag."
            case .noSuchTagSet: return "The TagSet does not exist"
            case .noSuchCORSConfiguration: return "The CORS configuration does not exist"
            case .noSuchLifecycleConfiguration: return "The lifecycle configuration does not exist"
            case .accessForbidden: return "CORSResponse: This CORS request is not allowed."
            case .invalidBucketState: return "The request is not valid with the current state of the bucket."
            case .objectLockConfigurationNotFoundError: return "Object Lock configuration does not exist for this bucket"
            case .noSuchObjectLockConfiguration: return "The specified object does not have a ObjectLock configuration"
            case .invalidRetentionPeriod: return "Default retention period must be a positive integer value."
            case .invalidPolicyDocument: return "Invalid Policy: the policy document is malformed."
            case .malformedPOSTRequest: return "The body of your POST request is not well-formed multipart/form-data."
            case .maxPostPreDataLengthExceeded:
                return "Your POST request fields preceding the upload file were too large."
            }
        }
    }
}

// MARK: - Mapping of lower-layer errors (one init per source type)

extension S3Error {
    /// Metadata errors. Exhaustive: a new `MetaError` case is a compile error here.
    init(_ error: MetaError) {
        switch error {
        case .noSuchBucket: self.init(.noSuchBucket, cause: error)
        case .bucketAlreadyExists: self.init(.bucketAlreadyExists, cause: error)
        case .bucketAlreadyOwnedByYou: self.init(.bucketAlreadyOwnedByYou, cause: error)
        case .bucketNotEmpty: self.init(.bucketNotEmpty, cause: error)
        case .accessDenied: self.init(.accessDenied, cause: error)
        case .noSuchKey: self.init(.noSuchKey, cause: error)
        case .noSuchUpload: self.init(.noSuchUpload, cause: error)
        case .invalidPart(let partNumber):
            self.init(.invalidPart, details: [("PartNumber", String(partNumber))], cause: error)
        case .invalidPartOrder: self.init(.invalidPartOrder, cause: error)
        case .entityTooSmall(let partNumber):
            self.init(.entityTooSmall, details: [("PartNumber", String(partNumber))], cause: error)
        case .preconditionFailed: self.init(.preconditionFailed, cause: error)
        case .requestTooOld:
            self.init(.requestTimeout, "The upload took too long; please retry it.", cause: error)
        case .userAlreadyExists: self.init(.userAlreadyExists, cause: error)
        case .noSuchUser: self.init(.noSuchUser, cause: error)
        case .userOwnsBuckets: self.init(.deleteConflict, cause: error)
        case .quotaExceeded(let which): self.init(.quotaExceeded, "Quota exceeded: \(which).", cause: error)
        case .invalidArgument(let message): self.init(.invalidArgument, message, cause: error)
        case .unavailable: self.init(.serviceUnavailable, cause: error)
        case .outcomeUnknown:
            self.init(.serviceUnavailable,
                      "The metadata service could not confirm the write in time; retry the request.", cause: error)
        case .insufficientStorage:
            self.init(.serviceUnavailable, "The server is low on storage: delete objects to make room, or retry later.",
                      cause: error)
        case .internalFault: self.init(.internalError, cause: error)
        case .noSuchBucketPolicy: self.init(.noSuchBucketPolicy, cause: error)
        case .ownershipControlsNotFound: self.init(.ownershipControlsNotFoundError, cause: error)
        case .aclNotSupported: self.init(.accessControlListNotSupported, cause: error)
        case .noSuchTagSet: self.init(.noSuchTagSet, cause: error)
        case .noSuchCORSConfiguration: self.init(.noSuchCORSConfiguration, cause: error)
        case .noSuchLifecycleConfiguration: self.init(.noSuchLifecycleConfiguration, cause: error)
        case .noSuchVersion: self.init(.noSuchVersion, cause: error)
        case .versionIsDeleteMarker:
            self.init(.methodNotAllowed, details: [("ResourceType", "DeleteMarker")], cause: error)
        // Retried by the tagging handler until it stops changing; past that, the client retries.
        case .objectAccessChanged:
            self.init(.serviceUnavailable, "The object's access settings kept changing; retry the request.",
                      cause: error)
        // Retried by `withBucketAccess` until it stops changing; past that, the client retries.
        case .bucketAccessChanged:
            self.init(.serviceUnavailable, "The bucket's access settings kept changing; retry the request.",
                      cause: error)
        // Blob-map commands come from blob nodes and the admin CLI over the metadata RPC, never from S3.
        case .noSuchBlobNode, .blobNodeRemoved: self.init(.internalError, cause: error)
        case .objectLockNotEnabled:
            self.init(.invalidRequest, "Bucket is missing Object Lock Configuration", cause: error)
        case .invalidBucketState(let message): self.init(.invalidBucketState, message, cause: error)
        // S3 answers a locked version's delete, and a retention change the lock forbids, with AccessDenied.
        case .objectLocked(let message): self.init(.accessDenied, "Access Denied because \(message)", cause: error)
        }
    }

    /// ACL documents and grant headers.
    init(_ error: ACLParseFailure) {
        switch error {
        case .xml(let failure): self.init(failure)
        case .acl(.malformed): self.init(.malformedACLError, cause: error)
        case .acl(.invalidArgument(let reason)): self.init(.invalidArgument, reason, cause: error)
        }
    }

    /// Chunk store errors: none of them is the client's fault.
    init(_ error: BlobError) {
        switch error {
        case .unavailable: self.init(.serviceUnavailable, cause: error)
        case .diskFull:
            self.init(.serviceUnavailable, "The server is low on storage: delete objects to make room, or retry later.",
                      cause: error)
        case .chunkNotFound, .checksumMismatch, .rangeOutOfBounds, .io, .invalidOptions, .chunkTooLarge,
             .conflictingRewrite:
            self.init(.internalError, cause: error)
        }
    }

    /// Signature errors.
    init(_ error: SigV4Error) {
        switch error {
        case .missingAuthentication:
            self.init(.accessDenied, "Anonymous access is not allowed: sign the request (AWS Signature Version 4).",
                      cause: error)
        case .multipleAuthenticationMechanisms:
            self.init(.invalidArgument, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
                      cause: error)
        case .unsupportedAlgorithm(let algorithm):
            self.init(.invalidRequest, "The authorization mechanism you have provided (\(algorithm)) is not supported. Please use AWS4-HMAC-SHA256.",
                      cause: error)
        case .malformedAuthorization(let reason):
            self.init(.authorizationHeaderMalformed, "The authorization header is malformed; \(reason)", cause: error)
        case .wrongService(let service):
            self.init(.authorizationHeaderMalformed, "The authorization header is malformed; incorrect service \"\(service)\". This endpoint belongs to \"s3\".",
                      cause: error)
        case .credentialDateMismatch(let credentialDate, let requestDate):
            self.init(.authorizationHeaderMalformed, "The authorization header is malformed; Invalid credential date \"\(credentialDate)\". This date is not the same as X-Amz-Date: \"\(requestDate)\".",
                      cause: error)
        case .malformedPresignedQuery(let reason):
            self.init(.authorizationQueryParametersError, reason, cause: error)
        case .presignedExpiresTooLarge:
            self.init(.authorizationQueryParametersError,
                      "X-Amz-Expires must be less than a week (in seconds) that is 604800", cause: error)
        case .invalidDate(let text):
            self.init(.accessDenied, "AWS authentication requires a valid Date or x-amz-date header (got \(text)).",
                      cause: error)
        case .missingSecurityHeader(let name):
            self.init(.invalidRequest, "Missing required header for this request: \(name)", cause: error)
        case .invalidContentSHA256(let value):
            self.init(.invalidArgument, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER), STREAMING-UNSIGNED-PAYLOAD-TRAILER or a valid sha256 value.",
                      details: [("ArgumentName", "x-amz-content-sha256"), ("ArgumentValue", value)], cause: error)
        case .hostNotSigned:
            self.init(.accessDenied, "The host header must be signed.", cause: error)
        case .signedHeaderMissing(let name):
            self.init(.signatureDoesNotMatch, details: [("MissingSignedHeader", name)], cause: error)
        case .requestTimeTooSkewed(let requestTime, let serverTime):
            self.init(.requestTimeTooSkewed, details: [
                ("RequestTime", S3Time.httpDate(milliseconds: requestTime)),
                ("ServerTime", S3Time.iso8601(milliseconds: serverTime)),
                ("MaxAllowedSkewMilliseconds", String(S3Limits.requestTimeSkewMillisecondsMax)),
            ], cause: error)
        case .presignedExpired(let expiryTime, let serverTime):
            self.init(.accessDenied, "Request has expired", details: [
                ("Expires", S3Time.iso8601(milliseconds: expiryTime)),
                ("ServerTime", S3Time.iso8601(milliseconds: serverTime)),
            ], cause: error)
        case .presignedNotYetValid:
            self.init(.accessDenied, "Request is not valid yet", cause: error)
        case .signatureDoesNotMatch(let canonicalRequest, let stringToSign):
            self.init(.signatureDoesNotMatch, details: [
                ("StringToSign", stringToSign), ("CanonicalRequest", canonicalRequest),
            ], cause: error)
        case .payloadHashMismatch(let claimed, let computed):
            self.init(.contentSHA256Mismatch, details: [
                ("ClientComputedContentSHA256", claimed), ("S3ComputedContentSHA256", computed),
            ], cause: error)
        case .wrongRegion(let signed, let expected, let isPresigned):
            let message = "the region '\(signed)' is wrong; expecting '\(expected)'"
            if isPresigned {
                self.init(.authorizationQueryParametersError, "Error parsing the X-Amz-Credential parameter; \(message)",
                          details: [("Region", expected)], cause: error)
            } else {
                self.init(.authorizationHeaderMalformed, "The authorization header is malformed; \(message)",
                          details: [("Region", expected)], cause: error)
            }
        case .securityTokenNotAccepted:
            self.init(.invalidToken, cause: error)
        }
    }

    /// aws-chunked framing and chunk signature errors.
    init(_ error: AWSChunkedError) {
        switch error {
        case .missingChunkSignature, .chunkSignatureMismatch, .missingTrailerSignature, .trailerSignatureMismatch:
            self.init(.signatureDoesNotMatch, "The chunk signature does not match the signature we calculated.",
                      cause: error)
        case .incompleteBody:
            self.init(.incompleteBody, cause: error)
        case .decodedLengthMismatch(let declared, let decoded):
            if decoded < declared {
                self.init(.incompleteBody, cause: error)
            } else {
                self.init(.invalidRequest, "The decoded body is longer than x-amz-decoded-content-length.", cause: error)
            }
        case .malformedFraming(let reason):
            self.init(.invalidRequest, "The aws-chunked body is malformed: \(reason).", cause: error)
        case .chunkHeaderTooLong, .chunkTooLarge, .trailerTooLarge, .dataAfterEnd:
            self.init(.invalidRequest, "The aws-chunked body is malformed.", cause: error)
        }
    }

    /// Flexible checksum errors.
    init(_ error: ChecksumError) {
        switch error {
        case .mismatch(let algorithm, _, _):
            self.init(.badDigest, "The \(algorithm.rawValue) you specified did not match the calculated checksum.",
                      cause: error)
        case .unknownAlgorithm(let name):
            self.init(.invalidRequest, "Checksum algorithm \(name) is not supported.", cause: error)
        case .multipleChecksumHeaders:
            self.init(.invalidRequest, "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
                      cause: error)
        case .invalidChecksumValue(let headerName):
            self.init(.invalidRequest, "Value for \(headerName) header is invalid.", cause: error)
        case .algorithmMismatch:
            self.init(.invalidRequest, "The checksum algorithm header does not match the checksum sent.", cause: error)
        case .invalidChecksumType(let value):
            self.init(.invalidRequest, "Checksum type \(value) is not valid for this algorithm.", cause: error)
        case .invalidTrailer(let value):
            self.init(.invalidRequest, "The value specified in the x-amz-trailer header is not supported: \(value)",
                      cause: error)
        }
    }

    /// Request-line and routing errors.
    init(_ error: S3RequestError) {
        switch error {
        case .invalidURI: self.init(.invalidURI, cause: error)
        case .methodNotAllowed: self.init(.methodNotAllowed, cause: error)
        case .invalidCopySource(let reason):
            self.init(.invalidArgument, "Invalid copy source: \(reason)", details: [("ArgumentName", "x-amz-copy-source")],
                      cause: error)
        case .invalidArgument(let name, let reason):
            self.init(.invalidArgument, reason, details: [("ArgumentName", name)], cause: error)
        }
    }

    /// Request XML errors.
    init(_ error: XMLRequestError) {
        switch error {
        case .malformedXML, .tooLarge, .tooManyObjects, .invalidPartNumber:
            self.init(.malformedXML, cause: error)
        case .invalidLocationConstraint(let value):
            self.init(.invalidLocationConstraint, details: [("LocationConstraint", value)], cause: error)
        }
    }

    init(_ error: PostPolicyError) {
        switch error {
        case .malformed(let reason): self.init(.invalidPolicyDocument, reason)
        case .denied(let reason): self.init(.accessDenied, reason)
        case .invalidArgument(let reason): self.init(.invalidArgument, reason)
        case .signatureDoesNotMatch:
            self.init(.signatureDoesNotMatch, "The request signature we calculated does not match the signature you provided.")
        }
    }

    init(_ error: MultipartFormError) {
        switch error {
        case .notMultipart:
            self.init(.preconditionFailed, "Bucket POST must be of the enclosure-type multipart/form-data")
        case .malformed(let reason):
            self.init(.malformedPOSTRequest, "The body of your POST request is not well-formed multipart/form-data: \(reason).")
        }
    }

    init(_ error: BucketNameError) {
        self.init(.invalidBucketName, error.description, cause: error)
    }

    init(_ error: ObjectKeyError) {
        switch error {
        case .empty: self.init(.invalidArgument, "An object key must not be empty.", cause: error)
        case .tooLong(let byteCount):
            self.init(.keyTooLong, details: [("Size", String(byteCount)), ("MaxSizeAllowed", "1024")], cause: error)
        }
    }

    init(_ error: UserMetadataError) {
        switch error {
        case .tooLarge(let byteCount):
            self.init(.metadataTooLarge, details: [("Size", String(byteCount)), ("MaxSizeAllowed", "2048")], cause: error)
        case .emptyName: self.init(.invalidArgument, "A user metadata header needs a name after x-amz-meta-.", cause: error)
        }
    }

    /// Tag sets (documents and `x-amz-tagging`).
    init(_ error: TaggingError) {
        switch error {
        case .malformedXML: self.init(.malformedXML, cause: error)
        case .invalidTag(let reason): self.init(.invalidTag, reason, cause: error)
        case .invalidHeader(let reason): self.init(.invalidArgument, reason, cause: error)
        }
    }

    /// CORS configuration documents.
    init(_ error: CORSConfigurationError) {
        switch error {
        case .malformedXML: self.init(.malformedXML, cause: error)
        case .invalidRequest(let reason): self.init(.invalidRequest, reason, cause: error)
        }
    }

    /// Lifecycle configuration documents.
    init(_ error: LifecycleConfigurationError) {
        switch error {
        case .malformedXML: self.init(.malformedXML, cause: error)
        case .invalidArgument(let reason): self.init(.invalidArgument, reason, cause: error)
        case .invalidRequest(let reason): self.init(.invalidRequest, reason, cause: error)
        case .notImplemented(let what): self.init(.notImplemented, "\(what) is not implemented by Silo.", cause: error)
        }
    }

    /// Any error: S3 errors pass through, known lower-layer types are mapped, the rest is internal.
    static func from(_ error: any Error) -> S3Error {
        switch error {
        case let error as S3Error: return error
        case let error as MetaError: return S3Error(error)
        case let error as BlobError: return S3Error(error)
        case let error as SigV4Error: return S3Error(error)
        case let error as AWSChunkedError: return S3Error(error)
        case let error as ChecksumError: return S3Error(error)
        case let error as S3RequestError: return S3Error(error)
        case let error as XMLRequestError: return S3Error(error)
        case let error as ACLParseFailure: return S3Error(error)
        case let error as ACLRequestError: return S3Error(.acl(error))
        case let error as BucketNameError: return S3Error(error)
        case let error as ObjectKeyError: return S3Error(error)
        case let error as UserMetadataError: return S3Error(error)
        case let error as TaggingError: return S3Error(error)
        case let error as CORSConfigurationError: return S3Error(error)
        case let error as LifecycleConfigurationError: return S3Error(error)
        case let error as PostPolicyError: return S3Error(error)
        case let error as MultipartFormError: return S3Error(error)
        default: return S3Error(.internalError, cause: error)
        }
    }
}

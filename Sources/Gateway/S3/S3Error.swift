import BlobNode
public import HTTPTypes
import MetaQuorum
import NIOCore

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
        case userAlreadyExists = "UserAlreadyExists"
        case noSuchUser = "NoSuchUser"

        /// The HTTP status of each code, as S3 answers it.
        public var status: HTTPResponse.Status {
            switch self {
            case .notModified: return .notModified
            case .accessDenied, .invalidAccessKeyID, .requestTimeTooSkewed, .signatureDoesNotMatch,
                 .expiredToken:
                return .forbidden
            case .noSuchBucket, .noSuchKey, .noSuchUpload, .noSuchUser: return .notFound
            case .bucketAlreadyExists, .bucketAlreadyOwnedByYou, .bucketNotEmpty, .userAlreadyExists:
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
                 .invalidDigest, .invalidPart, .invalidPartOrder, .invalidRequest, .invalidURI, .keyTooLong,
                 .malformedXML, .metadataTooLarge, .missingSecurityHeader, .requestTimeout,
                 .contentSHA256Mismatch, .contentChecksumMismatch, .invalidEncryptionAlgorithm:
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
            case .userAlreadyExists: return "A user with this name or access key already exists."
            case .noSuchUser: return "The specified user does not exist."
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
        case .invalidArgument(let message): self.init(.invalidArgument, message, cause: error)
        case .unavailable: self.init(.serviceUnavailable, cause: error)
        case .internalFault: self.init(.internalError, cause: error)
        }
    }

    /// Chunk store errors: none of them is the client's fault.
    init(_ error: BlobError) {
        switch error {
        case .unavailable, .diskFull: self.init(.serviceUnavailable, cause: error)
        case .chunkNotFound, .checksumMismatch, .rangeOutOfBounds, .io: self.init(.internalError, cause: error)
        }
    }

    /// Any error: S3 errors pass through, known lower-layer types are mapped, the rest is internal.
    static func from(_ error: any Error) -> S3Error {
        switch error {
        case let error as S3Error: return error
        case let error as MetaError: return S3Error(error)
        case let error as BlobError: return S3Error(error)
        default: return S3Error(.internalError, cause: error)
        }
    }
}

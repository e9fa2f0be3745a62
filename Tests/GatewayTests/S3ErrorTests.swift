import BlobNode
@testable import Gateway
import HTTPTypes
import MetaQuorum
import Testing

/// Goal: every S3 error code has the status S3 answers with, and lower-layer errors map to the code a
/// client expects. Method: a table of AWS's documented code → status pairs, and each MetaError case.
@Suite struct S3ErrorTests {
    @Test(arguments: [
        ("AccessDenied", 403), ("BadDigest", 400), ("BucketAlreadyExists", 409), ("BucketAlreadyOwnedByYou", 409),
        ("BucketNotEmpty", 409), ("EntityTooSmall", 400), ("EntityTooLarge", 400), ("IncompleteBody", 400),
        ("InternalError", 500), ("InvalidAccessKeyId", 403), ("InvalidArgument", 400), ("InvalidBucketName", 400),
        ("InvalidDigest", 400), ("InvalidPart", 400), ("InvalidPartOrder", 400), ("InvalidRange", 416),
        ("KeyTooLongError", 400), ("MalformedXML", 400), ("MetadataTooLarge", 400), ("MethodNotAllowed", 405),
        ("MissingContentLength", 411), ("NoSuchBucket", 404), ("NoSuchKey", 404), ("NoSuchUpload", 404),
        ("NotImplemented", 501), ("PreconditionFailed", 412), ("RequestTimeTooSkewed", 403),
        ("SignatureDoesNotMatch", 403), ("ServiceUnavailable", 503), ("SlowDown", 503),
        ("XAmzContentSHA256Mismatch", 400), ("NotModified", 304), ("InvalidTag", 400), ("NoSuchTagSet", 404),
        ("NoSuchCORSConfiguration", 404), ("AccessForbidden", 403),
    ])
    func statusOfCode(code: String, status: Int) throws {
        let parsed = try #require(S3Error.Code(rawValue: code))
        #expect(parsed.status.code == status)
    }

    @Test func metadataErrorsMapToClientCodes() {
        let table: [(MetaError, S3Error.Code)] = [
            (.noSuchBucket, .noSuchBucket), (.bucketAlreadyExists, .bucketAlreadyExists),
            (.bucketAlreadyOwnedByYou, .bucketAlreadyOwnedByYou), (.bucketNotEmpty, .bucketNotEmpty),
            (.accessDenied, .accessDenied), (.noSuchUpload, .noSuchUpload), (.invalidPart(partNumber: 2), .invalidPart),
            (.invalidPartOrder, .invalidPartOrder), (.entityTooSmall(partNumber: 1), .entityTooSmall),
            (.preconditionFailed, .preconditionFailed), (.unavailable("no leader"), .serviceUnavailable),
            (.internalFault("disk"), .internalError), (.noSuchTagSet, .noSuchTagSet),
            (.noSuchCORSConfiguration, .noSuchCORSConfiguration), (.noSuchVersion, .noSuchVersion),
            (.versionIsDeleteMarker, .methodNotAllowed),
        ]
        for (error, code) in table {
            #expect(S3Error(error).code == code, "\(error)")
        }
    }

    @Test func unknownErrorsAreInternalAndKeepTheirCause() {
        struct Surprise: Error {}
        let error = S3Error.from(Surprise())
        #expect(error.code == .internalError)
        #expect(error.cause is Surprise)
        #expect(!error.message.contains("Surprise"))
    }

    @Test func blobErrorsAreNeverTheClientsFault() {
        #expect(S3Error(BlobError.checksumMismatch(7)).status.code == 500)
        #expect(S3Error(BlobError.diskFull("ENOSPC")).status.code == 503)
    }
}

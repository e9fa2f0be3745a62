// Every bound the S3 protocol layer enforces, in one place. Values follow AWS where AWS documents one.

/// Bounds of the S3 protocol layer. The Gateway reads them to size its own buffers (for example the
/// header bytes it accepts before it hands headers to `SigV4.parse`).
public enum S3Limits {
    // MARK: Authentication (SigV4)

    /// The largest clock difference allowed between a header-signed request and the server (AWS: 15 minutes).
    public static let requestTimeSkewMillisecondsMax: Int64 = 15 * 60 * 1000
    /// The longest validity of a presigned URL, `X-Amz-Expires` (AWS: 7 days).
    public static let presignedExpirySecondsMax: Int64 = 604_800
    /// The most digits a SigV2 presigned `Expires` (epoch seconds) may have: 12 reach the year 33658, and
    /// keep `Expires * 1000` far inside Int64. Longer values are `AuthorizationQueryParametersError`.
    public static let presignedExpiresDigitsMax = 12
    /// The longest `Authorization` header value `SigV4.parse` accepts.
    public static let authorizationHeaderBytesMax = 8 * 1024
    /// The longest `multipart/form-data` boundary (RFC 2046: 1 to 70 characters).
    public static let multipartBoundaryBytesMax = 70
    /// The most bytes of one part's header lines (and of a preamble before the first boundary).
    public static let multipartHeaderBytesMax = 8 * 1024
    /// The most bytes of the form fields of a POST Object before its `file` field (AWS answers
    /// MaxPostPreDataLengthExceeded beyond it; the policy document alone may be 20 KB).
    public static let postFormFieldsBytesMax = 64 * 1024
    /// The most headers a request may sign.
    public static let signedHeaderCountMax = 64
    /// The most bytes of request headers (names and values) the Gateway accepts (AWS: 8 KiB of headers
    /// for PUT, much more in practice; we take 64 KiB to leave room for metadata and long tokens).
    public static let requestHeaderBytesMax = 64 * 1024
    /// The longest single request header (name and value) the Gateway accepts.
    public static let requestHeaderFieldBytesMax = 16 * 1024
    /// The most request header fields the Gateway accepts.
    public static let requestHeaderCountMax = 300

    // MARK: aws-chunked bodies

    /// The longest chunk header line (`<hex-size>;chunk-signature=<64 hex>` plus extensions), CRLF excluded.
    public static let chunkHeaderLineBytesMax = 4 * 1024
    /// The largest single aws-chunked chunk. SDKs send 64 KiB (boto3, AWS CLI: 64 KiB; Java: 128 KiB;
    /// the AWS docs: at least 8 KiB); 16 MiB leaves room while bounding what one chunk costs to verify.
    public static let chunkSizeBytesMax = 16 * 1024 * 1024
    /// The most bytes of trailer section (all trailer lines and their terminators).
    public static let trailerBytesMax = 16 * 1024
    /// The most trailer lines.
    public static let trailerCountMax = 16

    // MARK: Names and metadata

    /// Bucket names: 3 to 63 characters.
    public static let bucketNameLengthMin = 3
    public static let bucketNameLengthMax = 63
    /// Object keys: 1 to 1024 bytes of UTF-8.
    public static let objectKeyBytesMax = 1024
    /// User metadata (`x-amz-meta-*`): names (without the prefix) plus values, in UTF-8 bytes (AWS: 2 KB).
    public static let userMetadataBytesMax = 2 * 1024

    // MARK: Listing and batch requests

    /// The most keys a list request returns (`max-keys` is clamped to this).
    public static let listKeysMax = 1000
    /// The range of `max-buckets` in a paginated ListBuckets (AWS: 1 to 10 000).
    public static let listBucketsMaxRange: ClosedRange<Int> = 1...10_000
    /// The most parts `ListParts` returns per page.
    public static let listPartsMax = 1000
    /// The most uploads `ListMultipartUploads` returns per page.
    public static let listUploadsMax = 1000
    /// The largest value of a numeric query parameter (`max-keys`, `max-uploads`, `max-parts`): AWS reads
    /// them as 32-bit integers and answers `InvalidArgument` beyond.
    public static let queryIntegerMax = Int(Int32.max)
    /// The most objects one `DeleteObjects` request names.
    public static let deleteObjectsCountMax = 1000
    /// The most parts of a multipart upload, and the highest part number.
    public static let partNumberMax = 10_000
    /// The most bytes one `<Part>` of a CompleteMultipartUpload takes without padding: the number, a quoted
    /// ETag (multipart-style included) and every checksum element (`S3LimitsTests` builds one and checks).
    public static let completePartXMLBytesMax = 400
    /// The largest CompleteMultipartUpload body a client needs: `partNumberMax` parts of
    /// `completePartXMLBytesMax` bytes plus the envelope (about 3.8 MiB).
    public static let completeMultipartBodyBytesMax = partNumberMax * completePartXMLBytesMax + 1024
    /// The largest XML request body the Gateway reads and we parse. At least
    /// `completeMultipartBodyBytesMax`, so a legal 10,000-part Complete with checksums is never refused.
    public static let xmlRequestBodyBytesMax = 4 * 1024 * 1024
    /// The deepest element nesting a request body may have.
    public static let xmlDepthMax = 16

    // MARK: HTTP

    /// The most ETags in one `If-Match` / `If-None-Match` list.
    public static let etagListCountMax = 64
    /// The longest `Range` header value we parse.
    public static let rangeHeaderBytesMax = 1024

    // MARK: Tagging and CORS

    /// The most tags an object version carries (AWS: 10).
    public static let objectTagCountMax = 10
    /// The most tags a bucket carries (AWS: 50).
    public static let bucketTagCountMax = 50
    /// The longest tag key, in Unicode characters (AWS: 128).
    public static let tagKeyCharactersMax = 128
    /// The longest tag value, in Unicode characters (AWS: 256).
    public static let tagValueCharactersMax = 256
    /// The most rules of a bucket's CORS configuration (AWS: 100).
    public static let corsRuleCountMax = 100
    /// The longest `ID` of a CORS rule (AWS: 255 characters).
    public static let corsRuleIDCharactersMax = 255
    /// The most rules of a bucket's lifecycle configuration (AWS: 1,000).
    public static let lifecycleRuleCountMax = 1000
    /// The longest `ID` of a lifecycle rule (AWS: 255 characters).
    public static let lifecycleRuleIDCharactersMax = 255
    /// The largest `NewerNoncurrentVersions` of a rule (AWS: 100).
    public static let lifecycleNewerNoncurrentVersionsMax = 100
    /// The largest `Days`, `NoncurrentDays` or `DaysAfterInitiation` accepted: about 2,700 years, so that
    /// days in milliseconds stay far inside `Int64`.
    public static let lifecycleDaysMax = 1_000_000
    /// The largest lifecycle configuration the Gateway reads (1,000 rules of modest size).
    public static let lifecycleConfigurationBytesMax = 1024 * 1024
    /// The largest CORS configuration the Gateway reads (AWS: 64 KB).
    public static let corsConfigurationBytesMax = 64 * 1024
    /// The largest Tagging document the Gateway reads: room for `bucketTagCountMax` tags of the longest
    /// keys and values in 4-byte UTF-8 characters with their markup (about 80 KB).
    public static let taggingDocumentBytesMax = 128 * 1024
}

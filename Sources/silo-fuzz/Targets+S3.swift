import NIOCore
import S3Protocol

/// Targets for what a client sends the S3 endpoint: signatures, aws-chunked bodies, XML bodies, the
/// numeric and conditional headers, and the request-target parser.
extension FuzzTargets {
    static let s3Targets: [FuzzTarget] = [
        FuzzTarget(name: "sigv4", run: sigV4),
        FuzzTarget(name: "sigv2", run: sigV2),
        FuzzTarget(name: "aws-chunked", run: awsChunked),
        FuzzTarget(name: "xml-complete-multipart", run: { _ = try? CompleteMultipartUploadRequest.parse($0) }),
        FuzzTarget(name: "xml-delete-objects", run: { _ = try? DeleteObjectsRequest.parse($0) }),
        FuzzTarget(name: "xml-create-bucket", run: { _ = try? CreateBucketConfiguration.parse($0) }),
        FuzzTarget(name: "xml-acl", run: accessControl),
        FuzzTarget(name: "bucket-policy", run: bucketPolicy),
        FuzzTarget(name: "xml-tagging-cors", run: taggingAndCORS),
        FuzzTarget(name: "xml-object-lock", run: objectLock),
        FuzzTarget(name: "http-headers", run: httpHeaders),
        FuzzTarget(name: "endpoint", run: endpoint),
    ]

    /// An AccessControlPolicy body, the same bytes as an `x-amz-grant-*` header value, and an
    /// OwnershipControls body.
    static func accessControl(_ bytes: [UInt8]) {
        _ = try? AccessControlPolicyRequest.parse(bytes)
        _ = try? AccessControlPolicyRequest.parseGrantHeader(String(decoding: bytes, as: UTF8.self))
        _ = try? OwnershipControlsDocument.parse(bytes)
    }

    /// A Tagging document (both owners' limits), the same bytes as `x-amz-tagging` and as a stored tag set,
    /// and a CORS configuration, then, when it parses, a rule lookup with an origin and headers from the bytes.
    static func taggingAndCORS(_ bytes: [UInt8]) {
        _ = try? TagSet.parse(bytes, for: .object)
        _ = try? TagSet.parse(bytes, for: .bucket)
        let text = String(decoding: bytes, as: UTF8.self)
        if let tags = try? TagSet.parseHeader(text) { _ = TagSet(storedForm: tags.storedForm) }
        _ = TagSet(storedForm: text)
        guard let configuration = try? CORSConfiguration.parse(bytes) else { return }
        let origin = String(decoding: bytes.prefix(64), as: UTF8.self)
        for method in ["GET", "PUT"] {
            _ = configuration.match(origin: origin, method: method, requestHeaders: [origin, "x-amz-date"])
        }
        _ = configuration.xml()
    }

    /// An ObjectLockConfiguration, a Retention and a LegalHold body (the same bytes as each), and what parses
    /// written back.
    static func objectLock(_ bytes: [UInt8]) {
        if let configuration = try? ObjectLockConfigurationDocument.parse(bytes) { _ = configuration.xml() }
        if let retention = try? RetentionDocument.parse(bytes) { _ = retention.xml() }
        if let hold = try? LegalHoldDocument.parse(bytes) { _ = hold.xml() }
    }

    /// A bucket policy document, then, when it parses, its evaluation for a fixed request whose context
    /// values come from the same bytes (so conditions compare against hostile values too).
    static func bucketPolicy(_ bytes: [UInt8]) {
        guard let policy = try? BucketPolicy.parse(bytes, bucket: "bucket") else { return }
        let text = String(decoding: bytes.prefix(256), as: UTF8.self)
        let context = ["aws:sourceip": [text, "192.0.2.1", "2001:db8::1"], "aws:currenttime": [text],
                       "s3:prefix": [text], "s3:max-keys": [text], "aws:referer": [text], "aws:username": ["user"]]
        for principal in [PolicyPrincipal.anonymous, .user(id: "u:1", name: "user", canonicalID: "ab")] {
            for resource in ["arn:aws:s3:::bucket", "arn:aws:s3:::bucket/" + text] {
                _ = PolicyEvaluator.evaluate(policy, request: PolicyRequest(
                    principal: principal, action: "s3:GetObject", resource: resource, context: context))
            }
        }
        _ = policy.isPublic
    }

    private static func signedRequest(_ text: RequestText) -> SigV4Request {
        SigV4Request(method: text.method, rawPath: text.path, rawQuery: text.query, headers: text.headers)
    }

    /// SigV4 in the header or the query: parse, the scope check, then verification with the fixed secret,
    /// and the body against the claimed hash.
    static func sigV4(_ bytes: [UInt8]) {
        let text = RequestText(bytes)
        let request = signedRequest(text)
        guard let auth = try? SigV4.parse(request: request) else { return }
        guard (try? SigV4.checkScope(auth, region: FuzzIdentity.region)) != nil else { return }
        guard let verified = try? SigV4.verify(auth, request: request, secretAccessKey: FuzzIdentity.secretAccessKey,
                                               now: FuzzIdentity.nowMilliseconds)
        else { return }
        if case .sha256(let hex) = verified.payloadHash {
            var verifier = PayloadSHA256Verifier(claimedHex: hex)
            verifier.update(text.body)
            _ = try? verifier.finish()
        } else if verified.payloadHash.isStreaming {
            decodeChunked(text.body, verified: verified, declared: text.header("x-amz-decoded-content-length"))
        }
    }

    static func sigV2(_ bytes: [UInt8]) {
        let text = RequestText(bytes)
        let request = signedRequest(text)
        guard let auth = try? SigV2.parse(request: request) else { return }
        _ = try? SigV2.verify(auth, request: request, secretAccessKey: FuzzIdentity.secretAccessKey,
                              virtualHostBucket: text.header("x-fuzz-vhost-bucket"), region: FuzzIdentity.region,
                              now: FuzzIdentity.nowMilliseconds)
    }

    /// An aws-chunked body fed in pieces. The first byte picks the payload mode and the piece size, so
    /// the fuzzer also explores every way a body can be split across reads.
    static func awsChunked(_ bytes: [UInt8]) {
        guard let control = bytes.first else { return }
        let modes: [PayloadHash] = [.streamingSigned, .streamingSignedTrailer, .streamingUnsignedTrailer]
        let mode = modes[Int(control % 3)]
        let scope = SigV4Scope(date: "20261201", region: FuzzIdentity.region, service: "s3")
        let verified = VerifiedRequest(
            accessKeyID: FuzzIdentity.accessKeyID, scope: scope, amzDate: "20261201T000000Z", payloadHash: mode,
            seedSignature: String(repeating: "0", count: 64),
            signingKey: SigV4.signingKey(secretAccessKey: FuzzIdentity.secretAccessKey, scope: scope),
            isPresigned: false)
        let declared = control & 0x80 == 0 ? nil : "\(bytes.count / 2)"
        decodeChunked(Array(bytes.dropFirst()), verified: verified, declared: declared, pieceSize: Int(control >> 2 & 0x1F) + 1)
    }

    private static func decodeChunked(_ body: [UInt8], verified: VerifiedRequest, declared: String?, pieceSize: Int = 7) {
        let length = declared.flatMap { Int64($0) }.map { max(0, $0) }
        var decoder = AWSChunkedDecoder(verified: verified, decodedContentLength: length)
        var offset = 0
        while offset < body.count {
            let end = min(body.count, offset + pieceSize)
            guard (try? decoder.feed(ByteBuffer(bytes: body[offset..<end]))) != nil else { return }
            offset = end
        }
        _ = try? decoder.finish()
    }

    /// Range, copy-source range, conditional headers with their dates, ETags, copy sources, checksum
    /// headers, user metadata and names: each header value is given to every parser that reads one.
    static func httpHeaders(_ bytes: [UInt8]) {
        let text = RequestText(bytes)
        let sizes: [Int64] = [0, 1, 10, 1 << 20, Int64.max]
        for (_, value) in text.headers {
            for size in sizes {
                if let range = ByteRange.parse(value) {
                    let resolved = range.resolve(size: size)
                    _ = resolved.byteCount
                    _ = resolved.contentRange(size: size)
                }
            }
            _ = ByteRange.parseCopySourceRange(value)
            _ = ETagCondition.parse(value)
            _ = EntityTag(parsing: value)
            _ = EntityTag.unquote(value)
            _ = try? CopySource.parse(value)
            _ = S3Time.parseAmzDate(value)
            _ = S3Time.parseISO8601(value)
            _ = S3Time.parseHTTPDate(value)
            _ = BucketName.isValid(value)
            _ = try? ObjectKey.validate(value)
        }
        for family in [ConditionalHeaders.Family.read, .copySource] {
            let conditions = ConditionalHeaders.parse(headers: text.headers, family: family)
            _ = conditions.evaluate(etag: "d41d8cd98f00b204e9800998ecf8427e", lastModifiedMilliseconds: 0, family: family)
            _ = conditions.evaluate(etag: "", lastModifiedMilliseconds: Int64.max, family: family)
        }
        _ = try? ChecksumHeaders.parse(headers: text.headers)
        _ = try? UserMetadata.parse(headers: text.headers)
    }

    /// The request-target parser: method, path, query, Host (virtual-host style) and `x-amz-copy-source`.
    static func endpoint(_ bytes: [UInt8]) {
        let text = RequestText(bytes)
        _ = try? S3RequestTarget.parse(
            method: text.method, rawPath: text.path, rawQuery: text.query, host: text.header("host"),
            virtualHostDomains: ["localhost", "s3.example.com"], copySource: text.header("x-amz-copy-source"))
    }
}

import WallClock
import Foundation
import HTTPTypes
public import Hummingbird
public import Logging
import Metrics
public import MetaContract
import NIOCore
import S3Protocol

/// The S3 front end as one Hummingbird responder: parse → authenticate → dispatch → reply.
///
/// Order for every request: a request id is drawn; the target (bucket, key, operation) is parsed from
/// the method, path, query and Host; the SigV4 signature is checked against the key's secret (cached
/// from the metadata service); `100 Continue` is sent if the client waits for it; exactly one handler
/// runs; any thrown error becomes an S3 XML error through `S3Error` (the one place that knows codes).
/// Every response carries `x-amz-request-id`.
public struct S3Gateway: HTTPResponder {
    public typealias Context = S3RequestContext

    let metadata: any MetadataService
    /// The blob cluster of new requests (replaced when the cluster map changes epoch).
    let clusters: BlobClusterSource
    let configuration: GatewayConfiguration
    let credentials: CredentialCache
    /// Bucket records for authorizing object writes without a linearizable read (see `withBucketAccess`).
    let buckets = BucketAccessCache()
    /// Read-ahead shared by every GET and copy of this gateway.
    let readAhead: ReadAheadBudget
    /// Where every request is recorded (nil: no audit log).
    let audit: AuditLog?
    let logger: Logger

    /// - Precondition: `configuration.validate()` passed.
    public init(metadata: any MetadataService, cluster: BlobCluster, configuration: GatewayConfiguration,
                logger: Logger, audit: AuditLog? = nil) {
        self.init(metadata: metadata, clusters: BlobClusterSource(cluster), configuration: configuration,
                  logger: logger, audit: audit)
    }

    /// A gateway whose blob cluster may change while it serves (`BlobClusterSource.replace`).
    /// - Precondition: `configuration.validate()` passed.
    public init(metadata: any MetadataService, clusters: BlobClusterSource, configuration: GatewayConfiguration,
                logger: Logger, audit: AuditLog? = nil) {
        self.audit = audit
        self.metadata = metadata
        self.clusters = clusters
        self.configuration = configuration
        self.credentials = CredentialCache(metadata: metadata,
                                           ttlMilliseconds: configuration.credentialCacheMilliseconds)
        self.readAhead = ReadAheadBudget(bytesMax: configuration.readAheadBytesMax,
                                         chunksAheadMax: configuration.readAheadChunksMax)
        self.logger = logger
    }

    /// The blob cluster now: a request reads it once and keeps it (a map change does not move its placement).
    var cluster: BlobCluster { clusters.current }

    /// A body writer on the blob cluster now; a PUT uses one writer, so all its chunks follow one ring.
    var bodyWriter: ObjectBodyWriter {
        ObjectBodyWriter(cluster: cluster, chunkSizeBytes: configuration.chunkSizeBytes,
                         chunksInFlightMax: configuration.chunksInFlightMax, logger: logger)
    }

    public func respond(to request: Request, context: S3RequestContext) async throws -> Response {
        let requestID = Self.makeRequestID()
        let now = Self.wallClockMilliseconds()
        var response: Response
        var resource = request.head.path ?? "/"
        if request.method == .get, resource == Self.healthPath {
            return await health(requestID: requestID)
        }
        let started = ContinuousClock.now
        var operation = "Unparsed"
        var facts = AuditFacts()
        var errorCode: String?
        defer {
            let elapsed = (ContinuousClock.now - started).components
            let nanoseconds = elapsed.seconds * 1_000_000_000 + elapsed.attoseconds / 1_000_000_000
            Timer(label: "silo_s3_request_duration_seconds",
                  dimensions: [("operation", operation), ("status", String(response.status.code))])
                .recordNanoseconds(nanoseconds)
            audit?.record(AuditEntry(
                time: AuditEntry.timestamp(milliseconds: now), requestID: requestID,
                remote: context.channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" },
                user: facts.user?.name, accessKey: facts.user?.accessKeyID, operation: operation,
                bucket: facts.bucket, key: facts.key, status: Int(response.status.code), error: errorCode,
                bytesIn: request.headers[.contentLength].flatMap { Int($0) },
                bytesOut: response.headers[.contentLength].flatMap { Int($0) },
                ms: (Double(nanoseconds) / 1_000).rounded() / 1_000))
        }
        do {
            response = try await handle(request, context: context, requestID: requestID, now: now,
                                        resource: &resource, operation: &operation, facts: &facts)
        } catch {
            let s3Error = S3Error.from(error)
            errorCode = s3Error.code.rawValue
            if s3Error.code == .internalError || s3Error.code == .serviceUnavailable {
                logger.error("request failed", metadata: [
                    "request": "\(request.method) \(resource)", "requestID": "\(requestID)",
                    "cause": "\(String(describing: s3Error.cause ?? error))",
                ])
            }
            response = Self.errorResponse(s3Error, resource: resource, requestID: requestID,
                                          isHead: request.method == .head)
            if s3Error.code == .serviceUnavailable { response.headers[.retryAfter] = "1" }
        }
        // A browser's request gets its bucket's CORS headers on every answer, errors included (a preflight
        // already has them).
        if request.method != .options, request.headers[.origin] != nil, let bucket = facts.bucket {
            await addCORSHeaders(to: &response, request: request, bucket: bucket)
        }
        response.headers[.init("x-amz-request-id")!] = requestID
        response.headers[.init("x-amz-id-2")!] = requestID
        response.headers[.server] = "Silo"
        return response
    }

    /// Unauthenticated liveness for launchers and load balancers: 200 once a linearizable metadata read
    /// succeeds (a metadata quorum answers this gateway), else 503. It says nothing else.
    static let healthPath = "/_silo/health"

    private func health(requestID: String) async -> Response {
        var response: Response
        do throws(MetaError) {
            try await metadata.checkHealth()
            response = Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "ok\n")))
        } catch {
            logger.warning("health check failed", metadata: ["error": "\(error)"])
            response = Response(status: .serviceUnavailable, body: ResponseBody(byteBuffer: ByteBuffer(string: "no metadata quorum\n")))
            response.headers[.retryAfter] = "1"
        }
        response.headers[.contentType] = "text/plain"
        response.headers[.init("x-amz-request-id")!] = requestID
        return response
    }

    /// Who and what a request was about, as far as `handle` got, for the audit log.
    struct AuditFacts {
        var user: UserRecord?
        var bucket: String?
        var key: String?
    }

    private func handle(_ request: Request, context: S3RequestContext, requestID: String, now: Int64,
                        resource: inout String, operation: inout String, facts: inout AuditFacts) async throws -> Response {
        let (path, rawQuery) = Self.splitPathAndQuery(request.head.path ?? "/")
        var headers = request.headers.map { (name: $0.name.canonicalName, value: $0.value) }
        // HTTPTypes moves `Host` into the authority; SigV4 signs it as the `host` header.
        let host = request.head.authority
        if let host { headers.append((name: "host", value: host)) }
        let signed = SigV4Request(method: request.method.rawValue, rawPath: path, rawQuery: rawQuery, headers: headers)
        if request.method == .options {
            operation = "PreflightCors"
            let bucket = try? S3RequestTarget.parse(
                method: "GET", rawPath: path, rawQuery: "", host: host,
                virtualHostDomains: configuration.virtualHostDomains, copySource: nil).bucket
            facts.bucket = bucket
            return try await preflight(request, bucket: bucket)
        }
        let (user, verified) = try await authenticate(signed, host: host, now: now)
        facts.user = user

        if path.hasPrefix(AdminAPI.pathPrefix) {
            operation = "SiloAdmin"
            guard let user else { throw S3Error(.accessDenied, "The admin API needs a signed request.") }
            context.channel.triggerUserOutboundEvent(SendContinueEvent(), promise: nil)
            let body = SignedBody(raw: request.body, verified: verified, headers: request.headers, headerList: headers)
            return try await AdminAPI(gateway: self).respond(to: request, body: body, path: path, user: user, now: now)
        }
        let target = try S3RequestTarget.parse(
            method: request.method.rawValue, rawPath: path, rawQuery: rawQuery, host: host,
            virtualHostDomains: configuration.virtualHostDomains,
            copySource: request.headers[HTTPField.Name("x-amz-copy-source")!])
        var call = S3Call(requestID: requestID, method: request.method, headers: request.headers,
                          headerList: headers, target: target, user: user, rawBody: request.body,
                          verified: verified, now: now)
        call.sourceAddress = context.channel.remoteAddress?.ipAddress
        resource = call.resource
        operation = target.endpoint.operationName
        facts.bucket = target.bucket
        facts.key = target.key
        if !Self.readsBody(target.endpoint) { try call.signedBody.requireEmpty() }
        // A POST Object's signer is in its form fields: the handler authorizes once it has read them.
        if target.endpoint != .postObject { try await authorize(&call) }
        // 100 Continue only once the request may proceed: a refused PUT never has its body sent.
        context.channel.triggerUserOutboundEvent(SendContinueEvent(), promise: nil)
        return try await dispatch(call)
    }

    /// The operations whose handler reads the request body (through `SignedBody`), and those answered
    /// `NotImplemented` whatever their body; every other operation must be signed for the empty body or an
    /// unsigned payload.
    static func readsBody(_ endpoint: S3Endpoint) -> Bool {
        // Exhaustive on purpose: a new operation must say whether it reads a body.
        switch endpoint {
        case .createBucket, .deleteObjects, .putObject, .postObject, .uploadPart, .completeMultipartUpload, .putACL, .notImplemented,
             .putBucketOwnershipControls, .putBucketPolicy, .putBucketVersioning, .putObjectTagging, .putBucketTagging,
             .putBucketCors, .putBucketLifecycle, .putPublicAccessBlock, .putObjectLockConfiguration, .putObjectRetention,
             .putObjectLegalHold:
            return true
        case .listBuckets, .deleteBucket, .headBucket, .getBucketLocation, .listObjects, .listObjectsV2,
             .listMultipartUploads, .listObjectVersions, .getACL, .getObjectAttributes, .copyObject, .getObject,
             .headObject, .deleteObject, .createMultipartUpload, .uploadPartCopy, .abortMultipartUpload, .listParts,
             .getBucketOwnershipControls, .deleteBucketOwnershipControls, .getBucketPolicy, .deleteBucketPolicy,
             .getBucketPolicyStatus, .getBucketVersioning, .getObjectTagging, .deleteObjectTagging, .getBucketTagging,
             .deleteBucketTagging, .getBucketCors, .deleteBucketCors, .getBucketLifecycle, .deleteBucketLifecycle,
             .getPublicAccessBlock, .deletePublicAccessBlock,
             .getObjectLockConfiguration, .getObjectRetention, .getObjectLegalHold:
            return false
        }
    }

    /// Checks the signature; returns the signing user, or nil for a request that carries no signature at
    /// all (anonymous: the `Authorizer` decides what it may reach). A request that tries to sign and fails
    /// is refused here, never treated as anonymous.
    private func authenticate(_ signed: SigV4Request, host: String?, now: Int64) async throws
        -> (UserRecord?, VerifiedRequest)
    {
        if Self.isUnsigned(signed) { return (nil, try anonymousVerification(signed)) }
        if let legacy = try SigV2.parse(request: signed) {
            guard let user = try await credentials.user(accessKeyID: legacy.accessKeyID, now: now) else {
                throw S3Error(.invalidAccessKeyID)
            }
            let bucket = host.flatMap {
                S3RequestTarget.virtualHostBucket(host: $0, domains: configuration.virtualHostDomains)
            }
            let verified = try SigV2.verify(legacy, request: signed, secretAccessKey: user.secretAccessKey,
                                            virtualHostBucket: bucket, region: configuration.region, now: now)
            return (user, verified)
        }
        let authorization = try SigV4.parse(request: signed)
        try SigV4.checkScope(authorization, region: configuration.region)
        guard let user = try await credentials.user(accessKeyID: authorization.accessKeyID, now: now) else {
            throw S3Error(.invalidAccessKeyID)
        }
        let verified = try SigV4.verify(authorization, request: signed, secretAccessKey: user.secretAccessKey, now: now)
        return (user, verified)
    }

    /// No Authorization header and no presigned-URL parameter of either signature version.
    static func isUnsigned(_ request: SigV4Request) -> Bool {
        guard request.header("authorization") == nil else { return false }
        let names = request.rawQuery.split(separator: "&").map { item in
            item.split(separator: "=", maxSplits: 1).first.map { $0.lowercased() } ?? ""
        }
        let presignNames: Set<String> = [
            "x-amz-signature", "x-amz-algorithm", "x-amz-credential", "awsaccesskeyid", "signature",
        ]
        return !names.contains { presignNames.contains($0) }
    }

    /// What an unsigned request says of its body: nothing signed. A declared SHA-256 is still checked
    /// against the body (`SignedBody`); the signed aws-chunked modes need a signature and are refused.
    private func anonymousVerification(_ request: SigV4Request) throws -> VerifiedRequest {
        var payloadHash = PayloadHash.unsigned
        if let declared = request.header("x-amz-content-sha256") {
            guard let parsed = PayloadHash(headerValue: declared) else {
                throw SigV4Error.invalidContentSHA256(String(declared.prefix(80)))
            }
            switch parsed {
            case .sha256, .unsigned, .streamingUnsignedTrailer: payloadHash = parsed
            case .streamingSigned, .streamingSignedTrailer:
                throw S3Error(.accessDenied, "A signed aws-chunked body needs a signed request.")
            }
        }
        return VerifiedRequest(
            accessKeyID: "", scope: SigV4Scope(date: "", region: configuration.region, service: "s3"), amzDate: "",
            payloadHash: payloadHash, seedSignature: "", signingKey: SigV4SigningKey(bytes: []), isPresigned: false)
    }

    /// One switch from operation to handler.
    private func dispatch(_ call: S3Call) async throws -> Response {
        switch call.target.endpoint {
        case .listBuckets: return try await listBuckets(call)
        case .createBucket: return try await createBucket(call)
        case .deleteBucket: return try await deleteBucket(call)
        case .headBucket: return try await headBucket(call)
        case .getBucketLocation: return try await getBucketLocation(call)
        case .listObjects: return try await listObjects(call, version: 1)
        case .listObjectsV2: return try await listObjects(call, version: 2)
        case .listMultipartUploads: return try await listMultipartUploads(call)
        case .listObjectVersions: return try await listObjectVersions(call)
        case .getACL(let onObject): return try await getACL(call, onObject: onObject)
        case .putACL(let onObject): return try await putACL(call, onObject: onObject)
        case .getBucketOwnershipControls: return try await getOwnershipControls(call)
        case .putBucketOwnershipControls: return try await putOwnershipControls(call)
        case .deleteBucketOwnershipControls: return try await deleteOwnershipControls(call)
        case .getBucketPolicy: return try await getBucketPolicy(call)
        case .putBucketPolicy: return try await putBucketPolicy(call)
        case .deleteBucketPolicy: return try await deleteBucketPolicy(call)
        case .getBucketPolicyStatus: return try await getBucketPolicyStatus(call)
        case .getObjectAttributes: return try await getObjectAttributes(call)
        case .getBucketVersioning: return try await getBucketVersioning(call)
        case .putBucketVersioning: return try await putBucketVersioning(call)
        case .deleteObjects: return try await deleteObjects(call)
        case .putObject: return try await putObject(call)
        case .postObject: return try await postObject(call)
        case .copyObject(let source): return try await copyObject(call, source: source)
        case .getObject: return try await getObject(call, isHead: false)
        case .headObject: return try await getObject(call, isHead: true)
        case .deleteObject: return try await deleteObject(call)
        case .createMultipartUpload: return try await createMultipartUpload(call)
        case .uploadPart(let partNumber, let uploadID):
            return try await uploadPart(call, partNumber: partNumber, uploadID: uploadID)
        case .uploadPartCopy(let partNumber, let uploadID, let source):
            return try await uploadPartCopy(call, partNumber: partNumber, uploadID: uploadID, source: source)
        case .completeMultipartUpload(let uploadID): return try await completeMultipartUpload(call, uploadID: uploadID)
        case .abortMultipartUpload(let uploadID): return try await abortMultipartUpload(call, uploadID: uploadID)
        case .listParts(let uploadID): return try await listParts(call, uploadID: uploadID)
        case .notImplemented(let operation):
            throw S3Error(.notImplemented, "\(operation) is not implemented by Silo.")
        case .getObjectTagging: return try await getObjectTagging(call)
        case .putObjectTagging: return try await putObjectTagging(call)
        case .deleteObjectTagging: return try await deleteObjectTagging(call)
        case .getBucketTagging: return try await getBucketTagging(call)
        case .putBucketTagging: return try await putBucketTagging(call)
        case .deleteBucketTagging: return try await deleteBucketTagging(call)
        case .getPublicAccessBlock: return try await getPublicAccessBlock(call)
        case .putPublicAccessBlock: return try await putPublicAccessBlock(call)
        case .deletePublicAccessBlock: return try await deletePublicAccessBlock(call)
        case .getBucketCors: return try await getBucketCors(call)
        case .putBucketCors: return try await putBucketCors(call)
        case .deleteBucketCors: return try await deleteBucketCors(call)
        case .getBucketLifecycle: return try await getBucketLifecycle(call)
        case .putBucketLifecycle: return try await putBucketLifecycle(call)
        case .deleteBucketLifecycle: return try await deleteBucketLifecycle(call)
        case .getObjectLockConfiguration: return try await getObjectLockConfiguration(call)
        case .putObjectLockConfiguration: return try await putObjectLockConfiguration(call)
        case .getObjectRetention: return try await getObjectRetention(call)
        case .putObjectRetention: return try await putObjectRetention(call)
        case .getObjectLegalHold: return try await getObjectLegalHold(call)
        case .putObjectLegalHold: return try await putObjectLegalHold(call)
        }
    }

    // MARK: - Helpers shared by the handlers

    static func errorResponse(_ error: S3Error, resource: String, requestID: String, isHead: Bool) -> Response {
        var headers = HTTPFields()
        for header in error.headers { headers[HTTPField.Name(header.name)!] = header.value }
        if isHead || error.code == .notModified {
            return Response(status: error.status, headers: headers, body: ResponseBody())
        }
        let xml = S3ErrorBody(code: error.code.rawValue, message: error.message, resource: resource,
                              requestID: requestID,
                              extraFields: error.details.map { .init(name: $0.name, value: $0.value) }).xml()
        return xmlResponse(xml, status: error.status, headers: headers)
    }

    static func xmlResponse(_ xml: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/xml"
        let buffer = ByteBuffer(string: xml)
        headers[.contentLength] = String(buffer.readableBytes)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: buffer))
    }

    static func emptyResponse(_ status: HTTPResponse.Status, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        if status != .noContent && status != .notModified { headers[.contentLength] = "0" }
        return Response(status: status, headers: headers, body: ResponseBody())
    }

    static func makeRequestID() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let hex = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// `bytes` random bytes as lower-case hex (`Hex.encode`, not `String(format:)` per byte, which was 8% of
    /// a small PUT's CPU).
    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    static func wallClockMilliseconds() -> Int64 {
        WallClock.nowMilliseconds()
    }

    static func splitPathAndQuery(_ rawPath: String) -> (path: String, query: String) {
        guard let mark = rawPath.firstIndex(of: "?") else { return (rawPath, "") }
        return (String(rawPath[..<mark]), String(rawPath[rawPath.index(after: mark)...]))
    }
}

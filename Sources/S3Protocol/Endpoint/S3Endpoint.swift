/// Every S3 operation Silo routes, one case each; the Gateway dispatches with one `switch`.
/// `notImplemented` carries the AWS operation name of a recognised request Silo does not support
/// (answered `501 NotImplemented`).
public enum S3Endpoint: Sendable, Hashable {
    case listBuckets
    case createBucket
    case deleteBucket
    case headBucket
    case getBucketLocation
    /// ListObjects (v1).
    case listObjects
    /// ListObjectsV2 (`list-type=2`).
    case listObjectsV2
    case listMultipartUploads
    /// ListObjectVersions (`GET ?versions`).
    case listObjectVersions
    /// GetBucketAcl / GetObjectAcl (`GET ?acl`).
    case getACL(onObject: Bool)
    /// PutBucketAcl / PutObjectAcl (`PUT ?acl`).
    case putACL(onObject: Bool)
    /// Get/Put/DeleteBucketOwnershipControls (`?ownershipControls`).
    case getBucketOwnershipControls
    case putBucketOwnershipControls
    case deleteBucketOwnershipControls
    /// Get/Put/DeleteBucketPolicy (`?policy`), GetBucketPolicyStatus (`?policyStatus`).
    case getBucketPolicy
    case putBucketPolicy
    case deleteBucketPolicy
    case getBucketPolicyStatus
    /// GetBucketVersioning (`GET ?versioning`).
    case getBucketVersioning
    /// PutBucketVersioning (`PUT ?versioning`).
    case putBucketVersioning
    /// `GET /bucket/key?attributes`.
    case getObjectAttributes
    /// DeleteObjects (`POST ?delete`).
    case deleteObjects
    /// A browser-based upload: POST of a multipart/form-data body to the bucket (`PostObjectHandler`).
    case postObject
    case putObject
    /// PUT with `x-amz-copy-source`.
    case copyObject(source: CopySource)
    case getObject
    case headObject
    case deleteObject
    /// `POST ?uploads`.
    case createMultipartUpload
    /// `PUT ?partNumber=N&uploadId=U`.
    case uploadPart(partNumber: Int, uploadID: String)
    /// `PUT ?partNumber=N&uploadId=U` with `x-amz-copy-source`.
    case uploadPartCopy(partNumber: Int, uploadID: String, source: CopySource)
    /// `POST ?uploadId=U`.
    case completeMultipartUpload(uploadID: String)
    /// `DELETE ?uploadId=U`.
    case abortMultipartUpload(uploadID: String)
    /// `GET ?uploadId=U`.
    case listParts(uploadID: String)
    /// A recognised operation Silo does not implement, by its AWS name (`GetBucketVersioning`).
    case notImplemented(operationName: String)
    /// Get/Put/DeleteObjectTagging (`/bucket/key?tagging`, with an optional `versionId`).
    case getObjectTagging
    case putObjectTagging
    case deleteObjectTagging
    /// Get/Put/DeleteBucketTagging (`/bucket?tagging`).
    case getBucketTagging
    case putBucketTagging
    case deleteBucketTagging
    /// Get/Put/DeleteBucketCors (`/bucket?cors`).
    case getBucketCors
    case putBucketCors
    case deleteBucketCors
    /// Get/Put/DeleteBucketLifecycle(Configuration) (`/bucket?lifecycle`).
    case getBucketLifecycle
    case putBucketLifecycle
    case deleteBucketLifecycle
    /// Get/Put/DeletePublicAccessBlock (`/bucket?publicAccessBlock`).
    case getPublicAccessBlock
    case putPublicAccessBlock
    case deletePublicAccessBlock
    /// Get/PutObjectLockConfiguration (`/bucket?object-lock`).
    case getObjectLockConfiguration
    case putObjectLockConfiguration
    /// Get/PutObjectRetention (`/bucket/key?retention`, with an optional `versionId`).
    case getObjectRetention
    case putObjectRetention
    /// Get/PutObjectLegalHold (`/bucket/key?legal-hold`, with an optional `versionId`).
    case getObjectLegalHold
    case putObjectLegalHold

    /// The AWS operation name, for logs and metrics.
    public var operationName: String {
        switch self {
        case .listBuckets: return "ListBuckets"
        case .createBucket: return "CreateBucket"
        case .postObject: return "PostObject"
        case .deleteBucket: return "DeleteBucket"
        case .headBucket: return "HeadBucket"
        case .getBucketLocation: return "GetBucketLocation"
        case .listObjects: return "ListObjects"
        case .listObjectsV2: return "ListObjectsV2"
        case .listMultipartUploads: return "ListMultipartUploads"
        case .listObjectVersions: return "ListObjectVersions"
        case .getACL(let onObject): return onObject ? "GetObjectAcl" : "GetBucketAcl"
        case .putACL(let onObject): return onObject ? "PutObjectAcl" : "PutBucketAcl"
        case .getBucketOwnershipControls: return "GetBucketOwnershipControls"
        case .putBucketOwnershipControls: return "PutBucketOwnershipControls"
        case .deleteBucketOwnershipControls: return "DeleteBucketOwnershipControls"
        case .getBucketPolicy: return "GetBucketPolicy"
        case .putBucketPolicy: return "PutBucketPolicy"
        case .deleteBucketPolicy: return "DeleteBucketPolicy"
        case .getBucketPolicyStatus: return "GetBucketPolicyStatus"
        case .getObjectAttributes: return "GetObjectAttributes"
        case .getBucketVersioning: return "GetBucketVersioning"
        case .putBucketVersioning: return "PutBucketVersioning"
        case .deleteObjects: return "DeleteObjects"
        case .putObject: return "PutObject"
        case .copyObject: return "CopyObject"
        case .getObject: return "GetObject"
        case .headObject: return "HeadObject"
        case .deleteObject: return "DeleteObject"
        case .createMultipartUpload: return "CreateMultipartUpload"
        case .uploadPart: return "UploadPart"
        case .uploadPartCopy: return "UploadPartCopy"
        case .completeMultipartUpload: return "CompleteMultipartUpload"
        case .abortMultipartUpload: return "AbortMultipartUpload"
        case .listParts: return "ListParts"
        case .notImplemented(let name): return name
        case .getObjectTagging: return "GetObjectTagging"
        case .putObjectTagging: return "PutObjectTagging"
        case .deleteObjectTagging: return "DeleteObjectTagging"
        case .getBucketTagging: return "GetBucketTagging"
        case .putBucketTagging: return "PutBucketTagging"
        case .deleteBucketTagging: return "DeleteBucketTagging"
        case .getBucketCors: return "GetBucketCors"
        case .putBucketCors: return "PutBucketCors"
        case .deleteBucketCors: return "DeleteBucketCors"
        case .getBucketLifecycle: return "GetBucketLifecycleConfiguration"
        case .putBucketLifecycle: return "PutBucketLifecycleConfiguration"
        case .deleteBucketLifecycle: return "DeleteBucketLifecycle"
        case .getPublicAccessBlock: return "GetPublicAccessBlock"
        case .putPublicAccessBlock: return "PutPublicAccessBlock"
        case .deletePublicAccessBlock: return "DeletePublicAccessBlock"
        case .getObjectLockConfiguration: return "GetObjectLockConfiguration"
        case .putObjectLockConfiguration: return "PutObjectLockConfiguration"
        case .getObjectRetention: return "GetObjectRetention"
        case .putObjectRetention: return "PutObjectRetention"
        case .getObjectLegalHold: return "GetObjectLegalHold"
        case .putObjectLegalHold: return "PutObjectLegalHold"
        }
    }
}

/// The source of a copy (`x-amz-copy-source: /bucket/key?versionId=...`, URL-encoded).
public struct CopySource: Sendable, Hashable {
    public var bucket: String
    /// The key, decoded exactly.
    public var key: String
    public var versionID: String?

    /// Creates a copy source.
    public init(bucket: String, key: String, versionID: String?) {
        self.bucket = bucket
        self.key = key
        self.versionID = versionID
    }

    /// Reads the header value: `[/]bucket/key[?versionId=id]`, percent-decoded. The `?` is looked for before
    /// decoding, so a key with an encoded `%3F` keeps it.
    public static func parse(_ header: String) throws(S3RequestError) -> CopySource {
        var text = Substring(header.trimmingSpaces())
        var versionID: String?
        if let question = text.firstIndex(of: "?") {
            let query = QueryParameters(raw: String(text[text.index(after: question)...]))
            for item in query.items {
                guard item.name == "versionId" else {
                    throw .invalidCopySource(reason: "unexpected query parameter \(item.name.prefix(32))")
                }
                versionID = item.value
            }
            text = text[..<question]
        }
        if text.hasPrefix("/") { text = text.dropFirst() }
        guard let decoded = S3URIEncoding.decode(text) else {
            throw .invalidCopySource(reason: "bad percent-encoding or UTF-8")
        }
        guard let slash = decoded.firstIndex(of: "/") else {
            throw .invalidCopySource(reason: "must be bucket/key")
        }
        let bucket = String(decoded[..<slash])
        let key = String(decoded[decoded.index(after: slash)...])
        guard !bucket.isEmpty, !key.isEmpty else { throw .invalidCopySource(reason: "must be bucket/key") }
        return CopySource(bucket: bucket, key: key, versionID: versionID)
    }
}

/// Why a request line could not be routed. The Gateway maps `.invalidURI` to `InvalidURI`,
/// `.methodNotAllowed` to `MethodNotAllowed`, `.invalidCopySource` to `InvalidArgument` and
/// `.invalidArgument` to `InvalidArgument` (or `InvalidRequest`).
public enum S3RequestError: Error, Sendable, Hashable {
    /// The path or query has a bad percent-escape or is not UTF-8 once decoded.
    case invalidURI(reason: String)
    /// The method makes no sense on this resource (`POST /bucket/key` without a sub-resource).
    case methodNotAllowed(method: String)
    /// `x-amz-copy-source` is malformed.
    case invalidCopySource(reason: String)
    /// A query parameter the operation needs is missing or malformed (`partNumber=0`, `uploadId=`).
    case invalidArgument(name: String, reason: String)
}

/// A decoded query parameter.
public struct QueryItem: Sendable, Hashable {
    /// The decoded name.
    public var name: String
    /// The decoded value; empty for a bare `?uploads`.
    public var value: String

    /// Creates an item.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A request routed to an S3 operation: the bucket, the key and the endpoint, plus the decoded query for the
/// handler's parameters (`prefix`, `max-keys`, `continuation-token`, `response-content-type`...).
public struct S3RequestTarget: Sendable, Hashable {
    /// The bucket, from the virtual host or the first path segment; nil for the service (ListBuckets).
    public var bucket: String?
    /// The key, percent-decoded exactly (`..`, `//`, `%2F`, Unicode and control characters kept); nil when the
    /// request addresses the bucket.
    public var key: String?
    /// The operation.
    public var endpoint: S3Endpoint
    /// The decoded query parameters in request order.
    public var query: [QueryItem]
    /// True when the bucket came from the Host header.
    public var isVirtualHosted: Bool

    /// The first value of query parameter `name`, or nil.
    public func queryValue(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }

    /// Routes a request.
    ///
    /// - Parameters:
    ///   - method: The HTTP method, upper case.
    ///   - rawPath: The path as received, still percent-encoded, without the query.
    ///   - rawQuery: The query as received, without `?`.
    ///   - host: The Host header (or `:authority`), possibly with a port.
    ///   - virtualHostDomains: The S3 domains of this service (`s3.example.com`); a host `bucket.<domain>`
    ///     selects virtual-host addressing; any other host is path-style.
    ///   - copySource: The `x-amz-copy-source` header value, if present.
    public static func parse(
        method: String, rawPath: String, rawQuery: String, host: String?, virtualHostDomains: [String], copySource: String?
    ) throws(S3RequestError) -> S3RequestTarget {
        let query = try decodeQuery(rawQuery)
        var path = Substring(rawPath)
        if path.hasPrefix("/") { path = path.dropFirst() }
        var bucket: String?
        var keyText: Substring
        let hostBucket = host.flatMap { virtualHostBucket(host: $0, domains: virtualHostDomains) }
        if let hostBucket {
            bucket = hostBucket
            keyText = path
        } else if let slash = path.firstIndex(of: "/") {
            bucket = try decodePath(path[..<slash])
            keyText = path[path.index(after: slash)...]
        } else {
            bucket = path.isEmpty ? nil : try decodePath(path)
            keyText = ""
        }
        if bucket?.isEmpty == true { throw .invalidURI(reason: "empty bucket name") }
        let key = keyText.isEmpty ? nil : try decodePath(keyText)
        let endpoint = try route(method: method, bucket: bucket, key: key, query: query, copySource: copySource)
        return S3RequestTarget(bucket: bucket, key: key, endpoint: endpoint, query: query, isVirtualHosted: hostBucket != nil)
    }

    /// The bucket of a virtual-hosted request (`photos.s3.example.com:9000` with domain `s3.example.com` →
    /// `photos`), or nil for path-style.
    public static func virtualHostBucket(host: String, domains: [String]) -> String? {
        var name = Substring(host.trimmingSpaces())
        if name.hasPrefix("[") { return nil }  // an IPv6 literal is never virtual-hosted
        if let colon = name.lastIndex(of: ":") { name = name[..<colon] }
        let lowered = name.lowercased()
        for domain in domains {
            let suffix = "." + domain.lowercased()
            if lowered.hasSuffix(suffix), lowered.count > suffix.count {
                return String(lowered.dropLast(suffix.count))
            }
        }
        return nil
    }

    private static func decodePath(_ text: Substring) throws(S3RequestError) -> String {
        guard let decoded = S3URIEncoding.decode(text) else { throw .invalidURI(reason: "bad percent-encoding or UTF-8 in path") }
        return decoded
    }

    /// Query parameters decoded; `+` is read as a space, as in form encoding (SDKs send `%20`; `+` comes
    /// from hand-written URLs).
    static func decodeQuery(_ rawQuery: String) throws(S3RequestError) -> [QueryItem] {
        var items: [QueryItem] = []
        for item in rawQuery.split(separator: "&", omittingEmptySubsequences: true) {
            let (name, value): (Substring, Substring)
            if let equals = item.firstIndex(of: "=") {
                (name, value) = (item[..<equals], item[item.index(after: equals)...])
            } else {
                (name, value) = (item, "")
            }
            func decode(_ text: Substring) throws(S3RequestError) -> String {
                let spaced = text.contains("+") ? Substring(text.replacing("+", with: " ")) : text
                guard let decoded = S3URIEncoding.decode(spaced) else { throw .invalidURI(reason: "bad percent-encoding in query") }
                return decoded
            }
            items.append(QueryItem(name: try decode(name), value: try decode(value)))
        }
        return items
    }
}

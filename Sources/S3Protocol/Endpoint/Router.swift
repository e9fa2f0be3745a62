// The routing table: (method, bucket?, key?, sub-resource) → S3Endpoint, after Garage's router.rs.

/// Bucket sub-resources S3 has and Silo does not implement, with the noun of their operation name
/// (`GET ?versioning` → `GetBucketVersioning`).
private let bucketSubresources: [(query: String, noun: String)] = [
    ("accelerate", "BucketAccelerateConfiguration"), ("analytics", "BucketAnalyticsConfiguration"),
    ("encryption", "BucketEncryption"), ("intelligent-tiering", "BucketIntelligentTieringConfiguration"),
    ("inventory", "BucketInventoryConfiguration"), ("logging", "BucketLogging"),
    ("metadataTable", "BucketMetadataTableConfiguration"), ("metrics", "BucketMetricsConfiguration"),
    ("notification", "BucketNotificationConfiguration"),

    ("replication", "BucketReplication"), ("requestPayment", "BucketRequestPayment"),
    ("website", "BucketWebsite"),
    ("session", "Session"),
]

/// Object sub-resources Silo does not implement.
private let objectSubresources: [(query: String, noun: String)] = [
    ("torrent", "ObjectTorrent"),
]

private func verb(_ method: String) -> String {
    switch method {
    case "GET", "HEAD": return "Get"
    case "PUT": return "Put"
    case "DELETE": return "Delete"
    default: return method
    }
}

extension S3RequestTarget {
    static func route(
        method: String, bucket: String?, key: String?, query: [QueryItem], copySource: String?
    ) throws(S3RequestError) -> S3Endpoint {
        func has(_ name: String) -> Bool { query.contains { $0.name == name } }
        func value(_ name: String) -> String? { query.first { $0.name == name }?.value }
        guard let bucket else {
            guard method == "GET" else { throw .methodNotAllowed(method: method) }
            return .listBuckets
        }
        _ = bucket
        guard key != nil else { return try routeBucket(method: method, has: has, value: value) }
        return try routeObject(method: method, has: has, value: value, copySource: copySource)
    }

    private static func routeBucket(
        method: String, has: (String) -> Bool, value: (String) -> String?
    ) throws(S3RequestError) -> S3Endpoint {
        if has("acl") { return try routeACL(method: method, onObject: false) }
        if has("policyStatus") {
            guard method == "GET" || method == "HEAD" else { throw .methodNotAllowed(method: method) }
            return .getBucketPolicyStatus
        }
        if has("policy") {
            switch method {
            case "GET", "HEAD": return .getBucketPolicy
            case "PUT": return .putBucketPolicy
            case "DELETE": return .deleteBucketPolicy
            default: throw .methodNotAllowed(method: method)
            }
        }
        if has("ownershipControls") {
            switch method {
            case "GET", "HEAD": return .getBucketOwnershipControls
            case "PUT": return .putBucketOwnershipControls
            case "DELETE": return .deleteBucketOwnershipControls
            default: throw .methodNotAllowed(method: method)
            }
        }
        if has("versioning") {
            switch method {
            case "GET", "HEAD": return .getBucketVersioning
            case "PUT": return .putBucketVersioning
            default: throw .methodNotAllowed(method: method)
            }
        }
        if has("tagging") {
            switch method {
            case "GET", "HEAD": return .getBucketTagging
            case "PUT": return .putBucketTagging
            case "DELETE": return .deleteBucketTagging
            default: throw .methodNotAllowed(method: method)
            }
        }
        if has("publicAccessBlock") {
            switch method {
            case "GET", "HEAD": return .getPublicAccessBlock
            case "PUT": return .putPublicAccessBlock
            case "DELETE": return .deletePublicAccessBlock
            default: throw .methodNotAllowed(method: method)
            }
        }
        if has("cors") {
            switch method {
            case "GET", "HEAD": return .getBucketCors
            case "PUT": return .putBucketCors
            case "DELETE": return .deleteBucketCors
            default: throw .methodNotAllowed(method: method)
            }
        }
        if has("lifecycle") {
            switch method {
            case "GET", "HEAD": return .getBucketLifecycle
            case "PUT": return .putBucketLifecycle
            case "DELETE": return .deleteBucketLifecycle
            default: throw .methodNotAllowed(method: method)
            }
        }
        if has("object-lock") {
            switch method {
            case "GET", "HEAD": return .getObjectLockConfiguration
            case "PUT": return .putObjectLockConfiguration
            default: throw .methodNotAllowed(method: method)
            }
        }
        if let unsupported = bucketSubresources.first(where: { has($0.query) }) {
            return .notImplemented(operationName: verb(method) + unsupported.noun)
        }
        switch method {
        case "GET":
            if has("location") { return .getBucketLocation }
            if has("uploads") { return .listMultipartUploads }
            if has("versions") { return .listObjectVersions }
            if let listType = value("list-type") {
                guard listType == "2" else { throw .invalidArgument(name: "list-type", reason: "must be 2") }
                return .listObjectsV2
            }
            return .listObjects
        case "HEAD":
            return .headBucket
        case "PUT":
            return .createBucket
        case "DELETE":
            return .deleteBucket
        case "POST":
            if has("delete") { return .deleteObjects }
            return .postObject
        default:
            throw .methodNotAllowed(method: method)
        }
    }

    private static func routeObject(
        method: String, has: (String) -> Bool, value: (String) -> String?, copySource: String?
    ) throws(S3RequestError) -> S3Endpoint {
        if has("acl") { return try routeACL(method: method, onObject: true) }
        // GetObjectAttributes is the only operation on ?attributes.
        if has("attributes") && method != "GET" { throw .methodNotAllowed(method: method) }
        if has("tagging") {
            switch method {
            case "GET", "HEAD": return .getObjectTagging
            case "PUT": return .putObjectTagging
            case "DELETE": return .deleteObjectTagging
            default: throw .methodNotAllowed(method: method)
            }
        }
        if has("retention") {
            switch method {
            case "GET", "HEAD": return .getObjectRetention
            case "PUT": return .putObjectRetention
            default: throw .methodNotAllowed(method: method)
            }
        }
        if has("legal-hold") {
            switch method {
            case "GET", "HEAD": return .getObjectLegalHold
            case "PUT": return .putObjectLegalHold
            default: throw .methodNotAllowed(method: method)
            }
        }
        if let unsupported = objectSubresources.first(where: { has($0.query) }) {
            return .notImplemented(operationName: verb(method) + unsupported.noun)
        }
        switch method {
        case "GET":
            if has("uploadId") { return .listParts(uploadID: try uploadID(value)) }
            if has("attributes") { return .getObjectAttributes }
            return .getObject
        case "HEAD":
            return .headObject
        case "PUT":
            if has("partNumber") || has("uploadId") {
                let part = try partNumber(value)
                let upload = try uploadID(value)
                if let copySource { return .uploadPartCopy(partNumber: part, uploadID: upload, source: try CopySource.parse(copySource)) }
                return .uploadPart(partNumber: part, uploadID: upload)
            }
            if let copySource { return .copyObject(source: try CopySource.parse(copySource)) }
            return .putObject
        case "DELETE":
            if has("uploadId") { return .abortMultipartUpload(uploadID: try uploadID(value)) }
            return .deleteObject
        case "POST":
            if has("uploads") { return .createMultipartUpload }
            if has("uploadId") { return .completeMultipartUpload(uploadID: try uploadID(value)) }
            if has("restore") { return .notImplemented(operationName: "RestoreObject") }
            if has("select") { return .notImplemented(operationName: "SelectObjectContent") }
            if has("renameObject") { return .notImplemented(operationName: "RenameObject") }
            throw .methodNotAllowed(method: method)
        default:
            throw .methodNotAllowed(method: method)
        }
    }

    private static func routeACL(method: String, onObject: Bool) throws(S3RequestError) -> S3Endpoint {
        switch method {
        case "GET", "HEAD": return .getACL(onObject: onObject)
        case "PUT": return .putACL(onObject: onObject)
        default: throw .methodNotAllowed(method: method)
        }
    }

    private static func uploadID(_ value: (String) -> String?) throws(S3RequestError) -> String {
        guard let id = value("uploadId"), !id.isEmpty else { throw .invalidArgument(name: "uploadId", reason: "missing or empty") }
        return id
    }

    private static func partNumber(_ value: (String) -> String?) throws(S3RequestError) -> Int {
        guard let text = value("partNumber") else { throw .invalidArgument(name: "partNumber", reason: "missing") }
        guard text.utf8.count <= 5, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let number = Int(text),
            (1...S3Limits.partNumberMax).contains(number)
        else {
            throw .invalidArgument(name: "partNumber", reason: "must be an integer between 1 and \(S3Limits.partNumberMax)")
        }
        return number
    }
}

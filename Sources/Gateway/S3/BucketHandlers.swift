import Crypto
import HTTPTypes
import Hummingbird
import MetaContract
import NIOCore
import S3Protocol

/// ListBuckets, CreateBucket, DeleteBucket, HeadBucket, GetBucketLocation.
extension S3Gateway {
    /// ListBuckets, paginated when `max-buckets` or `continuation-token` is given (the token is the opaque
    /// form of the last bucket name returned), filtered by `prefix`. Bucket names are ASCII, so String
    /// order is the byte order the metadata sorts them in.
    func listBuckets(_ call: S3Call) async throws -> Response {
        let maxBuckets: Int? = call.query("max-buckets") == nil ? nil
            : try integerParameter(call, "max-buckets", default: S3Limits.listBucketsMaxRange.upperBound,
                                   range: S3Limits.listBucketsMaxRange)
        let prefix = call.query("prefix")
        var after: String?
        if let token = call.query("continuation-token") {
            guard let decoded = Self.decodeContinuationToken(token), !decoded.isEmpty else {
                throw S3Error(.invalidArgument, "The continuation token provided is incorrect",
                              details: [("ArgumentName", "continuation-token")])
            }
            after = decoded
        }
        // `authorize` let only signed requests through.
        var buckets = try await metadata.listBuckets(owner: call.requester).filter { bucket in
            (prefix.map { bucket.name.hasPrefix($0) } ?? true) && (after.map { bucket.name > $0 } ?? true)
        }
        var next: String?
        let pageSize = maxBuckets ?? (after != nil ? S3Limits.listBucketsMaxRange.upperBound : nil)
        if let pageSize, buckets.count > pageSize {
            buckets.removeSubrange(pageSize...)
            next = buckets.last.map { Self.encodeContinuationToken($0.name) }
        }
        let result = ListAllMyBucketsResult(
            owner: Self.owner(ofID: call.requester, call: call),
            buckets: buckets.map { .init(name: $0.name, creationDateMilliseconds: $0.createdTime) },
            continuationToken: next, prefix: prefix)
        return Self.xmlResponse(result.xml())
    }

    func createBucket(_ call: S3Call) async throws -> Response {
        try BucketName.validate(call.bucket)
        try ObjectHeaders.refuseUnsupported(call.headers, bucketCreation: true)
        let body = try await readSmallBody(call)
        if body.readableBytes > 0 {
            let request = try CreateBucketConfiguration.parse(Array(buffer: body))
            if let location = request.locationConstraint, !location.isEmpty, location != configuration.region {
                throw S3Error(.invalidLocationConstraint,
                              "The specified location-constraint \(location) is not valid for this endpoint (region \(configuration.region)).",
                              details: [("LocationConstraint", location)])
            }
        }
        let ownership = call.header("x-amz-object-ownership").flatMap { ObjectOwnership(rawValue: $0) }
        var acl: AccessControlList?
        if ACLResolver.hasACLHeaders(call.headers) {
            let needsUsers = ACLResolver.grantHeaders.contains { call.header($0.name) != nil }
            let resolver = ACLResolver(users: needsUsers ? try await metadata.listUsers() : [])
            acl = try resolver.fromHeaders(call.headers, owner: call.requester, bucketOwner: call.requester)
            if ownership == .bucketOwnerEnforced, acl != .ownerOnly(call.requester) {
                throw S3Error(.invalidBucketAclWithObjectOwnership)
            }
        }
        let objectLock = call.header("x-amz-bucket-object-lock-enabled")?
            .trimmingCharacters(in: .whitespaces).lowercased() == "true"
        do {
            if objectLock {
                try await metadata.createBucket(name: call.bucket, owner: call.requester, time: call.now, acl: acl,
                                                ownership: ownership, objectLock: ObjectLockConfiguration(),
                                                commandID: call.requestID)
            } else {
                try await metadata.createBucket(name: call.bucket, owner: call.requester, time: call.now, acl: acl,
                                                ownership: ownership, commandID: call.requestID)
            }
        } catch {
            // AWS's legacy us-east-1 answers 200 to an owner re-creating a bucket (nothing changes);
            // every other region answers BucketAlreadyOwnedByYou.
            guard error == .bucketAlreadyOwnedByYou && configuration.region == Self.usEast1 else { throw error }
        }
        var headers = HTTPFields()
        headers[.location] = "/" + call.bucket
        return Self.emptyResponse(.ok, headers: headers)
    }

    func deleteBucket(_ call: S3Call) async throws -> Response {
        try await metadata.deleteBucket(name: call.bucket, requester: call.requester, commandID: call.requestID)
        return Self.emptyResponse(.noContent)
    }

    func headBucket(_ call: S3Call) async throws -> Response {
        var headers = HTTPFields()
        headers[.init("x-amz-bucket-region")!] = configuration.region
        return Self.emptyResponse(.ok, headers: headers)
    }

    func getBucketLocation(_ call: S3Call) async throws -> Response {
        // us-east-1 is the empty constraint, as S3 answers it.
        let region: String? = configuration.region == Self.usEast1 ? nil : configuration.region
        return Self.xmlResponse(LocationConstraintResult(region: region).xml())
    }

    /// AWS's original region: its location constraint is written empty, and re-creating a bucket one
    /// already owns succeeds there.
    static let usEast1 = "us-east-1"

    /// S3 owners have a 64-hex canonical id: the SHA-256 of the user's immutable id (for users from
    /// before ids, their name, so canonical ids did not change). The display name is the caller's name
    /// when the owner is the caller, else the id itself.
    static func owner(ofID userID: String, call: S3Call) -> S3Owner {
        S3Owner(id: ACLResolver.canonicalID(userID),
                displayName: userID == call.requester ? call.user?.name ?? userID : userID)
    }

    /// The owner elements for `userIDs`, with display names: the caller's own name without a lookup, other
    /// users' names from the user list (read once, only when another user appears). An anonymous writer's
    /// empty id names the bucket owner.
    func owners(ofIDs userIDs: [String], call: S3Call) async throws -> (String) -> S3Owner {
        let others = Set(userIDs).subtracting([call.requester])
        guard !others.isEmpty else { return { Self.owner(ofID: $0, call: call) } }
        let resolver = ACLResolver(users: try await metadata.listUsers())
        return { resolver.owner($0) }
    }

    /// Reads a request body that must be small (XML documents), decoding aws-chunked framing if used.
    func readSmallBody(_ call: S3Call) async throws -> ByteBuffer {
        try await call.signedBody.collectSmall(
            limitBytes: S3Limits.xmlRequestBodyBytesMax,
            tooLarge: S3Error(.malformedXML, "The XML document exceeds \(S3Limits.xmlRequestBodyBytesMax) bytes."))
    }
}

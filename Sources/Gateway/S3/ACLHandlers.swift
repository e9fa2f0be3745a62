import HTTPTypes
import Hummingbird
import MetaContract
import S3Protocol

/// GetBucketAcl, GetObjectAcl, PutBucketAcl, PutObjectAcl, Get/Put/DeleteBucketOwnershipControls.
///
/// Who may call them was decided by `authorize` (bucket ACLs, ownership controls) or is decided here
/// through `authorizedObject` (object ACLs). Under `BucketOwnerEnforced` ACLs are disabled: they read as
/// the bucket owner's FULL_CONTROL and every change is AccessControlListNotSupported.
extension S3Gateway {
    func getACL(_ call: S3Call, onObject: Bool) async throws -> Response {
        let resolver = ACLResolver(users: try await metadata.listUsers())
        guard onObject else {
            let bucket = authorizedBucket(call)
            let acl = bucket.ownership == .bucketOwnerEnforced ? .ownerOnly(bucket.owner) : bucket.acl
            return Self.xmlResponse(resolver.result(owner: bucket.owner, acl: acl).xml())
        }
        try validateKey(call.key)
        let bucket: BucketRecord
        let object: ObjectRecord
        if let versionID = call.query("versionId") {
            // A named version (the current one or an older one), authorized as GetObjectVersionAcl.
            object = try await readableVersion(bucket: call.bucket, key: call.key, versionID: versionID, call: call,
                                               action: .getObjectAcl)
            guard let record = try await metadata.bucket(name: call.bucket) else {
                throw S3Error(.noSuchBucket, details: [("BucketName", call.bucket)])
            }
            bucket = record
        } else {
            (bucket, object) = try await authorizedObject(call, .getObjectAcl, bucket: call.bucket, key: call.key)
        }
        if bucket.ownership == .bucketOwnerEnforced {
            return Self.xmlResponse(resolver.result(owner: bucket.owner, acl: .ownerOnly(bucket.owner)).xml())
        }
        let owner = object.owner ?? bucket.owner
        return Self.xmlResponse(resolver.result(owner: owner, acl: object.acl ?? .ownerOnly(owner)).xml())
    }

    func putACL(_ call: S3Call, onObject: Bool) async throws -> Response {
        let body = Array(buffer: try await readSmallBody(call))
        let hasDocument = body.contains { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
        let hasHeaders = ACLResolver.hasACLHeaders(call.headers)
        if hasDocument && hasHeaders {
            throw S3Error(.invalidRequest, "Specify an ACL either in headers or in an AccessControlPolicy document, not both.")
        }
        guard hasDocument || hasHeaders else {
            throw S3Error(.invalidRequest, "\(call.target.endpoint.operationName) needs the x-amz-acl header, x-amz-grant-* headers or an AccessControlPolicy document.")
        }
        let resolver = ACLResolver(users: try await metadata.listUsers())
        func acl(owner: String, bucketOwner: String) throws -> AccessControlList {
            if hasDocument { return try resolver.fromDocument(body, owner: owner) }
            // hasHeaders: fromHeaders names an ACL.
            return try resolver.fromHeaders(call.headers, owner: owner, bucketOwner: bucketOwner) ?? .ownerOnly(owner)
        }
        guard onObject else {
            try await decidingOnFreshBucket(call) { bucket in
                guard bucket.ownership != .bucketOwnerEnforced else { throw S3Error(.accessControlListNotSupported) }
                let requested = try acl(owner: bucket.owner, bucketOwner: bucket.owner)
                try Self.refusePublicACL(requested, in: bucket)
                try await metadata.putBucketACL(bucket: call.bucket, acl: requested, requester: call.requester,
                                                access: bucket.accessStamp, commandID: call.requestID)
            }
            return Self.emptyResponse(.ok)
        }
        try validateKey(call.key)
        if let versionID = call.query("versionId") { try Self.requireNullVersion(versionID, parameter: "versionId") }
        try await redecidingOnBucketChange {
            let (bucket, object) = try await authorizedObject(call, .putObjectAcl, bucket: call.bucket, key: call.key)
            guard bucket.ownership != .bucketOwnerEnforced else { throw S3Error(.accessControlListNotSupported) }
            let owner = object.owner ?? bucket.owner
            let requested = try acl(owner: owner, bucketOwner: bucket.owner)
            try Self.refusePublicACL(requested, in: bucket)
            try await metadata.putObjectACL(bucket: call.bucket, key: call.key, acl: requested, requester: call.requester,
                                            access: bucket.accessStamp, commandID: call.requestID)
        }
        return Self.emptyResponse(.ok)
    }

    /// The ACL a write asks for in its headers (PutObject, CopyObject, CreateMultipartUpload), for an object
    /// the caller will own; nil: none asked (the object gets the owner-only ACL). Under
    /// `BucketOwnerEnforced` only `bucket-owner-full-control` (or nothing) is accepted.
    func requestedObjectACL(_ call: S3Call) async throws -> AccessControlList? {
        guard ACLResolver.hasACLHeaders(call.headers) else { return nil }
        let bucket = authorizedBucket(call)
        if bucket.ownership == .bucketOwnerEnforced {
            guard call.header("x-amz-acl")?.trimmingCharacters(in: .whitespaces) == "bucket-owner-full-control",
                  !ACLResolver.grantHeaders.contains(where: { call.header($0.name) != nil })
            else { throw S3Error(.accessControlListNotSupported) }
            return nil
        }
        let writer = call.user?.id ?? bucket.owner
        // Canned ACLs need no user list; grant headers do.
        let needsUsers = ACLResolver.grantHeaders.contains { call.header($0.name) != nil }
        let resolver = ACLResolver(users: needsUsers ? try await metadata.listUsers() : [])
        let requested = try resolver.fromHeaders(call.headers, owner: writer, bucketOwner: bucket.owner)
        try Self.refusePublicACL(requested, in: bucket)
        return requested
    }

    func getOwnershipControls(_ call: S3Call) async throws -> Response {
        guard let ownership = authorizedBucket(call).ownership else { throw S3Error(.ownershipControlsNotFoundError) }
        return Self.xmlResponse(OwnershipControlsDocument(objectOwnership: ownership.rawValue).xml())
    }

    func putOwnershipControls(_ call: S3Call) async throws -> Response {
        let body = Array(buffer: try await readSmallBody(call))
        let document = try OwnershipControlsDocument.parse(body)
        guard let ownership = ObjectOwnership(rawValue: document.objectOwnership) else {
            throw S3Error(.malformedXML, "ObjectOwnership must be BucketOwnerPreferred, ObjectWriter or BucketOwnerEnforced.")
        }
        try await decidingOnFreshBucket(call) { bucket in
            if ownership == .bucketOwnerEnforced, bucket.acl != .ownerOnly(bucket.owner) {
                throw S3Error(.invalidBucketAclWithObjectOwnership)
            }
            try await metadata.setOwnershipControls(bucket: call.bucket, ownership: ownership, requester: call.requester,
                                                    access: bucket.accessStamp, commandID: call.requestID)
        }
        return Self.emptyResponse(.ok)
    }

    /// Deleting controls that are not there succeeds (nothing to delete).
    func deleteOwnershipControls(_ call: S3Call) async throws -> Response {
        do {
            try await decidingOnFreshBucket(call) { bucket in
                try await metadata.setOwnershipControls(bucket: call.bucket, ownership: nil, requester: call.requester,
                                                        access: bucket.accessStamp, commandID: call.requestID)
            }
        } catch MetaError.ownershipControlsNotFound {
            // Nothing to delete.
        }
        return Self.emptyResponse(.noContent)
    }
}

import HTTPTypes
import Hummingbird
import MetaContract
import NIOCore
import S3Protocol

/// Get/Put/DeleteObjectTagging and Get/Put/DeleteBucketTagging. Object tagging is an object operation:
/// its version is read and authorized through `readableVersion` (`s3:…ObjectTagging`, `s3:…ObjectVersionTagging`
/// for a named version, with `s3:ExistingObjectTag/*` and, on a put, `s3:RequestObjectTag/*`); bucket tagging
/// was authorized by `authorize`.
extension S3Gateway {
    func getObjectTagging(_ call: S3Call) async throws -> Response {
        let versionID = try taggingVersionID(call)
        let object = try await readableVersion(bucket: call.bucket, key: call.key, versionID: versionID, call: call,
                                               action: .getObjectTagging)
        let tags = object.storedTags.flatMap { TagSet(storedForm: $0) } ?? .empty
        return Self.xmlResponse(tags.xml(), headers: Self.taggedVersionHeaders(object.versionID, requested: versionID))
    }

    func putObjectTagging(_ call: S3Call) async throws -> Response {
        let versionID = try taggingVersionID(call)
        let body = try await call.signedBody.collectSmall(
            limitBytes: S3Limits.taggingDocumentBytesMax,
            tooLarge: S3Error(.malformedXML, "The Tagging document exceeds \(S3Limits.taggingDocumentBytesMax) bytes."))
        let tags = try TagSet.parse(Array(buffer: body), for: .object)
        let tagged = try await changeObjectTags(call, versionID: versionID, tags: tags, action: .putObjectTagging)
        return Self.emptyResponse(.ok, headers: Self.taggedVersionHeaders(tagged, requested: versionID))
    }

    func deleteObjectTagging(_ call: S3Call) async throws -> Response {
        let versionID = try taggingVersionID(call)
        let tagged = try await changeObjectTags(call, versionID: versionID, tags: nil, action: .deleteObjectTagging)
        return Self.emptyResponse(.noContent, headers: Self.taggedVersionHeaders(tagged, requested: versionID))
    }

    /// Authorizes `action` on the version the request names (the current one without `versionId`) and
    /// proposes the change for that version's id, with the stamps of the bucket and the version it was
    /// decided on: apply refuses it if either changed meanwhile (a PUT made another version current, the
    /// tags or ACL or policy changed), and the decision is made again on a fresh read, at most
    /// `bucketAccessRetriesMax` times. So the tags reach the version that was authorized, as it was when it
    /// was authorized. Returns the version id tagged.
    private func changeObjectTags(_ call: S3Call, versionID: String?, tags: TagSet?, action: S3Action) async throws
        -> String
    {
        let extra = tags.map(Self.requestTagContext) ?? [:]
        let stored = tags.flatMap { $0.isEmpty ? nil : $0.storedForm }
        var retries = 0
        while true {
            let (bucket, authorized) = try await authorizedVersion(
                bucket: call.bucket, key: call.key, versionID: versionID, call: call, action: action,
                extraContext: extra)
            // A Result rather than `catch .x where …`, which crashes this compiler (SILGen ownership).
            let outcome: Result<String, MetaError>
            do {
                outcome = .success(try await metadata.putObjectTagging(
                    bucket: call.bucket, key: call.key, versionID: versionID ?? authorized.versionID, tags: stored,
                    bucketAccess: bucket.accessStamp, objectAccess: authorized.accessStamp, requester: call.requester,
                    commandID: call.requestID))
            } catch {
                outcome = .failure(error)
            }
            switch outcome {
            case .success(let tagged): return tagged
            case .failure(let error) where error == .bucketAccessChanged || error == .objectAccessChanged:
                retries += 1
                // Past the retries the refusal reaches the client as 503: it may retry.
                if retries > Self.bucketAccessRetriesMax { throw error }
            case .failure(.noSuchVersion) where versionID == nil:
                // The version authorized was deleted meanwhile: to this request, the key has no such object.
                throw S3Error(.noSuchKey, details: [("Key", call.key)])
            case .failure(let error): throw error
            }
        }
    }

    /// The tags a PutObject, CreateMultipartUpload or REPLACE copy asks for (`x-amz-tagging`), nil for none.
    /// Its s3:PutObjectTagging was decided with the write's own permission (`authorize`, `setsTags`).
    func requestedWriteTags(_ call: S3Call) throws -> TagSet? {
        guard let tags = try ObjectHeaders.requestedTags(call.headers), !tags.isEmpty else { return nil }
        precondition(Self.setsTags(call), "\(call.target.endpoint.operationName) sets tags it was not authorized for")
        return tags
    }

    /// A copy's tags in stored form: the source's with `x-amz-tagging-directive: COPY` (the default), which
    /// needs s3:GetObjectTagging on a tagged source (…VersionTagging for a named version), or those of
    /// `x-amz-tagging` with `REPLACE` (none without it), which need s3:PutObjectTagging as on a PUT. Any
    /// other directive is InvalidArgument.
    func copiedTags(_ call: S3Call, source: ObjectRecord, requestedVersion: String?) async throws -> String? {
        let directive = call.header("x-amz-tagging-directive")?.trimmingCharacters(in: .whitespaces).uppercased()
            ?? "COPY"
        switch directive {
        case "COPY":
            guard let stored = source.storedTags else { return nil }
            guard let bucket = try await metadata.bucket(name: source.bucket) else {
                throw S3Error(.noSuchBucket, details: [("BucketName", source.bucket)])
            }
            let request = AccessRequest(principal: call.principal, principalName: call.user?.name,
                                        context: policyContext(call, existing: source),
                                        action: Self.versioned(.getObjectTagging, requestedVersion), bucket: bucket,
                                        object: source, key: source.key)
            guard Authorizer.allows(request) else { throw S3Error(.accessDenied) }
            return stored
        case "REPLACE":
            return try requestedWriteTags(call)?.storedForm
        default:
            throw S3Error(.invalidArgument, "Unknown tagging directive.",
                          details: [("ArgumentName", "x-amz-tagging-directive"),
                                    ("ArgumentValue", String(directive.prefix(64)))])
        }
    }

    private func taggingVersionID(_ call: S3Call) throws -> String? {
        try validateKey(call.key)
        let versionID = call.query("versionId")
        if let versionID { try Self.validateVersionID(versionID, parameter: "versionId") }
        return versionID
    }

    /// `x-amz-version-id` when the version has an id or one was asked for (as GET answers it).
    static func taggedVersionHeaders(_ versionID: String, requested: String?) -> HTTPFields {
        var headers = HTTPFields()
        if requested != nil || versionID != nullVersionID { headers[versionIDHeader] = versionID }
        return headers
    }

    // MARK: Bucket tagging

    func getBucketTagging(_ call: S3Call) async throws -> Response {
        guard let stored = try await metadata.bucketTagging(bucket: call.bucket),
              let tags = TagSet(storedForm: stored), !tags.isEmpty
        else { throw S3Error(.noSuchTagSet) }
        return Self.xmlResponse(tags.xml())
    }

    /// An empty TagSet removes the bucket's tags, as S3 does.
    func putBucketTagging(_ call: S3Call) async throws -> Response {
        let body = try await call.signedBody.collectSmall(
            limitBytes: S3Limits.taggingDocumentBytesMax,
            tooLarge: S3Error(.malformedXML, "The Tagging document exceeds \(S3Limits.taggingDocumentBytesMax) bytes."))
        let tags = try TagSet.parse(Array(buffer: body), for: .bucket)
        if tags.isEmpty { return try await deleteBucketTagging(call) }
        try await metadata.setBucketTagging(bucket: call.bucket, tags: tags.storedForm, requester: call.requester,
                                            commandID: call.requestID)
        return Self.emptyResponse(.noContent)
    }

    /// Deleting tags that are not there succeeds, as in S3.
    func deleteBucketTagging(_ call: S3Call) async throws -> Response {
        do {
            try await metadata.setBucketTagging(bucket: call.bucket, tags: nil, requester: call.requester,
                                                commandID: call.requestID)
        } catch .noSuchTagSet {
            // Nothing to delete.
        }
        return Self.emptyResponse(.noContent)
    }
}

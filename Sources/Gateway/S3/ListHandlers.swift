import Foundation
import HTTPTypes
import Hummingbird
import MetaContract
import S3Protocol

/// ListObjects (v1), ListObjectsV2, ListObjectVersions, ListMultipartUploads.
extension S3Gateway {
    /// `encoding-type`: absent or `url`.
    private func listEncoding(_ call: S3Call) throws -> ListEncoding? {
        switch call.query("encoding-type") {
        case nil: return nil
        case "url"?: return .url
        case let other?:
            throw S3Error(.invalidArgument, "Invalid Encoding Method specified in Request",
                          details: [("ArgumentName", "encoding-type"), ("ArgumentValue", other)])
        }
    }

    func listObjects(_ call: S3Call, version: Int) async throws -> Response {
        let prefix = call.query("prefix") ?? ""
        let delimiter = call.query("delimiter") ?? ""
        let maxKeys = try integerParameter(call, "max-keys", default: S3Limits.listKeysMax, range: 0...S3Limits.queryIntegerMax)
        let encoding = try listEncoding(call)
        var startAfter = ""
        var continuationToken: String?
        if version == 2 {
            startAfter = call.query("start-after") ?? ""
            if let token = call.query("continuation-token") {
                guard let decoded = Self.decodeContinuationToken(token) else {
                    throw S3Error(.invalidArgument, "The continuation token provided is incorrect",
                                  details: [("ArgumentName", "continuation-token")])
                }
                continuationToken = token
                startAfter = max(startAfter, decoded)
            }
        } else {
            startAfter = call.query("marker") ?? ""
        }
        let page = try await metadata.listObjects(
            ListObjectsQuery(bucket: call.bucket, prefix: prefix, delimiter: delimiter, startAfter: startAfter,
                             maxKeys: min(maxKeys, S3Limits.listKeysMax)),
            requester: call.requester)
        let fetchOwner = version == 1 || call.query("fetch-owner") == "true"
        let owner = try await owners(ofIDs: fetchOwner ? page.objects.map(\.owner) : [], call: call)
        let contents = page.objects.map { object in
            ListedObject(key: object.key, lastModifiedMilliseconds: object.lastModifiedTime,
                         etag: EntityTag.quote(object.etag), size: object.sizeBytes,
                         owner: fetchOwner ? owner(object.owner) : nil)
        }
        if version == 2 {
            let next = page.isTruncated ? page.nextMarker.map(Self.encodeContinuationToken) : nil
            let result = ListBucketV2Result(
                name: call.bucket, prefix: prefix, startAfter: call.query("start-after"),
                continuationToken: continuationToken, nextContinuationToken: next, maxKeys: maxKeys,
                delimiter: delimiter.isEmpty ? nil : delimiter, isTruncated: page.isTruncated, contents: contents,
                commonPrefixes: page.commonPrefixes, encoding: encoding)
            return Self.xmlResponse(result.xml())
        }
        let result = ListBucketResult(
            name: call.bucket, prefix: prefix, marker: call.query("marker") ?? "",
            nextMarker: page.isTruncated && !delimiter.isEmpty ? page.nextMarker : nil, maxKeys: maxKeys,
            delimiter: delimiter.isEmpty ? nil : delimiter, isTruncated: page.isTruncated, contents: contents,
            commonPrefixes: page.commonPrefixes, encoding: encoding)
        return Self.xmlResponse(result.xml())
    }

    /// ListObjectVersions: every version and delete marker in key order, newest first within a key (in a
    /// bucket whose versioning was never enabled, every object is its key's only, `null`, version).
    /// `(key-marker, version-id-marker)` names a position after which the next page starts.
    func listObjectVersions(_ call: S3Call) async throws -> Response {
        let prefix = call.query("prefix") ?? ""
        let delimiter = call.query("delimiter") ?? ""
        let maxKeys = try integerParameter(call, "max-keys", default: S3Limits.listKeysMax, range: 0...S3Limits.queryIntegerMax)
        let encoding = try listEncoding(call)
        let keyMarker = call.query("key-marker") ?? ""
        let versionIDMarker = call.query("version-id-marker") ?? ""
        if !versionIDMarker.isEmpty {
            guard !keyMarker.isEmpty else {
                throw S3Error(.invalidArgument, "A version-id marker cannot be specified without a key marker.",
                              details: [("ArgumentName", "version-id-marker"), ("ArgumentValue", versionIDMarker)])
            }
            try Self.validateVersionID(versionIDMarker, parameter: "version-id-marker")
        }
        let page = try await metadata.listObjectVersions(
            ListVersionsQuery(bucket: call.bucket, prefix: prefix, delimiter: delimiter, keyMarker: keyMarker,
                              versionIDMarker: versionIDMarker, maxKeys: min(maxKeys, S3Limits.listKeysMax)),
            requester: call.requester)
        let owner = try await owners(ofIDs: [page.owner], call: call)(page.owner)
        let versions = page.versions.map { version in
            ListedVersion(key: version.key, versionID: version.versionID, isLatest: version.isLatest,
                          lastModifiedMilliseconds: version.lastModifiedTime, etag: EntityTag.quote(version.etag),
                          size: version.sizeBytes, owner: owner, isDeleteMarker: version.isDeleteMarker)
        }
        let result = ListVersionsResult(
            name: call.bucket, prefix: prefix, keyMarker: keyMarker, versionIDMarker: versionIDMarker,
            nextKeyMarker: page.nextKeyMarker, nextVersionIDMarker: page.nextVersionIDMarker,
            maxKeys: maxKeys, delimiter: delimiter.isEmpty ? nil : delimiter, isTruncated: page.isTruncated,
            versions: versions, commonPrefixes: page.commonPrefixes, encoding: encoding)
        return Self.xmlResponse(result.xml())
    }

    /// Continuation tokens are opaque to clients: the base64 of the last key or common prefix returned.
    static func encodeContinuationToken(_ key: String) -> String {
        Data(key.utf8).base64EncodedString()
    }

    static func decodeContinuationToken(_ token: String) -> String? {
        Data(base64Encoded: token).flatMap { String(data: $0, encoding: .utf8) }
    }

    func listMultipartUploads(_ call: S3Call) async throws -> Response {
        let maxUploads = try integerParameter(call, "max-uploads", default: S3Limits.listUploadsMax, range: 0...S3Limits.queryIntegerMax)
        let encoding = try listEncoding(call)
        let query = ListUploadsQuery(
            bucket: call.bucket, prefix: call.query("prefix") ?? "", delimiter: call.query("delimiter") ?? "",
            keyMarker: call.query("key-marker") ?? "", uploadIDMarker: call.query("upload-id-marker") ?? "",
            maxUploads: min(maxUploads, S3Limits.listUploadsMax))
        let page = try await metadata.listMultipartUploads(query, requester: call.requester)
        let bucket = authorizedBucket(call)
        let bucketOwner = bucket.owner
        // Owner: who will own the object, as the ownership controls decide now; Initiator: who started it.
        func objectOwner(_ upload: UploadRecord) -> String {
            ObjectOwnershipRule.decide(writer: upload.initiator, requested: upload.acl, bucket: bucket).owner
        }
        let owner = try await owners(ofIDs: page.uploads.flatMap { [$0.initiator.isEmpty ? bucketOwner : $0.initiator,
                                                                    objectOwner($0)] },
                                     call: call)
        let result = ListMultipartUploadsResult(
            bucket: call.bucket, keyMarker: query.keyMarker, uploadIDMarker: query.uploadIDMarker,
            nextKeyMarker: page.nextKeyMarker, nextUploadIDMarker: page.nextUploadIDMarker,
            prefix: query.prefix, delimiter: query.delimiter.isEmpty ? nil : query.delimiter,
            maxUploads: maxUploads, isTruncated: page.isTruncated,
            uploads: page.uploads.map {
                .init(key: $0.key, uploadID: $0.uploadID, initiator: owner($0.initiator.isEmpty ? bucketOwner : $0.initiator),
                      owner: owner(objectOwner($0)), initiatedMilliseconds: $0.initiatedTime,
                      checksumAlgorithm: $0.checksumAlgorithm.flatMap { ChecksumAlgorithm(name: $0) })
            },
            commonPrefixes: page.commonPrefixes, encoding: encoding)
        return Self.xmlResponse(result.xml())
    }
}

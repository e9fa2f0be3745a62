import HTTPTypes
import Hummingbird
import MetaContract
import NIOCore
import S3Protocol

/// CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload, AbortMultipartUpload,
/// ListParts.
extension S3Gateway {
    func createMultipartUpload(_ call: S3Call) async throws -> Response {
        try validateKey(call.key)
        try ObjectHeaders.refuseUnsupported(call.headers)
        var algorithm: String?
        if let named = call.header("x-amz-checksum-algorithm") {
            guard let parsed = ChecksumAlgorithm(name: named) else {
                throw S3Error(.invalidRequest, "Checksum algorithm \(named) is not supported.")
            }
            algorithm = parsed.rawValue
        }
        let lock = try ObjectHeaders.requestedLock(call.headers, now: call.now)
        try checkLockPermission(lock, call, in: authorizedBucket(call))
        let upload = UploadRecord(
            bucket: call.bucket, key: call.key, uploadID: Self.randomHex(bytes: 24), initiator: call.requester,
            initiatedTime: call.now,
            // The tags and object lock travel in the upload's headers; the completion copies them to the
            // object it makes.
            headers: ObjectRecord.headers(ObjectRecord.headers(ObjectHeaders.stored(from: call.headers),
                                                               withTags: try requestedWriteTags(call)?.storedForm),
                                          withLock: lock),
            userMetadata: try ObjectHeaders.userMetadata(from: call), checksumAlgorithm: algorithm,
            acl: try await requestedObjectACL(call))
        try await withBucketAccess(call, recheck: { bucket in
            try Self.refusePublicACL(upload.acl, in: bucket)
            try checkLockPermission(lock, call, in: bucket)
        }) { access in
            try await metadata.createMultipartUpload(upload, requester: call.requester, access: access,
                                                     commandID: call.requestID)
        }
        var headers = HTTPFields()
        if let algorithm { headers[HTTPField.Name("x-amz-checksum-algorithm")!] = algorithm }
        let result = InitiateMultipartUploadResult(bucket: call.bucket, key: call.key, uploadID: upload.uploadID)
        return Self.xmlResponse(result.xml(), headers: headers)
    }

    /// The open upload a part request names.
    private func openUpload(_ call: S3Call, uploadID: String) async throws -> UploadRecord {
        guard let upload = try await metadata.upload(bucket: call.bucket, key: call.key, uploadID: uploadID,
                                                     requester: call.requester)
        else {
            throw S3Error(.noSuchUpload, details: [("UploadId", uploadID)])
        }
        return upload
    }

    func uploadPart(_ call: S3Call, partNumber: Int, uploadID: String) async throws -> Response {
        let upload = try await openUpload(call, uploadID: uploadID)
        let stored = try await writeBody(call, sizeBytesMax: configuration.putSizeBytesMax,
                                         defaultChecksum: upload.checksumAlgorithm.flatMap { ChecksumAlgorithm(name: $0) })
        let part = PartRecord(partNumber: partNumber, sizeBytes: stored.sizeBytes, etag: stored.digests.md5Hex,
                              lastModifiedTime: call.now, checksum: stored.digests.checksum, chunks: stored.chunks)
        try await storePart(part, call: call, upload: upload)
        var headers = HTTPFields()
        headers[.eTag] = EntityTag.quote(part.etag)
        if let checksum = part.checksum { ObjectHeaders.describe(checksum, into: &headers) }
        return Self.emptyResponse(.ok, headers: headers)
    }

    func uploadPartCopy(_ call: S3Call, partNumber: Int, uploadID: String, source copySource: CopySource) async throws
        -> Response
    {
        let upload = try await openUpload(call, uploadID: uploadID)
        let source = try await self.copySource(call, copySource)
        var range: Range<Int64> = 0..<source.sizeBytes
        if let rangeHeader = call.header("x-amz-copy-source-range") {
            guard let parsed = ByteRange.parseCopySourceRange(rangeHeader),
                  case .closed(let first, let last) = parsed
            else {
                throw S3Error(.invalidArgument,
                              "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
                              details: [("ArgumentName", "x-amz-copy-source-range"), ("ArgumentValue", rangeHeader)])
            }
            // Well-formed but past the end of the source: AWS answers InvalidRange.
            guard last < source.sizeBytes else {
                throw S3Error(.invalidRange, "The requested range is not satisfiable",
                              details: [("RangeRequested", rangeHeader),
                                        ("ActualObjectSize", String(source.sizeBytes))])
            }
            range = first..<(last + 1)
        }
        if Int64(range.count) > configuration.putSizeBytesMax {
            throw S3Error(.invalidRequest, "The specified copy source range is larger than the maximum part size.")
        }
        let copied = try await copyBytes(of: source, range: range, into: call.bucket,
                                         checksumAlgorithm: upload.checksumAlgorithm.flatMap { ChecksumAlgorithm(name: $0) })
        let part = PartRecord(partNumber: partNumber, sizeBytes: copied.sizeBytes, etag: copied.digests.md5Hex,
                              lastModifiedTime: call.now, checksum: copied.digests.checksum, chunks: copied.chunks)
        try await storePart(part, call: call, upload: upload)
        let result = CopyResult(kind: .copyPart, lastModifiedMilliseconds: part.lastModifiedTime,
                                etag: EntityTag.quote(part.etag), checksums: Self.checksumFields(part.checksum))
        var headers = HTTPFields()
        Self.describeCopySourceVersion(source, requested: copySource, into: &headers)
        return Self.xmlResponse(result.xml(), headers: headers)
    }

    private func storePart(_ part: PartRecord, call: S3Call, upload: UploadRecord) async throws {
        do {
            try await withBucketAccess(call) { access in
                try await metadata.putPart(part, bucket: call.bucket, key: call.key, uploadID: upload.uploadID,
                                           requester: call.requester, access: access, startedTime: call.now,
                                           commandID: call.requestID)
            }
        } catch {
            await bodyWriter.deleteUnlessMaybeCommitted(part.chunks, after: error)
            throw error
        }
    }

    func completeMultipartUpload(_ call: S3Call, uploadID: String) async throws -> Response {
        let precondition = try ObjectHeaders.writePrecondition(from: call.headers)
        let body = try await readSmallBody(call)
        let request = try CompleteMultipartUploadRequest.parse(Array(buffer: body))
        if request.parts.isEmpty {
            throw S3Error(.malformedXML, "You must specify at least one part.")
        }
        let parts = request.parts.map { CompletedPart(partNumber: $0.partNumber, etag: EntityTag.unquote($0.etag)) }
        let object = try await withBucketAccess(call) { access in
            try await metadata.completeMultipartUpload(
                bucket: call.bucket, key: call.key, uploadID: uploadID, parts: parts, requester: call.requester,
                access: access, precondition: precondition, time: call.now,
                minimumPartSizeBytes: configuration.partSizeBytesMin, commandID: call.requestID)
        }
        let result = CompleteMultipartUploadResult(
            location: "/\(call.bucket)/\(call.key)", bucket: call.bucket, key: call.key,
            etag: EntityTag.quote(object.etag), checksums: Self.checksumFields(object.checksum),
            checksumType: object.checksum.flatMap { ChecksumType(headerValue: $0.type) })
        var headers = HTTPFields()
        if object.versionID != Self.nullVersionID { headers[Self.versionIDHeader] = object.versionID }
        return Self.xmlResponse(result.xml(), headers: headers)
    }

    func abortMultipartUpload(_ call: S3Call, uploadID: String) async throws -> Response {
        try await withBucketAccess(call) { access in
            try await metadata.abortMultipartUpload(bucket: call.bucket, key: call.key, uploadID: uploadID,
                                                    requester: call.requester, access: access,
                                                    commandID: call.requestID)
        }
        return Self.emptyResponse(.noContent)
    }

    func listParts(_ call: S3Call, uploadID: String) async throws -> Response {
        let marker = try integerParameter(call, "part-number-marker", default: 0, range: 0...configuration.partNumberMax)
        let maxParts = try integerParameter(call, "max-parts", default: S3Limits.listPartsMax, range: 0...S3Limits.queryIntegerMax)
        let page = try await metadata.listParts(bucket: call.bucket, key: call.key, uploadID: uploadID,
                                                requester: call.requester, partNumberMarker: marker,
                                                maxParts: min(maxParts, S3Limits.listPartsMax))
        let bucket = authorizedBucket(call)
        // The initiator; the owner is who will own the object, as the ownership controls decide now.
        let initiatorID = page.upload.initiator.isEmpty ? bucket.owner : page.upload.initiator
        let ownerID = ObjectOwnershipRule.decide(writer: page.upload.initiator, requested: page.upload.acl,
                                                 bucket: bucket).owner
        let names = try await owners(ofIDs: [initiatorID, ownerID], call: call)
        let (initiator, owner) = (names(initiatorID), names(ownerID))
        let result = ListPartsResult(
            bucket: call.bucket, key: call.key, uploadID: uploadID, partNumberMarker: marker,
            nextPartNumberMarker: page.nextPartNumberMarker, maxParts: maxParts, isTruncated: page.isTruncated,
            parts: page.parts.map {
                .init(partNumber: $0.partNumber, lastModifiedMilliseconds: $0.lastModifiedTime,
                      etag: EntityTag.quote($0.etag), size: $0.sizeBytes, checksums: Self.checksumFields($0.checksum))
            },
            initiator: initiator, owner: owner,
            checksumAlgorithm: page.upload.checksumAlgorithm.flatMap { ChecksumAlgorithm(name: $0) })
        return Self.xmlResponse(result.xml())
    }

    /// An integer query parameter within `range`, or InvalidArgument.
    func integerParameter(_ call: S3Call, _ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = call.query(name) else { return value }
        guard let parsed = Int(text), range.contains(parsed) else {
            throw S3Error(.invalidArgument, "Provided \(name) not an integer or within integer range",
                          details: [("ArgumentName", name), ("ArgumentValue", text)])
        }
        return parsed
    }
}

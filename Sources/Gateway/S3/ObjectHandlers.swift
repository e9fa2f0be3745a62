import HTTPTypes
import Hummingbird
import MetaContract
import NIOCore
import S3Protocol

/// PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects, CopyObject.
extension S3Gateway {
    func putObject(_ call: S3Call) async throws -> Response {
        try validateKey(call.key)
        try ObjectHeaders.refuseUnsupported(call.headers)
        let precondition = try ObjectHeaders.writePrecondition(from: call.headers)
        let lock = try ObjectHeaders.requestedLock(call.headers, now: call.now)
        try checkLockPermission(lock, call, in: authorizedBucket(call))
        let headers = ObjectRecord.headers(
            ObjectRecord.headers(ObjectHeaders.stored(from: call.headers),
                                 withTags: try requestedWriteTags(call)?.storedForm),
            withLock: lock)
        let userMetadata = try ObjectHeaders.userMetadata(from: call)
        let acl = try await requestedObjectACL(call)
        let stored = try await writeBody(call, sizeBytesMax: configuration.putSizeBytesMax, allowInline: true)
        // The owner is decided at apply time from the writer and the bucket's ownership controls.
        let object = ObjectRecord(
            bucket: call.bucket, key: call.key, versionID: Self.randomHex(bytes: 16),
            sizeBytes: stored.sizeBytes, etag: stored.digests.md5Hex, lastModifiedTime: call.now,
            headers: headers, userMetadata: userMetadata, checksum: stored.digests.checksum,
            chunks: stored.chunks, partSizes: [], inlineBody: stored.inline, acl: acl)
        let versionID: String?
        do {
            versionID = try await withBucketAccess(call, recheck: { bucket in
                try Self.refusePublicACL(acl, in: bucket)
                try checkLockPermission(lock, call, in: bucket)
            }) { access in
                try await metadata.putObject(object, requester: call.requester, access: access,
                                             precondition: precondition, startedTime: call.now,
                                             commandID: call.requestID)
            }
        } catch {
            await bodyWriter.deleteUnlessMaybeCommitted(stored.chunks, after: error)
            throw error
        }
        var responseHeaders = HTTPFields()
        responseHeaders[.eTag] = EntityTag.quote(object.etag)
        if let versionID { responseHeaders[Self.versionIDHeader] = versionID }
        if let checksum = object.checksum { ObjectHeaders.describe(checksum, into: &responseHeaders) }
        return Self.emptyResponse(.ok, headers: responseHeaders)
    }

    /// A body written as chunks (or kept inline, for a small object) and verified against every digest the
    /// client sent.
    struct StoredBody {
        var sizeBytes: Int64
        var chunks: [ChunkRef]
        var digests: BodyDigests.Result
        /// The bytes themselves when the body is small enough to travel inside the metadata command.
        var inline: [UInt8]? = nil
    }

    /// Streams the request payload into chunks; verifies length and digests; on any failure the chunks
    /// are deleted and the error thrown. With `allowInline`, a body of at most
    /// `configuration.inlineBodyBytesMax` is kept in memory instead: one durable write (the metadata) for
    /// the whole PUT.
    func writeBody(_ call: S3Call, sizeBytesMax: Int64, defaultChecksum: ChecksumAlgorithm? = nil,
                   allowInline: Bool = false) async throws -> StoredBody
    {
        var digests = try BodyDigests(call: call, defaultAlgorithm: defaultChecksum)
        let payload = try PayloadStream(call: call)
        // Without a declared length, only HTTP's own chunked framing says where the body ends.
        let declared = payload.declaredLength
        if declared == nil && !Self.hasChunkedTransferEncoding(call) {
            throw S3Error(.missingContentLength)
        }
        if let declared, declared > sizeBytesMax {
            throw S3Error(.entityTooLarge, details: [("ProposedSize", String(declared)), ("MaxSizeAllowed", String(sizeBytesMax))])
        }
        if allowInline, let declared, declared <= Int64(configuration.inlineBodyBytesMax) {
            let bytes = try await Self.collect(payload, length: declared, digests: &digests)
            return StoredBody(sizeBytes: declared, chunks: [], digests: try digests.verify(trailers: payload.trailers),
                              inline: bytes)
        }
        let plan = chunkPlan(for: call.bucket)
        defer { plan.cancel() }
        let chunks = try await bodyWriter.write(payload, expectedLength: declared, maximumLength: sizeBytesMax,
                                                plan: plan, digests: &digests)
        do {
            let result = try digests.verify(trailers: payload.trailers)
            let sizeBytes = declared ?? chunks.reduce(0) { $0 + $1.sizeBytes }
            return StoredBody(sizeBytes: sizeBytes, chunks: chunks, digests: result)
        } catch {
            await bodyWriter.deleteBestEffort(chunks)
            throw error
        }
    }

    /// Reads exactly `length` bytes of `body` (a small one), feeding `digests`: IncompleteBody when it
    /// ends early, InvalidRequest when it runs past its declared length.
    static func collect<Body: AsyncSequence>(_ body: Body, length: Int64, digests: inout BodyDigests) async throws
        -> [UInt8] where Body.Element == ByteBuffer
    {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(length))
        var iterator = body.makeAsyncIterator()
        while let buffer = try await ObjectBodyWriter.next(&iterator) {
            guard Int64(bytes.count + buffer.readableBytes) <= length else {
                throw S3Error(.invalidRequest, "The request body is longer than its declared length.")
            }
            digests.update(buffer)
            bytes.append(contentsOf: buffer.readableBytesView)
        }
        guard Int64(bytes.count) == length else { throw S3Error(.incompleteBody) }
        return bytes
    }

    /// `Transfer-Encoding: chunked`: the HTTP server removes the framing, and the body's length is known
    /// only at its end.
    static func hasChunkedTransferEncoding(_ call: S3Call) -> Bool {
        call.headers[values: .transferEncoding].contains { value in
            value.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).lowercased() == "chunked" }
        }
    }

    func getObject(_ call: S3Call, isHead: Bool) async throws -> Response {
        try validateKey(call.key)
        let requestedVersion = call.query("versionId")
        if let requestedVersion { try Self.validateVersionID(requestedVersion, parameter: "versionId") }
        let (bucket, object) = try await authorizedVersion(bucket: call.bucket, key: call.key,
                                                           versionID: requestedVersion, call: call, action: .getObject,
                                                           extraContext: [:])
        var headers = HTTPFields()
        ObjectHeaders.describe(object, into: &headers)
        if requestedVersion != nil || object.versionID != Self.nullVersionID {
            headers[Self.versionIDHeader] = object.versionID
        }
        ObjectHeaders.describeTagCount(object, into: &headers)
        if object.hasLockSettings {
            // As S3 answers them: only to a caller who may read the retention or the legal hold.
            func allows(_ action: S3Action) -> Bool {
                Authorizer.allows(AccessRequest(principal: call.principal, principalName: call.user?.name,
                                                context: policyContext(call, existing: object), action: action,
                                                bucket: bucket, object: object, key: call.key))
            }
            ObjectHeaders.describeLock(object, retention: allows(.getObjectRetention),
                                       legalHold: allows(.getObjectLegalHold), into: &headers)
        }
        let condition = ConditionalHeaders.parse(headers: call.headerList, family: .read)
        switch condition.evaluate(etag: object.etag, lastModifiedMilliseconds: object.lastModifiedTime, family: .read) {
        case .proceed: break
        case .notModified:
            var error = S3Error(.notModified)
            error.headers = [("ETag", EntityTag.quote(object.etag)),
                             ("Last-Modified", S3Time.httpDate(milliseconds: object.lastModifiedTime))]
            throw error
        case .preconditionFailed: throw S3Error(.preconditionFailed, details: [("Condition", "If-Match")])
        }

        // Which bytes: a part (partNumber), a Range, or everything.
        var range: Range<Int64> = 0..<object.sizeBytes
        var status = HTTPResponse.Status.ok
        if let partText = call.query("partNumber") {
            guard call.headers[.range] == nil else {
                throw S3Error(.invalidRequest, "Cannot specify both Range header and partNumber query parameter")
            }
            guard partText.utf8.count <= 5, let part = Int(partText), part >= 1, part <= configuration.partNumberMax else {
                throw S3Error(.invalidArgument, "Part number must be an integer between 1 and \(configuration.partNumberMax), inclusive")
            }
            let sizes = object.partSizes.isEmpty ? [object.sizeBytes] : object.partSizes
            guard part <= sizes.count else { throw S3Error(.invalidPart, details: [("PartNumber", partText)]) }
            let start = sizes[..<(part - 1)].reduce(0, +)
            range = start..<(start + sizes[part - 1])
            headers[HTTPField.Name("x-amz-mp-parts-count")!] = String(sizes.count)
            if !object.partSizes.isEmpty { status = .partialContent }
        } else if let rangeHeader = call.headers[.range] {
            switch ByteRange.parse(rangeHeader)?.resolve(size: object.sizeBytes) {
            case nil: break  // not a single valid range: S3 ignores it and serves the whole object
            case .unsatisfiable?:
                var error = S3Error(.invalidRange, details: [("RangeRequested", rangeHeader),
                                                            ("ActualObjectSize", String(object.sizeBytes))])
                error.headers = [("Content-Range", "bytes */\(object.sizeBytes)")]
                throw error
            case .satisfiable(let first, let last)?:
                range = first..<(last + 1)
                status = .partialContent
            }
        }
        if status == .partialContent, !range.isEmpty {
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(object.sizeBytes)"
        }
        if let checksum = object.checksum, call.header("x-amz-checksum-mode")?.uppercased() == "ENABLED",
           range.count == object.sizeBytes
        {
            ObjectHeaders.describe(checksum, into: &headers)
        }
        applyResponseOverrides(call, to: &headers)
        headers[.contentLength] = String(range.count)
        if isHead {
            return Response(status: status, headers: headers, body: ResponseBody())
        }
        // The first piece is read before the status line goes out: when no node holding it answers, the
        // client gets a 500 or a 503 it can retry, not a 200 cut short. Later failures can only cut the body.
        var iterator = ObjectBodyReader(cluster: cluster, object: object, range: range, budget: readAhead)
            .makeAsyncIterator()
        let first = try await iterator.next()
        let rest = iterator
        let body = ResponseBody(contentLength: Int(range.count)) { writer in
            var iterator = rest
            if let first { try await writer.write(first) }
            while let buffer = try await iterator.next() {
                try await writer.write(buffer)
            }
            try await writer.finish(nil)
        }
        return Response(status: status, headers: headers, body: body)
    }

    /// `response-content-type` and friends override the stored headers on GET.
    private func applyResponseOverrides(_ call: S3Call, to headers: inout HTTPFields) {
        let overrides: [(String, HTTPField.Name)] = [
            ("response-content-type", .contentType), ("response-content-language", .contentLanguage),
            ("response-expires", .expires), ("response-cache-control", .cacheControl),
            ("response-content-disposition", .contentDisposition),
            ("response-content-encoding", .contentEncoding),
        ]
        for (parameter, header) in overrides {
            if let value = call.query(parameter) { headers[header] = value }
        }
    }

    /// The version a GET, HEAD or copy reads: the current object or the named version. A missing key is
    /// NoSuchKey (with the delete-marker headers when a marker hides it), a missing version NoSuchVersion, and
    /// a delete marker named by its version id MethodNotAllowed, as S3 answers them.
    /// The version a read names, if the caller may read it (`action`, s3:GetObjectVersion for a named
    /// version): the current object through `authorizedObject` (one read of bucket and object), any other
    /// version after a linearizable read of its bucket. What is missing or a delete marker is reported only
    /// to a caller who may list the key (else AccessDenied), as S3 does.
    /// The action a request naming `versionID` is checked as (S3's `…Version…` actions).
    static func versioned(_ action: S3Action, _ versionID: String?) -> S3Action {
        guard versionID != nil else { return action }
        switch action {
        case .getObjectAcl: return .getObjectVersionAcl
        case .getObjectTagging: return .getObjectVersionTagging
        case .putObjectTagging: return .putObjectVersionTagging
        case .deleteObjectTagging: return .deleteObjectVersionTagging
        // Object lock's permissions have no version variants.
        case .getObjectRetention, .putObjectRetention, .getObjectLegalHold, .putObjectLegalHold: return action
        default: return .getObjectVersion
        }
    }

    /// `extraContext`: condition keys only the handler knows (see `authorizedObject`).
    func readableVersion(bucket: String, key: String, versionID: String?, call: S3Call,
                         action: S3Action = .getObject, extraContext: [String: [String]] = [:]) async throws
        -> ObjectRecord
    {
        try await authorizedVersion(bucket: bucket, key: key, versionID: versionID, call: call, action: action,
                                    extraContext: extraContext).object
    }

    /// `readableVersion` with the bucket record the decision was made on (read linearizably), for a write
    /// that stamps both (object tagging).
    func authorizedVersion(bucket: String, key: String, versionID: String?, call: S3Call, action: S3Action,
                           extraContext: [String: [String]]) async throws
        -> (bucket: BucketRecord, object: ObjectRecord)
    {
        if versionID == nil,
           let found = try? await authorizedObject(call, action, bucket: bucket, key: key, extraContext: extraContext)
        {
            return found
        }
        guard let bucketRecord = try await metadata.bucket(name: bucket) else {
            throw S3Error(.noSuchBucket, details: [("BucketName", bucket)])
        }
        let version = try await metadata.objectVersion(bucket: bucket, key: key, versionID: versionID,
                                                       requester: call.requester)
        if let version, !version.isDeleteMarker {
            let request = AccessRequest(principal: call.principal, principalName: call.user?.name,
                                        context: policyContext(call, existing: version.object)
                                            .merging(extraContext) { $1 },
                                        action: Self.versioned(action, versionID),
                                        bucket: bucketRecord, object: version.object, key: key)
            guard Authorizer.allows(request) else { throw S3Error(.accessDenied) }
            return (bucketRecord, version.object)
        }
        var context = policyContext(call)
        context["s3:prefix"] = [key]
        let list = AccessRequest(principal: call.principal, principalName: call.user?.name, context: context,
                                 action: .listBucket, bucket: bucketRecord)
        guard Authorizer.allows(list) else { throw S3Error(.accessDenied) }
        guard let version else {
            if let versionID {
                throw S3Error(.noSuchVersion, details: [("Key", key), ("VersionId", versionID)])
            }
            // Clients tell "deleted" from "never there" by this header (s3-tests' check_delete_marker).
            var error = S3Error(.noSuchKey, details: [("Key", key)])
            error.headers.append(("x-amz-delete-marker", "false"))
            throw error
        }
        guard version.isDeleteMarker else { return (bucketRecord, version.object) }
        var error: S3Error
        if versionID == nil {
            error = S3Error(.noSuchKey, details: [("Key", key)])
        } else {
            error = S3Error(.methodNotAllowed, details: [("Method", call.method.rawValue), ("ResourceType", "DeleteMarker")])
            error.headers.append(("Last-Modified", S3Time.httpDate(milliseconds: version.object.lastModifiedTime)))
            error.headers.append(("Allow", "DELETE"))
        }
        error.headers.append(("x-amz-delete-marker", "true"))
        error.headers.append(("x-amz-version-id", version.object.versionID))
        throw error
    }

    static let versionIDHeader = HTTPField.Name("x-amz-version-id")!
    static let deleteMarkerHeader = HTTPField.Name("x-amz-delete-marker")!

    /// DeleteObject: without `versionId`, the current object goes (unversioned bucket) or a delete marker is
    /// made; with it, exactly that version goes (`null` included), unless it is locked (legal hold or
    /// retention, decided at apply time: AccessDenied). `x-amz-bypass-governance-retention: true` lifts
    /// GOVERNANCE retention for a caller with s3:BypassGovernanceRetention.
    func deleteObject(_ call: S3Call) async throws -> Response {
        try validateKey(call.key)
        let versionID = call.query("versionId")
        if let versionID { try Self.validateVersionID(versionID, parameter: "versionId") }
        let target = DeleteTarget(key: call.key, versionID: versionID, markerVersionID: Self.randomHex(bytes: 16))
        // Decided on the bucket record the write is stamped with (again on a fresh one when it changed).
        var bypass = bypassesGovernance(call, bucket: authorizedBucket(call), key: call.key)
        let outcomes = try await withBucketAccess(
            call, recheck: { bypass = self.bypassesGovernance(call, bucket: $0, key: call.key) }
        ) { access in
            try await metadata.deleteObjectVersions(
                bucket: call.bucket, targets: [target], requester: call.requester, access: access, time: call.now,
                bypassGovernance: bypass, commandID: call.requestID)
        }
        if let refusal = outcomes.first?.refusal { throw refusal }
        var headers = HTTPFields()
        if let outcome = outcomes.first {
            if let id = outcome.versionID { headers[Self.versionIDHeader] = id }
            if outcome.isDeleteMarker { headers[Self.deleteMarkerHeader] = "true" }
        }
        return Self.emptyResponse(.noContent, headers: headers)
    }

    /// Refuses a version id that no Silo version can have (`null` or 32 lower-case hex digits) with the error
    /// S3 gives an invalid version id.
    static func validateVersionID(_ versionID: String, parameter: String) throws {
        let isHex = versionID.utf8.count == 32
            && versionID.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
        guard versionID == nullVersionID || isHex else {
            throw S3Error(.invalidArgument, "Invalid version id specified",
                          details: [("ArgumentName", parameter), ("ArgumentValue", String(versionID.prefix(64)))])
        }
    }

    /// The id of S3's `null` version: the version of an object written while the bucket's versioning was
    /// not enabled (`MetaContract.nullVersionID`).
    static let nullVersionID = MetaContract.nullVersionID

    /// Refuses a version id other than `null` with the error S3 gives an invalid version id, for operations
    /// that address only the current, unversioned object (object ACLs).
    static func requireNullVersion(_ versionID: String, parameter: String) throws {
        guard versionID == nullVersionID else {
            throw S3Error(.invalidArgument, "Invalid version id specified",
                          details: [("ArgumentName", parameter), ("ArgumentValue", versionID)])
        }
    }

    func deleteObjects(_ call: S3Call) async throws -> Response {
        let body = try await readSmallBody(call)
        let request = try DeleteObjectsRequest.parse(Array(buffer: body))
        var failures: [DeleteResult.Failure] = []
        var targets: [DeleteTarget] = []
        let bucket = authorizedBucket(call)
        let context = policyContext(call)
        for object in request.objects {
            do {
                try ObjectKey.validate(object.key)
                if let versionID = object.versionID { try Self.validateVersionID(versionID, parameter: "VersionId") }
                // A bucket policy may allow or deny s3:DeleteObject key by key.
                if bucket.policy != nil {
                    let request = AccessRequest(principal: call.principal, principalName: call.user?.name,
                                                context: context, action: .deleteObject, bucket: bucket, key: object.key)
                    guard Authorizer.allows(request) else { throw S3Error(.accessDenied) }
                }
                targets.append(DeleteTarget(key: object.key, versionID: object.versionID,
                                            markerVersionID: Self.randomHex(bytes: 16)))
            } catch {
                let mapped = S3Error.from(error)
                failures.append(.init(key: object.key, versionID: object.versionID, code: mapped.code.rawValue,
                                      message: mapped.message))
            }
        }
        var deleted: [DeleteResult.Deleted] = []
        if !targets.isEmpty {
            // One flag for the command: the bypass holds only if the caller may bypass on every key named.
            func bypassesForAll(_ bucket: BucketRecord) -> Bool {
                targets.allSatisfy { bypassesGovernance(call, bucket: bucket, key: $0.key) }
            }
            var bypass = bypassesForAll(bucket)
            let outcomes = try await withBucketAccess(call, recheck: { bypass = bypassesForAll($0) }) { access in
                try await metadata.deleteObjectVersions(
                    bucket: call.bucket, targets: targets, requester: call.requester, access: access,
                    time: call.now, bypassGovernance: bypass, commandID: call.requestID)
            }
            for (target, outcome) in zip(targets, outcomes) {
                if let refusal = outcome.refusal {
                    let mapped = S3Error(refusal)
                    failures.append(.init(key: target.key, versionID: target.versionID, code: mapped.code.rawValue,
                                          message: mapped.message))
                    continue
                }
                deleted.append(.init(key: target.key, versionID: target.versionID,
                                     deleteMarker: outcome.isDeleteMarker ? true : nil,
                                     deleteMarkerVersionID: outcome.isDeleteMarker ? outcome.versionID : nil))
            }
        }
        let result = DeleteResult(deleted: deleted, failures: failures, quiet: request.quiet)
        return Self.xmlResponse(result.xml())
    }

    func copyObject(_ call: S3Call, source copySource: CopySource) async throws -> Response {
        try validateKey(call.key)
        try ObjectHeaders.refuseUnsupported(call.headers)
        let source = try await self.copySource(call, copySource)
        let directive = call.header("x-amz-metadata-directive")?.uppercased() ?? "COPY"
        guard directive == "COPY" || directive == "REPLACE" else {
            throw S3Error(.invalidArgument, "Unknown metadata directive.")
        }
        // Copying a named version onto its own key is how S3 restores an earlier version, and is allowed.
        if source.bucket == call.bucket && source.key == call.key && directive == "COPY" && copySource.versionID == nil {
            throw S3Error(.invalidRequest,
                          "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
        }
        if source.sizeBytes > configuration.putSizeBytesMax {
            throw S3Error(.invalidRequest, "The specified copy source is larger than the maximum allowable size for a copy source: \(configuration.putSizeBytesMax)")
        }
        let precondition = try ObjectHeaders.writePrecondition(from: call.headers)
        // A copy never takes its source's retention or legal hold: only what the request asks for (or the
        // bucket's default retention, at apply time).
        let lock = try ObjectHeaders.requestedLock(call.headers, now: call.now)
        try checkLockPermission(lock, call, in: authorizedBucket(call))
        let headers = ObjectRecord.headers(ObjectRecord.headers(
            directive == "REPLACE" ? ObjectHeaders.stored(from: call.headers) : source.headers,
            withTags: try await copiedTags(call, source: source, requestedVersion: copySource.versionID)),
            withLock: lock)
        let userMetadata = directive == "REPLACE" ? try ObjectHeaders.userMetadata(from: call)
            : source.userMetadata
        let acl = try await requestedObjectACL(call)
        let copied = try await copyBytes(of: source, range: 0..<source.sizeBytes, into: call.bucket,
                                         checksumAlgorithm: source.checksum.flatMap { ChecksumAlgorithm(name: $0.algorithm) },
                                         allowInline: true)
        let object = ObjectRecord(
            bucket: call.bucket, key: call.key, versionID: Self.randomHex(bytes: 16), sizeBytes: source.sizeBytes,
            etag: copied.digests.md5Hex, lastModifiedTime: call.now, headers: headers, userMetadata: userMetadata,
            checksum: copied.digests.checksum, chunks: copied.chunks, partSizes: [], inlineBody: copied.inline,
            acl: acl)
        let versionID: String?
        do {
            versionID = try await withBucketAccess(call, recheck: { bucket in
                try Self.refusePublicACL(acl, in: bucket)
                try checkLockPermission(lock, call, in: bucket)
            }) { access in
                try await metadata.putObject(object, requester: call.requester, access: access,
                                             precondition: precondition, startedTime: call.now,
                                             commandID: call.requestID)
            }
        } catch {
            await bodyWriter.deleteUnlessMaybeCommitted(copied.chunks, after: error)
            throw error
        }
        let result = CopyResult(kind: .copyObject, lastModifiedMilliseconds: object.lastModifiedTime,
                                etag: EntityTag.quote(object.etag), checksums: Self.checksumFields(object.checksum))
        var responseHeaders = HTTPFields()
        if let versionID { responseHeaders[Self.versionIDHeader] = versionID }
        Self.describeCopySourceVersion(source, requested: copySource, into: &responseHeaders)
        return Self.xmlResponse(result.xml(), headers: responseHeaders)
    }

    /// `x-amz-copy-source-version-id`: the version copied, when it has an id or one was asked for.
    static func describeCopySourceVersion(_ object: ObjectRecord, requested: CopySource, into headers: inout HTTPFields) {
        if requested.versionID != nil || object.versionID != nullVersionID {
            headers[HTTPField.Name("x-amz-copy-source-version-id")!] = object.versionID
        }
    }

    /// The object (or the version) named by `x-amz-copy-source`, after its `x-amz-copy-source-if-*` conditions.
    /// A delete marker named by version id is refused with InvalidRequest, as S3 does.
    func copySource(_ call: S3Call, _ source: CopySource) async throws -> ObjectRecord {
        if let versionID = source.versionID {
            try Self.validateVersionID(versionID, parameter: "x-amz-copy-source")
        }
        let object: ObjectRecord
        do {
            object = try await readableVersion(bucket: source.bucket, key: source.key, versionID: source.versionID,
                                               call: call)
        } catch let error as S3Error where error.code == .methodNotAllowed {
            throw S3Error(.invalidRequest,
                          "The source of a copy request may not specifically refer to a delete marker by version id.")
        } catch var error as S3Error where error.code == .noSuchKey {
            // The delete-marker headers describe the copy source, not the object this request writes.
            error.headers = []
            throw error
        }
        let condition = ConditionalHeaders.parse(headers: call.headerList, family: .copySource)
        let outcome = condition.evaluate(etag: object.etag, lastModifiedMilliseconds: object.lastModifiedTime,
                                         family: .copySource)
        if outcome != .proceed {
            throw S3Error(.preconditionFailed, details: [("Condition", "x-amz-copy-source-If-*")])
        }
        return object
    }

    static func checksumFields(_ checksum: StoredChecksum?) -> [ChecksumField] {
        guard let checksum, let algorithm = ChecksumAlgorithm(name: checksum.algorithm) else { return [] }
        return [ChecksumField(algorithm: algorithm, value: checksum.value)]
    }

    /// Copies `range` of `source` into fresh chunks, or inline when allowed and small enough. (The state
    /// machine counts chunk references, so a metadata-only copy that shares chunks is possible; it is
    /// not done yet.)
    func copyBytes(of source: ObjectRecord, range: Range<Int64>, into bucket: String,
                   checksumAlgorithm: ChecksumAlgorithm?, allowInline: Bool = false) async throws -> StoredBody
    {
        let reader = ObjectBodyReader(cluster: cluster, object: source, range: range, budget: readAhead)
        var digests = BodyDigests.forCopy(algorithm: checksumAlgorithm)
        if allowInline && range.count <= configuration.inlineBodyBytesMax {
            let bytes = try await Self.collect(reader, length: Int64(range.count), digests: &digests)
            return StoredBody(sizeBytes: Int64(range.count), chunks: [], digests: try digests.verify(trailers: []),
                              inline: bytes)
        }
        let plan = chunkPlan(for: bucket)
        defer { plan.cancel() }
        let chunks = try await bodyWriter.write(reader, expectedLength: Int64(range.count),
                                                maximumLength: Int64(range.count), plan: plan, digests: &digests)
        let result = try digests.verify(trailers: [])
        return StoredBody(sizeBytes: Int64(range.count), chunks: chunks, digests: result)
    }

    /// How chunks written into `bucket` are kept: its durability, read linearizably (so a change applies to
    /// every write that starts after it), or this gateway's default replication. Started as a task so that
    /// the read runs while the first chunk arrives; the caller cancels it when the write ends.
    func chunkPlan(for bucket: String) -> Task<ChunkPlan, any Error> {
        Task { [metadata, bodyWriter] in try bodyWriter.plan(for: try await metadata.bucketDurability(bucket: bucket)) }
    }

    func validateKey(_ key: String) throws {
        try ObjectKey.validate(key)
    }
}

import MetaContract

extension MetaStateMachine {
    /// Returns the version id stored when versioning is Enabled; nil otherwise (the `null` version, which S3's
    /// PutObject does not name).
    func applyPutObject(
        _ proposed: ObjectRecord, precondition: WritePrecondition, startedTime: Int64,
        envelope: CommandEnvelope
    ) throws -> String? {
        // Last-Modified is the command's time (the leader's clock), so versions of a key are ordered by one clock.
        var object = proposed
        object.lastModifiedTime = envelope.time
        let bucket = try existingBucket(object.bucket)
        // Owner and ACL: what the writer asked for, under the bucket's ownership controls as they are now.
        (object.owner, object.acl) = ObjectOwnershipRule.decide(
            writer: envelope.requester, requested: object.acl, bucket: bucket)
        try checkWriteAge(startedTime: startedTime, time: envelope.time)
        if let body = object.inlineBody {
            guard object.chunks.isEmpty, object.partSizes.isEmpty, Int64(body.count) == object.sizeBytes,
                  body.count <= MetaLimits.inlineBodyBytesMax
            else {
                throw MetaError.internalFault("an inline body of \(body.count) bytes for an object of \(object.sizeBytes)")
            }
        } else {
            try checkChunkSizes(object.chunks, total: object.sizeBytes)
        }
        guard !object.key.isEmpty else { throw MetaError.invalidArgument("empty key") }
        object = try lockedForWrite(object, time: envelope.time)
        let versioning = try bucketVersioning(object.bucket)
        object.versionID = Self.storedVersionID(proposed: proposed.versionID, versioning: versioning)
        // Conditions concern the current object only (a delete marker is no current object).
        let current = try objectRecord(bucket: object.bucket, key: object.key)
        try check(precondition, current: current)
        try storeNewVersion(object, current: current, versioning: versioning, time: envelope.time, checkQuota: true)
        return versioning == .enabled ? object.versionID : nil
    }

    func check(_ precondition: WritePrecondition, current: ObjectRecord?) throws {
        switch precondition {
        case .none:
            return
        case .ifNoneMatchAny:
            if current != nil { throw MetaError.preconditionFailed }
        case .ifMatch(let etag):
            guard let current else { throw MetaError.noSuchKey }
            guard current.etag.lowercased() == etag.lowercased() else { throw MetaError.preconditionFailed }
        case .ifMatchAny:
            if current == nil { throw MetaError.noSuchKey }
        case .ifNoneMatch(let etag):
            if let current, current.etag.lowercased() == etag.lowercased() { throw MetaError.preconditionFailed }
        }
    }

    /// Refuses a write whose bytes started arriving more than `writeAgeMaxMilliseconds` before the command.
    func checkWriteAge(startedTime: Int64, time: Int64) throws {
        let (age, overflow) = time.subtractingReportingOverflow(startedTime)
        if overflow || age > MetaLimits.writeAgeMaxMilliseconds { throw MetaError.requestTooOld }
    }

    /// The gateway computes the chunk list of what it wrote: a mismatch is a bug on our side, never the
    /// client's, so it is an internal fault (S3: InternalError) whose message stays in the logs.
    func checkChunkSizes(_ chunks: [ChunkRef], total: Int64) throws {
        var sum: Int64 = 0
        for chunk in chunks {
            let (next, overflow) = sum.addingReportingOverflow(chunk.sizeBytes)
            guard !overflow, chunk.sizeBytes >= 0 else { throw MetaError.internalFault("bad chunk size") }
            sum = next
        }
        guard sum == total else {
            throw MetaError.internalFault("chunk sizes add up to \(sum), not \(total)")
        }
    }
}

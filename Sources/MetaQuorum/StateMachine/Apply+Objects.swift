extension MetaStateMachine {
    func applyPutObject(
        _ proposed: ObjectRecord, precondition: WritePrecondition, startedTime: Int64,
        envelope: CommandEnvelope
    ) throws {
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
        let current = try objectRecord(bucket: object.bucket, key: object.key)
        try check(precondition, current: current)
        try storeCurrentVersion(object, replacing: current, time: envelope.time)
    }

    func applyDeleteObjects(bucket: String, keys: [String], envelope: CommandEnvelope) throws -> [Bool] {
        _ = try existingBucket(bucket)
        var removed: [Bool] = []
        removed.reserveCapacity(keys.count)
        for key in keys {
            guard let current = try objectRecord(bucket: bucket, key: key) else {
                removed.append(false)
                continue
            }
            try database.run("DELETE FROM objects WHERE bucket = ? AND key = ?", [.string(bucket), .string(key)])
            try adjustUsage(bucket: bucket, bytes: -current.sizeBytes, objects: -1, check: false)
            try release(current.chunks, time: envelope.time)
            removed.append(true)
        }
        return removed
    }

    /// Makes `object` the current version; the replaced version's chunks lose a reference. New references
    /// are counted before old ones are dropped, so a version sharing chunks with its predecessor (a copy
    /// onto itself) keeps them. The bucket's usage follows; with `checkQuota`, growth past a quota is
    /// refused before anything changes.
    func storeCurrentVersion(_ object: ObjectRecord, replacing current: ObjectRecord?, time: Int64,
                             checkQuota: Bool = true) throws {
        try adjustUsage(bucket: object.bucket, bytes: object.sizeBytes - (current?.sizeBytes ?? 0),
                        objects: current == nil ? 1 : 0, check: checkQuota)
        try reference(object.chunks)
        try database.run(
            "INSERT OR REPLACE INTO objects(bucket, key, size_bytes, etag, last_modified_time, record, owner) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                .string(object.bucket), .string(object.key), .int(object.sizeBytes), .string(object.etag),
                .int(object.lastModifiedTime), .bytes(RecordBlob.encode { $0.write(object) }),
                object.owner.map { .string($0) } ?? .null,
            ])
        if let current { try release(current.chunks, time: time) }
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

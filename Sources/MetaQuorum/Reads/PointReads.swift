import MetaContract

/// Reads of single records and small lists.
extension MetaStateMachine {
    func listUsers() throws -> [UserRecord] {
        try database.rows("SELECT record FROM users ORDER BY name") { $0.bytes(0) }
            .map { blob in try RecordBlob.decode(blob) { reader throws(MetaCodecError) in try reader.readUser(format: MetaSchema.userRecordFormat) } }
    }

    func user(accessKeyID: String) throws -> UserRecord? {
        guard
            let blob = try database.firstRow(
                "SELECT record FROM users WHERE access_key_id = ?",
                [.string(accessKeyID)], { $0.bytes(0) })
        else { return nil }
        return try RecordBlob.decode(blob) { reader throws(MetaCodecError) in try reader.readUser(format: MetaSchema.userRecordFormat) }
    }

    func listBuckets(owner: String) throws -> [BucketRecord] {
        try database.rows(
            "SELECT name, \(Self.bucketColumns) FROM buckets WHERE owner = ? ORDER BY name", [.string(owner)]
        ) { row in
            (row.string(0), Self.bucketColumnValues(row, from: 1))
        }.map { row in try Self.bucket(name: row.0, columns: row.1) }
    }

    func object(bucket: String, key: String, requester: String) throws -> ObjectRecord? {
        _ = try existingBucket(bucket)
        return try objectRecord(bucket: bucket, key: key)
    }

    func upload(bucket: String, key: String, uploadID: String, requester: String) throws -> UploadRecord? {
        _ = try existingBucket(bucket)
        return try uploadRecord(bucket: bucket, key: key, uploadID: uploadID)
    }

    /// The oldest garbage entries first (in the order their chunks were unlinked).
    func garbageChunks(limit: Int) throws -> [GarbageChunk] {
        let count = min(max(limit, 0), MetaLimits.garbageChunksPerCallMax)
        return try database.rows("SELECT chunk, queued_time FROM garbage ORDER BY seq LIMIT ?", [.int(Int64(count))]) {
            ($0.bytes(0), $0.int64(1))
        }.map { row in
            GarbageChunk(
                chunk: try RecordBlob.decode(row.0) { reader throws(MetaCodecError) in try reader.readChunk() },
                queuedTime: row.1)
        }
    }

    /// Of `chunkIDs`, those an object, a part or a garbage entry names: primary-key lookups only. A blob
    /// node's id may be a shard's (`ChunkRef.shardID`): it counts as referenced when its chunk is, so each id
    /// is also looked up as the shard of every index a stripe can have (a random id that happens to match is
    /// kept, never swept: the error is only ever on the safe side).
    func referencedChunks(_ chunkIDs: [ChunkID]) throws -> Set<ChunkID> {
        var referenced = Set<ChunkID>()
        for id in chunkIDs {
            // shardID is an involution per index: the chunk of shard `id` at index i is shardID(of: id, i).
            let candidates = [id] + (0..<MetaLimits.shardIndexCount).map { ChunkRef.shardID(of: id, index: $0) }
            for candidate in candidates where try isReferenced(candidate) {
                referenced.insert(id)
                break
            }
        }
        return referenced
    }

    private func isReferenced(_ id: ChunkID) throws -> Bool {
        let bytes = id.storageBytes
        let live = try database.firstRow("SELECT 1 FROM chunk_refs WHERE chunk_id = ?", [.bytes(bytes)]) { _ in true }
        if live == true { return true }
        let queued = try database.firstRow("SELECT 1 FROM garbage WHERE chunk_id = ?", [.bytes(bytes)]) { _ in true }
        return queued == true
    }
}

import MetaContract

/// Bucket durability (schema 8: `buckets.durability`, an encoded `BucketDurability`, NULL for the cluster's
/// default): set by `setBucketDurability`, read by the `bucketDurability` query.
extension MetaStateMachine {
    func applySetBucketDurability(bucket: String, durability: BucketDurability?) throws {
        _ = try existingBucket(bucket)
        try durability?.validate()
        let value: SQLiteValue =
            durability.map { durability in .bytes(RecordBlob.encode { $0.write(durability) }) } ?? .null
        try database.run("UPDATE buckets SET durability = ? WHERE name = ?", [value, .string(bucket)])
    }

    /// The bucket's durability; nil when none was set (the gateway then uses the cluster's default).
    func bucketDurability(_ bucket: String) throws -> BucketDurability? {
        _ = try existingBucket(bucket)
        guard
            let blob = try database.firstRow(
                "SELECT durability FROM buckets WHERE name = ? AND durability IS NOT NULL", [.string(bucket)],
                { $0.bytes(0) })
        else { return nil }
        return try RecordBlob.decode(blob) { reader throws(MetaCodecError) in try reader.readDurability() }
    }

    /// Moves one copy or shard of `chunkID` in the record at `record` from node `from` to node `to`, keeping
    /// its position (shard i stays shard i). Refused with `.noSuchKey`, changing nothing, when the record is
    /// gone, no longer names the chunk on `from` (replaced, or moved already), or already has it on `to`.
    /// Reference counts do not change: the same chunk, on another node.
    func applyRelocateChunk(record: ChunkScanPosition, chunkID: ChunkID, from: UInt32, to: UInt32) throws {
        func moved(_ chunks: [ChunkRef]) throws -> [ChunkRef] {
            var chunks = chunks
            guard let index = chunks.firstIndex(where: { $0.id == chunkID }),
                  let slot = chunks[index].nodes.firstIndex(of: from), !chunks[index].nodes.contains(to)
            else { throw MetaError.noSuchKey }
            chunks[index].nodes[slot] = to
            return chunks
        }
        switch record {
        case .afterObject(let bucket, let key):
            guard var object = try objectRecord(bucket: bucket, key: key) else { throw MetaError.noSuchKey }
            object.chunks = try moved(object.chunks)
            try database.run("UPDATE objects SET record = ? WHERE bucket = ? AND key = ?",
                             [.bytes(RecordBlob.encode { $0.write(object) }), .string(bucket), .string(key)])
        case .afterVersion(let bucket, let key, let seq):
            guard let blob = try database.firstRow(
                "SELECT record FROM versions WHERE bucket = ? AND key = ? AND seq = ?",
                [.string(bucket), .string(key), .int(seq)], { $0.bytes(0) })
            else { throw MetaError.noSuchKey }
            var object = try RecordBlob.decode(blob) { reader throws(MetaCodecError) in
                try reader.readObject(format: RecordFormat.object)
            }
            object.chunks = try moved(object.chunks)
            try database.run("UPDATE versions SET record = ? WHERE bucket = ? AND key = ? AND seq = ?",
                             [.bytes(RecordBlob.encode { $0.write(object) }), .string(bucket), .string(key), .int(seq)])
        case .afterPart(let uploadID, let partNumber):
            guard let blob = try database.firstRow(
                "SELECT record FROM parts WHERE upload_id = ? AND part_number = ?",
                [.string(uploadID), .int(Int64(partNumber))], { $0.bytes(0) })
            else { throw MetaError.noSuchKey }
            var part = try RecordBlob.decode(blob) { reader throws(MetaCodecError) in try reader.readPart() }
            part.chunks = try moved(part.chunks)
            try database.run("UPDATE parts SET record = ? WHERE upload_id = ? AND part_number = ?",
                             [.bytes(RecordBlob.encode { $0.write(part) }), .string(uploadID), .int(Int64(partNumber))])
        }
    }
}

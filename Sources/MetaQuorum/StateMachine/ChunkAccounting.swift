import MetaContract

/// Reference counting of chunks and the garbage queue, always inside the applying transaction.
extension MetaStateMachine {
    /// Counts one more reference to each chunk. Refuses (`.noSuchKey`) a chunk already queued as garbage:
    /// the blob store may be deleting it. Only a copy whose source was deleted meanwhile can name such a
    /// chunk (new chunks have fresh random ids), so to the client the source is gone.
    func reference(_ chunks: [ChunkRef]) throws {
        for chunk in chunks {
            let id = chunk.id.storageBytes
            let queued = try database.firstRow("SELECT 1 FROM garbage WHERE chunk_id = ?", [.bytes(id)]) { _ in true }
            if queued == true {
                throw MetaError.noSuchKey
            }
            try database.run(
                "INSERT INTO chunk_refs(chunk_id, ref_count) VALUES (?, 1) "
                    + "ON CONFLICT(chunk_id) DO UPDATE SET ref_count = ref_count + 1",
                [.bytes(id)])
        }
    }

    /// Drops one reference to each chunk; a chunk left with none is queued as garbage at `time`.
    func release(_ chunks: [ChunkRef], time: Int64) throws {
        for chunk in chunks {
            let id = chunk.id.storageBytes
            let remaining = try database.firstRow(
                "UPDATE chunk_refs SET ref_count = ref_count - 1 WHERE chunk_id = ? AND ref_count > 1 RETURNING ref_count",
                [.bytes(id)]
            ) { $0.int64(0) }
            if remaining != nil { continue }
            let deleted = try database.run("DELETE FROM chunk_refs WHERE chunk_id = ?", [.bytes(id)])
            precondition(deleted == 1, "released chunk \(String(chunk.id, radix: 16)) had no reference")
            try database.run(
                "INSERT INTO garbage(chunk_id, queued_time, chunk) VALUES (?, ?, ?) ON CONFLICT(chunk_id) DO NOTHING",
                [.bytes(id), .int(time), .bytes(RecordBlob.encode { $0.write(chunk) })])
        }
    }

    func applyForgetGarbage(_ chunkIDs: [ChunkID]) throws {
        for id in chunkIDs {
            try database.run("DELETE FROM garbage WHERE chunk_id = ?", [.bytes(id.storageBytes)])
        }
    }
}

/// Where a scan of every live chunk's placement stands: after the current object at (bucket, key), after the
/// noncurrent version (bucket, key, seq), or after the part (uploadID, partNumber). Current objects come first,
/// in (bucket, key) order, then noncurrent versions in (bucket, key, seq descending) order, then the parts of
/// open uploads.
public enum ChunkScanPosition: Sendable, Equatable {
    case afterObject(bucket: String, key: String)
    /// Wire tag 3 (schema 5: noncurrent versions keep their chunks).
    case afterVersion(bucket: String, key: String, seq: Int64)
    case afterPart(uploadID: String, partNumber: Int)
}

/// One page of `MetadataService.chunkPlacements`: the chunks of the records read, with the blob nodes their
/// metadata names, and where the next page starts (nil: the scan is complete).
public struct ChunkPlacementPage: Sendable, Equatable {
    public var chunks: [ChunkRef]
    public var next: ChunkScanPosition?
    /// For each chunk, the record that names it (the position of exactly that record), so that a repairer
    /// can move a copy with `relocateChunk`. Filled by the state machine; carried over the RPC by the located
    /// query only (`MetaQuery.locatedChunkPlacements`), empty after the plain one.
    /// Invariant: empty or `records.count == chunks.count`.
    public var records: [ChunkScanPosition]
    public init(chunks: [ChunkRef], next: ChunkScanPosition?, records: [ChunkScanPosition] = []) {
        precondition(records.isEmpty || records.count == chunks.count, "\(records.count) records for \(chunks.count) chunks")
        self.chunks = chunks
        self.next = next
        self.records = records
    }
}

/// Where a scan of every live chunk's placement stands: after the object at (bucket, key), or after the part
/// (uploadID, partNumber). Objects come first, in (bucket, key) order, then the parts of open uploads.
public enum ChunkScanPosition: Sendable, Equatable {
    case afterObject(bucket: String, key: String)
    case afterPart(uploadID: String, partNumber: Int)
}

/// One page of `MetadataService.chunkPlacements`: the chunks of the records read, with the blob nodes their
/// metadata names, and where the next page starts (nil: the scan is complete).
public struct ChunkPlacementPage: Sendable, Equatable {
    public var chunks: [ChunkRef]
    public var next: ChunkScanPosition?
    public init(chunks: [ChunkRef], next: ChunkScanPosition?) {
        self.chunks = chunks
        self.next = next
    }
}

/// The scan behind `chunkPlacements`: a range read of `objects` then of `parts` by primary key, at most
/// `limit` records a page (bounded by `MetaLimits.chunkScanRecordsPerCallMax`), so a scan of any size is a
/// sequence of short reads a repairer can spread over time.
extension MetaStateMachine {
    func chunkPlacements(after position: ChunkScanPosition?, limit: Int) throws -> ChunkPlacementPage {
        let count = min(max(limit, 1), MetaLimits.chunkScanRecordsPerCallMax)
        var chunks: [ChunkRef] = []
        var read = 0
        var last: ChunkScanPosition? = position
        if position == nil || { if case .afterObject = position! { true } else { false } }() {
            var sql = "SELECT bucket, key, record FROM objects"
            var arguments: [SQLiteValue] = []
            if case .afterObject(let bucket, let key) = position {
                sql += " WHERE bucket > ? OR (bucket = ? AND key > ?)"
                arguments = [.string(bucket), .string(bucket), .string(key)]
            }
            sql += " ORDER BY bucket, key LIMIT ?"
            arguments.append(.int(Int64(count)))
            let rows = try database.rows(sql, arguments) { ($0.string(0), $0.string(1), $0.bytes(2)) }
            for (bucket, key, blob) in rows {
                let object = try RecordBlob.decode(blob) { reader throws(MetaCodecError) in
                    try reader.readObject(format: MetaSchema.objectRecordFormat)
                }
                chunks += object.chunks
                last = .afterObject(bucket: bucket, key: key)
            }
            read = rows.count
            if read == count { return ChunkPlacementPage(chunks: chunks, next: last) }
            last = nil
        }
        var sql = "SELECT upload_id, part_number, record FROM parts"
        var arguments: [SQLiteValue] = []
        if case .afterPart(let uploadID, let partNumber) = last {
            sql += " WHERE upload_id > ? OR (upload_id = ? AND part_number > ?)"
            arguments = [.string(uploadID), .string(uploadID), .int(Int64(partNumber))]
        }
        sql += " ORDER BY upload_id, part_number LIMIT ?"
        let remaining = count - read
        arguments.append(.int(Int64(remaining)))
        let rows = try database.rows(sql, arguments) { ($0.string(0), $0.int64(1), $0.bytes(2)) }
        for (uploadID, partNumber, blob) in rows {
            let part = try RecordBlob.decode(blob) { reader throws(MetaCodecError) in try reader.readPart() }
            chunks += part.chunks
            last = .afterPart(uploadID: uploadID, partNumber: Int(partNumber))
        }
        return ChunkPlacementPage(chunks: chunks, next: rows.count == remaining ? last : nil)
    }
}

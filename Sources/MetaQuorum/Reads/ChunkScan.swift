import MetaContract

/// The scan behind `chunkPlacements`: range reads of `objects`, then `versions`, then `parts` by primary key,
/// at most `limit` records a page (bounded by `MetaLimits.chunkScanRecordsPerCallMax`), so a scan of any size
/// is a sequence of short reads a repairer can spread over time.
extension MetaStateMachine {
    func chunkPlacements(after position: ChunkScanPosition?, limit: Int) throws -> ChunkPlacementPage {
        let count = min(max(limit, 1), MetaLimits.chunkScanRecordsPerCallMax)
        var page = ChunkPlacementPage(chunks: [], next: position)
        var remaining = count
        let phase: Int
        switch position {
        case nil, .afterObject?: phase = 0
        case .afterVersion?: phase = 1
        case .afterPart?: phase = 2
        }
        if phase == 0 {
            var sql = "SELECT bucket, key, record FROM objects"
            var arguments: [SQLiteValue] = []
            if case .afterObject(let bucket, let key) = position {
                sql += " WHERE bucket > ? OR (bucket = ? AND key > ?)"
                arguments = [.string(bucket), .string(bucket), .string(key)]
            }
            sql += " ORDER BY bucket, key LIMIT ?"
            arguments.append(.int(Int64(remaining)))
            let rows = try database.rows(sql, arguments) { ($0.string(0), $0.string(1), $0.bytes(2)) }
            for (bucket, key, blob) in rows {
                let chunks = try Self.decodeObjectRecord(blob).chunks
                page.chunks += chunks
                page.next = .afterObject(bucket: bucket, key: key)
                page.records += Array(repeating: page.next!, count: chunks.count)
            }
            remaining -= rows.count
            if remaining == 0 { return page }
        }
        if phase <= 1 {
            var sql = "SELECT bucket, key, seq, record FROM versions"
            var arguments: [SQLiteValue] = []
            if case .afterVersion(let bucket, let key, let seq) = position {
                sql += " WHERE bucket > ? OR (bucket = ? AND (key > ? OR (key = ? AND seq < ?)))"
                arguments = [.string(bucket), .string(bucket), .string(key), .string(key), .int(seq)]
            }
            sql += " ORDER BY bucket, key, seq DESC LIMIT ?"
            arguments.append(.int(Int64(remaining)))
            let rows = try database.rows(sql, arguments) { ($0.string(0), $0.string(1), $0.int64(2), $0.bytes(3)) }
            for (bucket, key, seq, blob) in rows {
                let chunks = try Self.decodeObjectRecord(blob).chunks
                page.chunks += chunks
                page.next = .afterVersion(bucket: bucket, key: key, seq: seq)
                page.records += Array(repeating: page.next!, count: chunks.count)
            }
            remaining -= rows.count
            if remaining == 0 { return page }
        }
        var sql = "SELECT upload_id, part_number, record FROM parts"
        var arguments: [SQLiteValue] = []
        if case .afterPart(let uploadID, let partNumber) = position {
            sql += " WHERE upload_id > ? OR (upload_id = ? AND part_number > ?)"
            arguments = [.string(uploadID), .string(uploadID), .int(Int64(partNumber))]
        }
        sql += " ORDER BY upload_id, part_number LIMIT ?"
        arguments.append(.int(Int64(remaining)))
        let rows = try database.rows(sql, arguments) { ($0.string(0), $0.int64(1), $0.bytes(2)) }
        for (uploadID, partNumber, blob) in rows {
            let part = try RecordBlob.decode(blob) { reader throws(MetaCodecError) in try reader.readPart() }
            page.chunks += part.chunks
            page.next = .afterPart(uploadID: uploadID, partNumber: Int(partNumber))
            page.records += Array(repeating: page.next!, count: part.chunks.count)
        }
        if rows.count < remaining { page.next = nil }
        return page
    }

    private static func decodeObjectRecord(_ blob: [UInt8]) throws -> ObjectRecord {
        try RecordBlob.decode(blob) { reader throws(MetaCodecError) in
            try reader.readObject(format: RecordFormat.object)
        }
    }
}

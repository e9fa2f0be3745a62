import MetaContract

extension MetaStateMachine {
    /// One page of in-progress uploads in (key, initiated time, upload id) order, with delimiter roll-up
    /// done as in `listObjects` (seek past each common prefix). The scan is a row-value range on the
    /// `uploads_by_key` index.
    func listUploads(_ query: ListUploadsQuery, requester: String) throws -> ListUploadsPage {
        _ = try existingBucket(query.bucket)
        guard (0...MetaLimits.listEntriesMax).contains(query.maxUploads) else {
            throw MetaError.invalidArgument("max-uploads \(query.maxUploads) outside 0...\(MetaLimits.listEntriesMax)")
        }
        var page = ListUploadsPage(
            uploads: [], commonPrefixes: [], isTruncated: false, nextKeyMarker: nil,
            nextUploadIDMarker: nil)
        guard query.maxUploads > 0 else { return page }
        let prefix = Array(query.prefix.utf8)
        let delimiter = Array(query.delimiter.utf8)
        let keyMarker = Array(query.keyMarker.utf8)
        let upper = KeyRange.successor(ofPrefix: prefix)
        var cursor = try startCursor(query, prefix: prefix, keyMarker: keyMarker)
        var entryCount = 0
        var last: (key: [UInt8], uploadID: String?) = ([], nil)
        scan: while true {
            let rows = try uploadRows(
                bucket: query.bucket, prefix: prefix, after: cursor, upper: upper,
                limit: query.maxUploads + 1)
            for row in rows {
                if entryCount == query.maxUploads {
                    page.isTruncated = true
                    break scan
                }
                if let common = KeyRange.commonPrefix(of: row.key, prefixCount: prefix.count, delimiter: delimiter) {
                    if KeyRange.less(keyMarker, common) {
                        page.commonPrefixes.append(String(decoding: common, as: UTF8.self))
                        entryCount += 1
                        last = (common, nil)
                    }
                    guard let next = KeyRange.successor(ofPrefix: common) else { break scan }
                    cursor = UploadCursor(key: next, initiatedTime: .min, uploadID: [])
                    continue scan
                }
                let upload = try RecordBlob.decode(row.record) { reader throws(MetaCodecError) in try reader.readUpload(format: MetaSchema.uploadRecordFormat) }
                page.uploads.append(upload)
                entryCount += 1
                last = (row.key, upload.uploadID)
                cursor = UploadCursor(
                    key: row.key, initiatedTime: row.initiatedTime, uploadID: Array(upload.uploadID.utf8))
            }
            if rows.count < query.maxUploads + 1 { break }
        }
        if page.isTruncated {
            page.nextKeyMarker = String(decoding: last.key, as: UTF8.self)
            page.nextUploadIDMarker = last.uploadID
        }
        return page
    }

    /// A position in (key, initiated time, upload id) order; the scan returns rows strictly after it.
    /// (key, .min, []) sits before every upload of `key`, because upload ids are never empty.
    private struct UploadCursor {
        var key: [UInt8]
        var initiatedTime: Int64
        var uploadID: [UInt8]
    }

    private func startCursor(_ query: ListUploadsQuery, prefix: [UInt8], keyMarker: [UInt8]) throws -> UploadCursor {
        if !query.uploadIDMarker.isEmpty,
            let time = try database.firstRow(
                "SELECT initiated_time FROM uploads WHERE upload_id = ? AND bucket = ? AND key = ?",
                [.string(query.uploadIDMarker), .string(query.bucket), .bytes(keyMarker)], { $0.int64(0) })
        {
            return UploadCursor(key: keyMarker, initiatedTime: time, uploadID: Array(query.uploadIDMarker.utf8))
        }
        if keyMarker.isEmpty { return UploadCursor(key: prefix, initiatedTime: .min, uploadID: []) }
        return UploadCursor(key: KeyRange.immediateSuccessor(of: keyMarker), initiatedTime: .min, uploadID: [])
    }

    private struct UploadRow {
        var key: [UInt8]
        var initiatedTime: Int64
        var record: [UInt8]
    }

    private func uploadRows(bucket: String, prefix: [UInt8], after cursor: UploadCursor, upper: [UInt8]?, limit: Int)
        throws -> [UploadRow]
    {
        let map = { (row: SQLiteRow) in UploadRow(key: row.bytes(0), initiatedTime: row.int64(1), record: row.bytes(2))
        }
        let head =
            "SELECT key, initiated_time, record FROM uploads INDEXED BY uploads_by_key "
            + "WHERE bucket = ? AND key >= ? AND (key, initiated_time, upload_id) > (?, ?, ?) "
        let tail = "ORDER BY key, initiated_time, upload_id LIMIT ?"
        var arguments: [SQLiteValue] = [
            .string(bucket), .bytes(prefix), .bytes(cursor.key), .int(cursor.initiatedTime),
            .bytes(cursor.uploadID),
        ]
        if let upper {
            arguments += [.bytes(upper), .int(Int64(limit))]
            return try database.rows(head + "AND key < ? " + tail, arguments, map)
        }
        arguments.append(.int(Int64(limit)))
        return try database.rows(head + tail, arguments, map)
    }

    /// One page of an upload's parts after `partNumberMarker`. Throws `.noSuchUpload`.
    func listParts(
        bucket: String, key: String, uploadID: String, requester: String, partNumberMarker: Int,
        maxParts: Int
    ) throws -> ListPartsPage {
        _ = try existingBucket(bucket)
        guard let upload = try uploadRecord(bucket: bucket, key: key, uploadID: uploadID) else {
            throw MetaError.noSuchUpload
        }
        guard (0...MetaLimits.listEntriesMax).contains(maxParts) else {
            throw MetaError.invalidArgument("max-parts \(maxParts) outside 0...\(MetaLimits.listEntriesMax)")
        }
        var parts = try database.rows(
            "SELECT record FROM parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?",
            [.string(uploadID), .int(Int64(partNumberMarker)), .int(Int64(maxParts + 1))]
        ) { $0.bytes(0) }
        .map { blob in try RecordBlob.decode(blob) { reader throws(MetaCodecError) in try reader.readPart() } }
        let isTruncated = parts.count > maxParts
        if isTruncated { parts.removeLast() }
        return ListPartsPage(
            upload: upload, parts: parts, isTruncated: isTruncated,
            nextPartNumberMarker: parts.last?.partNumber ?? partNumberMarker)
    }
}

import MetaContract

/// Listings as index range scans on (bucket, key), never `LIKE`.
extension MetaStateMachine {
    /// One page of current objects in byte order of keys, with delimiter roll-up.
    ///
    /// Method: scan `key >= lower AND key < successor(prefix)`; a key holding the delimiter after the prefix
    /// becomes its common prefix, and the scan then seeks to `successor(commonPrefix)` instead of reading the
    /// rolled-up keys. Entries (keys and common prefixes) are returned only if strictly greater than
    /// `startAfter`; truncation is known by finding one more entry.
    func listObjects(_ query: ListObjectsQuery, requester: String) throws -> ListObjectsPage {
        let bucket = try existingBucket(query.bucket)
        guard (0...MetaLimits.listEntriesMax).contains(query.maxKeys) else {
            throw MetaError.invalidArgument("max-keys \(query.maxKeys) outside 0...\(MetaLimits.listEntriesMax)")
        }
        var page = ListObjectsPage(objects: [], commonPrefixes: [], isTruncated: false, nextMarker: nil)
        guard query.maxKeys > 0 else { return page }
        let prefix = Array(query.prefix.utf8)
        let delimiter = Array(query.delimiter.utf8)
        let startAfter = Array(query.startAfter.utf8)
        let upper = KeyRange.successor(ofPrefix: prefix)
        var lower = KeyRange.less(startAfter, prefix) ? prefix : KeyRange.immediateSuccessor(of: startAfter)
        var entryCount = 0
        var lastEntry: [UInt8] = []
        scan: while true {
            let rows = try objectRows(bucket: query.bucket, lower: lower, upper: upper, limit: query.maxKeys + 1)
            for row in rows {
                if entryCount == query.maxKeys {
                    page.isTruncated = true
                    break scan
                }
                if let common = KeyRange.commonPrefix(of: row.key, prefixCount: prefix.count, delimiter: delimiter) {
                    if KeyRange.less(startAfter, common) {
                        page.commonPrefixes.append(String(decoding: common, as: UTF8.self))
                        entryCount += 1
                        lastEntry = common
                    }
                    guard let next = KeyRange.successor(ofPrefix: common) else { break scan }
                    lower = next
                    continue scan
                }
                page.objects.append(
                    ObjectSummary(
                        key: String(decoding: row.key, as: UTF8.self), sizeBytes: row.sizeBytes,
                        etag: row.etag, lastModifiedTime: row.lastModifiedTime,
                        owner: row.owner ?? bucket.owner))
                entryCount += 1
                lastEntry = row.key
                lower = KeyRange.immediateSuccessor(of: row.key)
            }
            if rows.count < query.maxKeys + 1 { break }
        }
        if page.isTruncated { page.nextMarker = String(decoding: lastEntry, as: UTF8.self) }
        return page
    }

    private struct ObjectRow {
        var key: [UInt8]
        var sizeBytes: Int64
        var etag: String
        var lastModifiedTime: Int64
        /// nil: a record from before ACLs, owned by the bucket owner.
        var owner: String?
    }

    private func objectRows(bucket: String, lower: [UInt8], upper: [UInt8]?, limit: Int) throws -> [ObjectRow] {
        let map = { (row: SQLiteRow) in
            ObjectRow(key: row.bytes(0), sizeBytes: row.int64(1), etag: row.string(2), lastModifiedTime: row.int64(3),
                      owner: row.isNull(4) ? nil : row.string(4))
        }
        if let upper {
            return try database.rows(
                "SELECT key, size_bytes, etag, last_modified_time, owner FROM objects "
                    + "WHERE bucket = ? AND key >= ? AND key < ? ORDER BY key LIMIT ?",
                [.string(bucket), .bytes(lower), .bytes(upper), .int(Int64(limit))], map)
        }
        return try database.rows(
            "SELECT key, size_bytes, etag, last_modified_time, owner FROM objects WHERE bucket = ? AND key >= ? ORDER BY key LIMIT ?",
            [.string(bucket), .bytes(lower), .int(Int64(limit))], map)
    }
}

import MetaContract

/// ListObjectVersions: a merge of two index range scans, `objects` (the current object of each key) and
/// `versions` (every other version and delete marker, `seq DESC` within a key), in (key, newest first)
/// order, with the delimiter roll-up of `listObjects` (seek past each common prefix).
extension MetaStateMachine {
    /// Where the scan stands: the next entry is the first one strictly after this position.
    private struct VersionCursor {
        var key: [UInt8]
        /// nil: before every version of `key` (the key itself included).
        /// `.max`: after `key`'s current object, before all its `versions` rows.
        /// `seq`: after `key`'s `versions` row with this seq.
        var belowSeq: Int64?
        /// True: after every version of `key`.
        var pastKey: Bool
    }

    /// One candidate entry of the merge.
    private struct VersionEntry {
        var key: [UInt8]
        var object: ObjectRecord
        /// nil for the current object.
        var seq: Int64?
        var isDeleteMarker: Bool
    }

    func listVersions(_ query: ListVersionsQuery, requester: String) throws -> ListVersionsPage {
        let bucket = try existingBucket(query.bucket)
        guard (0...MetaLimits.listEntriesMax).contains(query.maxKeys) else {
            throw MetaError.invalidArgument("max-keys \(query.maxKeys) outside 0...\(MetaLimits.listEntriesMax)")
        }
        var page = ListVersionsPage(
            versions: [], commonPrefixes: [], isTruncated: false, nextKeyMarker: nil, nextVersionIDMarker: nil,
            owner: bucket.owner)
        guard query.maxKeys > 0 else { return page }
        let prefix = Array(query.prefix.utf8)
        let delimiter = Array(query.delimiter.utf8)
        let keyMarker = Array(query.keyMarker.utf8)
        let upper = KeyRange.successor(ofPrefix: prefix)
        var cursor = try startCursor(query, prefix: prefix, keyMarker: keyMarker)
        var entryCount = 0
        var last: (key: [UInt8], versionID: String?) = ([], nil)
        while let entry = try nextVersionEntry(bucket: query.bucket, after: cursor, upper: upper) {
            if entryCount == query.maxKeys {
                page.isTruncated = true
                break
            }
            if let common = KeyRange.commonPrefix(of: entry.key, prefixCount: prefix.count, delimiter: delimiter) {
                if KeyRange.less(keyMarker, common) {
                    page.commonPrefixes.append(String(decoding: common, as: UTF8.self))
                    entryCount += 1
                    last = (common, nil)
                }
                guard let next = KeyRange.successor(ofPrefix: common) else { break }
                cursor = VersionCursor(key: next, belowSeq: nil, pastKey: false)
                continue
            }
            // The first entry of a key in (key, newest first) order is its latest version: the current object
            // sorts first, and without one the newest `versions` row is the latest (a delete marker).
            let isLatest = entry.seq == nil || cursor.key != entry.key || cursor.belowSeq == nil
            page.versions.append(
                VersionSummary(
                    key: entry.object.key, versionID: entry.object.versionID, isLatest: isLatest,
                    isDeleteMarker: entry.isDeleteMarker, sizeBytes: entry.object.sizeBytes, etag: entry.object.etag,
                    lastModifiedTime: entry.object.lastModifiedTime))
            entryCount += 1
            last = (entry.key, entry.object.versionID)
            cursor = VersionCursor(key: entry.key, belowSeq: entry.seq ?? .max, pastKey: false)
        }
        if page.isTruncated {
            page.nextKeyMarker = String(decoding: last.key, as: UTF8.self)
            page.nextVersionIDMarker = last.versionID
        }
        return page
    }

    /// After the key marker (every version of it), or after the version the version-id marker names. A
    /// version-id marker the key no longer has resumes after the key.
    private func startCursor(_ query: ListVersionsQuery, prefix: [UInt8], keyMarker: [UInt8]) throws -> VersionCursor {
        guard !keyMarker.isEmpty, !KeyRange.less(keyMarker, prefix) else {
            return VersionCursor(key: prefix, belowSeq: nil, pastKey: false)
        }
        if !query.versionIDMarker.isEmpty {
            if let current = try objectRecord(bucket: query.bucket, key: query.keyMarker),
               current.versionID == query.versionIDMarker
            {
                return VersionCursor(key: keyMarker, belowSeq: .max, pastKey: false)
            }
            if let row = try versionRow(bucket: query.bucket, key: query.keyMarker, versionID: query.versionIDMarker) {
                return VersionCursor(key: keyMarker, belowSeq: row.seq, pastKey: false)
            }
        }
        return VersionCursor(key: keyMarker, belowSeq: nil, pastKey: true)
    }

    /// The first entry after `cursor` below `upper`: the smaller of the next current object and the next
    /// `versions` row, the current object first within a key.
    private func nextVersionEntry(bucket: String, after cursor: VersionCursor, upper: [UInt8]?) throws -> VersionEntry? {
        let objectLower = cursor.belowSeq == nil && !cursor.pastKey ? cursor.key : KeyRange.immediateSuccessor(of: cursor.key)
        let current = try firstCurrent(bucket: bucket, lower: objectLower, upper: upper)
        var version: VersionEntry?
        if let below = cursor.belowSeq, !cursor.pastKey {
            version = try firstVersion(bucket: bucket, key: cursor.key, belowSeq: below)
        }
        if version == nil {
            let lower = cursor.pastKey || cursor.belowSeq != nil ? KeyRange.immediateSuccessor(of: cursor.key) : cursor.key
            version = try firstVersion(bucket: bucket, lower: lower, upper: upper)
        }
        switch (current, version) {
        case (nil, nil): return nil
        case (let current?, nil): return current
        case (nil, let version?): return version
        case (let current?, let version?):
            return KeyRange.less(version.key, current.key) ? version : current
        }
    }

    private func firstCurrent(bucket: String, lower: [UInt8], upper: [UInt8]?) throws -> VersionEntry? {
        let head = "SELECT key, record FROM objects WHERE bucket = ? AND key >= ? "
        let row: ([UInt8], [UInt8])?
        if let upper {
            row = try database.firstRow(head + "AND key < ? ORDER BY key LIMIT 1",
                                        [.string(bucket), .bytes(lower), .bytes(upper)]) { ($0.bytes(0), $0.bytes(1)) }
        } else {
            row = try database.firstRow(head + "ORDER BY key LIMIT 1", [.string(bucket), .bytes(lower)]) {
                ($0.bytes(0), $0.bytes(1))
            }
        }
        guard let row else { return nil }
        let object = try RecordBlob.decode(row.1) { reader throws(MetaCodecError) in
            try reader.readObject(format: RecordFormat.object)
        }
        return VersionEntry(key: row.0, object: object, seq: nil, isDeleteMarker: false)
    }

    private func firstVersion(bucket: String, key: [UInt8], belowSeq: Int64) throws -> VersionEntry? {
        guard let row = try database.firstRow(
            "SELECT seq, is_delete_marker, record FROM versions WHERE bucket = ? AND key = ? AND seq < ? "
                + "ORDER BY seq DESC LIMIT 1",
            [.string(bucket), .bytes(key), .int(belowSeq)], { ($0.int64(0), $0.int64(1), $0.bytes(2)) })
        else { return nil }
        let decoded = try decodeVersionRow(seq: row.0, marker: row.1, record: row.2)
        return VersionEntry(key: key, object: decoded.object, seq: decoded.seq, isDeleteMarker: decoded.isDeleteMarker)
    }

    private func firstVersion(bucket: String, lower: [UInt8], upper: [UInt8]?) throws -> VersionEntry? {
        let head = "SELECT key, seq, is_delete_marker, record FROM versions WHERE bucket = ? AND key >= ? "
        let tail = "ORDER BY key, seq DESC LIMIT 1"
        let map = { (row: SQLiteRow) in (row.bytes(0), row.int64(1), row.int64(2), row.bytes(3)) }
        let row: ([UInt8], Int64, Int64, [UInt8])?
        if let upper {
            row = try database.firstRow(head + "AND key < ? " + tail, [.string(bucket), .bytes(lower), .bytes(upper)], map)
        } else {
            row = try database.firstRow(head + tail, [.string(bucket), .bytes(lower)], map)
        }
        guard let row else { return nil }
        let decoded = try decodeVersionRow(seq: row.1, marker: row.2, record: row.3)
        return VersionEntry(key: row.0, object: decoded.object, seq: decoded.seq, isDeleteMarker: decoded.isDeleteMarker)
    }
}

import MetaContract

/// Tagging and CORS. Object tags live in their version's record (`ObjectRecord.storedTags`); bucket tags
/// and CORS in `buckets` columns (schema 7). Which version a tagging command changes is decided here, at
/// apply time: the version named, or the key's current version as the log orders it, never one a proposer
/// read earlier. Texts were validated by the proposer and are stored as sent.
extension MetaStateMachine {
    /// A `buckets` column holding optional text: what `setBucketTagging` and `setBucketCORS` change.
    enum BucketTextColumn: String {
        case tags
        case cors
        /// Schema 13.
        case lifecycle

        /// What deleting or reading a missing value answers.
        var missing: MetaError {
            switch self {
            case .tags: .noSuchTagSet
            case .cors: .noSuchCORSConfiguration
            case .lifecycle: .noSuchLifecycleConfiguration
            }
        }
    }

    /// Why a tagging command authorized on a version with stamp `expected` must not take effect: the version it
    /// would change has another stamp now (`.objectAccessChanged`). Nil when it has none to check, when the
    /// stamp still holds, or when there is no such version (the command itself then answers why).
    func staleObjectAccess(of command: MetaCommand) throws -> MetaError? {
        guard case .putObjectTagging(_, let bucket, let key, let versionID, _, let expected?) = command,
              try bucketRecord(bucket) != nil
        else { return nil }
        let found: ObjectRecord?
        if let current = try objectRecord(bucket: bucket, key: key), versionID == nil || current.versionID == versionID {
            found = current
        } else if let versionID, let row = try versionRow(bucket: bucket, key: key, versionID: versionID),
                  !row.isDeleteMarker {
            found = row.object
        } else {
            found = nil
        }
        guard let found else { return nil }
        return found.accessStamp == expected ? nil : .objectAccessChanged
    }

    /// Replaces (or, with nil, removes) the tag set of one version and returns that version's id. With no
    /// `versionID` the current version is tagged (`.noSuchKey` if the key has none: no version, or a delete
    /// marker latest); a named version must exist (`.noSuchVersion`) and be no delete marker
    /// (`.versionIsDeleteMarker`).
    func applyPutObjectTagging(bucket: String, key: String, versionID: String?, tags: String?) throws -> String {
        _ = try existingBucket(bucket)
        if var current = try objectRecord(bucket: bucket, key: key), versionID == nil || current.versionID == versionID {
            current.setStoredTags(tags)
            let changed = try database.run(
                "UPDATE objects SET record = ? WHERE bucket = ? AND key = ?",
                [.bytes(RecordBlob.encode { $0.write(current) }), .string(bucket), .string(key)])
            precondition(changed == 1, "tagging \(bucket)/\(key) changed \(changed) current rows")
            return current.versionID
        }
        guard let versionID else { throw MetaError.noSuchKey }
        guard var row = try versionRow(bucket: bucket, key: key, versionID: versionID) else {
            throw MetaError.noSuchVersion
        }
        guard !row.isDeleteMarker else { throw MetaError.versionIsDeleteMarker }
        row.object.setStoredTags(tags)
        let changed = try database.run(
            "UPDATE versions SET record = ? WHERE bucket = ? AND key = ? AND seq = ?",
            [.bytes(RecordBlob.encode { $0.write(row.object) }), .string(bucket), .string(key), .int(row.seq)])
        precondition(changed == 1, "tagging \(bucket)/\(key)#\(row.seq) changed \(changed) version rows")
        return versionID
    }

    /// Sets or (nil) clears a bucket's tags or CORS configuration; clearing what is not there is refused
    /// with the column's `missing` error (the Gateway answers 204 anyway, as S3 does).
    func applySetBucketColumn(_ column: BucketTextColumn, bucket: String, value: String?) throws {
        let previous = try bucketText(column, bucket: bucket)
        if value == nil && previous == nil { throw column.missing }
        try database.run("UPDATE buckets SET \(column.rawValue) = ? WHERE name = ?",
                         [value.map { .string($0) } ?? .null, .string(bucket)])
    }

    /// A bucket's tags or CORS configuration, nil when it has none. Throws `.noSuchBucket`.
    func bucketText(_ column: BucketTextColumn, bucket: String) throws -> String? {
        guard let value = try database.firstRow(
            "SELECT \(column.rawValue) FROM buckets WHERE name = ?", [.string(bucket)],
            { $0.isNull(0) ? nil : $0.string(0) })
        else { throw MetaError.noSuchBucket }
        return value
    }
}

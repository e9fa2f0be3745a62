import CSQLite
import MetaContract

/// Versions, delete markers and the `null` version, always inside the applying transaction.
///
/// Layout (see `MetaSchema.versionStatements`): the current object of a key is its `objects` row; every other
/// version and delete marker is a `versions` row, newest first by `seq`. Every change here keeps the two
/// invariants of that layout: an `objects` row is newer than every `versions` row of its key, and without
/// one the newest `versions` row (if any) is a delete marker. Noncurrent versions keep their chunk
/// references and stay counted in `bucket_usage` (S3 bills them); their chunks become garbage only when the
/// version itself is removed.
extension MetaStateMachine {
    /// A `versions` row.
    struct VersionRow {
        var seq: Int64
        var object: ObjectRecord
        var isDeleteMarker: Bool
    }

    func bucketVersioning(_ bucket: String) throws -> BucketVersioning {
        guard let raw = try database.firstRow("SELECT versioning FROM buckets WHERE name = ?", [.string(bucket)], {
            $0.int64(0)
        }) else { throw MetaError.noSuchBucket }
        guard let value = UInt8(exactly: raw), let state = BucketVersioning(rawValue: value) else {
            throw SQLiteError(code: SQLITE_CORRUPT, message: "bucket \(bucket) has versioning state \(raw)")
        }
        return state
    }

    func applySetBucketVersioning(bucket: String, state: BucketVersioning, envelope: CommandEnvelope) throws {
        _ = try existingBucket(bucket)
        guard state != .unversioned else {
            throw MetaError.invalidArgument("a bucket's versioning can be enabled or suspended, never removed")
        }
        if state == .suspended, try objectLockConfiguration(bucket) != nil {
            throw MetaError.invalidBucketState(
                "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.")
        }
        try database.run("UPDATE buckets SET versioning = ? WHERE name = ?", [.int(Int64(state.rawValue)), .string(bucket)])
    }

    // MARK: Rows

    private static let versionColumns = "seq, is_delete_marker, record"

    /// The newest `versions` row of a key.
    func newestVersionRow(bucket: String, key: String) throws -> VersionRow? {
        guard let row = try database.firstRow(
            "SELECT \(Self.versionColumns) FROM versions WHERE bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1",
            [.string(bucket), .string(key)], { ($0.int64(0), $0.int64(1), $0.bytes(2)) })
        else { return nil }
        return try decodeVersionRow(seq: row.0, marker: row.1, record: row.2)
    }

    /// The `versions` row of a key with this version id.
    func versionRow(bucket: String, key: String, versionID: String) throws -> VersionRow? {
        guard let row = try database.firstRow(
            "SELECT \(Self.versionColumns) FROM versions INDEXED BY versions_by_id "
                + "WHERE bucket = ? AND key = ? AND version_id = ?",
            [.string(bucket), .string(key), .string(versionID)], { ($0.int64(0), $0.int64(1), $0.bytes(2)) })
        else { return nil }
        return try decodeVersionRow(seq: row.0, marker: row.1, record: row.2)
    }

    func decodeVersionRow(seq: Int64, marker: Int64, record: [UInt8]) throws -> VersionRow {
        let object = try RecordBlob.decode(record) { reader throws(MetaCodecError) in
            try reader.readObject(format: RecordFormat.object)
        }
        return VersionRow(seq: seq, object: object, isDeleteMarker: marker != 0)
    }

    /// Adds a `versions` row newer than every row of its key (the next `version_seq`).
    private func insertVersionRow(_ object: ObjectRecord, isDeleteMarker: Bool) throws {
        guard let seq = try database.firstRow(
            "UPDATE meta SET value = value + 1 WHERE name = 'version_seq' RETURNING value", [], { $0.int64(0) })
        else { throw SQLiteError(code: SQLITE_CORRUPT, message: "meta row version_seq missing in \(path)") }
        try database.run(
            """
            INSERT INTO versions(bucket, key, seq, version_id, is_delete_marker, size_bytes, etag,
                last_modified_time, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .string(object.bucket), .string(object.key), .int(seq), .string(object.versionID),
                .int(isDeleteMarker ? 1 : 0), .int(object.sizeBytes), .string(object.etag),
                .int(object.lastModifiedTime), .bytes(RecordBlob.encode { $0.write(object) }),
            ])
    }

    private func deleteVersionRow(bucket: String, key: String, seq: Int64) throws {
        let deleted = try database.run(
            "DELETE FROM versions WHERE bucket = ? AND key = ? AND seq = ?", [.string(bucket), .string(key), .int(seq)])
        precondition(deleted == 1, "versions row \(bucket)/\(key)#\(seq) deleted \(deleted) rows")
    }

    private func writeCurrent(_ object: ObjectRecord, completedUpload: String? = nil) throws {
        try database.run(
            """
            INSERT OR REPLACE INTO objects(bucket, key, size_bytes, etag, last_modified_time, record, completed_upload,
                owner)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .string(object.bucket), .string(object.key), .int(object.sizeBytes), .string(object.etag),
                .int(object.lastModifiedTime), .bytes(RecordBlob.encode { $0.write(object) }),
                completedUpload.map { .string($0) } ?? .null, object.owner.map { .string($0) } ?? .null,
            ])
    }

    /// The upload whose completion made the current `null` version of a key, if one did.
    func completedUpload(bucket: String, key: String) throws -> String? {
        try database.firstRow(
            "SELECT completed_upload FROM objects WHERE bucket = ? AND key = ?", [.string(bucket), .string(key)]
        ) { $0.isNull(0) ? nil : $0.string(0) } ?? nil
    }

    private func deleteCurrent(bucket: String, key: String) throws {
        let deleted = try database.run("DELETE FROM objects WHERE bucket = ? AND key = ?", [.string(bucket), .string(key)])
        precondition(deleted == 1, "current version of \(bucket)/\(key) deleted \(deleted) rows")
    }

    /// Restores the layout's second invariant after a version was removed: a key without a current object
    /// whose newest version is an object gets that version back as current.
    private func promoteNewestIfObject(bucket: String, key: String) throws {
        guard try objectRecord(bucket: bucket, key: key) == nil,
              let newest = try newestVersionRow(bucket: bucket, key: key), !newest.isDeleteMarker
        else { return }
        try deleteVersionRow(bucket: bucket, key: key, seq: newest.seq)
        try writeCurrent(newest.object)
    }

    /// A version some write is about to remove for good (the `null` version it replaces).
    private struct Removal {
        var object: ObjectRecord
        /// Its `versions` row, nil when it is the current object.
        var seq: Int64?
        var isDeleteMarker: Bool
    }

    /// The `null` version of a key, wherever it is.
    private func nullVersion(bucket: String, key: String, current: ObjectRecord?) throws -> Removal? {
        if let current, current.versionID == nullVersionID {
            return Removal(object: current, seq: nil, isDeleteMarker: false)
        }
        guard let row = try versionRow(bucket: bucket, key: key, versionID: nullVersionID) else { return nil }
        return Removal(object: row.object, seq: row.seq, isDeleteMarker: row.isDeleteMarker)
    }

    /// Refuses a proposer-chosen version id the key already has (128 random bits make that a proposer bug).
    private func checkFresh(versionID: String, bucket: String, key: String, current: ObjectRecord?) throws {
        guard !versionID.isEmpty, versionID != nullVersionID else {
            throw MetaError.internalFault("version id \"\(versionID)\" proposed for a versioned write")
        }
        let taken = try versionRow(bucket: bucket, key: key, versionID: versionID) != nil
        if current?.versionID == versionID || taken {
            throw MetaError.internalFault("version id \(versionID) of \(bucket)/\(key) is in use")
        }
    }

    // MARK: Writes

    /// The version id a write takes in a bucket with this versioning state.
    static func storedVersionID(proposed: String, versioning: BucketVersioning) -> String {
        versioning == .enabled ? proposed : nullVersionID
    }

    /// Makes `object` (its version id already the stored one) the current version of its key. Enabled: the
    /// previous current object becomes noncurrent. Otherwise the `null` version, wherever it is, is removed
    /// (its chunks lose their references) and a non-null current object becomes noncurrent. The bucket's
    /// usage follows; with `checkQuota`, growth past a quota (less `quotaCreditBytes` the same command frees
    /// afterwards) is refused before anything changes.
    func storeNewVersion(_ object: ObjectRecord, current: ObjectRecord?, versioning: BucketVersioning, time: Int64,
                         checkQuota: Bool, quotaCreditBytes: Int64 = 0, completedUpload: String? = nil) throws {
        var removal: Removal?
        if versioning == .enabled {
            try checkFresh(versionID: object.versionID, bucket: object.bucket, key: object.key, current: current)
        } else {
            precondition(object.versionID == nullVersionID, "a \(versioning) write stores version \(object.versionID)")
            removal = try nullVersion(bucket: object.bucket, key: object.key, current: current)
        }
        let removedObject = removal.map { !$0.isDeleteMarker } ?? false
        let bytes = object.sizeBytes - (removedObject ? removal!.object.sizeBytes : 0)
        let objects: Int64 = removedObject ? 0 : 1
        if checkQuota { try self.checkQuota(bucket: object.bucket, bytes: bytes - quotaCreditBytes, objects: objects) }
        try adjustUsage(bucket: object.bucket, bytes: bytes, objects: objects, check: false)
        try reference(object.chunks)
        if let removal, let seq = removal.seq {
            try deleteVersionRow(bucket: object.bucket, key: object.key, seq: seq)
        }
        if let current, removal == nil || removal?.seq != nil {
            try insertVersionRow(current, isDeleteMarker: false)
        }
        try writeCurrent(object, completedUpload: object.versionID == nullVersionID ? completedUpload : nil)
        if let removal { try release(removal.object.chunks, time: time) }
    }

    // MARK: Deletes

    /// A target naming a locked version (`ObjectRecord.deletionRefusal`) is refused alone: its outcome
    /// carries the refusal and the other targets still take effect.
    func applyDeleteVersions(bucket: String, targets: [DeleteTarget], envelope: CommandEnvelope,
                             bypassGovernance: Bool = false) throws -> [DeleteOutcome]
    {
        _ = try existingBucket(bucket)
        let versioning = try bucketVersioning(bucket)
        var outcomes: [DeleteOutcome] = []
        outcomes.reserveCapacity(targets.count)
        for target in targets {
            if let versionID = target.versionID {
                if let refusal = try lockRefusal(bucket: bucket, key: target.key, versionID: versionID,
                                                 time: envelope.time, bypassGovernance: bypassGovernance) {
                    outcomes.append(DeleteOutcome(versionID: versionID, isDeleteMarker: false, removedCurrent: false,
                                                  refusal: refusal))
                    continue
                }
                outcomes.append(try deleteVersion(bucket: bucket, key: target.key, versionID: versionID, time: envelope.time))
            } else if versioning == .unversioned {
                outcomes.append(try deleteNullCurrent(bucket: bucket, key: target.key, time: envelope.time))
            } else {
                let markerID = Self.storedVersionID(proposed: target.markerVersionID, versioning: versioning)
                outcomes.append(
                    try makeDeleteMarker(bucket: bucket, key: target.key, versionID: markerID, versioning: versioning,
                                         time: envelope.time))
            }
        }
        return outcomes
    }

    /// Format 1/2 `deleteObjects`: targets without version ids, marker ids derived from the command id.
    func applyDeleteObjects(bucket: String, keys: [String], envelope: CommandEnvelope) throws -> [Bool] {
        let targets = keys.enumerated().map { position, key in
            DeleteTarget(key: key, versionID: nil,
                         markerVersionID: MetaCommand.derivedVersionID(commandID: envelope.commandID, position: position))
        }
        return try applyDeleteVersions(bucket: bucket, targets: targets, envelope: envelope).map(\.removedCurrent)
    }

    /// Why the version `versionID` of a key may not be deleted at `time` (its legal hold or retention), nil
    /// when it may or does not exist.
    private func lockRefusal(bucket: String, key: String, versionID: String, time: Int64,
                             bypassGovernance: Bool) throws -> MetaError? {
        let version: ObjectRecord?
        if let current = try objectRecord(bucket: bucket, key: key), current.versionID == versionID {
            version = current
        } else if let row = try versionRow(bucket: bucket, key: key, versionID: versionID), !row.isDeleteMarker {
            version = row.object
        } else {
            version = nil
        }
        return version?.deletionRefusal(at: time, bypassGovernance: bypassGovernance)
    }

    /// A plain delete in a bucket whose versioning was never enabled: the current (`null`) object goes.
    private func deleteNullCurrent(bucket: String, key: String, time: Int64) throws -> DeleteOutcome {
        guard let current = try objectRecord(bucket: bucket, key: key) else {
            return DeleteOutcome(versionID: nil, isDeleteMarker: false, removedCurrent: false)
        }
        try removeCurrent(current, time: time)
        return DeleteOutcome(versionID: nil, isDeleteMarker: false, removedCurrent: true)
    }

    private func removeCurrent(_ current: ObjectRecord, time: Int64) throws {
        try deleteCurrent(bucket: current.bucket, key: current.key)
        try adjustUsage(bucket: current.bucket, bytes: -current.sizeBytes, objects: -1, check: false)
        try release(current.chunks, time: time)
    }

    /// A delete without a version id in a versioned (Enabled or Suspended) bucket: the current object becomes
    /// noncurrent, or, under suspension, goes if it is the `null` version (as does a noncurrent `null`
    /// version), and a delete marker with `versionID` becomes the latest version. S3 makes the marker even
    /// when the key has no version at all.
    private func makeDeleteMarker(bucket: String, key: String, versionID: String, versioning: BucketVersioning,
                                  time: Int64) throws -> DeleteOutcome {
        let current = try objectRecord(bucket: bucket, key: key)
        if versioning == .enabled {
            try checkFresh(versionID: versionID, bucket: bucket, key: key, current: current)
        } else if let removal = try nullVersion(bucket: bucket, key: key, current: current) {
            if let seq = removal.seq {
                try deleteVersionRow(bucket: bucket, key: key, seq: seq)
                if !removal.isDeleteMarker {
                    try adjustUsage(bucket: bucket, bytes: -removal.object.sizeBytes, objects: -1, check: false)
                    try release(removal.object.chunks, time: time)
                }
            } else {
                try removeCurrent(removal.object, time: time)
            }
        }
        if let current, current.versionID != nullVersionID || versioning == .enabled {
            try deleteCurrent(bucket: bucket, key: key)
            try insertVersionRow(current, isDeleteMarker: false)
        }
        let marker = ObjectRecord(
            bucket: bucket, key: key, versionID: versionID, sizeBytes: 0, etag: "", lastModifiedTime: time,
            headers: [], userMetadata: [], checksum: nil, chunks: [], partSizes: [])
        try insertVersionRow(marker, isDeleteMarker: true)
        return DeleteOutcome(versionID: versionID, isDeleteMarker: true, removedCurrent: current != nil)
    }

    /// Removes exactly one version (a missing one is no error, as in S3); if it was the latest, the next
    /// newer version becomes current when it is an object.
    private func deleteVersion(bucket: String, key: String, versionID: String, time: Int64) throws -> DeleteOutcome {
        if let current = try objectRecord(bucket: bucket, key: key), current.versionID == versionID {
            try removeCurrent(current, time: time)
            try promoteNewestIfObject(bucket: bucket, key: key)
            return DeleteOutcome(versionID: versionID, isDeleteMarker: false, removedCurrent: true)
        }
        guard let row = try versionRow(bucket: bucket, key: key, versionID: versionID) else {
            return DeleteOutcome(versionID: versionID, isDeleteMarker: false, removedCurrent: false)
        }
        try deleteVersionRow(bucket: bucket, key: key, seq: row.seq)
        if !row.isDeleteMarker {
            try adjustUsage(bucket: bucket, bytes: -row.object.sizeBytes, objects: -1, check: false)
            try release(row.object.chunks, time: time)
        }
        try promoteNewestIfObject(bucket: bucket, key: key)
        return DeleteOutcome(versionID: versionID, isDeleteMarker: row.isDeleteMarker, removedCurrent: false)
    }

    // MARK: Reads

    /// The latest version of a key (`versionID` nil) or the named one, with whether it is a delete marker
    /// and whether it is the latest.
    func objectVersion(bucket: String, key: String, versionID: String?, requester: String) throws -> ObjectVersion? {
        _ = try existingBucket(bucket)
        let current = try objectRecord(bucket: bucket, key: key)
        if let current, versionID == nil || current.versionID == versionID {
            return ObjectVersion(object: current, isDeleteMarker: false, isLatest: true)
        }
        let newest = try newestVersionRow(bucket: bucket, key: key)
        guard let versionID else {
            guard let newest else { return nil }
            precondition(newest.isDeleteMarker, "\(bucket)/\(key) has no current object and its newest version is one")
            return ObjectVersion(object: newest.object, isDeleteMarker: true, isLatest: true)
        }
        guard let row = try versionRow(bucket: bucket, key: key, versionID: versionID) else { return nil }
        return ObjectVersion(object: row.object, isDeleteMarker: row.isDeleteMarker,
                             isLatest: current == nil && newest?.seq == row.seq)
    }

    func bucketVersioning(_ bucket: String, requester: String) throws -> BucketVersioning {
        _ = try existingBucket(bucket)
        return try bucketVersioning(bucket)
    }
}

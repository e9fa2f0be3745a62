import MetaContract

/// Object lock, always inside the applying transaction. A bucket's configuration lives in
/// `buckets.object_lock` (schema 11); a version's retention and legal hold in its record
/// (`ObjectRecord.retention`, `.legalHold`). Everything the lock forbids is decided here, against the
/// command's time (the leader's clock), so that two gateways racing a delete and a retention change get
/// the answer of the order the log gives them.
extension MetaStateMachine {
    /// The bucket's object lock configuration, nil when it has none. Throws `.noSuchBucket`.
    func objectLockConfiguration(_ bucket: String) throws -> ObjectLockConfiguration? {
        guard let blob = try database.firstRow(
            "SELECT object_lock FROM buckets WHERE name = ?", [.string(bucket)], { $0.isNull(0) ? nil : $0.bytes(0) })
        else { throw MetaError.noSuchBucket }
        guard let blob else { return nil }
        let configuration = try RecordBlob.decode(blob) { reader throws(MetaCodecError) in
            try reader.readObjectLockConfiguration()
        }
        assert(configuration != nil, "bucket \(bucket) stores an absent object lock configuration")
        return configuration
    }

    private func storeObjectLock(_ configuration: ObjectLockConfiguration, bucket: String) throws {
        try database.run("UPDATE buckets SET object_lock = ? WHERE name = ?",
                         [.bytes(RecordBlob.encode { $0.write(Optional(configuration)) }), .string(bucket)])
    }

    /// A bucket just created with object lock: versioning Enabled and the configuration stored.
    func applyCreateBucketLock(bucket: String, configuration: ObjectLockConfiguration) throws {
        try database.run("UPDATE buckets SET versioning = ? WHERE name = ?",
                         [.int(Int64(BucketVersioning.enabled.rawValue)), .string(bucket)])
        try storeObjectLock(configuration, bucket: bucket)
    }

    /// PutObjectLockConfiguration: replaces the default retention of a bucket with object lock, or enables
    /// object lock on one whose versioning is Enabled (as S3 allows); any other bucket is refused with
    /// `.invalidBucketState`.
    func applySetObjectLockConfiguration(bucket: String, configuration: ObjectLockConfiguration) throws {
        if try objectLockConfiguration(bucket) == nil, try bucketVersioning(bucket) != .enabled {
            throw MetaError.invalidBucketState(
                "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration")
        }
        try storeObjectLock(configuration, bucket: bucket)
    }

    /// What a new version of `object` stores of the object lock, at `time`: the settings it asks for, or
    /// the bucket's default retention when it asks for none. Lock settings in a bucket without object lock
    /// are refused (`.objectLockNotEnabled`).
    func lockedForWrite(_ object: ObjectRecord, time: Int64) throws -> ObjectRecord {
        guard let configuration = try objectLockConfiguration(object.bucket) else {
            if object.hasLockSettings { throw MetaError.objectLockNotEnabled }
            return object
        }
        var object = object
        if object.retention == nil, let rule = configuration.defaultRetention {
            object.retention = ObjectRetention(mode: rule.mode, retainUntil: rule.retainUntil(from: time))
        }
        return object
    }

    /// Refuses an upload that asks for lock settings in a bucket without object lock, at its start, as S3
    /// does (its completion would be refused anyway).
    func checkLockSettings(_ upload: UploadRecord) throws {
        let asks = upload.headers.contains { ObjectRecord.isLockHeaderName($0.name) }
        if asks, try objectLockConfiguration(upload.bucket) == nil { throw MetaError.objectLockNotEnabled }
    }

    /// Sets (or, with nil, removes) the retention of the version named, or of the current version, and
    /// returns its id. A retention that holds at the command's time may only be kept or extended in its
    /// mode; anything else (shortening, removing, changing the mode) is refused with `.objectLocked`, unless
    /// it is GOVERNANCE and `bypassGovernance`. COMPLIANCE holds against everyone.
    func applyPutObjectRetention(bucket: String, key: String, versionID: String?, retention: ObjectRetention?,
                                 bypassGovernance: Bool, time: Int64) throws -> String {
        try changeLockedVersion(bucket: bucket, key: key, versionID: versionID) { object in
            if let existing = object.retention, existing.holds(at: time) {
                let kept = retention.map { $0.mode == existing.mode && $0.retainUntil >= existing.retainUntil } ?? false
                switch existing.mode {
                case .compliance where !kept:
                    throw MetaError.objectLocked("a COMPLIANCE retention cannot be shortened, removed or changed")
                case .governance where !kept && !bypassGovernance:
                    throw MetaError.objectLocked(
                        "a GOVERNANCE retention can be shortened, removed or changed only with the bypass header")
                default:
                    break
                }
            }
            object.retention = retention
        }
    }

    /// Sets the legal hold of the version named, or of the current version, and returns its id.
    func applyPutObjectLegalHold(bucket: String, key: String, versionID: String?, legalHold: Bool) throws -> String {
        try changeLockedVersion(bucket: bucket, key: key, versionID: versionID) { $0.legalHold = legalHold }
    }

    /// Applies `change` to one version of a key in a bucket with object lock and stores it: the version
    /// named, or the current one (`.noSuchKey` without one); a named version must exist (`.noSuchVersion`)
    /// and be no delete marker (`.versionIsDeleteMarker`). Returns the version's id.
    private func changeLockedVersion(bucket: String, key: String, versionID: String?,
                                     _ change: (inout ObjectRecord) throws -> Void) throws -> String {
        guard try objectLockConfiguration(bucket) != nil else { throw MetaError.objectLockNotEnabled }
        if var current = try objectRecord(bucket: bucket, key: key), versionID == nil || current.versionID == versionID {
            try change(&current)
            let changed = try database.run(
                "UPDATE objects SET record = ? WHERE bucket = ? AND key = ?",
                [.bytes(RecordBlob.encode { $0.write(current) }), .string(bucket), .string(key)])
            precondition(changed == 1, "locking \(bucket)/\(key) changed \(changed) current rows")
            return current.versionID
        }
        guard let versionID else { throw MetaError.noSuchKey }
        guard var row = try versionRow(bucket: bucket, key: key, versionID: versionID) else {
            throw MetaError.noSuchVersion
        }
        guard !row.isDeleteMarker else { throw MetaError.versionIsDeleteMarker }
        try change(&row.object)
        let changed = try database.run(
            "UPDATE versions SET record = ? WHERE bucket = ? AND key = ? AND seq = ?",
            [.bytes(RecordBlob.encode { $0.write(row.object) }), .string(bucket), .string(key), .int(row.seq)])
        precondition(changed == 1, "locking \(bucket)/\(key)#\(row.seq) changed \(changed) version rows")
        return versionID
    }
}

import MetaContract

/// Usage accounting and quotas, decided at apply time like every other precondition.
///
/// Invariant: `bucket_usage` holds, per bucket, the sizes of its object versions (current and noncurrent:
/// S3 bills both; delete markers count nothing) plus the parts of its open uploads, and the count of its
/// object versions. Every place that adds or removes an object or a
/// part calls `adjustUsage` in the same command, so the counters can never drift from the rows.
extension MetaStateMachine {
    static func quotaScope(bucket: String) -> String { "bucket:" + bucket }
    static func quotaScope(userID: String) -> String { "user:" + userID }

    func quota(scope: String) throws -> Quota? {
        try database.firstRow("SELECT bytes_max, objects_max FROM quotas WHERE scope = ?", [.string(scope)]) { row in
            Quota(bytesMax: row.isNull(0) ? nil : row.int64(0), objectsMax: row.isNull(1) ? nil : row.int64(1))
        }
    }

    func bucketUsage(_ bucket: String) throws -> (bytes: Int64, objects: Int64) {
        try database.firstRow("SELECT bytes, objects FROM bucket_usage WHERE bucket = ?", [.string(bucket)]) { row in
            (row.int64(0), row.int64(1))
        } ?? (0, 0)
    }

    /// The sum over every bucket `ownerID` owns (an index range scan of `buckets_by_owner`).
    func ownerUsage(_ ownerID: String) throws -> (bytes: Int64, objects: Int64) {
        try database.firstRow(
            """
            SELECT COALESCE(SUM(bucket_usage.bytes), 0), COALESCE(SUM(bucket_usage.objects), 0)
            FROM buckets INDEXED BY buckets_by_owner JOIN bucket_usage ON bucket_usage.bucket = buckets.name
            WHERE buckets.owner = ?
            """, [.string(ownerID)]
        ) { row in (row.int64(0), row.int64(1)) } ?? (0, 0)
    }

    /// Adds `bytes` and `objects` (either may be negative) to `bucket`'s usage. With `check`, growth past
    /// the bucket's or its owner's quota is refused with `.quotaExceeded` first.
    func adjustUsage(bucket: String, bytes: Int64, objects: Int64, check: Bool) throws {
        if bytes == 0 && objects == 0 { return }
        if check { try checkQuota(bucket: bucket, bytes: bytes, objects: objects) }
        let current = try bucketUsage(bucket)
        let newBytes = current.bytes + bytes
        let newObjects = current.objects + objects
        precondition(newBytes >= 0 && newObjects >= 0,
                     "usage of \(bucket) would go negative: \(current) + (\(bytes), \(objects))")
        try database.run(
            """
            INSERT INTO bucket_usage(bucket, bytes, objects) VALUES (?, ?, ?)
            ON CONFLICT(bucket) DO UPDATE SET bytes = excluded.bytes, objects = excluded.objects
            """, [.string(bucket), .int(newBytes), .int(newObjects)])
    }

    /// Refuses growth by (`bytes`, `objects`) that would take `bucket` or its owner past a quota. Usage
    /// already past a lowered quota may shrink, and a change that does not grow is never refused.
    func checkQuota(bucket: String, bytes: Int64, objects: Int64) throws {
        guard bytes > 0 || objects > 0 else { return }
        func exceeds(_ usage: (bytes: Int64, objects: Int64), _ quota: Quota) -> String? {
            if bytes > 0, let max = quota.bytesMax, usage.bytes + bytes > max { return "\(max) bytes" }
            if objects > 0, let max = quota.objectsMax, usage.objects + objects > max { return "\(max) objects" }
            return nil
        }
        if let quota = try quota(scope: Self.quotaScope(bucket: bucket)),
           let limit = exceeds(try bucketUsage(bucket), quota)
        {
            throw MetaError.quotaExceeded("bucket \(bucket) is limited to \(limit)")
        }
        guard let owner = try bucketRecord(bucket)?.owner else { return }
        if let quota = try quota(scope: Self.quotaScope(userID: owner)),
           let limit = exceeds(try ownerUsage(owner), quota)
        {
            throw MetaError.quotaExceeded("the bucket's owner is limited to \(limit)")
        }
    }

    func applySetQuota(_ quota: Quota, for target: QuotaTarget) throws {
        let scope = try quotaScope(of: target)
        if quota.bytesMax == nil && quota.objectsMax == nil {
            try database.run("DELETE FROM quotas WHERE scope = ?", [.string(scope)])
            return
        }
        guard (quota.bytesMax ?? 0) >= 0, (quota.objectsMax ?? 0) >= 0 else {
            throw MetaError.invalidArgument("quota limits must not be negative")
        }
        try database.run(
            """
            INSERT INTO quotas(scope, bytes_max, objects_max) VALUES (?, ?, ?)
            ON CONFLICT(scope) DO UPDATE SET bytes_max = excluded.bytes_max, objects_max = excluded.objects_max
            """, [.string(scope), quota.bytesMax.map { .int($0) } ?? .null, quota.objectsMax.map { .int($0) } ?? .null])
    }

    /// The `quotas.scope` of a target; throws `.noSuchBucket` / `.noSuchUser` for an unknown one.
    func quotaScope(of target: QuotaTarget) throws -> String {
        switch target {
        case .bucket(let name):
            guard try bucketRecord(name) != nil else { throw MetaError.noSuchBucket }
            return Self.quotaScope(bucket: name)
        case .user(let name):
            guard let id = try userID(name: name) else { throw MetaError.noSuchUser }
            return Self.quotaScope(userID: id)
        }
    }

    func userID(name: String) throws -> String? {
        guard let blob = try database.firstRow("SELECT record FROM users WHERE name = ?", [.string(name)], { $0.bytes(0) })
        else { return nil }
        return try RecordBlob.decode(blob) { reader throws(MetaCodecError) in
            try reader.readUser(format: MetaSchema.userRecordFormat)
        }.id
    }

    /// What `target` stores and its quota (a read).
    func usageReport(_ target: QuotaTarget) throws -> UsageReport {
        let scope = try quotaScope(of: target)
        let usage: (bytes: Int64, objects: Int64)
        switch target {
        case .bucket(let name): usage = try bucketUsage(name)
        case .user(let name): usage = try ownerUsage(try userID(name: name) ?? "")
        }
        return UsageReport(bytes: usage.bytes, objects: usage.objects, quota: try quota(scope: scope) ?? Quota())
    }
}

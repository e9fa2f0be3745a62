import MetaContract

/// Lifecycle expirations, decided at apply time. A lifecycle pass proposes what it saw (`LifecycleExpiry`);
/// here each one takes effect only if its version is still as seen, so a PUT, a delete or another pass that
/// came first in the log wins and the expiration changes nothing (its outcome carries `.preconditionFailed`).
/// A locked version is never removed (`.objectLocked`); expiring a locked current version in a versioned
/// bucket still makes a delete marker, which removes no data, as S3 does.
extension MetaStateMachine {
    func applyLifecycleExpiries(bucket: String, expiries: [LifecycleExpiry], envelope: CommandEnvelope) throws
        -> [DeleteOutcome]
    {
        _ = try existingBucket(bucket)
        var outcomes: [DeleteOutcome] = []
        outcomes.reserveCapacity(expiries.count)
        for expiry in expiries {
            let current = try objectRecord(bucket: bucket, key: expiry.key)
            let target: DeleteTarget
            switch expiry.action {
            case .expireCurrent:
                guard let current, current.versionID == expiry.versionID,
                      current.lastModifiedTime == expiry.lastModifiedTime
                else { outcomes.append(Self.stale(expiry)); continue }
                target = DeleteTarget(key: expiry.key, versionID: nil, markerVersionID: expiry.markerVersionID)
            case .removeNoncurrent:
                guard current?.versionID != expiry.versionID,
                      let row = try versionRow(bucket: bucket, key: expiry.key, versionID: expiry.versionID),
                      !row.isDeleteMarker, row.object.lastModifiedTime == expiry.lastModifiedTime
                else { outcomes.append(Self.stale(expiry)); continue }
                target = DeleteTarget(key: expiry.key, versionID: expiry.versionID, markerVersionID: "")
            case .removeExpiredMarker:
                guard current == nil,
                      let newest = try newestVersionRow(bucket: bucket, key: expiry.key), newest.isDeleteMarker,
                      newest.object.versionID == expiry.versionID,
                      newest.object.lastModifiedTime == expiry.lastModifiedTime,
                      try versionCount(bucket: bucket, key: expiry.key) == 1
                else { outcomes.append(Self.stale(expiry)); continue }
                target = DeleteTarget(key: expiry.key, versionID: expiry.versionID, markerVersionID: "")
            }
            // The same path as DeleteObject(s): lock refusals, delete markers, usage and chunk release.
            outcomes.append(contentsOf: try applyDeleteVersions(bucket: bucket, targets: [target], envelope: envelope))
        }
        return outcomes
    }

    private static func stale(_ expiry: LifecycleExpiry) -> DeleteOutcome {
        DeleteOutcome(versionID: expiry.versionID, isDeleteMarker: false, removedCurrent: false,
                      refusal: .preconditionFailed)
    }

    /// How many `versions` rows a key has (noncurrent versions and delete markers).
    private func versionCount(bucket: String, key: String) throws -> Int64 {
        try database.firstRow("SELECT COUNT(*) FROM versions WHERE bucket = ? AND key = ?",
                              [.string(bucket), .string(key)], { $0.int64(0) }) ?? 0
    }
}

/// The time a lifecycle pass decides at, and the length of its day.
///
/// AWS counts whole days: an action `n` days after a time is due at the first midnight UTC at or after
/// that time plus `n` days. A scaled day (a test's "day" of a few seconds, RGW's `rgw_lc_debug_interval`)
/// is plain addition.
public struct LifecycleClock: Sendable, Hashable {
    public static let realDayMilliseconds: Int64 = 86_400_000

    /// Milliseconds since the Unix epoch.
    public var now: Int64
    public var dayMilliseconds: Int64

    public init(now: Int64, dayMilliseconds: Int64 = Self.realDayMilliseconds) {
        precondition(dayMilliseconds > 0, "a lifecycle day of \(dayMilliseconds) ms")
        self.now = now
        self.dayMilliseconds = dayMilliseconds
    }

    /// When an action `days` days after `time` is due.
    public func due(after time: Int64, days: Int) -> Int64 {
        let (sum, overflow) = time.addingReportingOverflow(Int64(days) * dayMilliseconds)
        if overflow { return .max }
        guard dayMilliseconds == Self.realDayMilliseconds else { return sum }
        let (days, rest) = sum.quotientAndRemainder(dividingBy: dayMilliseconds)
        return rest > 0 ? (days + 1) * dayMilliseconds : days * dayMilliseconds
    }

    public func isDue(after time: Int64, days: Int) -> Bool { now >= due(after: time, days: days) }
}

/// The decisions of a lifecycle pass, pure: given what a listing tells about one version (or upload) and
/// the time, whether an enabled rule whose filter matches acts on it. The worker turns each `true` into a
/// command the state machine applies only if the version is still as seen (`LifecycleExpiry`).
extension LifecycleConfiguration {
    /// The enabled rules whose prefix and size conditions hold (tags not yet checked).
    private func candidates(key: String, sizeBytes: Int64) -> [Rule] {
        rules.filter { $0.enabled && $0.filter.matches(key: key, sizeBytes: sizeBytes) }
    }

    /// Whether deciding on this version needs its tags: a candidate rule with an action for it filters by tag.
    public func needsTags(key: String, sizeBytes: Int64) -> Bool {
        candidates(key: key, sizeBytes: sizeBytes).contains { !$0.filter.tags.isEmpty }
    }

    /// Whether the current version (an object, not a delete marker), written at `lastModifiedTime`, has
    /// expired: an `Expiration` by days or by date.
    public func expiresCurrent(key: String, sizeBytes: Int64, lastModifiedTime: Int64, tags: [TagSet.Tag],
                               clock: LifecycleClock) -> Bool {
        candidates(key: key, sizeBytes: sizeBytes).contains { rule in
            guard rule.filter.matches(objectTags: tags) else { return false }
            switch rule.expiration {
            case .days(let days)?: return clock.isDue(after: lastModifiedTime, days: days)
            case .date(let date)?: return clock.now >= date
            case .expiredObjectDeleteMarker?, nil: return false
            }
        }
    }

    /// Whether a noncurrent version, noncurrent since `noncurrentSince` (when its successor was written),
    /// with `newerNoncurrentCount` noncurrent versions of its key newer than it, has expired.
    public func expiresNoncurrent(key: String, sizeBytes: Int64, noncurrentSince: Int64, newerNoncurrentCount: Int,
                                  tags: [TagSet.Tag], clock: LifecycleClock) -> Bool {
        candidates(key: key, sizeBytes: sizeBytes).contains { rule in
            guard let days = rule.noncurrentDays, rule.filter.matches(objectTags: tags) else { return false }
            if let keep = rule.newerNoncurrentVersions, newerNoncurrentCount < keep { return false }
            return clock.isDue(after: noncurrentSince, days: days)
        }
    }

    /// Whether a delete marker made at `lastModifiedTime` that is the only version left of its key is
    /// removed: at once with `ExpiredObjectDeleteMarker`, or once it is as old as an `Expiration` in days
    /// (S3 removes such expired markers too). Markers have no tags and size 0.
    public func removesExpiredMarker(key: String, lastModifiedTime: Int64, clock: LifecycleClock) -> Bool {
        candidates(key: key, sizeBytes: 0).contains { rule in
            guard rule.filter.tags.isEmpty else { return false }
            switch rule.expiration {
            case .expiredObjectDeleteMarker?: return true
            case .days(let days)?: return clock.isDue(after: lastModifiedTime, days: days)
            case .date?, nil: return false
            }
        }
    }

    /// Whether an upload created at `initiatedTime` is aborted (`AbortIncompleteMultipartUpload`).
    public func abortsUpload(key: String, initiatedTime: Int64, clock: LifecycleClock) -> Bool {
        rules.contains { rule in
            guard rule.enabled, let days = rule.abortIncompleteDays, rule.filter.tags.isEmpty,
                  key.hasPrefix(rule.filter.prefix) else { return false }
            return clock.isDue(after: initiatedTime, days: days)
        }
    }

    /// Whether any rule can abort uploads: a pass skips the upload listing otherwise.
    public var actsOnUploads: Bool { rules.contains { $0.enabled && $0.abortIncompleteDays != nil } }
}

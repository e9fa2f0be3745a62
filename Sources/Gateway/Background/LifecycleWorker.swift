import Logging
import MetaContract
import S3Protocol
import WallClock

/// Applies the buckets' lifecycle rules: walks every version of every bucket that has a configuration, a
/// page per step, and proposes what `LifecycleConfiguration`'s decisions say is due (current objects
/// expired, noncurrent versions and lone delete markers removed) as one `expireByLifecycle` command per
/// page, then aborts the uploads past their `AbortIncompleteMultipartUpload`.
///
/// Safe by construction rather than by coordination: each expiration names the version as this pass saw
/// it, and the state machine applies it only if that version is still there as seen, so a PUT or delete
/// that lands first wins, several gateways may run passes at once, and a pass interrupted anywhere (a
/// restart, a leader change, an unknown outcome) is simply resumed by the next one. Rate: one page of at
/// most `pageSize` versions per step, `pause` between steps.
actor LifecycleWorker: BackgroundWorker {
    /// Versions or uploads one step reads (one listing page, one command).
    static let pageSize = 1000
    /// The rest between two busy steps, so a pass over millions of versions does not crowd out requests.
    static let pause: Duration = .milliseconds(20)

    nonisolated let name = "lifecycle"
    nonisolated let idleInterval: Duration
    let metadata: any MetadataService
    let dayMilliseconds: Int64
    let logger: Logger

    /// Where a pass stands in one bucket.
    private struct Cursor {
        var bucket: String
        var configuration: LifecycleConfiguration
        var keyMarker = ""
        var versionIDMarker = ""
        var inUploads = false
        var uploadIDMarker = ""
        /// The last key seen and, within it, the last version's time and how many noncurrent objects came
        /// before (listings run newest first within a key, and a key may span pages).
        var lastKey: String?
        var lastTime: Int64 = 0
        var noncurrentSeen = 0
    }

    private var buckets: [Cursor] = []
    /// What the last complete pass did.
    private(set) var lastPass = Tally()
    private var pass = Tally()

    struct Tally: Sendable, Equatable {
        var expired = 0
        var removed = 0
        var aborted = 0
        /// Expirations the state machine did not apply: the version changed since it was listed, or is locked.
        var skipped = 0
    }

    init(metadata: any MetadataService, interval: Duration, dayMilliseconds: Int64, logger: Logger) {
        precondition(dayMilliseconds > 0, "a lifecycle day of \(dayMilliseconds) ms")
        self.metadata = metadata
        self.idleInterval = interval
        self.dayMilliseconds = dayMilliseconds
        self.logger = logger
    }

    func step() async throws -> BackgroundStepResult {
        if buckets.isEmpty {
            buckets = try await configuredBuckets()
            guard !buckets.isEmpty else { return .idle }
        }
        let (next, done) = try await page(buckets.removeFirst())
        var cursor = next
        if !done {
            buckets.insert(cursor, at: 0)
        } else if !cursor.inUploads && cursor.configuration.actsOnUploads {
            cursor.inUploads = true
            cursor.keyMarker = ""
            buckets.insert(cursor, at: 0)
        }
        if buckets.isEmpty {
            lastPass = pass
            if pass != Tally() { logger.info("lifecycle pass done", metadata: ["tally": "\(pass)"]) }
            pass = Tally()
            return .idle
        }
        try await Task.sleep(for: Self.pause)
        return .busy
    }

    /// The next page of `cursor`'s bucket; a bucket deleted meanwhile has nothing left to do.
    private func page(_ cursor: Cursor) async throws(MetaError) -> (Cursor, Bool) {
        do {
            return cursor.inUploads ? try await uploadsPage(cursor) : try await versionsPage(cursor)
        } catch {
            guard error == .noSuchBucket else { throw error }
            return (cursor, true)
        }
    }

    /// Every bucket with a lifecycle configuration, read afresh at the start of a pass.
    private func configuredBuckets() async throws(MetaError) -> [Cursor] {
        var cursors: [Cursor] = []
        for user in try await metadata.listUsers() {
            for bucket in try await metadata.listBuckets(owner: user.id) {
                guard let stored = try await metadata.bucketLifecycle(bucket: bucket.name) else { continue }
                do {
                    let configuration = try LifecycleConfiguration.parse(Array(stored.utf8)) { "" }
                    cursors.append(Cursor(bucket: bucket.name, configuration: configuration))
                } catch {
                    logger.error("stored lifecycle configuration does not parse", metadata: [
                        "bucket": "\(bucket.name)", "error": "\(error)"])
                }
            }
        }
        return cursors
    }

    private var clock: LifecycleClock { LifecycleClock(now: WallClock.nowMilliseconds(), dayMilliseconds: dayMilliseconds) }

    /// One page of versions: decides on each, proposes the due ones. True when the listing is complete.
    private func versionsPage(_ start: Cursor) async throws(MetaError) -> (Cursor, Bool) {
        var cursor = start
        let page = try await metadata.listObjectVersions(
            ListVersionsQuery(bucket: cursor.bucket, prefix: "", delimiter: "", keyMarker: cursor.keyMarker,
                              versionIDMarker: cursor.versionIDMarker, maxKeys: Self.pageSize),
            requester: "")
        let clock = self.clock
        let rules = cursor.configuration
        var expiries: [LifecycleExpiry] = []
        for (index, version) in page.versions.enumerated() {
            if version.key != cursor.lastKey {
                cursor.lastKey = version.key
                cursor.noncurrentSeen = 0
            }
            // Newest first: the previous version's time is when this one stopped being current.
            let successorTime = cursor.lastTime
            cursor.lastTime = version.lastModifiedTime
            if version.isDeleteMarker {
                // A lone latest marker: no other version of its key follows (on this page; the state machine
                // re-checks when the key goes on past it).
                let next = index + 1 < page.versions.count ? page.versions[index + 1] : nil
                if version.isLatest, next?.key != version.key, rules.removesExpiredMarker(key: version.key, lastModifiedTime: version.lastModifiedTime,
                                                                               clock: clock) {
                    expiries.append(LifecycleExpiry(key: version.key, versionID: version.versionID,
                                                    lastModifiedTime: version.lastModifiedTime,
                                                    action: .removeExpiredMarker))
                }
                continue
            }
            let tags = try await tags(of: version, bucket: cursor.bucket, rules: rules)
            if version.isLatest {
                if rules.expiresCurrent(key: version.key, sizeBytes: version.sizeBytes,
                                        lastModifiedTime: version.lastModifiedTime, tags: tags, clock: clock) {
                    expiries.append(LifecycleExpiry(key: version.key, versionID: version.versionID,
                                                    lastModifiedTime: version.lastModifiedTime, action: .expireCurrent,
                                                    markerVersionID: S3Gateway.randomHex(bytes: 16)))
                }
            } else {
                if rules.expiresNoncurrent(key: version.key, sizeBytes: version.sizeBytes,
                                           noncurrentSince: successorTime, newerNoncurrentCount: cursor.noncurrentSeen,
                                           tags: tags, clock: clock) {
                    expiries.append(LifecycleExpiry(key: version.key, versionID: version.versionID,
                                                    lastModifiedTime: version.lastModifiedTime,
                                                    action: .removeNoncurrent))
                }
                cursor.noncurrentSeen += 1
            }
        }
        if !expiries.isEmpty {
            let outcomes = try await metadata.expireByLifecycle(bucket: cursor.bucket, expiries: expiries,
                                                                commandID: S3Gateway.randomHex(bytes: 16))
            for (expiry, outcome) in zip(expiries, outcomes) {
                if outcome.refusal != nil {
                    pass.skipped += 1
                } else if expiry.action == .expireCurrent {
                    pass.expired += 1
                } else {
                    pass.removed += 1
                }
            }
        }
        guard page.isTruncated, let keyMarker = page.nextKeyMarker else { return (cursor, true) }
        cursor.keyMarker = keyMarker
        cursor.versionIDMarker = page.nextVersionIDMarker ?? ""
        return (cursor, false)
    }

    /// The version's tags when a rule that could act on it filters by tag; none otherwise.
    private func tags(of version: VersionSummary, bucket: String, rules: LifecycleConfiguration)
        async throws(MetaError) -> [TagSet.Tag]
    {
        guard rules.needsTags(key: version.key, sizeBytes: version.sizeBytes),
              let found = try await metadata.objectVersion(bucket: bucket, key: version.key,
                                                           versionID: version.versionID, requester: ""),
              let stored = found.object.storedTags, let tags = TagSet(storedForm: stored)
        else { return [] }
        return tags.tags
    }

    /// One page of uploads: aborts the due ones. True when the listing is complete.
    private func uploadsPage(_ start: Cursor) async throws(MetaError) -> (Cursor, Bool) {
        var cursor = start
        let page = try await metadata.listMultipartUploads(
            ListUploadsQuery(bucket: cursor.bucket, prefix: "", delimiter: "", keyMarker: cursor.keyMarker,
                             uploadIDMarker: cursor.uploadIDMarker, maxUploads: Self.pageSize),
            requester: "")
        let clock = self.clock
        for upload in page.uploads
        where cursor.configuration.abortsUpload(key: upload.key, initiatedTime: upload.initiatedTime, clock: clock) {
            do {
                try await metadata.abortMultipartUpload(bucket: cursor.bucket, key: upload.key, uploadID: upload.uploadID,
                                                        requester: "", access: nil,
                                                        commandID: S3Gateway.randomHex(bytes: 16))
                pass.aborted += 1
            } catch {
                guard error == .noSuchUpload else { throw error }
                pass.skipped += 1  // completed or aborted meanwhile
            }
        }
        guard page.isTruncated, let keyMarker = page.nextKeyMarker else { return (cursor, true) }
        cursor.keyMarker = keyMarker
        cursor.uploadIDMarker = page.nextUploadIDMarker ?? ""
        return (cursor, false)
    }
}

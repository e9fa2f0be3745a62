import Testing

@testable import MetaQuorum

/// Lifecycle expirations in the state machine. Goal: an expiration takes effect only on the version its pass
/// saw, so a PUT or delete that comes first in the log wins (nothing is lost on either side); a noncurrent
/// version, a lone delete marker and a current object each go the way S3 expires them; a locked version is
/// never removed. Method: commands applied to a real `MetaStateMachine` on a temporary SQLite file.
@Suite("Lifecycle expiry")
struct LifecycleExpiryTests: MachineSuite {
    let directory: TemporaryDirectory
    let driver: MachineDriver
    let ids = CommandIDs()

    init() throws {
        (directory, driver) = try Self.makeBucketMachine(objectLock: ObjectLockConfiguration())
    }

    func put(_ key: String, version: String, time: Int64, bucket: String = "b") throws {
        var object = objectRecord(bucket: bucket, key: key, chunks: [chunk(ChunkID(time + 1), 10)])
        object.versionID = version
        _ = try driver.apply(.putObject(next(time), object: object, precondition: .none, startedTime: testStartTime + time))
    }

    func expire(_ expiries: [LifecycleExpiry], time: Int64 = 100, bucket: String = "b") throws -> [MetaError?] {
        let result = try driver.apply(.expireByLifecycle(next(time), bucket: bucket, expiries: expiries))
        guard case .deletedVersions(let outcomes) = result else {
            Issue.record("expireByLifecycle answered \(result)")
            return []
        }
        return outcomes.map(\.refusal)
    }

    func entries(bucket: String = "b") throws -> [String] {
        try driver.machine.listVersions(
            ListVersionsQuery(bucket: bucket, prefix: "", delimiter: "", keyMarker: "", versionIDMarker: "", maxKeys: 1000),
            requester: "alice"
        ).versions.map { "\($0.versionID)\($0.isLatest ? "*" : "")\($0.isDeleteMarker ? "(dm)" : "")" }
    }

    @Test func anExpirationRacingAPutLeavesThePut() throws {
        defer { close() }
        try #require(try driver.apply(.setBucketVersioning(next(), bucket: "b", state: .enabled)) == .done)
        try put("k", version: "v1", time: 1)
        // The pass saw v1 as current; a PUT of v2 lands first in the log.
        try put("k", version: "v2", time: 2)
        let seen = LifecycleExpiry(key: "k", versionID: "v1", lastModifiedTime: testStartTime + 1, action: .expireCurrent,
                                   markerVersionID: "m1")
        #expect(try expire([seen]) == [.preconditionFailed])
        #expect(try entries() == ["v2*", "v1"])
        // Seen as it is: v2 expires into a delete marker; its data stays, noncurrent.
        let current = LifecycleExpiry(key: "k", versionID: "v2", lastModifiedTime: testStartTime + 2,
                                      action: .expireCurrent, markerVersionID: "m2")
        #expect(try expire([current]) == [nil])
        #expect(try entries() == ["m2*(dm)", "v2", "v1"])
    }

    @Test func noncurrentVersionsThenTheLoneMarkerGo() throws {
        defer { close() }
        try #require(try driver.apply(.setBucketVersioning(next(), bucket: "b", state: .enabled)) == .done)
        try put("k", version: "v1", time: 1)
        try put("k", version: "v2", time: 2)
        _ = try driver.apply(.deleteVersions(next(3), bucket: "b",
                                             targets: [DeleteTarget(key: "k", versionID: nil, markerVersionID: "dm")]))
        let marker = LifecycleExpiry(key: "k", versionID: "dm", lastModifiedTime: testStartTime + 3,
                                     action: .removeExpiredMarker)
        // Not alone yet: refused, and the marker stays.
        #expect(try expire([marker]) == [.preconditionFailed])
        let v1 = LifecycleExpiry(key: "k", versionID: "v1", lastModifiedTime: testStartTime + 1, action: .removeNoncurrent)
        let v2 = LifecycleExpiry(key: "k", versionID: "v2", lastModifiedTime: testStartTime + 2, action: .removeNoncurrent)
        let stale = LifecycleExpiry(key: "k", versionID: "v2", lastModifiedTime: testStartTime + 9, action: .removeNoncurrent)
        #expect(try expire([stale, v1, v2]) == [.preconditionFailed, nil, nil])
        #expect(try entries() == ["dm*(dm)"])
        #expect(try expire([marker]) == [nil])
        #expect(try entries().isEmpty)
        // Chunks of removed versions are garbage now.
        #expect(try driver.machine.garbageChunks(limit: 10).count == 2)
    }

    @Test func unversionedObjectsGoAndLockedVersionsStay() throws {
        defer { close() }
        // A bucket that was never versioned ("b" has object lock, so versioning).
        _ = try driver.apply(.createBucket(next(), name: "u", acl: nil, ownership: nil, objectLock: nil))
        try put("plain", version: "null", time: 1, bucket: "u")
        let plain = LifecycleExpiry(key: "plain", versionID: "null", lastModifiedTime: testStartTime + 1,
                                    action: .expireCurrent)
        // The same `null` id, written again later: the time tells them apart.
        try put("plain", version: "null", time: 5, bucket: "u")
        #expect(try expire([plain], bucket: "u") == [.preconditionFailed])
        #expect(try entries(bucket: "u") == ["null*"])
        #expect(try expire([LifecycleExpiry(key: "plain", versionID: "null", lastModifiedTime: testStartTime + 5,
                                            action: .expireCurrent)], bucket: "u") == [nil])
        #expect(try entries(bucket: "u").isEmpty)

        try put("held", version: "h1", time: 10)
        try put("held", version: "h2", time: 11)
        _ = try driver.apply(.putObjectLegalHold(next(12), bucket: "b", key: "held", versionID: "h1", legalHold: true))
        let held = LifecycleExpiry(key: "held", versionID: "h1", lastModifiedTime: testStartTime + 10,
                                   action: .removeNoncurrent)
        let refusals = try expire([held])
        guard case .objectLocked? = refusals.first ?? nil else {
            Issue.record("a version under legal hold was expired: \(refusals)")
            return
        }
        #expect(try entries() == ["h2*", "h1"])
    }

    @Test func configurationIsStoredAndCleared() throws {
        defer { close() }
        #expect(try driver.machine.bucketText(.lifecycle, bucket: "b") == nil)
        #expect(try driver.apply(.setBucketLifecycle(next(), bucket: "b", lifecycle: "<LifecycleConfiguration/>")) == .done)
        #expect(try driver.machine.bucketText(.lifecycle, bucket: "b") == "<LifecycleConfiguration/>")
        #expect(try driver.apply(.setBucketLifecycle(next(), bucket: "b", lifecycle: nil)) == .done)
        #expect(try driver.apply(.setBucketLifecycle(next(), bucket: "b", lifecycle: nil))
            == .failed(.noSuchLifecycleConfiguration))
    }
}

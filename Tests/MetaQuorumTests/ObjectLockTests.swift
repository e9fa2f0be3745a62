import Testing

@testable import MetaQuorum

/// Object lock in the state machine. Goal: what the lock allows is decided at apply time, in log order and
/// against the command's time: a locked version is not deleted whatever a proposer read before, a retention
/// is only shortened as its mode allows, and a bucket's default retention reaches every new version. Method:
/// commands applied to a real `MetaStateMachine` on a temporary SQLite file, then its reads checked.
@Suite("Object lock")
struct ObjectLockTests: MachineSuite {
    let directory: TemporaryDirectory
    let driver: MachineDriver
    let ids = CommandIDs()
    static let day: Int64 = 86_400_000

    init() throws {
        (directory, driver) = try Self.makeBucketMachine(objectLock: ObjectLockConfiguration())
    }

    @discardableResult
    func put(_ key: String, version: String, bucket: String = "b", time: Int64 = 0,
             lock: (inout ObjectRecord) -> Void = { _ in }) throws -> MetaCommandResult {
        var object = objectRecord(bucket: bucket, key: key, chunks: [chunk(ChunkID(time + 1), 10)])
        object.versionID = version
        lock(&object)
        return try driver.apply(.putObject(next(time), object: object, precondition: .none,
                                           startedTime: testStartTime + time))
    }

    func delete(_ key: String, version: String?, bypass: Bool = false, time: Int64 = 0,
                envelope: CommandEnvelope? = nil) throws -> [DeleteOutcome] {
        let result = try driver.apply(.deleteVersions(
            envelope ?? next(time), bucket: "b",
            targets: [DeleteTarget(key: key, versionID: version, markerVersionID: "m" + (version ?? "") + key)],
            bypassGovernance: bypass))
        guard case .deletedVersions(let outcomes) = result else {
            Issue.record("delete answered \(result)")
            return []
        }
        return outcomes
    }

    func retain(_ key: String, version: String?, _ mode: RetentionMode?, until: Int64, bypass: Bool = false,
                time: Int64 = 0) throws -> MetaCommandResult {
        try driver.apply(.putObjectRetention(
            next(time), bucket: "b", key: key, versionID: version,
            retention: mode.map { ObjectRetention(mode: $0, retainUntil: testStartTime + until) },
            bypassGovernance: bypass))
    }

    func version(_ key: String, _ version: String) throws -> ObjectRecord? {
        try driver.machine.objectVersion(bucket: "b", key: key, versionID: version, requester: "alice")?.object
    }

    // Goal: a bucket created with object lock is versioned and cannot be suspended; object lock can be
    // enabled later only on a bucket whose versioning is Enabled.
    @Test func lockNeedsVersioningEnabled() throws {
        defer { close() }
        #expect(try driver.machine.bucketVersioning("b") == .enabled)
        #expect(try driver.machine.objectLockConfiguration("b") == ObjectLockConfiguration())
        guard case .failed(.invalidBucketState) = try driver.apply(.setBucketVersioning(next(), bucket: "b",
                                                                                         state: .suspended))
        else { Issue.record("suspension allowed"); return }
        try driver.apply(.createBucket(envelope("plain"), name: "plain"))
        let rule = ObjectLockConfiguration(defaultRetention: DefaultRetention(mode: .governance, period: .days(1)))
        let enable = MetaCommand.setObjectLockConfiguration(next(), bucket: "plain", configuration: rule)
        guard case .failed(.invalidBucketState) = try driver.apply(enable) else {
            Issue.record("object lock enabled on an unversioned bucket")
            return
        }
        #expect(try driver.machine.objectLockConfiguration("plain") == nil)
        #expect(try driver.apply(.setBucketVersioning(next(), bucket: "plain", state: .enabled)) == .done)
        #expect(try driver.apply(.setObjectLockConfiguration(next(), bucket: "plain", configuration: rule)) == .done)
        #expect(try driver.machine.objectLockConfiguration("plain") == rule)
    }

    // Goal: a version under GOVERNANCE retention is deleted only with the bypass; one under COMPLIANCE or a
    // legal hold never, until the retention expires (by the command's time) or the hold is lifted. A delete
    // without a version id only makes a delete marker, which is allowed.
    @Test func lockedVersionsAreNotDeleted() throws {
        defer { close() }
        try put("g", version: "g1") { $0.retention = ObjectRetention(mode: .governance, retainUntil: testStartTime + Self.day) }
        try put("c", version: "c1") { $0.retention = ObjectRetention(mode: .compliance, retainUntil: testStartTime + Self.day) }
        try put("h", version: "h1") { $0.legalHold = true }
        let marker = try delete("g", version: nil)
        #expect(marker.first?.isDeleteMarker == true && marker.first?.refusal == nil)

        let governance = try delete("g", version: "g1")
        guard case .objectLocked? = governance.first?.refusal else { Issue.record("\(governance)"); return }
        #expect(try version("g", "g1") != nil)
        #expect(try delete("g", version: "g1", bypass: true).first?.refusal == nil)
        #expect(try version("g", "g1") == nil)

        guard case .objectLocked? = try delete("c", version: "c1", bypass: true).first?.refusal else {
            Issue.record("a COMPLIANCE version was deleted")
            return
        }
        #expect(try delete("c", version: "c1", time: Self.day + 1).first?.refusal == nil)
        #expect(try version("c", "c1") == nil)

        guard case .objectLocked? = try delete("h", version: "h1", bypass: true).first?.refusal else {
            Issue.record("a version under legal hold was deleted")
            return
        }
        #expect(try driver.apply(.putObjectLegalHold(next(), bucket: "b", key: "h", versionID: "h1", legalHold: false))
            == .stored(versionID: "h1"))
        #expect(try delete("h", version: "h1").first?.refusal == nil)
    }

    // Goal: the race of the brief. A delete proposed when the version was free (its gateway read no lock)
    // and ordered after a legal hold is refused; retried under the same request id it answers the same
    // refusal (remembered), and the hold's release does not turn the old request into a delete.
    @Test func racedAndRetriedDeleteHonoursTheLogOrder() throws {
        defer { close() }
        try put("k", version: "v1")
        let deleteEnvelope = next(2)
        #expect(try driver.apply(.putObjectLegalHold(next(1), bucket: "b", key: "k", versionID: "v1", legalHold: true))
            == .stored(versionID: "v1"))
        let first = try delete("k", version: "v1", envelope: deleteEnvelope)
        guard case .objectLocked? = first.first?.refusal else { Issue.record("\(first)"); return }
        #expect(try driver.apply(.putObjectLegalHold(next(3), bucket: "b", key: "k", versionID: "v1", legalHold: false))
            == .stored(versionID: "v1"))
        #expect(try delete("k", version: "v1", envelope: deleteEnvelope) == first)
        #expect(try version("k", "v1") != nil)
        // A fresh request deletes it.
        #expect(try delete("k", version: "v1", time: 4).first?.refusal == nil)
    }

    // Goal: in one DeleteObjects, a locked version fails alone and the others go.
    @Test func oneLockedTargetFailsAlone() throws {
        defer { close() }
        try put("a", version: "a1") { $0.legalHold = true }
        try put("z", version: "z1")
        let result = try driver.apply(.deleteVersions(next(), bucket: "b", targets: [
            DeleteTarget(key: "a", versionID: "a1", markerVersionID: ""),
            DeleteTarget(key: "z", versionID: "z1", markerVersionID: ""),
        ]))
        guard case .deletedVersions(let outcomes) = result, outcomes.count == 2 else { Issue.record("\(result)"); return }
        #expect(outcomes[0].refusal != nil)
        #expect(outcomes[1].refusal == nil && outcomes[1].removedCurrent)
        #expect(try version("a", "a1") != nil)
        #expect(try version("z", "z1") == nil)
    }

    // Goal: a retention that holds is extended freely; shortened, removed or changed in mode only when
    // GOVERNANCE and bypassed; never when COMPLIANCE. An expired one may be changed by anyone.
    @Test func retentionChangesFollowTheMode() throws {
        defer { close() }
        try put("k", version: "v1")
        #expect(try retain("k", version: nil, .governance, until: 2 * Self.day) == .stored(versionID: "v1"))
        #expect(try retain("k", version: nil, .governance, until: 3 * Self.day) == .stored(versionID: "v1"))
        for (mode, until) in [(RetentionMode.governance, 1 * Self.day), (.compliance, 3 * Self.day)] {
            guard case .failed(.objectLocked) = try retain("k", version: nil, mode, until: until) else {
                Issue.record("GOVERNANCE changed to \(mode) until \(until) without the bypass")
                return
            }
        }
        guard case .failed(.objectLocked) = try retain("k", version: nil, nil, until: 0) else {
            Issue.record("GOVERNANCE removed without the bypass")
            return
        }
        #expect(try retain("k", version: nil, .governance, until: Self.day, bypass: true) == .stored(versionID: "v1"))
        #expect(try retain("k", version: "v1", .compliance, until: Self.day, bypass: true) == .stored(versionID: "v1"))
        #expect(try version("k", "v1")?.retention == ObjectRetention(mode: .compliance, retainUntil: testStartTime + Self.day))
        for (mode, until) in [(RetentionMode?.some(.compliance), Self.day - 1), (.governance, 2 * Self.day), (nil, 0)] {
            guard case .failed(.objectLocked) = try retain("k", version: nil, mode, until: until, bypass: true) else {
                Issue.record("COMPLIANCE changed to \(String(describing: mode)) until \(until)")
                return
            }
        }
        #expect(try retain("k", version: nil, .compliance, until: 2 * Self.day) == .stored(versionID: "v1"))
        // Expired (the command's time is past it): anything goes.
        #expect(try retain("k", version: nil, nil, until: 0, time: 2 * Self.day + 1) == .stored(versionID: "v1"))
        #expect(try version("k", "v1")?.retention == nil)
    }

    // Goal: a retention or legal hold change carries the stamp of the bucket record its access decision (and
    // governance bypass) was made on: a policy put in between refuses it with `.bucketAccessChanged`, not
    // remembered, so the same request id decided again on the fresh record takes effect once.
    @Test func staleBucketStampIsRefused() throws {
        defer { close() }
        try put("k", version: "v1")
        var stamped = next(1)
        stamped.bucketAccess = try driver.machine.existingBucket("b").accessStamp
        #expect(try driver.apply(.setBucketPolicy(next(2), bucket: "b", policy: "{}")) == .done)
        let hold = MetaCommand.putObjectLegalHold(stamped, bucket: "b", key: "k", versionID: "v1", legalHold: true)
        #expect(try driver.apply(hold) == .failed(.bucketAccessChanged))
        #expect(try version("k", "v1")?.legalHold == nil)
        stamped.bucketAccess = try driver.machine.existingBucket("b").accessStamp
        let fresh = MetaCommand.putObjectLegalHold(stamped, bucket: "b", key: "k", versionID: "v1", legalHold: true)
        #expect(try driver.apply(fresh) == .stored(versionID: "v1"))
        #expect(try version("k", "v1")?.legalHold == true)
    }

    // Goal: a bucket's default retention reaches every new version that asks for none (PutObject and a
    // multipart completion), counted from the command's time; a version that asks for its own keeps it.
    @Test func defaultRetentionAppliesToNewVersions() throws {
        defer { close() }
        let rule = DefaultRetention(mode: .compliance, period: .years(1))
        #expect(try driver.apply(.setObjectLockConfiguration(next(), bucket: "b",
                                                              configuration: ObjectLockConfiguration(defaultRetention: rule)))
            == .done)
        try put("k", version: "v1", time: 5)
        #expect(try version("k", "v1")?.retention
            == ObjectRetention(mode: .compliance, retainUntil: testStartTime + 5 + 365 * Self.day))
        let own = ObjectRetention(mode: .governance, retainUntil: testStartTime + Self.day)
        try put("k", version: "v2", time: 6) { $0.retention = own }
        #expect(try version("k", "v2")?.retention == own)

        try driver.apply(.createMultipartUpload(next(7), upload: uploadRecord(bucket: "b", key: "m", uploadID: "u1")))
        try driver.apply(.putPart(next(8), bucket: "b", key: "m", uploadID: "u1",
                                  part: partRecord(1, sizeBytes: 10, chunkID: ChunkID(100)), startedTime: testStartTime + 8))
        let completed = try driver.apply(.completeMultipartUpload(
            next(9), bucket: "b", key: "m", uploadID: "u1",
            parts: [CompletedPart(partNumber: 1, etag: partRecord(1, sizeBytes: 10, chunkID: ChunkID(100)).etag)],
            precondition: .none, minimumPartSizeBytes: 0, versionID: "m1"))
        guard case .object(let object) = completed else { Issue.record("\(completed)"); return }
        #expect(object.retention == ObjectRetention(mode: .compliance, retainUntil: testStartTime + 9 + 365 * Self.day))
    }

    // Goal: lock settings and lock operations in a bucket without object lock are refused.
    @Test func bucketWithoutLockRefusesLockSettings() throws {
        defer { close() }
        try driver.apply(.createBucket(envelope("plain"), name: "plain"))
        let refused = try put("k", version: "v1", bucket: "plain") { $0.legalHold = false }
        #expect(refused == .failed(.objectLockNotEnabled))
        try put("k", version: "v1", bucket: "plain")
        #expect(try driver.apply(.putObjectLegalHold(next(), bucket: "plain", key: "k", versionID: nil, legalHold: true))
            == .failed(.objectLockNotEnabled))
        var upload = uploadRecord(bucket: "plain", key: "m", uploadID: "u2")
        upload.headers = ObjectRecord.headers(upload.headers, withLock: [HeaderField(name: ObjectRecord.legalHoldHeaderName, value: "ON")])
        #expect(try driver.apply(.createMultipartUpload(next(), upload: upload)) == .failed(.objectLockNotEnabled))
    }

    // Goal: a schema-10 database (before object lock) migrates: its buckets have no object lock and it can
    // then be enabled.
    @Test func schemaTenDatabaseIsMigrated() throws {
        let path = directory.path + "/meta.sqlite"
        try driver.apply(.createBucket(envelope("old"), name: "old"))
        try driver.machine.database.execute("UPDATE buckets SET object_lock = NULL WHERE true")
        try downgradeToSchemaTen(driver.machine.database)
        try driver.machine.database.execute("UPDATE meta SET value = 10 WHERE name = 'schema_version'")
        driver.machine.close()
        defer { directory.remove() }
        let reopened = try MachineDriver(path: path)
        defer { reopened.machine.close() }
        #expect(try reopened.machine.metaValue("schema_version") == MetaSchema.version)
        #expect(try reopened.machine.objectLockConfiguration("old") == nil)
        #expect(try reopened.apply(.setBucketVersioning(envelope("m1"), bucket: "old", state: .enabled)) == .done)
        #expect(try reopened.apply(.setObjectLockConfiguration(envelope("m2"), bucket: "old",
                                                                configuration: ObjectLockConfiguration())) == .done)
        #expect(try reopened.machine.objectLockConfiguration("old") == ObjectLockConfiguration())
    }
}

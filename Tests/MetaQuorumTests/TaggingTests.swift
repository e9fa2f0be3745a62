import Testing

@testable import MetaQuorum

/// Object tags, bucket tags and CORS in the state machine. Goal: a tagging command changes exactly the
/// version it names, or the current version as the log orders it; tags stay with their version when it
/// becomes noncurrent or current again and leave with it; refusals carry the errors S3 needs. Method:
/// commands applied to a real `MetaStateMachine` on a temporary SQLite file, then its reads checked.
@Suite("Tagging")
struct TaggingTests: MachineSuite {
    let directory: TemporaryDirectory
    let driver: MachineDriver
    let ids = CommandIDs()

    init() throws {
        (directory, driver) = try Self.makeBucketMachine()
    }

    func put(_ key: String, version: String, tags: String? = nil, time: Int64 = 0) throws {
        var object = objectRecord(bucket: "b", key: key, chunks: [chunk(ChunkID(time + 1), 10)])
        object.versionID = version
        object.setStoredTags(tags)
        let result = try driver.apply(.putObject(next(time), object: object, precondition: .none,
                                                 startedTime: testStartTime + time))
        guard case .stored = result else {
            Issue.record("put answered \(result)")
            return
        }
    }

    func tag(_ key: String, version: String?, _ tags: String?) throws -> MetaCommandResult {
        try driver.apply(.putObjectTagging(next(), bucket: "b", key: key, versionID: version, tags: tags, expected: nil))
    }

    func tags(_ key: String, _ version: String?) throws -> String? {
        try driver.machine.objectVersion(bucket: "b", key: key, versionID: version, requester: "alice")?.object.storedTags
    }

    func enableVersioning() throws {
        #expect(try driver.apply(.setBucketVersioning(next(), bucket: "b", state: .enabled)) == .done)
    }

    // Goal: tagging the current version replaces its whole tag set, deleting removes it, and the record keeps
    // its other headers sorted with the tags among them.
    @Test func currentVersionIsTaggedAndUntagged() throws {
        defer { close() }
        try put("k", version: "v0")
        #expect(try tag("k", version: nil, "a=1&b=2") == .stored(versionID: nullVersionID))
        #expect(try tags("k", nil) == "a=1&b=2")
        #expect(try tag("k", version: nil, "c=3") == .stored(versionID: nullVersionID))
        #expect(try tags("k", nil) == "c=3")
        let object = try #require(try driver.machine.objectRecord(bucket: "b", key: "k"))
        #expect(object.headers.map(\.name) == object.headers.map(\.name).sorted())
        #expect(try tag("k", version: nil, nil) == .stored(versionID: nullVersionID))
        #expect(try tags("k", nil) == nil)
    }

    // Goal: the race of the brief. A tagging command that names version v1, ordered after a PUT that made
    // v2 current, tags v1 and leaves v2 untouched; one naming no version tags v2, the current one at apply.
    @Test func namedVersionIsTaggedEvenAfterANewerPut() throws {
        defer { close() }
        try enableVersioning()
        try put("k", version: "v1")
        try put("k", version: "v2", time: 1)
        #expect(try tag("k", version: "v1", "old=yes") == .stored(versionID: "v1"))
        #expect(try tags("k", "v1") == "old=yes")
        #expect(try tags("k", "v2") == nil)
        #expect(try tag("k", version: nil, "new=yes") == .stored(versionID: "v2"))
        #expect(try tags("k", "v2") == "new=yes")
        #expect(try tags("k", "v1") == "old=yes")
    }

    // Goal: tags move with their version: demoted by a newer PUT, promoted back when that one is deleted.
    @Test func tagsFollowTheirVersion() throws {
        defer { close() }
        try enableVersioning()
        try put("k", version: "v1", tags: "keep=1")
        try put("k", version: "v2", time: 1)
        #expect(try tags("k", "v1") == "keep=1")
        _ = try driver.apply(.deleteVersions(next(2), bucket: "b",
                                             targets: [DeleteTarget(key: "k", versionID: "v2", markerVersionID: "")]))
        #expect(try driver.machine.objectRecord(bucket: "b", key: "k")?.versionID == "v1")
        #expect(try tags("k", nil) == "keep=1")
    }

    // Goal: in an unversioned bucket a new PUT replaces the `null` version, tags included: an overwrite
    // without tags leaves none behind.
    @Test func overwriteReplacesTheNullVersionsTags() throws {
        defer { close() }
        try put("k", version: "x", tags: "a=1")
        #expect(try tags("k", nil) == "a=1")
        try put("k", version: "y", time: 1)
        #expect(try tags("k", nil) == nil)
    }

    // Goal: the refusals a gateway maps to S3 errors: no bucket, no current version (none, or a delete marker
    // latest), an unknown version, a delete marker named.
    @Test func refusals() throws {
        defer { close() }
        #expect(try driver.apply(.putObjectTagging(next(), bucket: "none", key: "k", versionID: nil, tags: "a=1", expected: nil))
            == .failed(.noSuchBucket))
        #expect(try tag("missing", version: nil, "a=1") == .failed(.noSuchKey))
        try enableVersioning()
        try put("k", version: "v1")
        #expect(try tag("k", version: "v9", "a=1") == .failed(.noSuchVersion))
        _ = try driver.apply(.deleteVersions(next(1), bucket: "b",
                                             targets: [DeleteTarget(key: "k", versionID: nil, markerVersionID: "m1")]))
        #expect(try tag("k", version: nil, "a=1") == .failed(.noSuchKey))
        #expect(try tag("k", version: "m1", "a=1") == .failed(.versionIsDeleteMarker))
        #expect(try tag("k", version: "v1", "a=1") == .stored(versionID: "v1"))
    }

    // Goal: bucket tags and CORS are set, read, replaced and deleted; deleting what is not there is refused
    // with the error the gateway turns into 204; a bucket re-created after deletion has neither.
    @Test func bucketTagsAndCORS() throws {
        defer { close() }
        #expect(try driver.machine.bucketText(.tags, bucket: "b") == nil)
        #expect(try driver.apply(.setBucketTagging(next(), bucket: "b", tags: nil)) == .failed(.noSuchTagSet))
        #expect(try driver.apply(.setBucketCORS(next(), bucket: "b", cors: nil)) == .failed(.noSuchCORSConfiguration))
        #expect(try driver.apply(.setBucketTagging(next(), bucket: "b", tags: "team=x")) == .done)
        #expect(try driver.apply(.setBucketCORS(next(), bucket: "b", cors: "<CORSConfiguration/>")) == .done)
        #expect(try driver.machine.bucketText(.tags, bucket: "b") == "team=x")
        #expect(try driver.machine.bucketText(.cors, bucket: "b") == "<CORSConfiguration/>")
        #expect(try driver.apply(.setBucketTagging(next(), bucket: "b", tags: nil)) == .done)
        #expect(try driver.machine.bucketText(.tags, bucket: "b") == nil)
        #expect(try driver.machine.bucketText(.cors, bucket: "b") == "<CORSConfiguration/>")
        #expect(throws: MetaError.noSuchBucket) { try driver.machine.bucketText(.cors, bucket: "none") }
        #expect(try driver.apply(.setBucketCORS(next(), bucket: "none", cors: "x")) == .failed(.noSuchBucket))
        _ = try driver.apply(.deleteBucket(next(), name: "b", abortingUploads: true))
        try driver.apply(.createBucket(next(), name: "b"))
        #expect(try driver.machine.bucketText(.cors, bucket: "b") == nil)
    }

    // Goal: a retried tagging command (same request id) answers the first outcome and changes nothing again.
    @Test func retriedTaggingIsAnsweredOnce() throws {
        defer { close() }
        try put("k", version: "v0")
        let command = MetaCommand.putObjectTagging(next(), bucket: "b", key: "k", versionID: nil, tags: "a=1", expected: nil)
        #expect(try driver.apply(command) == .stored(versionID: nullVersionID))
        #expect(try tag("k", version: nil, "b=2") == .stored(versionID: nullVersionID))
        #expect(try driver.apply(command) == .stored(versionID: nullVersionID))
        #expect(try tags("k", nil) == "b=2")
    }

    // Goal: a schema-6 database (before tagging and CORS) migrates to the current schema: its buckets have neither,
    // its objects keep reading (untagged), and both can then be set.
    @Test func schemaSixDatabaseIsMigrated() throws {
        let path = directory.path + "/meta.sqlite"
        try put("k", version: "v0")
        try downgradeToSchemaSeven(driver.machine.database)
        try downgradeToSchemaSix(driver.machine.database)
        try driver.machine.database.execute("UPDATE meta SET value = 6 WHERE name = 'schema_version'")
        driver.machine.close()
        defer { directory.remove() }
        let reopened = try MachineDriver(path: path)
        defer { reopened.machine.close() }
        #expect(try reopened.machine.metaValue("schema_version") == MetaSchema.version)
        #expect(try reopened.machine.bucketText(.tags, bucket: "b") == nil)
        #expect(try reopened.machine.objectRecord(bucket: "b", key: "k")?.storedTags == nil)
        #expect(try reopened.apply(.setBucketCORS(envelope("m1"), bucket: "b", cors: "<CORSConfiguration/>")) == .done)
        #expect(try reopened.apply(.putObjectTagging(envelope("m2"), bucket: "b", key: "k", versionID: nil, tags: "a=1", expected: nil))
            == .stored(versionID: nullVersionID))
        #expect(try reopened.machine.objectRecord(bucket: "b", key: "k")?.storedTags == "a=1")
    }

    // Goal: a tagging command carries the stamps of the bucket and the version it was authorized on. A PUT
    // that replaced the null version (with other tags), or a tag change in between, makes apply refuse it
    // with `.objectAccessChanged`, a policy change with `.bucketAccessChanged`; neither refusal is
    // remembered, so the same request id proposed again with fresh stamps takes effect once.
    @Test func staleStampsAreRefusedAndNotRemembered() throws {
        defer { close() }
        try put("k", version: "x", tags: "security=public")
        let authorized = try #require(try driver.machine.objectRecord(bucket: "b", key: "k"))
        let bucket = try driver.machine.existingBucket("b")
        // A PUT replaces the null version with one tagged private before the tagging command applies.
        try put("k", version: "y", tags: "security=private", time: 1)
        var envelope = next(2)
        envelope.bucketAccess = bucket.accessStamp
        let stale = MetaCommand.putObjectTagging(envelope, bucket: "b", key: "k", versionID: nullVersionID,
                                                 tags: "retagged=1", expected: authorized.accessStamp)
        #expect(try driver.apply(stale) == .failed(.objectAccessChanged))
        #expect(try tags("k", nil) == "security=private")
        // Decided again on the version as it is now: the same request id goes through.
        let fresh = try #require(try driver.machine.objectRecord(bucket: "b", key: "k"))
        let retried = MetaCommand.putObjectTagging(envelope, bucket: "b", key: "k", versionID: nullVersionID,
                                                   tags: "retagged=1", expected: fresh.accessStamp)
        #expect(try driver.apply(retried) == .stored(versionID: nullVersionID))
        #expect(try tags("k", nil) == "retagged=1")
        // A policy put after the decision: the bucket's stamp no longer holds.
        #expect(try driver.apply(.setBucketPolicy(next(3), bucket: "b", policy: "{}")) == .done)
        let current = try #require(try driver.machine.objectRecord(bucket: "b", key: "k"))
        var late = next(4)
        late.bucketAccess = bucket.accessStamp
        #expect(try driver.apply(.putObjectTagging(late, bucket: "b", key: "k", versionID: nil, tags: nil,
                                                   expected: current.accessStamp)) == .failed(.bucketAccessChanged))
        #expect(try tags("k", nil) == "retagged=1")
    }
}

import Testing

@testable import MetaQuorum

/// S3 versioning in the state machine: versions kept when Enabled, delete markers, the `null` version under
/// suspension, chunk garbage and usage exact as versions come and go, retries, and the migration from
/// schema 4. Method: commands applied to a real `MetaStateMachine` on a temporary SQLite file, then the
/// reads (`objectVersion`, `listVersions`, `listObjects`) and the garbage and usage tables checked.
@Suite("Versioning")
struct VersioningTests: MachineSuite {
    let directory: TemporaryDirectory
    let driver: MachineDriver
    let ids = CommandIDs()

    init() throws {
        (directory, driver) = try Self.makeBucketMachine()
    }

    @discardableResult
    func put(_ key: String, version: String, chunkID: ChunkID, size: Int64 = 10, time: Int64,
                      precondition: WritePrecondition = .none) throws -> MetaCommandResult {
        var object = objectRecord(bucket: "b", key: key, etag: md5Hex(Int(chunkID)), chunks: [chunk(chunkID, size)])
        object.versionID = version
        return try driver.apply(.putObject(next(time), object: object, precondition: precondition,
                                           startedTime: testStartTime + time))
    }

    func delete(_ key: String, version: String? = nil, marker: String = "", time: Int64) throws
        -> [DeleteOutcome]
    {
        let result = try driver.apply(
            .deleteVersions(next(time), bucket: "b",
                            targets: [DeleteTarget(key: key, versionID: version, markerVersionID: marker)]))
        guard case .deletedVersions(let outcomes) = result else {
            Issue.record("deleteVersions answered \(result)")
            return []
        }
        return outcomes
    }

    func setVersioning(_ state: BucketVersioning, time: Int64 = 0) throws {
        #expect(try driver.apply(.setBucketVersioning(next(time), bucket: "b", state: state)) == .done)
    }

    func list(maxKeys: Int = 1000, prefix: String = "", delimiter: String = "", keyMarker: String = "",
              versionIDMarker: String = "") throws -> ListVersionsPage {
        try driver.machine.listVersions(
            ListVersionsQuery(bucket: "b", prefix: prefix, delimiter: delimiter, keyMarker: keyMarker,
                              versionIDMarker: versionIDMarker, maxKeys: maxKeys),
            requester: "alice")
    }

    /// (key, version id, latest, marker) of every entry.
    func entries(_ page: ListVersionsPage) -> [String] {
        page.versions.map { "\($0.key)@\($0.versionID)\($0.isLatest ? "*" : "")\($0.isDeleteMarker ? "(dm)" : "")" }
    }

    func garbageIDs() throws -> [ChunkID] {
        try driver.machine.garbageChunks(limit: 100).map(\.chunk.id)
    }

    func version(_ key: String, _ id: String?) throws -> ObjectVersion? {
        try driver.machine.objectVersion(bucket: "b", key: key, versionID: id, requester: "alice")
    }

    // Goal: with versioning Enabled every PUT keeps the previous version; versions list newest first; the
    // current listing sees one object; usage counts every version; nothing is garbage.
    @Test func enabledKeepsEveryVersion() throws {
        defer { close() }
        try setVersioning(.enabled)
        #expect(try put("k", version: "v1", chunkID: 1, time: 1) == .stored(versionID: "v1"))
        #expect(try put("k", version: "v2", chunkID: 2, time: 2) == .stored(versionID: "v2"))
        try put("k", version: "v3", chunkID: 3, time: 3)
        try put("j", version: "w1", chunkID: 4, time: 4)
        #expect(entries(try list()) == ["j@w1*", "k@v3*", "k@v2", "k@v1"])
        let current = try driver.machine.listObjects(
            ListObjectsQuery(bucket: "b", prefix: "", delimiter: "", startAfter: "", maxKeys: 10), requester: "alice")
        #expect(current.objects.map(\.key) == ["j", "k"])
        #expect(try version("k", nil)?.object.versionID == "v3")
        let old = try #require(try version("k", "v1"))
        #expect(old.object.chunks.map(\.id) == [1] && !old.isLatest && !old.isDeleteMarker)
        #expect(try driver.machine.bucketUsage("b") == (40, 4))
        #expect(try garbageIDs().isEmpty)
        #expect(try driver.machine.bucketVersioning("b", requester: "alice") == .enabled)
        // The repairer's scan of chunk placements sees noncurrent versions' chunks too, whatever the page size.
        for limit in [1, 2, 10] {
            var position: ChunkScanPosition?
            var seen: [ChunkID] = []
            repeat {
                let page = try driver.machine.chunkPlacements(after: position, limit: limit)
                seen += page.chunks.map(\.id)
                position = page.next
            } while position != nil
            #expect(seen.sorted() == [1, 2, 3, 4], "limit \(limit)")
        }
    }

    // Goal: a delete without a version makes a marker that hides the key (GET finds the marker, ListObjects
    // nothing); deleting the marker by its id restores the older version; deleting that version makes its
    // chunks garbage, and only then.
    @Test func deleteMarkersAndVersionDeletes() throws {
        defer { close() }
        try setVersioning(.enabled)
        try put("k", version: "v1", chunkID: 1, time: 1)
        try put("k", version: "v2", chunkID: 2, time: 2)
        let outcomes = try delete("k", marker: "m1", time: 3)
        #expect(outcomes == [DeleteOutcome(versionID: "m1", isDeleteMarker: true, removedCurrent: true)])
        #expect(try driver.machine.object(bucket: "b", key: "k", requester: "alice") == nil)
        let latest = try #require(try version("k", nil))
        #expect(latest.isDeleteMarker && latest.isLatest && latest.object.versionID == "m1")
        #expect(entries(try list()) == ["k@m1*(dm)", "k@v2", "k@v1"])
        #expect(try garbageIDs().isEmpty)
        // Conditions see no current object under a marker.
        #expect(try put("k", version: "x", chunkID: 9, time: 4, precondition: .ifMatchAny) == .failed(.noSuchKey))
        // The marker goes: v2 is current again.
        #expect(try delete("k", version: "m1", time: 5) == [DeleteOutcome(versionID: "m1", isDeleteMarker: true, removedCurrent: false)])
        #expect(try driver.machine.object(bucket: "b", key: "k", requester: "alice")?.versionID == "v2")
        #expect(entries(try list()) == ["k@v2*", "k@v1"])
        // Deleting the noncurrent v1 frees exactly its chunk.
        #expect(try delete("k", version: "v1", time: 6) == [DeleteOutcome(versionID: "v1", isDeleteMarker: false, removedCurrent: false)])
        #expect(try garbageIDs() == [1])
        // Deleting the current v2 leaves nothing; a missing version is no error.
        #expect(try delete("k", version: "v2", time: 7).first?.removedCurrent == true)
        #expect(try delete("k", version: "v2", time: 8) == [DeleteOutcome(versionID: "v2", isDeleteMarker: false, removedCurrent: false)])
        #expect(try garbageIDs() == [1, 2])
        #expect(try list().versions.isEmpty)
        #expect(try driver.machine.bucketUsage("b") == (0, 0))
        try driver.apply(.deleteBucket(next(9), name: "b", abortingUploads: false))
    }

    // Goal: the null version. Objects written before versioning are `null`; Enabled keeps it as noncurrent;
    // under Suspended a PUT replaces the null version (the noncurrent one goes, its chunks garbage) and the
    // current id-bearing version becomes noncurrent; a DELETE makes a `null` delete marker that replaces the
    // null version in turn.
    @Test func nullVersionUnderSuspension() throws {
        defer { close() }
        #expect(try put("k", version: "ignored", chunkID: 1, time: 1) == .stored(versionID: nil))
        #expect(try version("k", "null")?.object.chunks.map(\.id) == [1])
        #expect(try put("k", version: "ignored2", chunkID: 2, time: 2) == .stored(versionID: nil))
        #expect(try garbageIDs() == [1])
        try setVersioning(.enabled)
        try put("k", version: "v1", chunkID: 3, time: 3)
        #expect(entries(try list()) == ["k@v1*", "k@null"])
        try setVersioning(.suspended)
        #expect(try put("k", version: "unused", chunkID: 4, time: 4) == .stored(versionID: nil))
        #expect(entries(try list()) == ["k@null*", "k@v1"])
        #expect(try garbageIDs() == [1, 2])
        #expect(try put("k", version: "unused", chunkID: 5, time: 5) == .stored(versionID: nil))
        #expect(entries(try list()) == ["k@null*", "k@v1"])
        #expect(try garbageIDs() == [1, 2, 4])
        let outcome = try delete("k", marker: "ignored", time: 6)
        #expect(outcome == [DeleteOutcome(versionID: "null", isDeleteMarker: true, removedCurrent: true)])
        #expect(entries(try list()) == ["k@null*(dm)", "k@v1"])
        #expect(try garbageIDs() == [1, 2, 4, 5])
        #expect(try driver.machine.bucketUsage("b") == (10, 1))
        // Enabled again: the null marker stays as a noncurrent version under the new one.
        try setVersioning(.enabled)
        try put("k", version: "v2", chunkID: 6, time: 7)
        #expect(entries(try list()) == ["k@v2*", "k@null(dm)", "k@v1"])
        #expect(try driver.apply(.setBucketVersioning(next(8), bucket: "b", state: .unversioned))
            == .failed(.invalidArgument("a bucket's versioning can be enabled or suspended, never removed")))
    }

    // Goal: pagination with key and version-id markers walks every entry exactly once, and the delimiter
    // rolls keys up into common prefixes.
    @Test func paginationAndDelimiter() throws {
        defer { close() }
        try setVersioning(.enabled)
        var chunkID: ChunkID = 1
        for key in ["a", "d/x", "d/y", "z"] {
            for round in 1...3 {
                try put(key, version: "\(key)\(round)", chunkID: chunkID, time: Int64(chunkID))
                chunkID += 1
            }
        }
        _ = try delete("a", marker: "am", time: 100)
        let everything = entries(try list())
        #expect(everything.count == 13)
        #expect(everything.prefix(4) == ["a@am*(dm)", "a@a3", "a@a2", "a@a1"])
        for pageSize in [1, 2, 3, 5] {
            var seen: [String] = []
            var keyMarker = ""
            var versionMarker = ""
            while true {
                let page = try list(maxKeys: pageSize, keyMarker: keyMarker, versionIDMarker: versionMarker)
                seen += entries(page)
                guard page.isTruncated else { break }
                keyMarker = try #require(page.nextKeyMarker)
                versionMarker = page.nextVersionIDMarker ?? ""
            }
            #expect(seen == everything, "page size \(pageSize)")
        }
        let rolled = try list(delimiter: "/")
        #expect(rolled.commonPrefixes == ["d/"])
        #expect(entries(rolled) == ["a@am*(dm)", "a@a3", "a@a2", "a@a1", "z@z3*", "z@z2", "z@z1"])
        let inside = try list(prefix: "d/", keyMarker: "d/x", versionIDMarker: "d/x2")
        #expect(entries(inside) == ["d/x@d/x1", "d/y@d/y3*", "d/y@d/y2", "d/y@d/y1"])
    }

    // Goal: a retried delete (same request id) answers the first outcome and makes no second marker; a
    // random log of versioned commands replays to the same state on a second machine.
    @Test func retriesAndReplays() throws {
        defer { close() }
        try setVersioning(.enabled)
        try put("k", version: "v1", chunkID: 1, time: 1)
        let command = MetaCommand.deleteVersions(
            envelope("same", time: testStartTime + 2), bucket: "b",
            targets: [DeleteTarget(key: "k", versionID: nil, markerVersionID: "m1")])
        let first = try driver.apply(command)
        #expect(try driver.apply(command) == first)
        #expect(entries(try list()) == ["k@m1*(dm)", "k@v1"])

        let log = plausibleCommandLog(seed: 31, count: 1500)
        let one = try MachineDriver(path: directory.path + "/one.sqlite")
        let two = try MachineDriver(path: directory.path + "/two.sqlite")
        defer {
            one.machine.close()
            two.machine.close()
        }
        let resultsOne = try log.map { try one.apply($0) }
        let resultsTwo = try two.applyBatch(log)
        #expect(resultsOne == resultsTwo)
        let dump = try one.machine.dump()
        #expect(dump == (try two.machine.dump()))
        #expect(dump.contains { $0.hasPrefix("versions:") })
        #expect(resultsOne.contains { if case .deletedVersions(let outcomes) = $0 { outcomes.contains(where: \.isDeleteMarker) } else { false } })
    }

    // Goal: a `deleteObjects` of command format 2 (an old log replayed, or an old gateway) still decodes and,
    // in a versioned bucket, makes delete markers whose ids derive from its request id, the same on every
    // replica.
    @Test func formatTwoDeleteObjectsMakesDerivedMarkers() throws {
        defer { close() }
        try setVersioning(.enabled)
        try put("k", version: "v1", chunkID: 1, time: 1)
        let bytes = MetaCommand.deleteObjects(envelope("old-gateway", time: testStartTime + 2), bucket: "b", keys: ["k"])
            .encoded(asFormat: 2)
        let decoded = try MetaCommand(decoding: bytes)
        #expect(try driver.apply(decoded) == .deleted([true]))
        let marker = MetaCommand.derivedVersionID(commandID: "old-gateway", position: 0)
        #expect(marker.count == 32)
        #expect(entries(try list()) == ["k@\(marker)*(dm)", "k@v1"])
    }

    // Goal: a schema-4 database (objects with random version ids, no versions table) migrates to schema 5:
    // every object is the null version, buckets are unversioned, and versioning then works on it; the access
    // step (5 → 6) follows, and the object reads as private to its bucket owner.
    @Test func schemaFourDatabaseIsMigrated() throws {
        let path = directory.path + "/meta.sqlite"
        try put("k", version: "random-id", chunkID: 1, time: 1)
        try driver.machine.database.run(
            "UPDATE objects SET record = ? WHERE key = ?",
            [.bytes(RecordBlob.encode { writer in
                var object = objectRecord(bucket: "b", key: "k", etag: md5Hex(1), chunks: [chunk(1, 10)])
                object.versionID = "5d41402abc4b2a76b9719d911017c592"
                writer.write(object)
            }), .string("k")])
        try downgradeToSchemaFive(driver.machine.database)
        try downgradeToSchemaFour(driver.machine.database)
        try driver.machine.database.execute("UPDATE meta SET value = 4 WHERE name = 'schema_version'")
        driver.machine.close()
        defer { directory.remove() }

        let reopened = try MachineDriver(path: path)
        defer { reopened.machine.close() }
        #expect(try reopened.machine.metaValue("schema_version") == MetaSchema.version)
        #expect(try reopened.machine.bucketVersioning("b") == .unversioned)
        #expect(try reopened.machine.objectRecord(bucket: "b", key: "k")?.versionID == "null")
        #expect(try reopened.machine.objectRecord(bucket: "b", key: "k")?.owner == nil)
        try reopened.apply(.setBucketVersioning(envelope("m1", time: testStartTime + 5), bucket: "b", state: .enabled))
        var object = objectRecord(bucket: "b", key: "k", etag: md5Hex(2), chunks: [chunk(2, 5)])
        object.versionID = "v2"
        try reopened.apply(.putObject(envelope("m2", time: testStartTime + 6), object: object, precondition: .none,
                                      startedTime: testStartTime + 6))
        let page = try reopened.machine.listVersions(
            ListVersionsQuery(bucket: "b", prefix: "", delimiter: "", keyMarker: "", versionIDMarker: "", maxKeys: 10),
            requester: "alice")
        #expect(page.versions.map(\.versionID) == ["v2", "null"])
        #expect(try reopened.machine.bucketUsage("b") == (15, 2))
        // A fresh database and a migrated one have the same tables and columns.
        let fresh = try MachineDriver(path: directory.path + "/fresh.sqlite")
        defer { fresh.machine.close() }
        let schema = "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN ('buckets', 'objects', 'versions') ORDER BY name"
        let migratedTables = try reopened.machine.database.rows(schema) { $0.string(0) + ":" + $0.string(1) }
        let freshTables = try fresh.machine.database.rows(schema) { $0.string(0) + ":" + $0.string(1) }
        #expect(migratedTables.count == 3 && freshTables.count == 3)
        for table in ["buckets", "objects", "versions"] {
            let columns = "SELECT name, type, \"notnull\", pk FROM pragma_table_info('\(table)') ORDER BY cid"
            let describe = { (row: SQLiteRow) in "\(row.string(0)) \(row.string(1)) \(row.int64(2)) \(row.int64(3))" }
            #expect(try reopened.machine.database.rows(columns, [], describe)
                == (try fresh.machine.database.rows(columns, [], describe)), "table \(table)")
        }
    }
}

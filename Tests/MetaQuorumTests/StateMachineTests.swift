import Foundation
import Testing

@testable import MetaQuorum

/// A random but plausible command log over a few users, buckets, keys and uploads, so that most commands
/// succeed and many hit each refusal path. Seeded.
func plausibleCommandLog(seed: UInt64, count: Int) -> [MetaCommand] {
    var random = RandomValues(seed: seed)
    var commands: [MetaCommand] = []
    var nextChunk: ChunkID = 1
    let users = ["alice", "bob"]
    let buckets = ["b1", "b2"]
    let keys = ["k", "a/b", "a/c", "日本", "x\u{0}y"]
    var time = testStartTime
    for index in 0..<count {
        time += Int64(random.int(0...3_000_000))
        // Some request ids repeat, to exercise deduplication.
        let commandID = random.int(0...9) == 0 ? "req-\(random.int(0...max(index, 1)))" : "req-\(index)"
        let envelope = CommandEnvelope(
            commandID: commandID, requester: users[random.int(0...4) == 0 ? 1 : 0], time: time)
        // An upload id determines its bucket and key, so multipart commands often line up.
        let uploadNumber = random.int(0...5)
        let uploadID = "u\(uploadNumber)-\(random.int(0...1))"
        let multipart = random.int(0...4) != 0
        let bucket = multipart ? buckets[uploadNumber % 2] : buckets[random.int(0...1)]
        let key = multipart ? keys[uploadNumber % keys.count] : keys[random.int(0...(keys.count - 1))]
        func freshChunks() -> [ChunkRef] {
            (0..<random.int(0...2)).map { _ in
                defer { nextChunk += 1 }
                return chunk(nextChunk, Int64(random.int(1...10)))
            }
        }
        switch random.int(0...18) {
        case 16:
            commands.append(
                .setBucketVersioning(envelope, bucket: bucket, state: random.bool() ? .enabled : .suspended))
        case 17, 18:
            // Versions by id (earlier commands' ids, `null`, or none: a delete marker).
            let targets = (0..<random.int(1...2)).map { _ in
                let choice = random.int(0...3)
                let versionID: String? = choice == 0 ? nil : choice == 1 ? "null" : "v\(random.int(0...max(index, 1)))"
                return DeleteTarget(key: keys[random.int(0...(keys.count - 1))], versionID: versionID,
                                    markerVersionID: "m\(index)-\(random.int(0...1_000_000))")
            }
            commands.append(.deleteVersions(envelope, bucket: bucket, targets: targets))
        case 0: commands.append(.createBucket(envelope, name: bucket))
        case 1: commands.append(.deleteBucket(envelope, name: bucket, abortingUploads: random.bool()))
        case 2, 3:
            let chunks = freshChunks()
            let precondition: WritePrecondition = [.none, .ifNoneMatchAny, .ifMatch(md5Hex(random.int(0...3)))][
                random.int(0...2)]
            var object = objectRecord(
                bucket: bucket, key: key, etag: md5Hex(random.int(0...3)), chunks: chunks, time: time)
            object.versionID = "v\(index)"
            commands.append(
                .putObject(
                    envelope,
                    object: object,
                    precondition: precondition, startedTime: time - Int64(random.int(0...1000))))
        case 4: commands.append(.deleteObjects(envelope, bucket: bucket, keys: [key, keys[random.int(0...4)]]))
        case 5:
            commands.append(
                .createMultipartUpload(
                    envelope, upload: uploadRecord(bucket: bucket, key: key, uploadID: uploadID, time: time)))
        case 6, 7, 13, 14:
            let size = Int64(random.int(1...10))
            let number = random.int(1...3)
            let part = PartRecord(
                partNumber: number, sizeBytes: size, etag: md5Hex(number + 10 * random.int(0...1)),
                lastModifiedTime: time, checksum: nil, chunks: [chunk(nextChunk, size)])
            nextChunk += 1
            commands.append(
                .putPart(envelope, bucket: bucket, key: key, uploadID: uploadID, part: part, startedTime: time))
        case 8, 15:
            let parts = (1...random.int(1...3)).map {
                CompletedPart(partNumber: $0, etag: md5Hex($0 + 10 * random.int(0...1)))
            }
            commands.append(
                .completeMultipartUpload(
                    envelope, bucket: bucket, key: key, uploadID: uploadID, parts: parts,
                    precondition: .none, minimumPartSizeBytes: Int64(random.int(0...5)),
                    versionID: "v\(index)"))
        case 9: commands.append(.abortMultipartUpload(envelope, bucket: bucket, key: key, uploadID: uploadID))
        case 10: commands.append(.forgetGarbage(envelope, chunkIDs: [ChunkID(random.int(1...Int(nextChunk)))]))
        default:
            commands.append(
                .createUser(
                    envelope,
                    user: UserRecord(
                        name: users[random.int(0...1)], accessKeyID: "AK\(random.int(0...3))",
                        secretAccessKey: "s", isRoot: false, createdTime: time)))
        }
    }
    return commands
}

@Suite("MetaStateMachine")
struct StateMachineTests {
    // Goal: determinism. The same command log applied to two fresh state machines, one command per batch
    // on one and random batch sizes on the other, gives identical results and identical table dumps.
    @Test func sameLogSameState() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let log = plausibleCommandLog(seed: 11, count: 1200)
        let one = try MachineDriver(path: directory.path + "/one.sqlite")
        let two = try MachineDriver(path: directory.path + "/two.sqlite")
        defer {
            one.machine.close()
            two.machine.close()
        }
        var resultsOne: [MetaCommandResult] = []
        for command in log { resultsOne.append(try one.apply(command)) }
        var resultsTwo: [MetaCommandResult] = []
        var random = RandomValues(seed: 12)
        var position = 0
        while position < log.count {
            let size = min(random.int(1...50), log.count - position)
            resultsTwo += try two.applyBatch(Array(log[position..<(position + size)]))
            position += size
        }
        #expect(resultsOne == resultsTwo)
        #expect(one.machine.appliedIndex() == two.machine.appliedIndex())
        let dumpOne = try one.machine.dump()
        #expect(dumpOne == (try two.machine.dump()))
        // The log did real work: objects, garbage, refusals and remembered requests all exist.
        #expect(dumpOne.contains { $0.hasPrefix("objects:") })
        #expect(dumpOne.contains { $0.hasPrefix("garbage:") })
        #expect(dumpOne.contains { $0.hasPrefix("parts:") } || dumpOne.contains { $0.hasPrefix("uploads:") })
        #expect(resultsOne.contains { if case .failed = $0 { true } else { false } })
        #expect(resultsOne.contains { if case .object = $0 { true } else { false } })
    }

    // Goal: the chunk accounting invariant holds after a random log: every chunk named by an object or a
    // part has exactly that many references in chunk_refs, and no referenced chunk is also garbage.
    @Test func chunkReferencesMatchRecords() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try MachineDriver(path: directory.path + "/meta.sqlite")
        defer { driver.machine.close() }
        for command in plausibleCommandLog(seed: 21, count: 1500) { try driver.apply(command) }
        let database = driver.machine.database
        var expected: [ChunkID: Int64] = [:]
        let objectBlobs = try database.rows("SELECT record FROM objects") { $0.bytes(0) }
        for blob in objectBlobs {
            let object = try RecordBlob.decode(blob) { reader throws(MetaCodecError) in try reader.readObject(format: RecordFormat.object) }
            for chunk in object.chunks { expected[chunk.id, default: 0] += 1 }
        }
        // Noncurrent versions keep their chunks referenced (delete markers have none).
        let versionBlobs = try database.rows("SELECT record FROM versions") { $0.bytes(0) }
        for blob in versionBlobs {
            let object = try RecordBlob.decode(blob) { reader throws(MetaCodecError) in try reader.readObject(format: RecordFormat.object) }
            for chunk in object.chunks { expected[chunk.id, default: 0] += 1 }
        }
        // Usage counts every object version's bytes plus open parts, per bucket.
        let counted = try database.rows("SELECT bucket, bytes, objects FROM bucket_usage ORDER BY bucket") {
            "\($0.string(0)) \($0.int64(1)) \($0.int64(2))"
        }
        let recomputed = try database.rows(
            """
            SELECT bucket, SUM(bytes), SUM(objects) FROM (
                SELECT bucket, size_bytes AS bytes, 1 AS objects FROM objects
                UNION ALL SELECT bucket, size_bytes, 1 FROM versions WHERE is_delete_marker = 0
                UNION ALL SELECT uploads.bucket, parts.size_bytes, 0 FROM parts JOIN uploads USING (upload_id))
            GROUP BY bucket HAVING SUM(bytes) > 0 OR SUM(objects) > 0 ORDER BY bucket
            """
        ) { "\($0.string(0)) \($0.int64(1)) \($0.int64(2))" }
        #expect(counted.filter { !$0.hasSuffix(" 0 0") } == recomputed)
        #expect(!versionBlobs.isEmpty)
        let partBlobs = try database.rows("SELECT record FROM parts") { $0.bytes(0) }
        for blob in partBlobs {
            let part = try RecordBlob.decode(blob) { reader throws(MetaCodecError) in try reader.readPart() }
            for chunk in part.chunks { expected[chunk.id, default: 0] += 1 }
        }
        let stored = try database.rows("SELECT chunk_id, ref_count FROM chunk_refs") { ($0.bytes(0), $0.int64(1)) }
        #expect(stored.count == expected.count)
        for (idBytes, count) in stored {
            let id = idBytes.reduce(ChunkID(0)) { $0 << 8 | ChunkID($1) }
            #expect(expected[id] == count, "chunk \(id)")
        }
        let overlap = try database.firstRow(
            "SELECT count(*) FROM garbage WHERE chunk_id IN (SELECT chunk_id FROM chunk_refs)"
        ) {
            $0.int64(0)
        }
        #expect(overlap == 0)
        #expect(!expected.isEmpty)
    }

    // Goal: a batch is atomic with its applied index; reopening finds the same state and index.
    @Test func reopenKeepsStateAndIndex() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/meta.sqlite"
        let log = plausibleCommandLog(seed: 31, count: 300)
        let before: [String]
        do {
            let driver = try MachineDriver(path: path)
            _ = try driver.applyBatch(Array(log[..<150]))
            _ = try driver.applyBatch(Array(log[150...]))
            #expect(driver.machine.appliedIndex() == 300)
            before = try driver.machine.dump()
            driver.machine.close()
        }
        let reopened = try MachineDriver(path: path)
        defer { reopened.machine.close() }
        #expect(reopened.machine.appliedIndex() == 300)
        #expect(try reopened.machine.dump() == before)
    }

    // Goal: snapshot (backup API) captures the state at the applied index; restoring it into a machine that
    // moved on, and into a fresh machine, gives exactly the snapshot's state and index.
    @Test func snapshotAndRestore() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let log = plausibleCommandLog(seed: 41, count: 400)
        let driver = try MachineDriver(path: directory.path + "/meta.sqlite")
        defer { driver.machine.close() }
        _ = try driver.applyBatch(Array(log[..<200]))
        let snapshotPath = directory.path + "/snapshot.sqlite"
        #expect(try driver.machine.snapshot(to: snapshotPath) == 200)
        let atSnapshot = try driver.machine.dump()
        _ = try driver.applyBatch(Array(log[200...]))
        #expect(try driver.machine.dump() != atSnapshot)
        #expect(try driver.machine.restore(from: snapshotPath) == 200)
        #expect(try driver.machine.dump() == atSnapshot)
        // The restored machine goes on applying from index 201 exactly like the original did.
        driver.nextIndex = 201
        _ = try driver.applyBatch(Array(log[200...]))
        let fresh = try MachineDriver(path: directory.path + "/fresh.sqlite")
        defer { fresh.machine.close() }
        #expect(try fresh.machine.restore(from: snapshotPath) == 200)
        fresh.nextIndex = 201
        _ = try fresh.applyBatch(Array(log[200...]))
        #expect(try fresh.machine.dump() == (try driver.machine.dump()))
    }

    // Goal: request ids are forgotten by command time and by count, and a retry inside the window is
    // answered from memory.
    @Test func commandIDsExpireByCommandTime() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try MachineDriver(path: directory.path + "/meta.sqlite")
        defer { driver.machine.close() }
        let create = MetaCommand.createBucket(envelope("r1", time: testStartTime), name: "b")
        #expect(try driver.apply(create) == .done)
        #expect(try driver.apply(create) == .done)
        let later = testStartTime + MetaLimits.commandIDRetentionMilliseconds + 1
        #expect(try driver.apply(.createBucket(envelope("r2", time: later), name: "c")) == .done)
        // r1 is forgotten: the same command now runs again and is refused.
        #expect(try driver.apply(create) == .failed(.bucketAlreadyOwnedByYou))
        #expect(driver.machine.requestCount == 2)
    }

    // Goal: a burst beyond the count limit forgets no request id younger than the minimum retention (a
    // gateway may still retry it); once command time moves past it, the count limit applies again.
    @Test func commandIDCountLimitSparesRecentIDs() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try MachineDriver(path: directory.path + "/meta.sqlite")
        defer { driver.machine.close() }
        driver.machine.commandIDCountMax = 10
        for index in 0..<30 {
            _ = try driver.apply(.createBucket(envelope("burst-\(index)", time: testStartTime + Int64(index)), name: "b\(index)"))
        }
        #expect(driver.machine.requestCount == 30)
        // The first of the burst is still answered from memory, not run again.
        #expect(try driver.apply(.createBucket(envelope("burst-0", time: testStartTime), name: "b0")) == .done)
        let later = testStartTime + MetaLimits.commandIDRetentionMinMilliseconds + 100
        _ = try driver.apply(.createBucket(envelope("after", time: later), name: "after"))
        #expect(driver.machine.requestCount == 10 + 1)  // pruned to the limit, then "after" remembered
    }

    // Goal: an empty entry is a no-op that still advances the applied index; an undecodable entry is
    // answered with a fault on every replica alike instead of stopping the machine.
    @Test func emptyAndUndecodableEntries() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try MachineDriver(path: directory.path + "/meta.sqlite")
        defer { driver.machine.close() }
        let results = try driver.machine.apply(batch: [(index: 5, command: []), (index: 7, command: [1, 99, 0])])
        #expect(results[0] == .done)
        if case .failed(.internalFault) = results[1] {} else { Issue.record("expected a fault, got \(results[1])") }
        #expect(driver.machine.appliedIndex() == 7)
    }

    // Goal: a chunk already queued as garbage cannot be linked again (the blob store may be deleting it).
    @Test func garbageChunkCannotBeRelinked() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try MachineDriver(path: directory.path + "/meta.sqlite")
        defer { driver.machine.close() }
        try driver.apply(.createBucket(envelope("b"), name: "b"))
        let shared = [chunk(77, 4)]
        #expect(
            try driver.apply(
                .putObject(
                    envelope("p1"), object: objectRecord(bucket: "b", key: "src", chunks: shared),
                    precondition: .none, startedTime: testStartTime)) == .stored(versionID: nil))
        // A metadata-only copy shares the chunk; deleting the source keeps it alive.
        #expect(
            try driver.apply(
                .putObject(
                    envelope("p2"), object: objectRecord(bucket: "b", key: "copy", chunks: shared),
                    precondition: .none, startedTime: testStartTime)) == .stored(versionID: nil))
        #expect(try driver.apply(.deleteObjects(envelope("d1"), bucket: "b", keys: ["src"])) == .deleted([true]))
        #expect(try driver.machine.garbageChunks(limit: 10).isEmpty)
        #expect(try driver.apply(.deleteObjects(envelope("d2"), bucket: "b", keys: ["copy"])) == .deleted([true]))
        #expect(try driver.machine.garbageChunks(limit: 10).map(\.chunk) == shared)
        let relink = try driver.apply(
            .putObject(
                envelope("p3"), object: objectRecord(bucket: "b", key: "again", chunks: shared),
                precondition: .none, startedTime: testStartTime))
        // A copy whose source was deleted meanwhile: the client sees the source gone (NoSuchKey).
        #expect(relink == .failed(.noSuchKey))
    }

    // Goal: deleteBucket decides at apply time. An object refuses it (uploads stay); with
    // `abortingUploads`, open uploads are aborted in the same transaction and their parts' chunks are queued
    // as garbage; a format-1 command (no flag) still refuses a bucket with an upload. Method: drive the
    // machine directly and read its tables.
    @Test func deleteBucketAbortsUploadsAtApplyTime() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try MachineDriver(path: directory.path + "/meta.sqlite")
        defer { driver.machine.close() }
        try driver.apply(.createBucket(envelope("c"), name: "b"))
        for (index, uploadID) in ["u1", "u2"].enumerated() {
            try driver.apply(
                .createMultipartUpload(
                    envelope("cu\(index)"), upload: uploadRecord(bucket: "b", key: "k\(index)", uploadID: uploadID)))
            for number in 1...2 {
                let result = try driver.apply(
                    .putPart(
                        envelope("pp\(index)-\(number)"), bucket: "b", key: "k\(index)", uploadID: uploadID,
                        part: partRecord(number, sizeBytes: 3, chunkID: ChunkID(10 * index + number)),
                        startedTime: testStartTime))
                #expect(result == .done)
            }
        }
        try driver.apply(
            .putObject(
                envelope("p"), object: objectRecord(bucket: "b", key: "obj", chunks: [chunk(99, 2)]),
                precondition: .none, startedTime: testStartTime))
        // An object refuses the delete, whatever the flag; nothing is aborted.
        #expect(
            try driver.apply(.deleteBucket(envelope("d1"), name: "b", abortingUploads: true))
                == .failed(.bucketNotEmpty))
        #expect(try driver.machine.upload(bucket: "b", key: "k0", uploadID: "u1", requester: "alice") != nil)
        #expect(try driver.machine.garbageChunks(limit: 10).isEmpty)
        try driver.apply(.deleteObjects(envelope("do"), bucket: "b", keys: ["obj"]))
        // Without the flag (a format-1 command), uploads keep the bucket.
        #expect(
            try driver.apply(.deleteBucket(envelope("d2"), name: "b", abortingUploads: false))
                == .failed(.bucketNotEmpty))
        #expect(try driver.apply(.deleteBucket(envelope("d4"), name: "b", abortingUploads: true)) == .done)
        #expect(try driver.machine.bucketRecord("b") == nil)
        #expect(Set(try driver.machine.garbageChunks(limit: 10).map(\.chunk.id)) == [99, 1, 2, 11, 12])
        let leftovers = try driver.machine.database.firstRow(
            "SELECT (SELECT count(*) FROM uploads) + (SELECT count(*) FROM parts) + (SELECT count(*) FROM chunk_refs)"
        ) { $0.int64(0) }
        #expect(leftovers == 0)
        // A bucket of the same name starts with no uploads.
        try driver.apply(.createBucket(envelope("c2"), name: "b"))
        let page = try driver.machine.listUploads(
            ListUploadsQuery(bucket: "b", prefix: "", delimiter: "", keyMarker: "", uploadIDMarker: "", maxUploads: 10),
            requester: "alice")
        #expect(page.uploads.isEmpty)
    }
}

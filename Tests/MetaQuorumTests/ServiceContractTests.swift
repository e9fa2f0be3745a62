import Foundation
import Testing

@testable import MetaQuorum

/// Goal: every `MetadataService` method and every error case it documents, through the real embedded
/// service (thread, SQLite, codec). Method: each test opens a service on a fresh temp directory.
@Suite("EmbeddedMetadataService contract")
struct ServiceContractTests {
    let ids = CommandIDs()

    func withService(_ body: (EmbeddedMetadataService, TestClock) async throws -> Void) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let clock = TestClock(testStartTime)
        let service = try await makeService(directory, clock: clock)
        do {
            try await body(service, clock)
        } catch {
            await service.close()
            throw error
        }
        await service.close()
    }

    @Test func users() async throws {
        try await withService { service, _ in
            let alice = UserRecord(
                name: "alice", accessKeyID: "AKALICE", secretAccessKey: "s1", isRoot: true, createdTime: 1)
            let bob = UserRecord(
                name: "bob", accessKeyID: "AKBOB", secretAccessKey: "s2", isRoot: false, createdTime: 2)
            try await service.createUser(bob, commandID: ids.make())
            try await service.createUser(alice, commandID: ids.make())
            #expect(try await service.listUsers() == [alice, bob])
            #expect(try await service.user(accessKeyID: "AKBOB") == bob)
            #expect(try await service.user(accessKeyID: "nope") == nil)
            await #expect(throws: MetaError.userAlreadyExists) {
                try await service.createUser(alice, commandID: ids.make())
            }
            var sameKey = bob
            sameKey.name = "carol"
            await #expect(throws: MetaError.userAlreadyExists) {
                try await service.createUser(sameKey, commandID: ids.make())
            }
            try await service.deleteUser(name: "bob", heir: nil, commandID: ids.make())
            await #expect(throws: MetaError.noSuchUser) {
                try await service.deleteUser(name: "bob", heir: nil, commandID: ids.make())
            }
            #expect(try await service.user(accessKeyID: "AKBOB") == nil)
            await #expect(throws: MetaError.invalidArgument("empty command id")) {
                try await service.deleteUser(name: "alice", heir: nil, commandID: "")
            }
        }
    }

    @Test func buckets() async throws {
        try await withService { service, _ in
            try await service.createBucket(name: "b2", owner: "alice", time: 20, commandID: ids.make())
            try await service.createBucket(name: "b1", owner: "alice", time: 10, commandID: ids.make())
            try await service.createBucket(name: "c", owner: "bob", time: 30, commandID: ids.make())
            #expect(
                try await service.listBuckets(owner: "alice") == [
                    BucketRecord(name: "b1", owner: "alice", createdTime: 10),
                    BucketRecord(name: "b2", owner: "alice", createdTime: 20),
                ])
            #expect(try await service.bucket(name: "c") == BucketRecord(name: "c", owner: "bob", createdTime: 30))
            #expect(try await service.bucket(name: "zz") == nil)
            await #expect(throws: MetaError.bucketAlreadyOwnedByYou) {
                try await service.createBucket(name: "b1", owner: "alice", time: 40, commandID: ids.make())
            }
            await #expect(throws: MetaError.bucketAlreadyExists) {
                try await service.createBucket(name: "b1", owner: "bob", time: 40, commandID: ids.make())
            }
            await #expect(throws: MetaError.noSuchBucket) {
                try await service.deleteBucket(name: "zz", requester: "alice", commandID: ids.make())
            }
            try await service.deleteBucket(name: "b1", requester: "alice", commandID: ids.make())
            #expect(try await service.bucket(name: "b1") == nil)
        }
    }

    // Goal: a bucket with an object is not empty; one with only in-progress uploads is deleted and the
    // uploads with it (as AWS does), their parts' chunks queued as garbage.
    @Test func bucketNotEmpty() async throws {
        try await withService { service, _ in
            try await service.createBucket(name: "b", owner: "alice", time: 1, commandID: ids.make())
            try await service.putObject(
                objectRecord(bucket: "b", key: "k", chunks: [chunk(1, 5)]), requester: "alice",
                precondition: .none, startedTime: testStartTime, commandID: ids.make())
            await #expect(throws: MetaError.bucketNotEmpty) {
                try await service.deleteBucket(name: "b", requester: "alice", commandID: ids.make())
            }
            try await service.deleteObjects(
                bucket: "b", keys: ["k"], requester: "alice", time: testStartTime, commandID: ids.make())
            try await service.createMultipartUpload(
                uploadRecord(bucket: "b", key: "m", uploadID: "u1"), requester: "alice",
                commandID: ids.make())
            try await service.putPart(
                partRecord(1, sizeBytes: 4, chunkID: 2), bucket: "b", key: "m", uploadID: "u1",
                requester: "alice", startedTime: testStartTime, commandID: ids.make())
            try await service.deleteBucket(name: "b", requester: "alice", commandID: ids.make())
            #expect(try await service.bucket(name: "b") == nil)
            #expect(Set(try await service.garbageChunks(limit: 10).map(\.chunk.id)) == [1, 2])
        }
    }

    // Goal: the repairer's scan pages through every live chunk, objects first in (bucket, key) order then open
    // uploads' parts, naming the nodes recorded for each; a page boundary in either table neither skips nor
    // repeats a record, and replaced or deleted objects' chunks are not listed.
    @Test func chunkPlacementScanPagesThroughObjectsThenParts() async throws {
        try await withService { service, _ in
            try await service.createBucket(name: "a", owner: "alice", time: 1, commandID: ids.make())
            try await service.createBucket(name: "b", owner: "alice", time: 1, commandID: ids.make())
            let placed = { (id: ChunkID) in ChunkRef(id: id, sizeBytes: 10, nodes: [UInt32(id % 3) + 1, 9]) }
            for (bucket, key, ids_) in [("b", "x", [5, 6]), ("a", "z", [3]), ("a", "y", [1, 2]), ("b", "w", [4])] {
                try await service.putObject(
                    objectRecord(bucket: bucket, key: key, chunks: ids_.map { placed(ChunkID($0)) }), requester: "alice",
                    precondition: .none, startedTime: testStartTime, commandID: ids.make())
            }
            // Replaced: chunk 4 becomes garbage and must not be scanned.
            try await service.putObject(
                objectRecord(bucket: "b", key: "w", etag: "fedcba9876543210fedcba9876543210", chunks: [placed(7)]),
                requester: "alice", precondition: .none, startedTime: testStartTime, commandID: ids.make())
            try await service.createMultipartUpload(
                uploadRecord(bucket: "b", key: "m", uploadID: "u1"), requester: "alice", commandID: ids.make())
            for number in 1...3 {
                try await service.putPart(
                    partRecord(number, sizeBytes: 10, chunkID: ChunkID(10 + number)), bucket: "b", key: "m",
                    uploadID: "u1", requester: "alice", startedTime: testStartTime, commandID: ids.make())
            }
            for limit in [1, 2, 3, 4, 10] {
                var position: ChunkScanPosition?
                var seen: [ChunkID] = []
                var pages = 0
                repeat {
                    let page = try await service.chunkPlacements(after: position, limit: limit)
                    seen += page.chunks.map(\.id)
                    for chunk in page.chunks where chunk.id < 10 { #expect(chunk.nodes == [UInt32(chunk.id % 3) + 1, 9]) }
                    position = page.next
                    pages += 1
                } while position != nil && pages < 20
                // a/y, a/z, b/w (replaced), b/x, then the parts of u1.
                #expect(seen == [1, 2, 3, 7, 5, 6, 11, 12, 13], "limit \(limit)")
            }
        }
    }

    @Test func objectsAndAccess() async throws {
        try await withService { service, _ in
            try await service.createBucket(name: "b", owner: "alice", time: 1, commandID: ids.make())
            let first = objectRecord(bucket: "b", key: "k", chunks: [chunk(1, 3), chunk(2, 4)])
            try await service.putObject(
                first, requester: "alice", precondition: .none, startedTime: testStartTime,
                commandID: ids.make())
            #expect(try await service.object(bucket: "b", key: "k", requester: "alice") == first.owned(by: "alice"))
            #expect(try await service.object(bucket: "b", key: "missing", requester: "alice") == nil)
            await #expect(throws: MetaError.noSuchBucket) {
                try await service.object(bucket: "x", key: "k", requester: "alice")
            }
            await #expect(throws: MetaError.noSuchBucket) {
                try await service.putObject(
                    objectRecord(bucket: "x", key: "k2"), requester: "alice", precondition: .none,
                    startedTime: testStartTime, commandID: ids.make())
            }
            // Replacing queues the old chunks as garbage; the new ones are referenced.
            let second = objectRecord(
                bucket: "b", key: "k", etag: "fedcba9876543210fedcba9876543210", chunks: [chunk(3, 9)])
            try await service.putObject(
                second, requester: "alice", precondition: .none, startedTime: testStartTime,
                commandID: ids.make())
            #expect(try await service.garbageChunks(limit: 10).map(\.chunk.id) == [1, 2])
            #expect(try await service.referencedChunks([1, 2, 3, 4]) == [1, 2, 3])
            let removed = try await service.deleteObjects(
                bucket: "b", keys: ["k", "nothing", "k"], requester: "alice",
                time: testStartTime + 5, commandID: ids.make())
            #expect(removed == [true, false, false])
            let garbage = try await service.garbageChunks(limit: 10)
            #expect(garbage.map(\.chunk) == [chunk(1, 3), chunk(2, 4), chunk(3, 9)])
            #expect(garbage.last?.queuedTime == testStartTime + 5)
            #expect(try await service.garbageChunks(limit: 1).count == 1)
            try await service.forgetGarbage([1, 3], commandID: ids.make())
            #expect(try await service.garbageChunks(limit: 10).map(\.chunk.id) == [2])
            #expect(try await service.referencedChunks([1, 2, 3]) == [2])
        }
    }

    // Goal: If-None-Match (* or an ETag) and If-Match (an ETag or *) are decided at apply time against the
    // current version; If-Match without a current version is NoSuchKey, as in S3.
    @Test func writePreconditions() async throws {
        try await withService { service, _ in
            try await service.createBucket(name: "b", owner: "alice", time: 1, commandID: ids.make())
            let etagA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
            let etagB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
            for precondition in [WritePrecondition.ifMatch(etagA), .ifMatchAny] {
                await #expect(throws: MetaError.noSuchKey) {
                    try await service.putObject(
                        objectRecord(bucket: "b", key: "k", etag: etagA), requester: "alice",
                        precondition: precondition, startedTime: testStartTime, commandID: ids.make())
                }
            }
            // If-None-Match with an ETag holds when there is no current version.
            try await service.putObject(
                objectRecord(bucket: "b", key: "n", etag: etagA), requester: "alice",
                precondition: .ifNoneMatch(etagA), startedTime: testStartTime, commandID: ids.make())
            await #expect(throws: MetaError.preconditionFailed) {
                try await service.putObject(
                    objectRecord(bucket: "b", key: "n", etag: etagB), requester: "alice",
                    precondition: .ifNoneMatch(etagA.uppercased()), startedTime: testStartTime,
                    commandID: ids.make())
            }
            try await service.putObject(
                objectRecord(bucket: "b", key: "n", etag: etagB), requester: "alice",
                precondition: .ifNoneMatch(etagB.replacingOccurrences(of: "b", with: "c")),
                startedTime: testStartTime, commandID: ids.make())
            try await service.putObject(
                objectRecord(bucket: "b", key: "n", etag: etagA), requester: "alice",
                precondition: .ifMatchAny, startedTime: testStartTime, commandID: ids.make())
            #expect(try await service.object(bucket: "b", key: "n", requester: "alice")?.etag == etagA)
            try await service.putObject(
                objectRecord(bucket: "b", key: "k", etag: etagA), requester: "alice",
                precondition: .ifNoneMatchAny, startedTime: testStartTime, commandID: ids.make())
            await #expect(throws: MetaError.preconditionFailed) {
                try await service.putObject(
                    objectRecord(bucket: "b", key: "k", etag: etagB), requester: "alice",
                    precondition: .ifNoneMatchAny, startedTime: testStartTime, commandID: ids.make())
            }
            await #expect(throws: MetaError.preconditionFailed) {
                try await service.putObject(
                    objectRecord(bucket: "b", key: "k", etag: etagB), requester: "alice",
                    precondition: .ifMatch(etagB), startedTime: testStartTime, commandID: ids.make())
            }
            try await service.putObject(
                objectRecord(bucket: "b", key: "k", etag: etagB), requester: "alice",
                precondition: .ifMatch(etagA), startedTime: testStartTime, commandID: ids.make())
            #expect(try await service.object(bucket: "b", key: "k", requester: "alice")?.etag == etagB)
        }
    }

    // Goal: concurrent If-None-Match: * writers of one key: exactly one wins (apply-time check).
    @Test func concurrentCreateOnlyWritersOneWins() async throws {
        try await withService { service, _ in
            try await service.createBucket(name: "b", owner: "alice", time: 1, commandID: ids.make())
            let wins = await withTaskGroup(of: Bool.self) { group in
                for writer in 0..<20 {
                    group.addTask {
                        do {
                            try await service.putObject(
                                objectRecord(bucket: "b", key: "k", etag: md5Hex(writer)),
                                requester: "alice", precondition: .ifNoneMatchAny,
                                startedTime: testStartTime, commandID: "writer-\(writer)")
                            return true
                        } catch {
                            return false
                        }
                    }
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1)
        }
    }

    @Test func requestTooOld() async throws {
        try await withService { service, clock in
            try await service.createBucket(name: "b", owner: "alice", time: 1, commandID: ids.make())
            try await service.createMultipartUpload(
                uploadRecord(bucket: "b", key: "m", uploadID: "u"), requester: "alice",
                commandID: ids.make())
            // At the limit a write still commits; one millisecond later it is refused. (Command times never go
            // back, so the boundary comes first.)
            clock.milliseconds = testStartTime + MetaLimits.writeAgeMaxMilliseconds
            try await service.putObject(
                objectRecord(bucket: "b", key: "k"), requester: "alice", precondition: .none,
                startedTime: testStartTime, commandID: ids.make())
            clock.milliseconds = testStartTime + MetaLimits.writeAgeMaxMilliseconds + 1
            await #expect(throws: MetaError.requestTooOld) {
                try await service.putObject(
                    objectRecord(bucket: "b", key: "k"), requester: "alice", precondition: .none,
                    startedTime: testStartTime, commandID: ids.make())
            }
            await #expect(throws: MetaError.requestTooOld) {
                try await service.putPart(
                    partRecord(1, sizeBytes: 5, chunkID: 9), bucket: "b", key: "m", uploadID: "u",
                    requester: "alice", startedTime: testStartTime, commandID: ids.make())
            }
        }
    }

    // Goal: a retried command (same request id) gets the first outcome and is not applied twice, for
    // successes and failures alike.
    @Test func idempotentRetry() async throws {
        try await withService { service, _ in
            // (Command times matter: request ids are forgotten by command time.)
            try await service.createBucket(name: "b", owner: "alice", time: testStartTime, commandID: "create-b")
            try await service.createBucket(name: "b", owner: "alice", time: testStartTime, commandID: "create-b")
            try await service.putObject(
                objectRecord(bucket: "b", key: "k", chunks: [chunk(1, 1)]), requester: "alice",
                precondition: .ifNoneMatchAny, startedTime: testStartTime, commandID: "put-1")
            // The same request again: succeeds (first outcome) although If-None-Match would now fail.
            try await service.putObject(
                objectRecord(bucket: "b", key: "k", chunks: [chunk(1, 1)]), requester: "alice",
                precondition: .ifNoneMatchAny, startedTime: testStartTime, commandID: "put-1")
            #expect(try await service.garbageChunks(limit: 10).isEmpty)
            let first = try await service.deleteObjects(
                bucket: "b", keys: ["k"], requester: "alice", time: testStartTime, commandID: "del-1")
            let again = try await service.deleteObjects(
                bucket: "b", keys: ["k"], requester: "alice", time: testStartTime, commandID: "del-1")
            #expect(first == [true])
            #expect(again == [true])
            try await service.putObject(
                objectRecord(bucket: "b", key: "k2", chunks: [chunk(2, 1)]), requester: "alice",
                precondition: .none, startedTime: testStartTime, commandID: "put-2")
            await #expect(throws: MetaError.bucketNotEmpty) {
                try await service.deleteBucket(name: "b", requester: "alice", commandID: "del-b")
            }
            // A retry of a failed command fails the same way even once it could succeed.
            try await service.deleteObjects(bucket: "b", keys: ["k2"], requester: "alice", time: testStartTime,
                                            commandID: "del-2")
            await #expect(throws: MetaError.bucketNotEmpty) {
                try await service.deleteBucket(name: "b", requester: "alice", commandID: "del-b")
            }
            // Reusing an id for another kind of command is refused.
            await #expect(throws: MetaError.self) {
                try await service.deleteBucket(name: "b", requester: "alice", commandID: "put-1")
            }
            #expect(try await service.bucket(name: "b") != nil)
        }
    }

    @Test func multipartHappyPathAndRetry() async throws {
        try await withService { service, _ in
            try await service.createBucket(name: "b", owner: "alice", time: 1, commandID: ids.make())
            let upload = uploadRecord(bucket: "b", key: "big", uploadID: "u1")
            try await service.createMultipartUpload(upload, requester: "alice", commandID: ids.make())
            #expect(try await service.upload(bucket: "b", key: "big", uploadID: "u1", requester: "alice") == upload)
            #expect(try await service.upload(bucket: "b", key: "other", uploadID: "u1", requester: "alice") == nil)
            try await service.putPart(
                partRecord(1, sizeBytes: 10, chunkID: 101), bucket: "b", key: "big", uploadID: "u1",
                requester: "alice", startedTime: testStartTime, commandID: ids.make())
            // Replaced part: last upload wins, the old chunk goes to GC.
            try await service.putPart(
                partRecord(1, sizeBytes: 10, chunkID: 102), bucket: "b", key: "big", uploadID: "u1",
                requester: "alice", startedTime: testStartTime, commandID: ids.make())
            try await service.putPart(
                partRecord(2, sizeBytes: 4, chunkID: 103), bucket: "b", key: "big", uploadID: "u1",
                requester: "alice", startedTime: testStartTime, commandID: ids.make())
            try await service.putPart(
                partRecord(3, sizeBytes: 7, chunkID: 104), bucket: "b", key: "big", uploadID: "u1",
                requester: "alice", startedTime: testStartTime, commandID: ids.make())
            #expect(try await service.garbageChunks(limit: 10).map(\.chunk.id) == [101])
            let parts = [
                CompletedPart(partNumber: 1, etag: md5Hex(1)), CompletedPart(partNumber: 3, etag: "\"\(md5Hex(3))\""),
            ]
            let object = try await service.completeMultipartUpload(
                bucket: "b", key: "big", uploadID: "u1", parts: parts, requester: "alice", precondition: .none,
                time: testStartTime + 9, minimumPartSizeBytes: 5, commandID: "complete-1")
            #expect(object.sizeBytes == 17)
            #expect(object.partSizes == [10, 7])
            #expect(object.chunks.map(\.id) == [102, 104])
            #expect(object.lastModifiedTime == testStartTime + 9)
            #expect(object.headers == upload.headers)
            // Python: hashlib.md5(bytes.fromhex(md5Hex(1)) + bytes.fromhex(md5Hex(3))).hexdigest() + "-2"
            #expect(object.etag == "a167f08b88afdca65552d978f3a39eca-2")
            #expect(try await service.object(bucket: "b", key: "big", requester: "alice") == object)
            // The unused part 2 went to GC; the upload is gone.
            #expect(try await service.garbageChunks(limit: 10).map(\.chunk.id) == [101, 103])
            #expect(try await service.upload(bucket: "b", key: "big", uploadID: "u1", requester: "alice") == nil)
            let listed = try await service.listMultipartUploads(
                ListUploadsQuery(
                    bucket: "b", prefix: "", delimiter: "", keyMarker: "", uploadIDMarker: "", maxUploads: 10),
                requester: "alice")
            #expect(listed.uploads.isEmpty)
            // Retrying the completion returns the same object.
            let retried = try await service.completeMultipartUpload(
                bucket: "b", key: "big", uploadID: "u1", parts: parts, requester: "alice", precondition: .none,
                time: testStartTime + 99, minimumPartSizeBytes: 5, commandID: "complete-1")
            #expect(retried == object)
            // So does a new request naming the same parts while the object is the current version.
            let again = try await service.completeMultipartUpload(
                bucket: "b", key: "big", uploadID: "u1", parts: parts, requester: "alice", precondition: .none,
                time: testStartTime + 99, minimumPartSizeBytes: 5, commandID: ids.make())
            #expect(again == object)
            // Other parts, or another upload id, name no upload.
            await #expect(throws: MetaError.noSuchUpload) {
                try await service.completeMultipartUpload(
                    bucket: "b", key: "big", uploadID: "u1", parts: [parts[0]], requester: "alice",
                    precondition: .none, time: testStartTime + 99, minimumPartSizeBytes: 5, commandID: ids.make())
            }
            await #expect(throws: MetaError.noSuchUpload) {
                try await service.completeMultipartUpload(
                    bucket: "b", key: "big", uploadID: "u2", parts: parts, requester: "alice", precondition: .none,
                    time: testStartTime + 99, minimumPartSizeBytes: 5, commandID: ids.make())
            }
            // Once the key holds another version, the upload is just unknown; nothing changed.
            let replacement = objectRecord(bucket: "b", key: "big", chunks: [chunk(105, 1)])
            try await service.putObject(
                replacement, requester: "alice", precondition: .none, startedTime: testStartTime,
                commandID: ids.make())
            await #expect(throws: MetaError.noSuchUpload) {
                try await service.completeMultipartUpload(
                    bucket: "b", key: "big", uploadID: "u1", parts: parts, requester: "alice", precondition: .none,
                    time: testStartTime + 99, minimumPartSizeBytes: 5, commandID: ids.make())
            }
            // Command times never go back: the PUT after the Complete stamped +99 is stamped +99 as well.
            var stored = replacement
            stored.lastModifiedTime = testStartTime + 99
            #expect(try await service.object(bucket: "b", key: "big", requester: "alice") == stored.owned(by: "alice"))
        }
    }

    // Goal: over a replica in this process, a clock that steps back does not take command times with it:
    // each command is stamped with max(the clock, the last committed time), so Last-Modified never goes back.
    @Test func commandTimesNeverGoBackWithTheClock() async throws {
        try await withService { service, clock in
            try await service.createBucket(name: "b", owner: "alice", time: 1, commandID: ids.make())
            clock.milliseconds = testStartTime + 60_000
            try await service.putObject(objectRecord(bucket: "b", key: "a"), requester: "alice", precondition: .none,
                                        startedTime: testStartTime, commandID: ids.make())
            clock.milliseconds = testStartTime + 1_000  // the clock steps back 59 s
            try await service.putObject(objectRecord(bucket: "b", key: "b"), requester: "alice", precondition: .none,
                                        startedTime: testStartTime, commandID: ids.make())
            let first = try #require(try await service.object(bucket: "b", key: "a", requester: "alice"))
            let second = try #require(try await service.object(bucket: "b", key: "b", requester: "alice"))
            #expect(first.lastModifiedTime == testStartTime + 60_000)
            #expect(second.lastModifiedTime == testStartTime + 60_000)
        }
    }

    @Test func multipartErrors() async throws {
        try await withService { service, _ in
            try await service.createBucket(name: "b", owner: "alice", time: 1, commandID: ids.make())
            try await service.createMultipartUpload(
                uploadRecord(bucket: "b", key: "k", uploadID: "u"), requester: "alice",
                commandID: ids.make())
            await #expect(throws: MetaError.noSuchBucket) {
                try await service.createMultipartUpload(
                    uploadRecord(bucket: "x", key: "k", uploadID: "u3"),
                    requester: "alice", commandID: ids.make())
            }
            await #expect(throws: MetaError.noSuchUpload) {
                try await service.putPart(
                    partRecord(1, sizeBytes: 5, chunkID: 1), bucket: "b", key: "k", uploadID: "nope",
                    requester: "alice", startedTime: testStartTime, commandID: ids.make())
            }
            for (number, size) in [(1, 5), (2, 3), (3, 5)] {
                try await service.putPart(
                    partRecord(number, sizeBytes: Int64(size), chunkID: ChunkID(number)), bucket: "b",
                    key: "k", uploadID: "u", requester: "alice", startedTime: testStartTime,
                    commandID: ids.make())
            }
            func complete(_ parts: [CompletedPart], uploadID: String = "u", precondition: WritePrecondition = .none)
                async throws -> ObjectRecord
            {
                try await service.completeMultipartUpload(
                    bucket: "b", key: "k", uploadID: uploadID, parts: parts,
                    requester: "alice", precondition: precondition,
                    time: testStartTime, minimumPartSizeBytes: 4,
                    commandID: ids.make())
            }
            let p1 = CompletedPart(partNumber: 1, etag: md5Hex(1))
            let p2 = CompletedPart(partNumber: 2, etag: md5Hex(2))
            let p3 = CompletedPart(partNumber: 3, etag: md5Hex(3))
            await #expect(throws: MetaError.noSuchUpload) { try await complete([p1], uploadID: "nope") }
            await #expect(throws: MetaError.invalidPartOrder) { try await complete([p3, p1]) }
            await #expect(throws: MetaError.invalidPartOrder) { try await complete([p1, p1]) }
            await #expect(throws: MetaError.invalidPart(partNumber: 4)) {
                try await complete([p1, CompletedPart(partNumber: 4, etag: md5Hex(4))])
            }
            await #expect(throws: MetaError.invalidPart(partNumber: 3)) {
                try await complete([p1, CompletedPart(partNumber: 3, etag: md5Hex(9))])
            }
            await #expect(throws: MetaError.entityTooSmall(partNumber: 2)) { try await complete([p1, p2, p3]) }
            // The too-small part is fine as the last one.
            try await service.putObject(
                objectRecord(bucket: "b", key: "k"), requester: "alice", precondition: .none,
                startedTime: testStartTime, commandID: ids.make())
            await #expect(throws: MetaError.preconditionFailed) {
                try await complete([p1, p2], precondition: .ifNoneMatchAny)
            }
            // Failed completions changed nothing: the upload still lists its parts.
            let page = try await service.listParts(
                bucket: "b", key: "k", uploadID: "u", requester: "alice",
                partNumberMarker: 0, maxParts: 10)
            #expect(page.parts.map(\.partNumber) == [1, 2, 3])
            let object = try await complete([p1, p2], precondition: .ifMatch("0123456789abcdef0123456789abcdef"))
            #expect(object.sizeBytes == 8)
            await #expect(throws: MetaError.noSuchUpload) {
                try await service.abortMultipartUpload(
                    bucket: "b", key: "k", uploadID: "u", requester: "alice",
                    commandID: ids.make())
            }
            await #expect(throws: MetaError.noSuchUpload) {
                try await service.listParts(
                    bucket: "b", key: "k", uploadID: "u", requester: "alice", partNumberMarker: 0,
                    maxParts: 10)
            }
        }
    }

    @Test func abortAndListParts() async throws {
        try await withService { service, _ in
            try await service.createBucket(name: "b", owner: "alice", time: 1, commandID: ids.make())
            try await service.createMultipartUpload(
                uploadRecord(bucket: "b", key: "k", uploadID: "u"), requester: "alice",
                commandID: ids.make())
            for number in 1...5 {
                try await service.putPart(
                    partRecord(number, sizeBytes: 1, chunkID: ChunkID(number)), bucket: "b", key: "k",
                    uploadID: "u", requester: "alice", startedTime: testStartTime, commandID: ids.make())
            }
            let first = try await service.listParts(
                bucket: "b", key: "k", uploadID: "u", requester: "alice",
                partNumberMarker: 0, maxParts: 2)
            #expect(first.parts.map(\.partNumber) == [1, 2])
            #expect(first.isTruncated)
            #expect(first.nextPartNumberMarker == 2)
            let rest = try await service.listParts(
                bucket: "b", key: "k", uploadID: "u", requester: "alice",
                partNumberMarker: 2, maxParts: 10)
            #expect(rest.parts.map(\.partNumber) == [3, 4, 5])
            #expect(!rest.isTruncated)
            try await service.abortMultipartUpload(
                bucket: "b", key: "k", uploadID: "u", requester: "alice", commandID: ids.make())
            #expect(Set(try await service.garbageChunks(limit: 10).map(\.chunk.id)) == [1, 2, 3, 4, 5])
            #expect(try await service.upload(bucket: "b", key: "k", uploadID: "u", requester: "alice") == nil)
        }
    }

    @Test func listMultipartUploadsWithMarkersAndDelimiter() async throws {
        try await withService { service, _ in
            try await service.createBucket(name: "b", owner: "alice", time: 1, commandID: ids.make())
            let uploads: [(String, String, Int64)] = [
                ("a/1", "u5", 5), ("a/2", "u1", 1), ("b", "u3", 3), ("b", "u2", 4), ("b", "u4", 4), ("c", "u6", 0),
            ]
            for (key, id, time) in uploads {
                try await service.createMultipartUpload(
                    uploadRecord(bucket: "b", key: key, uploadID: id, time: time),
                    requester: "alice", commandID: ids.make())
            }
            func list(
                prefix: String = "", delimiter: String = "", keyMarker: String = "", uploadIDMarker: String = "",
                max: Int
            ) async throws -> ListUploadsPage {
                try await service.listMultipartUploads(
                    ListUploadsQuery(
                        bucket: "b", prefix: prefix, delimiter: delimiter, keyMarker: keyMarker,
                        uploadIDMarker: uploadIDMarker, maxUploads: max), requester: "alice")
            }
            let all = try await list(max: 100)
            #expect(all.uploads.map(\.uploadID) == ["u5", "u1", "u3", "u2", "u4", "u6"])
            #expect(!all.isTruncated)
            let page1 = try await list(max: 3)
            #expect(page1.uploads.map(\.uploadID) == ["u5", "u1", "u3"])
            #expect(page1.isTruncated)
            #expect(page1.nextKeyMarker == "b")
            #expect(page1.nextUploadIDMarker == "u3")
            let page2 = try await list(keyMarker: "b", uploadIDMarker: "u3", max: 3)
            #expect(page2.uploads.map(\.uploadID) == ["u2", "u4", "u6"])
            #expect(!page2.isTruncated)
            let afterB = try await list(keyMarker: "b", max: 10)
            #expect(afterB.uploads.map(\.uploadID) == ["u6"])
            let rolled = try await list(delimiter: "/", max: 10)
            #expect(rolled.commonPrefixes == ["a/"])
            #expect(rolled.uploads.map(\.uploadID) == ["u3", "u2", "u4", "u6"])
            let prefixed = try await list(prefix: "a/", max: 10)
            #expect(prefixed.uploads.map(\.key) == ["a/1", "a/2"])
        }
    }

    // Goal: the closed service refuses calls instead of hanging.
    @Test func closedServiceIsUnavailable() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let service = try await makeService(directory, clock: TestClock(testStartTime))
        await service.close()
        await #expect(throws: MetaError.self) { try await service.listUsers() }
        await #expect(throws: MetaError.self) {
            try await service.createBucket(name: "b", owner: "a", time: 1, commandID: "r")
        }
        await service.close()
    }
}

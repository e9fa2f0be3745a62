import Foundation
import Testing

@testable import MetaQuorum

@Suite("EmbeddedMetadataService lifecycle")
struct ServiceLifecycleTests {
    // Goal: everything acknowledged survives close and reopen, and the applied index is preserved.
    // Method: write users, buckets, objects, an upload with parts and garbage; close; reopen the same
    // directory and read it all back.
    @Test func restartKeepsEverything() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let clock = TestClock(testStartTime)
        let user = UserRecord(name: "alice", accessKeyID: "AK", secretAccessKey: "SK", isRoot: true, createdTime: 1)
        let object = objectRecord(bucket: "b", key: "dir/ünï\u{1}code", chunks: [chunk(5, 3)])
        let upload = uploadRecord(bucket: "b", key: "big", uploadID: "u")
        let index: UInt64
        do {
            let service = try await makeService(directory, clock: clock)
            try await service.createUser(user, commandID: "r1")
            try await service.createBucket(name: "b", owner: "alice", time: testStartTime, commandID: "r2")
            try await service.putObject(
                objectRecord(bucket: "b", key: "dir/ünï\u{1}code", chunks: [chunk(4, 3)]),
                requester: "alice", precondition: .none, startedTime: testStartTime, commandID: "r3")
            try await service.putObject(
                object, requester: "alice", precondition: .none, startedTime: testStartTime,
                commandID: "r4")
            try await service.createMultipartUpload(upload, requester: "alice", commandID: "r5")
            try await service.putPart(
                partRecord(1, sizeBytes: 5, chunkID: 6), bucket: "b", key: "big", uploadID: "u",
                requester: "alice", startedTime: testStartTime, commandID: "r6")
            index = try await service.appliedIndex()
            #expect(index == 7)  // the first term's no-op entry, then six commands
            await service.close()
        }
        let service = try await makeService(directory, clock: clock)
        // The new term's no-op entry follows everything from before.
        let restarted = try await service.appliedIndex()
        #expect(restarted == index + 1)
        #expect(try await service.listUsers() == [user])
        #expect(try await service.listBuckets(owner: "alice").map(\.name) == ["b"])
        #expect(try await service.object(bucket: "b", key: object.key, requester: "alice") == object.owned(by: "alice"))
        #expect(try await service.upload(bucket: "b", key: "big", uploadID: "u", requester: "alice") == upload)
        #expect(
            try await service.listParts(
                bucket: "b", key: "big", uploadID: "u", requester: "alice",
                partNumberMarker: 0, maxParts: 10
            ).parts.map(\.partNumber) == [1])
        #expect(try await service.garbageChunks(limit: 10).map(\.chunk.id) == [4])
        #expect(try await service.referencedChunks([4, 5, 6, 7]) == [4, 5, 6])
        // Request ids are remembered across the restart too.
        try await service.createBucket(name: "b", owner: "alice", time: testStartTime, commandID: "r2")
        try await service.createBucket(name: "c", owner: "alice", time: testStartTime, commandID: "r7")
        #expect(try await service.appliedIndex() == restarted + 2)
        await service.close()
    }

    // Goal: a database written before the metadata had a Raft log (applied index 3, no raft/ directory) is
    // adopted, not refused or rewound: its data is there, new writes apply above it, and both survive a restart.
    @Test func preRaftDatabaseIsAdopted() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        do {
            let driver = try MachineDriver(path: directory.path + "/meta.sqlite")
            _ = try driver.apply(.createBucket(envelope("old-1", time: testStartTime), name: "b"))
            _ = try driver.apply(.putObject(envelope("old-2", time: testStartTime),
                                            object: objectRecord(bucket: "b", key: "old", chunks: [chunk(1, 2)]),
                                            precondition: .none, startedTime: testStartTime))
            _ = try driver.apply(.createBucket(envelope("old-3", time: testStartTime), name: "c"))
            #expect(driver.machine.appliedIndex() == 3)
            driver.machine.close()
        }
        for round in 0..<2 {
            let service = try await makeService(directory, clock: TestClock(testStartTime))
            #expect(try await service.listBuckets(owner: "alice").map(\.name) == ["b", "c"] + (0..<round).map { "new\($0)" })
            #expect(try await service.object(bucket: "b", key: "old", requester: "alice")?.key == "old")
            #expect(try await service.appliedIndex() > 3)
            try await service.createBucket(name: "new\(round)", owner: "alice", time: testStartTime, commandID: "new-\(round)")
            await service.close()
        }
        let service = try await makeService(directory, clock: TestClock(testStartTime))
        #expect(try await service.listBuckets(owner: "alice").map(\.name) == ["b", "c", "new0", "new1"])
        await service.close()
    }

    // Goal: putObject calls one at a time and from many concurrent tasks (group-committed together) all
    // commit, each exactly once. Method: count the listed objects and the applied index. (The rates of the
    // two are measured by `silo-microbench meta`, not here.)
    @Test func sequentialAndConcurrentPutsAllCommit() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let service = try await makeService(directory, clock: TestClock(testStartTime))
        try await service.createBucket(name: "b", owner: "alice", time: testStartTime, commandID: "create")
        let start = try await service.appliedIndex()
        let count = 400
        for index in 0..<count {
            try await service.putObject(
                objectRecord(bucket: "b", key: "seq-\(index)", chunks: [chunk(ChunkID(index + 1), 1)]),
                requester: "alice", precondition: .none, startedTime: testStartTime,
                commandID: "seq-\(index)")
        }
        let concurrentCount = 4000
        let concurrency = 64
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    for index in stride(from: worker, to: concurrentCount, by: concurrency) {
                        try await service.putObject(
                            objectRecord(
                                bucket: "b", key: "par-\(index)", chunks: [chunk(ChunkID(100_000 + index), 1)]),
                            requester: "alice", precondition: .none, startedTime: testStartTime,
                            commandID: "par-\(index)")
                    }
                }
            }
            try await group.waitForAll()
        }
        let page = try await service.listObjects(
            ListObjectsQuery(bucket: "b", prefix: "par-", delimiter: "", startAfter: "", maxKeys: 1000),
            requester: "alice")
        #expect(page.objects.count == 1000)
        #expect(page.isTruncated)
        #expect(try await service.appliedIndex() == start + UInt64(count + concurrentCount))
        await service.close()
    }
}

@Suite("MetaLimits")
struct MetaLimitsTests {
    // Goal: the relations between limits that correctness depends on.
    @Test func relations() {
        // The orphan sweeper must never delete the chunks of a write that can still commit.
        #expect(MetaLimits.orphanChunkAgeMinMilliseconds > MetaLimits.writeAgeMaxMilliseconds)
        // A retried request must still be remembered for at least a client's retry horizon (minutes).
        #expect(MetaLimits.commandIDRetentionMilliseconds >= 15 * 60 * 1000)
        #expect(MetaLimits.batchCommandsMax <= MetaLimits.pendingProposalsMax)
        // A DeleteObjects of 1000 keys of 1024 bytes fits in one command.
        #expect(MetaLimits.commandBytesMax > 1000 * 1030)
        #expect(MetaLimits.listEntriesMax == 1000)
    }
}

@Suite("EmbeddedMetadataService durability")
struct ServiceDurabilityTests {
    // Goal: a mutation that returned is committed (not just cached): a second, independent SQLite
    // connection sees it and the applied index while the service is still running (no clean close).
    // The applied index counts Raft's entries too (each new term's no-op), so it is read, not assumed.
    @Test func acknowledgedWritesAreCommittedBeforeReturn() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let service = try await makeService(directory, clock: TestClock(testStartTime))
        try await service.createBucket(name: "b", owner: "alice", time: testStartTime, commandID: "r1")
        let object = objectRecord(bucket: "b", key: "k", chunks: [chunk(1, 2)])
        try await service.putObject(
            object, requester: "alice", precondition: .none, startedTime: testStartTime,
            commandID: "r2")
        let applied = try await service.appliedIndex()
        #expect(applied >= 2)
        let observer = try MetaStateMachine(path: directory.path + "/meta.sqlite")
        #expect(observer.appliedIndex() == applied)
        #expect(try observer.object(bucket: "b", key: "k", requester: "alice") == object.owned(by: "alice"))
        observer.close()
        await service.close()
    }
}

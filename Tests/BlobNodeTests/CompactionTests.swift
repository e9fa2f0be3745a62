import Foundation
import NIOCore
import Testing

@testable import BlobNode

@Suite struct CompactionTests {
    static let chunkLength = 1000

    func bytes(_ id: Int) -> ByteBuffer { chunkBytes(UInt64(id), count: Self.chunkLength) }

    func expectState(_ store: LocalChunkStore, live: [Int], deleted: [Int]) async throws {
        for id in live {
            #expect(try await store.readAll(UInt128(id), length: Self.chunkLength) == self.bytes(id), "chunk \(id)")
        }
        for id in deleted {
            #expect(
                await throwsBlobError(.chunkNotFound(UInt128(id))) { try await store.readAll(UInt128(id), length: 1) },
                "chunk \(id)")
        }
    }

    func diskBytes(_ directory: TemporaryDirectory) -> UInt64 {
        directory.volumePaths().reduce(0) { $0 + fileSize($1) }
    }

    // Goal: compaction reclaims the space of deleted chunks, keeps the live ones, and deleted chunks stay
    // deleted across restarts and later compactions. Method: 70 chunks over ~10 small volumes, delete 3/4.
    @Test func reclaimsSpaceAndKeepsDeletesDeleted() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let options = testOptions(volumeSize: 8192)
        let store = try await LocalChunkStore.open(directory: directory.path, options: options)
        for id in 1...70 { try await store.write(UInt128(id), self.bytes(id)) }
        let deleted = (1...70).filter { $0 % 4 != 0 }
        let live = (1...70).filter { $0 % 4 == 0 }
        try await store.delete(deleted.map { UInt128($0) })
        let before = self.diskBytes(directory)
        let deadBefore = store.stats().deadBytes
        let report = try await store.compact()
        #expect(!report.volumesCompacted.isEmpty)
        #expect(report.bytesReclaimed > 0)
        #expect(self.diskBytes(directory) < before)
        #expect(store.stats().deadBytes < deadBefore)
        #expect(store.stats().liveChunkCount == live.count)
        try await self.expectState(store, live: live, deleted: deleted)
        await store.close()

        for _ in 0..<2 {
            let reopened = try await LocalChunkStore.open(directory: directory.path, options: options)
            try await self.expectState(reopened, live: live, deleted: deleted)
            // Another round after the restart, with more deletes sealed into the next volumes.
            _ = try await reopened.compact()
            try await self.expectState(reopened, live: live, deleted: deleted)
            await reopened.close()
        }
    }

    // Goal: a tombstone survives compaction while the put it cancels survives in another volume, and goes
    // once that put is gone. Method: put A in a mostly-live volume 1, tombstone it in a mostly-dead volume.
    @Test func tombstoneOutlivesThePutItCancels() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let options = testOptions(volumeSize: 8192)
        let store = try await LocalChunkStore.open(directory: directory.path, options: options)
        for id in 1...7 { try await store.write(UInt128(id), self.bytes(id)) }  // volume 1: chunk 1 is "A"
        try await store.delete([1])  // tombstone at the end of volume 1 or the start of volume 2
        for id in 100...130 { try await store.write(UInt128(id), self.bytes(id)) }  // volumes 2...
        try await store.delete((100...130).map { UInt128($0) })
        for id in 200...207 { try await store.write(UInt128(id), self.bytes(id)) }  // seal the dead volumes
        let firstVolume = try #require(directory.volumePaths().first)
        _ = try await store.compact()
        #expect(FileManager.default.fileExists(atPath: firstVolume), "volume 1 is mostly live and must stay")
        #expect(store.core.state.withLock { $0.index.entries[1]?.kind } == .tombstone)
        await store.close()
        let reopened = try await LocalChunkStore.open(directory: directory.path, options: options)
        try await self.expectState(reopened, live: Array(2...7) + Array(200...207), deleted: [1] + Array(100...130))
        // Now delete the rest of volume 1: it is compacted away, and with it the need for the tombstone.
        try await reopened.delete((2...7).map { UInt128($0) })
        for id in 300...310 { try await reopened.write(UInt128(id), self.bytes(id)) }
        _ = try await reopened.compact()
        #expect(!FileManager.default.fileExists(atPath: firstVolume))
        _ = try await reopened.compact()
        #expect(reopened.core.state.withLock { $0.index.entries[1] } == nil, "the tombstone of 1 protects nothing now")
        await reopened.close()
        let last = try await LocalChunkStore.open(directory: directory.path, options: options)
        try await self.expectState(
            last, live: Array(200...207) + Array(300...310), deleted: Array(1...7) + Array(100...130))
        await last.close()
    }

    // Goal: a crash at any point of a compaction loses nothing and resurrects nothing. Method: keep copies of
    // the volumes compaction deletes; afterwards put them back (the unlink was not durable) and cut the active
    // volume at several points inside the copied records (the copy was torn), then reopen and check.
    @Test func crashDuringCompaction() async throws {
        let source = TemporaryDirectory()
        defer { source.remove() }
        let options = testOptions(volumeSize: 8192)
        let store = try await LocalChunkStore.open(directory: source.path, options: options)
        for id in 1...50 { try await store.write(UInt128(id), self.bytes(id)) }
        let deleted = (1...50).filter { $0 % 3 != 0 }
        let live = (1...50).filter { $0 % 3 == 0 }
        try await store.delete(deleted.map { UInt128($0) })
        await store.close()
        var saved: [String: Data] = [:]
        for path in source.volumePaths() { saved[path] = try Data(contentsOf: URL(fileURLWithPath: path)) }
        let activeBefore = source.volumePaths().last!
        let activeSizeBefore = fileSize(activeBefore)

        let compacting = try await LocalChunkStore.open(directory: source.path, options: options)
        let report = try await compacting.compact()
        #expect(report.volumesCompacted.count > 0)
        await compacting.close()
        let afterPaths = source.volumePaths()
        var after: [String: Data] = [:]
        for path in afterPaths { after[path] = try Data(contentsOf: URL(fileURLWithPath: path)) }

        // Cut points in the bytes compaction appended (in the old active volume and any newer ones).
        let appendedEnd = fileSize(activeBefore)
        let cuts = stride(
            from: activeSizeBefore, through: appendedEnd, by: max(1, Int((appendedEnd - activeSizeBefore) / 7)))
        for cut in cuts {
            let directory = TemporaryDirectory()
            defer { directory.remove() }
            for (path, data) in saved {  // the old volumes are back
                try data.write(to: URL(fileURLWithPath: directory.path + "/" + (path as NSString).lastPathComponent))
            }
            let name = (activeBefore as NSString).lastPathComponent
            try after[activeBefore]!.prefix(Int(cut)).write(to: URL(fileURLWithPath: directory.path + "/" + name))
            let reopened = try await LocalChunkStore.open(directory: directory.path, options: options)
            try await self.expectState(reopened, live: live, deleted: deleted)
            #expect(reopened.stats().liveChunkCount == live.count)
            _ = try await reopened.compact()
            try await self.expectState(reopened, live: live, deleted: deleted)
            await reopened.close()
        }
    }

    // Goal: reads, writes and deletes running during a compaction see correct data, and a delete that races
    // with the copy of its chunk is not undone. Method: run them concurrently, then check and reopen.
    @Test func concurrentOperationsDuringCompaction() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let options = testOptions(volumeSize: 8192)
        let store = try await LocalChunkStore.open(directory: directory.path, options: options)
        for id in 1...120 { try await store.write(UInt128(id), self.bytes(id)) }
        try await store.delete((1...120).filter { $0 % 2 == 0 }.map { UInt128($0) })
        let odd = (1...120).filter { $0 % 2 == 1 }
        let lateDeletes = odd.filter { $0 % 5 == 0 }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { _ = try await store.compact() }
            group.addTask { try await store.delete(lateDeletes.map { UInt128($0) }) }
            group.addTask { for id in 500...530 { try await store.write(UInt128(id), self.bytes(id)) } }
            for reader in 0..<3 {
                group.addTask {
                    for id in odd where id % 3 == reader && !lateDeletes.contains(id) {
                        let read = try await store.readAll(UInt128(id), length: Self.chunkLength)
                        #expect(read == self.bytes(id))
                    }
                }
            }
            try await group.waitForAll()
        }
        let live = odd.filter { !lateDeletes.contains($0) } + Array(500...530)
        let deleted = (1...120).filter { $0 % 2 == 0 } + lateDeletes
        try await self.expectState(store, live: live, deleted: deleted)
        _ = try await store.compact()
        await store.close()
        let reopened = try await LocalChunkStore.open(directory: directory.path, options: options)
        try await self.expectState(reopened, live: live, deleted: deleted)
        #expect(reopened.stats().liveChunkCount == live.count)
        await reopened.close()
    }
}

@Suite struct RandomOperationsTests {
    // Goal: the store behaves like a dictionary through any sequence of writes, retries, deletes, reads,
    // compactions and restarts. Method: seeded random operations checked against a naive model.
    @Test(arguments: [1, 2, 3, 4])
    func matchesADictionaryModel(seed: UInt64) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var random = SplitMix64(seed: seed)
        var options = testOptions(volumeSize: 8192)
        options.compactionDeadFractionMin = [0.0, 0.3, 0.6][Int(seed % 3)]
        var store = try await LocalChunkStore.open(directory: directory.path, options: options)
        var model: [UInt128: ByteBuffer] = [:]
        var nextID: UInt128 = 1
        func anyID(_ random: inout SplitMix64) -> UInt128 { UInt128(random.next() % UInt64(nextID + 2)) }
        for step in 0..<300 {
            switch random.next() % 100 {
            case 0..<40:
                let bytes = chunkBytes(random.next(), count: Int(random.next() % 3000))
                try await store.write(nextID, bytes)
                model[nextID] = bytes
                nextID += 1
            case 40..<45:
                if let (id, bytes) = model.min(by: { $0.key < $1.key }) { try await store.write(id, bytes) }
            case 45..<65:
                let ids = (0..<(1 + random.next() % 4)).map { _ in anyID(&random) }
                try await store.delete(ids)
                for id in ids { model[id] = nil }
            case 65..<90:
                let id = anyID(&random)
                if let bytes = model[id] {
                    let offset = Int(random.next() % UInt64(bytes.readableBytes + 1))
                    let length = Int(random.next() % UInt64(bytes.readableBytes - offset + 1))
                    #expect(
                        try await store.read(id, offset: offset, length: length)
                            == bytes.getSlice(at: offset, length: length), "step \(step)")
                } else {
                    #expect(
                        await throwsBlobError(.chunkNotFound(id)) { try await store.read(id, offset: 0, length: 0) },
                        "step \(step)")
                }
            case 90..<96:
                _ = try await store.compact()
            default:
                await store.close()
                store = try await LocalChunkStore.open(directory: directory.path, options: options)
            }
        }
        for id in 0..<(nextID + 2) {
            if let bytes = model[id] {
                #expect(try await store.readAll(id, length: bytes.readableBytes) == bytes)
            } else {
                #expect(await throwsBlobError(.chunkNotFound(id)) { try await store.read(id, offset: 0, length: 0) })
            }
        }
        #expect(store.stats().liveChunkCount == model.count)
        #expect(store.stats().livePayloadBytes == model.values.reduce(0) { $0 + UInt64($1.readableBytes) })
        #expect(store.stats().corruptRecordCount == 0)
        await store.close()
    }
}

@Suite struct CompactionStepTests {
    // Goal: a bounded step compacts at most `volumesMax` volumes and reports what remains, so a background
    // loop can pace itself. Method: many mostly-deleted volumes, step one at a time until nothing remains.
    @Test func boundedStepsReportWhatRemains() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try await LocalChunkStore.open(directory: directory.path, options: testOptions(volumeSize: 8192))
        for id in 1...40 { try await store.write(UInt128(id), chunkBytes(UInt64(id), count: 1000)) }
        try await store.delete((1...35).map { UInt128($0) })
        var steps = 0
        var report = try await store.compact(volumesMax: 1)
        #expect(report.volumesCompacted.count == 1)
        #expect(report.candidatesRemaining > 0)
        while report.candidatesRemaining > 0 {
            steps += 1
            #expect(steps < 20, "compaction steps do not converge")
            report = try await store.compact(volumesMax: 1)
            #expect(report.volumesCompacted.count <= 1)
        }
        #expect(try await store.compact().volumesCompacted.isEmpty)
        for id in 36...40 {
            #expect(try await store.readAll(UInt128(id), length: 1000) == chunkBytes(UInt64(id), count: 1000))
        }
        await store.close()
    }
}

extension CompactionStepTests {
    // Goal: a volume with a corrupt live record is never compacted (the chunk is not silently dropped) and
    // does not keep a background loop busy. Method: corrupt a live record of a mostly-dead sealed volume.
    @Test func corruptLiveRecordBlocksOnlyItsVolume() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try await LocalChunkStore.open(directory: directory.path, options: testOptions(volumeSize: 8192))
        for id in 1...20 { try await store.write(UInt128(id), chunkBytes(UInt64(id), count: 1000)) }
        try await store.delete((2...20).filter { $0 != 10 }.map { UInt128($0) })
        let first = try #require(directory.volumePaths().first)
        flipByte(first, at: UInt64(RecordHeader.size) + 5)  // chunk 1's payload, in volume 1
        let report = try await store.compact()
        #expect(!report.volumesCompacted.contains(1))
        #expect(report.candidatesRemaining == 0)
        #expect(FileManager.default.fileExists(atPath: first))
        #expect(await throwsBlobError(.checksumMismatch(1)) { try await store.readAll(1, length: 1000) })
        #expect(try await store.readAll(10, length: 1000) == chunkBytes(10, count: 1000))
        await store.close()
    }
}

import Foundation
import NIOCore
import Synchronization
import Testing

@testable import BlobNode

@Suite struct StoreTests {
    @Test func writeReadRangesAndErrors() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try await LocalChunkStore.open(directory: directory.path, options: testOptions())
        let bytes = chunkBytes(1, count: 10_000)
        try await store.write(1, bytes)
        #expect(try await store.read(1, offset: 0, length: 10_000) == bytes)
        #expect(try await store.read(1, offset: 1234, length: 100) == bytes.getSlice(at: 1234, length: 100))
        #expect(try await store.read(1, offset: 10_000, length: 0).readableBytes == 0)
        #expect(await throwsBlobError(.rangeOutOfBounds(1)) { try await store.read(1, offset: 9_999, length: 2) })
        #expect(await throwsBlobError(.rangeOutOfBounds(1)) { try await store.read(1, offset: -1, length: 1) })
        #expect(await throwsBlobError(.chunkNotFound(2)) { try await store.read(2, offset: 0, length: 1) })
        // Empty chunks are chunks too.
        try await store.write(3, ByteBuffer())
        #expect(try await store.read(3, offset: 0, length: 0).readableBytes == 0)
        await store.close()
        #expect(
            await throwsBlobError(.unavailable("the chunk store is closed")) {
                try await store.read(1, offset: 0, length: 1)
            })
        #expect(await throwsBlobError(.unavailable("the chunk store is closed")) { try await store.write(9, bytes) })
    }

    // Goal: a retried write is a no-op; reusing an id for other bytes is refused. Method: count records appended.
    @Test func retriedWriteIsIdempotent() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try await LocalChunkStore.open(directory: directory.path, options: testOptions())
        try await store.write(1, chunkBytes(1, count: 100))
        try await store.write(1, chunkBytes(1, count: 100))
        #expect(store.stats().recordsAppended == 1)
        #expect(await throwsBlobError(.conflictingRewrite(1)) { try await store.write(1, chunkBytes(2, count: 100)) })
        #expect(try await store.readAll(1, length: 100) == chunkBytes(1, count: 100))
        await store.close()
    }

    @Test func deletesAreTombstonesThatSurviveRestart() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try await LocalChunkStore.open(directory: directory.path, options: testOptions())
        for id in 1...10 { try await store.write(UInt128(id), chunkBytes(UInt64(id), count: 500)) }
        try await store.delete([2, 4, 6, 99])
        try await store.delete([2])  // idempotent: no new record
        #expect(store.stats().recordsAppended == 13)
        #expect(store.stats().liveChunkCount == 7)
        #expect(store.stats().tombstoneCount == 3)
        await store.close()
        let reopened = try await LocalChunkStore.open(directory: directory.path, options: testOptions())
        for id in [2, 4, 6] {
            #expect(
                await throwsBlobError(.chunkNotFound(UInt128(id))) {
                    try await reopened.readAll(UInt128(id), length: 500)
                })
        }
        for id in [1, 3, 5, 7, 8, 9, 10] {
            #expect(try await reopened.readAll(UInt128(id), length: 500) == chunkBytes(UInt64(id), count: 500))
        }
        #expect(reopened.stats().liveChunkCount == 7)
        #expect(reopened.stats().livePayloadBytes == 3500)
        await reopened.close()
    }

    /// Goal: the sweeper's listing pages through old chunks by ascending id, skipping young and deleted ones.
    @Test func sweeperListsOldChunksByIdWithACursor() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock()
        var options = testOptions()
        options.currentTimeMs = { clock.now() }
        let store = try await LocalChunkStore.open(directory: directory.path, options: options)
        for id in [5, 3, 9, 1] { try await store.write(UInt128(id), chunkBytes(UInt64(id), count: 10)) }
        // Times: 5→1000, 3→2000, 9→3000, 1→4000.
        #expect(try await store.chunks(writtenBeforeTime: 3001, after: nil, limit: 10) == [3, 5, 9])
        #expect(try await store.chunks(writtenBeforeTime: 3001, after: nil, limit: 2) == [3, 5])
        #expect(try await store.chunks(writtenBeforeTime: 3001, after: 5, limit: 2) == [9])
        try await store.delete([3])
        #expect(try await store.chunks(writtenBeforeTime: 10_000, after: nil, limit: 10) == [1, 5, 9])
        await store.close()
    }

    // Goal: volumes rotate at the size limit and every chunk stays readable across them and a restart.
    @Test func volumesRotateAtTheSizeLimit() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try await LocalChunkStore.open(directory: directory.path, options: testOptions(volumeSize: 8192))
        for id in 1...40 { try await store.write(UInt128(id), chunkBytes(UInt64(id), count: 1000)) }
        // A chunk larger than the volume limit gets a volume of its own.
        try await store.write(100, chunkBytes(100, count: 20_000))
        let volumes = directory.volumePaths()
        #expect(volumes.count >= 40 / 7)
        for path in volumes.dropLast(2) { #expect(fileSize(path) <= 8192) }
        await store.close()
        let reopened = try await LocalChunkStore.open(directory: directory.path, options: testOptions(volumeSize: 8192))
        for id in 1...40 {
            #expect(try await reopened.readAll(UInt128(id), length: 1000) == chunkBytes(UInt64(id), count: 1000))
        }
        #expect(try await reopened.readAll(100, length: 20_000) == chunkBytes(100, count: 20_000))
        #expect(reopened.stats().volumeCount == volumes.count)
        await reopened.close()
    }

    @Test func aSecondStoreCannotOpenTheSameDirectory() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try await LocalChunkStore.open(directory: directory.path, options: testOptions())
        await #expect(throws: BlobError.self) {
            _ = try await LocalChunkStore.open(directory: directory.path, options: testOptions())
        }
        await store.close()
        let again = try await LocalChunkStore.open(directory: directory.path, options: testOptions())
        await again.close()
    }
}

/// A manual clock: each reading advances by one second.
final class ManualClock: Sendable {
    let value = Mutex<Int64>(0)
    func now() -> Int64 {
        self.value.withLock {
            $0 += 1000; return $0
        }
    }
}

@Suite struct GroupCommitTests {
    // Goal: concurrent writes share fsyncs. Method: 200 concurrent writes; the fault hook holds the first
    // group commit before its fsync until the other 199 writes are queued (read from the store's own queue,
    // not from time), so they must share what follows. Count fdatasync calls through stats: with one fsync
    // per write there would be 200. (Letting timing decide made this test flaky on idle and busy machines.)
    @Test func concurrentWritesShareFsyncs() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let storeBox = Mutex<LocalChunkStore?>(nil)
        let held = Mutex(false)
        var options = testOptions(volumeSize: 1 << 30)
        options.faults = FaultInjection(writeError: nil, syncError: {
            guard !held.withLock({ let was = $0; $0 = true; return was }) else { return nil }
            // Bounded wait: at most 60 s, then carry on (the expectation below then reports the failure).
            for _ in 0..<60_000 {
                let queued = storeBox.withLock { $0 }?.core.state.withLock { $0.pendingCount } ?? 0
                if queued >= 199 { break }
                usleep(1000)
            }
            return nil
        })
        let store = try await LocalChunkStore.open(directory: directory.path, options: options)
        storeBox.withLock { $0 = store }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in 1...200 {
                group.addTask { try await store.write(UInt128(id), chunkBytes(UInt64(id), count: 4096)) }
            }
            try await group.waitForAll()
        }
        let stats = store.stats()
        #expect(stats.recordsAppended == 200)
        #expect(stats.fsyncCount <= 1 + (199 + options.writeBatchRecordsMax - 1) / options.writeBatchRecordsMax)
        #expect(stats.fsyncCount == stats.groupCommitCount)
        for id in 1...200 {
            #expect(try await store.readAll(UInt128(id), length: 4096) == chunkBytes(UInt64(id), count: 4096))
        }
        await store.close()
    }
}

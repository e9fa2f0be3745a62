import Foundation
import NIOCore
import Synchronization
import Testing

@testable import BlobNode

@Suite struct FaultTests {
    // Goal: a full disk fails only the write that hit it; its partial record is cut off, the other writes of
    // the same group commit succeed, and the store keeps working. Method: inject ENOSPC (after a short
    // write) for chunk 5 among 10 concurrent writes, then write more, reopen and check.
    @Test func diskFullFailsOnlyThatWrite() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var options = testOptions()
        options.faults = FaultInjection(writeError: { $0.chunkID == 5 ? ENOSPC : nil })
        let store = try await LocalChunkStore.open(directory: directory.path, options: options)
        let results = await withTaskGroup(of: (Int, BlobError?).self) { group in
            for id in 1...10 {
                group.addTask {
                    do {
                        try await store.write(UInt128(id), chunkBytes(UInt64(id), count: 700))
                        return (id, nil)
                    } catch {
                        return (id, error as? BlobError ?? .io("\(error)"))
                    }
                }
            }
            return await group.reduce(into: [Int: BlobError?]()) { $0[$1.0] = $1.1 }
        }
        for id in 1...10 {
            if id == 5 {
                guard case .diskFull = results[5]! else {
                    Issue.record("chunk 5: \(String(describing: results[5]))"); continue
                }
            } else {
                #expect(results[id]! == nil, "chunk \(id)")
            }
        }
        try await store.write(11, chunkBytes(11, count: 700))
        #expect(await throwsBlobError(.chunkNotFound(5)) { try await store.readAll(5, length: 700) })
        await store.close()
        let reopened = try await LocalChunkStore.open(directory: directory.path, options: testOptions())
        #expect(reopened.stats().corruptRecordCount == 0)
        for id in [1, 2, 3, 4, 6, 7, 8, 9, 10, 11] {
            #expect(try await reopened.readAll(UInt128(id), length: 700) == chunkBytes(UInt64(id), count: 700))
        }
        #expect(await throwsBlobError(.chunkNotFound(5)) { try await reopened.readAll(5, length: 700) })
        await reopened.close()
    }

    // Goal: after a failed fsync the store takes no more writes (the disk's state is unknown) but still
    // serves durable chunks, and a reopen recovers. Method: fail the second group commit's fsync.
    @Test func failedFsyncStopsWritesUntilReopen() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let syncs = Mutex(0)
        var options = testOptions()
        options.faults = FaultInjection(syncError: {
            syncs.withLock {
                $0 += 1; return $0 == 2 ? EIO : nil
            }
        })
        let store = try await LocalChunkStore.open(directory: directory.path, options: options)
        try await store.write(1, chunkBytes(1, count: 100))
        await #expect(throws: BlobError.self) { try await store.write(2, chunkBytes(2, count: 100)) }
        #expect(
            await throwsBlobError(
                .unavailable(
                    "the chunk store failed: fdatasync (injected) \(directory.path)/volume-00000001.silo: Input/output error"
                )
            ) {
                try await store.write(3, chunkBytes(3, count: 100))
            })
        await #expect(throws: BlobError.self) { try await store.delete([1]) }
        #expect(try await store.readAll(1, length: 100) == chunkBytes(1, count: 100))
        await store.close()
        let reopened = try await LocalChunkStore.open(directory: directory.path, options: testOptions())
        #expect(try await reopened.readAll(1, length: 100) == chunkBytes(1, count: 100))
        try await reopened.write(3, chunkBytes(3, count: 100))
        #expect(try await reopened.readAll(3, length: 100) == chunkBytes(3, count: 100))
        await reopened.close()
    }
}

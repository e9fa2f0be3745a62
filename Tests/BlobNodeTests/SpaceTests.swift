import Foundation
import NIOCore
import Testing

@testable import BlobNode

/// Goal: a store on a nearly full disk refuses new puts before the disk is full, still takes deletes,
/// and gives the space of deleted chunks back even when the active volume never filled.
@Suite struct SpaceTests {
    // Method: a floor above the disk's free space makes every put a refusal; deletes still pass.
    @Test func putsStopAtTheFloorDeletesDoNot() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var options = testOptions()
        let store = try await LocalChunkStore.open(directory: directory.path, options: options)
        try await store.write(1, chunkBytes(1, count: 100))
        let free = try store.freeSpaceBytes()
        await store.close()

        options.freeSpaceFloorBytes = free + (1 << 30)
        let full = try await LocalChunkStore.open(directory: directory.path, options: options)
        var refused = false
        do { try await full.write(2, chunkBytes(2, count: 100)) } catch .diskFull { refused = true }
        #expect(refused)
        try await full.delete([1])
        #expect(await throwsBlobError(.chunkNotFound(1)) { try await full.readAll(1, length: 1) })
        await full.close()
    }

    // Method: one big active volume (never sealed by size) whose chunks are mostly deleted: compaction
    // seals it early and reclaims it; the live chunk survives a reopen.
    @Test func mostlyDeadActiveVolumeIsSealedAndCompacted() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let options = testOptions(volumeSize: 1 << 30)
        let store = try await LocalChunkStore.open(directory: directory.path, options: options)
        let chunk = 256 * 1024
        for id in 1...40 { try await store.write(UInt128(id), chunkBytes(UInt64(id), count: chunk)) }
        try await store.delete((1...39).map { UInt128($0) })
        let report = try await store.compact()
        #expect(report.volumesCompacted.count == 1)
        #expect(report.bytesReclaimed >= 39 * UInt64(chunk))
        #expect(try await store.readAll(40, length: chunk) == chunkBytes(40, count: chunk))
        await store.close()
        let reopened = try await LocalChunkStore.open(directory: directory.path, options: options)
        #expect(try await reopened.readAll(40, length: chunk) == chunkBytes(40, count: chunk))
        #expect(await throwsBlobError(.chunkNotFound(7)) { try await reopened.readAll(7, length: 1) })
        await reopened.close()
    }
}

import Foundation
import NIOPosix
import Testing

@testable import RaftKit

@Suite struct StorageSnapshotTests {
    // Goal: saved snapshots come back; only the newest few are kept. Method: save three, load, list files.
    @Test func saveLoadAndRetention() async throws {
        let directory = TemporaryDirectory("snap")
        defer { directory.remove() }
        let store = SnapshotStore(directory: directory.path, threadPool: .singleton)
        #expect(try await store.loadNewest() == nil)
        for index in [UInt64(10), 20, 30] {
            try await store.save(StoredSnapshot(index: index, metadata: [UInt8(index)], data: payload(index, bytes: 1000)))
        }
        let newest = try #require(try await store.loadNewest())
        #expect(newest == StoredSnapshot(index: 30, metadata: [30], data: payload(30, bytes: 1000)))
        #expect(directory.files(withSuffix: ".snap").count == StorageLimits.snapshotsRetained)
        #expect(directory.files(withSuffix: ".tmp").isEmpty)
    }

    // Goal: a damaged newest snapshot is set aside and the previous one loads. Method: flip a byte of the newest
    // file (and, separately, cut it short), load.
    @Test func damagedNewestFallsBackToOlder() async throws {
        let directory = TemporaryDirectory("snap-damaged")
        defer { directory.remove() }
        let store = SnapshotStore(directory: directory.path, threadPool: .singleton)
        try await store.save(StoredSnapshot(index: 5, metadata: [1], data: [1, 2, 3]))
        try await store.save(StoredSnapshot(index: 9, metadata: [2], data: [4, 5, 6]))
        let newestPath = try #require(directory.files(withSuffix: ".snap").last)
        var bytes = readFile(newestPath)
        bytes[bytes.count / 2] ^= 0x40
        writeFile(newestPath, bytes)
        let loaded = try await store.loadNewest()
        #expect(loaded?.index == 5)
        #expect(directory.files(withSuffix: ".corrupted").count == 1)
        // Both gone bad: nothing loads.
        let olderPath = try #require(directory.files(withSuffix: ".snap").first)
        writeFile(olderPath, Array(readFile(olderPath).dropLast(1)))
        #expect(try await store.loadNewest() == nil)
    }

    // Goal: a file whose name and contents disagree (copied or renamed by hand) is set aside like a CRC
    // failure, not a crash. Method: save index 9, copy its file under the name of index 12, load.
    @Test func fileNamedForAnotherIndexIsSetAside() async throws {
        let directory = TemporaryDirectory("snap-misnamed")
        defer { directory.remove() }
        let store = SnapshotStore(directory: directory.path, threadPool: .singleton)
        try await store.save(StoredSnapshot(index: 9, metadata: [2], data: [4, 5, 6]))
        let path = try #require(directory.files(withSuffix: ".snap").first)
        writeFile(directory.path + "/" + SnapshotStore.fileName(index: 12), readFile(path))
        let loaded = try await store.loadNewest()
        #expect(loaded?.index == 9)
        #expect(directory.files(withSuffix: ".corrupted").count == 1)
    }

    // Goal: the CRC fed to zlib in pieces equals the one-call CRC (known value of "123456789").
    @Test func crcMatchesZlib() {
        #expect(zlibCRC32(Array("123456789".utf8)[...]) == 0xCBF4_3926)
        #expect(zlibCRC32([UInt8]()[...]) == 0)
    }
}

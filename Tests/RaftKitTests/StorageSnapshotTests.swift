import Foundation
import NIOPosix
import Testing

@testable import RaftKit

/// A payload computed from the offset, never held whole: stands for a state-machine image larger than the
/// store's read piece, to show that saving and loading stream it.
private final class GeneratedPayload: SnapshotPayload {
    let byteCount: UInt64
    init(byteCount: UInt64) { self.byteCount = byteCount }

    static func byte(at offset: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: offset &* 2_654_435_761 >> 7) }

    func read(at offset: UInt64, count: Int) throws(LogStorageError) -> [UInt8] {
        let end = min(byteCount, offset + UInt64(count))
        return (offset..<max(offset, end)).map(Self.byte(at:))
    }
}

@Suite struct StorageSnapshotTests {
    private func save(_ store: SnapshotStore, _ index: UInt64, metadata: [UInt8], data: [UInt8]) async throws {
        _ = try await store.save(index: index, metadata: metadata, payload: SnapshotBytes(data))
    }

    // Goal: saved snapshots come back; only the newest few are kept. Method: save three, load, list files.
    @Test func saveLoadAndRetention() async throws {
        let directory = TemporaryDirectory("snap")
        defer { directory.remove() }
        let store = SnapshotStore(directory: directory.path, threadPool: .singleton)
        #expect(try await store.loadNewest() == nil)
        for index in [UInt64(10), 20, 30] {
            try await save(store, index, metadata: [UInt8(index)], data: payload(index, bytes: 1000))
        }
        let newest = try #require(try await store.loadNewest())
        #expect(newest.index == 30 && newest.metadata == [30])
        #expect(try newest.file.readAll() == payload(30, bytes: 1000))
        #expect(directory.files(withSuffix: ".snap").count == StorageLimits.snapshotsRetained)
        #expect(directory.files(withSuffix: ".data").count == StorageLimits.snapshotsRetained)
        #expect(directory.files(withSuffix: ".tmp").isEmpty)
    }

    // Goal: a snapshot larger than the read piece is saved and loaded whole, and a follower's staging file is
    // renamed into place, not copied. Method: assemble 3.5 pieces through a sink, save, load, compare every byte.
    @Test func largeSnapshotStreamsThroughASink() async throws {
        let directory = TemporaryDirectory("snap-large")
        defer { directory.remove() }
        let store = SnapshotStore(directory: directory.path, threadPool: .singleton)
        let total = UInt64(StorageLimits.snapshotPieceBytes) * 7 / 2
        let source = GeneratedPayload(byteCount: total)
        let sink = try store.makeSink(index: 77)
        var offset: UInt64 = 0
        while offset < total {
            let chunk = try source.read(at: offset, count: 300_000)
            try sink.write(chunk, at: offset)
            offset += UInt64(chunk.count)
        }
        let assembled = try sink.finish()
        #expect(directory.files(withSuffix: ".part").count == 1)
        let saved = try await store.save(index: 77, metadata: [7], payload: assembled)
        #expect(directory.files(withSuffix: ".part").isEmpty)
        #expect(saved.file.byteCount == total)
        let loaded = try #require(try await store.loadNewest())
        #expect(loaded.index == 77 && loaded.file.byteCount == total)
        var at: UInt64 = 0
        while at < total {
            let piece = try loaded.file.read(at: at, count: 1 << 20)
            #expect(piece == (try source.read(at: at, count: piece.count)), "bytes at \(at)")
            at += UInt64(piece.count)
        }
        // A payload that is not a staging file (here computed) is copied in.
        let copied = try await store.save(index: 78, metadata: [8], payload: source)
        #expect(try copied.file.read(at: total - 5, count: 5) == (try source.read(at: total - 5, count: 5)))
    }

    // Goal: a damaged newest snapshot (its data or its record) is set aside and the previous one loads.
    // Method: flip a byte of the newest data file, load; then cut the older record short, load.
    @Test func damagedNewestFallsBackToOlder() async throws {
        let directory = TemporaryDirectory("snap-damaged")
        defer { directory.remove() }
        let store = SnapshotStore(directory: directory.path, threadPool: .singleton)
        try await save(store, 5, metadata: [1], data: [1, 2, 3])
        try await save(store, 9, metadata: [2], data: [4, 5, 6])
        let newestData = try #require(directory.files(withSuffix: ".data").last)
        var bytes = readFile(newestData)
        bytes[1] ^= 0x40
        writeFile(newestData, bytes)
        let loaded = try await store.loadNewest()
        #expect(loaded?.index == 5)
        #expect(try loaded?.file.readAll() == [1, 2, 3])
        #expect(directory.files(withSuffix: ".corrupted").count == 2)  // the record and its data
        // Both gone bad: nothing loads.
        let olderPath = try #require(directory.files(withSuffix: ".snap").first)
        writeFile(olderPath, Array(readFile(olderPath).dropLast(1)))
        #expect(try await store.loadNewest() == nil)
    }

    // Goal: a file whose name and contents disagree (copied or renamed by hand) is set aside like a CRC
    // failure, not a crash. Method: save index 9, copy its record under the name of index 12, load.
    @Test func fileNamedForAnotherIndexIsSetAside() async throws {
        let directory = TemporaryDirectory("snap-misnamed")
        defer { directory.remove() }
        let store = SnapshotStore(directory: directory.path, threadPool: .singleton)
        try await save(store, 9, metadata: [2], data: [4, 5, 6])
        let path = try #require(directory.files(withSuffix: ".snap").first)
        writeFile(directory.path + "/" + SnapshotStore.fileName(index: 12), readFile(path))
        let loaded = try await store.loadNewest()
        #expect(loaded?.index == 9)
        #expect(directory.files(withSuffix: ".corrupted").count == 1)
    }

    // Goal: a data directory written by an earlier version (one file per snapshot, format 1) still loads, and
    // is migrated to the two-file form; a damaged format-1 file is set aside. Method: write format-1 files by
    // hand, load, list files.
    @Test func formatOneFilesAreMigrated() async throws {
        let directory = TemporaryDirectory("snap-format1")
        defer { directory.remove() }
        func formatOne(index: UInt64, metadata: [UInt8], data: [UInt8]) -> [UInt8] {
            var bytes = Array("SILOSNP1".utf8)
            appendLittleEndian(index, to: &bytes)
            appendLittleEndian(UInt32(metadata.count), to: &bytes)
            appendLittleEndian(UInt64(data.count), to: &bytes)
            bytes += metadata + data
            appendLittleEndian(zlibCRC32(bytes[...]), to: &bytes)
            return bytes
        }
        try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        writeFile(directory.path + "/" + SnapshotStore.fileName(index: 4), formatOne(index: 4, metadata: [4], data: payload(4, bytes: 500)))
        var damaged = formatOne(index: 6, metadata: [6], data: payload(6, bytes: 500))
        damaged[100] ^= 1
        writeFile(directory.path + "/" + SnapshotStore.fileName(index: 6), damaged)
        let store = SnapshotStore(directory: directory.path, threadPool: .singleton)
        let loaded = try #require(try await store.loadNewest())
        #expect(loaded.index == 4 && loaded.metadata == [4])
        #expect(try loaded.file.readAll() == payload(4, bytes: 500))
        #expect(Array(readFile(directory.path + "/" + SnapshotStore.fileName(index: 4)).prefix(8)) == Array("SILOSNP2".utf8))
        #expect(directory.files(withSuffix: ".corrupted").count == 1)
        // Loaded again, now from the migrated pair.
        let again = try #require(try await store.loadNewest())
        #expect(try again.file.readAll() == payload(4, bytes: 500))
    }

    // Goal: leftovers of a save or a transfer cut short by a crash are removed at start and never loaded.
    // Method: a staging file, a data file without its record, a temporary record; load.
    @Test func leftoversAreRemovedAtLoad() async throws {
        let directory = TemporaryDirectory("snap-leftovers")
        defer { directory.remove() }
        let store = SnapshotStore(directory: directory.path, threadPool: .singleton)
        try await save(store, 3, metadata: [3], data: [3, 3, 3])
        let sink = try store.makeSink(index: 8)
        try sink.write([1, 2], at: 0)
        writeFile(directory.path + "/" + SnapshotStore.dataFileName(index: 9), [9, 9])
        writeFile(directory.path + "/" + SnapshotStore.fileName(index: 9) + ".tmp", [9])
        let loaded = try await store.loadNewest()
        #expect(loaded?.index == 3)
        #expect(directory.files(withSuffix: ".part").isEmpty)
        #expect(directory.files(withSuffix: ".tmp").isEmpty)
        #expect(directory.files(withSuffix: ".data").count == 1)
    }

    // Goal: the CRC fed to zlib in pieces, and continued across pieces, equals the one-call CRC (known value of
    // "123456789").
    @Test func crcMatchesZlib() {
        let bytes = Array("123456789".utf8)
        #expect(zlibCRC32(bytes[...]) == 0xCBF4_3926)
        #expect(zlibCRC32(bytes[4...], continuing: zlibCRC32(bytes[..<4])) == 0xCBF4_3926)
        #expect(zlibCRC32([UInt8]()[...]) == 0)
    }
}

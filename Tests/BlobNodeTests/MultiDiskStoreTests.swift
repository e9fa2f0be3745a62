import Foundation
import NIOCore
import Testing

@testable import BlobNode

/// A node with several data directories (`MultiDiskChunkStore`).
@Suite struct MultiDiskStoreTests {
    private func open(_ directories: [TemporaryDirectory]) async throws -> MultiDiskChunkStore {
        var stores: [LocalChunkStore] = []
        for directory in directories {
            stores.append(try await LocalChunkStore.open(directory: directory.path, options: testOptions()))
        }
        return MultiDiskChunkStore(stores: stores)
    }

    // Goal: chunks spread over every directory, each readable, listed once in ascending order across
    // directories (paging included), deleted everywhere; a retried write stays one record.
    @Test func spreadsReadsListsAndDeletes() async throws {
        let directories = (0..<3).map { _ in TemporaryDirectory() }
        defer { for directory in directories { directory.remove() } }
        let store = try await open(directories)
        let ids = (1...90).map { UInt128($0) * 0x1_0000_0001_0000_0001 }
        for id in ids { try await store.write(id, chunkBytes(UInt64(id % 1000), count: 200)) }
        try await store.write(ids[0], chunkBytes(UInt64(ids[0] % 1000), count: 200))
        let perDirectory = store.stores.map { $0.stats().liveChunkCount }
        #expect(perDirectory.reduce(0, +) == ids.count, "\(perDirectory)")
        #expect(perDirectory.allSatisfy { $0 >= 15 }, "every directory takes a share: \(perDirectory)")
        for id in ids { #expect(try await store.read(id, offset: 0, length: 200) == chunkBytes(UInt64(id % 1000), count: 200)) }
        #expect(await throwsBlobError(.chunkNotFound(7)) { try await store.read(7, offset: 0, length: 1) })

        let later = Int64(Date().timeIntervalSince1970 * 1000) + 60_000
        var listed: [UInt128] = []
        var after: UInt128?
        while true {
            let page = try await store.chunks(writtenBeforeTime: later, after: after, limit: 7)
            listed += page
            if page.count < 7 { break }
            after = page.last
        }
        #expect(listed == ids.sorted())

        try await store.delete(Array(ids.prefix(45)))
        for id in ids.prefix(45) {
            #expect(await throwsBlobError(.chunkNotFound(id)) { try await store.read(id, offset: 0, length: 1) })
        }
        #expect(store.liveChunkCount == 45)
        await store.close()
    }

    // Goal: a directory added later leaves every chunk readable (reads fall back from the new home), and a
    // lost directory (wiped) loses only the chunks homed there; the others still read.
    @Test func addedDirectoryKeepsChunksReadableAndALostOneLosesOnlyItsOwn() async throws {
        let directories = (0..<4).map { _ in TemporaryDirectory() }
        defer { for directory in directories { directory.remove() } }
        var store = try await open(Array(directories.prefix(3)))
        let ids = (1...60).map { UInt128($0) << 70 | UInt128($0) }
        for id in ids { try await store.write(id, chunkBytes(UInt64(id % 997), count: 100)) }
        await store.close()

        store = try await open(directories)
        for id in ids { #expect(try await store.read(id, offset: 0, length: 100) == chunkBytes(UInt64(id % 997), count: 100)) }
        #expect(store.stores[3].stats().liveChunkCount == 0)
        await store.close()

        try FileManager.default.removeItem(atPath: directories[1].path)
        try FileManager.default.createDirectory(atPath: directories[1].path, withIntermediateDirectories: true)
        store = try await open(directories)
        var lost = 0
        for id in ids {
            let result = await readResult(store, id, length: 100)
            switch result {
            case .success(let bytes): #expect(bytes == chunkBytes(UInt64(id % 997), count: 100))
            case .failure(.chunkNotFound): lost += 1
            case .failure(let error): Issue.record("read \(id): \(error)")
            }
        }
        #expect(lost > 0 && lost < ids.count, "lost \(lost) of \(ids.count)")
        await store.close()
    }

    private func readResult(_ store: MultiDiskChunkStore, _ id: UInt128, length: Int) async -> Result<ByteBuffer, BlobError> {
        do {
            return .success(try await store.read(id, offset: 0, length: length))
        } catch {
            return .failure(error)
        }
    }
}

import Foundation
import NIOCore
import Testing

@testable import BlobNode

@Suite struct RecordFormatTests {
    @Test func headerRoundTrip() {
        let payload = chunkBytes(7, count: 1000)
        let header = payload.withUnsafeReadableBytes {
            RecordHeader(
                kind: .put, chunkID: 0x0123_4567_89AB_CDEF_FEDC_BA98_7654_3210, writeTimeMs: 1_700_000_000_123,
                payload: $0)
        }
        let bytes = header.encoded()
        #expect(bytes.count == RecordHeader.size)
        let decoded = bytes.withUnsafeBytes { RecordHeader.decode($0) }
        #expect(decoded == .success(header))
        #expect(payload.withUnsafeReadableBytes { header.matches(payload: $0) })
    }

    // Goal: every single-bit corruption of a header or a payload is caught. Method: flip each byte in turn.
    @Test func everyCorruptByteIsDetected() {
        let payload = chunkBytes(8, count: 64)
        let header = payload.withUnsafeReadableBytes {
            RecordHeader(kind: .put, chunkID: 42, writeTimeMs: 5, payload: $0)
        }
        let encoded = header.encoded()
        for index in 0..<encoded.count {
            var bad = encoded
            bad[index] ^= 0x01
            let result = bad.withUnsafeBytes { RecordHeader.decode($0) }
            if case .success = result { Issue.record("header byte \(index) corruption not detected") }
        }
        var payloadBytes = Array(payload.readableBytesView)
        for index in 0..<payloadBytes.count {
            payloadBytes[index] ^= 0x80
            #expect(!payloadBytes.withUnsafeBytes { header.matches(payload: $0) }, "payload byte \(index)")
            payloadBytes[index] ^= 0x80
        }
    }

    @Test func tombstoneAndShortHeader() {
        let tombstone = RecordHeader(
            kind: .tombstone, chunkID: 9, writeTimeMs: 1, payload: UnsafeRawBufferPointer(start: nil, count: 0))
        let encoded = tombstone.encoded()
        #expect(encoded.withUnsafeBytes { RecordHeader.decode($0) } == .success(tombstone))
        #expect(encoded.dropLast().withUnsafeBytes { RecordHeader.decode($0) } == .failure(.tooShort(43)))
    }

    @Test func limitsAreConsistent() throws {
        #expect(Limits.volumeSizeBytesMin >= UInt64(RecordHeader.size))
        #expect(Limits.volumeSizeBytesDefault >= Limits.volumeSizeBytesMin)
        #expect(Limits.volumeSizeBytesDefault <= Limits.volumeSizeBytesMax)
        #expect(Limits.chunkSizeBytesMax <= Int(UInt32.max))
        #expect(Limits.writeBatchBytesMax >= Limits.chunkSizeBytesMax)
        #expect(Limits.scanBufferBytes >= RecordHeader.size)
        #expect(Limits.compactionBatchBytesMax <= Limits.writeBatchBytesMax)
        #expect(Limits.compactionBatchRecordsMax <= Limits.writeBatchRecordsMax)
        try LocalChunkStore.Options().validate()
    }
}

/// Recovery from damaged volume files, driven through `LocalChunkStore.open`.
@Suite struct RecoveryTests {
    /// Writes chunks 1...count (20 + i bytes each) into a fresh store and closes it; returns the record offsets.
    func populate(_ directory: TemporaryDirectory, count: Int) async throws -> [UInt64] {
        let store = try await LocalChunkStore.open(directory: directory.path, options: testOptions())
        var offsets: [UInt64] = []
        var offset: UInt64 = 0
        for index in 1...count {
            try await store.write(UInt128(index), chunkBytes(UInt64(index), count: 20 + index))
            offsets.append(offset)
            offset += UInt64(RecordHeader.size + 20 + index)
        }
        await store.close()
        return offsets
    }

    func expectChunks(_ store: LocalChunkStore, present: ClosedRange<Int>, absent: [Int]) async throws {
        for index in present {
            let bytes = try await store.readAll(UInt128(index), length: 20 + index)
            #expect(bytes == chunkBytes(UInt64(index), count: 20 + index))
        }
        for index in absent {
            #expect(
                await throwsBlobError(.chunkNotFound(UInt128(index))) {
                    try await store.readAll(UInt128(index), length: 1)
                })
        }
    }

    @Test func restartReadsEverythingBack() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        _ = try await self.populate(directory, count: 50)
        let store = try await LocalChunkStore.open(directory: directory.path, options: testOptions())
        try await self.expectChunks(store, present: 1...50, absent: [51])
        #expect(store.stats().liveChunkCount == 50)
        #expect(store.stats().corruptRecordCount == 0)
        await store.close()
    }

    // Goal: a crash at any instant of the last append leaves the earlier records intact and the torn record
    // gone. Method: cut the file at every byte offset inside the last record (partial header, partial
    // payload), reopen, check the contents and that the file was truncated to the last whole record.
    @Test func tornTailAtEveryByteOffsetOfTheLastRecord() async throws {
        let source = TemporaryDirectory()
        defer { source.remove() }
        let offsets = try await self.populate(source, count: 3)
        let volume = source.volumePaths()[0]
        let original = try Data(contentsOf: URL(fileURLWithPath: volume))
        let lastStart = offsets[2]
        for cut in lastStart..<UInt64(original.count) {
            let directory = TemporaryDirectory()
            defer { directory.remove() }
            try original.prefix(Int(cut)).write(to: URL(fileURLWithPath: directory.path + "/volume-00000001.silo"))
            let store = try await LocalChunkStore.open(directory: directory.path, options: testOptions())
            try await self.expectChunks(store, present: 1...2, absent: [3])
            #expect(fileSize(directory.volumePaths()[0]) == lastStart, "cut at \(cut)")
            // The store keeps working after recovery: the next record follows the last whole one.
            try await store.write(3, chunkBytes(3, count: 23))
            await store.close()
            let reopened = try await LocalChunkStore.open(directory: directory.path, options: testOptions())
            try await self.expectChunks(reopened, present: 1...3, absent: [])
            #expect(reopened.stats().corruptRecordCount == 0)
            await reopened.close()
        }
    }

    @Test func badChecksumAtTheTailIsTruncated() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let offsets = try await self.populate(directory, count: 3)
        let volume = directory.volumePaths()[0]
        flipByte(volume, at: fileSize(volume) - 1)
        let store = try await LocalChunkStore.open(directory: directory.path, options: testOptions())
        try await self.expectChunks(store, present: 1...2, absent: [3])
        #expect(fileSize(volume) == offsets[2])
        await store.close()
    }

    // Goal: corruption in the middle of a volume loses only the damaged record. Method: flip a payload byte
    // of record 2 of 5 (then, separately, a header byte) and reopen.
    @Test func badChecksumInTheMiddleIsSkippedAndCounted() async throws {
        for headerDamage in [false, true] {
            let directory = TemporaryDirectory()
            defer { directory.remove() }
            let offsets = try await self.populate(directory, count: 5)
            let volume = directory.volumePaths()[0]
            let sizeBefore = fileSize(volume)
            flipByte(volume, at: offsets[1] + (headerDamage ? 10 : UInt64(RecordHeader.size) + 3))
            let store = try await LocalChunkStore.open(directory: directory.path, options: testOptions())
            #expect(store.stats().corruptRecordCount == 1)
            try await self.expectChunks(store, present: 1...1, absent: [2])
            try await self.expectChunks(store, present: 3...5, absent: [])
            #expect(fileSize(volume) == sizeBefore, "a corrupt middle record must not truncate the volume")
            await store.close()
        }
    }

    // Goal: garbage (zeros) after the last record, as a crash with preallocated blocks leaves, is cut off.
    @Test func zeroFilledTailIsTruncated() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        _ = try await self.populate(directory, count: 2)
        let volume = directory.volumePaths()[0]
        let size = fileSize(volume)
        truncateFile(volume, to: size + 4096)
        let store = try await LocalChunkStore.open(directory: directory.path, options: testOptions())
        try await self.expectChunks(store, present: 1...2, absent: [])
        #expect(fileSize(volume) == size)
        await store.close()
    }

    @Test func readDetectsCorruptionAfterOpen() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let offsets = try await self.populate(directory, count: 3)
        let store = try await LocalChunkStore.open(directory: directory.path, options: testOptions())
        flipByte(directory.volumePaths()[0], at: offsets[1] + UInt64(RecordHeader.size))
        #expect(await throwsBlobError(.checksumMismatch(2)) { try await store.readAll(2, length: 22) })
        #expect(store.stats().corruptRecordCount == 1)
        try await self.expectChunks(store, present: 3...3, absent: [])
        // Rewriting the chunk (a retry, or a repair from another replica) replaces the corrupt copy.
        try await store.write(2, chunkBytes(2, count: 22))
        try await self.expectChunks(store, present: 1...3, absent: [])
        await store.close()
        let reopened = try await LocalChunkStore.open(directory: directory.path, options: testOptions())
        try await self.expectChunks(reopened, present: 1...3, absent: [])
        await reopened.close()
    }
}

extension RecoveryTests {
    // Goal: a corrupt payload in a sealed volume is caught: by the first read with the default (header-only)
    // open, or by the open itself with verifySealedVolumesOnOpen. Method: 1000-byte chunks in 8 KiB volumes,
    // flip a payload byte of a record in volume 1, reopen both ways.
    @Test func corruptPayloadInASealedVolume() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try await LocalChunkStore.open(directory: directory.path, options: testOptions(volumeSize: 8192))
        for id in 1...20 { try await store.write(UInt128(id), chunkBytes(UInt64(id), count: 1000)) }
        await store.close()
        let first = try #require(directory.volumePaths().first)
        flipByte(first, at: UInt64(RecordHeader.size + 1000 + RecordHeader.size + 10))  // chunk 2's payload

        let quick = try await LocalChunkStore.open(directory: directory.path, options: testOptions(volumeSize: 8192))
        #expect(quick.stats().corruptRecordCount == 0)
        #expect(await throwsBlobError(.checksumMismatch(2)) { try await quick.readAll(2, length: 1000) })
        #expect(quick.stats().corruptRecordCount == 1)
        #expect(try await quick.readAll(3, length: 1000) == chunkBytes(3, count: 1000))
        await quick.close()

        var options = testOptions(volumeSize: 8192)
        options.verifySealedVolumesOnOpen = true
        let thorough = try await LocalChunkStore.open(directory: directory.path, options: options)
        #expect(thorough.stats().corruptRecordCount == 1)
        #expect(await throwsBlobError(.chunkNotFound(2)) { try await thorough.readAll(2, length: 1000) })
        for id in [1] + Array(3...20) {
            #expect(try await thorough.readAll(UInt128(id), length: 1000) == chunkBytes(UInt64(id), count: 1000))
        }
        #expect(fileSize(first) > 0)
        await thorough.close()
    }
}
